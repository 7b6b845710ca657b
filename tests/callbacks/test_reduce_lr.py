"""ReduceLROnPlateau: hand-traced tables of rate, wait and cooldown per epoch (Keras 3.15.1)."""

import pytest

from minitrain.callbacks import LambdaCallback, ReduceLROnPlateau

from .fakes import FakeModel, run_fit


def trace(callback, values, learning_rate=0.1, monitor="val_loss"):
    """After each epoch end: (rate, wait, cooldown_counter)."""
    model = FakeModel(learning_rate)
    rows = []
    spy = LambdaCallback(
        on_epoch_end=lambda epoch, logs: rows.append(
            (model.optimizer.learning_rate, callback.wait, callback.cooldown_counter)
        )
    )
    run_fit(model, [callback, spy], [{monitor: float(v)} for v in values])
    return rows


def test_a_plateau_with_cooldown_2_and_min_lr():
    # A flat val_loss of 1.0; factor 0.5, patience 2, cooldown 2, min_lr 0.02.
    # epoch 0: first value, best = 1        -> wait 0
    # epoch 1: no improvement               -> wait 1
    # epoch 2: wait 2 >= 2: 0.1 -> 0.05, cooldown 2, wait 0
    # epoch 3: cooldown 2 -> 1, still cooling: wait stays 0
    # epoch 4: cooldown 1 -> 0, no longer cooling: wait 1
    # epoch 5: wait 2: 0.05 -> 0.025, cooldown 2
    # epoch 6, 7: as epochs 3, 4
    # epoch 8: wait 2: 0.025 -> max(0.0125, 0.02) = 0.02, cooldown 2
    # epoch 9, 10: as epochs 3, 4
    # epoch 11, 12: wait 2, 3, but 0.02 is not above float32(0.02): no change, no reset
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2, min_lr=0.02)
    assert trace(cb, [1.0] * 13) == [
        (0.1, 0, 0),
        (0.1, 1, 0),
        (0.05, 0, 2),
        (0.05, 0, 1),
        (0.05, 1, 0),
        (0.025, 0, 2),
        (0.025, 0, 1),
        (0.025, 1, 0),
        (0.02, 0, 2),
        (0.02, 0, 1),
        (0.02, 1, 0),
        (0.02, 2, 0),
        (0.02, 3, 0),
    ]
    assert cb.best == 1.0


@pytest.mark.parametrize("cooldown", [0, 1])
def test_cooldown_1_acts_like_cooldown_0_as_keras(cooldown):
    # The cooldown test follows the decrement, so a cooldown of 1 is over at once:
    # a reduction every second epoch after the first two, in both cases.
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=cooldown, min_lr=0.02)
    rates = [rate for rate, _, _ in trace(cb, [1.0] * 9)]
    assert rates == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02]


def test_min_delta_decides_what_counts_as_an_improvement():
    # min_delta 1e-4: 0.99995 is no improvement on 1.0 (reduce, patience 1); 0.9 is
    # (best 0.9); 0.89999 is not (reduce again).
    cb = ReduceLROnPlateau(factor=0.5, patience=1)
    rows = trace(cb, [1.0, 0.99995, 0.9, 0.89999])
    assert [rate for rate, _, _ in rows] == [0.1, 0.05, 0.05, 0.025]
    assert cb.best == 0.9


def test_an_improvement_during_cooldown_updates_best():
    cb = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=3)
    rows = trace(cb, [1.0, 1.0, 0.5, 0.6, 0.7, 0.8])
    # epoch 1: reduce, cooldown 3; epoch 2: cooldown 2, improvement (best 0.5);
    # epoch 3: cooldown 1, still cooling; epoch 4: cooldown 0, wait 1: reduce.
    assert rows == [
        (0.1, 0, 0),
        (0.05, 0, 3),
        (0.05, 0, 2),
        (0.05, 0, 1),
        (0.025, 0, 3),
        (0.025, 0, 2),
    ]
    assert cb.best == 0.5


@pytest.mark.parametrize(("monitor", "mode"), [("val_accuracy", "auto"), ("accuracy", "max")])
def test_max_mode_reduces_when_the_value_stops_rising(monitor, mode):
    cb = ReduceLROnPlateau(monitor=monitor, mode=mode, factor=0.5, patience=1)
    rows = trace(cb, [0.5, 0.6, 0.6, 0.7], monitor=monitor)
    assert [rate for rate, _, _ in rows] == [0.1, 0.1, 0.05, 0.05]


def test_state_resets_with_each_fit():
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=3)
    trace(cb, [0.5, 0.5, 0.5])  # ends with a reduction: cooldown 3, best 0.5
    assert (cb.wait, cb.cooldown_counter, cb.best) == (0, 3, 0.5)
    # A fresh fit: 0.9 is the first value, hence the best, though worse than 0.5.
    assert trace(cb, [0.9, 0.9, 0.9]) == [(0.1, 0, 0), (0.1, 1, 0), (0.05, 0, 3)]
    assert cb.best == 0.9


def test_the_epoch_logs_get_the_rate_before_the_reduction():
    model = FakeModel(0.1)
    cb = ReduceLROnPlateau(factor=0.5, patience=1)
    history = run_fit(model, [cb], [{"val_loss": 1.0}] * 3)
    assert history.history["learning_rate"] == [0.1, 0.1, 0.05]
    assert model.optimizer.learning_rate == 0.025


def test_the_first_reduction_on_a_schedule_built_optimizer_is_a_type_error():
    model = FakeModel(learning_rate=lambda step: 0.1)
    cb = ReduceLROnPlateau(patience=2)
    with pytest.raises(TypeError, match="built with a schedule"):
        run_fit(model, [cb], [{"val_loss": 1.0}] * 5)
    assert cb.wait == 2  # epochs 0 and 1 ran; epoch 2 tried the reduction


def test_verbose_prints_each_reduction(capsys):
    run_fit(
        FakeModel(0.1),
        [ReduceLROnPlateau(factor=0.5, patience=1, verbose=1)],
        [{"val_loss": 1.0}] * 3,
    )
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.05.\n"
        "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.025.\n"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"factor": 1.0}, ValueError, r"factor must be a real number in \[0.0, 1.0\), got 1.0"),
        ({"factor": 1.5}, ValueError, "factor must be a real number"),
        ({"factor": -0.1}, ValueError, "factor must be a real number"),
        ({"min_lr": -1e-3}, ValueError, "min_lr must be a real number"),
        ({"patience": -1}, ValueError, "patience must be a non-negative int"),
        ({"cooldown": 0.5}, TypeError, "cooldown must be a non-negative int"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        ReduceLROnPlateau(**kwargs)
