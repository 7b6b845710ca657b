"""Binary crossentropy: logits and probabilities, smoothing, (N,), (N, 1) and (N, K) targets."""

from __future__ import annotations

import numpy as np
import oracles
import pytest

from minitrain.losses import BinaryCrossentropy

from .helpers import (
    BIT_PROBS,
    BITS,
    KERAS_FLOAT32,
    LOG2,
    LOGITS,
    keras_value_and_grad,
    numeric_gradient,
    relative_error,
    sigmoid,
    torch_value_and_grad,
)

torch = oracles.torch()
F = torch.nn.functional
keras = oracles.keras()

# Probabilities with entries the clip holds (0, 1, 1e-9, 1 - 1e-9) next to free ones.
CLIPPED_P = np.array([[0.0, 0.3, 1.0], [1e-9, 1 - 1e-9, 0.5], [0.2, 1e-7, 0.9]])
OFF_EDGE = np.where(CLIPPED_P == 1e-7, 2e-7, 0.0)
CLIPPED_T = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.25], [0.3, 1.0, 0.0]])

# (id, targets, logits): one output column read as (N,) or (N, 1), and multi-label (N, K).
SHAPES = [
    ("(N,)", BITS[:, 0], LOGITS[:, :1]),
    ("(N, 1)", BITS[:, :1], LOGITS[:, :1]),
    ("(N, K)", BITS, LOGITS),
    ("(N, K) soft", BIT_PROBS, LOGITS),
]
SHAPE_IDS = [s[0] for s in SHAPES]


def column(t: np.ndarray) -> np.ndarray:
    """Targets as PyTorch and Keras get them: the shape of the predictions."""
    return t[:, None] if t.ndim == 1 else t


def smoothed(t: np.ndarray, ls: float) -> np.ndarray:
    return column(t) * (1 - ls) + 0.5 * ls


# ------------------------------------------------------------------ hand-worked values


def test_binary_crossentropy_worked_by_hand():
    # Logits z = [0, log 3], labels t = [1, 0], N = 2, one column:
    #   z = 0, t = 1:     max(0, 0) - 0 + log(1 + 1) = log 2
    #   z = log 3, t = 0: log 3 - 0 + log(1 + 1/3) = log 4 = 2 log 2
    #   L = 1.5 log 2; gradient (sigmoid(z) - t) / 2 = ([0.5, 0.75] - [1, 0]) / 2 = [-0.25, 0.375].
    # The same from probabilities p = sigmoid(z) = [0.5, 0.75]: -log 0.5 and -log 0.25;
    #   gradient (p - t) / (p (1 - p)) / 2 = [-0.5 / 0.25, 0.75 / 0.1875] / 2 = [-1, 2].
    t = np.array([1.0, 0.0])
    z = np.array([[0.0], [np.log(3.0)]])
    p = np.array([[0.5], [0.75]])
    logits, probs = BinaryCrossentropy(from_logits=True), BinaryCrossentropy()
    assert logits(t, z) == pytest.approx(1.5 * LOG2, rel=1e-15)
    np.testing.assert_allclose(logits.gradient(t, z), [[-0.25], [0.375]], rtol=1e-15)
    assert probs(t, p) == pytest.approx(1.5 * LOG2, rel=1e-15)
    np.testing.assert_allclose(probs.gradient(t, p), [[-1.0], [2.0]], rtol=1e-15)
    # label_smoothing = 1 squeezes both labels to 1 * 0 + 0.5 = 0.5: at z = 0 the loss
    # is log 2 and the gradient sigmoid(0) - 0.5 = 0.
    smooth = BinaryCrossentropy(from_logits=True, label_smoothing=1.0)
    assert smooth(t[:1], z[:1]) == pytest.approx(LOG2, rel=1e-15)
    np.testing.assert_array_equal(smooth.gradient(t[:1], z[:1]), [[0.0]])


def test_multi_label_loss_is_the_mean_over_labels_then_samples():
    # Two samples, K = 2 labels, probabilities:
    #   row 0: -log 0.5 - log(1 - 0.5) = 2 log 2, mean over K: log 2
    #   row 1: -log 0.25 - log 0.5 = 3 log 2, mean over K: 1.5 log 2
    #   L = (log 2 + 1.5 log 2) / 2 = 1.25 log 2
    t = np.array([[1.0, 0.0], [1.0, 1.0]])
    p = np.array([[0.5, 0.5], [0.25, 0.5]])
    assert BinaryCrossentropy()(t, p) == pytest.approx(1.25 * LOG2, rel=1e-15)


