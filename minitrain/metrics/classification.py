"""Binary classification metrics at one threshold: precision and recall.

Precision and recall count weighted true positives (TP), false positives (FP)
and false negatives (FN) over the epoch, as Keras does with one threshold::

    predicted positive:  p > threshold      actual positive:  t != 0
    Precision = TP / (TP + FP)              Recall = TP / (TP + FN)

(0.0 when the denominator is 0). Every entry of ``y_pred`` counts, so a
(N, K) multi-label output gives micro-averaged values; a sample's weight
applies to each of its entries. As in Keras the values are compared with the
threshold as they are: a model that outputs logits needs ``thresholds=0.0``.
The threshold-free ROC AUC is in ``auc.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minitrain import _checks
from minitrain.metrics.base import Metric, pair, same_rank, sample_weights


def _threshold(thresholds: object) -> float:
    return _checks.real_in_range("thresholds", thresholds, 0.0, 1.0)


def _masks(
    y_true: Any, y_pred: Any, sample_weight: Any, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(actual, predicted, weights)``: the positive masks and the weights broadcast to them."""
    t, p = pair(y_true, y_pred)
    p, t = same_rank(p, t)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {t.shape} and {p.shape}")
    w = sample_weights(sample_weight, len(p))
    if w is not None and p.ndim > 1:
        w = np.broadcast_to(w.reshape(-1, *(1,) * (p.ndim - 1)), p.shape)
    return t != 0, p > threshold, w


def _count(mask: np.ndarray, w: np.ndarray | None) -> float:
    """``sum w`` over the entries where ``mask`` holds (a count without weights)."""
    if w is None:
        return float(np.count_nonzero(mask))
    return float(np.sum(w, where=mask, dtype=np.float64))


class Precision(Metric):
    """``TP / (TP + FP)`` at one threshold, weighted, over the epoch (Keras's ``Precision``).

    Parameters
    ----------
    thresholds : float in [0, 1], default 0.5
        A prediction ``p > thresholds`` is a positive (Keras's keyword; one value).
    name : str, optional
        Defaults to ``"precision"``.
    """

    default_name = "precision"
    _state = ("true_positives", "false_positives")

    def __init__(self, thresholds: float = 0.5, name: str | None = None) -> None:
        self.thresholds = _threshold(thresholds)
        super().__init__(name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        actual, predicted, w = _masks(y_true, y_pred, sample_weight, self.thresholds)
        self.true_positives += _count(predicted & actual, w)
        self.false_positives += _count(predicted & ~actual, w)

    def result(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted != 0 else 0.0

    def _config(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "name": self.name}


class Recall(Metric):
    """``TP / (TP + FN)`` at one threshold, weighted, over the epoch (Keras's ``Recall``).

    Parameters
    ----------
    thresholds : float in [0, 1], default 0.5
        A prediction ``p > thresholds`` is a positive (Keras's keyword; one value).
    name : str, optional
        Defaults to ``"recall"``.
    """

    default_name = "recall"
    _state = ("true_positives", "false_negatives")

    def __init__(self, thresholds: float = 0.5, name: str | None = None) -> None:
        self.thresholds = _threshold(thresholds)
        super().__init__(name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        actual, predicted, w = _masks(y_true, y_pred, sample_weight, self.thresholds)
        self.true_positives += _count(actual & predicted, w)
        self.false_negatives += _count(actual & ~predicted, w)

    def result(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual != 0 else 0.0

    def _config(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "name": self.name}
