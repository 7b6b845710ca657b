"""Optimizer state: dtypes, the counter, slots keyed like state_dict, save and resume."""

from __future__ import annotations

import numpy as np
import pytest

from minitrain.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

from .fakes import TinyModel, grad_sequence, make_arrays

ALL_OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "sgd_nesterov_weight_decay": lambda: SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam_weight_decay": lambda: Adam(0.01, weight_decay=0.1),
    "adamw": lambda: AdamW(0.01),
    "rmsprop_centered_momentum_weight_decay": lambda: RMSprop(
        0.01, momentum=0.9, centered=True, weight_decay=0.1
    ),
    "adagrad_initial_weight_decay": lambda: Adagrad(
        0.05, initial_accumulator_value=0.1, weight_decay=0.1
    ),
    "adam_clipnorm": lambda: Adam(0.01, clipnorm=0.5),
    "sgd_momentum_clipvalue": lambda: SGD(0.05, momentum=0.9, clipvalue=0.3),
    "rmsprop_global_clipnorm": lambda: RMSprop(0.01, global_clipnorm=1.0),
}


@pytest.mark.parametrize("case", sorted(ALL_OPTIMIZERS))
def test_float32_params_keep_float32_params_and_state(case: str) -> None:
    opt = ALL_OPTIMIZERS[case]()
    arrays32 = make_arrays(dtype=np.float32)
    model32 = TinyModel(arrays32)
    model64 = TinyModel({k: v.astype(np.float64) for k, v in arrays32.items()})
    opt64 = ALL_OPTIMIZERS[case]()
    for grads in grad_sequence(arrays32, 3):
        model32.set_grads(grads)
        model64.set_grads(grads)
        opt.step(model32)
        opt64.step(model64)
    for key, p, g in model32._param_slots():
        assert p.dtype == np.float32 and g.dtype == np.float32
        # Same numbers as in float64, to float32 precision: the float32 path is the same rule.
        np.testing.assert_allclose(p, model64.params[key], rtol=2e-5, atol=1e-6)
    state = opt.state_dict()
    assert all(v.dtype == np.float32 for k, v in state.items() if k != "iterations")
    assert state["iterations"].dtype == np.int64 and state["iterations"].shape == ()
    assert type(opt.iterations) is int and opt.iterations == 3
    assert type(opt._last_lr) is float


def test_last_lr_records_the_rate_each_update_used() -> None:
    opt = SGD(0.1)
    assert opt._last_lr is None
    model = TinyModel({"0.w": np.array([0.0])})
    model.set_grads({"0.w": np.array([1.0])})
    opt.step(model)
    assert opt._last_lr == 0.1
    opt.learning_rate = 0.25
    assert opt._last_lr == 0.1  # setting the rate is not an update
    opt.step(model)
    assert opt._last_lr == 0.25
    # p = 0 - 0.1 - 0.25
    np.testing.assert_array_equal(model.params["0.w"], [-0.35])


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1),
        lambda: SGD(0.1, momentum=0.9),
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        lambda: Adam(0.1),
        lambda: Adam(0.1, beta_1=0.0, beta_2=0.0),
        lambda: AdamW(0.1, weight_decay=0.0),
        lambda: RMSprop(0.1, momentum=0.9, centered=True),
        lambda: Adagrad(0.1, initial_accumulator_value=0.1),
        lambda: SGD(0.1, momentum=0.9, clipnorm=1.0),
        lambda: Adam(0.1, global_clipnorm=1.0),
    ],
)
def test_zero_gradient_leaves_params_bit_identical_without_weight_decay(make) -> None:
    opt = make()
    arrays = make_arrays()
    model = TinyModel(arrays)
    for _ in range(5):
        opt.step(model)
    for key, p, _ in model._param_slots():
        np.testing.assert_array_equal(p, arrays[key])
    assert opt.iterations == 5


@pytest.mark.parametrize("case", sorted(ALL_OPTIMIZERS))
def test_step_never_writes_the_gradients(case: str) -> None:
    opt = ALL_OPTIMIZERS[case]()
    model = TinyModel(make_arrays())
    grads = grad_sequence(make_arrays(), 1)[0]
    model.set_grads(grads)
    opt.step(model)
    opt.step(model)
    for key, _, g in model._param_slots():
        np.testing.assert_array_equal(g, grads[key])


# -- state_dict --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "slots"),
    [
        (lambda: SGD(0.1), []),
        (lambda: SGD(0.1, momentum=0.5), ["momentum"]),
        (lambda: Adam(), ["m", "v"]),
        (lambda: AdamW(), ["m", "v"]),
        (lambda: RMSprop(), ["square_avg"]),
        (
            lambda: RMSprop(momentum=0.5, centered=True),
            ["square_avg", "momentum_buffer", "grad_avg"],
        ),
        (lambda: Adagrad(), ["sum"]),
    ],
)
def test_state_dict_keys_are_slot_slash_param_key(make, slots: list[str]) -> None:
    opt = make()
    assert set(opt.state_dict()) == {"iterations"}  # nothing built yet
    opt.build(TinyModel(make_arrays()))
    expected = {"iterations"} | {f"{s}/{k}" for s in slots for k in ("0.W", "0.b", "2.W")}
    assert set(opt.state_dict()) == expected
    for key, value in opt.state_dict().items():
        if key != "iterations":
            np.testing.assert_array_equal(value, np.zeros_like(make_arrays()[key.split("/")[1]]))


