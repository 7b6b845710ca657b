"""Tests for minitrain.model: Sequential, MLP, compile, train_step, evaluate, predict, summary."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitrain as mt
from minitrain.model import NotCompiledError

# ------------------------------------------------------------- test data


def _data(n: int = 12, width: int = 4, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, width))
    y = np.arange(n) % classes  # every class present
    return x, y


def _state(model: mt.Sequential) -> dict[str, np.ndarray]:
    """Params and buffers, copied here (not trusting ``state_dict`` to copy)."""
    return {k: np.array(v, copy=True) for k, v in model.state_dict().items()}


def _snapshot(model: mt.Sequential) -> dict[str, np.ndarray]:
    """Every param, buffer and optimizer slot, copied."""
    snap = {f"model/{k}": v for k, v in _state(model).items()}
    if model.optimizer is not None:
        snap.update(
            {f"opt/{k}": np.array(v, copy=True) for k, v in model.optimizer.state_dict().items()}
        )
    return snap


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _layer_types(model: mt.Sequential) -> list[type]:
    return [type(layer) for layer in model.layers]


# ------------------------------------------------------- Sequential errors


def test_sequential_rejects_a_non_layer_item():
    with pytest.raises(TypeError, match=r"layers\[1\] must be a Layer, got 'relu' \(str\)"):
        mt.Sequential([mt.Dense(3, 4), "relu"])


def test_sequential_rejects_a_single_layer_not_in_a_list():
    with pytest.raises(TypeError, match="layers must be a list of Layer"):
        mt.Sequential(mt.Dense(3, 4))


def test_an_empty_sequential_is_unbuilt_and_cannot_run():
    # Keras's Sequential() (layers come with add); round 1 refused the empty list.
    for model in (mt.Sequential([]), mt.Sequential()):
        assert model.layers == [] and not model.built
        with pytest.raises(ValueError, match=r"the model has no layers: add\(layer\) first"):
            model.forward(np.ones((2, 3)))


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            lambda: [mt.Dense(3, 4), mt.ReLU(), mt.Dense(5, 2)],
            r"layers\[2\] \(Dense\) expects 5 input features, but the layer before it outputs 4",
        ),
        (
            lambda: [mt.Dense(3, 4, use_bias=False), mt.BatchNorm(6), mt.ReLU()],
            r"layers\[1\] \(BatchNorm\) expects 6 input features, "
            r"but the layer before it outputs 4",
        ),
        (
            lambda: [mt.BatchNorm(3), mt.Tanh(), mt.Dense(4, 2)],
            r"layers\[2\] \(Dense\) expects 4 input features, but the layer before it outputs 3",
        ),
    ],
)
def test_sequential_rejects_mismatched_widths(layers, message):
    with pytest.raises(ValueError, match=message):
        mt.Sequential(layers())


def test_sequential_rejects_mixed_parameter_dtypes():
    layers = [mt.Dense(3, 4, dtype=np.float32), mt.ReLU(), mt.Dense(4, 2, dtype=np.float64)]
    with pytest.raises(
        ValueError, match=r"layers must share one parameter dtype, got \['float32', 'float64'\]"
    ):
        mt.Sequential(layers)


def test_sequential_records_widths_and_dtype():
    model = mt.Sequential(
        [mt.Dense(3, 5, dtype=np.float64), mt.ReLU(), mt.Dense(5, 2, dtype=np.float64)]
    )
    assert (model.input_width, model.output_width) == (3, 2)
    assert model.dtype == np.float64


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


@pytest.mark.parametrize("training", [True, False])
def test_sequential_backward_returns_the_input_gradient(training):
    model = mt.MLP([4, 6, 5, 3], batchnorm=True, activation="tanh", seed=1, dtype=np.float64)
    model.train() if training else model.eval()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4))
    r = rng.standard_normal((5, 3))
    stats = {k: v for k, v in model.state_dict().items() if "running" in k}

    def f(inp: np.ndarray) -> float:
        model.load_state_dict({**model.state_dict(), **stats})  # same buffers every time
        return float(np.sum(model.forward(inp) * r))

    f(x)
    x_before = x.copy()
    grad_x = model.backward(r)
    np.testing.assert_array_equal(x, x_before)  # the input is never modified
    assert grad_x.shape == x.shape and grad_x.dtype == np.float64
    eps = 1e-6
    numeric = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        numeric[idx] = (f(xp) - f(xm)) / (2 * eps)
    assert np.max(np.abs(grad_x - numeric)) / np.max(np.abs(grad_x) + np.abs(numeric)) < 1e-8


def test_forward_checks_and_casts_its_input():
    model = mt.MLP([4, 5, 3], seed=0)
    assert model(np.ones((2, 4), dtype=np.int64)).dtype == np.float32
    with pytest.raises(ValueError, match=r"x must have 4 features \(columns\), got shape \(2, 5\)"):
        model.forward(np.ones((2, 5)))


# -------------------------------------------------------------------- modes


def test_train_and_eval_return_self_and_switch_every_layer():
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.5, output="softmax", seed=0)
    assert all(layer.training for layer in model.layers)  # layers start in training mode
    model.layers[1].training = False
    assert model.eval() is model
    assert [layer.training for layer in model.layers] == [False] * 6
    model.layers[2].training = True
    assert model.train() is model
    assert [layer.training for layer in model.layers] == [True] * 6


# -------------------------------------------------------------------- state


def test_state_dict_keys_in_layer_order():
    model = mt.MLP([3, 4, 2], batchnorm=True, seed=0)
    # layers: 0 Dense(no bias), 1 BatchNorm, 2 ReLU, 3 Dense
    assert list(model.state_dict()) == [
        "0.W",
        "1.gamma",
        "1.beta",
        "1.running_mean",
        "1.running_var",
        "3.W",
        "3.b",
    ]
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {
        "0.W": (3, 4),
        "1.gamma": (4,),
        "1.beta": (4,),
        "1.running_mean": (4,),
        "1.running_var": (4,),
        "3.W": (4, 2),
        "3.b": (2,),
    }


def test_named_parameters_are_the_live_arrays():
    model = mt.MLP([3, 4, 2], batchnorm=True, seed=0)
    named = model.named_parameters()  # (name, array) pairs, as PyTorch
    assert [k for k, _ in named] == ["0.W", "1.gamma", "1.beta", "3.W", "3.b"]
    for (key, p), (slot_key, slot_p, g) in zip(named, model._param_slots(), strict=True):
        i, name = key.split(".")
        assert p is model.layers[int(i)].params[name]
        assert slot_key == key and slot_p is p and g is model.layers[int(i)].grads[name]


def test_state_dict_returns_copies():
    model = mt.MLP([3, 4, 2], batchnorm=True, seed=0)
    before = _state(model)
    state = model.state_dict()
    live = model._state_arrays()
    for key, value in state.items():
        assert not np.shares_memory(value, live[key]), key
        value += 1.0
    _assert_same(model.state_dict(), before)


def test_load_state_dict_copies_in():
    source = mt.MLP([3, 4, 2], batchnorm=True, seed=1)
    target = mt.MLP([3, 4, 2], batchnorm=True, seed=2)
    state = source.state_dict()
    state["1.running_mean"][:] = [0.5, -0.5, 0.25, 2.0]
    target.load_state_dict(state)
    _assert_same(target.state_dict(), state)
    state["0.W"][:] = 0.0  # the model holds its own arrays
    assert not np.array_equal(target.state_dict()["0.W"], state["0.W"])


def _broken(kind: str, state: dict[str, np.ndarray]):
    state = dict(state)
    if kind == "missing":
        del state["1.running_var"]
    elif kind == "unexpected":
        state["1.num_batches_tracked"] = np.zeros((), dtype=np.int64)
    elif kind == "renamed":
        state["0.w"] = state.pop("0.W")
    elif kind == "shape":
        state["3.W"] = state["3.W"].T.copy()
    elif kind == "dtype":
        state["3.b"] = state["3.b"].astype(np.float64)
    elif kind == "not an array":
        state["3.b"] = [0.0, 0.0]
    return state


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("missing", ValueError, r"missing keys \['1.running_var'\], unexpected keys \[\]"),
        (
            "unexpected",
            ValueError,
            r"missing keys \[\], unexpected keys \['1.num_batches_tracked'\]",
        ),
        ("renamed", ValueError, r"missing keys \['0.W'\], unexpected keys \['0.w'\]"),
        ("shape", ValueError, r"state\['3.W'\] must have shape \(4, 2\), got shape \(2, 4\)"),
        ("dtype", ValueError, r"state\['3.b'\] must have dtype float32, got float64"),
        ("not an array", TypeError, r"state\['3.b'\] must be an array, got list"),
    ],
)
def test_load_state_dict_rejects_a_mismatch_and_changes_nothing(kind, error, message):
    model = mt.MLP([3, 4, 2], batchnorm=True, seed=0)
    before = _state(model)
    # Every other entry differs, so a partial load would show.
    other = {k: v + 1.0 for k, v in before.items()}
    with pytest.raises(error, match=message):
        model.load_state_dict(_broken(kind, other))
    _assert_same(model.state_dict(), before)


def test_load_state_dict_rejects_a_non_dict():
    model = mt.MLP([3, 2], seed=0)
    with pytest.raises(TypeError, match="state must be a dict of arrays, got list"):
        model.load_state_dict([np.zeros((3, 2)), np.zeros(2)])


# ------------------------------------------------------------------ compile


@pytest.mark.parametrize(
    ("output", "loss", "cls", "from_logits"),
    [
        ("logits", "sparse_categorical_crossentropy", mt.SparseCategoricalCrossentropy, True),
        ("softmax", "sparse_categorical_crossentropy", mt.SparseCategoricalCrossentropy, False),
        ("logits", "categorical_crossentropy", mt.CategoricalCrossentropy, True),
        ("softmax", "categorical_crossentropy", mt.CategoricalCrossentropy, False),
        ("logits", "mse", mt.MeanSquaredError, False),
        ("softmax", "mean_squared_error", mt.MeanSquaredError, False),
    ],
)
def test_compile_by_name_matches_from_logits_to_the_output(output, loss, cls, from_logits):
    model = mt.MLP([4, 5, 3], output=output, seed=0)
    model.compile("adam", loss)
    assert type(model.loss) is cls
    assert model.loss.from_logits is from_logits


@pytest.mark.parametrize(
    ("output", "loss", "message"),
    [
        (
            "softmax",
            mt.SparseCategoricalCrossentropy(from_logits=True),
            r"SparseCategoricalCrossentropy\(from_logits=True\) expects logits, but the model "
            r"ends in Softmax.*use from_logits=False, or remove the Softmax layer",
        ),
        (
            "softmax",
            mt.CategoricalCrossentropy(from_logits=True),
            r"CategoricalCrossentropy\(from_logits=True\).*use from_logits=False",
        ),
        (
            "logits",
            mt.SparseCategoricalCrossentropy(),
            r"SparseCategoricalCrossentropy\(from_logits=False\) expects probabilities.*"
            r"use from_logits=True, or add a Softmax layer",
        ),
        (
            "logits",
            mt.CategoricalCrossentropy(from_logits=False),
            r"CategoricalCrossentropy\(from_logits=False\).*use from_logits=True",
        ),
    ],
)
def test_compile_rejects_a_loss_object_contradicting_the_output(output, loss, message):
    model = mt.MLP([4, 5, 3], output=output, seed=0)
    with pytest.raises(ValueError, match=message):
        model.compile("sgd", loss)
    assert model.optimizer is None and model.loss is None


@pytest.mark.parametrize("output", ["logits", "softmax"])
def test_compile_keeps_a_consistent_loss_object(output):
    model = mt.MLP([4, 5, 3], output=output, seed=0)
    loss = mt.CategoricalCrossentropy(from_logits=output == "logits", label_smoothing=0.1)
    model.compile("sgd", loss)
    assert model.loss is loss


def test_compile_rejects_unknown_names_listing_the_valid_ones():
    model = mt.MLP([4, 5, 3], seed=0)
    with pytest.raises(
        ValueError, match=r"optimizer must be one of 'sgd', .*'rmsprop'.*, got 'lamb'"
    ):
        model.compile("lamb", "mse")
    with pytest.raises(
        ValueError,
        match=r"loss must be one of 'categorical_crossentropy', "
        r"'sparse_categorical_crossentropy', .*'binary_crossentropy'.*'huber'.*, got 'hinge'",
    ):
        model.compile("sgd", "hinge")
    with pytest.raises(
        ValueError,
        match=r"metric must be one of 'accuracy', 'acc', .*'binary_accuracy'.*, got 'f1'",
    ):
        model.compile("sgd", "mse", metrics=["accuracy", "f1"])
    assert model.optimizer is None and model.loss is None and model.metrics == []


def test_a_failed_compile_keeps_the_previous_setup():
    model = mt.MLP([4, 5, 3], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    opt, loss, metrics = model.optimizer, model.loss, model.metrics
    with pytest.raises(ValueError, match="metric must be one of"):
        model.compile("sgd", "mse", metrics=["f1"])
    assert model.optimizer is opt and model.loss is loss and model.metrics is metrics


def test_compile_sgd_by_name_has_the_api_defaults():
    model = mt.MLP([4, 5, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    opt = model.optimizer
    assert type(opt) is mt.SGD
    assert (opt.learning_rate, opt.momentum, opt.nesterov, opt.weight_decay) == (
        0.01,
        0.0,
        False,
        0.0,
    )
    assert opt.iterations == 0


def test_compile_adam_by_name_has_the_api_defaults():
    model = mt.MLP([4, 5, 3], seed=0)
    model.compile("adam", "mse")
    opt = model.optimizer
    assert type(opt) is mt.Adam
    assert (opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon, opt.weight_decay) == (
        0.001,
        0.9,
        0.999,
        1e-8,
        0.0,
    )


@pytest.mark.parametrize(
    ("loss", "names", "classes"),
    [
        # Keras 3: "accuracy" picks its kind from the shapes of the first batch.
        ("sparse_categorical_crossentropy", ["accuracy"], ["Accuracy"]),
        ("categorical_crossentropy", ["acc"], ["Accuracy"]),
        (
            "categorical_crossentropy",
            ["accuracy", "categorical_accuracy"],
            ["Accuracy", "CategoricalAccuracy"],
        ),
    ],
)
def test_compile_resolves_metrics(loss, names, classes):
    model = mt.MLP([4, 5, 3], seed=0)
    model.compile("sgd", loss, metrics=names)
    assert [type(m).__name__ for m in model.metrics] == classes
    assert [m.name for m in model.metrics] == names  # logged as given
    assert model.weighted_metrics == []


# --------------------------------------------------------------- train_step


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: mt.SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda: mt.Adam(learning_rate=0.01, weight_decay=1e-3),
        lambda: mt.AdamW(learning_rate=0.01),
    ],
)
@pytest.mark.parametrize(
    ("loss", "make_y"),
    [
        ("sparse_categorical_crossentropy", lambda y: y),
        ("categorical_crossentropy", lambda y: np.eye(3)[y]),  # float64 one-hot
        ("mse", lambda y: np.eye(3)[y]),
    ],
)
def test_train_step_stays_float32_everywhere(optimizer, loss, make_y):
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.2, activation="leaky_relu", seed=0)
    model.compile(optimizer(), loss, metrics=["accuracy"])
    x, y = _data(10)  # float64 data, cast once to float32
    for _ in range(2):
        logs = model.train_step(x, make_y(y))
    assert list(logs) == ["loss", "accuracy"]
    assert all(type(v) is float for v in logs.values())
    assert math.isfinite(logs["loss"]) and 0.0 <= logs["accuracy"] <= 1.0
    for layer in model.layers:
        for store in (layer.params, layer.grads, layer.buffers):
            for k, v in store.items():
                assert v.dtype == np.float32, (layer, k)
        for cached in layer._saved or ():
            if isinstance(cached, np.ndarray) and cached.dtype.kind != "b":
                assert cached.dtype == np.float32, layer
    for k, v in model.optimizer.state_dict().items():
        assert v.dtype == (np.int64 if k == "iterations" else np.float32), k
    assert model.optimizer.iterations == 2
    assert model.forward(x).dtype == np.float32
    assert model.predict(x).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("loss", "y"),
    [
        ("sparse_categorical_crossentropy", np.array([1, 0])),
        ("categorical_crossentropy", np.array([[0.0, 1.0], [1.0, 0.0]])),
    ],
)
def test_train_step_by_hand(dtype, loss, y):
    """One SGD step of a Dense(2, 2) on two samples, every number worked out below."""
    dense = mt.Dense(2, 2, dtype=dtype)
    ln3 = math.log(3.0)
    dense.params["W"][:] = [[ln3, 0.0], [0.0, 0.0]]
    dense.params["b"][:] = [0.0, 0.0]
    model = mt.Sequential([dense])
    model.compile(mt.SGD(learning_rate=0.1), loss, metrics=["accuracy"])
    assert model.loss.from_logits  # no Softmax at the end: logits
    x = np.array([[1.0, 0.0], [0.0, 2.0]])
    # logits z = x @ W + b:  row 0: [ln 3, 0]  -> softmax [3/4, 1/4], label 1
    #                        row 1: [0, 0]     -> softmax [1/2, 1/2], label 0
    # loss = (-ln(1/4) - ln(1/2)) / 2 = (ln 4 + ln 2) / 2 = 1.5 ln 2
    # dL/dz = (softmax - onehot) / N: row 0 [3/4, 1/4 - 1] / 2 = [3/8, -3/8]
    #                                 row 1 [1/2 - 1, 1/2] / 2 = [-1/4, 1/4]
    # dL/dW = x.T @ dL/dz = [[1 * 3/8, 1 * -3/8], [2 * -1/4, 2 * 1/4]] = [[3/8, -3/8], [-1/2, 1/2]]
    # dL/db = sum of rows = [3/8 - 1/4, -3/8 + 1/4] = [1/8, -1/8]
    # W <- W - 0.1 dL/dW = [[ln 3 - 0.0375, 0.0375], [0.05, -0.05]]
    # b <- b - 0.1 dL/db = [-0.0125, 0.0125]
    # accuracy: row 0 argmax 0 != 1, row 1 argmax 0 (a tie goes to the first) == 0 -> 1/2
    logs = model.train_step(x, y)
    tol = 1e-6 if dtype == np.float32 else 1e-15
    assert logs["loss"] == pytest.approx(1.5 * math.log(2.0), rel=tol)
    assert logs["accuracy"] == 0.5
    np.testing.assert_allclose(dense.grads["W"], [[0.375, -0.375], [-0.5, 0.5]], rtol=tol)
    np.testing.assert_allclose(dense.grads["b"], [0.125, -0.125], rtol=tol)
    np.testing.assert_allclose(
        dense.params["W"], [[ln3 - 0.0375, 0.0375], [0.05, -0.05]], rtol=tol, atol=tol
    )
    np.testing.assert_allclose(dense.params["b"], [-0.0125, 0.0125], rtol=tol)
    assert dense.params["W"].dtype == dtype
    assert model.optimizer.iterations == 1


def test_train_step_loss_is_the_pre_update_training_mode_loss():
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0, dtype=np.float64)
    model.compile(mt.SGD(learning_rate=0.5), "sparse_categorical_crossentropy")
    x, y = _data(10)
    twin = mt.MLP([4, 8, 3], batchnorm=True, seed=0, dtype=np.float64)
    expected = mt.SparseCategoricalCrossentropy(from_logits=True)(y, twin.forward(x))
    logs = model.train_step(x, y)
    assert logs == {"loss": pytest.approx(expected, rel=1e-15, abs=0.0)}
    assert model.train_step(x, y)["loss"] < expected  # and it learns


def test_train_step_does_not_modify_its_inputs():
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0)
    model.compile("sgd", "categorical_crossentropy")
    x, y = _data(10)
    x32 = x.astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[y]
    x_copy, y_copy = x32.copy(), onehot.copy()
    model.train_step(x32, onehot)
    np.testing.assert_array_equal(x32, x_copy)
    np.testing.assert_array_equal(onehot, y_copy)


# ------------------------------------------------------------------ predict


def test_predict_equals_forward_in_eval_mode():
    model = mt.MLP([6, 16, 8, 4], batchnorm=True, dropout=0.5, seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data(20, width=6, classes=4)
    model.train_step(x, y)  # non-trivial running statistics
    p = model.predict(x, batch_size=64)
    model.eval()
    np.testing.assert_array_equal(p, model.forward(x))


def test_predict_in_batches_equals_one_batch():
    model = mt.MLP([6, 16, 8, 4], batchnorm=True, seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data(50, width=6, classes=4)
    model.train_step(x, y)
    batched = model.predict(x, batch_size=7)
    whole = model.predict(x, batch_size=50)
    assert batched.shape == (50, 4)
    # BLAS may round a row differently inside a bigger product: float32 rounding only.
    np.testing.assert_allclose(batched, whole, rtol=1e-5, atol=1e-6)
    # Against the same batches run by hand the result is exact: rows land in place.
    model.eval()
    by_hand = np.concatenate([model.forward(x[i : i + 7]) for i in range(0, 50, 7)])
    np.testing.assert_array_equal(batched, by_hand)


def test_predict_restores_each_layers_mode():
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.5, seed=0)
    modes = [True, False, True, False, True]  # Dense, BatchNorm, ReLU, Dropout, Dense
    for layer, mode in zip(model.layers, modes, strict=True):
        layer.training = mode
    model.predict(np.ones((5, 4)))
    assert [layer.training for layer in model.layers] == modes
    model.train()
    model.predict(np.ones((5, 4)))
    assert all(layer.training for layer in model.layers)


def test_predict_leaves_running_statistics_and_no_caches():
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.5, seed=0)
    x, _ = _data(10)
    model.forward(x)  # a training forward: caches everywhere, running stats moved
    assert all(layer._saved is not None for layer in model.layers)
    before = _state(model)
    p = model.predict(x, batch_size=3)
    assert p.dtype == np.float32 and p.shape == (10, 3)
    _assert_same(model.state_dict(), before)
    assert all(layer._saved is None for layer in model.layers)
    with pytest.raises(RuntimeError, match="no_grad"):
        model.backward(np.ones((10, 3), dtype=np.float32))


def test_predict_works_before_compile_and_on_one_sample():
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0)
    p = model.predict(np.ones((1, 4)))  # eval mode: one sample is fine for BatchNorm
    assert p.shape == (1, 3)


# ----------------------------------------------------------------- evaluate


@pytest.mark.parametrize(("dtype", "tol"), [(np.float32, 1e-6), (np.float64, 1e-12)])
def test_evaluate_equals_the_loss_over_the_whole_set_in_eval_mode(dtype, tol):
    model = mt.MLP([6, 16, 4], batchnorm=True, dropout=0.3, seed=0, dtype=dtype)
    x, y = _data(50, width=6, classes=4)
    model.compile(mt.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    model.train_step(x, y)
    model.train_step(x, y)
    before = _state(model)
    loss = model.evaluate(x, y, batch_size=7)
    assert type(loss) is float
    _assert_same(model.state_dict(), before)  # no running statistic moved
    assert all(layer.training for layer in model.layers)  # mode restored
    model.eval()
    expected = mt.SparseCategoricalCrossentropy(from_logits=True)(y, model.forward(x))
    assert loss == pytest.approx(expected, rel=tol, abs=0.0)


def test_evaluate_returns_loss_and_metrics():
    model = mt.MLP([6, 16, 4], seed=0)
    x, y = _data(50, width=6, classes=4)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    values = model.evaluate(x, y, batch_size=7)
    logs = model.evaluate(x, y, batch_size=7, return_dict=True)
    assert isinstance(values, list) and len(values) == 2
    assert list(logs) == ["loss", "accuracy"]
    assert values == [logs["loss"], logs["accuracy"]]
    model.eval()
    out = model.forward(x)
    assert logs["accuracy"] == float(np.mean(out.argmax(axis=1) == y))
    assert logs["loss"] == pytest.approx(
        mt.SparseCategoricalCrossentropy(from_logits=True)(y, out), rel=1e-6
    )


def test_evaluate_with_return_dict_and_no_metric():
    model = mt.MLP([6, 4], seed=0)
    x, y = _data(9, width=6, classes=4)
    model.compile("sgd", "sparse_categorical_crossentropy")
    logs = model.evaluate(x, y, return_dict=True)
    assert list(logs) == ["loss"]
    assert logs["loss"] == model.evaluate(x, y)


# ------------------------------------------------------------------ summary


def test_summary_prints_widths_and_parameter_counts():
    model = mt.MLP([3, 4, 2], batchnorm=True, seed=0)
    printed: list[str] = []
    model.summary(print_fn=printed.append)
    assert len(printed) == 1
    lines = printed[0].splitlines()
    rows = [line.rsplit(None, 2) for line in lines if line[:1].isdigit()]
    assert [(r[0].split("(")[0], r[1], r[2]) for r in rows] == [
        ("0: Dense", "4", "12"),  # W 3x4, no bias
        ("1: BatchNorm", "4", "8"),  # gamma, beta
        ("2: ReLU", "4", "0"),
        ("3: Dense", "2", "10"),  # W 4x2 + b 2
    ]
    assert lines[1].split() == ["Layer", "Output", "width", "Params"]
    assert "Trainable params: 30" in lines
    assert "Non-trainable (buffers): 8" in lines


def test_summary_uses_thousands_separators():
    model = mt.MLP([100, 50, 10], seed=0)
    printed: list[str] = []
    model.summary(print_fn=printed.append)
    assert "Trainable params: 5,560" in printed[0].splitlines()  # 100*50 + 50 + 50*10 + 10


# -------------------------------------------------------------- bad input

GOOD_X, GOOD_Y = _data(6, width=4, classes=3)


def _with_nan(row: int, value: float = np.nan) -> np.ndarray:
    x = GOOD_X.copy()
    x[row, 1] = value
    return x


def _scalar(value: str) -> str:
    """The value as printed, bare or as a NumPy scalar's repr (``np.int64(3)``)."""
    return rf"(np\.\w+\()?{value}\b"


