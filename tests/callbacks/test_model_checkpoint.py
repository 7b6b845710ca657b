"""ModelCheckpoint: file names, save_best_only in each mode, save_freq, errors, persistence."""

import os

import numpy as np
import pytest

from minitrain.callbacks import ModelCheckpoint
from minitrain.io import read_npz

from .fakes import FakeModel, run_fit


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": float(v)} for v in values]


def saved_names(model, tmp_path):
    return [os.path.relpath(path, tmp_path) for _, path in model.saves]


def test_saves_every_epoch_with_1_based_epochs_and_log_values_in_the_name(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.4f}.npz")
    run_fit(model, [mc], val_losses(0.5, 0.25))
    assert saved_names(model, tmp_path) == ["ckpt-01-0.5000.npz", "ckpt-02-0.2500.npz"]
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01-0.5000.npz", "ckpt-02-0.2500.npz"]
    saved = read_npz(tmp_path / "ckpt-02-0.2500.npz")
    np.testing.assert_array_equal(saved["0.W"], [1.0, 1.0, 1.0])  # epoch index 1's weights


@pytest.mark.parametrize(
    ("save_weights_only", "method", "kind"),
    [(False, "save", "model"), (True, "save_weights", "weights")],
)
def test_save_weights_only_picks_the_model_method(tmp_path, save_weights_only, method, kind):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "m.npz", save_weights_only=save_weights_only)
    run_fit(model, [mc], val_losses(0.5))
    assert model.saves == [(method, str(tmp_path / "m.npz"))]
    assert str(read_npz(tmp_path / "m.npz")["kind"]) == kind


def test_parent_folders_are_created(tmp_path):
    model = FakeModel()
    run_fit(model, [ModelCheckpoint(tmp_path / "a" / "{epoch}" / "m.npz")], val_losses(0.5, 0.4))
    assert (tmp_path / "a" / "1" / "m.npz").is_file()
    assert (tmp_path / "a" / "2" / "m.npz").is_file()


@pytest.mark.parametrize(
    ("monitor", "mode", "values", "saved_epochs", "best"),
    [
        ("val_loss", "min", [0.5, 0.6, 0.4, 0.45], [1, 3], 0.4),
        ("val_loss", "auto", [0.5, 0.6, 0.4, 0.45], [1, 3], 0.4),
        ("val_accuracy", "max", [0.5, 0.4, 0.7, 0.6], [1, 3], 0.7),
        ("val_accuracy", "auto", [0.5, 0.4, 0.7, 0.6], [1, 3], 0.7),
        ("val_accuracy", "min", [0.5, 0.4, 0.7, 0.6], [1, 2], 0.4),  # told to minimise
        ("val_loss", "min", [0.5, 0.5, 0.5], [1], 0.5),  # equal is no improvement
    ],
)
def test_save_best_only_saves_only_improvements(
    tmp_path, monitor, mode, values, saved_epochs, best
):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "best-{epoch}.npz", monitor, save_best_only=True, mode=mode)
    run_fit(model, [mc], [{monitor: float(v)} for v in values])
    assert saved_names(model, tmp_path) == [f"best-{e}.npz" for e in saved_epochs]
    assert mc.best == best


def test_a_fixed_name_holds_the_best_epoch(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "best.npz", save_best_only=True)
    run_fit(model, [mc], val_losses(0.5, 0.3, 0.4, 0.35))
    np.testing.assert_array_equal(read_npz(tmp_path / "best.npz")["0.W"], [1.0, 1.0, 1.0])


