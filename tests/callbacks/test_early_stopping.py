"""EarlyStopping against hand-traced Keras 3.15.1 behaviour, driven by scripted logs."""

import numpy as np
import pytest

from minitrain.callbacks import EarlyStopping

from .fakes import FakeModel, epochs_run, run_fit

LOSSES = [10, 9, 8, 9, 8.9, 8.8, 8.7, 8.6, 8.5]


def as_logs(values, key="loss"):
    return [{key: float(v)} for v in values]


# Trace for LOSSES (best 8 from epoch 2 on; `wait` counts from there):
# epoch 3: wait 1, epoch 4: wait 2, ... epoch 8: wait 6; stop once wait >= patience.
# patience 0 and 1 both stop at epoch 3: wait is incremented before the comparison.
@pytest.mark.parametrize(
    ("patience", "stopped_epoch"),
    [(0, 3), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7), (6, 8)],
)
def test_stops_when_wait_reaches_patience(patience, stopped_epoch):
    model = FakeModel()
    es = EarlyStopping(monitor="loss", patience=patience)
    history = run_fit(model, [es], as_logs(LOSSES))
    assert es.stopped_epoch == stopped_epoch
    assert epochs_run(history) == stopped_epoch + 1
    assert model.stop_training is True
    assert (es.best, es.best_epoch) == (8.0, 2)


def test_patience_beyond_the_plateau_never_stops():
    model = FakeModel()
    es = EarlyStopping(monitor="loss", patience=7)
    history = run_fit(model, [es], as_logs(LOSSES))
    assert (es.stopped_epoch, epochs_run(history), model.stop_training) == (0, 9, False)
    assert es.wait == 6


@pytest.mark.parametrize("values", [[1, 2], [3, 2, 1, 1], [5, 4, 6, 3, 7]])
def test_patience_0_and_1_stop_at_the_same_epoch(values):
    stops = []
    for patience in (0, 1):
        es = EarlyStopping(monitor="loss", patience=patience)
        run_fit(FakeModel(), [es], as_logs(values))
        stops.append(es.stopped_epoch)
    assert stops[0] == stops[1] > 0


def test_restore_best_weights_after_an_early_stop():
    # val_loss 0.2, 0.15, 0.1 (best, epoch 2), 0.11 (wait 1), 0.12 (wait 2 >= 2: stop).
    model = FakeModel()
    es = EarlyStopping(patience=2, restore_best_weights=True)
    history = run_fit(model, [es], as_logs([0.2, 0.15, 0.1, 0.11, 0.12], "val_loss"))
    assert epochs_run(history) == 5 and es.stopped_epoch == 4
    assert (es.best, es.best_epoch) == (0.1, 2)
    np.testing.assert_array_equal(model.w, [2.0, 2.0, 2.0])  # epoch 2's weights, not epoch 4's
    np.testing.assert_array_equal(es.best_weights["0.W"], [2.0, 2.0, 2.0])


def test_restore_best_weights_also_when_training_ends_without_an_early_stop():
    model = FakeModel()
    es = EarlyStopping(patience=5, restore_best_weights=True)
    run_fit(model, [es], as_logs([0.3, 0.1, 0.2], "val_loss"))
    assert es.stopped_epoch == 0 and model.stop_training is False
    np.testing.assert_array_equal(model.w, [1.0, 1.0, 1.0])


def test_without_restore_the_last_weights_stay_and_nothing_is_kept():
    model = FakeModel()
    es = EarlyStopping(patience=2)
    run_fit(model, [es], as_logs([0.2, 0.15, 0.1, 0.11, 0.12], "val_loss"))
    np.testing.assert_array_equal(model.w, [4.0, 4.0, 4.0])
    assert es.best_weights is None


def test_an_epoch_improving_on_best_but_not_on_baseline_does_not_reset_wait():
    # baseline 8.5: epochs 0 and 1 improve on best but not on the baseline, so wait
    # grows 1, 2 without a reset and without a stop (improving epochs never stop);
    # epoch 2 does not improve: wait 3 >= 2, stop. Without a baseline it would run on.
    model = FakeModel()
    es = EarlyStopping(monitor="loss", patience=2, baseline=8.5, restore_best_weights=True)
    es.set_model(model)
    es.on_train_begin()
    waits = []
    for epoch, logs in enumerate(as_logs([10, 9, 9.5, 8, 7])):
        model.w[:] = epoch
        es.on_epoch_end(epoch, logs)
        waits.append(es.wait)
        if model.stop_training:
            break
    assert waits == [1, 2, 3]
    assert es.stopped_epoch == 2 and (es.best, es.best_epoch) == (9.0, 1)
    es.on_train_end()
    np.testing.assert_array_equal(model.w, [1.0, 1.0, 1.0])  # restored although > baseline

    plain = EarlyStopping(monitor="loss", patience=2)
    history = run_fit(FakeModel(), [plain], as_logs([10, 9, 9.5, 8, 7]))
    assert plain.stopped_epoch == 0 and epochs_run(history) == 5