@pytest.mark.parametrize("case", sorted(ALL_OPTIMIZERS))
def test_state_dict_round_trip_resumes_bit_identically(case: str) -> None:
    grads = grad_sequence(make_arrays(), 6)
    straight = TinyModel(make_arrays())
    opt = ALL_OPTIMIZERS[case]()
    for g in grads[:3]:
        straight.set_grads(g)
        opt.step(straight)
    saved_state = opt.state_dict()
    resumed = TinyModel({k: p for k, p, _ in straight._param_slots()})
    opt2 = ALL_OPTIMIZERS[case]()
    opt2.build(resumed)
    opt2.load_state_dict(saved_state)
    assert opt2.iterations == 3 and type(opt2.iterations) is int
    for g in grads[3:]:
        for model, o in ((straight, opt), (resumed, opt2)):
            model.set_grads(g)
            o.step(model)
    for key, p, _ in straight._param_slots():
        np.testing.assert_array_equal(resumed.params[key], p)
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(opt2.state_dict()[key], value)


def test_state_dict_returns_copies_and_load_copies_in() -> None:
    opt = Adam()
    model = TinyModel(make_arrays())
    model.set_grads(grad_sequence(make_arrays(), 1)[0])
    opt.step(model)
    state = opt.state_dict()
    state["m/0.W"][...] = 123.0
    assert not np.any(opt.state_dict()["m/0.W"] == 123.0)
    opt.load_state_dict(state)
    state["m/0.W"][...] = 7.0
    np.testing.assert_array_equal(opt.state_dict()["m/0.W"], 123.0)


def _bad(state: dict, change: str) -> dict:
    state = dict(state)
    if change == "missing":
        del state["v/0.b"]
    elif change == "extra":
        state["m/9.W"] = np.zeros(3)
    elif change == "shape":
        state["m/0.W"] = np.zeros((4, 3))
    elif change == "dtype":
        state["v/2.W"] = state["v/2.W"].astype(np.float32)
    elif change == "iterations_float":
        state["iterations"] = np.array(2.0)
    elif change == "iterations_negative":
        state["iterations"] = np.array(-1)
    elif change == "iterations_shape":
        state["iterations"] = np.array([2])
    return state


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("missing", "v/0.b"),
        ("extra", "m/9.W"),
        ("shape", "m/0.W"),
        ("dtype", "v/2.W"),
        ("iterations_float", "iterations"),
        ("iterations_negative", "iterations"),
        ("iterations_shape", "iterations"),
    ],
)
def test_load_state_dict_rejects_bad_key_shape_dtype_and_changes_nothing(
    change: str, named: str
) -> None:
    opt = Adam()
    model = TinyModel(make_arrays())
    model.set_grads(grad_sequence(make_arrays(), 1)[0])
    opt.step(model)
    other = Adam()
    other.build(TinyModel(make_arrays()))
    good = other.state_dict()  # zeros, iterations 0
    good["m/0.W"][...] = 5.0
    before = opt.state_dict()
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        opt.load_state_dict(_bad(good, change))
    after = opt.state_dict()
    assert set(after) == set(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])
    assert opt.iterations == 1


def test_load_state_dict_before_build_is_refused() -> None:
    opt = Adam()
    with pytest.raises(ValueError, match="build"):
        opt.load_state_dict({"iterations": np.array(0), "m/0.W": np.zeros(3)})
    opt.load_state_dict({"iterations": np.array(4)})  # a counter alone needs no slots
    assert opt.iterations == 4


def test_build_is_idempotent_and_refuses_other_parameters() -> None:
    opt = SGD(0.1, momentum=0.9)
    model = TinyModel(make_arrays())
    opt.build(model)
    model.set_grads(grad_sequence(make_arrays(), 1)[0])
    opt.step(model)
    before = opt.state_dict()
    opt.build(model)
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    with pytest.raises(ValueError, match="built for the parameters"):
        opt.build(TinyModel({"0.W": np.zeros((3, 4))}))


def test_step_on_a_model_with_other_parameters_changes_nothing() -> None:
    opt = Adam(0.1)
    opt.build(TinyModel(make_arrays()))
    wrong = TinyModel({**make_arrays(), "2.W": np.zeros((4, 3))})
    wrong.set_grads({k: np.ones_like(v) for k, v in wrong.params.items()})
    with pytest.raises(ValueError, match="built for the parameters"):
        opt.step(wrong)
    np.testing.assert_array_equal(wrong.params["0.W"], make_arrays()["0.W"])
    assert opt.iterations == 0


def test_step_builds_lazily() -> None:
    opt = AdamW()
    model = TinyModel(make_arrays())
    opt.step(model)
    assert set(opt.state_dict()) == {"iterations"} | {
        f"{s}/{k}" for s in ("m", "v") for k in ("0.W", "0.b", "2.W")
    }
