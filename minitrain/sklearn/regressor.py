"""``MLPRegressor``: a linear output layer trained with the mean squared error."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from sklearn.base import RegressorMixin

from .base import _BaseMLP


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A minitrain MLP as a scikit-learn regressor: a linear output layer trained with the
    mean squared error.

    ``y`` of shape (N,) gives predictions of shape (N,); ``y`` of shape (N, k) (k >= 1)
    predictions of shape (N, k). As with scikit-learn's own MLP, ``y`` is not scaled:
    targets far from unit scale train slowly (put a ``TransformedTargetRegressor`` with a
    ``StandardScaler`` around the estimator).

    Parameters
    ----------
    hidden_layer_sizes, activation, ..., warm_start
        The parameters of :class:`MLPClassifier`: the same names, defaults and meaning.

    Attributes
    ----------
    model_ : Sequential
        The trained network (output width ``n_outputs_``).
    history_, callbacks_, n_features_in_, feature_names_in_
        As in :class:`MLPClassifier`.
    n_outputs_ : int
        Columns of ``y`` (1 for a 1-D ``y``).

    Notes
    -----
    The network's dtype follows the data's, as in :class:`MLPClassifier`.

    Pickle (or joblib) saves a fitted estimator, scikit-learn's convention; minitrain's
    own files never use pickle. Load only pickles you trust.

    Every check of ``sklearn.utils.estimator_checks.check_estimator`` passes (see
    ``tests/test_sklearn.py``). ``check_sample_weight_equivalence_on_dense_data`` passes
    only because its data fit in one batch and Adam nearly cancels the loss scale: a
    weight of k is not k repeated samples here either (see :class:`MLPClassifier`).
    """

    _loss = "mse"
    _metrics = ()
    _regression = True

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> Self:
        """One epoch over ``(X, y)``; the first call builds the model.

        Parameters
        ----------
        X : array-like of shape (N, F)
        y : array-like of shape (N,) or (N, k)
        sample_weight : array-like of shape (N,) or None
            As for ``fit``.
        **fit_params
            As for ``fit``.

        Returns
        -------
        self
        """
        return self._partial_fit(X, y, None, sample_weight, fit_params)

    def _prepare_targets(self, y: np.ndarray, *, first: bool, classes: Any) -> np.ndarray:
        """Targets as a 2-D array (N, k), the model's output shape."""
        targets = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self.n_outputs_ = targets.shape[1]
            self._y_is_1d = y.ndim == 1
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} columns, but {type(self).__name__} was fitted "
                f"with {self.n_outputs_}"
            )
        return targets

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shape (N,) when fitted on a 1-D ``y``, else (N, n_outputs_).
        In the network's dtype (see ``MLPClassifier``'s Notes).
        """
        y = self._model_output(X)
        return y[:, 0] if self._y_is_1d else y

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
