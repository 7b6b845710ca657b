"""Schedules: hand-computed tables, Keras edges, PyTorch StepLR, use as an optimizer's rate."""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pytest

from minitrain import schedules
from minitrain.optimizers import SGD
from minitrain.schedules import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseSqrtDecay,
    LinearDecay,
    PiecewiseConstantDecay,
    Schedule,
    StepDecay,
)

# (schedule, step, value worked by hand)
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
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=initial)
    step_lr = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    schedule = StepDecay(initial, step_size, gamma)
    for epoch in range(20):
        assert schedule(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-13, abs=0.0)
        opt.step()
        step_lr.step()


class TinyModel:
    """Stands in for Sequential: one param p = 0 with gradient 1, so p = -Σ rates."""

    def __init__(self) -> None:
        self.p = np.zeros(1)
        self.g = np.ones(1)

    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        return [("0.w", self.p, self.g)]


@pytest.mark.parametrize(
    "schedule",
    [
        PiecewiseConstantDecay([1, 3], [1.0, 0.5, 0.25]),
        StepDecay(1.0, 2, 0.5),
        WARMUP,
        InverseSqrtDecay(0.1, 3),
    ],
    ids=repr,
)
def test_as_learning_rate_the_kth_update_uses_schedule_at_k_minus_1(schedule: Schedule) -> None:
    opt = SGD(schedule)
    model = TinyModel()
    expected = 0.0
    for k in range(1, 8):
        assert opt.learning_rate == schedule(k - 1)
        opt.step(model)
        expected -= schedule(k - 1)  # p ← p - η · 1, the same arithmetic
        assert opt._last_lr == schedule(k - 1)
        assert model.p[0] == expected


def test_as_learning_rate_pinned_updates() -> None:
    opt = SGD(PiecewiseConstantDecay([1, 3], [1.0, 0.5, 0.25]))
    model = TinyModel()
    for _ in range(5):
        opt.step(model)
    # rates for steps 0..4: 1.0, 1.0, 0.5, 0.5, 0.25 -> p = -3.25
    assert model.p[0] == -3.25


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (Constant(1), "Constant(learning_rate=1.0)"),
        (StepDecay(1.0, 3, 0.5), "StepDecay(initial_learning_rate=1.0, step_size=3, gamma=0.5)"),
        (
            PiecewiseConstantDecay((2, 5), (1.0, 0.5, 0.1)),
            "PiecewiseConstantDecay(boundaries=[2, 5], values=[1.0, 0.5, 0.1])",
        ),
        (
            ExponentialDecay(0.1, 10, 0.5),
            "ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, "
            "staircase=False)",
        ),
        (
            LinearDecay(1.0, 4),
            "LinearDecay(initial_learning_rate=1.0, decay_steps=4, end_learning_rate=0.0)",
        ),
        (InverseSqrtDecay(0.1, 4), "InverseSqrtDecay(initial_learning_rate=0.1, warmup_steps=4)"),
        (
            WARMUP,
            "CosineDecay(initial_learning_rate=0.0, decay_steps=10, alpha=0.0, "
            "warmup_target=1.0, warmup_steps=4)",
        ),
    ],
)
def test_repr_shows_the_arguments(schedule: Schedule, text: str) -> None:
    assert repr(schedule) == text


ALL = [
    Constant(0.1),
    StepDecay(1.0, 3, 0.5),
    PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
    ExponentialDecay(0.1, 10, 0.5, staircase=True),
    LinearDecay(1.0, 4, 0.2),
    InverseSqrtDecay(0.1, 4),
    WARMUP_ALPHA,
]


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_get_config_from_config_round_trip_through_json(schedule: Schedule) -> None:
    config = json.loads(json.dumps(schedule.get_config()))
    assert config["class"] == type(schedule).__name__
    rebuilt = schedules.from_config(config)
    assert type(rebuilt) is type(schedule) and repr(rebuilt) == repr(schedule)
    assert [rebuilt(t) for t in range(30)] == [schedule(t) for t in range(30)]


