"""Whole training runs: accuracy reached, early stopping, NaN, killed and resumed runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minitrain as mt


def test_mlp_with_batchnorm_reaches_97_percent_on_the_spirals():
    x, y = mt.data.make_spirals(n_per_class=300, seed=0)
    x_train, x_val, y_train, y_val = mt.data.train_test_split(x, y, test_size=0.2, seed=0)
    model = mt.MLP([2, 64, 64, 3], batchnorm=True, seed=0)
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=60, verbose=0, validation_data=(x_val, y_val)
    )
    assert max(history.history["val_accuracy"]) >= 0.97
    _, accuracy = model.evaluate(x_val, y_val)
    assert accuracy >= 0.97


def test_early_stopping_stops_an_overfitting_run_and_restores_the_best_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 10)).astype(np.float32)
    y = rng.integers(0, 3, size=60)  # labels are noise: validation loss can only get worse
    x_val = rng.normal(size=(60, 10)).astype(np.float32)
    y_val = rng.integers(0, 3, size=60)
    model = mt.MLP([10, 256, 256, 3], seed=0)
    model.compile(mt.Adam(0.003), "sparse_categorical_crossentropy")
    stop = mt.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(
        x,
        y,
        epochs=200,
        batch_size=16,
        verbose=0,
        validation_data=(x_val, y_val),
        callbacks=[stop],
    )
    val_losses = history.history["val_loss"]
    assert len(val_losses) < 200 and stop.stopped_epoch > 0
    best = int(np.argmin(val_losses))
    assert stop.best_epoch == best
    # wait counts epochs best+1, best+2, best+3 and reaches patience=3 at the last.
    assert len(val_losses) == best + 4
    # The model now holds the best epoch's weights: same validation loss, to the bit.
    assert model.evaluate(x_val, y_val, batch_size=16) == min(val_losses)
    # And the training loss kept falling: it was overfitting.
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_terminate_on_nan_stops_a_diverging_run_in_its_first_epoch():
    x, y = mt.data.make_spirals(n_per_class=100, seed=1)
    model = mt.MLP([2, 32, 3], seed=0)
    model.compile(mt.SGD(1e6), "sparse_categorical_crossentropy")
    history = model.fit(
        x * 1e3, y, epochs=20, batch_size=32, verbose=0, callbacks=[mt.TerminateOnNaN()]
    )
    assert history.epoch == [0]
    assert not np.isfinite(history.history["loss"][0])


SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import minitrain as mt

    out, backup, kill_at, save_freq = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    save_freq = "epoch" if save_freq == "epoch" else int(save_freq)
    x, y = mt.data.make_spirals(n_per_class=50, seed=0)
    model = mt.MLP([2, 16, 16, 3], batchnorm=True, dropout=0.2, seed=3)
    model.compile(mt.Adam(mt.CosineDecay(0.01, 60)), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    class Kill(mt.Callback):
        def on_train_batch_end(self, batch, logs=None):
            epoch, step = map(int, kill_at.split(":"))
            if (self.epoch, batch) == (epoch, step):
                os.kill(os.getpid(), signal.SIGKILL)
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    callbacks = [mt.BackupAndRestore(backup, save_freq=save_freq)] if backup != "-" else []
    if kill_at != "-":
        callbacks.append(Kill())
    history = model.fit(x, y, batch_size=25, epochs=6, verbose=0, callbacks=callbacks)
    arrays = {f"w/{k}": v for k, v in model.state_dict().items()}
    arrays.update({f"o/{k}": v for k, v in model.optimizer.state_dict().items()})
    arrays.update({f"h/{k}": np.array(v) for k, v in history.history.items()})
    np.savez(out, **arrays)
    """
)


def run(tmp_path, name, backup="-", kill_at="-", save_freq="epoch"):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"{name}.npz"
    proc = subprocess.run(
        [sys.executable, str(script), str(out), backup, kill_at, str(save_freq)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, out


@pytest.mark.parametrize(("kill_at", "save_freq"), [("2:1", "epoch"), ("3:2", "3")])
def test_backup_and_restore_after_sigkill_ends_bit_identical(tmp_path, kill_at, save_freq):
    proc, reference = run(tmp_path, "reference")
    assert proc.returncode == 0, proc.stderr
    backup = str(tmp_path / "backup")
    proc, _ = run(tmp_path, "killed", backup, kill_at, save_freq)
    assert proc.returncode == -signal.SIGKILL
    assert os.listdir(backup)
    proc, resumed = run(tmp_path, "resumed", backup, "-", save_freq)
    assert proc.returncode == 0, proc.stderr
    a, b = np.load(reference), np.load(resumed)
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # delete_checkpoint=True: a completed run leaves no backup behind.
    assert not os.path.exists(backup) or not os.listdir(backup)


def test_interrupted_checkpoint_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    x, y = mt.data.make_spirals(n_per_class=50, seed=0)
    model = mt.MLP([2, 16, 3], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    path = tmp_path / "ckpt.npz"
    saved = []

    class Snapshot(mt.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(self.model.state_dict())

    real_savez = np.savez

    def failing_savez(file, **arrays):
        if len(saved) >= 2:
            file.write(b"PK\x03\x04 partial")  # a write cut off part-way
            raise KeyboardInterrupt
        real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            epochs=5,
            verbose=0,
            callbacks=[Snapshot(), mt.ModelCheckpoint(str(path), monitor="loss")],
        )
    monkeypatch.setattr(np, "savez", real_savez)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temporary left behind
    restored = mt.load_model(path)
    for key, value in restored.state_dict().items():
        np.testing.assert_array_equal(value, saved[0][key])
