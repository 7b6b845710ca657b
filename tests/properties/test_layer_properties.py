"""Layer properties over random shapes, dtypes and seeds.

- every layer (Dense with each activation and Keras's BatchNormalization, built
  lazily, included; and every random MLP) passes gradcheck in float64;
- forward and backward keep the parameter dtype and the documented shapes,
  write gradients shaped like their parameters and never touch their inputs;
- Softmax rows are probabilities summing to 1, and adding a constant to the
  logits changes nothing (bit for bit, when the shift itself is exact);
- BatchNorm in training mode is blind to a positive scale and a shift of its
  input: exactly so once ``eps`` is scaled along, and otherwise off by exactly
  the share of ``eps``.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minitrain as mt
from minitrain.grad_mode import no_grad
from minitrain.gradcheck import gradcheck
from minitrain.layers import (
    BatchNorm,
    BatchNormalization,
    Dense,
    Dropout,
    Layer,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

from . import BATCH, DTYPES, SEED, WIDTH, away_from_zero, examples, normal

KINDS = ["dense", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "dropout", "batchnorm"]
KINDS += ["dense_activation", "batch_normalization"]  # lazily built, as Keras users write them
ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "linear"]


@st.composite
def layers(draw, kind: str, dtype, width: int) -> Layer:
    """A layer of ``kind`` taking ``width`` features, in either mode, with random
    settings; BatchNorm's parameters and running statistics are moved off their defaults."""
    seed = draw(SEED)
    if kind == "dense":
        layer: Layer = Dense(
            width,
            draw(WIDTH),
            use_bias=draw(st.booleans()),
            kernel_initializer=draw(
                st.sampled_from(["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"])
            ),
            seed=seed,
            dtype=dtype,
        )
    elif kind == "dense_activation":
        layer = Dense(
            draw(WIDTH),
            activation=draw(st.sampled_from(ACTIVATIONS)),
            use_bias=draw(st.booleans()),
            seed=seed,
            dtype=dtype,
        )
        layer.build(width)
    elif kind == "batch_normalization":
        layer = BatchNormalization(
            momentum=draw(st.floats(0.0, 1.0)), epsilon=draw(st.floats(1e-6, 1e-2)), dtype=dtype
        )
        layer.build(width)
        rng = np.random.default_rng(seed)
        layer.params["gamma"][...] = rng.uniform(-2, 2, width)
        layer.params["beta"][...] = rng.uniform(-2, 2, width)
        layer.buffers["moving_mean"][...] = rng.uniform(-2, 2, width)
        layer.buffers["moving_variance"][...] = rng.uniform(0.1, 3, width)
    elif kind == "relu":
        layer = ReLU()
    elif kind == "leaky_relu":
        layer = LeakyReLU(draw(st.floats(0.0, 1.0)))
    elif kind == "sigmoid":
        layer = Sigmoid()
    elif kind == "tanh":
        layer = Tanh()
    elif kind == "softmax":
        layer = Softmax()
    elif kind == "dropout":
        layer = Dropout(draw(st.floats(0.0, 0.9)), seed=seed)
    else:
        with warnings.catch_warnings():  # a momentum above 0.5 warns; any is valid here
            warnings.simplefilter("ignore", UserWarning)
            layer = BatchNorm(
                width,
                momentum=draw(st.floats(0.0, 1.0)),
                eps=draw(st.floats(1e-6, 1e-2)),
                dtype=dtype,
            )
        rng = np.random.default_rng(seed)
        layer.params["gamma"][...] = rng.uniform(-2, 2, width)
        layer.params["beta"][...] = rng.uniform(-2, 2, width)
        layer.buffers["running_mean"][...] = rng.uniform(-2, 2, width)
        layer.buffers["running_var"][...] = rng.uniform(0.1, 3, width)
    layer.training = draw(st.booleans())
    return layer


# ------------------------------------------------------------------ gradcheck


@pytest.mark.parametrize("kind", KINDS)
@examples(1.0)
@given(data=st.data(), n=BATCH, width=WIDTH, seed=SEED)
def test_every_layer_passes_gradcheck_in_float64(kind, data, n, width, seed):
    layer = data.draw(layers(kind, np.float64, width), label="layer")
    assert gradcheck(layer, away_from_zero(seed, (n, width))) < 1e-6


