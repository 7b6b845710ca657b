"""A backup's record of the epoch in progress (shuffle order, position, metric states)."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain import io


class StopAt(mt.Callback):
    def __init__(self, batch):
        super().__init__()
        self.batch = batch

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.batch:
            raise KeyboardInterrupt


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)), rng.integers(0, 3, size=40)


def model():
    m = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
    m.compile(
        mt.SGD(0.1),
        "sparse_categorical_crossentropy",
        metrics=["accuracy", mt.metrics.SparseTopKCategoricalAccuracy(k=2)],
    )
    return m


def interrupted_backup(tmp_path):
    x, y = data()
    with pytest.raises(KeyboardInterrupt):
        model().fit(
            x,
            y,
            batch_size=8,
            epochs=2,
            verbose=0,
            callbacks=[mt.BackupAndRestore(tmp_path, save_freq=2), StopAt(3)],
        )
    return tmp_path / "training_state.npz"


def test_a_mid_epoch_backup_records_the_order_position_and_every_metric(tmp_path):
    arrays = io.read_npz(interrupted_backup(tmp_path))
    assert sorted(arrays["fit/order"]) == list(range(40))
    assert int(arrays["fit/position"]) == 4  # backed up after batch 3, then stopped
    assert any(k.startswith("fit/metric/0/") for k in arrays)  # the loss tracker
    assert any(k.startswith("fit/metric/1/") for k in arrays)  # accuracy
    assert any(k.startswith("fit/metric/2/") for k in arrays)  # top-k


def test_the_resumed_running_logs_continue_those_of_the_interrupted_epoch(tmp_path):
    x, y = data()
    seen = []
    record = mt.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append((batch, logs)))
    model().fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[record])
    reference = dict(seen)
    interrupted_backup(tmp_path)
    seen.clear()
    model().fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[mt.BackupAndRestore(tmp_path, save_freq=2), record],
    )
    assert [b for b, _ in seen[:2]] == [4, 0]  # epoch 0 resumed after its batch 3
    assert seen[0][1] == reference[4]  # running means over the whole epoch, as uninterrupted


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("fit/order", np.zeros(40, dtype=np.int64), "shuffle order that is not a permutation"),
        ("fit/position", np.array(-1), "'fit/position' must be a 0-d int array >= 0"),
        ("fit/metric/0/count", np.zeros(3), "broken state for metric 'loss'"),
    ],
)
def test_a_broken_record_is_refused_before_anything_is_written(tmp_path, key, value, match):
    path = interrupted_backup(tmp_path)
    arrays = io.read_npz(path)
    assert key in arrays or key == "fit/metric/0/count"
    arrays[key] = value
    io.atomic_write_npz(path, arrays)
    x, y = data()
    m = model()
    before = {k: v.copy() for k, v in m.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        m.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[mt.BackupAndRestore(tmp_path)])
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_double_checkpoint_keeps_the_previous_backup_and_resumes_from_it_alone(tmp_path):
    x, y = data()
    reference = model()
    h_reference = reference.fit(x, y, batch_size=8, epochs=3, verbose=0)
    first = model()
    backup = mt.BackupAndRestore(tmp_path, double_checkpoint=True, delete_checkpoint=False)
    first.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[backup])
    latest, previous = tmp_path / "training_state.npz", tmp_path / "training_state.previous.npz"
    assert latest.exists() and previous.exists()
    latest.unlink()  # as if killed between keeping the previous backup and writing the new one
    resumed = model()
    seen = []
    spy = mt.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    h = resumed.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        verbose=0,
        callbacks=[mt.BackupAndRestore(tmp_path, double_checkpoint=True), spy],
    )
    assert seen == [1, 2]  # the previous backup was taken after epoch 0
    assert h.history == h_reference.history
    for a, b in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not tmp_path.exists()
