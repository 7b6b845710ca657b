"""Loss properties over random shapes, dtypes, seeds and logit magnitudes.

- crossentropy from logits stays finite (value and gradient) for logits of
  magnitude up to 1e4 in float32, and matches a float64 log-softmax of the
  same logits to float32 rounding;
- adding a constant to every logit of a row changes neither value nor gradient;
- categorical and sparse categorical crossentropy agree on every
  (labels, one-hot) pair, from logits and from probabilities;
- binary crossentropy from logits stays finite for logits up to 1e4 in
  float32 and matches a float64 ``log_expit`` reference to float32 rounding;
- integer sample weights count each sample that many times, for every loss.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit, log_expit, log_softmax, softmax

from minitrain.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

from . import BATCH, DTYPES, SEED, WIDTH, examples, normal

CLASSES = st.integers(2, 40)
MAGNITUDE = st.sampled_from([1.0, 10.0, 100.0, 1e3, 1e4])


def _logits(seed, n, c, magnitude, dtype):
    """Logits of magnitude up to ``magnitude``: uniform draws, with one row entry
    pinned at +-magnitude so the extremes are always present."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-magnitude, magnitude, (n, c))
    z[np.arange(n), rng.integers(0, c, n)] = magnitude * rng.choice([-1.0, 1.0], n)
    return z.astype(dtype)


def _reference(z, labels):
    """Mean crossentropy and its gradient, in float64, from the same logits."""
    z64 = z.astype(np.float64)
    n = len(z64)
    value = -np.mean(log_softmax(z64, axis=1)[np.arange(n), labels])
    grad = softmax(z64, axis=1)
    grad[np.arange(n), labels] -= 1
    return value, grad / n


def _one_hot(labels, c, dtype):
    t = np.zeros((len(labels), c), dtype=dtype)
    t[np.arange(len(labels)), labels] = 1
    return t


@pytest.mark.parametrize("sparse", [False, True], ids=["categorical", "sparse"])
@given(n=BATCH, c=CLASSES, seed=SEED, magnitude=MAGNITUDE)
def test_crossentropy_from_logits_stays_finite_in_float32_up_to_1e4(sparse, n, c, seed, magnitude):
    z = _logits(seed, n, c, magnitude, np.float32)
    labels = np.random.default_rng(seed + 1).integers(0, c, n)
    if sparse:
        loss, target = SparseCategoricalCrossentropy(from_logits=True), labels
    else:
        loss, target = CategoricalCrossentropy(from_logits=True), _one_hot(labels, c, np.float32)
    # Any overflow, division by zero or NaN on the way is an error (exp underflowing
    # to 0 is expected and fine).
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value, grad = loss(target, z), loss.gradient(target, z)
    assert np.isfinite(value) and value >= 0
    assert grad.dtype == np.float32 and np.all(np.isfinite(grad))
    ref_value, ref_grad = _reference(z, labels)
    # The per-row loss is log-sum-exp minus the label's shifted logit: both
    # non-negative, so no cancellation; float32 sums of up to 64 rows carry at
    # most ~64 ulps of relative error.
    assert abs(value - ref_value) <= 1e-5 * ref_value + 1e-6
    # Each gradient entry is softmax - one-hot over N, in [-1/N, 1/N].
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-6 / n)
    # Rows of softmax - one-hot sum to 0.
    np.testing.assert_allclose(grad.sum(axis=1, dtype=np.float64), 0, atol=c * 1e-7 / n)


@pytest.mark.parametrize("sparse", [False, True], ids=["categorical", "sparse"])
@given(dtype=DTYPES, n=BATCH, c=CLASSES, seed=SEED, shift=st.integers(-(2**20), 2**20))
def test_crossentropy_from_logits_is_unchanged_by_a_constant_shift(
    sparse, dtype, n, c, seed, shift
):
    # Logits and shift are multiples of 2**-10 below 2**11 in magnitude, so the
    # shift is exact even in float32, and so is the row-max subtraction: value and
    # gradient must agree to the last bit.
    rng = np.random.default_rng(seed)
    z = (rng.integers(-(2**16), 2**16, size=(n, c)) / 2**10).astype(dtype)
    z_shifted = z + dtype(shift / 2**10)
    labels = rng.integers(0, c, n)
    if sparse:
        loss, target = SparseCategoricalCrossentropy(from_logits=True), labels
    else:
        loss, target = CategoricalCrossentropy(from_logits=True), _one_hot(labels, c, dtype)
    assert loss(target, z_shifted) == loss(target, z)
    assert loss.gradient(target, z_shifted).tobytes() == loss.gradient(target, z).tobytes()


