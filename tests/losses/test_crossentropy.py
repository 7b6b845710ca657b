"""Tests for minitrain.losses: values, gradients, Keras/PyTorch agreement, errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from minitrain import losses
from minitrain.losses import (
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # PyTorch is a test extra; its cross-checks are skipped without it
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

LOG2 = float(np.log(2.0))


# ------------------------------------------------------------------- oracles and data


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


def keras_crossentropy(t: np.ndarray, p: np.ndarray) -> float:
    """Keras's probability crossentropy, written out: -mean(sum(t * log(clip(p / sum p))))."""
    q = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.sum(t * np.log(np.clip(q, 1e-7, 1 - 1e-7)), axis=1)))


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
    ("mse", MeanSquaredError(), TARGETS, VALUES),
]  # fmt: skip
CASE_IDS = [c[0] for c in CASES]


# -------------------------------------------------------------- gradient checks


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_gradient_matches_central_differences_in_float64(name, loss, y_true, y_pred):
    analytic = loss.gradient(y_true, y_pred)
    numeric = numeric_gradient(lambda p: loss(y_true, p), y_pred)
    assert analytic.shape == y_pred.shape
    assert relative_error(analytic, numeric) < 1e-7


def test_clipped_probabilities_match_finite_differences_and_hand_values():
    # Row 0: p = [0.6, 0.4, 1e-8], t = [0.2, 0.5, 0.3]; s = 1 + 1e-8, so q_2 ~ 1e-8
    #   is clipped to 1e-7 (its -t/r term is cut) while q_0, q_1 pass.
    #   With g = (sum_j t_j [inside_j] - t [inside] / q) / (N s), N = 2, s ~ 1:
    #   sum t[inside] = 0.7; g ~ [(0.7 - 0.2/0.6), (0.7 - 0.5/0.4), 0.7] / 2
    #                          = [0.18333.., -0.275, 0.35]
    # Row 1: p = [1, 1e-8, 1e-8], t = [1, 0, 0]: q_0 ~ 1 - 2e-8 is clipped to
    #   1 - 1e-7 and the others to 1e-7; nothing passes, so the row's gradient is 0
    #   and its loss is -log(1 - 1e-7).
    t = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    p = np.array([[0.6, 0.4, 1e-8], [1.0, 1e-8, 1e-8]])
    loss = CategoricalCrossentropy()
    grad = loss.gradient(t, p)
    s0 = 1.0 + 1e-8
    q0, q1 = 0.6 / s0, 0.4 / s0
    expected = np.array(
        [[(0.7 - 0.2 / q0) / (2 * s0), (0.7 - 0.5 / q1) / (2 * s0), 0.7 / (2 * s0)], [0, 0, 0]]
    )
    np.testing.assert_allclose(grad, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(grad[0], [0.55 / 3, -0.275, 0.35], rtol=1e-7)
    value = -(0.2 * np.log(q0) + 0.5 * np.log(q1) + 0.3 * np.log(1e-7))
    value = (value - np.log(1 - 1e-7)) / 2
    assert loss(t, p) == pytest.approx(value, rel=1e-15)
    # A step of 1e-9 keeps every q on its side of the clip (1e-8 +- 1e-9 < 1e-7).
    numeric = numeric_gradient(lambda x: loss(t, x), p, eps=1e-9)
    assert relative_error(grad, numeric) < 1e-7


def test_sparse_clipped_probability_has_only_the_normalisation_gradient():
    # p = [[1e-12, 0.5, 0.5]], label 0: q_0 = 1e-12 is clipped, so the loss is
    # -log(1e-7) and flat in every p: the gradient is exactly 0.
    loss = SparseCategoricalCrossentropy()
    p = np.array([[1e-12, 0.5, 0.5]])
    assert loss(np.array([0]), p) == pytest.approx(-np.log(1e-7), rel=1e-15)
    np.testing.assert_array_equal(loss.gradient(np.array([0]), p), np.zeros((1, 3)))


@pytest.mark.parametrize(
    "mistake",
    [
        "times N (no mean)",
        "no row-normalisation term",
        "one entry off by 1e-6 of the largest",
        "transposed sign",
    ],
)
def test_central_difference_check_detects_a_wrong_gradient(mistake):
    loss = CategoricalCrossentropy()
    grad = loss.gradient(SOFT, PROBS)
    if mistake == "times N (no mean)":
        wrong = grad * N
    elif mistake == "no row-normalisation term":
        # The derivative of -t log(p / s) taken as if s were a constant.
        wrong = -SOFT / PROBS / N
    elif mistake == "one entry off by 1e-6 of the largest":
        wrong = grad.copy()
        wrong[2, 1] += 1e-6 * np.abs(grad).max()
    else:
        wrong = -grad
    numeric = numeric_gradient(lambda p: loss(SOFT, p), PROBS)
    assert relative_error(grad, numeric) < 1e-7
    assert relative_error(wrong, numeric) > 1e-7


# ------------------------------------------------------------------ hand-worked values


def test_probability_crossentropy_worked_by_hand():
    # 2 samples, 3 classes, N = 2.
    # Row 0: p = [0.2, 0.3, 0.5] (sums to 1), t = [0, 0, 1]: loss -log 0.5 = log 2.
    # Row 1: p = [2, 1, 1] sums to 4, so q = [0.5, 0.25, 0.25]; t = [0, 1, 0]:
    #        loss -log 0.25 = 2 log 2.
    # L = (log 2 + 2 log 2) / 2 = 1.5 log 2 = 1.0397207708399179.
    # Gradient g = (sum_j t_j - t / q) / (N s):
    #   row 0: s = 1, t/q = [0, 0, 2] -> (1 - [0, 0, 2]) / 2 = [0.5, 0.5, -0.5]
    #   row 1: s = 4, t/q = [0, 4, 0] -> (1 - [0, 4, 0]) / 8 = [0.125, -0.375, 0.125]
    p = np.array([[0.2, 0.3, 0.5], [2.0, 1.0, 1.0]])
    t = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    labels = np.array([2, 1])
    expected_grad = np.array([[0.5, 0.5, -0.5], [0.125, -0.375, 0.125]])
    for loss, y in ((CategoricalCrossentropy(), t), (SparseCategoricalCrossentropy(), labels)):
        assert loss(y, p) == pytest.approx(1.5 * LOG2, rel=1e-15)
        np.testing.assert_allclose(loss.gradient(y, p), expected_grad, rtol=1e-15, atol=0)


def test_logit_crossentropy_worked_by_hand():
    # z = [0, 0, log 2]: exp(z) = [1, 1, 2], s = 4, softmax = [0.25, 0.25, 0.5].
    # t = [0, 0, 1]: loss = -log 0.5 = log 2; gradient = softmax - t = [0.25, 0.25, -0.5].
    # With label_smoothing = 0.3, C = 3: t = [0, 0, 1] * 0.7 + 0.1 = [0.1, 0.1, 0.8];
    #   loss = -(0.1 log 0.25 + 0.1 log 0.25 + 0.8 log 0.5) = (0.4 + 0.8) log 2 = 1.2 log 2,
    #   gradient = softmax - t = [0.15, 0.15, -0.3].
    z = np.array([[0.0, 0.0, LOG2]])
    t = np.array([[0.0, 0.0, 1.0]])
    plain = CategoricalCrossentropy(from_logits=True)
    assert plain(t, z) == pytest.approx(LOG2, rel=1e-15)
    np.testing.assert_allclose(plain.gradient(t, z), [[0.25, 0.25, -0.5]], rtol=1e-15)
    smooth = CategoricalCrossentropy(from_logits=True, label_smoothing=0.3)
    assert smooth(t, z) == pytest.approx(1.2 * LOG2, rel=1e-15)
    np.testing.assert_allclose(smooth.gradient(t, z), [[0.15, 0.15, -0.3]], rtol=1e-14)
    # The same smoothing on the probabilities [0.25, 0.25, 0.5] gives the same loss.
    probs = CategoricalCrossentropy(label_smoothing=0.3)
    assert probs(t, np.array([[0.25, 0.25, 0.5]])) == pytest.approx(1.2 * LOG2, rel=1e-15)


def test_mean_squared_error_worked_by_hand():
    # p - t = [[1, -2], [0, 3]]: squares 1, 4, 0, 9, mean over N C = 4 entries = 14 / 4 = 3.5.
    # Gradient 2 (p - t) / 4 = [[0.5, -1], [0, 1.5]].
    p = np.array([[1.0, 0.0], [2.0, 3.0]])
    t = np.array([[0.0, 2.0], [2.0, 0.0]])
    loss = MeanSquaredError()
    assert loss(t, p) == 3.5
    np.testing.assert_array_equal(loss.gradient(t, p), [[0.5, -1.0], [0.0, 1.5]])


KERAS_TABLE = [
    # (targets, probabilities): normalised, unnormalised, clipped low and high, soft targets.
    ([[0, 1, 0]], [[0.1, 0.7, 0.2]]),
    ([[0, 0, 1], [1, 0, 0]], [[3.0, 1.0, 1.0], [0.5, 0.25, 0.25]]),
    ([[1, 0, 0]], [[0.0, 0.4, 0.6]]),
    ([[1, 0, 0]], [[1.0, 0.0, 0.0]]),
    ([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]], [[1e-9, 2.0, 7.0], [0.3, 0.3, 0.4]]),
]


