"""Tests for saving and loading: Sequential.save / minitrain.load_model, save_weights /
load_weights, atomic writes, and files that must be refused (pickles, mismatches)."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest

import minitrain as mt

# ------------------------------------------------------------- test data


def _data(n: int = 16, width: int = 4, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, width)), np.arange(n) % classes


def _trained(optimizer=None, dtype=np.float32, sizes=(4, 8, 6, 3), steps: int = 3):
    """A compiled model after a few updates: moved weights, running stats and optimizer slots."""
    model = mt.MLP(list(sizes), batchnorm=True, seed=0, dtype=dtype)
    model.compile(
        optimizer if optimizer is not None else mt.Adam(learning_rate=0.01),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x, y = _data(width=sizes[0], classes=sizes[-1])
    for _ in range(steps):
        model.train_step(x, y)
    return model


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), k  # bit for bit


def _state(model: mt.Sequential) -> dict[str, np.ndarray]:
    """Params and buffers, copied here (not trusting ``state_dict`` to copy)."""
    return {k: np.array(v, copy=True) for k, v in model.state_dict().items()}


def _listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


class _Payload:
    """Unpickling this object opens (so creates) ``path``: a stand-in for any code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


# ----------------------------------------------------------- save / load_model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: mt.SGD(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
        lambda: mt.Adam(learning_rate=0.01, beta_1=0.8, epsilon=1e-7),
        lambda: mt.AdamW(learning_rate=mt.CosineDecay(0.01, decay_steps=50, alpha=0.1)),
    ],
)
def test_save_then_load_model_is_bit_exact(tmp_path, optimizer, dtype):
    model = _trained(optimizer(), dtype=dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = mt.load_model(path)

    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in model.layers
    ]
    assert loaded.dtype == dtype and loaded.seed == model.seed
    _assert_same(loaded.state_dict(), model.state_dict())
    # compile setup
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == 3
    _assert_same(loaded.optimizer.state_dict(), model.optimizer.state_dict())
    assert type(loaded.loss) is mt.SparseCategoricalCrossentropy
    assert loaded.loss.from_logits is True
    assert [(type(m), m.name) for m in loaded.metrics] == [(type(m), m.name) for m in model.metrics]
    # identical predictions, and identical training from here on
    x, y = _data()
    assert loaded.predict(x).tobytes() == model.predict(x).tobytes()
    logs_a, logs_b = model.train_step(x, y), loaded.train_step(x, y)
    assert logs_a == logs_b
    _assert_same(loaded.state_dict(), model.state_dict())
    _assert_same(loaded.optimizer.state_dict(), model.optimizer.state_dict())


def test_save_of_an_uncompiled_model_loads_uncompiled(tmp_path):
    model = mt.MLP([4, 8, 3], dropout=0.5, output="softmax", activation="tanh", seed=5)
    model.save(tmp_path / "m.npz")
    loaded = mt.load_model(tmp_path / "m.npz")
    assert loaded.optimizer is None and loaded.loss is None
    assert [type(layer) for layer in loaded.layers] == [
        mt.Dense,
        mt.Tanh,
        mt.Dropout,
        mt.Dense,
        mt.Softmax,
    ]
    assert loaded.layers[2].rate == 0.5
    _assert_same(loaded.state_dict(), model.state_dict())


def test_saved_file_layout_and_dtypes(tmp_path):
    model = _trained(mt.SGD(momentum=0.9))
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    weights = [k for k in arrays if "/" not in k and not k.startswith("__")]
    assert sorted(weights) == sorted(model.state_dict())
    assert sorted(k for k in arrays if k.startswith("optimizer/")) == sorted(
        "optimizer/" + k for k in model.optimizer.state_dict()
    )
    for k in weights:
        assert arrays[k].dtype == np.float32, k  # float32 stays float32 on disk
    for k, v in arrays.items():
        if k.startswith("optimizer/momentum/"):
            assert v.dtype == np.float32, k
    assert arrays["optimizer/iterations"].dtype == np.int64
    assert int(arrays["optimizer/iterations"]) == 3
    assert arrays["__config__"].dtype.kind == "U" and arrays["__config__"].ndim == 0