@st.composite
def mlps(draw, dtype=np.float64) -> mt.Sequential:
    depth = draw(st.integers(1, 3))
    sizes = [draw(WIDTH) for _ in range(depth + 1)]
    return mt.MLP(
        sizes,
        activation=draw(st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh"])),
        batchnorm=draw(st.booleans()),
        dropout=draw(st.sampled_from([0.0, 0.3])),
        output=draw(st.sampled_from(["logits", "softmax"])),
        seed=draw(SEED),
        dtype=dtype,
    )


def _off_the_kinks(model: mt.Sequential, x: np.ndarray, margin: float = 1e-4) -> bool:
    """True when no ReLU or LeakyReLU input lies within ``margin`` of 0.

    There the central difference straddles two slopes: a dead layer followed by a
    zero bias puts the next ReLU exactly at 0, where the backward gives 0 (as
    PyTorch) and the finite difference 1/2. The forward runs on a copy made in
    one call, as gradcheck makes its own, so Dropout draws the same masks.
    """
    h = x
    with no_grad():
        for layer in copy.deepcopy(model.layers):
            if isinstance(layer, ReLU | LeakyReLU) and np.any(np.abs(h) < margin):
                return False
            h = layer.forward(h)
    return True


@examples(0.5)
@given(data=st.data(), n=st.integers(2, 16), seed=SEED, training=st.booleans())
def test_every_mlp_passes_gradcheck_in_float64(data, n, seed, training):
    model = data.draw(mlps(), label="model")
    if not training:
        model.eval()
    x = away_from_zero(seed, (n, model.input_width))
    assume(_off_the_kinks(model, x))
    assert gradcheck(model, x) < 1e-6


# --------------------------------------------------------------- dtype, shapes


@pytest.mark.parametrize("kind", KINDS)
@examples(1.0)
@given(data=st.data(), dtype=DTYPES, n=BATCH, width=WIDTH, seed=SEED)
def test_forward_and_backward_keep_the_dtype_and_the_documented_shapes(
    kind, data, dtype, n, width, seed
):
    layer = data.draw(layers(kind, dtype, width), label="layer")
    x = normal(seed, (n, width), dtype)
    x_copy = x.copy()
    y = layer(x)
    assert y.dtype == dtype
    assert y.shape == (n, layer.output_width(width))
    g = normal(seed + 1, y.shape, dtype)
    g_copy = g.copy()
    grad_x = layer.backward(g)
    assert grad_x.dtype == dtype
    assert grad_x.shape == (n, width)
    assert layer.grads.keys() == layer.params.keys()
    for key, p in layer.params.items():
        assert p.dtype == dtype, key
        assert layer.grads[key].shape == p.shape, key
        assert layer.grads[key].dtype == dtype, key
    for key, b in layer.buffers.items():
        assert b.dtype == dtype, key
    # Neither pass may write into the arrays it was given.
    assert x.tobytes() == x_copy.tobytes()
    assert g.tobytes() == g_copy.tobytes()


@examples(1.0)
@given(data=st.data(), dtype=DTYPES, n=BATCH, seed=SEED)
def test_a_model_keeps_its_dtype_and_shapes_through_forward_backward_and_a_step(
    data, dtype, n, seed
):
    model = data.draw(mlps(dtype), label="model")
    optimizer = data.draw(st.sampled_from(["sgd", "adam", "adamw"]), label="optimizer")
    model.compile(optimizer, "mse")
    x = normal(seed, (n, model.input_width))  # float64: cast once to the model's dtype
    y = model(x)
    assert (y.dtype, y.shape) == (dtype, (n, model.output_width))
    grad_x = model.backward(normal(seed + 1, y.shape, dtype))
    assert (grad_x.dtype, grad_x.shape) == (dtype, (n, model.input_width))
    model.train_step(x, normal(seed + 2, y.shape))
    for key, p, g in model._param_slots():  # named_parameters() gives PyTorch's pairs now
        assert (p.dtype, g.dtype, g.shape) == (dtype, dtype, p.shape), key
    for key, value in model.state_dict().items():
        assert value.dtype == dtype, key
    for key, value in model.optimizer.state_dict().items():
        if key != "iterations":
            assert value.dtype == dtype, key
    out = model.predict(x, batch_size=7)
    assert (out.dtype, out.shape) == (dtype, (n, model.output_width))


# -------------------------------------------------------------------- Softmax


@examples(1.0)
@given(
    dtype=DTYPES,
    n=BATCH,
    width=WIDTH,
    seed=SEED,
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3, 1e4]),
)
def test_softmax_rows_are_probabilities_summing_to_1(dtype, n, width, seed, scale):
    logits = normal(seed, (n, width), dtype, scale)
    p = Softmax()(logits)
    assert p.dtype == dtype
    assert np.all((p >= 0) & (p <= 1))
    # Each entry carries a relative rounding error of a few ulps, so the row sum
    # is within width * eps of 1 (and the largest entry is never 0).
    eps = np.finfo(dtype).eps
    np.testing.assert_array_less(np.abs(p.sum(axis=1, dtype=np.float64) - 1), 2 * width * eps)
    assert np.all(p.max(axis=1) >= 1 / width)


