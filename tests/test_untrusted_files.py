"""Untrusted files: what ``tests/test_saving.py`` does not already try.

test_saving.py covers ``load_weights`` and ``load_model`` against object
arrays, crafted pickles, missing/renamed/extra keys, wrong shapes and dtypes,
another architecture, truncation and non-npz files. Here:

- the third loader, ``BackupAndRestore`` (through ``fit``), against the same
  faults and against broken training metadata (generator states, learning
  rates, the epoch in progress): each is refused with a ``ValueError`` naming
  what is wrong, nothing runs, and the model (weights, buffers, optimizer
  state, learning rate, generators, modes) is left exactly as it was;
- lower-level tricks on model and weights files: a ``.npy`` header promising
  more data than there is (a little, or terabytes), byte-swapped and
  structured dtypes, an object field hidden in a structured dtype, a bad
  iteration counter, a config nested deep enough to exhaust the JSON parser,
  configs naming things that are not minitrain classes, and a config whose
  architecture disagrees with the weights.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minitrain as mt
from minitrain.layers import BatchNorm, Dense, Dropout, ReLU

BACKUP = "training_state.npz"


class _Payload:
    """Unpickling this object opens (so creates) ``path``: a stand-in for any code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _model(seed: int = 0, width: int = 8) -> mt.Sequential:
    layers = [
        Dense(2, width, use_bias=False, seed=seed),
        BatchNorm(width),
        ReLU(),
        Dropout(0.2, seed=seed + 100),  # a generator of its own: saved separately
        Dense(width, 3, seed=seed + 1),
        Dropout(0.1),  # draws from the model's generator
    ]
    model = mt.Sequential(layers, seed=seed)
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data():
    x, y = mt.data.make_spirals(n_per_class=20, seed=0)
    return x.astype(np.float32), y


