"""BatchNormalization against Keras 3's own layer (live, torch backend) and its own rules.

Keras's layer runs on torch tensors with ``requires_grad``, so its input and parameter
gradients come from torch autograd through Keras's own forward: the oracle is Keras's
arithmetic, not a restatement of it.

Float64: ``keras.config.set_floatx("float64")`` gives float64 weights, but on the torch
backend ``BatchNormalization.call`` computes in ``backend.result_type(inputs.dtype,
"float32")``, and Keras's promotion rules turn every 64-bit result into 32 bits on
that backend (to align with JAX's default). The float64 comparisons therefore run
Keras's layer with that one demotion lifted (``float64_keras`` below); everything
else is Keras's code as it ships. ``test_matches_unmodified_keras_in_float32`` runs
the layer as it is, in float32.
"""

import json

import numpy as np
import oracles
import pytest

from minitrain.gradcheck import gradcheck
from minitrain.layers import BatchNormalization, from_config

keras = oracles.keras()
# Keras's variables convert through np.array(x) without copy=: NumPy 2 warns, inside Keras.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
torch = oracles.torch()

# The largest relative differences measured against Keras over this file (1e-12 allowed).
RTOL = 1e-12


@pytest.fixture
def float64_keras(monkeypatch):
    """floatx float64, and float64 results kept float64 in Keras's dtype promotion."""
    from keras.src import backend

    promote = backend.result_type

    def result_type(*dtypes):
        out = promote(*dtypes)
        wide = any(backend.standardize_dtype(d) == "float64" for d in dtypes if d is not None)
        return "float64" if wide and out == "float32" else out

    monkeypatch.setattr(backend, "result_type", result_type)
    previous, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx(previous)
    keras.config.set_dtype_policy(policy)


def data(shape, seed, scale=1.0, shift=0.0):
    return scale * np.random.default_rng(seed).standard_normal(shape) + shift


def assert_close(actual, expected, rel=RTOL):
    """Largest difference within ``rel`` of the largest expected value, float64."""
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    expected = np.asarray(expected)
    assert actual.dtype == np.float64
    assert expected.dtype == np.float64
    assert actual.shape == expected.shape
    scale = max(np.max(np.abs(expected)), 1e-300)
    assert np.max(np.abs(actual - expected)) <= rel * scale


def pair(num_features, momentum, epsilon, seed=0):
    """Ours and Keras's, with the same (non-default) gamma, beta and moving statistics."""
    ours = BatchNormalization(num_features, momentum=momentum, epsilon=epsilon, dtype=np.float64)
    theirs = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)
    theirs.build((None, num_features))
    rng = np.random.default_rng(seed)
    weights = [
        rng.uniform(0.5, 2.0, num_features) * rng.choice([-1, 1], num_features),
        rng.uniform(-1, 1, num_features),
        rng.uniform(-1, 1, num_features),
        rng.uniform(0.5, 2.0, num_features),
    ]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def run_keras(layer, x, g, training):
    xt = torch.tensor(x, requires_grad=True)
    for v in layer.trainable_weights:
        v.value.grad = None
    yt = layer(xt, training=training)
    yt.backward(torch.from_numpy(g))
    return yt, xt.grad, layer.gamma.value.grad, layer.beta.value.grad


@pytest.mark.parametrize("momentum", [0.99, 0.9, 0.0, 1.0])
@pytest.mark.parametrize("epsilon", [1e-3, 1e-1])
def test_matches_keras_over_several_batches_then_in_eval(float64_keras, momentum, epsilon):
    ours, theirs = pair(4, momentum, epsilon)
    # Training: batches of different sizes (one sample included), shifts and scales.
    for step, n in enumerate([6, 1, 9, 3]):
        x = data((n, 4), 10 + step, scale=2.0, shift=np.array([1.0, -3.0, 0.5, 4.0]))
        g = data((n, 4), 20 + step)
        y = ours(x, training=True)
        grad_x = ours.backward(g)
        yt, grad_xt, dgamma, dbeta = run_keras(theirs, x, g, training=True)
        assert_close(y, yt)
        assert_close(grad_x, grad_xt)  # exactly 0 for the batch of one, on both sides
        assert_close(ours.grads["gamma"], dgamma)
        assert_close(ours.grads["beta"], dbeta)
        assert_close(ours.buffers["moving_mean"], theirs.moving_mean.numpy())
        assert_close(ours.buffers["moving_variance"], theirs.moving_variance.numpy())
    # Eval: the moving statistics, unchanged by the call.
    for n in (1, 5):
        x, g = data((n, 4), 30 + n, shift=1.0), data((n, 4), 40 + n)
        y = ours(x, training=False)
        grad_x = ours.backward(g)
        yt, grad_xt, dgamma, dbeta = run_keras(theirs, x, g, training=False)
        assert_close(y, yt)
        assert_close(grad_x, grad_xt)
        assert_close(ours.grads["gamma"], dgamma)
        assert_close(ours.grads["beta"], dbeta)
    assert_close(ours.buffers["moving_mean"], theirs.moving_mean.numpy())
    assert_close(ours.buffers["moving_variance"], theirs.moving_variance.numpy())


