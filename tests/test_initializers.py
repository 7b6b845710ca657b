"""Initializers: the module's contract, Keras's definitions, and Dense's draws
(shapes, bounds, spread, truncation, seeding and dtype)."""

import json
import math

import numpy as np
import oracles
import pytest
from signatures import signature

from minitrain import initializers
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


# ------------------------------------------------------------ the module's contract

NAMES = [
    "zeros",
    "ones",
    "constant",
    "he_uniform",
    "he_normal",
    "glorot_uniform",
    "glorot_normal",
    "lecun_normal",
    "random_normal",
    "random_uniform",
]


def round_one_draw(init, fan_in, fan_out, rng, dtype):
    """Round 1's Dense initialiser, verbatim: seeded models must keep their weights."""
    scale = 2.0 / fan_in if init.startswith("he") else 2.0 / (fan_in + fan_out)
    shape = (fan_in, fan_out)
    if init.endswith("uniform"):
        limit = np.sqrt(3.0 * scale)
        w = rng.uniform(-limit, limit, size=shape)
    else:
        std = np.sqrt(scale) / 0.87962566103423978
        w = rng.standard_normal(size=shape)
        outside = np.abs(w) > 2.0
        while outside.any():
            w[outside] = rng.standard_normal(size=int(outside.sum()))
            outside = np.abs(w) > 2.0
        w *= std
    return w.astype(dtype)


@pytest.mark.parametrize("init", ["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("fan_in", "fan_out"), [(3, 5), (64, 10), (7, 7), (1, 1)])
def test_he_and_glorot_draws_are_round_one_bit_for_bit(init, dtype, fan_in, fan_out):
    expected = round_one_draw(init, fan_in, fan_out, np.random.default_rng(3), dtype)
    drawn = initializers.get(init)((fan_in, fan_out), np.random.default_rng(3), dtype)
    np.testing.assert_array_equal(drawn, expected, strict=True)
    layer = Dense(fan_in, fan_out, kernel_initializer=init, seed=3, dtype=dtype)
    np.testing.assert_array_equal(layer.params["W"], expected, strict=True)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("he_uniform", "HeUniform"),
        ("he_normal", "HeNormal"),
        ("glorot_uniform", "GlorotUniform"),
        ("glorot_normal", "GlorotNormal"),
        ("lecun_normal", "LecunNormal"),
    ],
)
def test_variance_scaling_is_defined_as_keras_defines_it(name, cls):
    keras = oracles.keras()
    theirs = keras.initializers.get(name)
    ours = initializers.get(name)
    assert type(ours).__name__ == type(theirs).__name__ == cls
    assert (ours.scale, ours.mode, ours.distribution) == (
        theirs.scale,
        theirs.mode,
        theirs.distribution,
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (initializers.RandomNormal(), "RandomNormal"),
        (initializers.RandomUniform(), "RandomUniform"),
        (initializers.Constant(), "Constant"),
    ],
)
def test_defaults_are_keras_defaults(ours, theirs):
    keras = oracles.keras()
    config = getattr(keras.initializers, theirs)().get_config()
    config.pop("seed", None)
    assert ours.get_config() == config


@pytest.mark.parametrize(
    ("initializer", "mean", "std"),
    [
        (initializers.LecunNormal(), 0.0, math.sqrt(1 / 800)),  # Var = 1 / fan_in
        (initializers.RandomNormal(), 0.0, 0.05),
        (initializers.RandomNormal(mean=1.0, stddev=0.5), 1.0, 0.5),
        (initializers.RandomUniform(), 0.0, 0.1 / math.sqrt(12)),  # U(a, b): (b - a) / sqrt 12
        (initializers.RandomUniform(-2.0, 4.0), 1.0, 6 / math.sqrt(12)),
    ],
    ids=repr,
)
def test_draws_have_the_stated_spread(initializer, mean, std):
    w = initializer((800, 250), np.random.default_rng(0), np.float64)
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean() - mean) < 4 * std / math.sqrt(w.size)


def test_lecun_normal_is_truncated_at_two_standard_deviations():
    w = initializers.LecunNormal()((800, 250), np.random.default_rng(0), np.float64)
    limit = 2 * math.sqrt(1 / 800) / 0.87962566103423978
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


