"""Long runs: 300 epochs keep memory flat and leave no file open.

A small model trains for 300 epochs with every callback that touches the disk
or keeps state (CSVLogger, two ModelCheckpoints, BackupAndRestore, EarlyStopping,
ReduceLROnPlateau, TerminateOnNaN). Memory is read with ``tracemalloc`` (NumPy
reports its buffers to it) and open files by counting ``/proc/self/fd``.

The only memory a run may keep is its record: ``History`` and BackupAndRestore's
copy of it, a few floats per epoch (about 250 bytes in all). A leak of anything
the training touches is far bigger: one batch of activations here is 4 KiB, one
weight matrix 16 KiB. So the bound is 512 bytes per epoch, measured between
epochs 50 and 300 (after every cache has been filled).
"""

from __future__ import annotations

import gc
import os
import tracemalloc

import numpy as np
import pytest

import minitrain as mt

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="open files are counted in /proc/self/fd"
)

EPOCHS = 300
BYTES_PER_EPOCH = 512


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


class Probe(mt.Callback):
    """Open files at every epoch end; traced memory (after a collection) at chosen epochs."""

    def __init__(self, memory_at=()):
        super().__init__()
        self.memory_at = set(memory_at)
        self.memory: dict[int, int] = {}
        self.files: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.files.append(_open_files())
        if epoch in self.memory_at and tracemalloc.is_tracing():
            gc.collect()
            self.memory[epoch] = tracemalloc.get_traced_memory()[0]


def _callbacks(folder, probe):
    return [
        mt.CSVLogger(folder / "log.csv", append=True),
        mt.ModelCheckpoint(str(folder / "last.npz"), monitor="val_loss"),
        mt.ModelCheckpoint(str(folder / "best.npz"), save_best_only=True, save_weights_only=True),
        mt.BackupAndRestore(folder / "backup"),
        mt.EarlyStopping(patience=10 * EPOCHS),
        mt.ReduceLROnPlateau(patience=20),
        mt.TerminateOnNaN(),
        probe,
    ]


def _setup():
    x, y = mt.data.make_spirals(n_per_class=20, seed=0)
    model = mt.MLP([2, 64, 64, 3], batchnorm=True, dropout=0.1, seed=0)
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_300_epochs_keep_memory_flat_and_leave_no_file_open(tmp_path):
    model, x, y = _setup()
    fit = {"batch_size": 16, "verbose": 0, "validation_split": 0.2}
    # A short run first: imports, lazily built state and caches are in place after it.
    model.fit(x, y, epochs=10, callbacks=_callbacks(tmp_path, Probe()), **fit)
    gc.collect()
    files_before = _open_files()
    probe = Probe(memory_at=(50, EPOCHS - 1))
    tracemalloc.start()
    try:
        history = model.fit(x, y, epochs=EPOCHS, callbacks=_callbacks(tmp_path, probe), **fit)
    finally:
        tracemalloc.stop()
    assert history.epoch == list(range(EPOCHS))
    growth = probe.memory[EPOCHS - 1] - probe.memory[50]
    assert growth < (EPOCHS - 51) * BYTES_PER_EPOCH, f"{growth} bytes kept over 249 epochs"
    # Not one file left open, at any epoch end or after the run.
    assert set(probe.files) == {files_before}
    assert _open_files() == files_before
    # And nothing left behind on disk but the three outputs (the backup is deleted).
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "last.npz", "log.csv"]
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 1 + 10 + EPOCHS
    assert np.all(np.isfinite(history.history["loss"]))


def test_a_run_interrupted_mid_epoch_leaves_no_file_open(tmp_path):
    model, x, y = _setup()

    class Interrupt(mt.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if len(probe.files) == 20 and batch == 1:
                raise KeyboardInterrupt

    probe = Probe()
    files_before = _open_files()
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            epochs=EPOCHS,
            batch_size=16,
            verbose=0,
            validation_split=0.2,
            callbacks=[*_callbacks(tmp_path, probe), Interrupt()],
        )
    assert _open_files() == files_before
    assert len(probe.files) == 20
    # The backup is kept for the next run (an exception skips on_train_end, as in Keras).
    assert sorted(os.listdir(tmp_path)) == ["backup", "best.npz", "last.npz", "log.csv"]
