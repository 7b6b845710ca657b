r"""Crossentropies: categorical (one-hot or probability targets), sparse, binary.

Each reads ``y_pred`` in one of two ways, chosen by ``from_logits``:

* ``from_logits=True``: ``y_pred`` holds logits ``z``. The categorical losses
  work with a log-softmax shifted by the row maximum and binary crossentropy
  with ``max(z, 0) - z t + log(1 + exp(-|z|))``, so logits of any size stay
  finite; the gradients are the fused ``(softmax(z) - t)`` and
  ``(sigmoid(z) - t)``, over ``N`` (and the number of labels ``K``).
* ``from_logits=False``: ``y_pred`` holds probabilities; as in Keras, they are
  clipped to ``[1e-7, 1 - 1e-7]`` (the categorical losses divide each row by
  its sum first). The gradient is the exact derivative of that computation,
  clip and row sum included: zero where the clip holds a probability.

Per-sample losses are reduced as every loss is (see ``base``):
``L = sum_i w_i l_i / N``; the weights scale the rows of the gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minitrain import _checks

from .base import EPSILON, Loss, _bool, _float_targets, _reduce, _reduce_elementwise, _weighted_vdot


def _check_probabilities(name: str, p: np.ndarray) -> None:
    """Probabilities are non-negative with a positive sum in each row.

    Keras divides and clips whatever comes; a negative entry (typically a logit
    passed with ``from_logits=False``) would be clipped silently, so it is an
    error here.
    """
    negative = (p < 0).any(axis=1)
    if negative.any():
        row = int(np.argmax(negative))
        raise ValueError(
            f"{name} must be probabilities (non-negative) when from_logits=False, "
            f"got a negative value in row {row}: {p[row]!r}; "
            "pass from_logits=True if it holds logits"
        )
    empty = p.sum(axis=1) <= 0
    if empty.any():
        row = int(np.argmax(empty))
        raise ValueError(
            f"{name} must be probabilities with a positive sum in each row, "
            f"got row {row}: {p[row]!r}"
        )


def _first_outside_unit_interval(x: np.ndarray) -> tuple[int, float] | None:
    """``(row, value)`` of the first entry of ``x`` outside [0, 1], or None."""
    if x.min() >= 0 and x.max() <= 1:  # no temporary the size of x in the common case
        return None
    row = int(np.argmax(((x < 0) | (x > 1)).any(axis=1)))
    bad = x[row][(x[row] < 0) | (x[row] > 1)]
    return row, bad[0].item()


class _Crossentropy(Loss):
    """What the crossentropies share: ``from_logits`` and the probability checks."""

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = _bool("from_logits", from_logits)

    def _config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits}

    def _check_predictions(self, p: np.ndarray) -> None:
        if not self.from_logits:
            _check_probabilities("y_pred", p)


class _SmoothedCrossentropy(_Crossentropy):
    """A crossentropy whose targets may be smoothed: ``label_smoothing`` in [0, 1]."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(from_logits)
        self.label_smoothing = _checks.real_in_range("label_smoothing", label_smoothing, 0.0, 1.0)

    def _config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(_SmoothedCrossentropy):
    r"""Crossentropy against one-hot or probability targets (Keras's; PyTorch's with probabilities).

    With targets ``t`` of shape (N, C), smoothed first when ``label_smoothing``
    is ``ls > 0``: ``t <- t (1 - ls) + ls / C``, and sample weights ``w``
    (1 without them),

    .. math:: L = -\frac{1}{N} \sum_i w_i \sum_j t_{ij} \log q_{ij}

    where ``q`` is ``softmax(z)`` of logits ``z`` (``from_logits=True``), or the
    predictions divided by their row sum and clipped to ``[1e-7, 1 - 1e-7]``
    (``from_logits=False``, as Keras). The gradients, with ``T_i = sum_j t_ij``
    (1 for one-hot or probability targets, smoothed or not):

    .. math:: \frac{\partial L}{\partial z_{ik}} =
              w_i\,\frac{T_i\,\mathrm{softmax}(z_i)_k - t_{ik}}{N}
              \qquad \text{(logits)}

    .. math:: \frac{\partial L}{\partial p_{ik}} =
              w_i\,\frac{\sum_j t_{ij} m_{ij} - t_{ik} m_{ik} / q_{ik}}{N s_i}
              \qquad \text{(probabilities)}

    where ``s_i = sum_j p_ij`` and ``m_ij = 1`` where the clip let ``q_ij``
    through, else 0. Chained through the softmax Jacobian, the second gives the
    first: a model ending in ``Softmax`` trains exactly as one without it and
    ``from_logits=True`` (as long as nothing is clipped).

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    label_smoothing : float in [0, 1], default 0.0
        Weight of the uniform distribution mixed into the targets.
    """

    name = "categorical_crossentropy"

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        return _float_targets(name, y, num_outputs, dtype, "one-hot or probability targets")

    def _smooth(self, t: np.ndarray) -> np.ndarray:
        """``t (1 - ls) + ls / C``, a new array; ``t`` itself when ``ls == 0``."""
        ls = self.label_smoothing
        if ls == 0.0:
            return t
        smoothed = t * (1.0 - ls)
        smoothed += ls / t.shape[1]
        return smoothed

    def value(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        t = self._smooth(y_true)
        w = sample_weight
        n = len(y_pred)
        if self.from_logits:
            # -sum_j t_j log softmax(z)_j = sum_j t_j (log s - (z_j - m)) with
            # m = max_j z_j and s = sum_k exp(z_k - m) >= 1: no overflow, no log 0.
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            t_dot_shifted = _weighted_vdot(t, shifted, w)
            log_s = np.log(np.exp(shifted, out=shifted).sum(axis=1))
            t_sum = t.sum(axis=1) if w is None else w * t.sum(axis=1)
            return float((np.dot(t_sum, log_s) - t_dot_shifted) / n)
        q = y_pred / y_pred.sum(axis=1, keepdims=True)
        r = np.clip(q, EPSILON, 1.0 - EPSILON, out=q)
        return float(-_weighted_vdot(t, np.log(r, out=r), w) / n)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        t = self._smooth(y_true)
        w = sample_weight
        n = len(y_pred)
        if self.from_logits:
            # Forward: l_i = t_sum_i log s_i - sum_j t_ij (z_ij - m_i).
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            t_dot_shifted = _weighted_vdot(t, shifted, w)
            e = np.exp(shifted, out=shifted)
            s = e.sum(axis=1, keepdims=True)
            t_sum = t.sum(axis=1, keepdims=True)
            wt_sum = t_sum if w is None else w[:, None] * t_sum
            value = float((np.vdot(wt_sum, np.log(s)) - t_dot_shifted) / n)
            # Backward, fused: dl_i/dz_ij = t_sum_i softmax_ij - t_ij, since
            # d log s_i / dz_ij = softmax_ij and the shift m_i cancels. One-hot and
            # probability targets (smoothed or not) sum to 1, which gives the
            # familiar (softmax - t) / N. The fused form never divides by a
            # probability, so it stays exact where softmax underflows to 0.
            grad = e
            grad *= t_sum / s
            grad -= t
            if w is None:
                grad /= n
            else:
                grad *= w[:, None] / n  # dL/dl_i = w_i / N
            return value, grad
        # Forward: s = row sums, q = p / s, r = clip(q), l_i = -sum_j t_ij log r_ij.
        s = y_pred.sum(axis=1, keepdims=True)
        q = y_pred / s
        inside = (q >= EPSILON) & (q <= 1.0 - EPSILON)
        r = np.clip(q, EPSILON, 1.0 - EPSILON, out=q)
        log_r = np.log(r)
        value = float(-_weighted_vdot(t, log_r, w) / n)
        # Backward, in reverse:
        #   dL/dr_ij = -w_i t_ij / (N r_ij)
        #   dL/dq_ij = that where the clip let q through, else 0 (call it g_ij)
        #   dL/dp_ik = (g_ik - sum_j g_ij q_ij) / s_i        (q_j = p_j / s)
        # and where g_ij != 0, q_ij = r_ij, so sum_j g_ij q_ij = -w_i sum_j t_ij [inside] / N.
        t_inside = np.multiply(t, inside, out=log_r)  # log_r is dead
        t_inside_sum = t_inside.sum(axis=1, keepdims=True)
        grad = np.divide(t_inside, r, out=r)  # r is dead
        np.subtract(t_inside_sum, grad, out=grad)
        if w is None:
            grad /= n * s
        else:
            grad *= w[:, None] / (n * s)
        return value, grad


class SparseCategoricalCrossentropy(_Crossentropy):
    r"""Crossentropy against integer class labels (Keras's; PyTorch's with class indices).

    Labels ``y`` of shape (N,) or (N, 1), any integer dtype (or floats that are
    all integral), each in ``[0, C)``; a label outside is a ``ValueError``
    naming it (PyTorch raises too; some Keras backends return 0). The result
    equals ``CategoricalCrossentropy`` with the one-hot targets:

    .. math:: L = -\frac{1}{N} \sum_i w_i \log q_{i, y_i}

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    """

    name = "sparse_categorical_crossentropy"

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        if isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                f"{name} must be integer labels of shape (N,) or (N, 1), got shape {y.shape}; "
                "one-hot targets go with CategoricalCrossentropy"
            )
        labels = _checks.class_labels(name, y, num_outputs)
        if len(labels) == 0:
            raise ValueError(f"{name} must hold at least one sample, got shape {np.shape(y)}")
        return labels

    def value(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        rows = np.arange(len(y_pred))
        if self.from_logits:
            # -log softmax(z)_y = log s - (z_y - m), as in CategoricalCrossentropy.
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            shifted_y = shifted[rows, y_true]
            s = np.exp(shifted, out=shifted).sum(axis=1)
            return _reduce(np.log(s) - shifted_y, sample_weight)
        q_y = y_pred[rows, y_true] / y_pred.sum(axis=1)
        return _reduce(-np.log(np.clip(q_y, EPSILON, 1.0 - EPSILON)), sample_weight)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        w = sample_weight
        n = len(y_pred)
        rows = np.arange(n)
        if self.from_logits:
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            shifted_y = shifted[rows, y_true]
            e = np.exp(shifted, out=shifted)
            s = e.sum(axis=1)
            value = _reduce(np.log(s) - shifted_y, w)
            # Fused, as in CategoricalCrossentropy with one-hot t: w (softmax - t) / N.
            grad = e
            grad /= s[:, None]
            grad[rows, y_true] -= 1.0
            if w is None:
                grad /= n
            else:
                grad *= w[:, None] / n
            return value, grad
        # Forward: s = row sums, q_y = p_y / s, r_y = clip(q_y), l_i = -log r_y.
        s = y_pred.sum(axis=1)
        q_y = y_pred[rows, y_true] / s
        inside = (q_y >= EPSILON) & (q_y <= 1.0 - EPSILON)
        r_y = np.clip(q_y, EPSILON, 1.0 - EPSILON, out=q_y)
        value = _reduce(-np.log(r_y), w)
        # Backward: dL/dq is -w [inside] / (N r_y) at (i, y_i) and 0 elsewhere;
        # through q = p / s every entry of row i gets -(dL/dq_y) q_y / s = w [inside] / (N s)
        # (q_y = r_y where inside), and the label's entry also gets (dL/dq_y) / s.
        coef = inside / (n * s) if w is None else inside * w / (n * s)
        grad = np.empty_like(y_pred)
        grad[...] = coef[:, None]
        grad[rows, y_true] -= coef / r_y
        return value, grad


class BinaryCrossentropy(_SmoothedCrossentropy):
    r"""Crossentropy of independent yes/no labels (Keras's; PyTorch's ``BCE[WithLogits]Loss``).

    Targets ``t`` are 0/1 labels or probabilities in ``[0, 1]``, of shape (N, K):
    one output column (``K = 1``; targets of shape (N,) are read as (N, 1)) or
    ``K`` independent labels per sample (multi-label). A target outside
    ``[0, 1]`` is a ``ValueError`` naming it. With ``label_smoothing = ls > 0``
    the targets are squeezed towards 1/2 first: ``t <- t (1 - ls) + ls / 2``.
    Elementwise, from logits ``z`` (the stable form of PyTorch's
    ``BCEWithLogitsLoss``: no overflow, no log 0) or probabilities ``p``
    clipped to ``c = clip(p, 1e-7, 1 - 1e-7)`` (Keras):

    .. math:: l_{ij} = \max(z_{ij}, 0) - z_{ij} t_{ij} + \log(1 + e^{-|z_{ij}|})
              \qquad\text{or}\qquad
              l_{ij} = -t_{ij} \log c_{ij} - (1 - t_{ij}) \log(1 - c_{ij})

    reduced as Keras reduces it, the mean over the labels, then over the batch:

    .. math:: L = \frac{1}{N} \sum_i w_i \frac{1}{K} \sum_j l_{ij}

    Gradients, with ``m_ij = 1`` where the clip let ``p_ij`` through, else 0:

    .. math:: \frac{\partial L}{\partial z_{ij}} = \frac{w_i}{N K} (\sigma(z_{ij}) - t_{ij})
              \qquad
              \frac{\partial L}{\partial p_{ij}} =
              \frac{w_i}{N K} \, m_{ij} \frac{c_{ij} - t_{ij}}{c_{ij} (1 - c_{ij})}

    Chained through the sigmoid's derivative ``c (1 - c)``, the second gives the
    first: a model ending in ``Sigmoid`` trains as one without it and
    ``from_logits=True`` (as long as nothing is clipped).

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities in ``[0, 1]``.
    label_smoothing : float in [0, 1], default 0.0
        Targets are squeezed towards 1/2 by this fraction.
    """

    name = "binary_crossentropy"

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        if num_outputs == 1 and isinstance(y, np.ndarray) and y.ndim == 1:
            y = y[:, None]
        t = _float_targets(name, y, num_outputs, dtype, "0/1 or probability targets")
        bad = _first_outside_unit_interval(t)
        if bad is not None:
            raise ValueError(
                f"{name} must be 0/1 labels or probabilities in [0, 1], "
                f"got {bad[1]!r} in row {bad[0]}"
            )
        return t

    def _check_predictions(self, p: np.ndarray) -> None:
        if self.from_logits:
            return
        bad = _first_outside_unit_interval(p)
        if bad is not None:
            # Keras clips silently; a value outside [0, 1] is almost always a logit.
            raise ValueError(
                f"y_pred must be probabilities in [0, 1] when from_logits=False, "
                f"got {bad[1]!r} in row {bad[0]}; pass from_logits=True if it holds logits"
            )

    def _smooth(self, t: np.ndarray) -> np.ndarray:
        """``t (1 - ls) + ls / 2``, a new array; ``t`` itself when ``ls == 0``."""
        ls = self.label_smoothing
        if ls == 0.0:
            return t
        smoothed = t * (1.0 - ls)
        smoothed += 0.5 * ls
        return smoothed

    @staticmethod
    def _from_logits(t: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Elementwise ``max(z, 0) - z t + log1p(exp(-|z|))`` and ``e = exp(-|z|)``."""
        e = np.abs(z)
        np.negative(e, out=e)
        np.exp(e, out=e)  # in (0, 1]: never overflows
        elementwise = np.maximum(z, 0.0)
        elementwise -= z * t
        elementwise += np.log1p(e)
        return elementwise, e

    @staticmethod
    def _from_probabilities(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Elementwise ``-t log c - (1 - t) log(1 - c)`` and ``c = clip(p)``."""
        c = np.clip(p, EPSILON, 1.0 - EPSILON)
        elementwise = np.log(c)
        elementwise *= t
        # log1p(-c) is log(1 - c) without the rounding of 1 - c.
        elementwise += (1.0 - t) * np.log1p(-c)
        np.negative(elementwise, out=elementwise)
        return elementwise, c

    def value(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        t = self._smooth(y_true)
        forward = self._from_logits if self.from_logits else self._from_probabilities
        return _reduce_elementwise(forward(t, y_pred)[0], sample_weight)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        t = self._smooth(y_true)
        w = sample_weight
        if self.from_logits:
            elementwise, e = self._from_logits(t, y_pred)
            value = _reduce_elementwise(elementwise, w)
            # Backward: d/dz [max(z, 0) + log1p(exp(-|z|))] = sigmoid(z) on both sides
            # of 0, written with the e = exp(-|z|) of the forward: 1 / (1 + e) for
            # z >= 0, e / (1 + e) below. The -z t term gives -t.
            grad = np.where(y_pred >= 0, 1.0, e).astype(y_pred.dtype, copy=False)
            grad /= 1.0 + e
            grad -= t
        else:
            elementwise, c = self._from_probabilities(t, y_pred)
            value = _reduce_elementwise(elementwise, w)
            # Backward: d/dc [-t log c - (1 - t) log(1 - c)] = (c - t) / (c (1 - c)),
            # and the clip passes it only where it let p through (as torch.clamp does).
            inside = (y_pred >= EPSILON) & (y_pred <= 1.0 - EPSILON)
            grad = c - t
            grad /= c * (1.0 - c)
            grad *= inside
        if w is None:
            grad /= grad.size
        else:
            grad *= w[:, None] / grad.size  # dL/dl_ij = w_i / (N K)
        return value, grad