def test_initial_value_threshold_is_the_starting_best(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(
        tmp_path / "best-{epoch}.npz", save_best_only=True, initial_value_threshold=0.3
    )
    assert mc.best == 0.3
    run_fit(model, [mc], val_losses(0.5, 0.4, 0.2, 0.25))
    assert saved_names(model, tmp_path) == ["best-3.npz"] and mc.best == 0.2


def test_best_stays_none_without_a_save_best_only_comparison_as_keras(tmp_path):
    mc = ModelCheckpoint(tmp_path / "m.npz")
    assert mc.best is None
    run_fit(FakeModel(), [mc], val_losses(0.5))
    assert mc.best is None  # save_best_only is off: nothing was compared


def test_best_is_the_first_value_after_the_first_comparison(tmp_path):
    mc = ModelCheckpoint(tmp_path / "m.npz", save_best_only=True)
    run_fit(FakeModel(), [mc], val_losses(0.5))
    assert mc.best == 0.5


def test_a_nan_first_value_is_saved_and_nothing_after_it_as_keras(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "best-{epoch}.npz", save_best_only=True)
    run_fit(model, [mc], val_losses(float("nan"), 0.4, 0.3))
    # Keras 3.15.1: best is None, so the NaN is saved; nothing compares better than NaN.
    assert saved_names(model, tmp_path) == ["best-1.npz"]
    assert np.isnan(mc.best)


def test_best_is_kept_across_fits(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "best-{epoch}.npz", save_best_only=True)
    run_fit(model, [mc], val_losses(0.5, 0.4))
    assert saved_names(model, tmp_path) == ["best-1.npz", "best-2.npz"]
    model.saves.clear()
    run_fit(model, [mc], val_losses(0.45, 0.35))  # 0.45 does not beat the first fit's 0.4
    assert saved_names(model, tmp_path) == ["best-2.npz"] and mc.best == 0.35


def test_an_int_save_freq_counts_batches_across_epochs(tmp_path):
    # 5 batches per epoch, a save every 15: after the 5th batch of epochs 3, 6 and 9.
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{batch}.npz", save_freq=15)
    run_fit(model, [mc], val_losses(*[0.5] * 9), steps=5)
    assert saved_names(model, tmp_path) == ["ckpt-03-5.npz", "ckpt-06-5.npz", "ckpt-09-5.npz"]


def test_an_int_save_freq_straddles_epochs(tmp_path):
    # Batches 7 and 14 of 15: epoch 2 batch 2, epoch 3 batch 4 (1-based).
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{batch}.npz", save_freq=7)
    run_fit(model, [mc], val_losses(0.5, 0.5, 0.5), steps=5)
    assert saved_names(model, tmp_path) == ["ckpt-02-2.npz", "ckpt-03-4.npz"]


def test_the_batch_counter_restarts_with_each_fit(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{batch}.npz", save_freq=7)
    run_fit(model, [mc], val_losses(0.5), steps=5)  # 5 batches: no save
    assert model.saves == []
    run_fit(model, [mc], val_losses(0.5, 0.5), steps=5)
    # The 7th batch of the second fit; a counter carried over would have saved ckpt-01-2.
    assert saved_names(model, tmp_path) == ["ckpt-02-2.npz"]


def test_save_best_only_with_an_int_save_freq_reads_the_batch_logs(tmp_path):
    # Running losses after each batch; saves are tried after batches 2, 4, 6:
    # 0.8 (first: saved), 0.7 (better: saved), 0.72 (worse: skipped).
    running = [0.9, 0.8, 0.85, 0.7, 0.75, 0.72]
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "b-{batch}.npz", "loss", save_best_only=True, save_freq=2)
    run_fit(model, [mc], [{"loss": 0.72}], steps=6, batch_logs=lambda e, b: {"loss": running[b]})
    assert saved_names(model, tmp_path) == ["b-2.npz", "b-4.npz"] and mc.best == 0.7


def test_batch_in_a_name_saved_at_an_epoch_end_is_a_key_error(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "ckpt-{epoch}-{batch}.npz")
    with pytest.raises(
        KeyError, match=r"\{batch\}.*epoch end; available keys: loss, val_loss, epoch"
    ):
        run_fit(model, [mc], val_losses(0.5))
    assert model.saves == []


def test_a_missing_log_key_is_a_key_error_listing_the_available_keys(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "ckpt-{val_acc:.2f}.npz", save_freq=1)
    with pytest.raises(KeyError, match=r"\{val_acc\}.*available keys: loss, epoch, batch"):
        run_fit(model, [mc], val_losses(0.5))
    assert model.saves == []


def test_save_best_only_without_the_monitor_warns_and_saves_as_keras(tmp_path):
    model = FakeModel()
    mc = ModelCheckpoint(tmp_path / "m-{epoch}.npz", save_best_only=True)
    with pytest.warns(UserWarning, match="available keys: loss"):
        run_fit(model, [mc], [{"loss": 1.0}, {"loss": 2.0}])
    assert saved_names(model, tmp_path) == ["m-1.npz", "m-2.npz"]


def test_verbose_messages(tmp_path, capsys):
    path = tmp_path / "best.npz"
    run_fit(
        FakeModel(), [ModelCheckpoint(path, save_best_only=True, verbose=1)], val_losses(0.5, 0.6)
    )
    run_fit(FakeModel(), [ModelCheckpoint(path, verbose=1)], val_losses(0.5))
    assert capsys.readouterr().out == (
        f"\nEpoch 1: val_loss improved from None to 0.50000, saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 0.50000\n"
        f"\nEpoch 1: saving model to {path}\n"
    )


@pytest.mark.parametrize(
    ("filepath", "kwargs", "error", "message"),
    [
        ("model.h5", {}, ValueError, "filepath must end in '.npz', got 'model.h5'"),
        ("model.weights.h5", {"save_weights_only": True}, ValueError, "must end in '.npz'"),
        (3, {}, TypeError, "filepath must be a path ending in '.npz'"),
        ("ckpt-{}.npz", {}, ValueError, "filepath fields must be named"),
        ("ckpt-{0:02d}.npz", {}, ValueError, "filepath fields must be named"),
        ("ckpt-{epoch.npz", {}, ValueError, "filepath must be a valid format string"),
        (
            "m.npz",
            {"save_freq": 0},
            ValueError,
            r"save_freq must be 'epoch' \(a save at every epoch end\) or a positive int",
        ),
        ("m.npz", {"save_freq": "batch"}, ValueError, "save_freq must be 'epoch'"),
        ("m.npz", {"save_freq": 2.0}, ValueError, "save_freq must be 'epoch'"),
        ("m.npz", {"initial_value_threshold": "0.3"}, TypeError, "initial_value_threshold"),
    ],
)
def test_bad_arguments_are_refused(filepath, kwargs, error, message):
    with pytest.raises(error, match=message):
        ModelCheckpoint(filepath, **kwargs)


def test_a_filepath_naming_an_existing_folder_is_refused(tmp_path):
    (tmp_path / "ckpt.npz").mkdir()
    with pytest.raises(ValueError, match="must name a file, got the existing folder"):
        ModelCheckpoint(tmp_path / "ckpt.npz")
