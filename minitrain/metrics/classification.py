"""Binary classification metrics: precision, recall and the exact ROC AUC.

Precision and recall count weighted true positives (TP), false positives (FP)
and false negatives (FN) over the epoch, as Keras does with one threshold::

    predicted positive:  p > threshold      actual positive:  t != 0
    Precision = TP / (TP + FP)              Recall = TP / (TP + FN)

(0.0 when the denominator is 0). Every entry of ``y_pred`` counts, so a
(N, K) multi-label output gives micro-averaged values; a sample's weight
applies to each of its entries. As in Keras the values are compared with the
threshold as they are: a model that outputs logits needs ``thresholds=0.0``.

``AUC`` keeps every score, label and weight of the epoch and computes the
exact area under the ROC curve from them; Keras's ``AUC`` approximates it with
200 thresholds instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minitrain import _checks
from minitrain.metrics.base import Metric, check_state, pair, same_rank, sample_weights


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


class _Growing:
    """A 1-D array that grows by doubling: appending n values costs O(n), amortised."""

    def __init__(self, dtype: type) -> None:
        self._data = np.empty(0, dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray | float, n: int) -> None:
        end = self.size + n
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data), 1024), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : end] = values
        self.size = end

    def view(self) -> np.ndarray:
        """The values so far (a view: it changes with the next ``extend``)."""
        return self._data[: self.size]

    def clear(self) -> None:
        self.size = 0  # the capacity stays for the next epoch


class AUC(Metric):
    """Exact area under the ROC curve of every prediction since the reset.

    Equal to ``sklearn.metrics.roc_auc_score(labels, scores, sample_weight=weights)``
    over the epoch's samples. With the distinct scores ``s_1 > s_2 > ... > s_G``
    and ``P_g``, ``N_g`` the weight of the positives and negatives scoring
    ``s_g``, the ROC curve passes through the points
    ``(FP_g, TP_g) = (sum_{h<=g} N_h, sum_{h<=g} P_h) / (N, P)`` and the area is
    the trapezoid rule over them::

        AUC = sum_g N_g (TP_{g-1} + TP_g) / 2 / (P N)

    so a positive and a negative with the same score count one half, as in
    scikit-learn. Keras's ``AUC`` approximates this with 200 thresholds (its
    ``num_thresholds``), so the two differ by up to about 1/200.

    The area depends only on the order of the scores, so logits and
    probabilities give the same value. When no positive or no negative was
    seen the area is undefined and the result is 0.0 (Keras's convention;
    scikit-learn warns and returns nan).

    ``update_state(y_true, y_pred, sample_weight=None)`` takes labels 0/1 of
    shape (N,) or (N, 1) and one score per sample, shape (N,) or (N, 1). The
    state (``scores``, ``labels``, ``weights``) grows with the epoch; the
    scores are sorted when ``result()`` needs them (a stable sort of a sorted
    prefix and a new tail, close to linear).

    Parameters
    ----------
    name : str, optional
        Defaults to ``"auc"``.
    """

    default_name = "auc"

    def __init__(self, name: str | None = None) -> None:
        self._scores = _Growing(np.float64)
        self._labels = _Growing(np.bool_)
        self._weights = _Growing(np.float64)
        super().__init__(name)

    def reset_state(self) -> None:
        for store in (self._scores, self._labels, self._weights):
            store.clear()
        self._sorted = True
        self._result: float | None = 0.0

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = pair(y_true, y_pred)
        p, t = same_rank(p, t)
        if p.ndim == 2 and p.shape[1] == 1:
            t, p = t[:, 0], p[:, 0]
        if p.ndim != 1:
            raise ValueError(
                f"y_pred must hold one score per sample, shape (N,) or (N, 1), got shape {p.shape}"
            )
        if t.shape != p.shape:
            raise ValueError(f"y_true must have the shape of y_pred {p.shape}, got {t.shape}")
        bad = (t != 0) & (t != 1)
        if bad.any():
            raise ValueError(f"y_true must be labels 0 or 1, got {t[bad][0].item()!r}")
        if p.dtype.kind == "f" and not np.isfinite(p).all():
            raise ValueError("y_pred must be finite, got NaN or inf")
        w = sample_weights(sample_weight, len(p))
        n = len(p)
        self._scores.extend(p, n)
        self._labels.extend(t, n)
        self._weights.extend(1.0 if w is None else w, n)
        self._sorted = False
        self._result = None

    def _sort(self) -> None:
        # A stable sort keeps equal scores in the order they came, so the order
        # (and the rounding of the sums below) does not depend on when result() ran.
        scores = self._scores.view()
        order = np.argsort(scores, kind="stable")
        for store in (self._scores, self._labels, self._weights):
            view = store.view()
            view[:] = view[order]
        self._sorted = True

    def result(self) -> float:
        if self._result is None:
            if not self._sorted:
                self._sort()
            self._result = self._area()
        return self._result

    def _area(self) -> float:
        s = self._scores.view()
        w = self._weights.view()
        positive = np.where(self._labels.view(), w, 0.0)
        negative = w - positive
        starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
        # Per distinct score, from the highest down: the ROC curve's steps.
        pos = np.add.reduceat(positive, starts)[::-1]
        neg = np.add.reduceat(negative, starts)[::-1]
        tp = np.cumsum(pos)
        total_pos, total_neg = float(tp[-1]), float(np.sum(neg))
        if total_pos <= 0 or total_neg <= 0:
            return 0.0
        tp_before = np.concatenate(([0.0], tp[:-1]))
        return float(np.dot(neg, tp_before + tp)) / 2 / (total_pos * total_neg)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the epoch's ``scores`` (float64), ``labels`` (bool) and ``weights``."""
        return {
            "scores": self._scores.view().copy(),
            "labels": self._labels.view().copy(),
            "weights": self._weights.view().copy(),
        }

    def load_state_dict(self, state: Any) -> None:
        arrays = check_state(
            state, {"scores": (None, "f"), "labels": (None, "b"), "weights": (None, "f")}
        )
        n = len(arrays["scores"])
        for key in ("labels", "weights"):
            if len(arrays[key]) != n:
                raise ValueError(
                    f"state[{key!r}] must hold one value per score ({n}), got {len(arrays[key])}"
                )
        self.reset_state()
        self._scores.extend(arrays["scores"], n)
        self._labels.extend(arrays["labels"], n)
        self._weights.extend(arrays["weights"], n)
        self._sorted = False
        self._result = None
