"""Data and comparison helpers shared by the model tests."""

from __future__ import annotations

import numpy as np

import minitrain as mt

# ------------------------------------------------------------- test data


def _data(n: int = 12, width: int = 4, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, width))
    y = np.arange(n) % classes  # every class present
    return x, y


def _state(model: mt.Sequential) -> dict[str, np.ndarray]:
    """Params and buffers, copied here (not trusting ``state_dict`` to copy)."""
    return {k: np.array(v, copy=True) for k, v in model.state_dict().items()}


def _snapshot(model: mt.Sequential) -> dict[str, np.ndarray]:
    """Every param, buffer and optimizer slot, copied."""
    snap = {f"model/{k}": v for k, v in _state(model).items()}
    if model.optimizer is not None:
        snap.update(
            {f"opt/{k}": np.array(v, copy=True) for k, v in model.optimizer.state_dict().items()}
        )
    return snap


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _layer_types(model: mt.Sequential) -> list[type]:
    return [type(layer) for layer in model.layers]
