"""to_keras / from_keras: every layer kind, in Keras's training and inference calls.

Keras 3.15.1 on its torch backend computes ``matmul`` in float32 even for float64
variables (``keras/src/backend/common/dtypes.py`` maps float64 results to float32 on
every backend but TensorFlow), so float64 models agree only to float32 precision; the
comparisons run in float32, to 1e-6 relative to the largest output (measured: below
4e-7). Exports keep float64 variables float64 all the same.
"""

from __future__ import annotations

import numpy as np
import oracles
import pytest
from signatures import signature

import minitrain as mt
from minitrain import layers as L
from minitrain.interop import from_keras, to_keras

from .cases import CASES, assert_identical, batch, everything, model_of, weights_and_buffers

keras = oracles.keras()
TOL = 1e-6


def run(keras_model, x: np.ndarray, training: bool) -> np.ndarray:
    return keras.ops.convert_to_numpy(keras_model(x, training=training))


def assert_close(actual: np.ndarray, expected: np.ndarray, tol: float = TOL) -> None:
    assert actual.shape == expected.shape
    assert np.max(np.abs(actual - expected)) <= tol * max(1.0, np.max(np.abs(expected)))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", [c for c in CASES if c != "dropout"])
def test_exported_model_computes_the_model(case, training):
    model = model_of(case, dtype=np.float32)
    keras_model = to_keras(model)
    x = batch().astype(np.float32)
    out = run(keras_model, x, training)
    assert out.dtype == np.float32
    assert_close(out, model(x, training=training))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_exported_model_computes_the_whole_model(training):
    model = everything(dtype=np.float32)
    keras_model = to_keras(model)
    keras_model.layers[6].rate = 0.0  # Dropout: masks come from two different generators
    model.layers[6].rate = 0.0
    x = batch().astype(np.float32)
    assert_close(run(keras_model, x, training), model(x, training=training))


def test_float64_models_stay_float64():
    model = everything()
    keras_model = to_keras(model)
    assert {w.dtype for w in keras_model.get_weights()} == {np.dtype(np.float64)}
    x = batch()
    out = run(keras_model, x, False)
    assert out.dtype == np.float64
    assert_close(out, model(x, training=False))
    assert from_keras(keras_model).dtype == np.float64


def test_batchnormalization_statistics_update_as_keras():
    """minitrain's BatchNormalization is Keras's: moving statistics agree after training calls."""
    model = model_of("batchnormalization", dtype=np.float32)
    keras_model = to_keras(model)
    x = batch(n=6).astype(np.float32)
    for _ in range(3):
        run(keras_model, x, True)
        model(x, training=True)
    _, _, mean, var = keras_model.layers[1].get_weights()
    assert_close(mean, model.layers[1].buffers["moving_mean"])
    assert_close(var, model.layers[1].buffers["moving_variance"])


def test_torch_style_batchnorm_goes_over_with_converted_momentum():
    """Eval outputs equal; in training, Keras updates with the biased variance."""
    model = model_of("batchnorm", dtype=np.float32)
    bn = model.layers[1]
    keras_model = to_keras(model)
    kbn = keras_model.layers[1]
    assert kbn.momentum == pytest.approx(1 - bn.momentum) and kbn.epsilon == bn.eps
    x = batch(n=6).astype(np.float32)
    z = model.layers[0](x)
    m, n = bn.momentum, len(x)
    var0 = bn.buffers["running_var"].copy()
    assert_close(run(keras_model, x, True), model(x, training=True))
    _, _, mean, var = kbn.get_weights()
    assert_close(mean, bn.buffers["running_mean"])
    assert_close(var, (1 - m) * var0 + m * z.var(axis=0))
    assert_close(bn.buffers["running_var"], (1 - m) * var0 + m * z.var(axis=0) * n / (n - 1))


