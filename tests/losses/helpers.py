"""Shared data and oracles for the loss tests.

The oracles are finite differences (float64), PyTorch (``torch.nn.functional``
through autograd) and Keras 3.15.1 on its torch backend, run live: both come
from ``oracles``, so a missing one fails instead of skipping.
"""

from __future__ import annotations

import numpy as np
import oracles

from minitrain.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

LOG2 = float(np.log(2.0))


def numeric_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences ``(f(x + eps e_k) - f(x - eps e_k)) / (2 eps)`` for every entry k."""
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[k] += eps
        minus[k] -= eps
        grad[k] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max |a - n| / max(max(|a| + |n|), 1e-12)``, the measure ``gradcheck`` reports."""
    scale = max(float(np.max(np.abs(analytic) + np.abs(numeric))), 1e-12)
    return float(np.max(np.abs(analytic - numeric))) / scale


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def torch_value_and_grad(fn, y_pred: np.ndarray) -> tuple[float, np.ndarray]:
    """``fn`` of a float64 tensor holding ``y_pred``, and its gradient by autograd."""
    torch = oracles.torch()
    x = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    out = fn(x)
    out.backward()
    return out.item(), x.grad.numpy()


def keras_value_and_grad(keras_loss, y_true, y_pred, sample_weight=None):
    """A Keras loss object's value and its gradient by torch autograd, on float64 tensors.

    Build the Keras loss with ``dtype="float64"``. Keras 3.15.1 on the torch backend
    still rounds two steps to float32: ``ops.mean`` (the mean over the last axis of
    binary crossentropy and the regression losses) and the division by the batch
    size of ``sum_over_batch_size`` (Keras's ``result_type`` maps float64 to float32
    on that backend). So its results agree with float64 to ``KERAS_FLOAT32``
    relative; ``reduction="sum"`` avoids the second rounding, and data that are
    exact in float32 (``DYADIC_*``) avoid both, for bit-for-bit comparisons.
    """
    torch = oracles.torch()
    x = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    w = None if sample_weight is None else torch.tensor(sample_weight, dtype=torch.float64)
    out = keras_loss(torch.tensor(y_true, dtype=torch.float64), x, sample_weight=w)
    out.backward()
    return out.item(), x.grad.numpy()


KERAS_FLOAT32 = 1e-6
"""Relative agreement with a Keras result rounded to float32 on the way (see above)."""

# Small multiples of 1/8 with N = 4 samples and 2 columns: every difference, square,
# Huber value (delta 1 or 0.75), mean and weighted sum is exact in float32 and
# float64 alike, so Keras's float32 steps lose nothing. The differences p - t hit
# 0 (MAE's kink) and +-0.75 (Huber's boundary) exactly.
DYADIC_T = np.array([[0.5, -1.0], [2.0, 0.0], [0.25, -3.0], [1.0, 1.0]])
DYADIC_P = DYADIC_T + np.array([[0.0, 0.75], [-0.75, 0.625], [-0.875, 0.0], [4.0, -2.5]])
DYADIC_W = np.array([0.5, 2.0, 0.0, 1.25])


RNG = np.random.default_rng(20240611)
N, C = 5, 4
LABELS = np.array([0, 3, 1, 3, 2])
ONE_HOT = np.eye(C)[LABELS]
# Probability targets: rows of positive numbers summing to 1, not one-hot.
SOFT = RNG.uniform(0.1, 1.0, size=(N, C))
SOFT /= SOFT.sum(axis=1, keepdims=True)
LOGITS = RNG.normal(0.0, 2.0, size=(N, C))
# Unnormalised probabilities (rows sum to about 2.5), far from the clip: the
# row-normalisation term of the gradient matters.
PROBS = RNG.uniform(0.2, 1.0, size=(N, C))
VALUES = RNG.normal(size=(N, C))
TARGETS = RNG.normal(size=(N, C))
# Independent 0/1 labels and label probabilities for binary crossentropy.
BITS = RNG.integers(0, 2, size=(N, C)).astype(np.float64)
BIT_PROBS = RNG.uniform(0.0, 1.0, size=(N, C))
# Per-sample weights: one of them 0, none of them summing to N.
WEIGHTS = np.array([0.5, 2.0, 0.0, 1.25, 3.0])

# (id, loss, y_true, y_pred): every loss and both readings of y_pred, float64.
CASES = [
    ("cce-logits", CategoricalCrossentropy(from_logits=True), SOFT, LOGITS),
    ("cce-logits-onehot", CategoricalCrossentropy(from_logits=True), ONE_HOT, LOGITS),
    ("cce-logits-smooth",
     CategoricalCrossentropy(from_logits=True, label_smoothing=0.2), SOFT, LOGITS),
    ("cce-logits-targets-not-summing-to-1",
     CategoricalCrossentropy(from_logits=True), 1.7 * SOFT, LOGITS),
    ("cce-probs", CategoricalCrossentropy(), SOFT, PROBS),
    ("cce-probs-onehot", CategoricalCrossentropy(), ONE_HOT, PROBS),
    ("cce-probs-smooth", CategoricalCrossentropy(label_smoothing=0.3), ONE_HOT, PROBS),
    ("scce-logits", SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS),
    ("scce-probs", SparseCategoricalCrossentropy(), LABELS, PROBS),
    ("bce-logits", BinaryCrossentropy(from_logits=True), BITS, LOGITS),
    ("bce-logits-soft", BinaryCrossentropy(from_logits=True), BIT_PROBS, LOGITS),
    ("bce-logits-smooth", BinaryCrossentropy(from_logits=True, label_smoothing=0.2), BITS, LOGITS),
    ("bce-probs", BinaryCrossentropy(), BITS, BIT_PROBS),
    ("bce-probs-smooth",
     BinaryCrossentropy(label_smoothing=0.3), BIT_PROBS, BIT_PROBS[::-1].copy()),
    ("mse", MeanSquaredError(), TARGETS, VALUES),
    ("mae", MeanAbsoluteError(), TARGETS, VALUES),
    ("huber", Huber(), TARGETS, VALUES),
    ("huber-delta-0.3", Huber(delta=0.3), TARGETS, VALUES),
]  # fmt: skip
CASE_IDS = [c[0] for c in CASES]