@pytest.mark.parametrize(("t", "p"), KERAS_TABLE)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_probability_crossentropy_is_keras_formula(t, p, label_smoothing):
    t, p = np.array(t, dtype=float), np.array(p)
    smoothed = t * (1 - label_smoothing) + label_smoothing / t.shape[1]
    loss = CategoricalCrossentropy(label_smoothing=label_smoothing)
    assert loss(t, p) == pytest.approx(keras_crossentropy(smoothed, p), rel=1e-14)


@pytest.mark.parametrize(("t", "p"), KERAS_TABLE[:4])
def test_sparse_probability_crossentropy_is_keras_formula(t, p):
    t, p = np.array(t, dtype=float), np.array(p)
    loss = SparseCategoricalCrossentropy()
    assert loss(t.argmax(axis=1), p) == pytest.approx(keras_crossentropy(t, p), rel=1e-14)


# ----------------------------------------------------------------- PyTorch cross-checks


def torch_value_and_grad(fn, y_pred: np.ndarray) -> tuple[float, np.ndarray]:
    x = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    out = fn(x)
    out.backward()
    return out.item(), x.grad.numpy()


@needs_torch
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.35])
@pytest.mark.parametrize("targets", ["soft", "onehot"])
def test_logit_crossentropy_matches_torch_cross_entropy(label_smoothing, targets):
    t = SOFT if targets == "soft" else ONE_HOT
    loss = CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing)
    ref_value, ref_grad = torch_value_and_grad(
        lambda z: F.cross_entropy(z, torch.tensor(t), label_smoothing=label_smoothing), LOGITS
    )
    assert loss(t, LOGITS) == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(t, LOGITS), ref_grad, rtol=1e-12, atol=1e-16)


