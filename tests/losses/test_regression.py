"""Mean squared error, mean absolute error and Huber: hand-worked values, PyTorch and Keras."""

from __future__ import annotations

import json

import numpy as np
import oracles
import pytest

from minitrain import losses
from minitrain.losses import Huber, MeanAbsoluteError, MeanSquaredError

from .helpers import (
    DYADIC_P,
    DYADIC_T,
    KERAS_FLOAT32,
    TARGETS,
    VALUES,
    keras_value_and_grad,
    numeric_gradient,
    relative_error,
    torch_value_and_grad,
)

torch = oracles.torch()
F = torch.nn.functional
keras = oracles.keras()

# Differences p - t that hit the special points exactly: 0 (MAE's kink), +-0.75
# (Huber's boundary for delta = 0.75, representable exactly), and both sides of it.
EDGE_T = np.array([[0.5, -1.0, 2.0], [0.0, 0.25, -3.0], [1.0, 1.0, 1.0]])
EDGE_P = EDGE_T + np.array([[0.0, 0.75, -0.75], [0.7, -0.8, 0.0], [4.0, -2.5, 1e-3]])


def torch_oracle(name: str, delta: float):
    """The PyTorch function of the same loss, mean reduction (= Keras's without weights)."""
    if name == "mae":
        return lambda p, t: F.l1_loss(p, t)
    if name == "mse":
        return lambda p, t: F.mse_loss(p, t)
    if name == "huber":
        return lambda p, t: F.huber_loss(p, t, delta=delta)
    # smooth_l1_loss(beta) is huber_loss(delta=beta) / beta.
    return lambda p, t: delta * F.smooth_l1_loss(p, t, beta=delta)


def ours(name: str, delta: float):
    return {"mae": MeanAbsoluteError(), "mse": MeanSquaredError()}.get(name, Huber(delta))


def keras_loss(name: str, delta: float, **kwargs):
    if name == "mae":
        return keras.losses.MeanAbsoluteError(dtype="float64", **kwargs)
    if name == "mse":
        return keras.losses.MeanSquaredError(dtype="float64", **kwargs)
    return keras.losses.Huber(delta=delta, dtype="float64", **kwargs)


ORACLE_CASES = [
    ("mae", 1.0),
    ("mse", 1.0),
    ("huber", 1.0),
    ("huber", 0.75),
    ("huber", 0.3),
    ("huber", 2.5),
    ("smooth_l1", 0.75),
    ("smooth_l1", 1.0),
]
DATA = [(TARGETS, VALUES), (EDGE_T, EDGE_P)]


# ------------------------------------------------------------------ hand-worked values


def test_mean_squared_error_worked_by_hand():
    # p - t = [[1, -2], [0, 3]]: squares 1, 4, 0, 9, mean over N C = 4 entries = 14 / 4 = 3.5.
    # Gradient 2 (p - t) / 4 = [[0.5, -1], [0, 1.5]].
    p = np.array([[1.0, 0.0], [2.0, 3.0]])
    t = np.array([[0.0, 2.0], [2.0, 0.0]])
    loss = MeanSquaredError()
    assert loss(t, p) == 3.5
    np.testing.assert_array_equal(loss.gradient(t, p), [[0.5, -1.0], [0.0, 1.5]])


def test_mean_absolute_error_worked_by_hand():
    # p - t = [[1, -2], [0, 3]]: |d| = 1, 2, 0, 3, mean over 4 entries = 6 / 4 = 1.5.
    # Gradient sign(d) / 4 = [[0.25, -0.25], [0, 0.25]]: exactly 0 where p = t (PyTorch's sign).
    p = np.array([[1.0, 0.0], [2.0, 3.0]])
    t = np.array([[0.0, 2.0], [2.0, 0.0]])
    loss = MeanAbsoluteError()
    assert loss(t, p) == 1.5
    np.testing.assert_array_equal(loss.gradient(t, p), [[0.25, -0.25], [0.0, 0.25]])


