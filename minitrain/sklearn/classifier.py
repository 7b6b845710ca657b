"""``MLPClassifier``: softmax over the classes, sparse categorical crossentropy on the logits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from .base import _BaseMLP


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A minitrain MLP as a scikit-learn classifier: softmax over the classes, trained with
    the sparse categorical crossentropy on the logits.

    For an input x, with ``z = model_(x)`` the logits (one per class),::

        predict_proba(x)[c] = exp(z_c) / sum_k exp(z_k)
        predict(x)          = classes_[argmax_c z_c]

    Labels may be anything scikit-learn accepts for a binary or multi-class target
    (strings, non-contiguous integers, ...); they are encoded as their index in
    ``classes_`` (sorted). A binary problem gets two softmax outputs (scikit-learn's
    own MLP uses one logistic output: the same model, parametrised twice over).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "leaky_relu", "sigmoid", "tanh"}, default="relu"
    batchnorm : bool, default=False
        ``BatchNorm`` after each hidden ``Dense`` (then a training batch needs two samples).
    dropout : float, default=0.0
        Drop probability after each hidden activation.
    optimizer : str, default="adam"
        A name for ``minitrain.optimizers.get``; the optimizer is that class built with
        ``learning_rate`` and its other defaults.
    learning_rate : float or schedule, default=0.001
    batch_size : int, default=32
    epochs : int, default=200
        Epochs of ``fit`` (``partial_fit`` always runs one).
    validation_split : float, default=0.0
        As ``Sequential.fit``: the *last* fraction of the samples validates (Keras; split
        before shuffling, so shuffle sorted data first). With an ``EarlyStopping``
        callback monitoring ``"val_loss"`` this is early stopping.
    callbacks : list of Callback or None, default=None
        minitrain callbacks. ``fit`` trains with deep copies, kept in ``callbacks_``, so
        the parameter itself never changes and the fits of a search share no callback
        state (``clone`` copies it too); a file path in a callback (``ModelCheckpoint``,
        ``CSVLogger``) is the same path for every copy.
    random_state : int, RandomState or None, default=None
        An int is the model's seed (``minitrain.MLP(..., seed=random_state)``): weights,
        shuffling and dropout masks, so the same int gives bit-identical fits. A
        ``RandomState`` (or None: NumPy's global one) gives a seed drawn from it.
    verbose : int, default=0
        ``Sequential.fit``'s progress output (0 silent, 1 bar, 2 a line per epoch).
    warm_start : bool, default=False
        As scikit-learn's MLP: when True and already fitted, ``fit`` continues from the
        fitted weights (with a fresh optimizer) instead of building a new network. The
        network's shape and the classes must stay the same.

    Attributes
    ----------
    model_ : Sequential
        The trained network; its output is the logits.
    history_ : History
        What the last ``fit`` or ``partial_fit`` call recorded (``history_.history["loss"]``).
    callbacks_ : list of Callback or None
        The copies of ``callbacks`` the model trained with (e.g. ``EarlyStopping.stopped_epoch``).
    classes_ : ndarray of shape (n_classes,)
    n_outputs_ : int
        ``len(classes_)``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` had string column names (a DataFrame).

    Notes
    -----
    The network computes in the data's dtype, as scikit-learn's MLP does: float32 ``X``
    gives a float32 network (minitrain's default), any other ``X`` a float64 one. The
    first fit fixes it; later data are cast to it. In float32 a row's output may move in
    its last bit with the rows predicted beside it (BLAS picks its kernels by shape); in
    float64 such differences stay near 1e-16.

    Pickle (or joblib) saves a fitted estimator, scikit-learn's convention; minitrain's
    own files never use pickle. Load only pickles you trust.

    Every check of ``sklearn.utils.estimator_checks.check_estimator`` passes (see
    ``tests/test_sklearn.py``) except one that cannot hold by design:
    ``check_sample_weight_equivalence_on_dense_data`` asks that a weight of k equal k
    repeated samples, but sample weights follow minitrain's (Keras's) reduction
    ``sum_i w_i l_i / N`` per batch: the loss scale differs (N against ``sum(w)``; Adam
    nearly cancels it, leaving differences of ~1e-7 from its epsilon) and the batches of
    a repeated set hold other samples.
    """

    _loss = "sparse_categorical_crossentropy"
    _metrics = ("accuracy",)
    _regression = False

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None, **fit_params: Any
    ) -> Self:
        """One epoch over ``(X, y)``; the first call builds the model.

        Parameters
        ----------
        X : array-like of shape (N, F)
        y : array-like of shape (N,)
        classes : array-like of shape (n_classes,), required on the first call
            Every class that any call will see (a batch need not hold all of them).
        sample_weight : array-like of shape (N,) or None
            As for ``fit``.
        **fit_params
            As for ``fit``.

        Returns
        -------
        self
        """
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._partial_fit(X, y, classes, sample_weight, fit_params)

    def _prepare_targets(self, y: np.ndarray, *, first: bool, classes: Any) -> np.ndarray:
        """Labels -> their indices in ``classes_``, of shape (N,), for the sparse loss."""
        check_classification_targets(y)
        if first:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes, got 1 class: "
                    f"{labels.tolist()!r}"
                )
            self.classes_ = labels
            self.n_outputs_ = len(labels)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()!r} differs from the classes of the "
                f"first partial_fit call, {self.classes_.tolist()!r}"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y holds labels {unknown.tolist()!r} that are not in classes_ "
                f"{self.classes_.tolist()!r}"
            )
        return np.searchsorted(self.classes_, y)

    def _encode_fit_params(self, fit_params: dict[str, Any]) -> dict[str, Any]:
        """``class_weight={label: weight}`` becomes ``{index in classes_: weight}``."""
        fit_params = super()._encode_fit_params(fit_params)
        class_weight = fit_params.get("class_weight")
        if isinstance(class_weight, Mapping):
            labels = np.array(list(class_weight))
            self._prepare_targets(labels, first=False, classes=None)  # known labels only
            indices = np.searchsorted(self.classes_, labels).tolist()
            encoded = dict(zip(indices, class_weight.values(), strict=True))
            fit_params = {**fit_params, "class_weight": encoded}
        return fit_params

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, shape (N,), of ``classes_``'s type."""
        logits = self._model_output(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (N, n_classes), columns in ``classes_`` order: the
        softmax of the logits, in the network's dtype."""
        z = self._model_output(X)
        z -= z.max(axis=1, keepdims=True)  # exp of <= 0: no overflow
        p = np.exp(z, out=z)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``, computed stably as ``z - logsumexp(z)``."""
        z = self._model_output(X)
        z -= z.max(axis=1, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
        return z
