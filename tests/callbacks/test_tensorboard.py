"""TensorBoard event files, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import minitrain as mt


def read(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def fit(log_dir, epochs=4, **kwargs):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 3, size=40)
    model = mt.MLP([3, 8, 3], batchnorm=True, seed=0)
    model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    board = mt.callbacks.TensorBoard(log_dir, **kwargs)
    history = model.fit(
        x, y, batch_size=8, epochs=epochs, verbose=0, validation_split=0.25, callbacks=[board]
    )
    return model, history


def test_epoch_scalars_equal_history(tmp_path):
    _, history = fit(tmp_path / "logs")
    train, val = read(tmp_path / "logs" / "train"), read(tmp_path / "logs" / "validation")
    assert sorted(train.Tags()["scalars"]) == [
        "epoch_accuracy",
        "epoch_learning_rate",
        "epoch_loss",
    ]
    assert sorted(val.Tags()["scalars"]) == ["epoch_accuracy", "epoch_loss"]
    for key, values in history.history.items():
        acc, tag = (val, key[4:]) if key.startswith("val_") else (train, key)
        got = scalars(acc, f"epoch_{tag}")
        assert [s for s, _ in got] == history.epoch
        # stored as float32 (simple_value), as TensorBoard keeps every scalar
        np.testing.assert_array_equal([v for _, v in got], np.float32(values), err_msg=key)


def test_validation_freq_writes_the_validated_epochs_only(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 3)), rng.integers(0, 3, size=20)
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    board = mt.callbacks.TensorBoard(tmp_path)
    model.fit(
        x, y, epochs=4, verbose=0, validation_data=(x, y), validation_freq=2, callbacks=[board]
    )
    assert [s for s, _ in scalars(read(tmp_path / "validation"), "epoch_loss")] == [1, 3]


@pytest.mark.parametrize(("update_freq", "steps"), [("batch", [1, 2, 3, 4, 5, 6]), (4, [4])])
def test_batch_scalars_every_update_freq_batches(tmp_path, update_freq, steps):
    seen = []
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 3)), rng.integers(0, 3, size=24)
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    record = mt.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))
    board = mt.callbacks.TensorBoard(tmp_path, update_freq=update_freq)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[record, board])
    got = scalars(read(tmp_path / "train"), "batch_loss")
    assert [s for s, _ in got] == steps  # batches counted from 1 across epochs, as Keras
    np.testing.assert_array_equal([v for _, v in got], np.float32([seen[s - 1] for s in steps]))


def test_histograms_of_every_weight_every_histogram_freq_epochs(tmp_path):
    model, _ = fit(tmp_path, epochs=5, histogram_freq=2)
    acc = read(tmp_path / "train")
    assert sorted(acc.Tags()["histograms"]) == sorted(model.state_dict())
    events = acc.Histograms("0.W")
    assert [e.step for e in events] == [0, 2, 4]  # epoch % histogram_freq == 0, as Keras
    last = events[-1].histogram_value
    w = model.state_dict()["0.W"]
    assert last.num == w.size
    assert last.min == pytest.approx(float(w.min())) and last.max == pytest.approx(float(w.max()))
    assert last.sum == pytest.approx(float(w.astype(np.float64).sum()), abs=1e-6)
    assert sum(last.bucket) == w.size


def test_without_tensorboard_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto", None)
    with pytest.raises(ImportError, match=r"minitrain\[tensorboard\]"):
        mt.callbacks.TensorBoard("logs")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"histogram_freq": -1}, ValueError, "histogram_freq"),
        ({"update_freq": "step"}, ValueError, "update_freq must be 'epoch', 'batch'"),
        ({"update_freq": 0}, ValueError, "update_freq"),
        ({"write_graph": True}, ValueError, "write_graph must be False"),
        ({"log_dir": 3}, TypeError, "log_dir"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, error, match):
    with pytest.raises(error, match=match):
        mt.callbacks.TensorBoard(**kwargs)
