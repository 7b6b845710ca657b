"""Dense: the Keras-style forms, lazy building, the fused activation, configs and refusals.

PyTorch cross-checks (every activation) are in test_torch.py; the hand-worked
example and the protocol checks shared by every layer in test_protocol.py.
"""

import json

import numpy as np
import pytest

from minitrain import initializers
from minitrain.grad_mode import no_grad
from minitrain.gradcheck import gradcheck
from minitrain.layers import Dense, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, from_config

ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
}


def away_from_zero(shape, seed=0, dtype=np.float64):
    z = np.random.default_rng(seed).standard_normal(shape)
    return (z + 0.1 * np.sign(z)).astype(dtype)


def assert_same_weights(a, b):
    assert a.params.keys() == b.params.keys()
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k], strict=True)


# ------------------------------------------------------------------ the forms


@pytest.mark.parametrize(
    ("make", "sizes"),
    [
        (lambda: Dense(3, 4), (3, 4)),
        (lambda: Dense(4), (None, 4)),
        (lambda: Dense(units=4), (None, 4)),
        (lambda: Dense(in_features=3, out_features=4), (3, 4)),
        (lambda: Dense(out_features=4), (None, 4)),
    ],
)
def test_the_ways_to_give_the_sizes(make, sizes):
    layer = make()
    assert (layer.in_features, layer.out_features) == sizes
    assert layer.units == layer.out_features == 4
    assert layer.built is (sizes[0] is not None)
    assert layer.input_width == sizes[0]
    assert layer.output_width(7) == 4


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((0,), {}, ValueError, "units must be a positive int, got 0"),
        ((-3,), {}, ValueError, "units must be a positive int, got -3"),
        ((2.0,), {}, TypeError, r"units must be a positive int, got 2\.0 \(float\)"),
        ((3, 0), {}, ValueError, "out_features must be a positive int, got 0"),
        ((), {}, TypeError, "Dense needs its output size"),
        ((3, 4, 5), {}, TypeError, r"Dense\(units\) or Dense\(in_features, out_features\)"),
        ((4,), {"units": 4}, TypeError, "both by position and by keyword"),
        ((), {"units": 4, "out_features": 4}, TypeError, "both units and out_features"),
        ((3, 4), {"init": "he_normal"}, TypeError, "init= is gone, use kernel_initializer="),
        ((3, 4), {"activaton": "relu"}, TypeError, "did you mean 'activation'"),
        ((3, 4), {"seed": 1.5}, TypeError, "seed must be an int, a numpy Generator or None"),
        ((3, 4), {"dtype": np.int32}, ValueError, "dtype must be float32 or float64"),
    ],
)
def test_bad_arguments_are_refused(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Dense(*args, **kwargs)


def test_unknown_activation_lists_the_valid_ones():
    valid = "'relu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax', 'linear' or None"
    with pytest.raises(ValueError, match=f"activation must be one of {valid}, got 'gelu'"):
        Dense(4, activation="gelu")


def test_unknown_kernel_initializer_lists_the_valid_ones():
    with pytest.raises(ValueError, match="kernel_initializer must be one of 'zeros', 'ones'.*"):
        Dense(4, kernel_initializer="xavier")
    with pytest.raises(ValueError, match="bias_initializer must be one of .*got 'one'"):
        Dense(4, bias_initializer="one")


# ------------------------------------------------------------ lazy building


def test_builds_from_the_first_batch():
    layer = Dense(5, seed=3)
    assert layer.params == {} and layer.grads == {}
    x = away_from_zero((4, 3), dtype=np.float32)
    y = layer(x)
    assert layer.built and layer.in_features == 3
    assert layer.params["W"].shape == (3, 5) and layer.params["b"].shape == (5,)
    assert y.dtype == np.float32 and y.shape == (4, 5)
    assert_same_weights(layer, Dense(3, 5, seed=3))  # the same draw as the eager form


def test_builds_with_build_and_a_generator():
    layer = Dense(5)
    layer.build(3, rng=np.random.default_rng(8))
    assert_same_weights(layer, Dense(3, 5, seed=8))
    layer.build(3)  # again with the same width: nothing drawn, nothing changed
    assert_same_weights(layer, Dense(3, 5, seed=8))


def test_its_own_seed_wins_over_the_generator_given():
    layer = Dense(5, seed=1)
    layer.build(3, rng=np.random.default_rng(99))
    assert_same_weights(layer, Dense(3, 5, seed=1))


def test_same_seed_same_weights_when_built_lazily():
    a, b = Dense(6, seed=4), Dense(6, seed=4)
    a(np.ones((2, 3)))
    b.build(3)
    assert_same_weights(a, b)


def test_unseeded_lazy_layers_differ():
    a, b = Dense(6), Dense(6)
    a.build(3)
    b.build(3)
    assert not np.array_equal(a.params["W"], b.params["W"])


def test_a_width_contradicting_the_built_width_is_refused():
    layer = Dense(3, 4, seed=0)
    before = layer.params["W"].copy()
    with pytest.raises(ValueError, match=r"in_features must be 3: Dense\(3, 4\) is built for .*5"):
        layer.build(5)
    with pytest.raises(ValueError, match=r"x must have 3 features .*got shape \(2, 5\)"):
        layer(np.ones((2, 5), dtype=np.float32))
    np.testing.assert_array_equal(layer.params["W"], before, strict=True)


@pytest.mark.parametrize("width", [0, -1, 2.5])
def test_build_refuses_a_bad_width(width):
    with pytest.raises((TypeError, ValueError), match="in_features must be a positive int"):
        Dense(4).build(width)


def test_backward_before_build_names_no_grad():
    with pytest.raises(RuntimeError, match="no_grad"):
        Dense(4, activation="relu").backward(np.ones((2, 4)))


# ---------------------------------------------------------- the activation


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_inside_is_dense_then_the_activation_bit_for_bit(name, dtype):
    fused = Dense(3, 4, activation=name, seed=0, dtype=dtype)
    plain, act = Dense(3, 4, seed=0, dtype=dtype), ACTIVATIONS[name]()
    fused.params["b"][...] = plain.params["b"][...] = [0.5, -0.25, 0.0, 1.0]
    assert type(fused.activation) is ACTIVATIONS[name]
    x = away_from_zero((5, 3), dtype=dtype)
    g = away_from_zero((5, 4), seed=1, dtype=dtype)
    y = fused(x)
    np.testing.assert_array_equal(y, act(plain(x)), strict=True)
    grad_x = fused.backward(g)
    np.testing.assert_array_equal(grad_x, plain.backward(act.backward(g)), strict=True)
    for k in ("W", "b"):
        np.testing.assert_array_equal(fused.grads[k], plain.grads[k], strict=True)


@pytest.mark.parametrize("activation", ["linear", None])
def test_linear_means_no_activation(activation):
    assert Dense(3, 4, activation=activation).activation is None


def test_an_activation_layer_instance_is_used_as_it_is():
    act = LeakyReLU(0.2)
    layer = Dense(3, 4, activation=act)
    assert layer.activation is act


def test_a_layer_that_is_no_activation_is_refused():
    with pytest.raises(TypeError, match="activation must be one of .*got Dense"):
        Dense(3, 4, activation=Dense(4, 4))


@pytest.mark.parametrize("name", [*ACTIVATIONS, None])
@pytest.mark.parametrize("use_bias", [True, False])
def test_backward_matches_finite_differences(name, use_bias):
    layer = Dense(3, 4, activation=name, use_bias=use_bias, seed=2, dtype=np.float64)
    assert gradcheck(layer, away_from_zero((5, 3))) < 1e-7


def test_lazily_built_layer_passes_gradcheck():
    layer = Dense(4, activation="tanh", seed=0, dtype=np.float64)
    layer.build(3)
    assert gradcheck(layer, away_from_zero((5, 3))) < 1e-7


def test_no_grad_drops_the_activation_cache_too():
    layer = Dense(3, 4, activation="sigmoid")
    x = np.ones((2, 3), dtype=np.float32)
    layer(x)
    with no_grad():
        layer(x)
    assert layer._saved is None and layer.activation._saved is None
    with pytest.raises(RuntimeError, match="no_grad"):
        layer.backward(np.ones((2, 4), dtype=np.float32))


def test_no_input_grad_with_an_activation_still_writes_grads():
    a, b = Dense(3, 4, activation="relu", seed=0), Dense(3, 4, activation="relu", seed=0)
    x, g = away_from_zero((5, 3), dtype=np.float32), away_from_zero((5, 4), 1, np.float32)
    a(x), b(x)
    a.backward(g)
    assert b.backward(g, need_input_grad=False) is None
    np.testing.assert_array_equal(a.grads["W"], b.grads["W"], strict=True)


# ----------------------------------------------------------- initializers


def test_initializers_by_object_and_by_name_agree():
    by_name = Dense(3, 4, kernel_initializer="glorot_normal", bias_initializer="ones", seed=5)
    by_object = Dense(
        3,
        4,
        kernel_initializer=initializers.GlorotNormal(),
        bias_initializer=initializers.Ones(),
        seed=5,
    )
    assert_same_weights(by_name, by_object)
    np.testing.assert_array_equal(by_name.params["b"], np.ones(4, np.float32), strict=True)


def test_a_random_bias_is_drawn_after_the_kernel():
    layer = Dense(3, 4, bias_initializer=initializers.RandomUniform(-1, 1), seed=6)
    rng = np.random.default_rng(6)
    w = initializers.HeUniform()((3, 4), rng, np.float32)
    b = rng.uniform(-1, 1, 4).astype(np.float32)
    np.testing.assert_array_equal(layer.params["W"], w, strict=True)
    np.testing.assert_array_equal(layer.params["b"], b, strict=True)


# ----------------------------------------------------------------- config


@pytest.mark.parametrize(
    "layer",
    [
        Dense(3, 4),
        Dense(4),
        Dense(4, seed=3),
        Dense(7, activation="relu", use_bias=False, dtype=np.float64),
        Dense(2, 3, activation=LeakyReLU(0.2)),
        Dense(2, 3, activation="leaky_relu"),
        Dense(2, 3, kernel_initializer=initializers.RandomNormal(0.5, 0.1)),
        Dense(2, 3, kernel_initializer="lecun_normal", bias_initializer=initializers.Constant(2)),
    ],
    ids=repr,
)
def test_config_round_trip(layer):
    config = json.loads(json.dumps({"class": "Dense", "config": layer.get_config()}))
    rebuilt = from_config(config)
    assert type(rebuilt) is Dense
    assert rebuilt.get_config() == layer.get_config()
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.built == layer.built
    assert type(rebuilt.activation) is type(layer.activation)
    for k, v in layer.params.items():
        assert (rebuilt.params[k].shape, rebuilt.params[k].dtype) == (v.shape, v.dtype)


def test_config_of_a_lazily_built_layer_records_its_width():
    layer = Dense(5, activation="tanh")
    layer(np.ones((2, 3), dtype=np.float32))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["in_features"] == 3
    rebuilt = from_config({"class": "Dense", "config": config})
    assert rebuilt.built and rebuilt.params["W"].shape == (3, 5)


def test_a_seeded_lazy_layer_rebuilt_from_config_draws_the_same_weights():
    layer = Dense(5, seed=11)
    rebuilt = from_config({"class": "Dense", "config": layer.get_config()})
    layer.build(3)
    rebuilt.build(3)
    assert_same_weights(layer, rebuilt)


def test_a_round_one_config_with_init_still_loads():
    config = {"in_features": 3, "out_features": 4, "use_bias": True, "init": "glorot_normal"}
    layer = from_config({"class": "Dense", "config": {**config, "dtype": "float32"}})
    assert layer.kernel_initializer == initializers.GlorotNormal()


def test_config_names_activation_and_initializers():
    config = Dense(3, 4, activation="relu", kernel_initializer="he_normal").get_config()
    assert config == {
        "in_features": 3,
        "out_features": 4,
        "activation": "relu",
        "use_bias": True,
        "kernel_initializer": "he_normal",
        "bias_initializer": "zeros",
        "seed": None,
        "dtype": "float32",
    }
    custom = Dense(3, 4, activation=LeakyReLU(0.2), bias_initializer=initializers.Constant(0.5))
    assert custom.get_config()["activation"] == {
        "class": "LeakyReLU",
        "config": {"negative_slope": 0.2},
    }
    assert custom.get_config()["bias_initializer"] == {
        "class": "Constant",
        "config": {"value": 0.5},
    }


def test_repr():
    assert repr(Dense(3, 4)) == "Dense(3, 4)"
    assert repr(Dense(4)) == "Dense(4)"
    assert repr(Dense(4, activation="relu", use_bias=False)) == (
        "Dense(4, activation='relu', use_bias=False)"
    )
    assert repr(Dense(3, 4, kernel_initializer="glorot_uniform", dtype=np.float64)) == (
        "Dense(3, 4, kernel_initializer='glorot_uniform', dtype=float64)"
    )
