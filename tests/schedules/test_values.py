"""Schedule values: hand-computed tables, Keras edges worked out, PyTorch StepLR."""

from __future__ import annotations

import math

import numpy as np
import oracles
import pytest

from minitrain.schedules import (
    Constant,
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    LinearDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    Schedule,
    StepDecay,
)

TABLE = [
    (Constant(0.1), 0, 0.1),
    (Constant(0.1), 7, 0.1),
    (Constant(0.1), 10**6, 0.1),
    # 1.0 · 0.5^⌊t/3⌋
    (StepDecay(1.0, 3, 0.5), 0, 1.0),
    (StepDecay(1.0, 3, 0.5), 2, 1.0),
    (StepDecay(1.0, 3, 0.5), 3, 0.5),
    (StepDecay(1.0, 3, 0.5), 5, 0.5),
    (StepDecay(1.0, 3, 0.5), 6, 0.25),
    (StepDecay(1.0, 3, 0.5), 10, 0.125),
    (StepDecay(0.1, 2), 4, 0.001),  # default γ = 0.1: 0.1 · 0.1²
    # values[i] for boundaries[i-1] < t <= boundaries[i]: a boundary closes its interval.
    (PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]), 0, 1.0),
    (PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]), 2, 1.0),
    (PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]), 3, 0.5),
    (PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]), 5, 0.5),
    (PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]), 6, 0.1),
    (PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]), 100, 0.1),
    (PiecewiseConstantDecay([0], [1.0, 0.2]), 0, 1.0),
    (PiecewiseConstantDecay([0], [1.0, 0.2]), 1, 0.2),
    # 0.1 · 0.5^(t/10)
    (ExponentialDecay(0.1, 10, 0.5), 0, 0.1),
    (ExponentialDecay(0.1, 10, 0.5), 5, 0.07071067811865477),  # 0.1 · sqrt(0.5)
    (ExponentialDecay(0.1, 10, 0.5), 10, 0.05),
    (ExponentialDecay(0.1, 10, 0.5), 25, 0.017677669529663688),  # 0.1 · 0.5^2.5
    # staircase: 0.1 · 0.5^⌊t/10⌋
    (ExponentialDecay(0.1, 10, 0.5, staircase=True), 5, 0.1),
    (ExponentialDecay(0.1, 10, 0.5, staircase=True), 19, 0.05),
    (ExponentialDecay(0.1, 10, 0.5, staircase=True), 25, 0.025),
    # (1.0 - 0.2) · (1 - min(t, 4)/4) + 0.2
    (LinearDecay(1.0, 4, 0.2), 0, 1.0),
    (LinearDecay(1.0, 4, 0.2), 1, 0.8),
    (LinearDecay(1.0, 4, 0.2), 3, 0.4),
    (LinearDecay(1.0, 4, 0.2), 4, 0.2),
    (LinearDecay(1.0, 4, 0.2), 9, 0.2),
    (LinearDecay(0.5, 10), 5, 0.25),
    (LinearDecay(0.5, 10), 10, 0.0),
    (LinearDecay(0.5, 10), 11, 0.0),
    # 1.0 · min((t+1)/4, sqrt(4/(t+1))): peak 1.0 at t = 3
    (InverseSqrtDecay(1.0, 4), 0, 0.25),
    (InverseSqrtDecay(1.0, 4), 1, 0.5),
    (InverseSqrtDecay(1.0, 4), 3, 1.0),
    (InverseSqrtDecay(1.0, 4), 4, 0.894427190999916),  # sqrt(4/5)
    (InverseSqrtDecay(1.0, 4), 15, 0.5),  # sqrt(4/16)
    (InverseSqrtDecay(1.0, 4), 99, 0.2),  # sqrt(4/100)
    # 1.0 · ½(1 + cos(π min(t, 10)/10))
    (CosineDecay(1.0, 10), 0, 1.0),
    (CosineDecay(1.0, 10), 2, 0.9045084971874737),  # ½(1 + cos(π/5))
    (CosineDecay(1.0, 10), 5, 0.5),
    (CosineDecay(1.0, 10), 10, 0.0),
    (CosineDecay(1.0, 10), 15, 0.0),
    # with α = 0.1: 0.9 · cosine + 0.1
    (CosineDecay(1.0, 10, alpha=0.1), 5, 0.55),
    (CosineDecay(1.0, 10, alpha=0.1), 10, 0.1),
    (CosineDecay(1.0, 10, alpha=0.1), 50, 0.1),
    # (1.0 - 0.0) · (1 - min(t, 4)/4)^2
    (PolynomialDecay(1.0, 4, 0.0, power=2.0), 1, 0.5625),
    (PolynomialDecay(1.0, 4, 0.0, power=2.0), 2, 0.25),
    (PolynomialDecay(1.0, 4, 0.0, power=2.0), 4, 0.0),
    (PolynomialDecay(1.0, 4, 0.0, power=2.0), 9, 0.0),
    (PolynomialDecay(1.0, 4, 0.2, power=0.5), 3, 0.6),  # 0.8 · sqrt(1/4) + 0.2
    # cycle: D becomes 4 · max(1, ⌈t/4⌉): t = 0 uses 4 (not 0), t = 4 ends the first period
    (PolynomialDecay(1.0, 4, 0.0, cycle=True), 0, 1.0),
    (PolynomialDecay(1.0, 4, 0.0, cycle=True), 4, 0.0),
    (PolynomialDecay(1.0, 4, 0.0, cycle=True), 5, 0.375),  # 1 - 5/8
    (PolynomialDecay(1.0, 4, 0.0, cycle=True), 8, 0.0),
    (PolynomialDecay(1.0, 4, 0.0, cycle=True), 9, 0.25),  # 1 - 9/12
    (PolynomialDecay(1.0, 4), 100, 0.0001),  # the default end rate
    # 1.0 / (1 + 0.5 · t/2), and with ⌊t/2⌋ when staircase
    (InverseTimeDecay(1.0, 2, 0.5), 0, 1.0),
    (InverseTimeDecay(1.0, 2, 0.5), 2, 0.6666666666666666),  # 1 / 1.5
    (InverseTimeDecay(1.0, 2, 0.5), 3, 0.5714285714285714),  # 1 / 1.75
    (InverseTimeDecay(1.0, 2, 0.5), 6, 0.4),  # 1 / 2.5
    (InverseTimeDecay(1.0, 2, 0.5, staircase=True), 3, 0.6666666666666666),
    (InverseTimeDecay(1.0, 2, 0.5, staircase=True), 5, 0.5),
    (InverseTimeDecay(1.0, 2, 0.0), 50, 1.0),  # rate 0: constant
    # periods [0, 4), [4, 12), [12, 28) (t_mul = 2), heights 1, 0.5, 0.25 (m_mul = 0.5)
    (CosineDecayRestarts(1.0, 4, m_mul=0.5), 0, 1.0),
    (CosineDecayRestarts(1.0, 4, m_mul=0.5), 2, 0.5),  # ½(1 + cos(π/2))
    (CosineDecayRestarts(1.0, 4, m_mul=0.5), 4, 0.5),  # restart: 0.5 · ½(1 + cos 0)
    (CosineDecayRestarts(1.0, 4, m_mul=0.5), 8, 0.25),  # halfway through the second
    (CosineDecayRestarts(1.0, 4, m_mul=0.5), 12, 0.25),
    (CosineDecayRestarts(1.0, 4, m_mul=0.5), 20, 0.125),
    # α = 0.2 is not scaled by m_mul: 0.8 · 0.5 + 0.2 at the first restart
    (CosineDecayRestarts(1.0, 4, m_mul=0.5, alpha=0.2), 4, 0.6),
    # t_mul = 1: every period is 4 steps
    (CosineDecayRestarts(1.0, 4, t_mul=1.0), 3, 0.14644660940672627),  # ½(1 + cos(3π/4))
    (CosineDecayRestarts(1.0, 4, t_mul=1.0), 4, 1.0),
    (CosineDecayRestarts(1.0, 4, t_mul=1.0), 6, 0.5),
    (CosineDecayRestarts(1.0, 4, t_mul=1.0), 400, 1.0),
]