@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
@given(dtype=DTYPES, n=BATCH, c=CLASSES, seed=SEED, label_shape=st.sampled_from(["(N,)", "(N, 1)"]))
def test_categorical_and_sparse_crossentropy_agree_on_every_label_one_hot_pair(
    from_logits, dtype, n, c, seed, label_shape
):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    one_hot = _one_hot(labels, c, dtype)
    if from_logits:
        y_pred = normal(seed, (n, c), dtype, scale=5.0)
    else:
        # Probabilities, some rows unnormalised and some entries tiny enough to be clipped.
        y_pred = rng.dirichlet(np.full(c, 0.3), n) * rng.uniform(0.5, 2.0, (n, 1))
        y_pred = np.maximum(y_pred, 1e-12).astype(dtype)
    sparse_labels = labels if label_shape == "(N,)" else labels[:, None]
    categorical = CategoricalCrossentropy(from_logits=from_logits)
    sparse = SparseCategoricalCrossentropy(from_logits=from_logits)
    eps = np.finfo(dtype).eps
    value_c, value_s = categorical(one_hot, y_pred), sparse(sparse_labels, y_pred)
    # The two sum the same terms in different orders (and the categorical one adds
    # zeros): they agree to the rounding of a sum of n terms.
    assert abs(value_c - value_s) <= 4 * n * eps * (abs(value_s) + 1)
    grad_c, grad_s = categorical.gradient(one_hot, y_pred), sparse.gradient(sparse_labels, y_pred)
    assert grad_c.dtype == grad_s.dtype == dtype
    scale = np.abs(grad_s).max()
    np.testing.assert_allclose(grad_c, grad_s, rtol=16 * eps, atol=16 * eps * scale)


@given(n=BATCH, k=WIDTH, seed=SEED, magnitude=MAGNITUDE, label_smoothing=st.sampled_from([0, 0.1]))
def test_binary_crossentropy_from_logits_stays_finite_in_float32_up_to_1e4(
    n, k, seed, magnitude, label_smoothing
):
    z = _logits(seed, n, k, magnitude, np.float32)
    t = np.random.default_rng(seed + 1).uniform(0, 1, (n, k)).round(1).astype(np.float32)
    loss = BinaryCrossentropy(from_logits=True, label_smoothing=label_smoothing)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value, grad = loss(t, z), loss.gradient(t, z)
    assert grad.dtype == np.float32 and np.all(np.isfinite(grad))
    # float64 reference: -(t log sigmoid(z) + (1 - t) log sigmoid(-z)), gradient sigmoid(z) - t.
    z64 = z.astype(np.float64)
    t64 = t.astype(np.float64) * (1 - label_smoothing) + 0.5 * label_smoothing
    ref = -(t64 * log_expit(z64) + (1 - t64) * log_expit(-z64))
    # Each term is non-negative, but max(z, 0) - z t cancels for large z and t near 1:
    # the error is float32 rounding of the size of |z|, not of the result.
    assert abs(value - ref.mean()) <= 1e-6 * (np.abs(z64).mean() + ref.mean()) + 1e-7
    np.testing.assert_allclose(grad, (expit(z64) - t64) / z.size, rtol=1e-4, atol=1e-6 / z.size)


LOSSES = st.sampled_from(
    [
        CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        SparseCategoricalCrossentropy(from_logits=True),
        BinaryCrossentropy(from_logits=True),
        MeanSquaredError(),
        MeanAbsoluteError(),
        Huber(delta=0.5),
    ]
)


@examples(0.25)
@given(loss=LOSSES, n=BATCH, c=CLASSES, seed=SEED)
def test_integer_sample_weights_count_each_sample_that_many_times(loss, n, c, seed):
    # sum_i w_i l_i / N over the batch equals the plain mean over the batch with sample i
    # repeated w_i times, times (sum w) / N: Keras's divisor is N, not sum(w).
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, (n, c))
    if isinstance(loss, SparseCategoricalCrossentropy):
        y = rng.integers(0, c, n)
    elif isinstance(loss, CategoricalCrossentropy):
        y = _one_hot(rng.integers(0, c, n), c, np.float64)
    elif isinstance(loss, BinaryCrossentropy):
        y = rng.integers(0, 2, (n, c)).astype(np.float64)
    else:
        y = rng.normal(0, 1, (n, c))
    counts = rng.integers(0, 4, n)
    counts[0] = max(counts[0], 1)  # at least one sample remains
    rows = np.repeat(np.arange(n), counts)
    weighted = loss(y, z, counts)
    assert weighted == pytest.approx(loss(y[rows], z[rows]) * counts.sum() / n, rel=1e-12)
    grad = loss.gradient(y, z, counts)
    # The gradient of a repeated sample is the sum over its copies.
    repeated = loss.gradient(y[rows], z[rows]) * len(rows) / n
    summed = np.zeros_like(z)
    np.add.at(summed, rows, repeated)
    np.testing.assert_allclose(grad, summed, rtol=1e-12, atol=1e-15)
