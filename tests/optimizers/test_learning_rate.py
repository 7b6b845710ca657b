"""The learning rate: a float or a schedule read at iterations; the setter's checks."""

from __future__ import annotations

import numpy as np
import oracles
import pytest

from minitrain import optimizers, schedules
from minitrain.optimizers import SGD, Adagrad, Adam, RMSprop

from . import test_adam, test_sgd
from .fakes import TinyModel, run_against_torch

torch = oracles.torch()

TORCH_CASES = {
    **test_sgd.TORCH_CASES,
    **test_adam.TORCH_CASES,
    "rmsprop_centered_momentum": (
        lambda: RMSprop(0.01, momentum=0.9, centered=True),
        lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True),
    ),
    "adagrad": (lambda: Adagrad(0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
}


@pytest.mark.parametrize(
    "case",
    [
        "sgd_nesterov_weight_decay",
        "adam",
        "adamw_weight_decay",
        "rmsprop_centered_momentum",
        "adagrad",
    ],
)
def test_schedule_learning_rate_matches_torch_with_the_rate_set_by_hand(case: str) -> None:
    make_ours, make_theirs = TORCH_CASES[case]
    config = make_ours().get_config()
    schedule = schedules.CosineDecay(0.0, 6, alpha=0.1, warmup_target=0.05, warmup_steps=3)
    config["config"]["learning_rate"] = schedule.get_config()
    ours = optimizers.from_config(config)
    model, theirs = run_against_torch(ours, make_theirs, schedule)
    assert ours._last_lr == schedule(9)
    for key, expected in theirs:
        np.testing.assert_allclose(model.params[key], expected, rtol=1e-12, atol=1e-14)


def test_learning_rate_setter_checks_its_value_and_refuses_schedules() -> None:
    opt = SGD(0.1)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and type(opt.learning_rate) is float
    opt.learning_rate = np.float32(0.25)
    assert opt.learning_rate == 0.25 and type(opt.learning_rate) is float
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -0.1
    with pytest.raises(TypeError, match="learning_rate"):
        opt.learning_rate = "0.1"
    assert opt.learning_rate == 0.25
    scheduled = Adam(schedules.Constant(0.1))
    with pytest.raises(TypeError, match="schedule"):
        scheduled.learning_rate = 0.2
    assert scheduled.learning_rate == 0.1


def test_learning_rate_reads_the_schedule_at_iterations() -> None:
    opt = SGD(schedules.StepDecay(1.0, step_size=2, gamma=0.5))
    model = TinyModel({"0.w": np.array([0.0])})
    model.set_grads({"0.w": np.array([1.0])})
    seen = []
    for _ in range(5):
        seen.append(opt.learning_rate)
        opt.step(model)
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.25]
    # p = -(1 + 1 + 0.5 + 0.5 + 0.25)
    np.testing.assert_array_equal(model.params["0.w"], [-3.25])


def test_a_schedule_returning_a_negative_rate_is_refused_before_any_update() -> None:
    opt = SGD(lambda step: -1.0)
    model = TinyModel({"0.w": np.array([0.0])})
    model.set_grads({"0.w": np.array([1.0])})
    with pytest.raises(ValueError, match="learning_rate schedule"):
        opt.step(model)
    np.testing.assert_array_equal(model.params["0.w"], [0.0])
    assert opt.iterations == 0