BAD_XY = {
    "x 1-D": (np.zeros(4), GOOD_Y, r"x must be 2-D of shape \(N, features\), got shape \(4,\)"),
    "x 3-D": (
        np.zeros((6, 4, 1)),
        GOOD_Y,
        r"x must be 2-D of shape \(N, features\), got shape \(6, 4, 1\)",
    ),
    "x width": (
        np.zeros((6, 5)),
        GOOD_Y,
        r"x must have 4 features \(columns\), got shape \(6, 5\)",
    ),
    "x empty": (
        np.zeros((0, 4)),
        GOOD_Y[:0],
        r"x must hold at least one sample, got shape \(0, 4\)",
    ),
    "x NaN": (_with_nan(2), GOOD_Y, r"x must be finite, got NaN or inf in row 2"),
    "x inf": (_with_nan(4, -np.inf), GOOD_Y, r"x must be finite, got NaN or inf in row 4"),
    "len(y)": (
        GOOD_X,
        GOOD_Y[:5],
        r"x and y must hold the same number of samples, got 6 and 5",
    ),
    "label too big": (
        GOOD_X,
        np.array([0, 1, 2, 3, 0, 1]),
        r"y must be labels in \[0, 3\), got " + _scalar("3"),
    ),
    "label negative": (
        GOOD_X,
        np.array([0, -1, 2, 0, 0, 1], dtype=np.int8),
        r"y must be labels in \[0, 3\), got " + _scalar("-1"),
    ),
    "label non-integral": (
        GOOD_X,
        np.array([0.0, 1.0, 1.5, 0.0, 2.0, 1.0]),
        r"y must be integer labels, got the non-integral value " + _scalar(r"1\.5"),
    ),
    "label NaN": (
        GOOD_X,
        np.array([0.0, 1.0, np.nan, 0.0, 2.0, 1.0]),
        r"y must be finite integer labels, got NaN or inf",
    ),
    "one-hot given to sparse": (
        GOOD_X,
        np.eye(3)[GOOD_Y],
        r"y must be integer labels of shape \(N,\) or \(N, 1\), got shape \(6, 3\)",
    ),
}

