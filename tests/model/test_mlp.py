"""The MLP builder: layout, initialisers, seeds, dtypes, gradients."""

from __future__ import annotations

import numpy as np
import pytest
from signatures import signature

import minitrain as mt
from tests.model.helpers import _assert_same, _layer_types

# -------------------------------------------------------------- MLP layout

D, BN, R, L, S, T, DO, SM = (
    mt.Dense,
    mt.BatchNorm,
    mt.ReLU,
    mt.LeakyReLU,
    mt.Sigmoid,
    mt.Tanh,
    mt.Dropout,
    mt.Softmax,
)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [D, R, D, R, D]),
        ({"batchnorm": True}, [D, BN, R, D, BN, R, D]),
        ({"dropout": 0.25}, [D, R, DO, D, R, DO, D]),
        ({"output": "softmax"}, [D, R, D, R, D, SM]),
        ({"activation": "leaky_relu"}, [D, L, D, L, D]),
        ({"activation": "sigmoid"}, [D, S, D, S, D]),
        ({"activation": "tanh"}, [D, T, D, T, D]),
        (
            {"activation": "tanh", "batchnorm": True, "dropout": 0.5, "output": "softmax"},
            [D, BN, T, DO, D, BN, T, DO, D, SM],
        ),
    ],
)
def test_mlp_layer_types_in_order(kwargs, expected):
    model = mt.MLP([4, 8, 6, 3], seed=0, **kwargs)
    assert _layer_types(model) == expected
    dense = [layer for layer in model.layers if isinstance(layer, mt.Dense)]
    assert [(d.in_features, d.out_features) for d in dense] == [(4, 8), (8, 6), (6, 3)]
    # A Dense directly followed by BatchNorm has no bias; every other Dense has one.
    for i, layer in enumerate(model.layers):
        if isinstance(layer, mt.Dense):
            followed_by_bn = i + 1 < len(model.layers) and isinstance(model.layers[i + 1], BN)
            assert layer.use_bias is not followed_by_bn
            assert ("b" in layer.params) is not followed_by_bn
    for layer in model.layers:
        if isinstance(layer, mt.Dropout):
            assert layer.rate == kwargs["dropout"]
        if isinstance(layer, mt.BatchNorm):
            assert layer.num_features in (8, 6)


def test_mlp_with_no_hidden_layer_is_one_dense():
    model = mt.MLP([4, 3], batchnorm=True, dropout=0.5, seed=0)
    assert _layer_types(model) == [D]
    assert model.layers[0].use_bias


@pytest.mark.parametrize(
    ("activation", "hidden_init"),
    [
        ("relu", "he_uniform"),
        ("leaky_relu", "he_uniform"),
        ("sigmoid", "glorot_uniform"),
        ("tanh", "glorot_uniform"),
    ],
)
def test_mlp_initialisers_follow_the_activation(activation, hidden_init):
    model = mt.MLP([4, 8, 6, 3], activation=activation, seed=0)
    dense = [layer for layer in model.layers if isinstance(layer, mt.Dense)]
    names = [mt.initializers.serialize(d.kernel_initializer) for d in dense]
    assert names == [hidden_init, hidden_init, "glorot_uniform"]


@pytest.mark.parametrize("kwargs", [{}, {"batchnorm": True, "dropout": 0.3}])
def test_mlp_same_seed_gives_bit_identical_weights(kwargs):
    a = mt.MLP([4, 8, 6, 3], seed=123, **kwargs).state_dict()
    b = mt.MLP([4, 8, 6, 3], seed=123, **kwargs).state_dict()
    _assert_same(a, b)
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()


def test_mlp_different_seeds_give_different_weights():
    a = mt.MLP([4, 8, 6, 3], seed=1).state_dict()
    b = mt.MLP([4, 8, 6, 3], seed=2).state_dict()
    c = mt.MLP([4, 8, 6, 3]).state_dict()
    d = mt.MLP([4, 8, 6, 3]).state_dict()
    for key in ("0.W", "2.W", "4.W"):
        assert not np.array_equal(a[key], b[key])
        assert not np.array_equal(c[key], d[key])


def test_mlp_layers_draw_different_weights_from_one_seed():
    model = mt.MLP([5, 5, 5, 5], seed=0)
    w = [layer.params["W"] for layer in model.layers if isinstance(layer, mt.Dense)]
    assert not np.array_equal(w[0], w[1])
    assert not np.array_equal(w[1], w[2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_dtype_reaches_every_param_grad_and_buffer(dtype):
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0, dtype=dtype)
    assert model.dtype == dtype
    arrays = [a for layer in model.layers for a in layer.params.values()]
    arrays += [a for layer in model.layers for a in layer.grads.values()]
    arrays += [a for layer in model.layers for a in layer.buffers.values()]
    assert len(arrays) == 2 + 2 * 2 + 2 * 2 + 2  # W; gamma, beta x2; W, b x2; running x2
    assert all(a.dtype == dtype for a in arrays)
    assert model.forward(np.ones((3, 4))).dtype == dtype


def test_mlp_argument_errors():
    with pytest.raises(ValueError, match="sizes must hold at least an input and an output width"):
        mt.MLP([4])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a positive int, got 0"):
        mt.MLP([4, 0, 3])
    with pytest.raises(ValueError, match="activation must be one of 'relu', 'leaky_relu'"):
        mt.MLP([4, 3], activation="gelu")
    with pytest.raises(ValueError, match="output must be one of 'logits', 'softmax', got 'probs'"):
        mt.MLP([4, 3], output="probs")
    with pytest.raises(ValueError, match=r"dropout must be a real number in \[0.0, 1.0\), got 1"):
        mt.MLP([4, 3], dropout=1.0)


# ------------------------------------------------ forward / backward oracles


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("output", ["logits", "softmax"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_float64_mlp_gradients_match_finite_differences(activation, output, mode):
    model = mt.MLP(
        [4, 6, 5, 3],
        activation=activation,
        batchnorm=True,
        output=output,
        seed=3,
        dtype=np.float64,
    )
    if mode == "eval":
        # Non-trivial running statistics, so eval mode is not the identity normalisation.
        for layer in model.layers:
            if isinstance(layer, mt.BatchNorm):
                layer.buffers["running_mean"][:] = np.linspace(-0.3, 0.4, layer.num_features)
                layer.buffers["running_var"][:] = np.linspace(0.5, 2.0, layer.num_features)
        model.eval()
    x = np.random.default_rng(7).standard_normal((6, 4))
    assert mt.gradcheck(model, x) < 1e-7


class _SlightlyWrongBatchNorm(mt.BatchNorm):
    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return 1.01 * super().backward(grad_y)  # 1 % off: must be caught


def test_gradcheck_of_a_model_catches_a_wrong_backward():
    model = mt.MLP([4, 6, 3], batchnorm=True, seed=0, dtype=np.float64)
    model.layers[1].__class__ = _SlightlyWrongBatchNorm
    assert mt.gradcheck(model, np.random.default_rng(0).standard_normal((5, 4))) > 1e-4


def test_mlp_arguments_and_defaults_are_the_contract():
    assert signature(mt.MLP) == (
        "sizes, *, activation='relu', batchnorm=False, dropout=0.0, output='logits', "
        "seed=None, dtype=float32"
    )