# ------------------------------------------------------- save / load_weights


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_weights_then_load_weights_is_bit_exact(tmp_path, dtype):
    source = _trained(dtype=dtype)
    path = tmp_path / "w.npz"
    source.save_weights(path)
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(source.state_dict())  # weights and buffers only
        assert all(data[k].dtype == dtype for k in data.files)
    target = mt.MLP([4, 8, 6, 3], batchnorm=True, seed=99, dtype=dtype)
    target.load_weights(path)
    _assert_same(target.state_dict(), source.state_dict())
    x, _ = _data()
    assert target.predict(x).tobytes() == source.predict(x).tobytes()


def test_load_weights_reads_a_full_save_and_keeps_the_optimizer(tmp_path):
    source = _trained()
    source.save(tmp_path / "m.npz")
    target = _trained(mt.SGD(momentum=0.9), steps=1)
    opt_before = target.optimizer.state_dict()
    target.load_weights(tmp_path / "m.npz")
    _assert_same(target.state_dict(), source.state_dict())
    _assert_same(target.optimizer.state_dict(), opt_before)


# ------------------------------------------------------------- atomic writes


def _partial_savez(file, *args, **kwargs):
    """Write the start of a zip archive, then fail as a full disk would."""
    file.write(b"PK\x03\x04 only part of an archive")
    raise OSError(28, "No space left on device")


def _failing_replace(src, dst):
    raise OSError(5, "Input/output error")


@pytest.mark.parametrize("fault", ["savez", "replace"])
@pytest.mark.parametrize("method", ["save", "save_weights"])
def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch, fault, method):
    model = _trained()
    path = tmp_path / "model.npz"
    getattr(model, method)(path)
    old_bytes = path.read_bytes()
    old_state = _state(model)
    x, y = _data()
    model.train_step(x, y)  # the next save would differ
    if fault == "savez":
        monkeypatch.setattr(np, "savez", _partial_savez)
    else:
        monkeypatch.setattr(os, "replace", _failing_replace)
    with pytest.raises(OSError, match="No space left" if fault == "savez" else "Input/output"):
        getattr(model, method)(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert _listing(tmp_path) == ["model.npz"]  # no temporary file left behind
    reloaded = mt.MLP([4, 8, 6, 3], batchnorm=True, seed=1)
    reloaded.load_weights(path)
    _assert_same(reloaded.state_dict(), old_state)


def test_a_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    model = _trained()
    monkeypatch.setattr(np, "savez", _partial_savez)
    with pytest.raises(OSError, match="No space left"):
        model.save(tmp_path / "sub" / "model.npz")
    assert _listing(tmp_path / "sub") == []


def test_an_interrupted_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    model = _trained()
    path = tmp_path / "model.npz"
    model.save(path)
    old_bytes = path.read_bytes()

    def interrupted(file, *args, **kwargs):
        file.write(b"PK\x03\x04")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == old_bytes
    assert _listing(tmp_path) == ["model.npz"]


def test_a_save_overwrites_the_previous_file(tmp_path):
    model = _trained()
    path = tmp_path / "model.npz"
    model.save(path)
    x, y = _data()
    model.train_step(x, y)
    model.save(path)
    assert _listing(tmp_path) == ["model.npz"]
    _assert_same(mt.load_model(path).state_dict(), model.state_dict())


# --------------------------------------------------------------- path checks


@pytest.mark.parametrize("method", ["save", "save_weights"])
@pytest.mark.parametrize("name", ["model.h5", "model", "model.npz.tmp", "model.NPZ"])
def test_a_path_not_ending_in_npz_is_refused(tmp_path, method, name):
    model = mt.MLP([4, 3], seed=0)
    with pytest.raises(
        ValueError, match=r"path must end in '\.npz', got '.*" + name.replace(".", r"\.")
    ):
        getattr(model, method)(tmp_path / name)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("method", ["save", "save_weights"])
def test_a_path_naming_a_folder_is_refused(tmp_path, method):
    (tmp_path / "ckpt.npz").mkdir()
    model = mt.MLP([4, 3], seed=0)
    with pytest.raises(
        ValueError, match=r"path must name a file, got the existing folder '.*ckpt\.npz'"
    ):
        getattr(model, method)(tmp_path / "ckpt.npz")
    assert _listing(tmp_path / "ckpt.npz") == []


def test_a_path_that_is_not_a_path_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="path must be a path ending in '.npz', got int"):
        mt.MLP([4, 3], seed=0).save(3)


