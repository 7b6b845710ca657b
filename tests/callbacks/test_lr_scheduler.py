"""LearningRateScheduler: one- or two-argument schedules told apart by signature."""

import functools

import numpy as np
import pytest

from minitrain.callbacks import LambdaCallback, LearningRateScheduler
from minitrain.callbacks.lr_scheduler import takes_two_arguments

from .fakes import FakeModel, run_fit


def rates_per_epoch(schedule, epochs=3, learning_rate=0.08):
    """The optimizer's rate during each epoch (read right after on_epoch_begin)."""
    model = FakeModel(learning_rate)
    seen = []
    spy = LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate)
    )
    run_fit(model, [LearningRateScheduler(schedule), spy], [{"loss": 1.0}] * epochs)
    return seen


def halve_from_0_1(epoch):
    return 0.1 * 0.5**epoch


def halve_current(epoch, lr):
    return lr * 0.5


def scaled(epoch, lr, factor):
    return lr * factor


def over_epoch(base, epoch):
    return base / (epoch + 1)


class OneArgument:
    def __call__(self, epoch):
        return 0.2 / (epoch + 1)


class TwoArguments:
    def __call__(self, epoch, lr):
        return lr + 0.01


def star_args(*args):
    return args[1] * 0.5


# Start at 0.08; a two-argument schedule sees the current rate, a one-argument one does not.
@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (halve_from_0_1, [0.1, 0.05, 0.025]),
        (halve_current, [0.04, 0.02, 0.01]),
        (lambda epoch, lr=0.3: lr * 0.5, [0.04, 0.02, 0.01]),  # gets lr, not its default
        (lambda epoch: 0.01 * (epoch + 1), [0.01, 0.02, 0.03]),
        (OneArgument(), [0.2, 0.1, 0.2 / 3]),
        (TwoArguments(), [0.09, 0.09 + 0.01, 0.09 + 0.01 + 0.01]),
        (functools.partial(scaled, factor=0.5), [0.04, 0.02, 0.01]),
        (functools.partial(over_epoch, 0.3), [0.3, 0.3 / 2, 0.3 / 3]),
        (star_args, [0.04, 0.02, 0.01]),
    ],
)
def test_the_schedule_sets_each_epoch_rate(schedule, expected):
    assert rates_per_epoch(schedule) == expected


@pytest.mark.parametrize(
    ("fn", "two"),
    [
        (halve_from_0_1, False),
        (halve_current, True),
        (lambda epoch, lr=0.3: lr, True),
        (lambda epoch, *, lr=0.3: lr, False),  # lr cannot be passed positionally
        (OneArgument(), False),
        (TwoArguments(), True),
        (functools.partial(scaled, factor=0.5), True),
        (functools.partial(over_epoch, 0.3), False),
        (star_args, True),
        (max, True),  # no readable signature: the (epoch, lr) form, tried first by Keras
    ],
)
def test_takes_two_arguments_reads_the_signature(fn, two):
    assert takes_two_arguments(fn) is two


@pytest.mark.parametrize("schedule", [halve_from_0_1, halve_current])
def test_a_type_error_inside_the_schedule_propagates_and_is_not_retried(schedule):
    calls = []

    def failing(*args):
        calls.append(len(args))
        raise TypeError("broken schedule")

    wrapped = functools.wraps(schedule)(failing)  # carries the schedule's signature
    with pytest.raises(TypeError, match="broken schedule"):
        rates_per_epoch(wrapped)
    assert calls == [1 if schedule is halve_from_0_1 else 2]


@pytest.mark.parametrize("result", [np.float32(0.5), np.float64(0.25), 0.125, np.float16(0.5)])
def test_python_and_numpy_floats_are_accepted(result):
    rates = rates_per_epoch(lambda epoch: result, epochs=1)
    assert rates == [float(result)] and type(rates[0]) is float


@pytest.mark.parametrize("result", [1, True, "0.1", np.int64(1), np.array(0.1), None])
def test_a_result_that_is_not_a_float_is_a_value_error(result):
    with pytest.raises(ValueError, match="must return a float, got .* at epoch 0"):
        rates_per_epoch(lambda epoch: result, epochs=1)


@pytest.mark.parametrize("result", [-0.1, float("nan")])
def test_a_negative_rate_is_a_value_error(result):
    with pytest.raises(ValueError, match="must return a learning rate >= 0"):
        rates_per_epoch(lambda epoch: result, epochs=1)


def test_an_optimizer_built_with_a_schedule_refuses_with_type_error():
    model = FakeModel(learning_rate=lambda step: 0.1)
    with pytest.raises(TypeError, match="built with a schedule"):
        run_fit(model, [LearningRateScheduler(halve_from_0_1)], [{"loss": 1.0}])


def test_the_epoch_end_logs_get_the_rate_as_keras():
    history = run_fit(FakeModel(0.08), [LearningRateScheduler(halve_current)], [{"loss": 1.0}] * 2)
    assert history.history["learning_rate"] == [0.04, 0.02]


def test_epochs_are_absolute():
    model = FakeModel(0.08)
    seen = []
    spy = LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(model.optimizer.learning_rate))
    run_fit(
        model, [LearningRateScheduler(halve_from_0_1), spy], [{"loss": 1.0}] * 4, initial_epoch=2
    )
    assert seen == [0.025, 0.0125]


def test_verbose_prints_each_rate(capsys):
    run_fit(FakeModel(), [LearningRateScheduler(halve_from_0_1, verbose=1)], [{"loss": 1.0}] * 2)
    assert capsys.readouterr().out == (
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n"
        "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05.\n"
    )


def test_a_schedule_that_is_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="schedule must be callable, got 0.1"):
        LearningRateScheduler(0.1)
