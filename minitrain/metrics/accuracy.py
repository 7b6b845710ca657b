"""Accuracies: the weighted fraction of samples predicted right (Keras 3 semantics).

Each is a ``MeanMetric``: one hit value ``v_i`` per sample, and
``result = sum_i w_i v_i / sum_i w_i`` over the epoch so far.

=================================  ==============================================
metric                             hit of sample ``i``
=================================  ==============================================
``BinaryAccuracy(threshold=0.5)``  ``mean_j [t_ij == (p_ij > threshold)]``
``CategoricalAccuracy``            ``argmax_j p_ij == argmax_j t_ij``
``SparseCategoricalAccuracy``      ``argmax_j p_ij == y_i``
``TopKCategoricalAccuracy(k=5)``   ``argmax_j t_ij`` is in the top k of ``p_i``
``SparseTopKCategoricalAccuracy``  ``y_i`` is in the top k of ``p_i``
``Accuracy``                       one of the first three, chosen by shapes
=================================  ==============================================

``argmax`` ties go to the first index (``np.argmax``, as Keras). "In the top
k" is Keras's ``in_top_k``: the target's score is at least the k-th largest
score, so a target tied with the k-th score counts as a hit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minitrain import _checks
from minitrain.metrics.base import MeanMetric, check_state, per_sample, same_shape

BINARY, SPARSE, CATEGORICAL = (
    "binary_accuracy",
    "sparse_categorical_accuracy",
    "categorical_accuracy",
)


def binary_hits(t: np.ndarray, p: np.ndarray, threshold: float) -> np.ndarray:
    """``mean_j [t_ij == (p_ij > threshold)]``, shape (N,), for ``t``, ``p`` of one shape.

    The target is compared exactly, as in Keras: only 0/1 targets can match.
    """
    t, p = same_shape(t, p)
    return per_sample(t == (p > threshold))


def _class_scores(p: np.ndarray) -> None:
    if p.ndim < 2:
        raise ValueError(f"y_pred must hold one score per class, shape (N, C), got shape {p.shape}")


def sparse_hits(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``argmax_j p_ij == y_i`` for labels (N,) or (N, 1) and scores (N, C).

    As Keras, a label is compared as a number: a label outside ``[0, C)`` or
    a non-integral one is simply never a hit.
    """
    _class_scores(p)
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != p.shape[:-1]:
        raise ValueError(
            f"y_true must hold one label per sample, shape {p.shape[:-1]} or "
            f"{(*p.shape[:-1], 1)}, for y_pred of shape {p.shape}; got shape {t.shape}"
        )
    return per_sample(p.argmax(axis=-1) == t)