@pytest.mark.parametrize("method", ["save", "save_weights"])
def test_parent_folders_are_created(tmp_path, method):
    model = _trained()
    path = tmp_path / "a" / "b" / "c" / "model.npz"
    getattr(model, method)(str(path))  # a str works as well as a Path
    assert path.is_file()
    assert _listing(path.parent) == ["model.npz"]
    target = mt.MLP([4, 8, 6, 3], batchnorm=True, seed=1)
    target.load_weights(path)
    _assert_same(target.state_dict(), model.state_dict())


# ----------------------------------------------------------- untrusted files


def _fresh() -> mt.Sequential:
    return _trained(steps=1)


@pytest.mark.parametrize("loader", ["load_weights", "load_model"])
def test_an_object_array_is_refused(tmp_path, loader):
    path = tmp_path / "evil.npz"
    model = _fresh()
    arrays = model.state_dict()
    arrays["0.W"] = np.array([{"a": 1}], dtype=object)  # np.savez pickles object arrays
    np.savez(path, **arrays)
    before = _state(model)
    with pytest.raises(
        ValueError, match=r"holds an object \(pickled\) array; minitrain never unpickles"
    ):
        if loader == "load_weights":
            model.load_weights(path)
        else:
            mt.load_model(path)
    _assert_same(model.state_dict(), before)


def _pickle_in_npz(path, marker) -> None:
    arrays = {"__config__": np.array("{}"), "0.W": np.array([_Payload(str(marker))], dtype=object)}
    np.savez(path, **arrays)


def _raw_pickle(path, marker) -> None:
    with open(path, "wb") as f:
        pickle.dump(_Payload(str(marker)), f)


def _pickle_as_member(path, marker) -> None:
    # A zip whose member is a bare pickle rather than a .npy array.
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("0.W.npy", pickle.dumps(_Payload(str(marker))))


@pytest.mark.parametrize(
    ("craft", "message"),
    [
        (_pickle_in_npz, r"holds an object \(pickled\) array"),
        (_raw_pickle, r"is not a readable \.npz file: it is not a zip archive"),
        (_pickle_as_member, r"is not a readable \.npz file: entry '0\.W' is not a \.npy array"),
    ],
)
@pytest.mark.parametrize("loader", ["load_weights", "load_model"])
def test_a_crafted_pickle_is_never_unpickled(tmp_path, craft, message, loader):
    # The payload is live: unpickling it does create its marker.
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(str(probe))))
    assert probe.exists()

    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    craft(path, marker)
    model = _fresh()
    before = _state(model)
    with pytest.raises(ValueError, match=message):
        if loader == "load_weights":
            model.load_weights(path)
        else:
            mt.load_model(path)
    assert not marker.exists()
    _assert_same(model.state_dict(), before)


def _edited(model: mt.Sequential, kind: str) -> dict[str, np.ndarray]:
    """What ``model.save`` writes, with one thing wrong."""
    arrays = model.state_dict()
    arrays.update({"optimizer/" + k: v for k, v in model.optimizer.state_dict().items()})
    if kind == "missing key":
        del arrays["1.running_var"]
    elif kind == "renamed key":
        arrays["0.w"] = arrays.pop("0.W")
    elif kind == "extra key":
        arrays["1.num_batches_tracked"] = np.array(3)
    elif kind == "wrong shape":
        arrays["0.W"] = arrays["0.W"].T.copy()
    elif kind == "wrong dtype":
        arrays["1.running_mean"] = arrays["1.running_mean"].astype(np.float64)
    elif kind == "integer weights":
        arrays["6.b"] = arrays["6.b"].astype(np.int32)
    return arrays