def test_get_config_holds_the_constructor_arguments() -> None:
    assert WARMUP.get_config() == {
        "class": "CosineDecay",
        "config": {
            "initial_learning_rate": 0.0,
            "decay_steps": 10,
            "alpha": 0.0,
            "warmup_target": 1.0,
            "warmup_steps": 4,
        },
    }


def test_from_config_refuses_unknown_classes() -> None:
    with pytest.raises(ValueError, match="'Constant'"):
        schedules.from_config({"class": "CosineDecayRestarts", "config": {}})
    with pytest.raises(TypeError, match="config"):
        schedules.from_config("CosineDecay")


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_step_must_be_a_non_negative_int(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="step must be a non-negative int, got -1"):
        schedule(-1)
    for bad in (1.0, True, "3", None):
        with pytest.raises(TypeError, match="step"):
            schedule(bad)
    assert schedule(np.int64(3)) == schedule(3) and type(schedule(np.int64(3))) is float


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_a_schedule_takes_one_argument(schedule: Schedule) -> None:
    # LearningRateScheduler tells schedule(epoch) from schedule(epoch, lr) by signature.
    assert list(inspect.signature(schedule).parameters) == ["step"]


@pytest.mark.parametrize(
    ("make", "error", "named"),
    [
        (lambda: Constant(-0.1), ValueError, "learning_rate"),
        (lambda: Constant(math.inf), ValueError, "learning_rate"),
        (lambda: Constant("0.1"), TypeError, "learning_rate"),
        (lambda: StepDecay(-1.0, 2), ValueError, "initial_learning_rate"),
        (lambda: StepDecay(0.1, 0), ValueError, "step_size"),
        (lambda: StepDecay(0.1, 2.0), TypeError, "step_size"),
        (lambda: StepDecay(0.1, 2, gamma=0.0), ValueError, "gamma"),
        (lambda: PiecewiseConstantDecay([1, 2], [1.0, 0.5]), ValueError, "values"),
        (lambda: PiecewiseConstantDecay([1], [1.0, 0.5, 0.1]), ValueError, "values"),
        (lambda: PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1]), ValueError, "boundaries"),
        (lambda: PiecewiseConstantDecay([2, 2], [1.0, 0.5, 0.1]), ValueError, "boundaries"),
        (lambda: PiecewiseConstantDecay([], [1.0]), ValueError, "boundaries"),
        (lambda: PiecewiseConstantDecay([1.5], [1.0, 0.5]), TypeError, "boundaries"),
        (lambda: PiecewiseConstantDecay([1], [1.0, -0.5]), ValueError, r"values\[1\]"),
        (lambda: PiecewiseConstantDecay(5, [1.0]), TypeError, "boundaries"),
        (lambda: ExponentialDecay(0.1, 0, 0.5), ValueError, "decay_steps"),
        (lambda: ExponentialDecay(0.1, 10, 0.0), ValueError, "decay_rate"),
        (lambda: ExponentialDecay(-0.1, 10, 0.5), ValueError, "initial_learning_rate"),
        (lambda: ExponentialDecay(0.1, 10, 0.5, staircase=1), TypeError, "staircase"),
        (lambda: LinearDecay(0.1, -5), ValueError, "decay_steps"),
        (lambda: LinearDecay(0.1, 5, end_learning_rate=-0.01), ValueError, "end_learning_rate"),
        (lambda: InverseSqrtDecay(0.1, 0), ValueError, "warmup_steps"),
        (lambda: InverseSqrtDecay(-0.1, 4), ValueError, "initial_learning_rate"),
        (lambda: CosineDecay(-0.1, 10), ValueError, "initial_learning_rate"),
        (lambda: CosineDecay(0.1, 0), ValueError, "decay_steps"),
        (lambda: CosineDecay(0.1, 10, alpha=1.5), ValueError, "alpha"),
        (lambda: CosineDecay(0.1, 10, alpha=-0.1), ValueError, "alpha"),
        (lambda: CosineDecay(0.1, 10, warmup_target=-1.0), ValueError, "warmup_target"),
        (lambda: CosineDecay(0.1, 10, warmup_steps=-1), ValueError, "warmup_steps"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(make, error, named: str) -> None:
    with pytest.raises(error, match=named):
        make()
