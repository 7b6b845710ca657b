"""Layers: finite-difference gradients, hand-worked examples and the Layer protocol.

PyTorch cross-checks are in test_torch.py, initialisers in
tests/test_initializers.py, Dense, Dropout and the batch norms in their own files.
"""

import json

import numpy as np
import pytest
from signatures import signature

from minitrain.gradcheck import gradcheck
from minitrain.layers import (
    BatchNorm,
    BatchNormalization,
    Dense,
    Dropout,
    Input,
    Layer,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    from_config,
)

INITS = ["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"]


def away_from_zero(shape, seed=0, dtype=np.float64):
    """Normal draws pushed at least 0.1 away from 0: no input sits on a ReLU kink."""
    z = np.random.default_rng(seed).standard_normal(shape)
    return (z + 0.1 * np.sign(z)).astype(dtype)


def make(name, dtype=np.float32):
    """A fresh layer of each kind and mode, with inputs of width 3."""
    layers = {
        "dense": lambda: Dense(3, 4, seed=0, dtype=dtype),
        "dense-no-bias": lambda: Dense(3, 4, use_bias=False, seed=0, dtype=dtype),
        "relu": ReLU,
        "leaky_relu": lambda: LeakyReLU(0.2),
        "sigmoid": Sigmoid,
        "tanh": Tanh,
        "softmax": Softmax,
        "dropout-train": lambda: Dropout(0.4, seed=0),
        "dropout-eval": lambda: Dropout(0.4, seed=0),
        "batchnorm-train": lambda: BatchNorm(3, dtype=dtype),
        "batchnorm-eval": lambda: BatchNorm(3, dtype=dtype),
        # Round 2's forms: lazily built, with an activation inside, Keras's batch norm, Input
        "dense-lazy": lambda: built(Dense(4, seed=0, dtype=dtype)),
        "dense-tanh": lambda: Dense(3, 4, activation="tanh", seed=0, dtype=dtype),
        "dense-softmax": lambda: Dense(3, 4, activation="softmax", seed=0, dtype=dtype),
        "batch_normalization-train": lambda: built(BatchNormalization(dtype=dtype)),
        "batch_normalization-eval": lambda: BatchNormalization(3, dtype=dtype),
        "input": lambda: Input((3,)),
    }
    layer = layers[name]()
    layer.training = not name.endswith("-eval")
    if isinstance(layer, BatchNorm | BatchNormalization):  # away from their defaults
        layer.set_weights(
            [
                np.array(v, dtype=dtype)
                for v in ([1.5, -0.5, 2.0], [0.1, 0.2, -0.3], [0.5, -1.0, 0.25], [2.0, 0.5, 1.5])
            ]
        )
    return layer


def built(layer):
    layer.build(3)
    return layer


NAMES = [
    "dense",
    "dense-no-bias",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "dropout-train",
    "dropout-eval",
    "batchnorm-train",
    "batchnorm-eval",
    "dense-lazy",
    "dense-tanh",
    "dense-softmax",
    "batch_normalization-train",
    "batch_normalization-eval",
    "input",
]


# --------------------------------------------------------------- finite differences


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name):
    assert gradcheck(make(name, np.float64), away_from_zero((6, 3))) < 1e-7


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_backward_matches_finite_differences(init, use_bias):
    layer = Dense(3, 4, use_bias=use_bias, kernel_initializer=init, seed=1, dtype=np.float64)
    assert gradcheck(layer, away_from_zero((5, 3))) < 1e-7


