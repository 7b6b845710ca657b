"""activations.get: names, layers and refusals; the activations' own math is in
test_protocol.py (finite differences, kinks) and test_torch.py (PyTorch)."""

import numpy as np
import pytest

from minitrain.layers import Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, activations

VALID = "'relu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax', 'linear' or None"


@pytest.mark.parametrize(
    ("name", "cls"),
    [("relu", ReLU), ("leaky_relu", LeakyReLU), ("sigmoid", Sigmoid), ("tanh", Tanh)]
    + [("softmax", Softmax)],
)
def test_names_give_fresh_layers(name, cls):
    a, b = activations.get(name), activations.get(name)
    assert type(a) is cls and a is not b


def test_leaky_relu_by_name_has_the_pytorch_slope():
    assert activations.get("leaky_relu").negative_slope == 0.01


@pytest.mark.parametrize("identifier", ["linear", None])
def test_linear_is_no_layer(identifier):
    assert activations.get(identifier) is None


def test_a_layer_is_returned_as_it_is():
    layer = LeakyReLU(0.3)
    assert activations.get(layer) is layer


@pytest.mark.parametrize("name", ["gelu", "ReLU", ""])
def test_an_unknown_name_lists_the_valid_ones(name):
    with pytest.raises(ValueError, match=f"activation must be one of {VALID}, got {name!r}"):
        activations.get(name)


@pytest.mark.parametrize("identifier", [Dropout(0.5), Dense(3, 4), np.tanh, 3])
def test_anything_else_is_a_type_error(identifier):
    with pytest.raises(TypeError, match=f"activation must be one of {VALID}, or an activation"):
        activations.get(identifier)


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (None, None),
        (ReLU(), "relu"),
        (LeakyReLU(), "leaky_relu"),
        (LeakyReLU(0.2), {"class": "LeakyReLU", "config": {"negative_slope": 0.2}}),
        (Softmax(), "softmax"),
    ],
)
def test_serialize_and_back(layer, expected):
    assert activations.serialize(layer) == expected
    rebuilt = activations.deserialize(expected)
    assert type(rebuilt) is type(layer)
    if layer is not None:
        assert rebuilt.get_config() == layer.get_config()


@pytest.mark.parametrize("cls", [ReLU, LeakyReLU, Sigmoid, Tanh, Softmax])
def test_activations_ignore_the_mode(cls):
    x = np.random.default_rng(0).standard_normal((4, 3))
    layer = cls()
    np.testing.assert_array_equal(layer(x, training=True), layer(x, training=False), strict=True)
    assert layer.built and layer.input_width is None and layer.get_weights() == []


@pytest.mark.parametrize("dim", [None, -1, 1])
def test_softmax_takes_pytorchs_dim_for_the_last_axis(dim):
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    np.testing.assert_array_equal(Softmax(dim)(x), Softmax()(x))


@pytest.mark.parametrize("dim", [0, 2, True, "1"])
def test_softmax_refuses_any_other_dim(dim):
    with pytest.raises(ValueError, match="Softmax works along the last axis"):
        Softmax(dim=dim)