# ----------------------------------------------------------------- PyTorch cross-checks


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.4])
@pytest.mark.parametrize(("shape", "t", "z"), SHAPES, ids=SHAPE_IDS)
def test_logits_match_torch_binary_cross_entropy_with_logits(shape, t, z, label_smoothing):
    target = torch.tensor(smoothed(t, label_smoothing))
    ref_value, ref_grad = torch_value_and_grad(
        lambda x: F.binary_cross_entropy_with_logits(x, target), z
    )
    loss = BinaryCrossentropy(from_logits=True, label_smoothing=label_smoothing)
    assert loss(t, z) == pytest.approx(ref_value, rel=1e-13)
    np.testing.assert_allclose(loss.gradient(t, z), ref_grad, rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize(
    ("t", "p"),
    [(BITS[:, 0], BIT_PROBS[:, :1]), (BITS, BIT_PROBS), (CLIPPED_T, CLIPPED_P)],
    ids=["(N,)", "(N, K)", "clipped"],
)
def test_probabilities_match_torch_binary_cross_entropy_of_clamped_input(t, p, label_smoothing):
    # Keras's computation in PyTorch: clamp to [1e-7, 1 - 1e-7], then BCELoss; autograd
    # gives 0 where the clamp holds the input, as the hand-written gradient must.
    target = torch.tensor(smoothed(t, label_smoothing))
    ref_value, ref_grad = torch_value_and_grad(
        lambda x: F.binary_cross_entropy(x.clamp(1e-7, 1 - 1e-7), target), p
    )
    loss = BinaryCrossentropy(label_smoothing=label_smoothing)
    assert loss(t, p) == pytest.approx(ref_value, rel=1e-13)
    np.testing.assert_allclose(loss.gradient(t, p), ref_grad, rtol=1e-13, atol=1e-17)


def test_clipped_probabilities_have_zero_gradient():
    grad = BinaryCrossentropy().gradient(CLIPPED_T, CLIPPED_P)
    held = (CLIPPED_P < 1e-7) | (CLIPPED_P > 1 - 1e-7)
    assert held.sum() == 4
    np.testing.assert_array_equal(grad[held], 0.0)
    assert (grad[~held] != 0).all()


# ------------------------------------------------------------------- Keras, run live


@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize(("shape", "t", "z"), SHAPES, ids=SHAPE_IDS)
def test_matches_keras_binary_crossentropy(shape, t, z, from_logits, label_smoothing):
    y_pred = z if from_logits else sigmoid(z)
    k = keras.losses.BinaryCrossentropy(
        from_logits=from_logits, label_smoothing=label_smoothing, dtype="float64"
    )
    # Keras takes (N,) targets against (N, 1) predictions as minitrain does.
    ref_value, ref_grad = keras_value_and_grad(k, t, y_pred)
    loss = BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    assert loss(t, y_pred) == pytest.approx(ref_value, rel=KERAS_FLOAT32)
    np.testing.assert_allclose(loss.gradient(t, y_pred), ref_grad, rtol=KERAS_FLOAT32, atol=1e-12)
    # Keras's elementwise op is float64 throughout: its mean, taken here, to 1e-13.
    elementwise = keras.ops.binary_crossentropy(
        torch.tensor(smoothed(t, label_smoothing)), torch.tensor(y_pred), from_logits=from_logits
    )
    assert loss(t, y_pred) == pytest.approx(float(elementwise.mean()), rel=1e-13)


def test_clipped_probabilities_match_keras():
    k = keras.losses.BinaryCrossentropy(dtype="float64")
    ref_value, ref_grad = keras_value_and_grad(k, CLIPPED_T, CLIPPED_P)
    loss = BinaryCrossentropy()
    assert loss(CLIPPED_T, CLIPPED_P) == pytest.approx(ref_value, rel=KERAS_FLOAT32)
    np.testing.assert_allclose(
        loss.gradient(CLIPPED_T, CLIPPED_P), ref_grad, rtol=KERAS_FLOAT32, atol=1e-12
    )


# -------------------------------------------------------------- gradient checks


@pytest.mark.parametrize(
    ("loss", "t", "p", "eps"),
    [
        (BinaryCrossentropy(from_logits=True), BITS[:, 0], LOGITS[:, :1], 1e-6),
        (BinaryCrossentropy(label_smoothing=0.3), BITS[:, :1], BIT_PROBS[:, :1], 1e-6),
        (BinaryCrossentropy(from_logits=True, label_smoothing=0.1), BIT_PROBS, 3 * LOGITS, 1e-6),
        # Held entries moved off 0 and 1 (a step must stay in [0, 1]) and the free one
        # off the clip's edge: a step of 1e-10 keeps every entry on its side of the clip.
        (BinaryCrossentropy(), CLIPPED_T, np.clip(CLIPPED_P, 1e-9, 1 - 1e-9) + OFF_EDGE, 1e-10),
    ],
    ids=["logits (N,)", "probabilities (N, 1) smoothed", "multi-label soft smoothed", "clipped"],
)
def test_gradient_matches_central_differences(loss, t, p, eps):
    numeric = numeric_gradient(lambda x: loss(t, x), p, eps=eps)
    assert relative_error(loss.gradient(t, p), numeric) < 1e-7


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_sigmoid_then_probabilities_equals_from_logits(label_smoothing):
    # A model ending in Sigmoid trains as one without it and from_logits=True: same loss,
    # and the probability gradient times sigmoid'(z) = p (1 - p) is the logit gradient.
    p = sigmoid(LOGITS)
    on_probs = BinaryCrossentropy(label_smoothing=label_smoothing)
    on_logits = BinaryCrossentropy(from_logits=True, label_smoothing=label_smoothing)
    assert on_probs(BIT_PROBS, p) == pytest.approx(on_logits(BIT_PROBS, LOGITS), rel=1e-13)
    chained = on_probs.gradient(BIT_PROBS, p) * p * (1 - p)
    np.testing.assert_allclose(chained, on_logits.gradient(BIT_PROBS, LOGITS), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_stay_finite_and_exact(dtype):
    # z = 1e4, t = 1: 1e4 - 1e4 + log1p(exp(-1e4)) = 0;   gradient sigmoid - t = 0
    # z = -1e4, t = 1: 0 + 1e4 + 0 = 1e4;                  gradient 0 - 1 = -1
    # z = 1e4, t = 0: 1e4;                                 gradient 1
    # z = -1e4, t = 0: 0;                                  gradient 0
    # L = 2e4 / 4 = 5e3, gradient / 4.
    z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    t = np.array([1.0, 1.0, 0.0, 0.0])
    loss = BinaryCrossentropy(from_logits=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value, grad = loss.value_and_gradient(loss.prepare_targets(t, 1, dtype), z)
    assert value == 5e3 == loss(t, z)
    np.testing.assert_array_equal(grad, np.array([[0], [-0.25], [0.25], [0]], dtype=dtype))
    assert grad.dtype == dtype


# ------------------------------------------------------------------------- targets


@pytest.mark.parametrize("from_logits", [True, False])
def test_one_dimensional_targets_equal_a_column(from_logits):
    loss = BinaryCrossentropy(from_logits=from_logits)
    p = LOGITS[:, :1] if from_logits else BIT_PROBS[:, :1]
    assert loss(BITS[:, 0], p) == loss(BITS[:, :1], p)
    np.testing.assert_array_equal(loss.gradient(BITS[:, 0], p), loss.gradient(BITS[:, :1], p))
    prepared = loss.prepare_targets(BITS[:, 0].astype(np.int64), 1, np.float32)
    assert prepared.shape == (len(BITS), 1) and prepared.dtype == np.float32


def scalar(text: str) -> str:
    """``2.0`` or NumPy 2's ``np.float64(2.0)`` never appear: ``.item()`` gives a float."""
    return text.replace(".", r"\.")


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (np.array([0.0, 1.0, 2.0]), np.full((3, 1), 0.5), "got 2.0 in row 2"),
        (np.array([[0], [-1], [1]]), np.full((3, 1), 0.5), "got -1.0 in row 1"),
        (np.array([[0.0, 1.0], [1.0, 1.5]]), np.full((2, 2), 0.5), "got 1.5 in row 1"),
        (np.array([[0.0, -1e-3], [7.0, 1.0]]), np.full((2, 2), 0.5), "got -0.001 in row 0"),
    ],
    ids=["(N,) float", "(N, 1) int", "(N, K)", "first bad row"],
)
@pytest.mark.parametrize("from_logits", [True, False])
def test_targets_outside_the_unit_interval_are_refused(y_true, y_pred, message, from_logits):
    loss = BinaryCrossentropy(from_logits=from_logits)
    keep = y_true.copy()
    pattern = r"y_true must be 0/1 labels or probabilities in \[0, 1\], " + scalar(message)
    for method in (loss, loss.gradient):
        with pytest.raises(ValueError, match=pattern):
            method(y_true, y_pred)
    with pytest.raises(ValueError, match=r"^y must be 0/1 labels or probabilities in \[0, 1\]"):
        loss.prepare_targets(y_true, y_pred.shape[1], np.float64)
    np.testing.assert_array_equal(y_true, keep)


@pytest.mark.parametrize(
    ("y_pred", "message"),
    [
        (np.array([[0.5], [1.5]]), "got 1.5 in row 1"),
        (np.array([[-0.25], [0.5]]), "got -0.25 in row 0"),
    ],
)
def test_probabilities_outside_the_unit_interval_are_refused(y_pred, message):
    loss = BinaryCrossentropy()
    pattern = (
        r"y_pred must be probabilities in \[0, 1\] when from_logits=False, "
        + scalar(message)
        + "; pass from_logits=True"
    )
    for method in (loss, loss.gradient):
        with pytest.raises(ValueError, match=pattern):
            method(np.array([1.0, 0.0]), y_pred)
    # The same numbers are fine as logits.
    assert np.isfinite(BinaryCrossentropy(from_logits=True)(np.array([1.0, 0.0]), y_pred))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: BinaryCrossentropy(from_logits=0), TypeError,
         r"from_logits must be a bool, got 0 \(int\)"),
        (lambda: BinaryCrossentropy(label_smoothing=1.1), ValueError,
         r"label_smoothing must be a real number in \[0.0, 1.0\], got 1.1"),
        (lambda: BinaryCrossentropy(label_smoothing=None), TypeError,
         "label_smoothing must be a real number"),
    ],
)  # fmt: skip
def test_bad_constructor_arguments_are_rejected(make, error, message):
    with pytest.raises(error, match=message):
        make()