@pytest.mark.parametrize("momentum", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_backward_matches_finite_differences(momentum, training):
    layer = make("batchnorm-train", np.float64)
    layer.momentum = momentum
    layer.training = training
    assert gradcheck(layer, 3.0 * away_from_zero((4, 3)) + 1.0) < 1e-7


def test_large_logits_softmax_matches_finite_differences():
    # exp(1000) overflows; the max subtraction keeps forward and backward finite.
    x = away_from_zero((4, 3)) + np.array([1000.0, 999.0, 0.0])
    assert gradcheck(Softmax(), x) < 1e-7


# -------------------------------------------------------------- worked by hand


def test_dense_then_softmax_by_hand():
    x = np.array([[1.0, 2.0]])
    dense = Dense(2, 2, dtype=np.float64)
    dense.params["W"][...] = [[0.5, -1.0], [0.25, 0.5]]
    dense.params["b"][...] = [0.5, 0.5]
    softmax = Softmax()

    # z = x @ W + b = [1*0.5 + 2*0.25, 1*(-1) + 2*0.5] + 0.5 = [1.5, 0.5]
    z = dense(x)
    np.testing.assert_array_equal(z, [[1.5, 0.5]])
    # softmax ignores the common 0.5: p = [e, 1] / (e + 1) = [0.7310585786, 0.2689414214]
    p = softmax(z)
    e = np.e
    np.testing.assert_allclose(p, [[e / (e + 1), 1 / (e + 1)]], rtol=1e-15)
    np.testing.assert_allclose(p, [[0.7310585786300049, 0.2689414213699951]], rtol=1e-15)

    # Backward of L = p_0, so g = dL/dp = [1, 0].
    # dL/dz = p * (g - g.p) = [p0 (1 - p0), p1 (0 - p0)] = [q, -q], q = p0 p1 = 0.1966119332
    q = e / (e + 1) ** 2
    dz = softmax.backward(np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(dz, [[q, -q]], rtol=1e-15)
    np.testing.assert_allclose(q, 0.19661193324148185, rtol=1e-15)
    # dL/dW = x.T @ dz = [[1 q, -1 q], [2 q, -2 q]];  dL/db = dz = [q, -q]
    # dL/dx = dz @ W.T = [q*0.5 + (-q)(-1), q*0.25 + (-q)(0.5)] = [1.5 q, -0.25 q]
    dx = dense.backward(dz)
    np.testing.assert_allclose(dense.grads["W"], [[q, -q], [2 * q, -2 * q]], rtol=1e-15)
    np.testing.assert_allclose(dense.grads["b"], [q, -q], rtol=1e-15)
    np.testing.assert_allclose(dx, [[1.5 * q, -0.25 * q]], rtol=1e-15)
    np.testing.assert_allclose(dx, [[0.29491789986222277, -0.04915298331037046]], rtol=1e-15)


def test_batchnorm_on_three_samples_by_hand():
    # eps = 4/3 makes the numbers round: the biased variance is 8/3, so var + eps = 4.
    layer = BatchNorm(1, momentum=0.1, eps=4 / 3, dtype=np.float64)
    layer.params["gamma"][...] = 2.0
    layer.params["beta"][...] = 1.0
    x = np.array([[1.0], [3.0], [5.0]])

    # mean = (1 + 3 + 5) / 3 = 3;  deviations [-2, 0, 2]
    # biased var = (4 + 0 + 4) / 3 = 8/3;  inv_std = 1 / sqrt(8/3 + 4/3) = 1/2
    # x_hat = [-1, 0, 1];  y = 2 * x_hat + 1 = [-1, 1, 3]
    y = layer(x)
    np.testing.assert_allclose(y, [[-1.0], [1.0], [3.0]], rtol=1e-15, atol=1e-15)
    # running_mean = 0.9 * 0 + 0.1 * 3 = 0.3
    # running_var  = 0.9 * 1 + 0.1 * (8 / 2) = 1.3   (unbiased: (4 + 0 + 4) / (3 - 1) = 4)
    np.testing.assert_allclose(layer.buffers["running_mean"], [0.3], rtol=1e-15)
    np.testing.assert_allclose(layer.buffers["running_var"], [1.3], rtol=1e-15)

    # Backward of g = [1, 0, 0]:
    # dbeta = sum g = 1;  dgamma = sum g * x_hat = -1
    # dx = gamma * inv_std / N * (N g - dbeta - x_hat * dgamma)
    #    = 2 * 0.5 / 3 * ([3, 0, 0] - 1 + [-1, 0, 1]) = [1/3, -1/3, 0]
    dx = layer.backward(np.array([[1.0], [0.0], [0.0]]))
    np.testing.assert_allclose(layer.grads["beta"], [1.0], rtol=1e-15)
    np.testing.assert_allclose(layer.grads["gamma"], [-1.0], rtol=1e-15)
    np.testing.assert_allclose(dx, [[1 / 3], [-1 / 3], [0.0]], rtol=1e-15, atol=1e-16)

    # Eval mode uses the running statistics: (3.3 - 0.3) / sqrt(1.3 + 4/3) * 2 + 1
    layer.training = False
    y = layer(np.array([[3.3]]))
    np.testing.assert_allclose(y, [[3.0 / np.sqrt(1.3 + 4 / 3) * 2 + 1]], rtol=1e-14)


# --------------------------------------------------------------------- dtypes


def input_grad(layer, x, seed=1):
    y = layer(x)
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(y.dtype)
    return y, layer.backward(g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_dtype_is_kept_throughout(name, dtype):
    layer = make(name, dtype)
    y, grad_x = input_grad(layer, away_from_zero((5, 3), dtype=dtype))
    assert y.dtype == dtype
    assert grad_x.dtype == dtype
    for k, grad in layer.grads.items():
        assert grad.dtype == dtype
        assert grad.shape == layer.params[k].shape
    for buffer in layer.buffers.values():
        assert buffer.dtype == dtype


# ------------------------------------------------------------ protocol contract


@pytest.mark.parametrize("name", NAMES)
def test_backward_overwrites_grads(name):
    x = away_from_zero((5, 3))
    g1, g2 = away_from_zero((5, 4), seed=1), away_from_zero((5, 4), seed=2)
    twice, once = make(name, np.float64), make(name, np.float64)
    width = twice.output_width(3)
    y = twice(x)
    twice.backward(g1[:, :width])
    dx = twice.backward(g2[:, :width])
    np.testing.assert_array_equal(once(x), y)
    np.testing.assert_array_equal(once.backward(g2[:, :width]), dx)
    assert twice.grads.keys() == once.grads.keys()
    for k in twice.grads:
        np.testing.assert_array_equal(twice.grads[k], once.grads[k])
        assert not np.array_equal(twice.grads[k], 0 * twice.grads[k])  # really written


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_never_modified(name):
    layer = make(name)
    x = away_from_zero((5, 3), dtype=np.float32)
    x_copy = x.copy()
    x.flags.writeable = False  # any write into x raises
    y = layer(x)
    g = away_from_zero(y.shape, seed=3, dtype=np.float32)
    g_copy = g.copy()
    g.flags.writeable = False
    layer.backward(g)
    np.testing.assert_array_equal(x, x_copy, strict=True)
    np.testing.assert_array_equal(g, g_copy, strict=True)


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        # ReLU at exactly 0: gradient 0 (PyTorch); LeakyReLU: negative_slope (PyTorch).
        (ReLU(), [0.0, 0.0, 1.0]),
        (LeakyReLU(), [0.01, 0.01, 1.0]),
        (LeakyReLU(0.3), [0.3, 0.3, 1.0]),
    ],
)
def test_gradient_at_the_kink(layer, expected):
    layer(np.array([[-1.0, 0.0, 1.0]], dtype=np.float32))
    grad_x = layer.backward(np.ones((1, 3), dtype=np.float32))
    np.testing.assert_array_equal(grad_x, np.array([expected], dtype=np.float32), strict=True)


def test_backward_before_any_forward_raises():
    with pytest.raises(RuntimeError, match="no_grad"):
        Tanh().backward(np.ones((2, 3)))


# ------------------------------------------------------------------------ Dense


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 3), ValueError, "in_features must be a positive int, got 0"),
        ((3, -2), ValueError, "out_features must be a positive int, got -2"),
        ((2.0, 3), TypeError, r"in_features must be a positive int, got 2\.0 \(float\)"),
        ((True, 3), TypeError, r"in_features must be a positive int, got True \(bool\)"),
        ((3, "4"), TypeError, r"out_features must be a positive int, got '4' \(str\)"),
    ],
)
def test_dense_refuses_bad_sizes(args, error, message):
    with pytest.raises(error, match=message):
        Dense(*args)


