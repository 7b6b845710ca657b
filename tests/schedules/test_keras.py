"""Every Keras schedule against keras.optimizers.schedules, run live, steps 0..500, float64.

Keras computes a schedule in the dtype of its initial rate, so the Keras side gets
float64 tensors; its values are compared to 1e-12 relative, with no absolute slack.
"""

from __future__ import annotations

import itertools

import numpy as np
import oracles
import pytest

from minitrain import schedules

keras = oracles.keras()
torch = oracles.torch()
# Keras's torch backend converts tensors with np.array(x), which NumPy 2 flags.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

STEPS = range(501)


def f64(value: float):
    """A float64 tensor: Keras computes a schedule in the dtype of its initial rate."""
    return torch.tensor(value, dtype=torch.float64)


def keras_values(schedule) -> np.ndarray:
    values = [keras.ops.convert_to_numpy(schedule(step)) for step in STEPS]
    assert all(v.dtype == np.float64 for v in values)
    return np.array(values)


def our_values(schedule: schedules.Schedule) -> np.ndarray:
    values = [schedule(step) for step in STEPS]
    assert all(type(v) is float for v in values)
    return np.array(values)


def assert_same_values(ours: schedules.Schedule, theirs) -> None:
    expected = keras_values(theirs)
    got = our_values(ours)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0.0)
    assert len(np.unique(expected)) > 3  # the schedule moves over the steps compared


K = keras.optimizers.schedules
S = schedules

# (ours, Keras's): the arguments that change the arithmetic, each exercised once or more.
CASES = {
    "polynomial_defaults": (S.PolynomialDecay(0.1, 100), K.PolynomialDecay(f64(0.1), 100)),
    **{
        f"polynomial_power_{power}_cycle_{cycle}": (
            S.PolynomialDecay(0.1, 37, power=power, cycle=cycle),
            K.PolynomialDecay(f64(0.1), 37, power=power, cycle=cycle),
        )
        for power, cycle in itertools.product([1.0, 0.5, 2.0], [False, True])
    },
    "polynomial_end_0_power_3_cycle": (
        S.PolynomialDecay(0.1, 10, 0.0, power=3.0, cycle=True),
        K.PolynomialDecay(f64(0.1), 10, 0.0, power=3.0, cycle=True),
    ),
    # An end rate above the initial one: Keras lets the rate grow, and so does this.
    "polynomial_growing": (
        S.PolynomialDecay(0.1, 50, 0.2, power=0.5),
        K.PolynomialDecay(f64(0.1), 50, 0.2, power=0.5),
    ),
    "linear_is_polynomial_power_1": (
        S.LinearDecay(0.1, 123, 0.01),
        K.PolynomialDecay(f64(0.1), 123, 0.01, power=1.0),
    ),
    **{
        f"inverse_time_staircase_{staircase}": (
            S.InverseTimeDecay(0.1, 10, 0.5, staircase=staircase),
            K.InverseTimeDecay(f64(0.1), 10, 0.5, staircase=staircase),
        )
        for staircase in (False, True)
    },
    "inverse_time_every_step": (
        S.InverseTimeDecay(0.1, 1, 2.0),
        K.InverseTimeDecay(f64(0.1), 1, 2.0),
    ),
    "restarts_defaults": (S.CosineDecayRestarts(0.1, 20), K.CosineDecayRestarts(f64(0.1), 20)),
    **{
        f"restarts_t_mul_{t_mul}": (
            S.CosineDecayRestarts(0.1, 10, t_mul=t_mul),
            K.CosineDecayRestarts(f64(0.1), 10, t_mul=t_mul),
        )
        for t_mul in (1.0, 1.5, 3.0)
    },
    **{
        f"restarts_t_mul_{t_mul}_m_mul_alpha": (
            S.CosineDecayRestarts(0.1, 7, t_mul=t_mul, m_mul=0.5, alpha=0.1),
            K.CosineDecayRestarts(f64(0.1), 7, t_mul=t_mul, m_mul=0.5, alpha=0.1),
        )
        for t_mul in (1.0, 2.0)
    },
    # Restarts at step 121 = 1 + 3 + 9 + 27 + 81, where a rounded logarithm
    # (Python's math.log) would put the step in the period before.
    "restarts_at_121": (
        S.CosineDecayRestarts(0.1, 1, t_mul=3.0, m_mul=0.9, alpha=0.05),
        K.CosineDecayRestarts(f64(0.1), 1, t_mul=3.0, m_mul=0.9, alpha=0.05),
    ),
    **{
        f"exponential_staircase_{staircase}": (
            S.ExponentialDecay(0.1, 33, 0.5, staircase=staircase),
            K.ExponentialDecay(f64(0.1), 33, 0.5, staircase=staircase),
        )
        for staircase in (False, True)
    },
    "cosine_alpha": (S.CosineDecay(0.01, 100, alpha=0.1), K.CosineDecay(f64(0.01), 100, alpha=0.1)),
    "cosine_warmup": (
        S.CosineDecay(0.01, 300, alpha=0.05, warmup_target=0.5, warmup_steps=50),
        K.CosineDecay(f64(0.01), 300, alpha=0.05, warmup_target=f64(0.5), warmup_steps=50),
    ),
    "piecewise_constant": (
        S.PiecewiseConstantDecay([10, 100, 250, 400], [1.0, 0.5, 0.1, 0.01, 0.001]),
        K.PiecewiseConstantDecay(
            [10, 100, 250, 400], [f64(v) for v in (1.0, 0.5, 0.1, 0.01, 1e-3)]
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_at_steps_0_to_500_are_keras_3s(case: str) -> None:
    ours, theirs = CASES[case]
    assert_same_values(ours, theirs)
