"""get_weights / set_weights on every layer: Keras order, copies, round trips, refusals."""

import re

import numpy as np
import pytest

from minitrain.layers import (
    BatchNorm,
    BatchNormalization,
    Dense,
    Dropout,
    Input,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

ORDER = {
    "dense": (lambda: Dense(3, 4, seed=0), ["W", "b"]),
    "dense-no-bias": (lambda: Dense(3, 4, use_bias=False, seed=0), ["W"]),
    "dense-relu": (lambda: Dense(3, 4, activation="relu", seed=0), ["W", "b"]),
    "batchnorm": (lambda: BatchNorm(3), ["gamma", "beta", "running_mean", "running_var"]),
    "batch_normalization": (
        lambda: BatchNormalization(3),
        ["gamma", "beta", "moving_mean", "moving_variance"],
    ),
}


def stores(layer):
    return {**layer.params, **layer.buffers}


def random_like(weights, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 2.0, w.shape).astype(w.dtype) for w in weights]


@pytest.mark.parametrize("name", list(ORDER))
def test_keras_order_and_copies(name):
    make, keys = ORDER[name]
    layer = make()
    weights = layer.get_weights()
    assert len(weights) == len(keys)
    for w, k in zip(weights, keys, strict=True):
        np.testing.assert_array_equal(w, stores(layer)[k], strict=True)
        assert w is not stores(layer)[k]
    weights[0][...] = 123.0  # a copy: the layer does not change
    assert not np.any(stores(layer)[keys[0]] == 123.0)


@pytest.mark.parametrize("name", list(ORDER))
def test_round_trip_copies_in(name):
    make, keys = ORDER[name]
    layer = make()
    arrays_before = [stores(layer)[k] for k in keys]
    new = random_like(layer.get_weights(), 1)
    layer.set_weights(new)
    for got, expected in zip(layer.get_weights(), new, strict=True):
        np.testing.assert_array_equal(got, expected, strict=True)
    for k, array in zip(keys, arrays_before, strict=True):
        assert stores(layer)[k] is array  # written in place: optimizers keep their references
    new[0][...] = -7.0  # copied in: the caller's arrays are not shared
    assert not np.any(stores(layer)[keys[0]] == -7.0)


def test_weights_move_between_layers():
    a, b = Dense(3, 4, seed=0), Dense(3, 4, seed=1)
    b.set_weights(a.get_weights())
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_array_equal(a(x), b(x), strict=True)


@pytest.mark.parametrize(
    "layer", [ReLU(), LeakyReLU(), Sigmoid(), Tanh(), Softmax(), Dropout(0.5), Input((3,))]
)
def test_layers_without_weights(layer):
    assert layer.get_weights() == []
    layer.set_weights([])
    with pytest.raises(ValueError, match=r"weights must hold 0 arrays \[\] .*got 1"):
        layer.set_weights([np.ones(3)])


def test_an_unbuilt_layer_holds_no_weights_and_says_so():
    layer = Dense(4)
    assert layer.get_weights() == []
    with pytest.raises(ValueError, match=r"weights must hold 0 arrays .*not built yet.*got 2"):
        layer.set_weights([np.ones((3, 4), np.float32), np.ones(4, np.float32)])
    assert not layer.built and layer.params == {}


def bad_lists(layer):
    w = layer.get_weights()
    return {
        "one too few": (
            w[:-1],
            ValueError,
            rf"weights must hold {len(w)} arrays .*got {len(w) - 1}",
        ),
        "one too many": (w + [w[-1]], ValueError, rf"must hold {len(w)} arrays .*got {len(w) + 1}"),
        "a wrong shape": (
            [w[0], np.ones(7, w[1].dtype), *w[2:]],
            ValueError,
            rf"weights\[1\] \(\w+\) must have shape {re.escape(str(w[1].shape))} and dtype "
            r"float32, got shape \(7,\) and dtype float32",
        ),
        "a wrong dtype": (
            [w[0].astype(np.float64), *w[1:]],
            ValueError,
            r"weights\[0\] \(\w+\) must have shape .* and dtype float32, got shape .* and "
            r"dtype float64",
        ),
        "a transposed kernel": (
            [w[0].T.copy(), *w[1:]] if w[0].ndim == 2 else [w[0][None], *w[1:]],
            ValueError,
            r"weights\[0\] .* must have shape",
        ),
        "not an array": ([w[0].tolist(), *w[1:]], TypeError, r"weights\[0\] .* NumPy array"),
        "not a list": (w[0], TypeError, "weights must be a list of"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "one too few",
        "one too many",
        "a wrong shape",
        "a wrong dtype",
        "a transposed kernel",
        "not an array",
        "not a list",
    ],
)
@pytest.mark.parametrize("name", ["dense", "batchnorm", "batch_normalization"])
def test_refusals_leave_the_layer_unchanged(name, case):
    layer = ORDER[name][0]()
    layer.set_weights(random_like(layer.get_weights(), 2))  # away from the initial values
    before = layer.get_weights()
    # The good arrays in the list differ from the layer's: a partial write would show.
    weights, error, message = bad_lists(layer)[case]
    if isinstance(weights, list):
        weights = [
            w + 1 if isinstance(w, np.ndarray) and i != 0 else w for i, w in enumerate(weights)
        ]
    with pytest.raises(error, match=message):
        layer.set_weights(weights)
    for got, expected in zip(layer.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, expected, strict=True)