def test_dense_refuses_unknown_init_listing_the_valid_ones():
    valid = "'zeros', 'ones', 'constant', 'he_uniform', 'he_normal', 'glorot_uniform', "
    valid += "'glorot_normal', 'lecun_normal', 'random_normal', 'random_uniform'"
    with pytest.raises(
        ValueError, match=f"kernel_initializer must be one of {valid}, got 'xavier'"
    ):
        Dense(3, 4, kernel_initializer="xavier")


@pytest.mark.parametrize("dtype", [np.int32, np.float16, "float128x"])
def test_dense_refuses_a_non_float_dtype(dtype):
    with pytest.raises((TypeError, ValueError), match="dtype must be float32 or float64"):
        Dense(3, 4, dtype=dtype)


def test_dense_without_input_grad_still_writes_grads():
    x = away_from_zero((5, 3))
    g = away_from_zero((5, 4), seed=1)
    full, first = make("dense", np.float64), make("dense", np.float64)
    full(x)
    full.backward(g)
    first(x)
    assert first.backward(g, need_input_grad=False) is None
    for k in ("W", "b"):
        np.testing.assert_array_equal(first.grads[k], full.grads[k])
    np.testing.assert_allclose(first.grads["W"], x.T @ g, rtol=1e-14)
    np.testing.assert_allclose(first.grads["b"], g.sum(axis=0), rtol=1e-14)


