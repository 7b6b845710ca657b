"""Categorical and sparse categorical crossentropy: values, gradients, Keras/PyTorch agreement."""

from __future__ import annotations

import numpy as np
import oracles
import pytest

from minitrain.losses import CategoricalCrossentropy, SparseCategoricalCrossentropy

from .helpers import (
    LABELS,
    LOG2,
    LOGITS,
    ONE_HOT,
    PROBS,
    SOFT,
    C,
    N,
    numeric_gradient,
    relative_error,
    softmax,
    torch_value_and_grad,
)

torch = oracles.torch()
F = torch.nn.functional

T3 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def keras_crossentropy(t: np.ndarray, p: np.ndarray) -> float:
    """Keras's probability crossentropy, written out: -mean(sum(t * log(clip(p / sum p))))."""
    q = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.sum(t * np.log(np.clip(q, 1e-7, 1 - 1e-7)), axis=1)))


# -------------------------------------------------------------- gradient checks


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


def test_sparse_crossentropy_matches_torch_cross_entropy_with_indices():
    loss = SparseCategoricalCrossentropy(from_logits=True)
    ref_value, ref_grad = torch_value_and_grad(
        lambda z: F.cross_entropy(z, torch.tensor(LABELS)), LOGITS
    )
    assert loss(LABELS, LOGITS) == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(LABELS, LOGITS), ref_grad, rtol=1e-12, atol=1e-16)


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


@pytest.mark.parametrize(
    "loss", [CategoricalCrossentropy(), SparseCategoricalCrossentropy()], ids=repr
)
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
            method(np.array([2, 0]) if loss.name.startswith("sparse") else T3, y_pred)


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
