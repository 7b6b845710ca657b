"""Sequential: construction errors, widths, forward and backward, modes, state, summary."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from signatures import signature

import minitrain as mt
from tests.model.helpers import _assert_same, _state

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


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("__init__", "layers=None, *, seed=None"),
        ("compile", "optimizer='rmsprop', loss=None, metrics=None, weighted_metrics=None"),
        ("forward", "x, training=None"),
        ("__call__", "x, training=None"),
        ("backward", "grad"),
        ("train", "mode=True"),
        ("eval", ""),
        ("build", "input_shape"),
        ("add", "layer"),
        ("count_params", ""),
        ("state_dict", ""),
        ("load_state_dict", "state"),
        ("get_weights", ""),
        ("set_weights", "weights"),
        ("save", "path"),
        ("save_weights", "path"),
        ("load_weights", "path"),
    ],
)
def test_sequential_signatures_are_the_contract(method, expected):
    assert signature(getattr(mt.Sequential, method)) == expected


def test_summary_takes_no_required_argument():
    assert all(
        p.default is not p.empty
        for name, p in inspect.signature(mt.Sequential.summary).parameters.items()
        if name != "self"
    )
