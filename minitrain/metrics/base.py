"""Metrics: a number reported beside the loss, never differentiated.

A metric is called on a batch of prepared targets (what
``Loss.prepare_targets`` returns) and predictions, and returns the batch
mean as a Python float; its ``name`` is the key it is logged under::

    metric = get("accuracy", loss)        # resolved once, at compile
    metric(y_true_prepared, y_pred) -> float
    metric.name                     -> "accuracy"

``"accuracy"`` (or ``"acc"``) means what it means in Keras, picked from the
loss: sparse categorical accuracy for ``SparseCategoricalCrossentropy``,
categorical accuracy for ``CategoricalCrossentropy``, and otherwise (mean
squared error) binary accuracy at 0.5 for a single output, categorical
accuracy for several. It is logged as ``"accuracy"`` either way.
"""

from __future__ import annotations

import numpy as np

from minitrain import _checks
from minitrain.losses import (
    CategoricalCrossentropy,
    Loss,
    SparseCategoricalCrossentropy,
)
from minitrain.losses import get as get_loss


class Metric:
    """Base class: ``__call__(y_true, y_pred) -> float``, the batch mean.

    Parameters
    ----------
    name : str, optional
        Log key; defaults to the metric's own name, e.g. ``"categorical_accuracy"``.
    """

    default_name = "metric"

    def __init__(self, name: str | None = None) -> None:
        self.name = self.default_name if name is None else name

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class CategoricalAccuracy(Metric):
    """Fraction of samples whose largest prediction is at the largest target.

    ``mean_i [argmax_j p_ij == argmax_j t_ij]`` for ``y_true`` and ``y_pred``
    of shape (N, C); ties go to the first index (``np.argmax``).
    """

    default_name = "categorical_accuracy"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(y_pred.argmax(axis=1) == y_true.argmax(axis=1)))


class SparseCategoricalAccuracy(Metric):
    """Fraction of samples whose largest prediction is at the label.

    ``mean_i [argmax_j p_ij == y_i]`` for labels of shape (N,) and ``y_pred``
    of shape (N, C).
    """

    default_name = "sparse_categorical_accuracy"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(y_pred.argmax(axis=1) == y_true))


class BinaryAccuracy(Metric):
    """Fraction of entries where ``[p > threshold]`` equals the target (Keras).

    ``mean_ij [t_ij == (p_ij > threshold)]`` for arrays of shape (N, C); as in
    Keras the target is compared exactly, so only 0/1 targets can match.

    Parameters
    ----------
    name : str, optional
    threshold : float, default 0.5
    """

    default_name = "binary_accuracy"

    def __init__(self, name: str | None = None, threshold: float = 0.5) -> None:
        super().__init__(name)
        self.threshold = _checks.real_in_range("threshold", threshold)

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(y_true == (y_pred > self.threshold)))


class Accuracy(Metric):
    """Keras's ``"accuracy"`` for a loss that does not fix its meaning.

    Picked from the shapes of each batch, as Keras does: binary accuracy at
    0.5 when ``y_pred`` has one column, sparse categorical accuracy when
    ``y_true`` holds labels of shape (N,), categorical accuracy otherwise.
    """

    default_name = "accuracy"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        if y_pred.shape[1] == 1:
            return _BINARY(y_true, y_pred)
        if y_true.ndim == 1:
            return _SPARSE(y_true, y_pred)
        return _CATEGORICAL(y_true, y_pred)


_BINARY = BinaryAccuracy()
_SPARSE = SparseCategoricalAccuracy()
_CATEGORICAL = CategoricalAccuracy()

_BY_NAME: dict[str, type[Metric]] = {
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
}
NAMES = ("accuracy", "acc", *_BY_NAME)
"""Every metric name ``get`` accepts."""


def get(name: str | Metric, loss: str | Loss) -> Metric:
    """The metric for a name ``compile`` accepts, given the compiled loss.

    Parameters
    ----------
    name : str or Metric
        One of ``NAMES``; a ``Metric`` is returned as is.
    loss : Loss or str
        The model's loss (or a name ``losses.get`` accepts); it decides what
        ``"accuracy"`` means.

    Returns
    -------
    Metric
        Named ``"accuracy"`` when asked as ``"accuracy"`` or ``"acc"`` (as
        Keras logs it), else by its own name.
    """
    loss = get_loss(loss)
    if isinstance(name, Metric):
        return name
    if not isinstance(name, str):
        listed = ", ".join(repr(n) for n in NAMES)
        raise TypeError(f"metric must be a Metric or one of {listed}, got {_checks.describe(name)}")
    _checks.one_of("metric", name, NAMES)
    if name in ("accuracy", "acc"):
        if isinstance(loss, SparseCategoricalCrossentropy):
            return SparseCategoricalAccuracy(name="accuracy")
        if isinstance(loss, CategoricalCrossentropy):
            return CategoricalAccuracy(name="accuracy")
        return Accuracy()
    return _BY_NAME[name]()