def test_exported_dropout_drops_and_scales_as_minitrain():
    model = model_of("dropout", dtype=np.float32)
    keras_model = to_keras(model)
    assert keras_model.layers[1].rate == 0.4
    x = batch(n=200).astype(np.float32)
    kept = model.layers[0](x)
    y = run(keras_model, x, True)
    dropped = y == 0
    assert_close(y[~dropped], kept[~dropped] / 0.6)
    assert 0.3 < dropped.mean() < 0.5
    assert_close(run(keras_model, x, False), kept)


def test_exports_share_no_memory():
    model = everything()
    keras_model = to_keras(model)
    back = from_keras(keras_model)
    variables = [keras.ops.convert_to_numpy(v.value) for v in keras_model.weights]
    for a in weights_and_buffers(model) + weights_and_buffers(back):
        assert not any(np.shares_memory(a, v) for v in variables)
    before = weights_and_buffers(model)
    for v in keras_model.weights:
        v.assign(v.value + 1.0)
    assert_identical(weights_and_buffers(model), before)


def test_round_trip_is_bit_identical():
    """Same layers, configs and arrays; BatchNorm returns as the Keras-style layer."""
    model = everything()
    back = from_keras(to_keras(model))
    assert_identical(weights_and_buffers(back), weights_and_buffers(model))
    kinds = [type(la).__name__ for la in model.layers]
    kinds[1] = "BatchNormalization"  # Keras has one batch norm, with Keras's convention
    assert [type(la).__name__ for la in back.layers] == kinds
    for mine, theirs in zip(model.layers[2:], back.layers[2:], strict=True):
        assert theirs.get_config() == mine.get_config()
    assert back.layers[1].momentum == pytest.approx(1 - model.layers[1].momentum)
    assert back.training  # Keras keeps no mode: a new model trains
    x = batch()
    np.testing.assert_array_equal(back(x, training=False), model(x, training=False))


def test_imported_model_computes_the_keras_model():
    """The other way: a model built in Keras, with Keras's initialisation and names."""
    kl = keras.layers
    keras.utils.set_random_seed(0)
    keras_model = keras.Sequential(
        [
            keras.Input((4,)),
            kl.Dense(6, activation="relu"),
            kl.BatchNormalization(momentum=0.8, epsilon=1e-2),
            kl.Dense(6, activation="leaky_relu"),
            kl.Activation("tanh"),
            kl.Activation("linear"),
            kl.ReLU(negative_slope=0.1),
            kl.Dropout(0.5),
            kl.LeakyReLU(),
            kl.Dense(3, activation="softmax", use_bias=False),
            kl.Softmax(),
        ]
    )
    bn = keras_model.layers[1]
    gamma, beta, _, _ = bn.get_weights()
    bn.set_weights([gamma + 0.5, beta - 0.2, np.full(6, 0.3, "f4"), np.full(6, 1.7, "f4")])
    model = from_keras(keras_model)
    assert [type(la).__name__ for la in model.layers] == [
        "Dense", "BatchNormalization", "Dense", "Tanh", "LeakyReLU", "Dropout", "LeakyReLU",
        "Dense", "Softmax",
    ]  # fmt: skip
    assert model.layers[2].activation.negative_slope == 0.2  # Keras's "leaky_relu"
    assert model.layers[4].negative_slope == pytest.approx(0.1)
    assert model.layers[6].negative_slope == pytest.approx(0.3)  # Keras's LeakyReLU default
    x = batch().astype(np.float32)
    for training in (True, False):
        keras_model.layers[6].rate = 0.0 if training else 0.5
        model.layers[5].rate = keras_model.layers[6].rate
        assert_close(model(x, training=training), run(keras_model, x, training))


def test_model_starting_with_activations_exports_unbuilt():
    model = mt.Sequential([L.ReLU(), L.Softmax()])
    keras_model = to_keras(model)
    x = batch().astype(np.float32)
    assert_close(run(keras_model, x, False), model(x))


def test_bridge_arguments_are_the_contract():
    assert (signature(to_keras), signature(from_keras)) == ("model", "model")
