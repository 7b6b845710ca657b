"""What ``MLPClassifier`` and ``MLPRegressor`` share: the parameters, their checks, building
and compiling the network, training it, and reading its output.

A subclass says what its targets are (``_prepare_targets``: labels -> indices, or values
-> a 2-D array), which loss and metrics the model is compiled with, and how the model's
output becomes a prediction.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .. import MLP, Sequential, _checks, optimizers

# fit's own arguments are constructor parameters here (so that a search can tune them);
# passing them to fit as well would make two sources of truth.
_PARAMETER_ARGUMENTS = ("batch_size", "epochs", "verbose", "callbacks", "validation_split")

# Rows per forward pass in predict: only speed and memory depend on it.
_PREDICT_BATCH_SIZE = 1024

# scikit-learn's convention for its own MLP: float32 data stay float32, anything else
# becomes float64, and the network computes in that dtype.
_DTYPES = (np.float64, np.float32)


class _BaseMLP(BaseEstimator):
    """The parameters, ``fit`` and the plumbing of both estimators (see the module docstring);
    subclasses set ``_loss``, ``_metrics``, ``_regression`` and ``_prepare_targets``."""

    _loss: str
    _metrics: tuple[str, ...]
    _regression: bool

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        batchnorm: bool = False,
        dropout: float = 0.0,
        optimizer: str = "adam",
        learning_rate: float | Callable[[int], float] = 0.001,
        batch_size: int = 32,
        epochs: int = 200,
        validation_split: float = 0.0,
        callbacks: Sequence[Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
    ) -> None:
        # scikit-learn's rule: store the arguments as given; fit checks them.
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batchnorm = batchnorm
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ training

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> Self:
        """Build a new model (or, with ``warm_start``, keep the fitted one) and train it
        for ``epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (N, F)
            Features; a DataFrame's column names are kept in ``feature_names_in_``.
        y : array-like of shape (N,), or (N, k) for the regressor
        sample_weight : array-like of shape (N,) or None
            Weights ``w_i >= 0``, not all zero, passed to ``Sequential.fit``: each batch's
            loss is ``sum_i w_i l_i / n_batch`` (Keras). So a weight of 2 is not the same
            as a repeated sample (scikit-learn's reading): the loss is scaled differently
            and the batches hold other samples.
        **fit_params
            Passed on to ``Sequential.fit``. ``validation_data=(X_val, y_val)`` has its
            labels encoded first, and the classifier's ``class_weight={label: weight}``
            its keys. ``batch_size``, ``epochs``, ``verbose``, ``callbacks`` and
            ``validation_split`` are constructor parameters, not fit parameters.

        Returns
        -------
        self
        """
        _check_fit_params(type(self).__name__, fit_params)
        warm = bool(self.warm_start) and hasattr(self, "model_")
        if not warm:
            # A refit that fails half-way must not leave the old network beside new
            # classes_ or n_features_in_: the estimator is unfitted until it succeeds.
            vars(self).pop("model_", None)
        X, targets = self._validate_training_data(X, y, first=not warm)
        sample_weight = _check_sample_weight(sample_weight, X)
        if warm:
            self._check_architecture_unchanged()
            model = self.model_
            # As scikit-learn's MLP: the weights carry over, the optimizer starts afresh
            # (so a changed learning_rate takes effect).
            self._compile(model)
        else:
            model = self._build_model(X)
        callbacks = self._copy_callbacks()
        self.history_ = self._train(
            model, callbacks, X, targets, sample_weight, self.epochs, fit_params
        )
        self.model_, self.callbacks_ = model, callbacks
        return self

    def _partial_fit(
        self, X: Any, y: Any, classes: Any, sample_weight: Any, fit_params: dict[str, Any]
    ) -> Self:
        _check_fit_params(type(self).__name__, fit_params)
        first = not hasattr(self, "model_")
        X, targets = self._validate_training_data(X, y, first=first, classes=classes)
        sample_weight = _check_sample_weight(sample_weight, X)
        if first:
            model = self._build_model(X)
            # Copied once: later calls reuse them, as repeated Sequential.fit calls would.
            callbacks = self._copy_callbacks()
        else:
            model, callbacks = self.model_, self.callbacks_
        self.history_ = self._train(model, callbacks, X, targets, sample_weight, 1, fit_params)
        self.model_, self.callbacks_ = model, callbacks
        return self

    def _validate_training_data(
        self, X: Any, y: Any, *, first: bool, classes: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            dtype=_DTYPES,
            multi_output=self._regression,
            y_numeric=self._regression,
        )
        return X, self._prepare_targets(y, first=first, classes=classes)

    def _prepare_targets(self, y: np.ndarray, *, first: bool, classes: Any) -> np.ndarray:
        raise NotImplementedError

    def _architecture(self) -> tuple[Any, ...]:
        """The parameters that shape the network, checked; a warm start must keep them."""
        sizes = self.hidden_layer_sizes
        if _checks.is_int(sizes):
            sizes = (sizes,)
        if isinstance(sizes, str) or not isinstance(sizes, Sequence | np.ndarray):
            raise TypeError(
                "hidden_layer_sizes must be an int or a sequence of ints, got "
                f"{_checks.describe(self.hidden_layer_sizes)}"
            )
        sizes = tuple(
            _checks.positive_int(f"hidden_layer_sizes[{i}]", s) for i, s in enumerate(sizes)
        )
        return sizes, self.activation, self.batchnorm, self.dropout

    def _check_architecture_unchanged(self) -> None:
        names = ("hidden_layer_sizes", "activation", "batchnorm", "dropout")
        for name, now, then in zip(names, self._architecture(), self._architecture_, strict=True):
            if now != then:
                raise ValueError(
                    f"warm_start=True keeps the fitted network, but {name} changed from "
                    f"{then!r} to {now!r}; set warm_start=False to build a new one"
                )

    def _seed(self) -> int:
        """The model's seed: ``random_state`` itself when it is an int, else an int drawn
        from it (a ``RandomState``, or NumPy's global one for None, as in scikit-learn)."""
        if _checks.is_int(self.random_state):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _build_model(self, X: np.ndarray) -> Sequential:
        """A new compiled MLP for data like ``X`` (its width and dtype)."""
        self._architecture_ = self._architecture()
        sizes, activation, batchnorm, dropout = self._architecture_
        model = MLP(
            [self.n_features_in_, *sizes, self.n_outputs_],
            activation=activation,
            batchnorm=batchnorm,
            dropout=dropout,
            seed=self._seed(),
            dtype=X.dtype,
        )
        self._compile(model)
        return model

    def _compile(self, model: Sequential) -> None:
        if not isinstance(self.optimizer, str):
            raise TypeError(
                "optimizer must be the name of a minitrain optimizer ('sgd', 'adam', ...), "
                f"got {_checks.describe(self.optimizer)}"
            )
        # The class behind the name, built with this estimator's rate.
        optimizer_class = type(optimizers.get(self.optimizer))
        model.compile(
            optimizer_class(learning_rate=self.learning_rate),
            self._loss,
            metrics=list(self._metrics),
        )

    def _copy_callbacks(self) -> list[Any] | None:
        """Deep copies of ``callbacks``: fit must not change its parameters (callbacks keep
        state such as EarlyStopping's ``best``), and the copies stay in ``callbacks_``."""
        if self.callbacks is None:
            return None
        if isinstance(self.callbacks, str) or not isinstance(self.callbacks, Sequence):
            raise TypeError(
                f"callbacks must be a list of Callback, got {_checks.describe(self.callbacks)}"
            )
        return copy.deepcopy(list(self.callbacks))

    def _train(
        self,
        model: Sequential,
        callbacks: list[Any] | None,
        X: np.ndarray,
        targets: np.ndarray,
        sample_weight: np.ndarray | None,
        epochs: int,
        fit_params: dict[str, Any],
    ) -> Any:
        """``model.fit`` with this estimator's settings; returns the History."""
        if sample_weight is not None:
            fit_params = {**fit_params, "sample_weight": sample_weight}
        return model.fit(
            X,
            targets,
            batch_size=self.batch_size,
            epochs=epochs,
            verbose=self.verbose,
            callbacks=callbacks,
            validation_split=self.validation_split,
            **self._encode_fit_params(fit_params),
        )

    def _encode_fit_params(self, fit_params: dict[str, Any]) -> dict[str, Any]:
        """Fit parameters that hold targets, in the model's encoding."""
        if "validation_data" in fit_params:
            fit_params = {**fit_params, "validation_data": self._validation_data(fit_params)}
        return fit_params

    def _validation_data(self, fit_params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        data = fit_params["validation_data"]
        if not isinstance(data, tuple | list) or len(data) != 2:
            raise ValueError(
                f"validation_data must be a tuple (X_val, y_val), got {_checks.describe(data)}"
            )
        X_val, y_val = validate_data(
            self,
            data[0],
            data[1],
            reset=False,
            dtype=_DTYPES,
            multi_output=self._regression,
            y_numeric=self._regression,
        )
        return X_val, self._prepare_targets(y_val, first=False, classes=None)

    # ---------------------------------------------------------------- prediction

    def _model_output(self, X: Any) -> np.ndarray:
        """The model's output on checked ``X``: logits (classifier) or values (regressor),
        of shape (N, n_outputs_)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_DTYPES)
        return self.model_.predict(X, batch_size=_PREDICT_BATCH_SIZE, verbose=0)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")


def _check_sample_weight(sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
    """An array-like of weights as an array of shape (N,) in X's dtype; minitrain's fit
    checks the values (finite, >= 0). All zero is refused, as scikit-learn does."""
    if sample_weight is None:
        return None
    weights = check_array(sample_weight, ensure_2d=False, dtype=X.dtype, input_name="sample_weight")
    if weights.shape != (len(X),):
        raise ValueError(
            f"sample_weight must have shape ({len(X)},), one weight per sample of X, "
            f"got shape {weights.shape}"
        )
    if not np.any(weights):
        raise ValueError("sample_weight must not be all zero: no sample would count")
    return weights


def _check_fit_params(estimator: str, fit_params: dict[str, Any]) -> None:
    for name in _PARAMETER_ARGUMENTS:
        if name in fit_params:
            raise TypeError(
                f"{name} is a parameter of {estimator}: set it with set_params({name}=...) "
                "instead of passing it to fit"
            )