@examples(1.0)
@given(
    dtype=DTYPES,
    n=BATCH,
    width=WIDTH,
    seed=SEED,
    shift=st.integers(-(2**20), 2**20),
)
def test_softmax_is_unchanged_by_adding_a_constant_to_the_logits(dtype, n, width, seed, shift):
    # Logits and shift are multiples of 2**-10 below 2**11 in magnitude: 21 bits,
    # so x + c is exact even in float32 (24 bits), and so is (x + c) - max(x + c),
    # which equals x - max(x). The outputs must then agree to the last bit.
    rng = np.random.default_rng(seed)
    x = (rng.integers(-(2**16), 2**16, size=(n, width)) / 2**10).astype(dtype)
    c = dtype(shift / 2**10)
    shifted = x + c
    assert np.array_equal(shifted - c, x)  # the shift really was exact
    assert Softmax()(shifted).tobytes() == Softmax()(x).tobytes()


# ------------------------------------------------------------------ BatchNorm


def _batchnorm(width, dtype, eps, seed):
    layer = BatchNorm(width, eps=eps, dtype=dtype)
    rng = np.random.default_rng(seed)
    layer.params["gamma"][...] = rng.uniform(-2, 2, width)
    layer.params["beta"][...] = rng.uniform(-2, 2, width)
    return layer


def _columns(seed, n, width):
    """A float64 batch whose columns have spreads between 0.1 and 10 and means up to 5."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, width)) * rng.uniform(0.1, 10, width) + rng.uniform(-5, 5, width)
    return x


SCALE = st.floats(1e-2, 1e2)
SHIFT = st.floats(-100.0, 100.0)


def _tolerance(x, a, b, dtype, layer):
    """Rounding bound for comparing two batch normalisations of ``x`` and ``a x + b``:
    the inputs carry a relative error of eps_dtype, which normalising amplifies by
    (largest magnitude) / (spread), and sums over the batch add a few ulps more;
    adding ``beta`` then rounds to a few ulps of ``|beta| + |gamma x_hat|``."""
    eps = np.finfo(dtype).eps
    gamma = np.abs(layer.params["gamma"].astype(np.float64))
    beta = np.abs(layer.params["beta"].astype(np.float64))
    centred = x - x.mean(axis=0)
    spread = np.sqrt(np.mean(centred**2, axis=0))
    x_hat = np.abs(centred / spread)
    amplification = (np.abs(b) / a + np.abs(x).max(axis=0)) / spread
    return 64 * eps * (1 + amplification) * gamma * (1 + x_hat) + 4 * eps * (beta + gamma * x_hat)


@examples(1.0)
@given(dtype=DTYPES, n=BATCH, width=WIDTH, seed=SEED, a=SCALE, b=SHIFT)
def test_batchnorm_training_output_ignores_scale_and_shift_with_eps_scaled_along(
    dtype, n, width, seed, a, b
):
    # BN(x; eps) = gamma (x - mu) / sqrt(var + eps) + beta, and a x + b has mean
    # a mu + b and variance a**2 var: so BN(a x + b; a**2 eps) = BN(x; eps) exactly.
    x = _columns(seed, n, width)
    eps = 1e-5
    plain = _batchnorm(width, dtype, eps, seed)
    moved = _batchnorm(width, dtype, eps * a * a, seed)
    y = plain(x.astype(dtype))
    y_moved = moved((a * x + b).astype(dtype))
    assert y_moved.dtype == dtype
    tol = _tolerance(x, a, b, dtype, plain)
    np.testing.assert_array_less(np.abs(y_moved.astype(np.float64) - y), tol)


@examples(1.0)
@given(dtype=DTYPES, n=BATCH, width=WIDTH, seed=SEED, a=SCALE, b=SHIFT)
def test_batchnorm_training_output_under_scale_and_shift_differs_only_by_eps(
    dtype, n, width, seed, a, b
):
    # With the same eps, BN(a x + b) - beta = (BN(x) - beta) * f with
    # f = sqrt((var + eps) / (var + eps / a**2)), a factor that tends to 1 as
    # eps / var -> 0: the output moves by exactly that much, no more.
    x = _columns(seed, n, width)
    eps = 1e-5
    layer = _batchnorm(width, dtype, eps, seed)
    beta = layer.params["beta"].astype(np.float64)
    y = layer(x.astype(dtype)).astype(np.float64)
    y_moved = layer((a * x + b).astype(dtype)).astype(np.float64)
    var = x.var(axis=0)
    factor = np.sqrt((var + eps) / (var + eps / (a * a)))
    tol = _tolerance(x, a, b, dtype, layer)
    np.testing.assert_array_less(np.abs((y_moved - beta) - (y - beta) * factor), tol)