def test_beating_the_baseline_resets_wait():
    # baseline 8.5: wait 1, 2 (no reset), then 8 beats it: wait 0; 9 and 8.9: wait 1, 2: stop.
    es = EarlyStopping(monitor="loss", patience=2, baseline=8.5)
    run_fit(FakeModel(), [es], as_logs([10, 9, 8, 9, 8.9, 8.8]))
    assert es.stopped_epoch == 4


def test_never_stops_at_epoch_0():
    # Epoch 0 does not beat the baseline, so wait = 1 >= patience 0, but it is an
    # improvement (the first monitored value always is): no stop until epoch 1.
    model = FakeModel()
    es = EarlyStopping(monitor="loss", patience=0, baseline=5)
    history = run_fit(model, [es], as_logs([10, 11, 12]))
    assert es.stopped_epoch == 1 and epochs_run(history) == 2


def test_start_from_epoch_ignores_the_warm_up_epochs():
    # Epochs 0-2 are not monitored; 13 (epoch 3) is the first best, 12.5 improves,
    # 14 does not: wait 1 >= 1, stop at epoch 5. Monitored from epoch 0, it stops at 1.
    es = EarlyStopping(monitor="loss", patience=1, start_from_epoch=3)
    run_fit(FakeModel(), [es], as_logs([10, 11, 12, 13, 12.5, 14, 15]))
    assert es.stopped_epoch == 5 and (es.best, es.best_epoch) == (12.5, 4)

    early = EarlyStopping(monitor="loss", patience=1)
    run_fit(FakeModel(), [early], as_logs([10, 11, 12, 13, 12.5, 14, 15]))
    assert early.stopped_epoch == 1


def test_start_from_epoch_counts_absolute_epochs():
    es = EarlyStopping(monitor="loss", patience=0, start_from_epoch=3)
    run_fit(FakeModel(), [es], as_logs([0, 0, 10, 11, 12]), initial_epoch=2)
    assert es.stopped_epoch == 4  # epoch 2 skipped, epoch 3 first monitored


def test_one_instance_serves_two_fits():
    es = EarlyStopping(monitor="loss", patience=0, restore_best_weights=True)
    run_fit(FakeModel(), [es], as_logs(LOSSES))
    assert (es.stopped_epoch, es.best) == (3, 8.0)
    # Had best (8) survived, 20 would not improve and epoch 1 would stop training.
    model = FakeModel()
    history = run_fit(model, [es], as_logs([20, 19, 18]))
    assert (es.stopped_epoch, es.wait, es.best, es.best_epoch) == (0, 0, 18.0, 2)
    assert epochs_run(history) == 3
    np.testing.assert_array_equal(model.w, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    ("min_delta", "stopped_epoch"),
    [(0.1, 1), (-0.1, 1), (0.01, 0)],  # the sign of min_delta is ignored, as Keras
)
def test_min_delta_is_the_smallest_improvement(min_delta, stopped_epoch):
    # 0.95 improves on 1.0 by 0.05: not enough for 0.1 (stop at epoch 1), enough for 0.01.
    es = EarlyStopping(monitor="loss", min_delta=min_delta, patience=0)
    run_fit(FakeModel(), [es], as_logs([1.0, 0.95, 0.85]))
    assert es.stopped_epoch == stopped_epoch


@pytest.mark.parametrize(("monitor", "mode"), [("accuracy", "max"), ("val_accuracy", "auto")])
def test_max_mode_stops_when_the_value_stops_rising(monitor, mode):
    es = EarlyStopping(monitor=monitor, mode=mode, patience=0)
    run_fit(FakeModel(), [es], as_logs([0.5, 0.6, 0.55, 0.7], monitor))
    assert (es.stopped_epoch, es.best) == (2, 0.6)


def test_a_missing_monitor_warns_every_epoch_listing_the_available_keys():
    es = EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(UserWarning, match=r"'val_loss'.*available keys: loss, accuracy") as rec:
        history = run_fit(FakeModel(), [es], [{"loss": 1.0, "accuracy": 0.5}] * 3)
    assert len([w for w in rec if "val_loss" in str(w.message)]) == 3
    assert epochs_run(history) == 3 and es.best is None


def test_verbose_prints_the_stop_and_the_restore(capsys):
    es = EarlyStopping(patience=2, verbose=1, restore_best_weights=True)
    run_fit(FakeModel(), [es], as_logs([0.2, 0.15, 0.1, 0.11, 0.12], "val_loss"))
    assert capsys.readouterr().out == (
        "Epoch 5: early stopping\nRestoring model weights from the end of the best epoch: 3.\n"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"patience": -1}, ValueError, "patience must be a non-negative int, got -1"),
        ({"patience": 1.5}, TypeError, "patience must be a non-negative int"),
        ({"start_from_epoch": -2}, ValueError, "start_from_epoch must be a non-negative int"),
        ({"baseline": "low"}, TypeError, "baseline must be a real number"),
        ({"min_delta": float("nan")}, ValueError, "min_delta must be a real number"),
        ({"monitor": 3}, TypeError, "monitor must be a str"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping(**kwargs)
