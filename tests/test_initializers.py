"""Dense initialisers: shapes, bounds, spread, truncation, seeding and dtype."""

import math

import numpy as np
import pytest

from minitrain.layers import Dense

FAN_IN, FAN_OUT = 800, 250  # 200 000 weights: sample statistics within a fraction of 1%


def target_std(init, fan_in, fan_out):
    # He keeps Var(W) = 2 / fan_in, Glorot Var(W) = 2 / (fan_in + fan_out).
    return math.sqrt(2 / fan_in if init.startswith("he") else 2 / (fan_in + fan_out))


def bound(init, fan_in, fan_out):
    """Uniform: the limit sqrt(3) * std (sqrt(6 / fan_in) for he_uniform).
    Normal: 2 standard deviations of the normal before truncation, whose std is
    target / 0.8796 (the std of a standard normal truncated at +-2)."""
    std = target_std(init, fan_in, fan_out)
    return math.sqrt(3) * std if init.endswith("uniform") else 2 * std / 0.87962566103423978


@pytest.fixture(
    scope="module", params=["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"]
)
def large(request):
    return request.param, Dense(FAN_IN, FAN_OUT, kernel_initializer=request.param, seed=0).params[
        "W"
    ]


def test_bound_formulas():
    # The closed forms the bounds above stand for.
    assert bound("he_uniform", 6, 1) == pytest.approx(1.0)  # sqrt(6 / 6)
    assert bound("glorot_uniform", 2, 4) == pytest.approx(1.0)  # sqrt(6 / (2 + 4))
    assert bound("he_normal", 2, 1) == pytest.approx(2 / 0.87962566103423978)  # 2 * 1 / 0.88


def test_weights_stay_within_the_bound_and_reach_it(large):
    init, w = large
    limit = bound(init, FAN_IN, FAN_OUT)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # the whole range is used


def test_empirical_std_matches_the_target(large):
    init, w = large
    std = target_std(init, FAN_IN, FAN_OUT)
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 4 * std / math.sqrt(w.size)


def test_normal_inits_are_truncated_normals(large):
    init, w = large
    if init.endswith("uniform"):
        # Uniform on [-a, a]: a fraction 1 - 1/sqrt(3) = 0.4226 lies beyond one std.
        expected = 1 - 1 / math.sqrt(3)
        sigma = target_std(init, FAN_IN, FAN_OUT)
    else:
        # A normal cut at 2 sigma: P(1 < |Z| < 2) / P(|Z| < 2) = 0.2848 lies beyond sigma.
        sigma = bound(init, FAN_IN, FAN_OUT) / 2
        expected = (math.erf(2 / math.sqrt(2)) - math.erf(1 / math.sqrt(2))) / math.erf(
            2 / math.sqrt(2)
        )
    assert np.mean(np.abs(w) > sigma) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize("init", ["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_dtype_and_zero_bias(init, dtype):
    layer = Dense(3, 5, kernel_initializer=init, seed=0, dtype=dtype)
    w, b = layer.params["W"], layer.params["b"]
    assert w.shape == (3, 5) and w.dtype == dtype
    np.testing.assert_array_equal(b, np.zeros(5, dtype=dtype), strict=True)
    for k in ("W", "b"):
        np.testing.assert_array_equal(layer.grads[k], np.zeros_like(layer.params[k]), strict=True)
    assert np.abs(w).max() <= bound(init, 3, 5)


@pytest.mark.parametrize("init", ["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"])
def test_same_seed_same_weights(init):
    a = Dense(4, 6, kernel_initializer=init, seed=7).params["W"]
    np.testing.assert_array_equal(a, Dense(4, 6, kernel_initializer=init, seed=7).params["W"])
    np.testing.assert_array_equal(
        a, Dense(4, 6, kernel_initializer=init, seed=np.random.default_rng(7)).params["W"]
    )
    assert not np.array_equal(a, Dense(4, 6, kernel_initializer=init, seed=8).params["W"])


def test_dtype_changes_the_precision_not_the_draw():
    w64 = Dense(4, 6, seed=7, dtype=np.float64).params["W"]
    w32 = Dense(4, 6, seed=7).params["W"]
    np.testing.assert_array_equal(w64.astype(np.float32), w32)


def test_a_shared_generator_moves_on():
    rng = np.random.default_rng(0)
    first, second = Dense(4, 6, seed=rng), Dense(4, 6, seed=rng)
    assert not np.array_equal(first.params["W"], second.params["W"])


def test_unseeded_layers_differ():
    assert not np.array_equal(Dense(4, 6).params["W"], Dense(4, 6).params["W"])


@pytest.mark.parametrize("seed", [1.5, "0", True])
def test_bad_seed_is_refused(seed):
    with pytest.raises(TypeError, match="seed must be an int, a numpy Generator or None"):
        Dense(3, 4, seed=seed)