@needs_torch
def test_sparse_crossentropy_matches_torch_cross_entropy_with_indices():
    loss = SparseCategoricalCrossentropy(from_logits=True)
    ref_value, ref_grad = torch_value_and_grad(
        lambda z: F.cross_entropy(z, torch.tensor(LABELS)), LOGITS
    )
    assert loss(LABELS, LOGITS) == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(LABELS, LOGITS), ref_grad, rtol=1e-12, atol=1e-16)


@needs_torch
def test_mean_squared_error_matches_torch_mse_loss():
    loss = MeanSquaredError()
    ref_value, ref_grad = torch_value_and_grad(
        lambda p: F.mse_loss(p, torch.tensor(TARGETS)), VALUES
    )
    assert loss(TARGETS, VALUES) == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(TARGETS, VALUES), ref_grad, rtol=1e-12, atol=1e-16)


@needs_torch
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_probability_crossentropy_gradient_matches_torch_autograd_of_keras_formula(
    label_smoothing,
):
    # The Keras computation (divide by the row sum, clip, log) differentiated by
    # autograd, with some entries clipped low and one row clipped high.
    p = np.vstack([PROBS, [[1e-12, 0.3, 0.7, 1e-10], [1.0, 1e-12, 1e-12, 1e-12]]])
    t = np.vstack([SOFT, [[0.4, 0.1, 0.2, 0.3], [0.5, 0.5, 0.0, 0.0]]])
    smoothed = torch.tensor(t * (1 - label_smoothing) + label_smoothing / C)

    def keras_formula(x):
        q = (x / x.sum(dim=1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -(smoothed * q.log()).sum(dim=1).mean()

    ref_value, ref_grad = torch_value_and_grad(keras_formula, p)
    loss = CategoricalCrossentropy(label_smoothing=label_smoothing)
    assert loss(t, p) == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(t, p), ref_grad, rtol=1e-12, atol=1e-16)


# ------------------------------------------------------- the losses agree with each other


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize(
    "labels",
    [
        LABELS,
        LABELS[:, None],
        LABELS.astype(np.int8),
        LABELS.astype(np.uint8),
        LABELS.astype(np.float64),
    ],
    ids=["int64 (N,)", "int64 (N, 1)", "int8", "uint8", "integral float"],
)
def test_sparse_and_categorical_agree_on_labels_and_one_hot(from_logits, labels):
    y_pred = LOGITS if from_logits else PROBS
    sparse = SparseCategoricalCrossentropy(from_logits=from_logits)
    dense = CategoricalCrossentropy(from_logits=from_logits)
    assert sparse(labels, y_pred) == pytest.approx(dense(ONE_HOT, y_pred), rel=1e-15)
    np.testing.assert_allclose(
        sparse.gradient(labels, y_pred), dense.gradient(ONE_HOT, y_pred), rtol=1e-15, atol=1e-17
    )


@pytest.mark.parametrize(
    ("on_probs", "on_logits", "y"),
    [
        (CategoricalCrossentropy(), CategoricalCrossentropy(from_logits=True), SOFT),
        (CategoricalCrossentropy(), CategoricalCrossentropy(from_logits=True), ONE_HOT),
        (
            CategoricalCrossentropy(label_smoothing=0.25),
            CategoricalCrossentropy(from_logits=True, label_smoothing=0.25),
            SOFT,
        ),
        (SparseCategoricalCrossentropy(), SparseCategoricalCrossentropy(from_logits=True), LABELS),
    ],
    ids=["categorical-soft", "categorical-onehot", "categorical-smoothed", "sparse"],
)
def test_softmax_then_probabilities_equals_from_logits(on_probs, on_logits, y):
    # A model ending in Softmax with from_logits=False must train exactly like the
    # same model without Softmax and from_logits=True: same loss, and the gradient
    # w.r.t. the probabilities chained through the softmax Jacobian
    # J_jk = dp_j/dz_k = p_j (delta_jk - p_k) equals the fused logit gradient.
    p = softmax(LOGITS)
    jacobian = p[:, :, None] * (np.eye(C)[None] - p[:, None, :])  # (N, C, C)
    chained = np.einsum("nj,njk->nk", on_probs.gradient(y, p), jacobian)
    assert on_probs(y, p) == pytest.approx(on_logits(y, LOGITS), rel=1e-13)
    np.testing.assert_allclose(chained, on_logits.gradient(y, LOGITS), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_hot_path_equals_checked_path(name, loss, y_true, y_pred):
    t = loss.prepare_targets(y_true, y_pred.shape[1], y_pred.dtype)
    value, grad = loss.value_and_gradient(t, y_pred)
    assert value == loss.value(t, y_pred) == loss(y_true, y_pred)
    np.testing.assert_array_equal(grad, loss.gradient(y_true, y_pred))
    assert type(value) is float
    assert type(loss.value(t, y_pred)) is float
    assert type(loss(y_true, y_pred)) is float


# --------------------------------------------------------------- dtypes and large logits


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("target_dtype", [np.float64, np.float32])
def test_float32_predictions_give_float32_gradients(name, loss, y_true, y_pred, target_dtype):
    p32 = y_pred.astype(np.float32)
    y = y_true if y_true.dtype.kind == "i" else y_true.astype(target_dtype)
    grad = loss.gradient(y, p32)
    assert grad.dtype == np.float32
    t = loss.prepare_targets(y, C, np.float32)
    assert t.dtype == (np.intp if y.dtype.kind == "i" else np.float32)
    value, hot_grad = loss.value_and_gradient(t, p32)
    assert hot_grad.dtype == np.float32
    assert type(value) is float
    # float32 arithmetic throughout, so within float32 rounding of the float64 result.
    assert value == pytest.approx(loss(y_true, y_pred), rel=1e-5)
    np.testing.assert_allclose(grad, loss.gradient(y_true, y_pred), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_stay_finite_and_exact(dtype):
    # Row 0: the label holds the largest logit: softmax = [1, 0, 0] (exp(-1e4) underflows),
    #        loss log(1 + 2 exp(-1e4)) = 0 in floating point.
    # Row 1: the label holds -1e4 and the largest is 1e4: loss = 1e4 - (-1e4) = 2e4.
    # L = (0 + 2e4) / 2 = 1e4; gradient (softmax - t) / 2.
    z = np.array([[1e4, -1e4, 0.0], [1e4, 0.0, -1e4]], dtype=dtype)
    labels = np.array([0, 2])
    t = np.eye(3, dtype=dtype)[labels]
    expected_grad = np.array([[0, 0, 0], [0.5, 0, -0.5]], dtype=dtype)
    for loss, y in (
        (CategoricalCrossentropy(from_logits=True), t),
        (CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), t),
        (SparseCategoricalCrossentropy(from_logits=True), labels),
    ):
        prepared = loss.prepare_targets(y, 3, dtype)
        value, grad = loss.value_and_gradient(prepared, z)
        assert np.isfinite(value)
        assert np.isfinite(grad).all()
        assert loss.value(prepared, z) == value == loss(y, z)
        if getattr(loss, "label_smoothing", 0.0) == 0.0:
            assert value == 1e4
            np.testing.assert_array_equal(grad, expected_grad)


# ---------------------------------------------------------------- inputs left untouched


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_are_never_modified(name, loss, y_true, y_pred, dtype):
    y_pred = y_pred.astype(dtype)
    y_true = y_true.astype(dtype) if y_true.dtype.kind == "f" else y_true
    keep_true, keep_pred = y_true.copy(), y_pred.copy()
    t = loss.prepare_targets(y_true, C, dtype)
    keep_t = t.copy()
    loss(y_true, y_pred)
    grad = loss.gradient(y_true, y_pred)
    loss.value(t, y_pred)
    hot_grad = loss.value_and_gradient(t, y_pred)[1]
    np.testing.assert_array_equal(y_true, keep_true)
    np.testing.assert_array_equal(y_pred, keep_pred)
    np.testing.assert_array_equal(t, keep_t)
    for g in (grad, hot_grad):
        assert not np.shares_memory(g, y_pred)
        assert not np.shares_memory(g, y_true)


# ------------------------------------------------------------------------- targets


def test_prepare_targets_forms():
    sparse = SparseCategoricalCrossentropy()
    labels = sparse.prepare_targets(np.array([[2], [0], [1]], dtype=np.int8), 3, np.float32)
    assert labels.dtype == np.intp
    np.testing.assert_array_equal(labels, [2, 0, 1])
    floats = sparse.prepare_targets(np.array([2.0, 0.0]), 3, np.float64)
    np.testing.assert_array_equal(floats, [2, 0])
    assert floats.dtype == np.intp

    onehot = CategoricalCrossentropy().prepare_targets(ONE_HOT, C, np.float32)
    assert onehot.dtype == np.float32
    np.testing.assert_array_equal(onehot, ONE_HOT)
    as_int = CategoricalCrossentropy().prepare_targets(np.eye(3, dtype=np.int64), 3, "float64")
    assert as_int.dtype == np.float64
    np.testing.assert_array_equal(as_int, np.eye(3))

    mse = MeanSquaredError()
    column = mse.prepare_targets(np.array([1.0, 2.0, 3.0]), 1, np.float32)
    assert column.shape == (3, 1)
    assert column.dtype == np.float32
    np.testing.assert_array_equal(column[:, 0], [1, 2, 3])


def test_mse_accepts_one_dimensional_targets_for_one_output():
    # (N,) targets and one output: the same as (N, 1); p - t = [1, -1, 2], mean of squares 2.
    p = np.array([[1.0], [0.0], [5.0]])
    t = np.array([0.0, 1.0, 3.0])
    loss = MeanSquaredError()
    assert loss(t, p) == 2.0
    np.testing.assert_allclose(loss.gradient(t, p), [[2 / 3], [-2 / 3], [4 / 3]], rtol=1e-15)


# -------------------------------------------------------------------------- errors

P3 = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
T3 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
ALL_LOSSES = [
    CategoricalCrossentropy(),
    CategoricalCrossentropy(from_logits=True),
    SparseCategoricalCrossentropy(),
    SparseCategoricalCrossentropy(from_logits=True),
    MeanSquaredError(),
]


def scalar(text: str) -> str:
    """A pattern for a NumPy scalar in a message: ``3`` or NumPy 2's repr ``np.int64(3)``."""
    return rf"(np\.\w+\()?{re.escape(text)}\)?$"


def targets_for(loss):
    return np.array([2, 0]) if isinstance(loss, SparseCategoricalCrossentropy) else T3


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
@pytest.mark.parametrize(
    ("y_pred", "error", "message"),
    [
        (P3[0], ValueError, r"y_pred must be 2-D of shape \(N, features\), got shape \(3,\)"),
        (P3[None], ValueError, r"y_pred must be 2-D .* got shape \(1, 2, 3\)"),
        (P3.tolist(), TypeError, r"y_pred must be a NumPy array of shape \(N, features\)"),
        (np.ones((2, 3), dtype=np.int64), TypeError, "y_pred must be a float32 or float64 array"),
        (np.ones((0, 3)), ValueError, r"y_pred must hold at least one sample, got shape \(0, 3\)"),
        (np.array([[0.2, 0.3, 0.5], [0.1, np.nan, 0.8]]), ValueError,
         "y_pred must be finite, got NaN or inf in row 1"),
        (np.array([[np.inf, 0.3, 0.5], [0.1, 0.1, 0.8]]), ValueError,
         "y_pred must be finite, got NaN or inf in row 0"),
    ],
)  # fmt: skip
def test_bad_predictions_are_rejected(loss, y_pred, error, message):
    for method in (loss, loss.gradient):
        with pytest.raises(error, match=message):
            method(targets_for(loss), y_pred)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_length_mismatch_is_rejected(loss):
    y = targets_for(loss)[:1]
    for method in (loss, loss.gradient):
        with pytest.raises(
            ValueError, match="y_true and y_pred must hold the same number of samples, got 1 and 2"
        ):
            method(y, P3)


@pytest.mark.parametrize(
    ("loss", "y_true", "error", "message"),
    [
        (CategoricalCrossentropy(), np.ones((2, 4)) / 4, ValueError,
         r"y_true must be one-hot or probability targets of shape \(N, 3\), got shape \(2, 4\)$"),
        (CategoricalCrossentropy(), np.array([2, 0]), ValueError,
         r"got shape \(2,\); integer class labels go with SparseCategoricalCrossentropy"),
        (CategoricalCrossentropy(), T3.tolist(), TypeError, "y_true must be a NumPy array"),
        (CategoricalCrossentropy(), T3.astype(str), TypeError, "y_true must hold numbers"),
        (CategoricalCrossentropy(), np.array([[0, 0, 1.0], [np.inf, 0, 0]]), ValueError,
         "y_true must be finite, got NaN or inf in row 1"),
        (SparseCategoricalCrossentropy(), np.array([2, 3]), ValueError,
         r"y_true must be labels in \[0, 3\), got " + scalar("3")),
        (SparseCategoricalCrossentropy(), np.array([-1, 0]), ValueError,
         r"y_true must be labels in \[0, 3\), got " + scalar("-1")),
        (SparseCategoricalCrossentropy(), np.array([[7], [0]], dtype=np.uint8), ValueError,
         r"y_true must be labels in \[0, 3\), got " + scalar("7")),
        (SparseCategoricalCrossentropy(), np.array([1.5, 0.0]), ValueError,
         "y_true must be integer labels, got the non-integral value " + scalar("1.5")),
        (SparseCategoricalCrossentropy(), np.array([np.nan, 0.0]), ValueError,
         "y_true must be finite integer labels"),
        (SparseCategoricalCrossentropy(), np.array([True, False]), TypeError,
         "y_true must hold integer labels, got dtype bool"),
        (SparseCategoricalCrossentropy(), T3, ValueError,
         r"shape \(2, 3\); one-hot targets go with CategoricalCrossentropy"),
        (SparseCategoricalCrossentropy(), [2, 0], TypeError,
         "y_true must be a NumPy array of integer labels"),
        (MeanSquaredError(), np.ones((2, 2)), ValueError,
         r"y_true must be targets of shape \(N, 3\), got shape \(2, 2\)"),
        (MeanSquaredError(), np.ones(2), ValueError,
         r"y_true must be targets of shape \(N, 3\), got shape \(2,\)$"),
        (MeanSquaredError(), np.full((2, 3), 1e300), ValueError,
         "y_true must be finite, got NaN or inf in row 0"),
    ],
)  # fmt: skip
def test_bad_targets_are_rejected(loss, y_true, error, message):
    # 1e300 is finite in float64 and inf once cast to float32, the dtype of y_pred.
    y_pred = P3.astype(np.float32) if isinstance(loss, MeanSquaredError) else P3
    for method in (loss, loss.gradient):
        with pytest.raises(error, match=message):
            method(y_true, y_pred)


@pytest.mark.parametrize("loss", ALL_LOSSES[:4:2], ids=repr)
@pytest.mark.parametrize(
    ("y_pred", "message"),
    [
        (np.array([[0.2, 0.3, 0.5], [2.0, -1.0, 0.5]]),
         "y_pred must be probabilities .* when from_logits=False, got a negative value in row 1.*"
         "pass from_logits=True"),
        (np.array([[0.2, 0.3, 0.5], [0.0, 0.0, 0.0]]),
         "y_pred must be probabilities with a positive sum in each row, got row 1"),
    ],
)  # fmt: skip
def test_probabilities_must_be_non_negative_with_a_positive_sum(loss, y_pred, message):
    for method in (loss, loss.gradient):
        with pytest.raises(ValueError, match=message):
            method(targets_for(loss), y_pred)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_prepare_targets_names_y_and_checks_its_arguments(loss):
    y = targets_for(loss)
    with pytest.raises(ValueError, match=r"^y must hold at least one sample"):
        loss.prepare_targets(y[:0], 3, np.float32)
    with pytest.raises(ValueError, match="^y must"):
        loss.prepare_targets(np.full((2, 5), 7), 3, np.float32)
    with pytest.raises(ValueError, match="num_outputs must be a positive int, got 0"):
        loss.prepare_targets(y, 0, np.float32)
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got int32"):
        loss.prepare_targets(y, 3, np.int32)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: CategoricalCrossentropy(from_logits=1), TypeError,
         r"from_logits must be a bool, got 1 \(int\)"),
        (lambda: SparseCategoricalCrossentropy(from_logits="yes"), TypeError,
         "from_logits must be a bool, got 'yes'"),
        (lambda: CategoricalCrossentropy(label_smoothing=1.5), ValueError,
         r"label_smoothing must be a real number in \[0.0, 1.0\], got 1.5"),
        (lambda: CategoricalCrossentropy(label_smoothing=-0.1), ValueError,
         r"label_smoothing must be a real number in \[0.0, 1.0\], got -0.1"),
        (lambda: CategoricalCrossentropy(label_smoothing="0.1"), TypeError,
         "label_smoothing must be a real number"),
    ],
)  # fmt: skip
def test_bad_constructor_arguments_are_rejected(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ------------------------------------------------------------ names and configuration


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("categorical_crossentropy", CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy),
        ("mse", MeanSquaredError),
        ("mean_squared_error", MeanSquaredError),
    ],
)
@pytest.mark.parametrize("from_logits", [False, True])
def test_get_builds_the_named_loss(name, cls, from_logits):
    loss = losses.get(name, from_logits=from_logits)
    assert type(loss) is cls
    # Mean squared error has no from_logits switch: it reads the raw outputs.
    assert loss.from_logits is (from_logits and cls is not MeanSquaredError)


