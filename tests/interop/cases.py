"""Models of every layer kind the bridges map, with weights and statistics drawn at random.

Fresh layers hold W from an initializer, b = 0, gamma = 1, beta = 0 and running
statistics 0 and 1: a bridge that dropped a bias or swapped mean and variance would
pass on those. Every array here is drawn instead, from a fixed seed.
"""

from __future__ import annotations

import numpy as np

import minitrain as mt
from minitrain import layers as L

IN, HIDDEN = 4, 5


def _layer_cases(dtype) -> dict[str, list]:
    d = dict(dtype=dtype)
    return {
        "dense": [L.Dense(IN, HIDDEN, **d)],
        "dense_no_bias": [L.Dense(IN, HIDDEN, use_bias=False, **d)],
        "dense_relu": [L.Dense(IN, HIDDEN, activation="relu", **d)],
        "dense_leaky_relu": [L.Dense(IN, HIDDEN, activation=L.LeakyReLU(0.3), **d)],
        "dense_sigmoid": [L.Dense(IN, HIDDEN, activation="sigmoid", **d)],
        "dense_tanh": [L.Dense(IN, HIDDEN, activation="tanh", **d)],
        "dense_softmax": [L.Dense(IN, HIDDEN, activation="softmax", **d)],
        "relu": [L.Dense(IN, HIDDEN, **d), L.ReLU()],
        "leaky_relu": [L.Dense(IN, HIDDEN, **d), L.LeakyReLU(0.2)],
        "sigmoid": [L.Dense(IN, HIDDEN, **d), L.Sigmoid()],
        "tanh": [L.Dense(IN, HIDDEN, **d), L.Tanh()],
        "softmax": [L.Dense(IN, HIDDEN, **d), L.Softmax()],
        "batchnorm": [L.Dense(IN, HIDDEN, **d), L.BatchNorm(HIDDEN, momentum=0.2, eps=1e-4, **d)],
        "batchnormalization": [
            L.Dense(IN, HIDDEN, **d),
            L.BatchNormalization(HIDDEN, momentum=0.9, epsilon=1e-2, **d),
        ],
        "dropout": [L.Dense(IN, HIDDEN, **d), L.Dropout(0.4)],
        "input": [L.Input((IN,)), L.Dense(IN, HIDDEN, **d)],
    }


CASES = tuple(_layer_cases(np.float64))


def randomize(model: mt.Sequential, seed: int = 0) -> mt.Sequential:
    """Every param and buffer drawn (variances positive), BatchNorm counters set."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for arrays in (layer.params, layer.buffers):
            for name, a in arrays.items():
                draw = rng.uniform(0.5, 2.0, a.shape) if "var" in name else rng.normal(size=a.shape)
                a[...] = draw
        if isinstance(layer, L.BatchNorm):
            layer.num_batches_tracked = 7
    return model


def model_of(case: str, dtype=np.float64, seed: int = 0) -> mt.Sequential:
    return randomize(mt.Sequential(_layer_cases(dtype)[case], seed=seed), seed)


def everything(dtype=np.float64, seed: int = 0) -> mt.Sequential:
    """One model holding every layer kind, its widths chained."""
    d = dict(dtype=dtype)
    return randomize(
        mt.Sequential(
            [
                L.Dense(IN, 6, activation="tanh", **d),
                L.BatchNorm(6, momentum=0.2, eps=1e-4, **d),
                L.LeakyReLU(0.2),
                L.Dense(6, 6, use_bias=False, **d),
                L.BatchNormalization(6, momentum=0.9, epsilon=1e-2, **d),
                L.ReLU(),
                L.Dropout(0.25),
                L.Dense(6, 5, activation="sigmoid", **d),
                L.Tanh(),
                L.Dense(5, 3, activation=L.LeakyReLU(0.1), **d),
                L.Sigmoid(),
                L.Dense(3, 3, **d),
                L.Softmax(),
            ],
            seed=seed,
        ),
        seed,
    )


def batch(n: int = 8, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, IN))


def weights_and_buffers(model: mt.Sequential) -> list[np.ndarray]:
    """Every array of the model, in order (params then buffers, layer by layer)."""
    return [a for layer in model.layers for a in (*layer.params.values(), *layer.buffers.values())]


def assert_identical(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y, strict=True)
