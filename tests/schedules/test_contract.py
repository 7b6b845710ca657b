"""The schedule contract: as an optimizer's rate, repr, name, config, step and argument checks."""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pytest
from signatures import signature

from minitrain import schedules
from minitrain.optimizers import SGD
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

from .test_values import WARMUP, WARMUP_ALPHA


class TinyModel:
    """Stands in for Sequential: one param p = 0 with gradient 1, so p = -Σ rates."""

    def __init__(self) -> None:
        self.p = np.zeros(1)
        self.g = np.ones(1)

    def _param_slots(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        return [("0.w", self.p, self.g)]


@pytest.mark.parametrize(
    "schedule",
    [
        PiecewiseConstantDecay([1, 3], [1.0, 0.5, 0.25]),
        StepDecay(1.0, 2, 0.5),
        WARMUP,
        InverseSqrtDecay(0.1, 3),
        PolynomialDecay(1.0, 3, power=2.0, cycle=True),
        InverseTimeDecay(1.0, 2, 0.5, staircase=True),
        CosineDecayRestarts(1.0, 2, m_mul=0.5),
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
            PolynomialDecay(0.1, 10),
            "PolynomialDecay(initial_learning_rate=0.1, decay_steps=10, "
            "end_learning_rate=0.0001, power=1.0, cycle=False)",
        ),
        (
            InverseTimeDecay(0.1, 10, 0.5),
            "InverseTimeDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, "
            "staircase=False)",
        ),
        (
            CosineDecayRestarts(0.1, 10),
            "CosineDecayRestarts(initial_learning_rate=0.1, first_decay_steps=10, t_mul=2.0, "
            "m_mul=1.0, alpha=0.0)",
        ),
        (Constant(0.1, name="warm"), "Constant(learning_rate=0.1, name='warm')"),
        (
            CosineDecayRestarts(0.1, 10, name="sgdr"),
            "CosineDecayRestarts(initial_learning_rate=0.1, first_decay_steps=10, t_mul=2.0, "
            "m_mul=1.0, alpha=0.0, name='sgdr')",
        ),
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
    PolynomialDecay(0.1, 10, 0.01, power=0.5, cycle=True),
    InverseTimeDecay(0.1, 10, 0.5, staircase=True),
    CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8, alpha=0.1),
    StepDecay(1.0, 3, 0.5, name="step"),
    PolynomialDecay(0.1, 10, name="poly"),
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
        schedules.from_config({"class": "OneCycle", "config": {}})
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
        (lambda: PolynomialDecay(-0.1, 10), ValueError, "initial_learning_rate"),
        (lambda: PolynomialDecay(0.1, 0), ValueError, "decay_steps"),
        (lambda: PolynomialDecay(0.1, -3), ValueError, "decay_steps"),
        (lambda: PolynomialDecay(0.1, 10.0), TypeError, "decay_steps"),
        (lambda: PolynomialDecay(0.1, 10, -0.1), ValueError, "end_learning_rate"),
        (lambda: PolynomialDecay(0.1, 10, power=0.0), ValueError, "power"),
        (lambda: PolynomialDecay(0.1, 10, power=-1.0), ValueError, "power"),
        (lambda: PolynomialDecay(0.1, 10, power=math.inf), ValueError, "power"),
        (lambda: PolynomialDecay(0.1, 10, cycle=1), TypeError, "cycle"),
        (lambda: InverseTimeDecay(-0.1, 10, 0.5), ValueError, "initial_learning_rate"),
        (lambda: InverseTimeDecay(0.1, 0, 0.5), ValueError, "decay_steps"),
        (lambda: InverseTimeDecay(0.1, 10, -0.5), ValueError, "decay_rate"),
        (lambda: InverseTimeDecay(0.1, 10, math.nan), ValueError, "decay_rate"),
        (lambda: InverseTimeDecay(0.1, 10, 0.5, staircase="yes"), TypeError, "staircase"),
        (lambda: CosineDecayRestarts(-0.1, 10), ValueError, "initial_learning_rate"),
        (lambda: CosineDecayRestarts(0.1, 0), ValueError, "first_decay_steps"),
        (lambda: CosineDecayRestarts(0.1, -1), ValueError, "first_decay_steps"),
        (lambda: CosineDecayRestarts(0.1, 10, t_mul=0.5), ValueError, "t_mul"),
        (lambda: CosineDecayRestarts(0.1, 10, t_mul=math.inf), ValueError, "t_mul"),
        (lambda: CosineDecayRestarts(0.1, 10, m_mul=-0.5), ValueError, "m_mul"),
        (lambda: CosineDecayRestarts(0.1, 10, alpha=1.5), ValueError, "alpha"),
        (lambda: CosineDecayRestarts(0.1, 10, alpha=-0.1), ValueError, "alpha"),
        (lambda: Constant(0.1, name=3), TypeError, "name"),
        (lambda: CosineDecayRestarts(0.1, 10, name=b"x"), TypeError, "name"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(make, error, named: str) -> None:
    with pytest.raises(error, match=named):
        make()


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_a_name_is_kept_in_the_config_only_when_set(schedule: Schedule) -> None:
    config = schedule.get_config()
    assert ("name" in config["config"]) is (schedule.name is not None)
    named = schedules.from_config(
        {"class": config["class"], "config": {**config["config"], "name": "lr"}}
    )
    assert named.name == "lr" and named.get_config()["config"]["name"] == "lr"
    assert repr(named).endswith("name='lr')")
    assert [named(t) for t in range(20)] == [schedule(t) for t in range(20)]


def test_every_schedule_takes_name_none_by_default() -> None:
    for name in schedules.__all__:
        cls = getattr(schedules, name)
        if isinstance(cls, type) and issubclass(cls, Schedule) and cls is not Schedule:
            assert inspect.signature(cls).parameters["name"].default is None, name


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (Constant, "learning_rate, name=None"),
        (StepDecay, "initial_learning_rate, step_size, gamma=0.1, name=None"),
        (PiecewiseConstantDecay, "boundaries, values, name=None"),
        (
            ExponentialDecay,
            "initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None",
        ),
        (
            CosineDecay,
            "initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, "
            "warmup_steps=0, name=None",
        ),
        (LinearDecay, "initial_learning_rate, decay_steps, end_learning_rate=0.0, name=None"),
        (InverseSqrtDecay, "initial_learning_rate, warmup_steps, name=None"),
        (
            PolynomialDecay,
            "initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, "
            "cycle=False, name=None",
        ),
        (
            InverseTimeDecay,
            "initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None",
        ),
        (
            CosineDecayRestarts,
            "initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name=None",
        ),
    ],
)
def test_constructor_arguments_and_defaults_are_the_contract(cls, expected) -> None:
    assert signature(cls) == expected