def test_matches_unmodified_keras_in_float32():
    ours = BatchNormalization(3, momentum=0.9)
    theirs = keras.layers.BatchNormalization(momentum=0.9, dtype="float32")
    theirs.build((None, 3))
    for step, n in enumerate([5, 1, 4]):
        x = data((n, 3), 50 + step, shift=1.0).astype(np.float32)
        g = data((n, 3), 60 + step).astype(np.float32)
        y = ours(x)
        grad_x = ours.backward(g)
        yt, grad_xt, dgamma, dbeta = run_keras(theirs, x, g, training=True)
        assert yt.dtype == torch.float32 and y.dtype == np.float32
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(grad_x, grad_xt.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours.grads["gamma"], dgamma.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ours.grads["beta"], dbeta.numpy(), rtol=1e-6)
        mm, mv = theirs.moving_mean.numpy(), theirs.moving_variance.numpy()
        np.testing.assert_allclose(ours.buffers["moving_mean"], mm, rtol=1e-6)
        np.testing.assert_allclose(ours.buffers["moving_variance"], mv, rtol=1e-6)


def test_defaults_are_keras_defaults():
    config = keras.layers.BatchNormalization().get_config()
    layer = BatchNormalization()
    assert (layer.momentum, layer.epsilon) == (config["momentum"], config["epsilon"])
    assert (layer.momentum, layer.epsilon) == (0.99, 1e-3)


def test_moving_statistics_by_hand():
    layer = BatchNormalization(1, momentum=0.9, dtype=np.float64)
    x = np.array([[1.0], [3.0], [5.0]])
    layer(x)
    # mean 3, biased variance (4 + 0 + 4) / 3 = 8/3 (Keras: not the unbiased 4)
    # moving_mean = 0.9 * 0 + 0.1 * 3 = 0.3; moving_variance = 0.9 * 1 + 0.1 * 8/3
    np.testing.assert_allclose(layer.buffers["moving_mean"], [0.3], rtol=1e-15)
    np.testing.assert_allclose(layer.buffers["moving_variance"], [0.9 + 0.8 / 3], rtol=1e-15)


def test_a_batch_of_one_gives_beta_and_is_counted():
    layer = BatchNormalization(3, momentum=0.5, dtype=np.float64)
    layer.params["beta"][...] = [0.5, -1.0, 2.0]
    x = np.array([[4.0, -2.0, 8.0]])
    y = layer(x)
    np.testing.assert_array_equal(y, [[0.5, -1.0, 2.0]], strict=True)  # variance 0, x_hat 0
    np.testing.assert_array_equal(layer.buffers["moving_mean"], 0.5 * x[0])
    np.testing.assert_array_equal(layer.buffers["moving_variance"], [0.5, 0.5, 0.5])
    assert layer.min_training_batch == 1
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), np.zeros((1, 3)))


def test_starts_at_identity_and_names_its_arrays_as_keras():
    layer = BatchNormalization(4)
    assert list(layer.params) == ["gamma", "beta"]
    assert list(layer.buffers) == ["moving_mean", "moving_variance"]
    for array, value in zip(layer.get_weights(), [1, 0, 0, 1], strict=True):
        np.testing.assert_array_equal(array, np.full(4, value, np.float32), strict=True)
    assert layer.input_width == 4 and layer.output_width(4) == 4


@pytest.mark.parametrize("how", ["first batch", "build"])
def test_builds_lazily(how):
    layer = BatchNormalization()
    assert not layer.built and layer.params == {} and layer.buffers == {}
    assert layer.input_width is None
    x = data((5, 3), 0).astype(np.float32)
    if how == "build":
        layer.build(3)
    y = layer(x)
    assert layer.built and layer.num_features == 3 and layer.input_width == 3
    assert y.dtype == np.float32
    eager = BatchNormalization(3)
    np.testing.assert_array_equal(y, eager(x), strict=True)
    for a, b in zip(layer.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


def test_a_width_contradicting_the_built_one_is_refused():
    layer = BatchNormalization(3)
    with pytest.raises(ValueError, match="in_features must be 3.*got 5"):
        layer.build(5)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\).*got shape \(2, 5\)"):
        layer(np.ones((2, 5)))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("n", [1, 5])
def test_backward_matches_finite_differences(training, n):
    layer = BatchNormalization(3, momentum=0.9, dtype=np.float64)
    layer.set_weights(
        [np.array(v) for v in ([1.5, -0.5, 2.0], [0.1, 0.2, -0.3], [0.5, -1.0, 0.25], [2, 0.5, 1])]
    )
    layer.training = training
    assert gradcheck(layer, data((n, 3), 1, scale=3.0, shift=1.0)) < 1e-7


@pytest.mark.parametrize(
    "layer",
    [
        BatchNormalization(),
        BatchNormalization(5),
        BatchNormalization(2, momentum=0.9, epsilon=1e-5, dtype=np.float64),
    ],
    ids=repr,
)
def test_config_round_trip(layer):
    config = json.loads(json.dumps({"class": "BatchNormalization", "config": layer.get_config()}))
    rebuilt = from_config(config)
    assert type(rebuilt) is BatchNormalization
    assert rebuilt.get_config() == layer.get_config()
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.built == layer.built


def test_config_of_a_lazily_built_layer_records_its_width():
    layer = BatchNormalization()
    layer.build(6)
    rebuilt = from_config({"class": "BatchNormalization", "config": layer.get_config()})
    assert rebuilt.built and rebuilt.params["gamma"].shape == (6,)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_features": 0}, ValueError, "num_features must be a positive int, got 0"),
        ({"num_features": 2.5}, TypeError, "num_features must be a positive int"),
        ({"momentum": 1.5}, ValueError, r"momentum must be a real number in \[0.0, 1.0\]"),
        ({"epsilon": 0.0}, ValueError, r"epsilon must be a real number in \(0.0"),
        ({"dtype": np.int32}, ValueError, "dtype must be float32 or float64"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        BatchNormalization(**kwargs)