def test_uniform_bounds_are_kept():
    w = initializers.RandomUniform(-0.5, 0.25)((100, 100), np.random.default_rng(0))
    assert w.min() >= -0.5 and w.max() < 0.25 and w.min() < -0.49 and w.max() > 0.24


@pytest.mark.parametrize(
    ("initializer", "value"),
    [
        (initializers.Zeros(), 0.0),
        (initializers.Ones(), 1.0),
        (initializers.Constant(2.5), 2.5),
        (initializers.get("zeros"), 0.0),
        (initializers.get("ones"), 1.0),
    ],
    ids=repr,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constants_draw_nothing(initializer, value, dtype):
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    w = initializer((3, 2), rng, dtype)
    np.testing.assert_array_equal(w, np.full((3, 2), value, dtype), strict=True)
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_initializer_keeps_shape_and_dtype(name, dtype):
    init = initializers.get(name)
    for shape in [(4, 3), (5,)]:  # a kernel and a bias (both fans = 5)
        w = init(shape, np.random.default_rng(1), dtype)
        assert w.shape == shape and w.dtype == dtype


def test_a_vector_uses_its_length_as_both_fans():
    # Keras's compute_fans: shape (n,) has fan_in = fan_out = n, so glorot's limit is sqrt(6/2n).
    rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
    vector = initializers.GlorotUniform()((50,), rng_a, np.float64)
    limit = math.sqrt(6 / 100)
    np.testing.assert_array_equal(vector, rng_b.uniform(-limit, limit, 50), strict=True)


def test_same_rng_state_same_draw():
    init = initializers.get("lecun_normal")
    a = init((6, 4), np.random.default_rng(9))
    np.testing.assert_array_equal(a, init((6, 4), np.random.default_rng(9)), strict=True)


@pytest.mark.parametrize(
    "initializer",
    [
        *[initializers.get(n) for n in NAMES],
        initializers.Constant(-1.5),
        initializers.RandomNormal(0.5, 2.0),
        initializers.RandomUniform(0.0, 3.0),
    ],
    ids=repr,
)
def test_config_round_trip(initializer):
    config = {"class": type(initializer).__name__, "config": initializer.get_config()}
    rebuilt = initializers.from_config(json.loads(json.dumps(config)))
    assert rebuilt == initializer and type(rebuilt) is type(initializer)
    assert initializers.get(config) == initializer
    serial = json.loads(json.dumps(initializers.serialize(initializer)))
    assert initializers.get(serial) == initializer


def test_get_returns_an_initializer_as_it_is():
    init = initializers.RandomNormal(stddev=0.1)
    assert initializers.get(init) is init


def test_an_unknown_name_lists_the_valid_ones():
    valid = ", ".join(repr(n) for n in NAMES)
    with pytest.raises(ValueError, match=f"initializer must be one of {valid}, got 'xavier'"):
        initializers.get("xavier")


@pytest.mark.parametrize("identifier", [None, 3, np.zeros])
def test_get_refuses_other_types(identifier):
    with pytest.raises(TypeError, match="initializer must be an initializer name, an Init"):
        initializers.get(identifier)


def test_from_config_refuses_an_unknown_class():
    with pytest.raises(ValueError, match="initializer class must be one of .*got 'Orthogonal'"):
        initializers.from_config({"class": "Orthogonal", "config": {}})


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: initializers.RandomNormal(stddev=-1.0), ValueError, "stddev must be"),
        (lambda: initializers.RandomUniform(1.0, 0.0), ValueError, r"maxval must be .*\[1.0"),
        (lambda: initializers.Constant("1"), TypeError, "value must be a real number"),
        (lambda: initializers.RandomNormal(mean=float("nan")), ValueError, "mean must be"),
    ],
)
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (initializers.Constant, "value=0.0"),
        (initializers.RandomNormal, "mean=0.0, stddev=0.05"),
        (initializers.RandomUniform, "minval=-0.05, maxval=0.05"),
    ],
)
def test_constructor_arguments_and_defaults_are_the_contract(cls, expected):
    assert signature(cls) == expected
    assert signature(cls.__call__) == "shape, rng=None, dtype=float32"