def test_dense_shapes_and_output_width():
    layer = Dense(3, 5, use_bias=False)
    assert layer.params["W"].shape == (3, 5)
    assert list(layer.params) == ["W"] and list(layer.grads) == ["W"]
    assert layer.buffers == {}
    assert layer.output_width(3) == 5
    assert layer.training is True
    assert Tanh().output_width(7) == 7


# ----------------------------------------------------------------------- config


@pytest.mark.parametrize(
    "layer",
    [
        Dense(3, 4),
        Dense(2, 7, use_bias=False, kernel_initializer="glorot_normal", dtype=np.float64),
        ReLU(),
        LeakyReLU(0.25),
        Sigmoid(),
        Tanh(),
        Softmax(),
        Dropout(0.3),
        Dropout(0.5, seed=11),
        BatchNorm(5),
        BatchNorm(2, momentum=0.25, eps=1e-3, dtype=np.float64),
        Dense(5),
        Dense(3, 5, activation="relu"),
        BatchNormalization(),
        BatchNormalization(4, momentum=0.9),
        Input((3,)),
    ],
    ids=repr,
)
def test_config_round_trip(layer):
    config = {"class": type(layer).__name__, "config": layer.get_config()}
    rebuilt = from_config(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()
    assert repr(rebuilt) == repr(layer)
    for k, v in layer.params.items():
        assert rebuilt.params[k].shape == v.shape
        assert rebuilt.params[k].dtype == v.dtype


def test_config_of_each_layer():
    assert Dense(3, 4).get_config() == {
        "in_features": 3,
        "out_features": 4,
        "activation": None,
        "use_bias": True,
        "kernel_initializer": "he_uniform",
        "bias_initializer": "zeros",
        "seed": None,
        "dtype": "float32",
    }
    assert LeakyReLU(0.2).get_config() == {"negative_slope": 0.2}
    assert Dropout(0.5, seed=3).get_config() == {"rate": 0.5, "seed": 3}
    assert BatchNorm(4, dtype=np.float64).get_config() == {
        "num_features": 4,
        "momentum": 0.1,
        "eps": 1e-5,
        "dtype": "float64",
    }
    assert ReLU().get_config() == {}


def test_from_config_refuses_an_unknown_class():
    with pytest.raises(ValueError, match="layer class must be one of .*'Dense'.*got 'Conv2D'"):
        from_config({"class": "Conv2D", "config": {}})


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (
            Dense,
            "*sizes, units=None, in_features=None, out_features=None, activation=None, "
            "use_bias=True, kernel_initializer='he_uniform', bias_initializer='zeros', "
            "seed=None, dtype=float32",
        ),
        (ReLU, ""),
        (LeakyReLU, "negative_slope=0.01"),
        (Sigmoid, ""),
        (Tanh, ""),
        (Softmax, "dim=None"),  # PyTorch's dim, accepted for the last axis only
        (BatchNorm, "num_features, *, momentum=0.1, eps=1e-05, dtype=float32"),
        (BatchNormalization, "num_features=None, *, momentum=0.99, epsilon=0.001, dtype=float32"),
        (Input, "shape"),
    ],
)
def test_constructor_arguments_and_defaults_are_the_contract(layer, expected):
    assert signature(layer) == expected


def test_dropout_needs_a_rate_and_takes_seed_by_keyword_only():
    assert Dropout(0.25, seed=3).seed == 3
    with pytest.raises(TypeError):
        Dropout()
    with pytest.raises(TypeError):
        Dropout(0.25, 3)


@pytest.mark.parametrize("method", ["forward", "__call__"])
def test_forward_and_call_take_training_none(method):
    assert signature(getattr(Layer, method)) == "x, training=None"
