"""Numerical edge cases: constant features, large inputs, diverging runs, input dtypes.

- A constant feature column through BatchNorm in training mode has zero
  variance: its output is exactly ``beta`` (not NaN, not rounding noise
  amplified by ``1 / sqrt(eps)``), and its backward is finite.
- A large common offset (1e4 in float32) does not spoil BatchNorm's statistics.
- float32 inputs of magnitude 1e4 train without any overflow, division by zero
  or invalid operation.
- A learning rate that makes the loss overflow is stopped by ``TerminateOnNaN``
  at the first non-finite batch, in the first epoch.
- The input dtype rule: any real input (bool, integers, float16/32/64) is cast
  once to the parameters' dtype, so it gives bit for bit what the pre-cast array
  gives; complex, string and object arrays are a ``TypeError``.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

import minitrain as mt
from minitrain.layers import BatchNorm, Dense, ReLU, Sigmoid, Softmax, Tanh

FLOATS = [np.float32, np.float64]

# ------------------------------------------------------- constant feature columns

# 9930.077 in float32 over a batch of 31 is a case where np.mean of the constant
# column is off by one ulp (0.00098), which 1 / sqrt(eps) turned into an output
# of 0.68 instead of beta = 0.
CONSTANTS = [0.0, 1e-3, -7.3, 9930.077, 1e4, -3.3e4, 1e6]
BATCHES = [2, 3, 7, 31, 64]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("value", CONSTANTS)
def test_a_constant_column_through_batchnorm_gives_exactly_beta(dtype, n, value):
    layer = BatchNorm(3, dtype=dtype)
    layer.params["gamma"][...] = [2.0, -1.5, 0.5]
    layer.params["beta"][...] = [0.25, -3.0, 0.0]
    x = np.random.default_rng(n).standard_normal((n, 3)).astype(dtype)
    x[:, 1] = value  # the middle column is constant
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = layer(x)
        grad_x = layer.backward(np.random.default_rng(1).standard_normal((n, 3)).astype(dtype))
    assert np.all(y[:, 1] == dtype(-3.0))  # beta, exactly
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad_x))
    assert np.all(np.isfinite(layer.grads["gamma"])) and np.all(np.isfinite(layer.grads["beta"]))
    # x_hat = 0 in that column, so gamma gets no gradient from it.
    assert layer.grads["gamma"][1] == 0
    # The running statistics take the constant and a variance of exactly 0.
    assert layer.buffers["running_mean"][1] == dtype(0.1) * dtype(value)
    assert layer.buffers["running_var"][1] == dtype(0.9)


@pytest.mark.parametrize("dtype", FLOATS)
def test_a_constant_batch_is_beta_in_training_and_finite_in_eval(dtype):
    layer = BatchNorm(4, dtype=dtype)
    layer.params["beta"][...] = [1.0, 2.0, 3.0, 4.0]
    x = np.full((16, 4), 1234.5678, dtype=dtype)
    assert np.all(layer(x) == layer.params["beta"])
    layer.training = False
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = layer(x)  # running_var = 0.9, running_mean = 123.45678
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("dtype", FLOATS)
def test_a_model_normalising_its_raw_inputs_trains_on_constant_features(dtype):
    # BatchNorm as the first layer normalises the raw features, two of them constant.
    x, y = mt.data.make_spirals(n_per_class=40, seed=0)
    x = np.column_stack([x, np.full(len(x), 3.7), np.full(len(x), 9930.077)]).astype(dtype)
    layers = [BatchNorm(4, dtype=dtype), Dense(4, 16, seed=0, dtype=dtype), ReLU()]
    model = mt.Sequential([*layers, Dense(16, 3, seed=1, dtype=dtype)], seed=0)
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy")
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(np.all(np.isfinite(v)) for v in model.state_dict().values())
    # The constant features still reach the next layer as exactly beta.
    normalised = model.layers[0](x)
    assert np.all(normalised[:, 2:] == model.layers[0].params["beta"][2:])


@pytest.mark.parametrize("offset", [1e2, 1e3, 1e4])
def test_batchnorm_statistics_survive_a_large_offset_in_float32(offset):
    # var = mean((x - mu)**2) after centring (not mean(x**2) - mu**2, which would
    # cancel catastrophically): the normalised batch matches a float64 reference
    # computed from the very same float32 inputs.
    rng = np.random.default_rng(0)
    x = (offset + rng.standard_normal((64, 5)) * [0.01, 0.1, 1.0, 10.0, 100.0]).astype(np.float32)
    y = BatchNorm(5)(x)
    x64 = x.astype(np.float64)
    ref = (x64 - x64.mean(axis=0)) / np.sqrt(x64.var(axis=0) + 1e-5)
    # x - mu carries an error of about ulp(offset) / 2, relative to the column's spread.
    spread = x64.std(axis=0)
    tol = 4 * np.finfo(np.float32).eps * (offset / spread + np.abs(ref) + 1)
    np.testing.assert_array_less(np.abs(y - ref), tol)


# --------------------------------------------------------------- large inputs


@pytest.mark.parametrize(
    "layer", [Sigmoid(), Tanh(), Softmax()], ids=["sigmoid", "tanh", "softmax"]
)
@pytest.mark.parametrize("dtype", FLOATS)
def test_saturating_activations_stay_finite_at_1e4(layer, dtype):
    x = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = layer(x)
        grad_x = layer.backward(np.ones_like(x))
    assert y.dtype == grad_x.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad_x))
    assert np.all((y >= -1) & (y <= 1))


@pytest.mark.parametrize("output", ["logits", "softmax"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_float32_inputs_of_magnitude_1e4_train_without_overflow(output, batchnorm):
    x, y = mt.data.make_spirals(n_per_class=50, seed=0)
    x = (x * 1e4).astype(np.float32)
    model = mt.MLP([2, 32, 32, 3], batchnorm=batchnorm, output=output, seed=0)
    model.compile(mt.Adam(1e-3), "sparse_categorical_crossentropy")
    # The logits reach about 1e4: exp would overflow float32 at 89 without the
    # max shift. Any overflow, division by zero or NaN anywhere is an error here.
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
        loss = model.evaluate(x, y)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and np.isfinite(loss)
    assert losses[-1] < losses[0]


# ------------------------------------------------------------ diverging runs


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "loss", ["sparse_categorical_crossentropy", "categorical_crossentropy", "mse"]
)
def test_terminate_on_nan_stops_an_overflowing_run_at_its_first_bad_batch(dtype, loss):
    x, y = mt.data.make_spirals(n_per_class=50, seed=0)
    y = y if loss.startswith("sparse") else np.eye(3)[y]
    model = mt.MLP([2, 32, 3], seed=0, dtype=dtype)
    model.compile(mt.SGD(1e30), loss)  # the first update sends the weights to about 1e30
    batch_losses = []
    record = mt.LambdaCallback(on_train_batch_end=lambda batch, logs: batch_losses.append(logs))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), np.errstate(all="ignore"):
        history = model.fit(
            x * 1e3, y, epochs=20, batch_size=16, verbose=0, callbacks=[mt.TerminateOnNaN(), record]
        )
    finite = [np.isfinite(logs["loss"]) for logs in batch_losses]
    first_bad = finite.index(False)
    # Stopped right after the first batch whose running loss is not finite, in epoch 0.
    assert len(batch_losses) == first_bad + 1
    assert first_bad < 10  # 150 samples in batches of 16: epoch 0 has 10 batches
    assert history.epoch == [0]
    assert printed.getvalue() == f"Batch {first_bad}: Invalid loss, terminating training\n"
    assert all(layer.training for layer in model.layers)  # mode back as before fit


def test_a_diverged_run_with_probabilities_stays_finite_as_keras():
    # With a Softmax output the crossentropy clips the probabilities, so the loss
    # is at most -log(1e-7) = 16.1 and cannot overflow: there is nothing for
    # TerminateOnNaN to catch while the weights stay finite (Keras behaves alike).
    x, y = mt.data.make_spirals(n_per_class=50, seed=0)
    model = mt.MLP([2, 32, 3], output="softmax", seed=0)
    model.compile(mt.SGD(1e3), "sparse_categorical_crossentropy")
    with np.errstate(all="ignore"):
        history = model.fit(x * 10, y, epochs=3, verbose=0, callbacks=[mt.TerminateOnNaN()])
    assert history.epoch == [0, 1, 2]
    assert all(0 <= v <= -np.log(1e-7) for v in history.history["loss"])


# ------------------------------------------------------------- input dtypes

REAL_DTYPES = [
    np.bool_,
    np.int8,
    np.uint8,
    np.int16,
    np.int32,
    np.int64,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
]


def _inputs(dtype):
    """12 samples of 3 features in ``dtype`` (small integers fit every integer type)."""
    raw = np.random.default_rng(0).integers(0, 5, (12, 3)) * 0.75
    if np.dtype(dtype).kind in "iub":
        raw = np.round(raw)
    return raw.astype(dtype)


def _compiled(model_dtype):
    model = mt.MLP([3, 8, 2], batchnorm=True, dropout=0.25, seed=0, dtype=model_dtype)
    model.compile(mt.Adam(0.01), "mse", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("model_dtype", FLOATS)
@pytest.mark.parametrize("input_dtype", REAL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_any_real_input_dtype_is_cast_once_to_the_parameter_dtype(model_dtype, input_dtype):
    x = _inputs(input_dtype)
    y = np.linspace(-1, 1, 24).reshape(12, 2).astype(input_dtype if x.dtype.kind == "f" else float)
    x_cast = x.astype(model_dtype)
    y_cast = y.astype(model_dtype)
    results = []
    for xs, ys in [(x, y), (x_cast, y_cast)]:
        model = _compiled(model_dtype)
        out = {
            "forward": model(xs),
            "train_step": model.train_step(xs, ys),
            "fit": model.fit(xs, ys, batch_size=5, epochs=2, verbose=0).history,
            "evaluate": model.evaluate(xs, ys, return_dict=True),
            "predict": model.predict(xs, batch_size=5),
            "weights": model.state_dict(),
        }
        results.append(out)
    given, cast = results
    assert given["forward"].dtype == given["predict"].dtype == np.dtype(model_dtype)
    assert given["forward"].tobytes() == cast["forward"].tobytes()
    assert given["predict"].tobytes() == cast["predict"].tobytes()
    assert given["train_step"] == cast["train_step"]
    assert given["fit"] == cast["fit"]
    assert given["evaluate"] == cast["evaluate"]
    for key, value in given["weights"].items():
        assert value.dtype == np.dtype(model_dtype), key
        assert value.tobytes() == cast["weights"][key].tobytes(), key


@pytest.mark.parametrize(
    ("x", "dtype_name"),
    [
        (np.ones((4, 3), dtype=np.complex64), "complex64"),
        (np.full((4, 3), "1.0"), "<U3"),
        (np.ones((4, 3)).astype(object), "object"),
        (np.zeros((4, 3), dtype="datetime64[s]"), "datetime64[s]"),
    ],
    ids=["complex", "str", "object", "datetime"],
)
@pytest.mark.parametrize("entry", ["forward", "predict", "fit", "evaluate", "train_step"])
def test_a_non_real_input_is_a_type_error_naming_x_and_its_dtype(x, dtype_name, entry):
    model = _compiled(np.float32)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    y = np.zeros((4, 2), dtype=np.float32)
    call = {
        "forward": lambda: model.forward(x),
        "predict": lambda: model.predict(x),
        "fit": lambda: model.fit(x, y, verbose=0),
        "evaluate": lambda: model.evaluate(x, y),
        "train_step": lambda: model.train_step(x, y),
    }[entry]
    with pytest.raises(TypeError, match="^x must hold numbers, got dtype " + re.escape(dtype_name)):
        call()
    for key, value in model.state_dict().items():
        assert value.tobytes() == before[key].tobytes(), key


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_the_input_dtype_rule_is_in_the_docstrings(method):
    doc = " ".join(getattr(mt.Sequential, method).__doc__.split())
    assert "cast once to the parameters' dtype" in doc
    assert "float16" in doc and "TypeError" in doc