def test_get_returns_a_loss_object_unchanged():
    loss = CategoricalCrossentropy(label_smoothing=0.1)
    assert losses.get(loss) is loss
    assert losses.get(loss, from_logits=True) is loss


@pytest.mark.parametrize(
    ("arg", "error", "message"),
    [
        ("crossentropy", ValueError,
         "loss must be one of 'categorical_crossentropy', 'sparse_categorical_crossentropy', "
         "'mse', 'mean_squared_error', got 'crossentropy'"),
        ("MSE", ValueError, "got 'MSE'"),
        (3, TypeError, r"loss must be a Loss or one of 'categorical_crossentropy'.*got 3 \(int\)"),
        (None, TypeError, "loss must be a Loss or one of"),
        (CategoricalCrossentropy, TypeError, "loss must be a Loss or one of"),
    ],
)  # fmt: skip
def test_get_rejects_unknown_names_and_wrong_types(arg, error, message):
    with pytest.raises(error, match=message):
        losses.get(arg)


def test_get_checks_from_logits():
    with pytest.raises(TypeError, match="from_logits must be a bool, got 'no'"):
        losses.get("mse", from_logits="no")


@pytest.mark.parametrize(
    ("loss", "config"),
    [
        (CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
         {"class": "CategoricalCrossentropy",
          "config": {"from_logits": True, "label_smoothing": 0.1}}),
        (CategoricalCrossentropy(),
         {"class": "CategoricalCrossentropy",
          "config": {"from_logits": False, "label_smoothing": 0.0}}),
        (SparseCategoricalCrossentropy(from_logits=True),
         {"class": "SparseCategoricalCrossentropy", "config": {"from_logits": True}}),
        (MeanSquaredError(), {"class": "MeanSquaredError", "config": {}}),
    ],
)  # fmt: skip
def test_config_round_trips_through_json(loss, config):
    assert loss.get_config() == config
    rebuilt = losses.from_config(json.loads(json.dumps(loss.get_config())))
    assert type(rebuilt) is type(loss)
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(loss)


def test_repr_shows_the_arguments():
    assert repr(CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)) == (
        "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"
    )
    assert (
        repr(SparseCategoricalCrossentropy()) == "SparseCategoricalCrossentropy(from_logits=False)"
    )
    assert repr(MeanSquaredError()) == "MeanSquaredError()"


@pytest.mark.parametrize(
    ("cfg", "error", "message"),
    [
        ({"class": "Hinge", "config": {}}, ValueError,
         r"cfg\['class'\] must be one of 'CategoricalCrossentropy', "
         "'SparseCategoricalCrossentropy', 'MeanSquaredError', got 'Hinge'"),
        ("mse", TypeError, "cfg must be a dict"),
        ({"class": "MeanSquaredError"}, TypeError, "cfg must be a dict"),
        ({"class": "CategoricalCrossentropy", "config": {"label_smoothing": 2.0}}, ValueError,
         "label_smoothing must be"),
    ],
)  # fmt: skip
def test_from_config_rejects_bad_configs(cfg, error, message):
    with pytest.raises(error, match=message):
        losses.from_config(cfg)
