"""Building models the Keras way: Input, add, build, lazy layers, count_params, get/set_weights."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain.layers import BatchNorm, BatchNormalization, Dense, Dropout, Input, ReLU
from tests.oracles import keras


def _layers():
    """Dense(units) layers without widths: built by whichever path the test takes."""
    return [
        Dense(8, activation="relu"),
        BatchNormalization(),
        Dropout(0.25),
        Dense(6, use_bias=False, kernel_initializer="glorot_normal"),
        BatchNorm(6),
        Dense(3),
    ]


def _bits(model: mt.Sequential) -> dict[str, bytes]:
    return {k: v.tobytes() for k, v in model.state_dict().items()}


def _x(n: int = 5, width: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, width)).astype(np.float32)


def _by_input(seed):
    return mt.Sequential([Input((4,)), *_layers()], seed=seed)


def _by_add(seed):
    model = mt.Sequential(seed=seed)
    model.add(Input((4,)))
    for layer in _layers():
        model.add(layer)
    return model


def _by_build(seed, shape=(None, 4)):
    model = mt.Sequential(_layers(), seed=seed)
    assert not model.built
    model.build(shape)
    return model


def _by_batch(seed):
    model = mt.Sequential(_layers(), seed=seed)
    model(_x(), training=False)  # eval mode: no statistic moves, no mask is drawn
    return model


# ------------------------------------------------------------------ lazy building


def test_lazy_building_three_ways_gives_the_same_weights_and_shuffles():
    reference = _by_build(seed=11)
    ref_rng = reference.rng.bit_generator.state
    for model in (_by_batch(11), _by_build(11, shape=(4,))):
        assert model.built and model.input_width == 4 and model.output_width == 3
        assert _bits(model) == _bits(reference)
        assert model.rng.bit_generator.state == ref_rng  # building drew no shuffle
    # With an Input first (given at construction or added), the keys shift by one.
    shifted = {}
    for key, value in _bits(reference).items():
        index, name = key.split(".")
        shifted[f"{int(index) + 1}.{name}"] = value
    for model in (_by_input(11), _by_add(11)):
        assert model.built and model.input_width == 4 and model.output_width == 3
        assert _bits(model) == shifted
        assert model.rng.bit_generator.state == ref_rng
    assert _bits(_by_build(12)) != _bits(reference)


def test_a_layer_seed_wins_over_the_model_seed():
    a = mt.Sequential([Dense(5, seed=3), Dense(2)], seed=1)
    b = mt.Sequential([Dense(5, seed=3), Dense(2)], seed=2)
    a.build((None, 4))
    b.build((None, 4))
    np.testing.assert_array_equal(a.layers[0].params["W"], b.layers[0].params["W"])
    assert not np.array_equal(a.layers[1].params["W"], b.layers[1].params["W"])


def test_an_unbuilt_model_says_so():
    model = mt.Sequential([Dense(8), ReLU(), Dense(3)])
    assert not model.built and model.layers[0].params == {} and model.input_width is None
    assert model.get_weights() == [] and model.state_dict() == {} and model.parameters() == []
    printed: list[str] = []
    model.summary(print_fn=printed.append)
    assert "The model is not built yet: call build((None, features))" in printed[0]
    assert "? (unbuilt)" in printed[0]
    with pytest.raises(ValueError, match=r"count_params\(\) needs a built model: call build"):
        model.count_params()
    model.build((None, 5))
    printed.clear()
    model.summary(print_fn=printed.append)
    assert "Total params: 75" in printed[0]  # 5*8 + 8 + 8*3 + 3


def test_a_batch_builds_the_model_once_then_the_width_is_fixed():
    model = mt.Sequential([Dense(4), Dense(2)], seed=0)
    y = model(_x(width=3))
    assert y.shape == (5, 2) and model.input_width == 3
    with pytest.raises(ValueError, match=r"x must have 3 features \(columns\), got shape \(5, 4\)"):
        model(_x(width=4))


@pytest.mark.parametrize(
    ("make", "shape", "message"),
    [
        (lambda: [Input((4,)), Dense(3)], (None, 5), r"gives 5 features, but the model takes 4"),
        (lambda: [Dense(4, 3), Dense(2)], (3, 7), r"input_shape must be \(None, features\)"),
        (lambda: [Dense(4, 3)], (None, 0), r"input_shape must be \(None, features\)"),
        (lambda: [Dense(4, 3)], "4", r"input_shape must be \(None, features\)"),
        (lambda: [ReLU(), Dense(4, 3)], (None, 2), r"gives 2 features, but the model takes 4"),
        (
            lambda: [Dense(5), Dense(4, 3)],
            (None, 2),
            r"layers\[1\] \(Dense\) expects 4 input features, but the layer before it outputs 5",
        ),
    ],
)
def test_building_with_a_contradicting_width_is_refused_and_changes_nothing(make, shape, message):
    model = mt.Sequential(make(), seed=0)
    before = (_bits(model), model.built, model.input_width)
    with pytest.raises(ValueError, match=message):
        model.build(shape)
    assert (_bits(model), model.built, model.input_width) == before


def test_adding_a_contradicting_layer_is_refused_and_changes_nothing():
    model = mt.Sequential([Input((4,)), Dense(3)])
    with pytest.raises(ValueError, match=r"layers\[2\] \(Dense\) expects 5 input features"):
        model.add(Dense(5, 2))
    assert len(model.layers) == 2 and model.output_width == 3
    with pytest.raises(TypeError, match=r"layer must be a Layer, got 'relu' \(str\)"):
        model.add("relu")


def test_an_input_not_first_must_agree_with_the_width_reaching_it():
    with pytest.raises(ValueError, match=r"layers\[1\] \(Input\) expects 4 input features"):
        mt.Sequential([Dense(3, 5), Input((4,))])


# ------------------------------------------------------------- count_params, Keras


def _keras_twin(k):
    return k.Sequential(
        [
            k.Input((4,)),
            k.layers.Dense(8, activation="relu"),
            k.layers.BatchNormalization(),
            k.layers.Dropout(0.25),
            k.layers.Dense(6, use_bias=False),
            k.layers.BatchNormalization(),
            k.layers.Dense(3),
        ]
    )


def test_count_params_equals_keras_buffers_included():
    k = keras()
    ours = _by_input(0)
    theirs = _keras_twin(k)
    assert ours.count_params() == theirs.count_params() == 40 + 32 + 48 + 24 + 21


def test_get_weights_is_keras_order_so_keras_computes_the_same_outputs():
    k = keras()
    ours = _by_input(0)
    x = _x(16)
    ours(x, training=True)  # moves the running statistics away from 0 and 1
    theirs = _keras_twin(k)
    weights = ours.get_weights()
    assert [w.shape for w in weights] == [tuple(w.shape) for w in theirs.get_weights()]
    # BatchNorm's eps 1e-5 against Keras's 1e-3: match it for this comparison.
    ours.layers[5].eps = theirs.layers[4].epsilon
    theirs.set_weights(weights)
    expected = np.asarray(theirs(x, training=False).detach())
    # float32 rounding only (3.6e-7 measured): keras.ops.matmul on the torch backend
    # rounds even float64 products to float32 precision, so float64 cannot do better.
    np.testing.assert_allclose(ours(x, training=False), expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ get / set weights


def test_set_weights_round_trip_and_get_weights_copies():
    a, b = _by_input(1), _by_input(2)
    assert _bits(a) != _bits(b)
    b.set_weights(a.get_weights())
    assert _bits(a) == _bits(b)
    weights = a.get_weights()
    weights[0] += 1.0
    assert _bits(a) == _bits(b)  # get_weights gave copies
    b.set_weights(tuple(a.get_weights()))  # any sequence of arrays


def _edit(kind, weights):
    weights = list(weights)
    if kind == "one too few":
        weights.pop()
    elif kind == "one too many":
        weights.append(weights[-1])
    elif kind == "shape":
        weights[-1] = weights[-1][:2].copy()
    elif kind == "dtype":
        weights[-2] = weights[-2].astype(np.float64)
    elif kind == "not an array":
        weights[-1] = [0.0, 0.0, 0.0]
    return weights


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        (
            "one too few",
            ValueError,
            r"weights must hold 13 arrays, the model's get_weights\(\), got 12",
        ),
        ("one too many", ValueError, r"weights must hold 13 arrays, .*got 14"),
        (
            "shape",
            ValueError,
            r"weights\[12\] \(layers\[6\] Dense\) must have shape \(3,\) and dtype float32, "
            r"got shape \(2,\)",
        ),
        (
            "dtype",
            ValueError,
            r"weights\[11\] \(layers\[6\] Dense\) .* got shape \(6, 3\) and dtype float64",
        ),
        ("not an array", TypeError, r"weights\[12\] \(layers\[6\] Dense\) must be a NumPy array"),
    ],
)
def test_set_weights_refuses_a_mismatch_and_changes_nothing(kind, error, message):
    model = _by_input(0)
    before = _bits(model)
    other = [w + 1 for w in model.get_weights()]  # every entry differs: a partial write shows
    with pytest.raises(error, match=message):
        model.set_weights(_edit(kind, other))
    assert _bits(model) == before


def test_set_weights_refuses_a_non_list():
    model = _by_input(0)
    with pytest.raises(TypeError, match=r"weights must be a list of 13 arrays"):
        model.set_weights(np.zeros(3))


# -------------------------------------------------------------- the README model


def test_the_readme_model_trains():
    model = mt.Sequential([Input((784,)), Dense(64, activation="relu"), Dense(10)], seed=0)
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["acc"])
    assert type(model.optimizer) is mt.optimizers.RMSprop
    assert type(model.loss) is mt.SparseCategoricalCrossentropy and model.loss.from_logits
    assert [m.name for m in model.metrics] == ["acc"]
    assert model.count_params() == 784 * 64 + 64 + 64 * 10 + 10
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    first = model.train_step(x, y)
    assert list(first) == ["loss", "acc"]
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert list(history.history) == ["loss", "acc", "learning_rate"]
    assert history.history["loss"][-1] < first["loss"]


def test_adding_a_layer_after_training_asks_to_compile_again_and_changes_nothing():
    model = mt.Sequential([Input((4,)), Dense(3)], seed=0)
    model.compile("adam", "mse")
    model.train_step(_x(), np.ones((5, 3)))
    before = (_bits(model), model.optimizer.state_dict().keys())
    with pytest.raises(ValueError, match=r"use a new optimizer .*\(compile again after changing"):
        model.add(Dense(2))
    assert len(model.layers) == 2 and model.output_width == 3
    assert (_bits(model), model.optimizer.state_dict().keys()) == before


def test_layers_added_after_compile_to_an_unbuilt_model_get_optimizer_slots():
    model = mt.Sequential([Dense(3)], seed=0)
    model.compile("adam", "mse")
    model.add(Dense(2))
    model.build((None, 4))
    assert sorted(model.optimizer.state_dict()) == [
        "iterations",
        *(f"{s}/{k}" for s in ("m", "v") for k in ("0.W", "0.b", "1.W", "1.b")),
    ]