class _Stop(mt.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            raise KeyboardInterrupt


def _backup(folder: Path, width: int = 8) -> dict[str, np.ndarray]:
    """A genuine mid-epoch backup (epoch 0, after batch 2): its arrays."""
    x, y = _data()
    with pytest.raises(KeyboardInterrupt):
        _model(seed=0, width=width).fit(
            x, y, epochs=2, batch_size=8, verbose=0,
            callbacks=[mt.BackupAndRestore(folder, save_freq=1), _Stop()],
        )  # fmt: skip
    with np.load(folder / BACKUP, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _everything(model: mt.Sequential) -> tuple:
    """All of a model's state that a restore could touch, as bytes."""
    generators = [model.rng] + [layer.rng for layer in model.layers if isinstance(layer, Dropout)]
    return (
        {k: v.tobytes() for k, v in model.state_dict().items()},
        {k: v.tobytes() for k, v in model.optimizer.state_dict().items()},
        model.optimizer.learning_rate,
        model.optimizer._last_lr,
        [json.dumps(g.bit_generator.state) for g in generators],
        [layer.training for layer in model.layers],
    )


def _training_json(arrays: dict) -> dict:
    return json.loads(str(arrays["__training__"]))


def _with_training(arrays: dict, edit) -> dict:
    state = _training_json(arrays)
    edit(state)
    return {**arrays, "__training__": np.array(json.dumps(state))}


# Each fault: a function of (genuine arrays, folder) writing the bad backup, and the message.
def _savez(folder, arrays):
    np.savez(folder / BACKUP, **arrays)


def _truncated(fraction):
    def write(folder, arrays):
        _savez(folder, arrays)
        data = (folder / BACKUP).read_bytes()
        (folder / BACKUP).write_bytes(data[: int(len(data) * fraction)])

    return write


def _edited(edit):
    def write(folder, arrays):
        _savez(folder, edit(dict(arrays)))

    return write


def _renamed(arrays):
    arrays["0.w"] = arrays.pop("0.W")
    return arrays


def _other_architecture(folder, arrays):
    other = folder / "other"
    _savez(folder, _backup(other, width=6))


def _pickled_entry(folder, arrays):
    arrays["0.W"] = np.array([_Payload(str(folder / "pwned"))], dtype=object)
    _savez(folder, arrays)


def _raw_pickle(folder, arrays):
    (folder / BACKUP).write_bytes(pickle.dumps(_Payload(str(folder / "pwned"))))


def _set(key, value):
    def edit(state):
        state[key] = value

    return edit


def _set_rng(key, value):
    def edit(state):
        state["rng"][key] = value

    return edit


BACKUP_FAULTS = {
    "object array": (
        _pickled_entry,
        r"holds an object \(pickled\) array; minitrain never unpickles",
    ),
    "raw pickle": (_raw_pickle, r"is not a readable \.npz file: it is not a zip archive"),
    "truncated at 30%": (_truncated(0.3), r"is not a readable \.npz file"),
    "truncated at 99%": (_truncated(0.99), r"is not a readable \.npz file"),
    "renamed key": (
        _edited(_renamed),
        r"missing keys \['0\.W'\], unexpected keys \['0\.w'\]",
    ),
    "wrong shape": (
        _edited(lambda a: {**a, "4.W": a["4.W"][:, :2].copy()}),
        r"\['4\.W'\] must have shape \(8, 3\), got shape \(8, 2\)",
    ),
    "wrong dtype": (
        _edited(lambda a: {**a, "1.running_var": a["1.running_var"].astype(np.float64)}),
        r"\['1\.running_var'\] must have dtype float32, got float64",
    ),
    "wrong optimizer slot": (
        _edited(lambda a: {**a, "optimizer/m/0.W": a["optimizer/m/0.W"][:1].copy()}),
        r"optimizer state\['m/0\.W'\] must have shape \(2, 8\)",
    ),
    "negative iteration count": (
        _edited(lambda a: {**a, "optimizer/iterations": np.array(-3)}),
        r"optimizer state\['iterations'\] must be a 0-d int array >= 0",
    ),
    "other architecture": (
        _other_architecture,
        r"\['0\.W'\] must have shape \(2, 8\), got shape \(2, 6\)",
    ),
    "no training entry": (
        _edited(lambda a: {k: v for k, v in a.items() if k != "__training__"}),
        r"has no '__training__' entry",
    ),
    "training entry not JSON": (
        _edited(lambda a: {**a, "__training__": np.array("{not json")}),
        r"Expecting property name",
    ),
    "training entry a list": (
        _edited(lambda a: {**a, "__training__": np.array("[1, 2]")}),
        r"has a broken '__training__': expected an object holding 'meta' and 'rng'",
    ),
    "no generator states": (
        _edited(lambda a: _with_training(a, lambda s: s.pop("rng"))),
        r"has a broken '__training__'",
    ),
    "meta not an object": (
        _edited(lambda a: _with_training(a, _set("meta", [3, 0]))),
        r"has a broken '__training__'",
    ),
    "generator of another kind": (
        _edited(
            lambda a: _with_training(a, lambda s: s["rng"]["model"].update(bit_generator="MT19937"))
        ),
        r"holds a broken state for generator 'model': state must be for a PCG64",
    ),
    "generator state malformed": (
        _edited(lambda a: _with_training(a, _set_rng("3", {"bit_generator": "PCG64"}))),
        r"holds a broken state for generator '3'",
    ),
    "generator for a layer without one": (
        _edited(lambda a: _with_training(a, _set_rng("5", _training_json(a)["rng"]["model"]))),
        r"holds generator states for \['3', '5', 'model'\], expected \['3', 'model'\]",
    ),
    "learning rate a string": (
        _edited(lambda a: _with_training(a, _set("learning_rate", "fast"))),
        r"holds a broken learning_rate: 'fast'",
    ),
    "learning rate negative": (
        _edited(lambda a: _with_training(a, _set("learning_rate", -0.5))),
        r"holds a broken learning_rate: -0\.5",
    ),
    "last rate infinite": (
        _edited(lambda a: _with_training(a, _set("last_lr", float("inf")))),
        r"holds a broken last_lr: inf",
    ),
    # The fit/ entries: saving checks they are plain arrays, the fit loop what they mean.
    "epoch entry of a structured dtype": (
        _edited(lambda a: {**a, "fit/position": np.zeros(1, dtype=[("n", "<i8")])}),
        r"'fit/position' must be an array of numbers or text, got dtype \[\('n', '<i8'\)\]",
    ),
    "running loss of another shape": (
        _edited(lambda a: {**a, "fit/metric/0/total": np.zeros(5)}),
        r"holds a broken state for metric 'loss'",
    ),
    "running count a string": (
        _edited(lambda a: {**a, "fit/metric/0/count": np.array("24")}),
        r"holds a broken state for metric 'loss'",
    ),
    "shuffle order with a repeat": (
        _edited(lambda a: {**a, "fit/order": np.zeros_like(a["fit/order"])}),
        r"holds a shuffle order that is not a permutation",
    ),
    "shuffle order of floats": (
        _edited(lambda a: {**a, "fit/order": a["fit/order"].astype(np.float64)}),
        r"holds a shuffle order that is not a permutation",
    ),
}


@pytest.mark.parametrize("fault", BACKUP_FAULTS)
def test_a_bad_backup_is_refused_and_changes_nothing(tmp_path, fault):
    write, message = BACKUP_FAULTS[fault]
    folder = tmp_path / "backup"
    arrays = _backup(folder)
    assert {"fit/order", "fit/position", "fit/metric/0/total", "__training__"} <= set(arrays)
    write(folder, arrays)
    model = _model(seed=7)
    model.eval()
    before = _everything(model)
    x, y = _data()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[mt.BackupAndRestore(folder)])
    assert _everything(model) == before
    assert not (folder / "pwned").exists()  # nothing was unpickled
    assert (folder / BACKUP).exists()  # the evidence is kept, as after any failed fit


def test_the_genuine_backup_restores(tmp_path):
    # The control for the test above: the untouched file resumes and ends as an
    # uninterrupted run would.
    folder = tmp_path / "backup"
    _backup(folder)
    x, y = _data()
    model = _model(seed=7)
    history = model.fit(
        x, y, epochs=2, batch_size=8, verbose=0, callbacks=[mt.BackupAndRestore(folder)]
    )
    reference = _model(seed=0)
    reference_history = reference.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert history.history == reference_history.history
    assert _everything(model)[:2] == _everything(reference)[:2]


# ------------------------------------------------------ model and weights files


def _npy(shape, data: bytes, descr="<f4") -> bytes:
    """A ``.npy`` file: a header claiming ``shape`` and ``descr``, then ``data``."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    out.write(data)
    return out.getvalue()


def _saved(tmp_path) -> tuple[mt.Sequential, dict[str, np.ndarray]]:
    model = _model(seed=0)
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz", allow_pickle=False) as data:
        return model, {k: data[k] for k in data.files}


def _zip(path: Path, arrays: dict[str, np.ndarray], raw: dict[str, bytes]) -> None:
    """An npz of ``arrays`` plus members whose bytes are given as they are."""
    np.savez(path, **arrays)
    with zipfile.ZipFile(path, "a") as z:
        for name, data in raw.items():
            z.writestr(name + ".npy", data)


def _refused(loader: str, path: Path, message: str) -> None:
    """``loader`` refuses ``path`` with ``message``; ``load_weights`` changes nothing."""
    if loader == "load_model":
        with pytest.raises(ValueError, match=message):
            mt.load_model(path)
        return
    model = _model(seed=3)
    before = _everything(model)
    with pytest.raises(ValueError, match=message):
        model.load_weights(path)
    assert _everything(model) == before


MEMBER_TRICKS = {
    # Refused from the header, before numpy would allocate what it declares.
    "header promises 1000 floats, holds 10": (
        _npy((1000,), np.zeros(10, np.float32).tobytes()),
        r"is not a readable \.npz file: entry '0\.W' declares shape \(1000,\) of float32 "
        r"\(4,000 bytes\), but holds at most 40 bytes",
    ),
    "header promises 4 TiB": (
        _npy((2**40,), np.zeros(10, np.float32).tobytes()),
        r"is not a readable \.npz file: entry '0\.W' declares shape \(1099511627776,\) of "
        r"float32 \(4,398,046,511,104 bytes\), but holds at most 40 bytes",
    ),
    "object field in a structured dtype": (
        _npy((2,), b"\0" * 16, descr=[("a", "<f4"), ("b", "|O")]),
        r"holds an object \(pickled\) array; minitrain never unpickles",
    ),
}


@pytest.mark.parametrize("trick", MEMBER_TRICKS)
@pytest.mark.parametrize("loader", ["load_weights", "load_model"])
def test_a_lying_npy_member_is_refused(tmp_path, trick, loader):
    _, arrays = _saved(tmp_path)
    data, message = MEMBER_TRICKS[trick]
    del arrays["0.W"]
    _zip(tmp_path / "bad.npz", arrays, {"0.W": data})
    _refused(loader, tmp_path / "bad.npz", r"'.*bad\.npz' " + message)


ENTRY_TRICKS = {
    "byte-swapped weights": (
        lambda a: {**a, "0.W": a["0.W"].astype(">f4")},
        r"\['0\.W'\] must have dtype float32, got >f4",
    ),
    "structured weights": (
        lambda a: {**a, "4.b": np.zeros(3, dtype=[("x", "<f4")])},
        r"\['4\.b'\] must have dtype float32, got \[\('x', '<f4'\)\]",
    ),
    "0-d weights": (
        lambda a: {**a, "4.b": np.array(1.0, np.float32)},
        r"\['4\.b'\] must have shape \(3,\), got shape \(\)",
    ),
}


@pytest.mark.parametrize("trick", ENTRY_TRICKS)
@pytest.mark.parametrize("loader", ["load_weights", "load_model"])
def test_an_entry_of_the_wrong_kind_is_refused(tmp_path, trick, loader):
    _, arrays = _saved(tmp_path)
    edit, message = ENTRY_TRICKS[trick]
    np.savez(tmp_path / "bad.npz", **edit(arrays))
    _refused(loader, tmp_path / "bad.npz", message)


@pytest.mark.parametrize(
    ("iterations", "message"),
    [
        (np.array(-1), r"state\['iterations'\] must be a 0-d int array >= 0"),
        (np.array(3.0), r"state\['iterations'\] must have dtype int64, got float64"),
        (np.array([3]), r"state\['iterations'\] must have shape \(\), got shape \(1,\)"),
        (np.array(True), r"state\['iterations'\] must have dtype int64, got bool"),
        (np.zeros((), [("n", "<i8")]), r"state\['iterations'\] must have dtype int64, got \["),
    ],
    ids=["negative", "float", "1-d", "bool", "structured"],
)
def test_a_bad_iteration_counter_is_refused(tmp_path, iterations, message):
    _, arrays = _saved(tmp_path)
    arrays["optimizer/iterations"] = iterations
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"model file '.*bad\.npz' optimizer " + message):
        mt.load_model(tmp_path / "bad.npz")


def _config(arrays):
    return json.loads(str(arrays["__config__"]))


def _with_config(arrays, config) -> dict:
    text = config if isinstance(config, str) else json.dumps(config)
    return {**arrays, "__config__": np.array(text)}


def _layer_class(name):
    def edit(config):
        config["model"]["layers"][0]["class"] = name

    return edit


def _compile_entry(key, value):
    def edit(config):
        config["compile"][key] = value

    return edit


def _learning_rate(value):
    def edit(config):
        config["compile"]["optimizer"]["config"]["learning_rate"] = value

    return edit


def _narrower(config):
    config["model"]["layers"][0]["config"]["out_features"] = 6
    config["model"]["layers"][1]["config"]["num_features"] = 6
    config["model"]["layers"][4]["config"]["in_features"] = 6


CONFIG_TRICKS = {
    "a module function as a layer": (_layer_class("os.system"), r"layer class must be one of"),
    "a dunder as a layer": (_layer_class("__import__"), r"layer class must be one of"),
    "the model class as a layer": (_layer_class("Sequential"), r"layer class must be one of"),
    "an unknown optimizer": (
        _compile_entry("optimizer", {"class": "subprocess.Popen", "config": {}}),
        r"config\['class'\] must be one of 'SGD', 'Adam', 'AdamW'",
    ),
    "an unknown schedule": (
        _learning_rate({"class": "eval", "config": {"source": "1"}}),
        r"config\['class'\] must be one of 'Constant'",
    ),
    "a NaN learning rate": (_learning_rate(float("nan")), r"learning_rate must be a real number"),
    "an infinite learning rate": (_learning_rate(float("inf")), r"learning_rate must be a real"),
    "an unknown loss": (
        _compile_entry("loss", {"class": "builtins.exec", "config": {}}),
        r"cfg\['class'\] must be one of 'CategoricalCrossentropy'",
    ),
    "an unknown metric": (_compile_entry("metrics", ["exec"]), r"metric must be one of"),
    "an architecture narrower than the weights": (
        _narrower,
        r"\['0\.W'\] must have shape \(2, 6\), got shape \(2, 8\)",
    ),
}


@pytest.mark.parametrize("trick", CONFIG_TRICKS)
def test_a_config_naming_what_minitrain_does_not_build_is_refused(tmp_path, trick):
    _, arrays = _saved(tmp_path)
    edit, message = CONFIG_TRICKS[trick]
    config = _config(arrays)
    edit(config)
    np.savez(tmp_path / "bad.npz", **_with_config(arrays, config))
    with pytest.raises(ValueError, match=message):
        mt.load_model(tmp_path / "bad.npz")


@pytest.mark.parametrize(
    "config",
    ["[" * 100_000 + "]" * 100_000, '{"a": ' * 100_000 + "1" + "}" * 100_000],
    ids=["nested lists", "nested objects"],
)
def test_a_config_nested_too_deep_for_the_parser_is_a_value_error(tmp_path, config):
    _, arrays = _saved(tmp_path)
    np.savez(tmp_path / "bad.npz", **_with_config(arrays, config))
    with pytest.raises(ValueError, match=r"'__config__' is not valid JSON: nested too deeply"):
        mt.load_model(tmp_path / "bad.npz")


def test_a_folder_named_like_the_file_is_refused(tmp_path):
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(ValueError, match=r"is not a readable \.npz file: it is not a zip archive"):
        mt.load_model(tmp_path / "model.npz")


def test_a_compressed_npz_is_a_legitimate_file(tmp_path):
    # Refusing the odd is not refusing the valid: savez_compressed writes a proper npz.
    model, arrays = _saved(tmp_path)
    np.savez_compressed(tmp_path / "small.npz", **arrays)
    loaded = mt.load_model(tmp_path / "small.npz")
    assert _everything(loaded)[:2] == _everything(model)[:2]


# ------------------------------------------- files that declare more than they hold


def _peak_while_refused(load, message) -> int:
    """Run ``load`` (which must raise ``ValueError`` matching ``message``) under
    tracemalloc; returns the peak of the bytes allocated meanwhile."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            load()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _huge_dense(config):
    config["model"]["layers"][0]["config"].update(in_features=200_000, out_features=200_000)


def _huge_input(config):
    # An Input and a lazy Dense build at once: the declared width is followed too.
    config["model"]["layers"][:1] = [
        {"class": "Input", "config": {"shape": [200_000]}},
        {"class": "Dense", "config": {"in_features": None, "out_features": 200_000}},
    ]


def _huge_build_shape(config):
    config["model"]["layers"][0]["config"].update(in_features=None, out_features=200_000)
    config["model"]["build_input_shape"] = [None, 200_000]


@pytest.mark.parametrize("edit", [_huge_dense, _huge_input, _huge_build_shape])
def test_a_config_declaring_a_huge_dense_is_refused_before_allocating(tmp_path, edit):
    _, arrays = _saved(tmp_path)
    config = _config(arrays)
    edit(config)
    small = {k: v for k, v in arrays.items() if not k.startswith("optimizer/")}
    del config["compile"]
    np.savez(tmp_path / "bad.npz", **_with_config(small, config))
    assert (tmp_path / "bad.npz").stat().st_size < 8_000
    peak = _peak_while_refused(
        lambda: mt.load_model(tmp_path / "bad.npz"),
        r"has a broken '__config__': layers\[\d\] \(Dense\) declares 40,000,\d{3},\d{3}(,\d{3})? "
        r"values \(params and buffers\), but the file holds \d+ for it \(refused before "
        r"allocating anything\)",
    )
    assert peak < 4_000_000  # a 200000 x 200000 float32 W would be 160 GB


def test_a_backup_whose_header_declares_a_huge_array_is_refused_before_allocating(tmp_path):
    folder = tmp_path / "backup"
    arrays = _backup(folder)
    del arrays["0.W"]
    _zip(folder / BACKUP, arrays, {"0.W": _npy((200_000, 200_000), b"\0" * 64)})
    model = _model(seed=7)
    before = _everything(model)
    peak = _peak_while_refused(
        lambda: mt.saving.load_training_state(model, folder / BACKUP),
        r"is not a readable \.npz file: entry '0\.W' declares shape \(200000, 200000\) of "
        r"float32 \(160,000,000,000 bytes\), but holds at most 64 bytes",
    )
    assert peak < 4_000_000
    assert _everything(model) == before


def test_the_fit_loops_check_of_its_arrays_runs_before_anything_is_written(tmp_path):
    folder = tmp_path / "backup"
    arrays = _backup(folder)
    seen = {}

    def refuse(progress, where):
        seen.update(progress)
        raise ValueError(f"{where} holds an epoch this fit cannot resume")

    model = _model(seed=7)
    before = _everything(model)
    with pytest.raises(ValueError, match=r"training_state\.npz' holds an epoch this fit cannot"):
        mt.saving.load_training_state(model, folder / BACKUP, check_progress=refuse)
    assert _everything(model) == before and model._fit_progress is None
    expected = {k[len("fit/") :] for k in arrays if k.startswith("fit/")}
    assert set(seen) == expected and "order" in expected  # the prefix dropped
