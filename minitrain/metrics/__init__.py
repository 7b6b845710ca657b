"""Metrics: numbers reported beside the loss, accumulated over an epoch (Keras 3).

The protocol (``base.py``)::

    metric = get("acc")                       # or an object: Precision(thresholds=0.3)
    metric.update_state(y_true, y_pred, sample_weight=None)
    metric.result()      -> float              # over every batch since the reset
    metric.reset_state()                       # fit: when an epoch begins
    metric.name          -> "acc"              # the log key, as given
    metric.state_dict() / load_state_dict(d)   # the accumulated state, for backups
    from_config(metric.get_config())           # a fresh metric with the same arguments

``get`` takes the names Keras's ``compile`` takes and names the metric as
given: ``"acc"`` logs ``acc``, ``"mse"`` logs ``mse``. ``"accuracy"``/``"acc"``
(any capitalisation) is ``Accuracy``, which picks binary, sparse categorical
or categorical accuracy from the shapes of its first batch, as Keras 3 does.

Files: ``base.py`` (``Metric``, ``Mean``, ``MeanMetric``), ``accuracy.py``,
``regression.py`` (``MeanSquaredError``, ``MeanAbsoluteError``: the metrics; the
top-level names of the package are the losses), ``classification.py``
(``Precision``, ``Recall``), ``auc.py`` (``AUC``, exact, with its own state).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minitrain import _checks
from minitrain.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from minitrain.metrics.auc import AUC
from minitrain.metrics.base import Mean, MeanMetric, Metric
from minitrain.metrics.classification import Precision, Recall
from minitrain.metrics.regression import MeanAbsoluteError, MeanSquaredError

__all__ = [
    "AUC",
    "NAMES",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "Mean",
    "MeanAbsoluteError",
    "MeanMetric",
    "MeanSquaredError",
    "Metric",
    "Precision",
    "Recall",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "from_config",
    "get",
]

# Keras's names for each class (``keras.metrics.get``): the snake_case name,
# the class name and the short aliases.
_BY_NAME: dict[str, Callable[..., Metric]] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "BinaryAccuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "CategoricalAccuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "SparseCategoricalAccuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "TopKCategoricalAccuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "SparseTopKCategoricalAccuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "MeanSquaredError": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "MeanAbsoluteError": MeanAbsoluteError,
    "precision": Precision,
    "Precision": Precision,
    "recall": Recall,
    "Recall": Recall,
    "auc": AUC,
    "AUC": AUC,
}
NAMES = tuple(_BY_NAME)
"""Every metric name ``get`` accepts (``"accuracy"`` and ``"acc"`` in any capitalisation)."""

_CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        Mean,
        Accuracy,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        TopKCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        MeanSquaredError,
        MeanAbsoluteError,
        Precision,
        Recall,
        AUC,
    )
}


def get(identifier: str | Metric | type[Metric], loss: Any = None) -> Metric:
    """The metric ``compile`` means by ``identifier``, named as given.

    Parameters
    ----------
    identifier : str, Metric or Metric subclass
        One of ``NAMES`` (a new metric named ``identifier``, with Keras's
        default arguments: ``k=5``, ``threshold=0.5``); a ``Metric``, returned
        as it is (it logs under its own ``name``); or a metric class, built
        with its defaults (Keras takes ``metrics=[keras.metrics.AUC]`` too).
    loss : Loss or str, optional
        Accepted for the old call ``get(name, loss)`` and checked when given;
        it no longer decides anything: ``"accuracy"`` is chosen from the
        shapes of the first batch (``Accuracy``), as Keras 3 chooses it.

    Returns
    -------
    Metric
        A fresh metric (or ``identifier`` itself).
    """
    if loss is not None:
        # Imported here: checking the argument is the only use metrics make of losses.
        from minitrain import losses

        losses.get(loss)
    if isinstance(identifier, Metric):
        return identifier
    if (
        isinstance(identifier, type)
        and issubclass(identifier, Metric)
        and identifier not in (Metric, MeanMetric, Mean)  # bases, or no (y_true, y_pred)
    ):
        return identifier()
    if not isinstance(identifier, str):
        listed = ", ".join(repr(n) for n in NAMES)
        raise TypeError(
            f"metric must be a Metric or one of {listed}, got {_checks.describe(identifier)}"
        )
    if identifier.lower() in ("accuracy", "acc"):
        return Accuracy(name=identifier)
    _checks.one_of("metric", identifier, NAMES)
    return _BY_NAME[identifier](name=identifier)


def from_config(config: dict[str, Any]) -> Metric:
    """Rebuild a metric (without its state) from ``metric.get_config()``."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise TypeError(
            'config must be a dict {"class": name, "config": {...}} from Metric.get_config(), '
            f"got {_checks.describe(config)}"
        )
    cls = _CLASSES[_checks.one_of("config['class']", config.get("class"), _CLASSES)]
    return cls(**config["config"])