WEIGHT_FAULTS = {
    "missing key": r"missing keys \['1\.running_var'\], unexpected keys \[\]",
    "renamed key": r"missing keys \['0\.W'\], unexpected keys \['0\.w'\]",
    "extra key": r"missing keys \[\], unexpected keys \['1\.num_batches_tracked'\]",
    "wrong shape": r"\['0\.W'\] must have shape \(4, 8\), got shape \(8, 4\)",
    "wrong dtype": r"\['1\.running_mean'\] must have dtype float32, got float64",
    "integer weights": r"\['6\.b'\] must have dtype float32, got int32",
}


@pytest.mark.parametrize("kind", WEIGHT_FAULTS)
def test_load_weights_refuses_a_mismatched_file_and_changes_nothing(tmp_path, kind):
    source = _trained(steps=2)
    path = tmp_path / "w.npz"
    np.savez(path, **_edited(source, kind))
    model = _fresh()
    before = _state(model)
    with pytest.raises(ValueError, match=r"weights file '.*w\.npz'.*" + WEIGHT_FAULTS[kind]):
        model.load_weights(path)
    _assert_same(model.state_dict(), before)


@pytest.mark.parametrize("kind", WEIGHT_FAULTS)
def test_load_model_refuses_a_mismatched_file(tmp_path, kind):
    source = _trained(steps=2)
    source.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz", allow_pickle=False) as data:
        config = data["__config__"]
    np.savez(tmp_path / "bad.npz", **_edited(source, kind), __config__=config)
    with pytest.raises(ValueError, match=r"model file '.*bad\.npz'.*" + WEIGHT_FAULTS[kind]):
        mt.load_model(tmp_path / "bad.npz")


def test_load_model_refuses_mismatched_optimizer_state(tmp_path):
    source = _trained(steps=2)
    source.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["optimizer/m/0.W"] = arrays["optimizer/m/0.W"][:2]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"optimizer state\['m/0\.W'\] must have shape \(4, 8\)"):
        mt.load_model(tmp_path / "bad.npz")
    del arrays["optimizer/m/0.W"]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"missing keys \['m/0\.W'\]"):
        mt.load_model(tmp_path / "bad.npz")


def test_load_weights_refuses_another_architecture(tmp_path):
    _trained(sizes=(4, 6, 6, 3)).save_weights(tmp_path / "narrow.npz")
    _trained(sizes=(4, 8, 3)).save_weights(tmp_path / "shallow.npz")
    model = _fresh()  # 4-8-6-3
    before = _state(model)
    with pytest.raises(
        ValueError, match=r"\['0\.W'\] must have shape \(4, 8\), got shape \(4, 6\)"
    ):
        model.load_weights(tmp_path / "narrow.npz")
    with pytest.raises(
        ValueError,
        match=r"missing keys \['4\.beta', '4\.gamma', '4\.running_mean', '4\.running_var', "
        r"'6\.W', '6\.b'\], unexpected keys \['3\.b'\]",
    ):
        model.load_weights(tmp_path / "shallow.npz")
    _assert_same(model.state_dict(), before)


@pytest.mark.parametrize("keep", [3, 40, 0.5, -12])
@pytest.mark.parametrize("loader", ["load_weights", "load_model"])
def test_a_truncated_file_is_refused(tmp_path, keep, loader):
    model = _fresh()
    model.save(tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    (tmp_path / "m.npz").write_bytes(data[:cut])
    before = _state(model)
    with pytest.raises(ValueError, match=r"'.*m\.npz' is not a readable \.npz file"):
        if loader == "load_weights":
            model.load_weights(tmp_path / "m.npz")
        else:
            mt.load_model(tmp_path / "m.npz")
    _assert_same(model.state_dict(), before)


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p.write_text("0.W,1.gamma\n1.0,2.0\n"),
        lambda p: p.write_bytes(b""),
        lambda p: np.save(p.with_suffix(".npy"), np.zeros(3)) or p.with_suffix(".npy").rename(p),
    ],
    ids=["text", "empty", "npy"],
)
@pytest.mark.parametrize("loader", ["load_weights", "load_model"])
def test_a_file_that_is_not_an_npz_is_refused(tmp_path, write, loader):
    path = tmp_path / "data.npz"
    write(path)
    model = _fresh()
    before = _state(model)
    with pytest.raises(
        ValueError, match=r"'.*data\.npz' is not a readable \.npz file: it is not a zip"
    ):
        if loader == "load_weights":
            model.load_weights(path)
        else:
            mt.load_model(path)
    _assert_same(model.state_dict(), before)


