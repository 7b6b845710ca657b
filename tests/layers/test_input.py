"""Input: the declared width, passing data through, and the refusals."""

import json

import numpy as np
import pytest

from minitrain.gradcheck import gradcheck
from minitrain.layers import Input, from_config


def test_declares_its_width_and_has_no_parameters():
    layer = Input((784,))
    assert layer.shape == (784,)
    assert layer.input_width == 784 and layer.output_width(784) == 784
    assert layer.params == layer.grads == layer.buffers == {}
    assert layer.built and layer.get_weights() == []


def test_passes_data_and_gradients_through():
    layer = Input((3,))
    x = np.arange(6.0).reshape(2, 3)
    assert layer(x) is x
    g = np.ones((2, 3))
    assert layer.backward(g) is g
    assert gradcheck(layer, x + 0.5) < 1e-7


def test_a_list_is_taken_as_keras_takes_it():
    assert Input([5]).shape == (5,)


@pytest.mark.parametrize(
    ("shape", "error", "message"),
    [
        (784, TypeError, r"shape must be a tuple of positive ints like \(784,\), got 784 \(int\)"),
        ("784", TypeError, "shape must be a tuple of positive ints"),
        ((3.0,), TypeError, "shape must be a tuple of positive ints"),
        ((None,), TypeError, "shape must be a tuple of positive ints"),
        ((0,), ValueError, r"shape must be a tuple of one positive int .* got \(0,\)"),
        ((-2,), ValueError, r"got \(-2,\)"),
        ((28, 28), ValueError, r"one positive int \(the number of features\).*got \(28, 28\)"),
        ((), ValueError, r"got \(\)"),
    ],
)
def test_bad_shapes_are_refused(shape, error, message):
    with pytest.raises(error, match=message):
        Input(shape)


@pytest.mark.parametrize("shape", [(2, 4), (2, 3, 1), (3,)])
def test_data_of_another_width_is_refused(shape):
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\) for Input\(\(3,\)\)"):
        Input((3,))(np.ones(shape))


def test_build_checks_the_width():
    layer = Input((3,))
    layer.build(3)
    with pytest.raises(ValueError, match=r"in_features must be 3 for Input\(\(3,\)\), got 4"):
        layer.build(4)


def test_config_round_trip():
    layer = Input((12,))
    config = json.loads(json.dumps({"class": "Input", "config": layer.get_config()}))
    rebuilt = from_config(config)
    assert type(rebuilt) is Input and rebuilt.shape == (12,)
    assert repr(rebuilt) == repr(layer) == "Input((12,))"
