"""Sample weights: Keras's reduction ``sum_i w_i l_i / N`` in every loss, and their checks."""

from __future__ import annotations

import numpy as np
import oracles
import pytest

from minitrain.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    prepare_sample_weight,
)

from .helpers import (
    CASE_IDS,
    CASES,
    DYADIC_P,
    DYADIC_T,
    DYADIC_W,
    KERAS_FLOAT32,
    WEIGHTS,
    N,
    keras_value_and_grad,
    numeric_gradient,
    relative_error,
    torch_value_and_grad,
)

torch = oracles.torch()
F = torch.nn.functional
keras = oracles.keras()


def keras_twin(loss, **kwargs):
    """The Keras loss of the same class and arguments, computing in float64."""
    cls = getattr(keras.losses, type(loss).__name__)
    return cls(**loss.get_config()["config"], dtype="float64", **kwargs)


def torch_per_sample(loss, y_true: np.ndarray, x):
    """The per-sample losses ``l_i`` written with ``torch.nn.functional``, shape (N,)."""
    cfg = loss.get_config()["config"]
    ls = cfg.get("label_smoothing", 0.0)
    t = torch.tensor(y_true)
    if isinstance(loss, SparseCategoricalCrossentropy):
        if loss.from_logits:
            return F.cross_entropy(x, t, reduction="none")
        q = x[torch.arange(len(t)), t] / x.sum(dim=1)
        return -q.clamp(1e-7, 1 - 1e-7).log()
    if isinstance(loss, CategoricalCrossentropy):
        if loss.from_logits:
            return F.cross_entropy(x, t, label_smoothing=ls, reduction="none")
        q = (x / x.sum(dim=1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
        return -((t * (1 - ls) + ls / t.shape[1]) * q.log()).sum(dim=1)
    if isinstance(loss, BinaryCrossentropy):
        t = t * (1 - ls) + 0.5 * ls
        if loss.from_logits:
            return F.binary_cross_entropy_with_logits(x, t, reduction="none").mean(dim=1)
        return F.binary_cross_entropy(x.clamp(1e-7, 1 - 1e-7), t, reduction="none").mean(dim=1)
    if isinstance(loss, Huber):
        return F.huber_loss(x, t, delta=loss.delta, reduction="none").mean(dim=1)
    if isinstance(loss, MeanAbsoluteError):
        return F.l1_loss(x, t, reduction="none").mean(dim=1)
    return F.mse_loss(x, t, reduction="none").mean(dim=1)


EXACT_IN_KERAS = (CategoricalCrossentropy, SparseCategoricalCrossentropy)


# ----------------------------------------------------------------- the oracles


@pytest.mark.parametrize("weight_shape", ["(N,)", "(N, 1)"])
@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_weighted_loss_matches_keras(name, loss, y_true, y_pred, weight_shape):
    w = WEIGHTS if weight_shape == "(N,)" else WEIGHTS[:, None]
    value, grad = loss(y_true, y_pred, w), loss.gradient(y_true, y_pred, w)
    # The default reduction, divisor N (not sum(w) = 6.75): Keras divides in float32.
    ref_value, ref_grad = keras_value_and_grad(keras_twin(loss), y_true, y_pred, w)
    assert value == pytest.approx(ref_value, rel=KERAS_FLOAT32)
    np.testing.assert_allclose(grad, ref_grad, rtol=KERAS_FLOAT32, atol=1e-12)
    if isinstance(loss, EXACT_IN_KERAS):
        # No float32 step in Keras's crossentropies with reduction="sum": to 1e-13.
        ref_sum, ref_grad = keras_value_and_grad(
            keras_twin(loss, reduction="sum"), y_true, y_pred, w
        )
        assert value == pytest.approx(ref_sum / N, rel=1e-13)
        np.testing.assert_allclose(grad, ref_grad / N, rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize(
    "loss", [MeanSquaredError(), MeanAbsoluteError(), Huber(), Huber(0.75)], ids=repr
)
def test_weighted_regression_losses_equal_keras_bit_for_bit_on_exact_data(loss):
    # Data and weights exact in float32 (helpers.DYADIC_*): nothing is lost to Keras's
    # float32 steps, so the weighted mean over the last axis, then sum(w l) / N, must be
    # the same number.
    ref_value, ref_grad = keras_value_and_grad(keras_twin(loss), DYADIC_T, DYADIC_P, DYADIC_W)
    assert loss(DYADIC_T, DYADIC_P, DYADIC_W) == ref_value
    np.testing.assert_array_equal(loss.gradient(DYADIC_T, DYADIC_P, DYADIC_W), ref_grad)


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_weighted_loss_matches_torch_per_sample_losses(name, loss, y_true, y_pred):
    w = torch.tensor(WEIGHTS)
    ref_value, ref_grad = torch_value_and_grad(
        lambda x: (w * torch_per_sample(loss, y_true, x)).sum() / N, y_pred
    )
    assert loss(y_true, y_pred, WEIGHTS) == pytest.approx(ref_value, rel=1e-13)
    np.testing.assert_allclose(
        loss.gradient(y_true, y_pred, WEIGHTS), ref_grad, rtol=1e-13, atol=1e-17
    )


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_weighted_gradient_matches_central_differences_in_float64(name, loss, y_true, y_pred):
    analytic = loss.gradient(y_true, y_pred, WEIGHTS)
    numeric = numeric_gradient(lambda p: loss(y_true, p, WEIGHTS), y_pred)
    assert relative_error(analytic, numeric) < 1e-7
    # The sample of weight 0 has no say in the loss.
    np.testing.assert_array_equal(analytic[WEIGHTS == 0], 0.0)


# --------------------------------------------------------------- what the weights mean


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_weights_scale_the_per_sample_losses_and_the_divisor_stays_n(name, loss, y_true, y_pred):
    plain, plain_grad = loss(y_true, y_pred), loss.gradient(y_true, y_pred)
    ones = np.ones(N)
    assert loss(y_true, y_pred, ones) == pytest.approx(plain, rel=1e-15)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred, ones), plain_grad, rtol=1e-15)
    # Doubling every weight doubles the loss: the divisor is N, not sum(w).
    assert loss(y_true, y_pred, 2 * ones) == pytest.approx(2 * plain, rel=1e-15)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred, 2 * ones), 2 * plain_grad, rtol=1e-15)


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_integer_weights_equal_repeated_samples(name, loss, y_true, y_pred):
    # Weights [2, 0, 1, 3, 1] count each sample that many times: the weighted sum over
    # N = 5 equals the plain mean over the 7 repeated samples, times 7 / 5.
    counts = np.array([2, 0, 1, 3, 1])
    repeated = np.repeat(np.arange(N), counts)
    weighted = loss(y_true, y_pred, counts.astype(np.float64))
    assert weighted == pytest.approx(loss(y_true[repeated], y_pred[repeated]) * 7 / N, rel=1e-14)


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weighted_hot_path_equals_checked_path_and_keeps_the_dtype(
    name, loss, y_true, y_pred, dtype
):
    p = y_pred.astype(dtype)
    t = loss.prepare_targets(y_true, p.shape[1], dtype)
    w = prepare_sample_weight(WEIGHTS[:, None], N, dtype)
    keep_w, keep_t, keep_p = w.copy(), t.copy(), p.copy()
    value, grad = loss.value_and_gradient(t, p, w)
    assert value == loss.value(t, p, w) == loss(y_true, p, WEIGHTS)
    assert type(value) is float
    assert grad.dtype == dtype
    np.testing.assert_array_equal(grad, loss.gradient(y_true, p, WEIGHTS.tolist()))
    np.testing.assert_array_equal(w, keep_w)
    np.testing.assert_array_equal(t, keep_t)
    np.testing.assert_array_equal(p, keep_p)
    assert not np.shares_memory(grad, w)


