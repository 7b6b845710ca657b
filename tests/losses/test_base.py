"""What every loss keeps (``minitrain.losses.base``): gradients equal to finite
differences, the hot paths equal to the checked doors, float32 kept, inputs never
modified, and the same checks and messages for bad predictions and targets."""

from __future__ import annotations

import re

import numpy as np
import pytest

from minitrain.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

from .helpers import (
    CASE_IDS,
    CASES,
    ONE_HOT,
    C,
    numeric_gradient,
    relative_error,
)

# -------------------------------------------------------------- gradient checks


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_gradient_matches_central_differences_in_float64(name, loss, y_true, y_pred):
    analytic = loss.gradient(y_true, y_pred)
    numeric = numeric_gradient(lambda p: loss(y_true, p), y_pred)
    assert analytic.shape == y_pred.shape
    assert relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize(("name", "loss", "y_true", "y_pred"), CASES, ids=CASE_IDS)
def test_hot_path_equals_checked_path(name, loss, y_true, y_pred):
    t = loss.prepare_targets(y_true, y_pred.shape[1], y_pred.dtype)
    value, grad = loss.value_and_gradient(t, y_pred)
    assert value == loss.value(t, y_pred) == loss(y_true, y_pred)
    np.testing.assert_array_equal(grad, loss.gradient(y_true, y_pred))
    assert type(value) is float
    assert type(loss.value(t, y_pred)) is float
    assert type(loss(y_true, y_pred)) is float


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


P3 = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
T3 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
ALL_LOSSES = [
    CategoricalCrossentropy(),
    CategoricalCrossentropy(from_logits=True),
    SparseCategoricalCrossentropy(),
    SparseCategoricalCrossentropy(from_logits=True),
    MeanSquaredError(),
    BinaryCrossentropy(),
    BinaryCrossentropy(from_logits=True),
    MeanAbsoluteError(),
    Huber(),
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
        (MeanAbsoluteError(), np.ones((2, 2)), ValueError,
         r"y_true must be targets of shape \(N, 3\), got shape \(2, 2\)"),
        (Huber(), np.ones(2), ValueError,
         r"y_true must be targets of shape \(N, 3\), got shape \(2,\)$"),
        (Huber(), T3.tolist(), TypeError, "y_true must be a NumPy array of targets"),
        (BinaryCrossentropy(), np.ones((2, 2)), ValueError,
         r"y_true must be 0/1 or probability targets of shape \(N, 3\), got shape \(2, 2\)"),
        (BinaryCrossentropy(), np.ones(2), ValueError,
         r"y_true must be 0/1 or probability targets of shape \(N, 3\), got shape \(2,\)$"),
        (BinaryCrossentropy(), T3.astype(str), TypeError, "y_true must hold numbers"),
    ],
)  # fmt: skip
def test_bad_targets_are_rejected(loss, y_true, error, message):
    # 1e300 is finite in float64 and inf once cast to float32, the dtype of y_pred.
    y_pred = P3.astype(np.float32) if isinstance(loss, MeanSquaredError) else P3
    for method in (loss, loss.gradient):
        with pytest.raises(error, match=message):
            method(y_true, y_pred)


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