def categorical_hits(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``argmax_j p_ij == argmax_j t_ij`` for one-hot (or soft) targets and scores (N, C)."""
    _class_scores(p)
    if t.shape != p.shape:
        raise ValueError(
            f"y_true must be one-hot of the shape of y_pred {p.shape}, got shape {t.shape}"
        )
    return per_sample(p.argmax(axis=-1) == t.argmax(axis=-1))


def top_k_hits(labels: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Keras's ``in_top_k``: ``p[i, y_i]`` at least the k-th largest of ``p[i]``, shape (N,).

    The target's score is at least the k-th largest exactly when fewer than k
    scores are strictly above it, which needs no sort.
    """
    target = np.take_along_axis(p, labels[:, None], axis=1)
    return np.count_nonzero(p > target, axis=1) < k


class BinaryAccuracy(MeanMetric):
    """Fraction of entries where ``[p > threshold]`` equals the target (Keras).

    ``v_i = mean_j [t_ij == (p_ij > threshold)]`` for ``y_true`` and ``y_pred``
    of shape (N, K) (or (N,)); each sample counts once, whatever K.

    As in Keras the raw output is thresholded: a model that outputs logits (a
    binary crossentropy ``from_logits=True``) is still cut at 0.5, not at 0;
    pass ``threshold=0.0`` for logits.

    Parameters
    ----------
    name : str, optional
        Defaults to ``"binary_accuracy"``.
    threshold : float, default 0.5
    """

    default_name = BINARY

    def __init__(self, name: str | None = None, threshold: float = 0.5) -> None:
        self.threshold = _checks.real_in_range("threshold", threshold)
        super().__init__(name)

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return binary_hits(y_true, y_pred, self.threshold)

    def _config(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetric):
    """Fraction of samples whose largest prediction is at the largest target.

    ``v_i = [argmax_j p_ij == argmax_j t_ij]`` for ``y_true`` and ``y_pred`` of
    shape (N, C); soft targets count at their argmax.

    Parameters
    ----------
    name : str, optional
        Defaults to ``"categorical_accuracy"``.
    """

    default_name = CATEGORICAL

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return categorical_hits(y_true, y_pred)


class SparseCategoricalAccuracy(MeanMetric):
    """Fraction of samples whose largest prediction is at the label.

    ``v_i = [argmax_j p_ij == y_i]`` for labels of shape (N,) or (N, 1) and
    ``y_pred`` of shape (N, C).

    Parameters
    ----------
    name : str, optional
        Defaults to ``"sparse_categorical_accuracy"``.
    """

    default_name = SPARSE

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return sparse_hits(y_true, y_pred)


class _TopK(MeanMetric):
    def __init__(self, k: int = 5, name: str | None = None) -> None:
        self.k = _checks.positive_int("k", k)
        super().__init__(name)

    def _labels(self, t: np.ndarray, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        if y_pred.ndim != 2:
            raise ValueError(f"y_pred must have shape (N, C), got shape {y_pred.shape}")
        num_classes = y_pred.shape[1]
        if self.k > num_classes:
            raise ValueError(
                f"k must be at most the number of classes ({num_classes}) for "
                f"{type(self).__name__}, got k={self.k}"
            )
        return top_k_hits(self._labels(y_true, y_pred), y_pred, self.k)

    def _config(self) -> dict[str, Any]:
        return {"k": self.k, "name": self.name}


class TopKCategoricalAccuracy(_TopK):
    """Fraction of samples whose target class is among the k top-scored ones.

    ``v_i = [p_{i, argmax_j t_ij} >= k-th largest of p_i]`` for ``y_true`` and
    ``y_pred`` of shape (N, C) (Keras's ``in_top_k``: ties with the k-th score
    are hits). ``k`` above C is a ``ValueError`` at the first update.

    Parameters
    ----------
    k : int, default 5
    name : str, optional
        Defaults to ``"top_k_categorical_accuracy"``.
    """

    default_name = "top_k_categorical_accuracy"

    def _labels(self, t: np.ndarray, p: np.ndarray) -> np.ndarray:
        if t.shape != p.shape:
            raise ValueError(
                f"y_true must be one-hot of the shape of y_pred {p.shape}, got shape {t.shape}"
            )
        return t.argmax(axis=1)


class SparseTopKCategoricalAccuracy(_TopK):
    """Fraction of samples whose label is among the k top-scored classes.

    ``v_i = [p_{i, y_i} >= k-th largest of p_i]`` for labels of shape (N,) or
    (N, 1) in ``[0, C)`` and ``y_pred`` of shape (N, C); ties as Keras's
    ``in_top_k``. ``k`` above C is a ``ValueError`` at the first update.

    Parameters
    ----------
    k : int, default 5
    name : str, optional
        Defaults to ``"sparse_top_k_categorical_accuracy"``.
    """

    default_name = "sparse_top_k_categorical_accuracy"

    def _labels(self, t: np.ndarray, p: np.ndarray) -> np.ndarray:
        return _checks.class_labels("y_true", t, p.shape[1])


def resolve(t: np.ndarray, p: np.ndarray) -> str:
    """Keras 3's choice for ``"accuracy"`` (``compile_utils.get_metric``), from shapes.

    Binary for one output column (or 1-D predictions); sparse categorical when
    the targets have a lower rank than the predictions, or one column against
    several; else categorical.
    """
    if p.ndim == 1 or p.shape[-1] == 1:
        return BINARY
    if t.ndim < p.ndim or t.shape[-1] == 1:
        return SPARSE
    return CATEGORICAL


class Accuracy(MeanMetric):
    """``"accuracy"`` as Keras 3's ``compile`` means it: chosen by shapes at the first update.

    At the first ``update_state`` the shapes decide, once, as
    ``keras.src.trainers.compile_utils.get_metric`` does:

    - ``y_pred`` with one column (or 1-D): ``BinaryAccuracy`` at 0.5 (on the raw
      output, so logits too are cut at 0.5, as in Keras);
    - ``y_true`` of lower rank than ``y_pred`` (labels (N,)), or of width 1
      against several outputs: ``SparseCategoricalAccuracy``;
    - otherwise ``CategoricalAccuracy``.

    The choice is ``resolved`` (that metric's name, None before the first
    update); ``reset_state`` keeps it. This is not ``keras.metrics.Accuracy``
    (exact equality of ``y_true`` and ``y_pred``), which has no use for a
    network's scores.

    Parameters
    ----------
    name : str, optional
        Defaults to ``"accuracy"``.
    """

    default_name = "accuracy"

    def __init__(self, name: str | None = None) -> None:
        self.resolved: str | None = None
        super().__init__(name)

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        kind = resolve(y_true, y_pred) if self.resolved is None else self.resolved
        if kind == BINARY:
            hits = binary_hits(y_true, y_pred, 0.5)
        elif kind == SPARSE:
            hits = sparse_hits(y_true, y_pred)
        else:
            hits = categorical_hits(y_true, y_pred)
        self.resolved = kind  # only once the first batch was accepted
        return hits

    def state_dict(self) -> dict[str, np.ndarray]:
        """``total``, ``count`` and the choice, ``resolved`` (a str array, ``""`` for none)."""
        state = super().state_dict()
        state["resolved"] = np.array(self.resolved or "")
        return state

    def load_state_dict(self, state: Any) -> None:
        arrays = check_state(state, {"total": ((), "f"), "count": ((), "f"), "resolved": ((), "U")})
        kind = str(arrays["resolved"])
        _checks.one_of("state['resolved']", kind, ("", BINARY, SPARSE, CATEGORICAL))
        super().load_state_dict({"total": arrays["total"], "count": arrays["count"]})
        self.resolved = kind or None
