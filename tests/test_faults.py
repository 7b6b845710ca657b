"""Faults lose nothing: killed writers, failed writes, interrupted and killed runs.

- SIGKILL during ``save``, ``save_weights``, ``ModelCheckpoint`` and
  ``BackupAndRestore`` writes: the destination always holds, whole, one of
  the two states the writer alternates between, never a broken or mixed file.
- A write that fails (no space, read-only folder, failed fsync or rename)
  raises the ``OSError``, names the file, and leaves the previous file, the
  folder and the model as they were.
- An exception or ``KeyboardInterrupt`` anywhere inside ``fit`` leaves the model
  usable, its train/eval and grad modes restored, and ``model.history``
  holding exactly the epochs that finished.
- ``BackupAndRestore`` after kills at random moments (during backups
  included) resumes and ends bit-identical to an uninterrupted run: weights,
  buffers, optimizer state, History and every generator state.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import minitrain as mt
from minitrain.grad_mode import is_grad_enabled

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _bits(arrays: dict[str, np.ndarray]) -> dict[str, tuple]:
    return {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in arrays.items()}


def _raw(path: Path) -> dict[str, tuple]:
    """Every entry of an ``.npz``, read without minitrain (and without pickle)."""
    with np.load(path, allow_pickle=False) as data:
        return _bits({k: data[k] for k in data.files})


# ------------------------------------------------------------ SIGKILL mid-write

# The writer builds two models in two states, A (one update) and B (two updates:
# other weights, buffers, optimizer slots, iteration count, generator state and
# backup metadata), and writes A once. Then, per round, it forks a child that
# writes B, A, B, A, ... to the same destination as fast as it can (nothing but
# writes, so a kill nearly always lands inside one), kills the child with SIGKILL
# after a random delay, and copies whatever the destination holds aside.
WRITER = textwrap.dedent(
    """
    import os, random, shutil, signal, sys, time
    from pathlib import Path
    import numpy as np
    import minitrain as mt

    target, folder = sys.argv[1], Path(sys.argv[2])
    rounds, seed = int(sys.argv[3]), int(sys.argv[4])
    random.seed(seed)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 32)), rng.integers(0, 10, 64)


    def trained(steps):
        model = mt.MLP([32, 192, 192, 10], batchnorm=True, dropout=0.1, seed=0)
        model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy")
        for _ in range(steps):
            model.train_step(x, y)
            model.rng.random()  # the generator moves too
        return model


    models = [trained(1), trained(2)]
    dest = {
        "save": folder / "model.npz",
        "save_weights": folder / "weights.npz",
        "checkpoint": folder / "ckpt.npz",
        "backup": folder / "backup" / mt.callbacks.backup_and_restore.BACKUP_NAME,
    }[target]
    if target == "checkpoint":
        callbacks = [mt.ModelCheckpoint(str(dest), monitor="loss") for _ in models]
    else:
        callbacks = [mt.BackupAndRestore(dest.parent) for _ in models]
    for callback, model in zip(callbacks, models):
        callback.set_model(model)


    def write(k):
        if target == "save":
            models[k].save(dest)
        elif target == "save_weights":
            models[k].save_weights(dest)
        elif target == "checkpoint":
            callbacks[k].on_epoch_end(k, {"loss": float(k)})
        else:
            callbacks[k].on_epoch_end(k, {})  # a backup of epoch k + 1, empty history


    write(0)
    shutil.copyfile(dest, folder / "A.npz")
    write(1)
    shutil.copyfile(dest, folder / "B.npz")
    write(0)
    start = time.perf_counter()
    write(1)
    write(0)
    per_write = (time.perf_counter() - start) / 2
    for r in range(rounds):
        pid = os.fork()
        if pid == 0:  # the child: write forever, alternating
            k = 1
            while True:
                write(k)
                k = 1 - k
        time.sleep(random.uniform(0.5, 6.0) * per_write)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        shutil.copyfile(dest, folder / f"round{r}.npz")
    """
)

KILLS = 10


@pytest.mark.parametrize("target", ["save", "save_weights", "checkpoint", "backup"])
def test_sigkill_during_a_write_leaves_the_previous_or_the_new_file_whole(tmp_path, target):
    # A kill inside a write leaves that write's temporary file behind (nothing can
    # remove it after SIGKILL); no reader ever looks at it.
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    seed = random.randrange(2**31)  # of the kill delays, printed on failure
    proc = subprocess.run(
        [sys.executable, str(script), target, str(tmp_path), str(KILLS), str(seed)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    states = {"A": _raw(tmp_path / "A.npz"), "B": _raw(tmp_path / "B.npz")}
    assert states["A"] != states["B"]
    for r in range(KILLS):
        path = tmp_path / f"round{r}.npz"
        content = _raw(path)  # a whole, readable zip of arrays
        match = [name for name, state in states.items() if content == state]
        assert len(match) == 1, f"round {r} (seed {seed}): the file is neither state A nor B"
        # And minitrain itself reads it.
        if target == "save" or target == "checkpoint":
            mt.load_model(path)
        elif target == "save_weights":
            mt.MLP([32, 192, 192, 10], batchnorm=True, dropout=0.1, seed=1).load_weights(path)
        else:
            model = mt.MLP([32, 192, 192, 10], batchnorm=True, dropout=0.1, seed=1)
            model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy")
            meta = model._load_training_state(path)
            assert meta["epoch"] == {"A": 1, "B": 2}[match[0]]


# ------------------------------------------------------------- failed writes


def _data(n=48, seed=0):
    x, y = mt.data.make_spirals(n_per_class=n // 3, seed=seed)
    return x.astype(np.float32), y


def _model(seed=0):
    model = mt.MLP([2, 16, 16, 3], batchnorm=True, dropout=0.2, seed=seed)
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _disk_full(file, *args, **kwargs):
    """``np.savez`` writes part of the file, then the disk is full."""
    file.write(b"PK\x03\x04 half a zip")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _inject(monkeypatch, fault: str) -> None:
    """Make every atomic write fail in the way named by ``fault``."""
    if fault == "no space":
        monkeypatch.setattr(np, "savez", _disk_full)
    elif fault == "read-only folder":
        # Root ignores folder permissions, so the refusal is simulated where it
        # would happen: creating the temporary file.
        def mkstemp(*args, dir=None, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(dir, ".tmp"))

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    elif fault == "fsync fails":

        def fsync(fd):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

        monkeypatch.setattr(os, "fsync", fsync)
    elif fault == "rename fails":

        def replace(src, dst):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, None, dst)

        monkeypatch.setattr(os, "replace", replace)


FAULTS = {
    "no space": errno.ENOSPC,
    "read-only folder": errno.EROFS,
    "fsync fails": errno.EIO,
    "rename fails": errno.EXDEV,
}
METHODS = ["save", "save_weights", "_save_training_state"]


def _write(model, method, path):
    if method == "_save_training_state":
        model._save_training_state(path, {"epoch": 1, "step": 0, "history": {}})
    else:
        getattr(model, method)(path)


def _snapshot(model):
    return (
        _bits(model.state_dict()),
        _bits(model.optimizer.state_dict()),
        json.dumps(model.rng.bit_generator.state),
        [layer.training for layer in model.layers],
    )


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("method", METHODS)
def test_a_failed_write_raises_names_the_file_and_keeps_the_old_file_and_the_model(
    tmp_path, monkeypatch, fault, method
):
    model = _model()
    x, y = _data()
    model.train_step(x, y)
    path = tmp_path / "state.npz"
    _write(model, method, path)
    old_file = path.read_bytes()
    model.train_step(x, y)  # the next write would differ
    model.eval()
    before = _snapshot(model)
    _inject(monkeypatch, fault)
    with pytest.raises(OSError) as info:
        _write(model, method, path)
    monkeypatch.undo()
    assert info.value.errno == FAULTS[fault]
    assert os.strerror(FAULTS[fault]) in str(info.value)
    assert str(tmp_path) in str(info.value)  # which file could not be written
    assert path.read_bytes() == old_file
    assert sorted(os.listdir(tmp_path)) == ["state.npz"]  # no temporary file left
    assert _snapshot(model) == before
    _write(model, method, path)  # and once the disk is fine again, the write works
    assert path.read_bytes() != old_file


class Snapshots(mt.Callback):
    """Copies of the weights at every epoch end, before later callbacks run."""

    def __init__(self):
        super().__init__()
        self.states = []

    def on_epoch_end(self, epoch, logs=None):
        self.states.append(self.model.state_dict())


class FailFrom(mt.Callback):
    """From epoch ``epoch`` on, every atomic write fails with ``fault``."""

    def __init__(self, monkeypatch, fault, epoch):
        super().__init__()
        self.monkeypatch, self.fault, self.epoch = monkeypatch, fault, epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            _inject(self.monkeypatch, self.fault)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("writer", ["ModelCheckpoint", "BackupAndRestore"])
def test_a_write_failing_inside_fit_stops_it_cleanly(tmp_path, monkeypatch, fault, writer):
    x, y = _data()
    model = _model()
    model.eval()  # fit must give this mode back
    if writer == "ModelCheckpoint":
        callback = mt.ModelCheckpoint(str(tmp_path / "ckpt.npz"), monitor="loss")
        path = tmp_path / "ckpt.npz"
    else:
        callback = mt.BackupAndRestore(tmp_path / "backup")
        path = tmp_path / "backup" / "training_state.npz"
    snapshots = Snapshots()
    with pytest.raises(OSError) as info:
        model.fit(
            x,
            y,
            epochs=5,
            batch_size=16,
            verbose=0,
            callbacks=[FailFrom(monkeypatch, fault, 2), snapshots, callback],
        )
    monkeypatch.undo()
    assert info.value.errno == FAULTS[fault]
    assert str(path.parent) in str(info.value)
    # The epoch-1 file is intact, alone, and holds the epoch-1 weights.
    assert sorted(os.listdir(path.parent)) == [path.name]
    loaded = _model(seed=5)
    loaded.load_weights(path)
    assert _bits(loaded.state_dict()) == _bits(snapshots.states[1])
    # The model is as the failed write found it, back in eval mode, History
    # holding epochs 0 and 1 (epoch 2 failed before History saw it).
    assert _bits(model.state_dict()) == _bits(snapshots.states[2])
    assert not any(layer.training for layer in model.layers)
    assert model.history.epoch == [0, 1]
    assert len(model.history.history["loss"]) == 2


# ------------------------------------------------ exceptions inside fit


def _reference_run(epochs=4):
    """An uninterrupted seeded run: its History and the params after every batch."""
    x, y = _data()
    model = _model()
    params = []
    record = mt.LambdaCallback(
        on_train_batch_end=lambda batch, logs: params.append(
            {k: p.copy() for k, p, _ in model._param_slots()}
        )
    )
    model.fit(
        x, y, epochs=epochs, batch_size=16, verbose=0, validation_split=0.25, callbacks=[record]
    )
    return model.history.history, params


class Interrupt(mt.Callback):
    """Raise ``error`` in hook ``hook`` of epoch ``epoch`` (at batch ``batch`` for batch hooks)."""

    def __init__(self, hook, epoch, batch, error):
        super().__init__()
        self.hook, self.at, self.batch, self.error, self.epoch = hook, epoch, batch, error, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if self.hook == "on_epoch_begin" and epoch == self.at:
            raise self.error

    def on_train_batch_end(self, batch, logs=None):
        if self.hook == "on_train_batch_end" and (self.epoch, batch) == (self.at, self.batch):
            raise self.error

    def on_test_batch_end(self, batch, logs=None):
        if self.hook == "on_test_batch_end" and (self.epoch, batch) == (self.at, self.batch):
            assert not is_grad_enabled()  # validation runs under no_grad...
            raise self.error  # ...and is interrupted there

    def on_epoch_end(self, epoch, logs=None):
        if self.hook == "on_epoch_end" and epoch == self.at:
            raise self.error


INTERRUPTS = [
    ("on_epoch_begin", 2, 0),
    ("on_train_batch_end", 2, 1),
    ("on_test_batch_end", 2, 0),
    ("on_epoch_end", 2, 0),
    ("loss", 2, 1),  # inside the loss of batch 1: forward done, no update
]


@pytest.mark.parametrize(
    "error", [KeyboardInterrupt(), RuntimeError("boom")], ids=["ctrl-c", "error"]
)
@pytest.mark.parametrize(("hook", "epoch", "batch"), INTERRUPTS)
def test_an_interrupted_fit_leaves_the_model_usable_and_the_finished_epochs(
    monkeypatch, error, hook, epoch, batch
):
    reference_history, reference_params = _reference_run()
    x, y = _data()
    model = _model()
    model.eval()
    model.layers[1].training = True  # a mixed mode must come back as it was
    modes = [layer.training for layer in model.layers]
    callbacks = []
    steps = 3  # 36 training samples in batches of 16
    if hook == "loss":
        calls = {"n": 0}
        value_and_gradient = model.loss.value_and_gradient

        def failing(y_true, y_pred, sample_weight=None):
            if calls["n"] == epoch * steps + batch:
                raise error
            calls["n"] += 1
            return value_and_gradient(y_true, y_pred, sample_weight)

        monkeypatch.setattr(model.loss, "value_and_gradient", failing)
    else:
        callbacks.append(Interrupt(hook, epoch, batch, error))
    with pytest.raises(type(error)):
        model.fit(
            x, y, epochs=4, batch_size=16, verbose=0, validation_split=0.25, callbacks=callbacks
        )
    monkeypatch.undo()

    assert [layer.training for layer in model.layers] == modes
    assert is_grad_enabled()
    # History holds exactly the epochs that finished, equal to the uninterrupted run's.
    assert model.history.epoch == [0, 1]
    assert model.history.history == {k: v[:2] for k, v in reference_history.items()}
    # The params are those of the last completed update.
    done = epoch * steps + (batch + 1 if hook == "on_train_batch_end" else batch)
    if hook in ("on_test_batch_end", "on_epoch_end"):
        done = (epoch + 1) * steps
    elif hook == "on_epoch_begin":
        done = epoch * steps
    expected = reference_params[done - 1]
    assert _bits({k: p for k, p, _ in model._param_slots()}) == _bits(expected)
    # The model is usable: it predicts, evaluates and trains again from where it is.
    assert np.all(np.isfinite(model.predict(x)))
    assert np.isfinite(model.evaluate(x, y)[0])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert history.epoch == [0, 1] and not model.stop_training
    assert [layer.training for layer in model.layers] == modes


# ------------------------------------------------- kills and BackupAndRestore

TRAINER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import minitrain as mt
    from minitrain.layers import BatchNorm, Dense, Dropout, LeakyReLU, ReLU, Tanh

    out, backup = sys.argv[1], sys.argv[2]
    x, y = mt.data.make_spirals(n_per_class=60, seed=0)
    layers = [
        Dense(2, 24, seed=1), BatchNorm(24), ReLU(), Dropout(0.2),
        Dense(24, 24, seed=2), Tanh(), Dropout(0.1, seed=7),
        Dense(24, 16, seed=3), LeakyReLU(0.1), Dense(16, 3, seed=4),
    ]
    model = mt.Sequential(layers, seed=3)
    model.compile(mt.AdamW(mt.CosineDecay(0.01, 300)), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    class Progress(mt.Callback):  # after the backup: a line per batch backed up
        def on_train_batch_end(self, batch, logs=None):
            print(batch, flush=True)

    callbacks = [Progress()]
    if backup != "-":
        callbacks.insert(0, mt.BackupAndRestore(backup, save_freq=1))
    history = model.fit(x, y, batch_size=12, epochs=8, verbose=0, validation_split=0.2,
                        callbacks=callbacks)
    arrays = {f"w/{k}": v for k, v in model.state_dict().items()}
    arrays.update({f"o/{k}": v for k, v in model.optimizer.state_dict().items()})
    generators = {"model": model.rng.bit_generator.state, "6": layers[6].rng.bit_generator.state}
    arrays["history"] = np.array(json.dumps({"history": history.history, "epoch": history.epoch}))
    arrays["generators"] = np.array(json.dumps(generators))
    np.savez(out, **arrays)
    """
)


