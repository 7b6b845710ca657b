"""Determinism: same seed, same data, bit-identical History and weights, across processes.

One script trains models holding every layer type (Dense, BatchNorm, ReLU,
LeakyReLU, Sigmoid, Tanh, Softmax, and Dropout both with its own seed and on
the model's generator) with each optimizer, in float32 and float64, with
shuffling, validation and stateful callbacks. It runs in two fresh processes
with different hash seeds (so that no dict or set order can leak in) and in
this one: every History, weight, buffer, optimizer slot and generator state
must agree to the last bit. A different seed must change the result.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import minitrain as mt
    from minitrain.layers import (
        BatchNorm, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh,
    )

    OPTIMIZERS = {
        "sgd": lambda: mt.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
        "adam": lambda: mt.Adam(mt.CosineDecay(0.01, 40, warmup_steps=5, warmup_target=0.02)),
        "adamw": lambda: mt.AdamW(0.01, weight_decay=0.05),
    }


    def every_layer(seed, dtype):
        layers = [
            Dense(2, 16, seed=seed, dtype=dtype), BatchNorm(16, dtype=dtype), ReLU(),
            Dropout(0.25),
            Dense(16, 16, kernel_initializer="glorot_normal", seed=seed + 1, dtype=dtype), Tanh(),
            Dropout(0.1, seed=seed + 2),
            Dense(16, 12, kernel_initializer="he_normal", seed=seed + 3, dtype=dtype),
            LeakyReLU(0.05),
            Dense(12, 8, use_bias=False, seed=seed + 4, dtype=dtype), Sigmoid(),
            Dense(8, 3, kernel_initializer="glorot_uniform", seed=seed + 5, dtype=dtype), Softmax(),
        ]
        return mt.Sequential(layers, seed=seed)


    def train(seed, dtype_name, optimizer):
        dtype = np.dtype(dtype_name)
        x, y = mt.data.make_spirals(n_per_class=40, seed=1)
        model = every_layer(seed, dtype)
        model.compile(OPTIMIZERS[optimizer](), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        callbacks = [mt.EarlyStopping("val_loss", patience=3, restore_best_weights=True)]
        if optimizer != "adam":  # a float rate, which ReduceLROnPlateau may lower
            callbacks.insert(0, mt.ReduceLROnPlateau("loss", factor=0.5, patience=1))
        history = model.fit(x, y, batch_size=16, epochs=6, verbose=0, validation_split=0.25,
                            callbacks=callbacks)
        mlp = mt.MLP([2, 10, 10, 3], batchnorm=True, dropout=0.3, seed=seed, dtype=dtype)
        mlp.compile(OPTIMIZERS[optimizer](), "sparse_categorical_crossentropy")
        mlp_history = mlp.fit(x, y, batch_size=16, epochs=3, verbose=0)
        arrays = {}
        for name, m, h in [("every", model, history), ("mlp", mlp, mlp_history)]:
            arrays.update({f"{name}/w/{k}": v for k, v in m.state_dict().items()})
            arrays.update({f"{name}/o/{k}": v for k, v in m.optimizer.state_dict().items()})
            arrays[f"{name}/history"] = np.array(json.dumps([h.epoch, h.history]))
            generators = [m.rng] + [l.rng for l in m.layers if isinstance(l, Dropout)]
            states = [g.bit_generator.state for g in generators]
            arrays[f"{name}/rng"] = np.array(json.dumps(states))
            arrays[f"{name}/predict"] = m.predict(x)
        return arrays


    if __name__ == "__main__":
        out, seed = sys.argv[1], int(sys.argv[2])
        arrays = {}
        for dtype_name in ("float32", "float64"):
            for optimizer in OPTIMIZERS:
                run = train(seed, dtype_name, optimizer)
                arrays.update({f"{dtype_name}/{optimizer}/{k}": v for k, v in run.items()})
        np.savez(out, **arrays)
    """
)


def _run(tmp_path, name, seed, hash_seed):
    script = tmp_path / "determinism.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"{name}.npz"
    proc = subprocess.run(
        [sys.executable, str(script), str(out), str(seed)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
    )
    assert proc.returncode == 0, proc.stderr
    with np.load(out, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    """The keys whose arrays differ in any bit (or exist on one side only)."""
    differ = sorted(set(a) ^ set(b))
    for key in sorted(set(a) & set(b)):
        if (a[key].dtype, a[key].shape, a[key].tobytes()) != (
            b[key].dtype,
            b[key].shape,
            b[key].tobytes(),
        ):
            differ.append(key)
    return differ


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    """The script, imported here as a module, for the in-process run."""
    path = tmp_path_factory.mktemp("script") / "determinism.py"
    path.write_text(SCRIPT)
    spec = importlib.util.spec_from_file_location("determinism", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def test_same_seed_gives_bit_identical_runs_across_processes(tmp_path, module):
    first = _run(tmp_path, "first", seed=11, hash_seed=1)
    second = _run(tmp_path, "second", seed=11, hash_seed=2)
    assert len(first) > 100  # every config, every array is there
    assert _same(first, second) == []
    # This process agrees too.
    here = {}
    for dtype_name in ("float32", "float64"):
        for optimizer in module.OPTIMIZERS:
            run = module.train(11, dtype_name, optimizer)
            here.update({f"{dtype_name}/{optimizer}/{k}": v for k, v in run.items()})
    assert _same(first, here) == []
    # The runs did train: every History has several epochs of finite losses.
    for key in first:
        if key.endswith("/history"):
            epochs, history = json.loads(str(first[key]))
            assert len(epochs) >= 3 and all(np.isfinite(history["loss"])), key


def test_another_seed_changes_every_run(tmp_path, module):
    a = module.train(11, "float32", "adam")
    b = module.train(12, "float32", "adam")
    for key in ("every/history", "every/w/0.W", "every/rng", "mlp/history", "mlp/w/0.W"):
        assert a[key].tobytes() != b[key].tobytes(), key