@pytest.mark.parametrize("loader", ["load_weights", "load_model"])
def test_a_missing_file_is_a_file_not_found_error(tmp_path, loader):
    with pytest.raises(FileNotFoundError, match=r"no such file: '.*nothing\.npz'"):
        if loader == "load_weights":
            _fresh().load_weights(tmp_path / "nothing.npz")
        else:
            mt.load_model(tmp_path / "nothing.npz")


def test_load_model_of_a_weights_file_says_it_has_no_config(tmp_path):
    _fresh().save_weights(tmp_path / "w.npz")
    with pytest.raises(
        ValueError,
        match=r"model file '.*w\.npz' has no '__config__' entry: it was not written by save\(\)",
    ):
        mt.load_model(tmp_path / "w.npz")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (np.array("not json"), "Expecting value"),
        (np.array("[]"), "has a broken '__config__'"),
        (np.array('{"format": "other"}'), r"format must be 'minitrain\.model', got 'other'"),
        (np.array('{"format": "minitrain.model"}'), r"has a broken '__config__': 'model'"),
        (
            np.array('{"format": "minitrain.model", "model": {"layers": ["Dense"]}}'),
            "has a broken '__config__'",
        ),
        (
            np.array(
                '{"format": "minitrain.model", "model": {"layers": '
                '[{"class": "Conv2D", "config": {}}]}}'
            ),
            r"layer class must be one of \['BatchNorm', 'BatchNormalization', 'Dense'.*, "
            r"got 'Conv2D'",
        ),
        (
            np.array([1.0, 2.0]),
            r"'__config__' must be a JSON string, got an array of dtype float64",
        ),
    ],
)
def test_load_model_refuses_a_broken_config(tmp_path, config, message):
    model = _fresh()
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["__config__"] = config
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        mt.load_model(tmp_path / "bad.npz")


# ------------------------------------------- the Keras vocabulary through save/load_model

from minitrain import initializers, losses, metrics, optimizers, schedules  # noqa: E402
from minitrain.layers import BatchNorm, BatchNormalization, Dense, Dropout, Input  # noqa: E402
from minitrain.layers import LeakyReLU as _LeakyReLU  # noqa: E402


def _keras_style(input_first: bool = True) -> mt.Sequential:
    body = [
        Dense(
            8,
            activation="tanh",
            kernel_initializer="lecun_normal",
            bias_initializer=initializers.Constant(0.1),
        ),
        BatchNormalization(momentum=0.9),
        Dense(6, activation=_LeakyReLU(0.2), use_bias=False, seed=4),
        BatchNorm(6),
        Dropout(0.2, seed=5),
        Dense(1, activation="sigmoid", kernel_initializer=initializers.RandomUniform(-0.3, 0.3)),
    ]
    return mt.Sequential([Input((4,)), *body] if input_first else body, seed=3)