@pytest.mark.parametrize(("schedule", "step", "expected"), TABLE)
def test_schedule_values_match_the_hand_table(
    schedule: Schedule, step: int, expected: float
) -> None:
    value = schedule(step)
    assert type(value) is float
    assert value == pytest.approx(expected, rel=1e-14, abs=0.0)


# Keras 3 CosineDecay with warmup: W = 4 steps from 0.0 up to 1.0, then D = 10 steps of cosine.
WARMUP = CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
# W = 5 from 0.1 up to 0.5, D = 10 down to α · 0.5 = 0.1.
WARMUP_ALPHA = CosineDecay(0.1, 10, alpha=0.2, warmup_target=0.5, warmup_steps=5)


@pytest.mark.parametrize(
    ("schedule", "step", "expected"),
    [
        (WARMUP, 0, 0.0),  # step 0: the initial rate
        (WARMUP, 1, 0.25),  # 0 + (1 - 0) · 1/4
        (WARMUP, 3, 0.75),  # warmup_steps - 1: still warming, 3/4
        (WARMUP, 4, 1.0),  # warmup_steps: the decay starts, at the target exactly
        (WARMUP, 7, 0.7938926261462366),  # ½(1 + cos(0.3π))
        (WARMUP, 9, 0.5),  # halfway through the decay
        (WARMUP, 14, 0.0),  # warmup_steps + decay_steps: the end, α · 1.0 = 0
        (WARMUP, 100, 0.0),  # clamped after the end
        (WARMUP_ALPHA, 0, 0.1),
        (WARMUP_ALPHA, 4, 0.42),  # 0.1 + 0.4 · 4/5
        (WARMUP_ALPHA, 5, 0.5),
        (WARMUP_ALPHA, 10, 0.3),  # 0.5 · (0.8 · ½ + 0.2)
        (WARMUP_ALPHA, 15, 0.1),  # 0.5 · 0.2
        (WARMUP_ALPHA, 1000, 0.1),
        # Keras quirks, kept: warmup_steps without warmup_target is ignored ...
        (CosineDecay(1.0, 10, warmup_steps=4), 0, 1.0),
        (CosineDecay(1.0, 10, warmup_steps=4), 5, 0.5),
        # ... and warmup_target with warmup_steps=0 starts the decay at the target.
        (CosineDecay(0.3, 10, warmup_target=1.0), 0, 1.0),
        (CosineDecay(0.3, 10, warmup_target=1.0), 5, 0.5),
    ],
)
def test_cosine_decay_warmup_edges_are_keras_3s(
    schedule: CosineDecay, step: int, expected: float
) -> None:
    assert schedule(step) == pytest.approx(expected, rel=1e-14, abs=0.0)