BAD_ONEHOT = {
    "one-hot width": (
        GOOD_X,
        np.eye(4)[GOOD_Y],
        r"y must be one-hot or probability targets of shape \(N, 3\), got shape \(6, 4\)",
    ),
    "labels given to categorical": (
        GOOD_X,
        GOOD_Y,
        r"y must be one-hot or probability targets of shape \(N, 3\), got shape \(6,\); "
        r"integer class labels go with SparseCategoricalCrossentropy",
    ),
    "one-hot NaN": (
        GOOD_X,
        np.where(np.arange(6)[:, None] == 3, np.nan, np.eye(3)[GOOD_Y]),
        r"y must be finite, got NaN or inf in row 3",
    ),
    "one-hot len": (
        GOOD_X,
        np.eye(3)[GOOD_Y][:4],
        r"x and y must hold the same number of samples, got 6 and 4",
    ),
}

ENTRY_POINTS = {
    "fit": lambda m, x, y: m.fit(x, y, batch_size=4, verbose=0),
    "evaluate": lambda m, x, y: m.evaluate(x, y, batch_size=4),
    "train_step": lambda m, x, y: m.train_step(x, y),
}


def _trained(loss: str) -> mt.Sequential:
    """A model with non-zero optimizer slots and moved running statistics, in training mode."""
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.25, seed=0)
    model.compile(mt.Adam(learning_rate=0.01), loss, metrics=["accuracy"])
    y = GOOD_Y if loss.startswith("sparse") else np.eye(3)[GOOD_Y]
    model.train_step(GOOD_X, y)
    model.train_step(GOOD_X, y)
    return model