SETUPS = {
    "rmsprop centered, clipnorm, binary crossentropy": lambda: (
        optimizers.RMSprop(learning_rate=0.01, momentum=0.9, centered=True, clipnorm=1.0),
        losses.BinaryCrossentropy(label_smoothing=0.1),
    ),
    "adagrad, clipvalue, exponential decay, mae": lambda: (
        optimizers.Adagrad(
            learning_rate=schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5),
            initial_accumulator_value=0.1,
            clipvalue=0.5,
        ),
        "mae",
    ),
    "adam, global_clipnorm, cosine decay, huber": lambda: (
        optimizers.Adam(learning_rate=schedules.CosineDecay(0.01, 10), global_clipnorm=0.5),
        losses.Huber(delta=0.5),
    ),
    "sgd, polynomial decay": lambda: (
        optimizers.SGD(
            learning_rate=schedules.PolynomialDecay(0.1, 5, power=2.0, cycle=True), momentum=0.9
        ),
        "binary_crossentropy",
    ),
    "rmsprop, inverse time decay": lambda: (
        optimizers.RMSprop(learning_rate=schedules.InverseTimeDecay(0.01, 2, 0.5, name="itd")),
        "mse",
    ),
    "adamw, cosine decay restarts": lambda: (
        optimizers.AdamW(learning_rate=schedules.CosineDecayRestarts(0.01, 3, t_mul=1.5)),
        "binary_crossentropy",
    ),
}


def _binary_data(n: int = 12):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 4)).astype(np.float32), (np.arange(n) % 2).astype(np.float32)


def _configs(model: mt.Sequential) -> tuple:
    return (
        model.get_config(),
        model.optimizer.get_config(),
        model.loss.get_config(),
        [m.get_config() for m in model.metrics],
        [m.get_config() for m in model.weighted_metrics],
    )


@pytest.mark.parametrize("setup", SETUPS)
def test_every_new_piece_saves_and_loads_bit_exact(tmp_path, setup):
    model = _keras_style()
    optimizer, loss = SETUPS[setup]()
    model.compile(
        optimizer,
        loss,
        metrics=["acc", metrics.Precision(thresholds=0.3, name="p30"), "mse"],
        weighted_metrics=[metrics.AUC(), metrics.Recall(name="weighted_recall")],
    )
    x, y = _binary_data()
    w = np.linspace(0.0, 2.0, len(x))
    for _ in range(3):
        model.train_step(x, y, sample_weight=w)
    model.save(tmp_path / "m.npz")
    loaded = mt.load_model(tmp_path / "m.npz")
    assert _configs(loaded) == _configs(model)
    assert [m.name for m in loaded.metrics] == ["acc", "p30", "mse"]
    assert [m.name for m in loaded.weighted_metrics] == ["auc", "weighted_recall"]
    _assert_same(loaded.state_dict(), model.state_dict())
    _assert_same(loaded.optimizer.state_dict(), model.optimizer.state_dict())
    # Training on from the file follows the original bit for bit.
    loaded.layers[5].rng.bit_generator.state = model.layers[5].rng.bit_generator.state
    for _ in range(2):
        a = model.train_step(x, y, sample_weight=w)
        b = loaded.train_step(x, y, sample_weight=w)
        assert a == b
    _assert_same(loaded.state_dict(), model.state_dict())
    assert loaded.predict(x).tobytes() == model.predict(x).tobytes()


def test_an_unbuilt_model_saves_its_config_alone_and_loads_unbuilt(tmp_path):
    model = mt.Sequential(
        [Dense(8, activation="relu"), BatchNormalization(), Dense(1, activation="sigmoid")], seed=2
    )
    model.compile("adam", "binary_crossentropy", metrics=["acc"])
    assert not model.built
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["__config__", "optimizer/iterations"]
    loaded = mt.load_model(tmp_path / "m.npz")
    assert not loaded.built and loaded.state_dict() == {}
    assert _configs(loaded) == _configs(model)
    # Same seed in the file: building both the same way draws the same weights.
    model.build((None, 4))
    loaded.build((None, 4))
    _assert_same(loaded.state_dict(), model.state_dict())


@pytest.mark.parametrize("how", ["build", "first batch"])
def test_a_lazily_built_model_loads_built(tmp_path, how):
    model = _keras_style(input_first=False)
    x, y = _binary_data()
    if how == "build":
        model.build((None, 4))
    else:
        model(x, training=False)
    model.save(tmp_path / "m.npz")
    loaded = mt.load_model(tmp_path / "m.npz")
    assert loaded.built and loaded.input_width == 4
    _assert_same(loaded.state_dict(), model.state_dict())
    assert loaded.predict(x).tobytes() == model.predict(x).tobytes()