def test_huber_worked_by_hand():
    # delta = 1, p - t = [[0.5, -2], [1, 3]]:
    #   |0.5| <= 1: 0.5 * 0.25 = 0.125        gradient 0.5
    #   |-2| > 1:   1 * 2 - 0.5 = 1.5         gradient -1
    #   |1| <= 1:   0.5 * 1 = 0.5 (boundary)  gradient 1
    #   |3| > 1:    3 - 0.5 = 2.5             gradient 1
    # L = (0.125 + 1.5 + 0.5 + 2.5) / 4 = 4.625 / 4 = 1.15625; gradient clip(d, -1, 1) / 4.
    t = np.zeros((2, 2))
    p = np.array([[0.5, -2.0], [1.0, 3.0]])
    loss = Huber()
    assert loss(t, p) == 1.15625
    np.testing.assert_array_equal(loss.gradient(t, p), [[0.125, -0.25], [0.25, 0.25]])
    # delta = 2: every entry but the last is quadratic; the last is 2 * 3 - 2 = 4.
    # L = (0.125 + 2 + 0.5 + 4) / 4 = 1.65625; gradient clip(d, -2, 2) / 4.
    loss = Huber(delta=2.0)
    assert loss(t, p) == 1.65625
    np.testing.assert_array_equal(loss.gradient(t, p), [[0.125, -0.5], [0.25, 0.5]])


# ----------------------------------------------------------------- PyTorch cross-checks


def test_mean_squared_error_matches_torch_mse_loss():
    loss = MeanSquaredError()
    ref_value, ref_grad = torch_value_and_grad(
        lambda p: F.mse_loss(p, torch.tensor(TARGETS)), VALUES
    )
    assert loss(TARGETS, VALUES) == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(TARGETS, VALUES), ref_grad, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize(("name", "delta"), ORACLE_CASES)
@pytest.mark.parametrize(("t", "p"), DATA, ids=["random", "edges"])
def test_regression_losses_match_torch_value_and_gradient(name, delta, t, p):
    # The edge data holds d = 0 (MAE's and Huber's gradient 0, as torch.sign) and
    # |d| = 0.75 exactly: torch takes the linear branch there (|d| < delta is false),
    # Keras and minitrain the quadratic one; both give d^2 / 2 and gradient d.
    fn = torch_oracle(name, delta)
    ref_value, ref_grad = torch_value_and_grad(lambda x: fn(x, torch.tensor(t)), p)
    loss = ours(name, delta)
    assert loss(t, p) == pytest.approx(ref_value, rel=1e-13)
    np.testing.assert_allclose(loss.gradient(t, p), ref_grad, rtol=1e-13, atol=1e-17)


# ------------------------------------------------------------------- Keras, run live


KERAS_CASES = [c for c in ORACLE_CASES if c[0] != "smooth_l1"]


@pytest.mark.parametrize(("name", "delta"), KERAS_CASES)
@pytest.mark.parametrize(("t", "p"), DATA, ids=["random", "edges"])
def test_regression_losses_match_keras_value_and_autograd_gradient(name, delta, t, p):
    # Keras rounds its mean to float32 on the torch backend (helpers.keras_value_and_grad).
    loss = ours(name, delta)
    ref_value, ref_grad = keras_value_and_grad(keras_loss(name, delta), t, p)
    assert loss(t, p) == pytest.approx(ref_value, rel=KERAS_FLOAT32)
    np.testing.assert_allclose(loss.gradient(t, p), ref_grad, rtol=KERAS_FLOAT32, atol=1e-12)


@pytest.mark.parametrize(("name", "delta"), [c for c in KERAS_CASES if c[1] != 0.3])
def test_regression_losses_equal_keras_bit_for_bit_on_exact_data(name, delta):
    # Data (and delta) exact in float32: Keras's float32 steps lose nothing, so value and gradient
    # must be equal, boundary |d| = 0.75 and kink d = 0 included.
    loss = ours(name, delta)
    ref_value, ref_grad = keras_value_and_grad(keras_loss(name, delta), DYADIC_T, DYADIC_P)
    assert loss(DYADIC_T, DYADIC_P) == ref_value
    np.testing.assert_array_equal(loss.gradient(DYADIC_T, DYADIC_P), ref_grad)


# -------------------------------------------------------------- special points