@pytest.mark.parametrize(
    ("init", "target", "alpha", "warmup", "decay"),
    [(0.0, 0.01, 0.0, 10, 50), (0.002, 0.01, 0.05, 7, 33), (0.01, None, 0.1, 0, 40)],
)
def test_cosine_decay_matches_the_direct_formula(init, target, alpha, warmup, decay) -> None:
    schedule = CosineDecay(init, decay, alpha=alpha, warmup_target=target, warmup_steps=warmup)
    t = np.arange(0, warmup + decay + 20)
    peak = init if target is None else target
    warm = init + (peak - init) * t / max(warmup, 1)
    after = np.minimum(t - warmup, decay) / decay
    cosine = peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * after)) + alpha)
    expected = np.where(t < warmup, warm, cosine)
    got = np.array([schedule(int(k)) for k in t])
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-18)
    assert got[warmup] == peak and got[-1] == pytest.approx(alpha * peak, abs=1e-18)


@pytest.mark.parametrize(("initial", "step_size", "gamma"), [(0.3, 3, 0.7), (1.0, 1, 0.5)])
def test_step_decay_matches_torch_step_lr(initial: float, step_size: int, gamma: float) -> None:
    torch = oracles.torch()
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=initial)
    step_lr = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    schedule = StepDecay(initial, step_size, gamma)
    for epoch in range(20):
        assert schedule(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-13, abs=0.0)
        opt.step()
        step_lr.step()


def test_cosine_decay_restarts_lands_on_every_restart_step() -> None:
    # t_mul = 3, D = 1: period i starts at S_i = (3^i - 1) / 2 = 0, 1, 4, 13, 40, 121, 364
    # at the full height m_mul^i; the step before is the last of period i - 1, whose
    # 3^(i-1) steps end at f = (3^(i-1) - 1) / 3^(i-1).
    schedule = CosineDecayRestarts(1.0, 1, t_mul=3.0, m_mul=0.5)
    for i, start in enumerate([0, 1, 4, 13, 40, 121, 364]):
        assert schedule(start) == 0.5**i
        if i >= 2:
            length = 3 ** (i - 1)
            last = 0.5 ** (i - 1) * 0.5 * (1 + math.cos(math.pi * (length - 1) / length))
            assert schedule(start - 1) == pytest.approx(last, rel=1e-12, abs=0.0)
            assert schedule(start - 1) < schedule(start)  # the rate jumps back up
