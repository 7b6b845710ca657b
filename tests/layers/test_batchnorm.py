"""BatchNorm: statistics, modes, refused batches and argument checks.

The PyTorch cross-checks (BatchNorm1d, several momenta) are in test_torch.py
and the worked 3-sample example in test_protocol.py; Keras's BatchNormalization in
test_batch_normalization.py.
"""

import warnings

import numpy as np
import pytest

from minitrain.layers import BatchNorm


def data(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def layer_with_state(dtype=np.float64):
    """A layer whose params, grads, buffers and cache all hold something."""
    layer = BatchNorm(3, dtype=dtype)
    layer.params["gamma"][...] = [1.5, -0.5, 2.0]
    layer.params["beta"][...] = [0.1, 0.2, -0.3]
    layer(data((4, 3), 0, dtype))
    layer.backward(data((4, 3), 1, dtype))
    return layer


def state(layer):
    arrays = {**layer.params, **{"d" + k: v for k, v in layer.grads.items()}, **layer.buffers}
    return {k: v.copy() for k, v in arrays.items()}, layer._saved


def assert_state(layer, before):
    arrays, saved = state(layer)
    assert arrays.keys() == before[0].keys()
    for k in arrays:
        np.testing.assert_array_equal(arrays[k], before[0][k], strict=True)
    assert saved is before[1]


def test_starts_at_identity_statistics():
    layer = BatchNorm(4)
    for k, value in [("gamma", 1), ("beta", 0)]:
        np.testing.assert_array_equal(layer.params[k], np.full(4, value, np.float32), strict=True)
    np.testing.assert_array_equal(layer.buffers["running_mean"], np.zeros(4, np.float32))
    np.testing.assert_array_equal(layer.buffers["running_var"], np.ones(4, np.float32))
    assert layer.buffers["running_var"].dtype == np.float32
    assert layer.output_width(4) == 4


def test_training_output_is_standardised_per_feature():
    x = 5.0 * data((50, 3), 2) + [1.0, -4.0, 20.0]
    y = BatchNorm(3, eps=1e-12, dtype=np.float64)(x)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-12)  # the biased variance is 1


@pytest.mark.parametrize(
    ("momentum", "mean_weight"),
    [(0.0, 0.0), (1.0, 1.0), (0.25, 0.25)],
)
def test_running_statistics_follow_the_momentum_formula(momentum, mean_weight):
    with warnings.catch_warnings():  # momentum=1.0 warns (tested in test_momentum_warning)
        warnings.simplefilter("ignore", UserWarning)
        layer = BatchNorm(3, momentum=momentum, dtype=np.float64)
    layer.buffers["running_mean"][...] = [1.0, 2.0, 3.0]
    layer.buffers["running_var"][...] = [0.5, 1.5, 2.5]
    x = data((6, 3), 3)
    layer(x)
    # running = (1 - momentum) * running + momentum * batch; the variance is unbiased (ddof=1)
    m = mean_weight
    np.testing.assert_allclose(
        layer.buffers["running_mean"], (1 - m) * np.array([1.0, 2.0, 3.0]) + m * x.mean(axis=0)
    )
    np.testing.assert_allclose(
        layer.buffers["running_var"],
        (1 - m) * np.array([0.5, 1.5, 2.5]) + m * x.var(axis=0, ddof=1),
        rtol=1e-14,
    )


def test_training_output_ignores_the_running_statistics():
    x = data((5, 3), 4)
    a, b = BatchNorm(3, dtype=np.float64), BatchNorm(3, dtype=np.float64)
    b.buffers["running_mean"][...] = 100.0
    b.buffers["running_var"][...] = 0.01
    np.testing.assert_array_equal(a(x), b(x))


def test_eval_uses_running_statistics_and_leaves_them():
    layer = layer_with_state()
    layer.training = False
    mean = layer.buffers["running_mean"].copy()
    var = layer.buffers["running_var"].copy()
    x = data((5, 3), 5)
    y = layer(x)
    expected = (x - mean) / np.sqrt(var + 1e-5) * layer.params["gamma"] + layer.params["beta"]
    np.testing.assert_allclose(y, expected, rtol=1e-14)
    np.testing.assert_array_equal(layer.buffers["running_mean"], mean)
    np.testing.assert_array_equal(layer.buffers["running_var"], var)


def test_eval_works_on_a_single_sample():
    layer = BatchNorm(3, dtype=np.float64)
    layer.training = False
    # running mean 0, var 1: y = x / sqrt(1 + 1e-5)
    y = layer(np.array([[1.0, -2.0, 0.5]]))
    np.testing.assert_allclose(y, [[1.0, -2.0, 0.5]] / np.sqrt(1 + 1e-5), rtol=1e-15)
    grad_x = layer.backward(np.ones((1, 3)))
    np.testing.assert_allclose(grad_x, np.ones((1, 3)) / np.sqrt(1 + 1e-5), rtol=1e-15)