def test_mean_absolute_error_gradient_is_zero_where_prediction_equals_target():
    t = np.array([[1.0, -2.0], [0.5, 0.0]])
    p = np.array([[1.0, -1.0], [0.5, 0.0]])  # equal except one entry
    grad = MeanAbsoluteError().gradient(t, p)
    np.testing.assert_array_equal(grad, [[0.0, 0.25], [0.0, 0.0]])
    assert not np.signbit(grad).any()  # +0, as torch's sign gives


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("delta", [0.75, 1.0, 1.5, 0.1])
def test_huber_boundary_gives_the_same_value_and_gradient_on_both_branches(delta, dtype):
    # At |d| = delta the quadratic branch gives delta^2 / 2 and the linear one
    # delta * delta - delta^2 / 2: the same floating-point number (the subtraction of
    # half of a number is exact), so <= (Keras) and < (PyTorch) agree bit for bit.
    t = np.zeros((1, 2), dtype=dtype)
    d = np.array([[delta, -delta]], dtype=dtype)
    dd = dtype(delta)
    quadratic = dtype(0.5) * dd * dd
    linear = dd * dd - dtype(0.5) * dd * dd
    assert quadratic == linear
    loss = Huber(delta=delta)
    value, grad = loss.value_and_gradient(t, d)
    assert value == float(quadratic)
    np.testing.assert_array_equal(grad, d / 2)
    assert grad.dtype == dtype


def test_huber_gradient_is_continuous_across_the_boundary():
    # Steps of 1e-7 on either side of |d| = delta = 0.75: the loss is C^1 there, so
    # central differences straddling the switch still match the clip gradient.
    t = np.zeros((1, 4))
    p = np.array([[0.75, -0.75, 0.75 + 3e-7, -0.75 + 3e-7]])
    loss = Huber(delta=0.75)
    numeric = numeric_gradient(lambda x: loss(t, x), p, eps=1e-7)
    assert relative_error(loss.gradient(t, p), numeric) < 1e-7


# ------------------------------------------------------------------------- targets


def test_mse_accepts_one_dimensional_targets_for_one_output():
    # (N,) targets and one output: the same as (N, 1); p - t = [1, -1, 2], mean of squares 2.
    p = np.array([[1.0], [0.0], [5.0]])
    t = np.array([0.0, 1.0, 3.0])
    loss = MeanSquaredError()
    assert loss(t, p) == 2.0
    np.testing.assert_allclose(loss.gradient(t, p), [[2 / 3], [-2 / 3], [4 / 3]], rtol=1e-15)


@pytest.mark.parametrize("loss", [MeanAbsoluteError(), Huber(0.5)], ids=repr)
def test_one_dimensional_targets_equal_a_column(loss):
    p = np.array([[1.0], [0.0], [5.0]])
    t = np.array([0.0, 1.0, 3.0])
    assert loss(t, p) == loss(t[:, None], p)
    np.testing.assert_array_equal(loss.gradient(t, p), loss.gradient(t[:, None], p))
    assert loss.prepare_targets(t, 1, np.float32).shape == (3, 1)


# ------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    ("delta", "error", "message"),
    [
        (0.0, ValueError, r"delta must be a real number in \(0.0, inf\], got 0.0"),
        (-1.0, ValueError, r"delta must be a real number in \(0.0, inf\], got -1.0"),
        (float("nan"), ValueError, "delta must be a real number"),
        (float("inf"), ValueError, r"delta must be a finite real number in \(0.0, inf\), got inf"),
        ("1", TypeError, r"delta must be a real number in \(0.0, inf\], got '1' \(str\)"),
        (True, TypeError, "delta must be a real number"),
    ],
)
def test_huber_rejects_a_bad_delta(delta, error, message):
    with pytest.raises(error, match=message):
        Huber(delta=delta)


def test_huber_delta_is_kept_in_its_config():
    loss = Huber(delta=2)
    assert loss.delta == 2.0 and type(loss.delta) is float
    assert loss.get_config() == {"class": "Huber", "config": {"delta": 2.0}}
    rebuilt = losses.from_config(json.loads(json.dumps(loss.get_config())))
    assert rebuilt.delta == 2.0
    assert repr(rebuilt) == "Huber(delta=2.0)"