# ------------------------------------------------------------- prepare_sample_weight


def test_prepare_sample_weight_forms():
    w = prepare_sample_weight(np.array([[1.0], [2.0], [0.5]]), 3, np.float32)
    assert w.shape == (3,) and w.dtype == np.float32
    np.testing.assert_array_equal(w, [1.0, 2.0, 0.5])
    ints = prepare_sample_weight([1, 0, 3], 3, "float64")
    assert ints.dtype == np.float64
    np.testing.assert_array_equal(ints, [1.0, 0.0, 3.0])
    same = np.array([1.0, 2.0])
    assert prepare_sample_weight(same, 2, np.float64) is same  # no copy when nothing to do
    assert prepare_sample_weight(None, 2, np.float64) is None


@pytest.mark.parametrize(
    ("sample_weight", "error", "message"),
    [
        (2.0, ValueError, r"sample_weight must be 1-D of shape \(N,\) or \(N, 1\), got shape \(\)"),
        (np.ones((3, 2)), ValueError,
         r"sample_weight must be 1-D of shape \(N,\) or \(N, 1\), got shape \(3, 2\)"),
        (np.ones(4), ValueError, r"sample_weight must hold one weight per sample \(3\), got 4"),
        (np.ones((2, 1)), ValueError, r"one weight per sample \(3\), got 2"),
        (np.array([1.0, np.nan, 1.0]), ValueError,
         "sample_weight must be finite, got NaN or inf in row 1"),
        (np.array([1.0, 1.0, np.inf]), ValueError,
         "sample_weight must be finite, got NaN or inf in row 2"),
        (np.array([1.0, 1e300, 1.0]), ValueError,  # finite in float64, inf in float32
         "sample_weight must be finite, got NaN or inf in row 1"),
        (np.array([1.0, 2.0, -0.5]), ValueError,
         "sample_weight must be non-negative, got -0.5 at index 2"),
        (["a", "b", "c"], TypeError, "sample_weight must hold numbers"),
        ({"w": 1}, TypeError, "sample_weight must hold numbers"),
    ],
)  # fmt: skip
def test_bad_sample_weights_are_refused_by_every_door(sample_weight, error, message):
    with pytest.raises(error, match=message):
        prepare_sample_weight(sample_weight, 3, np.float32)
    loss = MeanSquaredError()
    t, p = np.zeros((3, 2)), np.ones((3, 2), dtype=np.float32)
    for method in (loss, loss.gradient):
        with pytest.raises(error, match=message):
            method(t, p, sample_weight)


def test_prepare_sample_weight_names_its_argument_and_checks_n_and_dtype():
    with pytest.raises(ValueError, match="^class_weight must be non-negative, got -1.0 at index 0"):
        prepare_sample_weight([-1.0], 1, np.float64, name="class_weight")
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        prepare_sample_weight([1.0], 0, np.float64)
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got int64"):
        prepare_sample_weight([1.0], 1, np.int64)