def _assert_refused(model, call, x, y, message) -> None:
    before = _snapshot(model)
    modes = [layer.training for layer in model.layers]
    with pytest.raises(ValueError, match=message):
        call(model, x, y)
    _assert_same(_snapshot(model), before)
    assert model.optimizer.iterations == 2
    assert [layer.training for layer in model.layers] == modes


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_XY)
def test_bad_data_is_refused_and_changes_nothing(entry, case):
    x, y, message = BAD_XY[case]
    _assert_refused(_trained("sparse_categorical_crossentropy"), ENTRY_POINTS[entry], x, y, message)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_ONEHOT)
def test_bad_one_hot_targets_are_refused_and_change_nothing(entry, case):
    x, y, message = BAD_ONEHOT[case]
    _assert_refused(_trained("categorical_crossentropy"), ENTRY_POINTS[entry], x, y, message)


@pytest.mark.parametrize("case", ["x 1-D", "x 3-D", "x width", "x empty"])
def test_predict_refuses_bad_x_and_changes_nothing(case):
    x, _, message = BAD_XY[case]
    model = _trained("sparse_categorical_crossentropy")
    before = _snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.predict(x)
    _assert_same(_snapshot(model), before)
    assert all(layer.training for layer in model.layers)


@pytest.mark.parametrize(
    ("entry", "kwargs", "error", "message"),
    [
        ("evaluate", {"batch_size": 0}, ValueError, "batch_size must be a positive int, got 0"),
        ("predict", {"batch_size": 2.5}, TypeError, "batch_size must be a positive int"),
        ("evaluate", {"verbose": 3}, ValueError, "verbose must be 0, 1, 2 or 'auto', got 3"),
        ("predict", {"verbose": "loud"}, ValueError, "verbose must be 0, 1, 2 or 'auto'"),
    ],
)
def test_bad_keyword_arguments(entry, kwargs, error, message):
    model = _trained("sparse_categorical_crossentropy")
    before = _snapshot(model)
    with pytest.raises(error, match=message):
        if entry == "predict":
            model.predict(GOOD_X, **kwargs)
        else:
            model.evaluate(GOOD_X, GOOD_Y, **kwargs)
    _assert_same(_snapshot(model), before)


def test_y_must_be_an_array():
    model = _trained("sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match=r"y must be a NumPy array, got \[0, 1"):
        model.train_step(GOOD_X, [0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_training_entry_points_need_compile(entry):
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0)
    before = _state(model)
    with pytest.raises(NotCompiledError, match=r"call compile\(optimizer, loss\) before") as info:
        ENTRY_POINTS[entry](model, GOOD_X, GOOD_Y)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    assert entry in str(info.value)
    _assert_same(model.state_dict(), before)


def test_not_compiled_error_is_a_value_and_runtime_error():
    assert issubclass(NotCompiledError, ValueError)
    assert issubclass(NotCompiledError, RuntimeError)