def _train(script, out, backup, kill_at=None):
    """Run the trainer; with ``kill_at = (k, delay)``, SIGKILL it ``delay`` seconds after
    it reports its ``k``-th batch (and backup): it is busy with the next one by then."""
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out), str(backup)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    if kill_at is not None:
        k, delay = kill_at
        lines = [proc.stdout.readline() for _ in range(k)]
        if lines[-1]:  # else the run ended first
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
    _, stderr = proc.communicate(timeout=120)
    return proc.returncode, stderr


def test_backup_and_restore_after_random_kills_ends_bit_identical(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    code, stderr = _train(script, tmp_path / "reference.npz", "-")
    assert code == 0, stderr
    backup = tmp_path / "backup"
    rng = random.Random()
    kills = 0
    for _ in range(3):  # kill at random moments, each run resuming the last one's backup
        kill_at = (rng.randint(1, 40), rng.uniform(0.0, 0.005))
        code, stderr = _train(script, tmp_path / "run.npz", backup, kill_at)
        if code == 0:
            break  # the run finished before its kill: nothing left to resume
        assert code == -signal.SIGKILL, stderr
        kills += 1
    else:
        code, stderr = _train(script, tmp_path / "run.npz", backup)
        assert code == 0, stderr
    assert kills >= 1
    assert _raw(tmp_path / "run.npz") == _raw(tmp_path / "reference.npz")
    assert not (backup / "training_state.npz").exists()


@pytest.mark.parametrize("failing_write", [1, 3, 7])
def test_an_interrupted_backup_write_resumes_from_the_previous_backup_bit_identically(
    tmp_path, monkeypatch, failing_write
):
    x, y = _data(60)

    def run(callbacks):
        model = _model(seed=3)
        history = model.fit(x, y, epochs=5, batch_size=10, verbose=0, callbacks=callbacks)
        return model, history

    reference, reference_history = run([])
    real_savez = np.savez
    writes = {"n": 0}

    def savez(file, *args, **kwargs):
        writes["n"] += 1
        if writes["n"] == failing_write:
            file.write(b"PK\x03\x04 partial")
            raise KeyboardInterrupt
        real_savez(file, *args, **kwargs)

    monkeypatch.setattr(np, "savez", savez)
    backup = mt.BackupAndRestore(tmp_path, save_freq=4)
    with pytest.raises(KeyboardInterrupt):
        run([backup])
    monkeypatch.undo()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    model, history = run([mt.BackupAndRestore(tmp_path, save_freq=4)])
    assert history.history == reference_history.history
    assert history.epoch == reference_history.epoch
    assert _bits(model.state_dict()) == _bits(reference.state_dict())
    assert _bits(model.optimizer.state_dict()) == _bits(reference.optimizer.state_dict())
    assert model.rng.bit_generator.state == reference.rng.bit_generator.state


@pytest.mark.parametrize("save_freq", ["epoch", 1, 5])
@pytest.mark.parametrize(
    ("hook", "epoch", "batch"),
    [
        ("on_epoch_begin", 2, 0),
        ("on_train_batch_end", 1, 2),
        ("on_train_batch_end", 1, 4),  # the epoch's last batch, just backed up
        ("on_test_batch_end", 1, 0),  # after the epoch's last batch, before its end
        ("on_epoch_end", 1, 0),
    ],
)
def test_a_run_interrupted_anywhere_resumes_bit_identically(
    tmp_path, save_freq, hook, epoch, batch
):
    # 50 samples, validation_split 0.2: 40 train in 5 batches of 8. With
    # save_freq=5 every backup falls after an epoch's last batch, and the run
    # resumes there: with nothing left to train in that epoch, its logged
    # learning_rate must still be the rate of its last update.
    x, y = _data(51)
    x, y = x[:50], y[:50]

    def run(callbacks):
        model = mt.MLP([2, 12, 3], batchnorm=True, dropout=0.3, seed=1)
        model.compile(mt.Adam(mt.CosineDecay(0.02, 30)), "sparse_categorical_crossentropy")
        history = model.fit(
            x, y, epochs=4, batch_size=8, verbose=0, validation_split=0.2, callbacks=callbacks
        )
        return model, history

    reference, reference_history = run([])
    backup = tmp_path / "backup"
    interrupt = Interrupt(hook, epoch, batch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        run([mt.BackupAndRestore(backup, save_freq=save_freq), interrupt])
    model, history = run([mt.BackupAndRestore(backup, save_freq=save_freq)])
    assert history.history == reference_history.history
    assert history.epoch == reference_history.epoch
    assert _bits(model.state_dict()) == _bits(reference.state_dict())
    assert _bits(model.optimizer.state_dict()) == _bits(reference.optimizer.state_dict())
    assert model.rng.bit_generator.state == reference.rng.bit_generator.state
    assert not backup.exists()


def test_double_checkpoint_resumes_from_the_previous_backup_when_the_latest_is_damaged(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAINER.replace("save_freq=1)", "save_freq=1, double_checkpoint=True)", 1))
    code, stderr = _train(script, tmp_path / "reference.npz", "-")
    assert code == 0, stderr
    backup = tmp_path / "backup"
    code, stderr = _train(script, tmp_path / "run.npz", backup, kill_at=(20, 0.001))
    assert code == -signal.SIGKILL, stderr
    latest, previous = backup / "training_state.npz", backup / "training_state.previous.npz"
    assert latest.exists() and previous.exists()
    latest.write_bytes(latest.read_bytes()[:200])  # a copy cut short after the kill
    code, stderr = _train(script, tmp_path / "run.npz", backup)
    assert code == 0, stderr
    assert "could not read the latest backup" in stderr and "resuming from the previous" in stderr
    assert "train.py" in stderr  # the warning names the caller's line, not minitrain's
    assert _raw(tmp_path / "run.npz") == _raw(tmp_path / "reference.npz")
    assert not latest.exists() and not previous.exists()


def test_without_double_checkpoint_a_damaged_backup_is_an_error(tmp_path):
    x, y = _data(40)
    model = _model(seed=3)
    backup = tmp_path / "backup"
    model.fit(
        x,
        y,
        epochs=1,
        batch_size=10,
        verbose=0,
        callbacks=[mt.BackupAndRestore(backup, delete_checkpoint=False)],
    )
    latest = backup / "training_state.npz"
    latest.write_bytes(latest.read_bytes()[:200])
    with pytest.raises(ValueError, match="training_state.npz"):
        _model(seed=3).fit(
            x, y, epochs=2, batch_size=10, verbose=0, callbacks=[mt.BackupAndRestore(backup)]
        )