def test_a_training_batch_of_one_is_refused_and_changes_nothing():
    layer = layer_with_state()
    before = state(layer)
    with pytest.raises(ValueError, match="at least 2 samples.*got a batch of 1"):
        layer(np.array([[1.0, 2.0, 3.0]]))
    assert_state(layer, before)
    assert layer.num_batches_tracked == 1
    assert layer.min_training_batch == 2


@pytest.mark.parametrize("shape", [(4, 2), (4, 5), (3,), (2, 3, 1)])
@pytest.mark.parametrize("training", [True, False])
def test_a_wrong_shape_is_refused_and_changes_nothing(shape, training):
    layer = layer_with_state()
    layer.training = training
    before = state(layer)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\) for BatchNorm\(3\), got"):
        layer(np.ones(shape))
    assert_state(layer, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_constant_feature_gives_beta(dtype):
    layer = BatchNorm(2, dtype=dtype)
    layer.params["gamma"][...] = [2.0, 3.0]
    layer.params["beta"][...] = [0.5, -0.25]
    x = np.array([[3.0, 1.0], [3.0, 2.0], [3.0, 4.0]], dtype=dtype)
    # Column 0 is constant: x - mean = 0 exactly, var = 0, so x_hat = 0 * 1/sqrt(eps) = 0.
    y = layer(x)
    np.testing.assert_array_equal(y[:, 0], np.full(3, 0.5, dtype), strict=True)
    grad_x = layer.backward(np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 1.0]], dtype=dtype))
    assert np.isfinite(grad_x).all()
    # dx = gamma / sqrt(eps) / N * (N g - sum g - 0) for that column
    expected = 2.0 / np.sqrt(dtype(1e-5)) / 3 * (3 * np.array([1.0, 2.0, -1.0]) - 2.0)
    np.testing.assert_allclose(grad_x[:, 0], expected, rtol=1e-5)
    assert layer.buffers["running_var"][0] == dtype(0.9)  # 0.9 * 1 + 0.1 * 0


def test_a_constant_feature_with_rounding_stays_finite():
    # 0.1 does not sum exactly: the deviations are rounding noise, the output stays near beta.
    x = np.full((7, 1), 0.1, dtype=np.float32)
    y = BatchNorm(1)(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, 0.0, atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_features": 0}, ValueError, "num_features must be a positive int, got 0"),
        ({"num_features": 2.0}, TypeError, "num_features must be a positive int"),
        ({"num_features": 2, "momentum": 1.5}, ValueError, r"momentum must be .*\[0.0, 1.0\]"),
        ({"num_features": 2, "momentum": -0.1}, ValueError, "momentum must be"),
        ({"num_features": 2, "eps": 0.0}, ValueError, r"eps must be a real number in \(0.0"),
        ({"num_features": 2, "dtype": np.int64}, ValueError, "dtype must be float32 or float64"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        BatchNorm(**kwargs)


# ------------------------------------------------- round 2: Keras users, counters, building


@pytest.mark.parametrize("momentum", [0.99, 0.9, 0.51])
def test_a_keras_momentum_warns_with_the_conversion(momentum):
    converted = f"{1 - momentum:.6g}"
    with pytest.warns(UserWarning, match=rf"Keras's momentum={momentum} is momentum={converted}"):
        layer = BatchNorm(3, momentum=momentum)
    assert layer.momentum == momentum  # taken as given: the PyTorch convention


def test_the_warning_points_at_the_caller():
    with pytest.warns(UserWarning) as record:
        BatchNorm(3, momentum=0.99)
    assert record[0].filename == __file__


@pytest.mark.parametrize("momentum", [0.0, 0.1, 0.5])
def test_a_pytorch_momentum_does_not_warn(momentum):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BatchNorm(3, momentum=momentum)


def test_rebuilding_from_config_does_not_warn_again():
    from minitrain.layers import from_config

    with pytest.warns(UserWarning):
        layer = BatchNorm(3, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rebuilt = from_config({"class": "BatchNorm", "config": layer.get_config()})
    assert rebuilt.momentum == 0.9


def test_num_batches_tracked_counts_training_forwards_only():
    layer = BatchNorm(3)
    assert layer.num_batches_tracked == 0 and type(layer.num_batches_tracked) is int
    layer(data((4, 3), 0))
    layer(data((4, 3), 1), training=True)
    layer(data((4, 3), 2), training=False)
    layer.training = False
    layer(data((4, 3), 3))
    assert layer.num_batches_tracked == 2
    assert "num_batches_tracked" not in layer.buffers  # state_dict keys unchanged


def test_is_built_with_its_width():
    layer = BatchNorm(3)
    assert layer.built and layer.input_width == 3
    layer.build(3)
    with pytest.raises(ValueError, match=r"in_features must be 3: BatchNorm\(3\) .*got 4"):
        layer.build(4)


def test_get_weights_order():
    layer = layer_with_state()
    gamma, beta, mean, var = layer.get_weights()
    np.testing.assert_array_equal(gamma, layer.params["gamma"], strict=True)
    np.testing.assert_array_equal(beta, layer.params["beta"], strict=True)
    np.testing.assert_array_equal(mean, layer.buffers["running_mean"], strict=True)
    np.testing.assert_array_equal(var, layer.buffers["running_var"], strict=True)
