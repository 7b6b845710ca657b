"""Optimizers: hand-worked steps, PyTorch float64 cross-checks, state and config."""

from __future__ import annotations

import json

import numpy as np
import pytest

from minitrain import optimizers, schedules
from minitrain.optimizers import SGD, Adam, AdamW, Optimizer

try:
    import torch
except ImportError:  # the cross-checks need the test extra; the rest runs without it
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


class TinyModel:
    """Stands in for Sequential: ``named_parameters()`` yields ``(key, param, grad)``."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.params = {k: v.copy() for k, v in arrays.items()}
        self.grads = {k: np.zeros_like(v) for k, v in arrays.items()}

    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        return [(k, self.params[k], self.grads[k]) for k in self.params]

    def set_grads(self, grads: dict[str, np.ndarray]) -> None:
        for k, g in grads.items():
            self.grads[k][...] = g


def make_arrays(seed: int = 0, dtype: type = np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "0.W": rng.normal(size=(3, 4)).astype(dtype),
        "0.b": rng.normal(size=(4,)).astype(dtype),
        "2.W": rng.normal(size=(4, 2)).astype(dtype),
    }


def grad_sequence(arrays: dict[str, np.ndarray], steps: int, seed: int = 1) -> list[dict]:
    """Random gradients, one dict per step, of varied scale so Adam's moments matter."""
    rng = np.random.default_rng(seed)
    return [
        {
            k: (rng.normal(size=v.shape) * rng.uniform(0.1, 3.0)).astype(v.dtype)
            for k, v in arrays.items()
        }
        for _ in range(steps)
    ]


# (our optimizer, the same optimizer in PyTorch); both start at lr 0.1 / 0.01.
TORCH_CASES = {
    "sgd": (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (
        lambda: SGD(0.1, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    ),
    "sgd_nesterov": (
        lambda: SGD(0.1, momentum=0.8, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
    ),
    "sgd_weight_decay": (
        lambda: SGD(0.1, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05),
    ),
    "sgd_nesterov_weight_decay": (
        lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
    ),
    "adam": (lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_betas_epsilon": (
        lambda: Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.5, 0.9), eps=1e-3),
    ),
    "adam_weight_decay": (
        lambda: Adam(0.01, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    ),
    "adamw": (lambda: AdamW(0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    "adamw_weight_decay": (
        lambda: AdamW(0.01, weight_decay=0.3),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.3),
    ),
}


def run_against_torch(ours: Optimizer, make_theirs, lr_at_step) -> tuple[TinyModel, list]:
    """10 steps of both on copies of the same params and grads; lr_at_step(k) or None."""
    arrays = make_arrays()
    model = TinyModel(arrays)
    tparams = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in arrays.items()
    }
    theirs = make_theirs(list(tparams.values()))
    for k, grads in enumerate(grad_sequence(arrays, 10)):
        lr = lr_at_step(k)
        if lr is not None:
            if not callable(ours._learning_rate):
                ours.learning_rate = lr
            for group in theirs.param_groups:
                group["lr"] = lr
        model.set_grads(grads)
        for key, t in tparams.items():
            t.grad = torch.tensor(grads[key])
        ours.step(model)
        theirs.step()
    return model, [(k, t.detach().numpy()) for k, t in tparams.items()]


@needs_torch
@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_ten_steps_match_torch_float64_with_a_rate_change_at_step_5(case: str) -> None:
    make_ours, make_theirs = TORCH_CASES[case]
    ours = make_ours()
    base = ours.learning_rate
    # Steps 0-4 at the initial rate, steps 5-9 at a third of it.
    model, theirs = run_against_torch(ours, make_theirs, lambda k: base / 3 if k == 5 else None)
    assert ours.iterations == 10
    assert ours._last_lr == base / 3
    for key, expected in theirs:
        np.testing.assert_allclose(model.params[key], expected, rtol=1e-12, atol=1e-14)
        # Moved well away from the start, so the match is not that of two unmoved arrays.
        assert np.abs(model.params[key] - make_arrays()[key]).max() > 1e-2


@needs_torch
@pytest.mark.parametrize("case", ["sgd_nesterov_weight_decay", "adam", "adamw_weight_decay"])
def test_schedule_learning_rate_matches_torch_with_the_rate_set_by_hand(case: str) -> None:
    make_ours, make_theirs = TORCH_CASES[case]
    config = make_ours().get_config()
    schedule = schedules.CosineDecay(0.0, 6, alpha=0.1, warmup_target=0.05, warmup_steps=3)
    config["config"]["learning_rate"] = schedule.get_config()
    ours = optimizers.from_config(config)
    model, theirs = run_against_torch(ours, make_theirs, schedule)
    assert ours._last_lr == schedule(9)
    for key, expected in theirs:
        np.testing.assert_allclose(model.params[key], expected, rtol=1e-12, atol=1e-14)


# A scalar parameter p0 = 1 worked by hand: (optimizer, gradients, p after each step).
HAND_CASES = {
    # p ← p - η g with η = 0.1: 1 - 0.2 = 0.8; 0.8 + 0.1 = 0.9; 0.9 - 0.05 = 0.85.
    "sgd": (lambda: SGD(0.1), [2.0, -1.0, 0.5], [0.8, 0.9, 0.85]),
    # b = 1, p = 1 - 0.1 = 0.9; b = 0.9 + 1 = 1.9, p = 0.9 - 0.19 = 0.71;
    # b = 1.71 - 1 = 0.71, p = 0.71 - 0.071 = 0.639.
    "sgd_momentum": (lambda: SGD(0.1, momentum=0.9), [1.0, 1.0, -1.0], [0.9, 0.71, 0.639]),
    # b = 1, d = 1 + 0.9 = 1.9, p = 1 - 0.19 = 0.81; b = 1.9, d = 1 + 1.71 = 2.71,
    # p = 0.81 - 0.271 = 0.539.
    "sgd_nesterov": (
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        [1.0, 1.0],
        [0.81, 0.539],
    ),
    # g = 1 + 0.5 · 1 = 1.5, p = 0.85; g = 1 + 0.425 = 1.425, p = 0.85 - 0.1425 = 0.7075.
    "sgd_weight_decay": (lambda: SGD(0.1, weight_decay=0.5), [1.0, 1.0], [0.85, 0.7075]),
    # η = 0.1, β = (0.9, 0.999), ε = 1e-8.
    # t=1, g=2: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4: p = 1 - 0.1 · 2 / (2 + 1e-8) = 0.9000000005.
    # t=2, g=-1: m = 0.08, v = 0.004996, m̂ = 0.08 / 0.19 = 0.42105263,
    #   v̂ = 0.004996 / 0.001999 = 2.49924962, sqrt = 1.58090152:
    #   p = 0.9000000005 - 0.1 · 0.42105263 / 1.58090153 = 0.87336629670.
    # t=3, g=0.5: m = 0.122, v = 0.005241004, m̂ = 0.122 / 0.271 = 0.45018450,
    #   v̂ = 0.005241004 / 0.002997001 = 1.74874950, sqrt = 1.32240292:
    #   p = 0.87336629670 - 0.1 · 0.45018450 / 1.32240293 = 0.83932338214.
    "adam": (
        lambda: Adam(0.1),
        [2.0, -1.0, 0.5],
        [0.9000000005, 0.8733662967024315, 0.8393233821389426],
    ),
    # λ = 0.1 added to g: t=1, g = 2 + 0.1 = 2.1, m̂ = 2.1, v̂ = 4.41:
    #   p = 1 - 0.1 · 2.1 / (2.1 + 1e-8) = 0.90000000047619.
    # t=2, g = -1 + 0.09 = -0.91: m = 0.189 - 0.091 = 0.098, m̂ = 0.51578947,
    #   v = 0.0044055900 + 0.0008281 = 0.0052336900, v̂ = 2.61815408, sqrt = 1.61807110:
    #   p = 0.90000000047619 - 0.1 · 0.51578947 / 1.61807110 = 0.86812318917.
    "adam_weight_decay": (
        lambda: Adam(0.1, weight_decay=0.1),
        [2.0, -1.0],
        [0.9000000004761904, 0.8681231891743804],
    ),
    # p · (1 - 0.1 · 0.1) = 0.99 first, then Adam's step as above:
    # t=1: 0.99 - 0.0999999995 = 0.8900000005;
    # t=2: 0.8900000005 · 0.99 - 0.02663370380 = 0.85446629670.
    "adamw": (
        lambda: AdamW(0.1, weight_decay=0.1),
        [2.0, -1.0],
        [0.8900000004999999, 0.8544662966974315],
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_scalar_steps_match_the_hand_worked_table(case: str) -> None:
    make, grads, expected = HAND_CASES[case]
    opt = make()
    model = TinyModel({"0.w": np.array([1.0])})
    for g, p_expected in zip(grads, expected, strict=True):
        model.set_grads({"0.w": np.array([g])})
        opt.step(model)
        np.testing.assert_allclose(model.params["0.w"], [p_expected], rtol=1e-13, atol=0)


ALL_OPTIMIZERS = {
    "sgd": lambda: SGD(0.05),
    "sgd_nesterov_weight_decay": lambda: SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam_weight_decay": lambda: Adam(0.01, weight_decay=0.1),
    "adamw": lambda: AdamW(0.01),
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
    for key, p, g in model32.named_parameters():
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
    ],
)
def test_zero_gradient_leaves_params_bit_identical_without_weight_decay(make) -> None:
    opt = make()
    arrays = make_arrays()
    model = TinyModel(arrays)
    for _ in range(5):
        opt.step(model)
    for key, p, _ in model.named_parameters():
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
    for key, _, g in model.named_parameters():
        np.testing.assert_array_equal(g, grads[key])


# -- state_dict --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "slots"),
    [
        (lambda: SGD(0.1), []),
        (lambda: SGD(0.1, momentum=0.5), ["momentum"]),
        (lambda: Adam(), ["m", "v"]),
        (lambda: AdamW(), ["m", "v"]),
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
    resumed = TinyModel({k: p for k, p, _ in straight.named_parameters()})
    opt2 = ALL_OPTIMIZERS[case]()
    opt2.build(resumed)
    opt2.load_state_dict(saved_state)
    assert opt2.iterations == 3 and type(opt2.iterations) is int
    for g in grads[3:]:
        for model, o in ((straight, opt), (resumed, opt2)):
            model.set_grads(g)
            o.step(model)
    for key, p, _ in straight.named_parameters():
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


# -- learning rate -----------------------------------------------------------------------


def test_learning_rate_setter_checks_its_value_and_refuses_schedules() -> None:
    opt = SGD(0.1)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and type(opt.learning_rate) is float
    opt.learning_rate = np.float32(0.25)
    assert opt.learning_rate == 0.25 and type(opt.learning_rate) is float
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -0.1
    with pytest.raises(TypeError, match="learning_rate"):
        opt.learning_rate = "0.1"
    assert opt.learning_rate == 0.25
    scheduled = Adam(schedules.Constant(0.1))
    with pytest.raises(TypeError, match="schedule"):
        scheduled.learning_rate = 0.2
    assert scheduled.learning_rate == 0.1


def test_learning_rate_reads_the_schedule_at_iterations() -> None:
    opt = SGD(schedules.StepDecay(1.0, step_size=2, gamma=0.5))
    model = TinyModel({"0.w": np.array([0.0])})
    model.set_grads({"0.w": np.array([1.0])})
    seen = []
    for _ in range(5):
        seen.append(opt.learning_rate)
        opt.step(model)
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.25]
    # p = -(1 + 1 + 0.5 + 0.5 + 0.25)
    np.testing.assert_array_equal(model.params["0.w"], [-3.25])


def test_a_schedule_returning_a_negative_rate_is_refused_before_any_update() -> None:
    opt = SGD(lambda step: -1.0)
    model = TinyModel({"0.w": np.array([0.0])})
    model.set_grads({"0.w": np.array([1.0])})
    with pytest.raises(ValueError, match="learning_rate schedule"):
        opt.step(model)
    np.testing.assert_array_equal(model.params["0.w"], [0.0])
    assert opt.iterations == 0


# -- config and construction -------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(),
        lambda: SGD(0.3, momentum=0.5, nesterov=True, weight_decay=1e-4),
        lambda: Adam(),
        lambda: Adam(0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-7, weight_decay=0.1),
        lambda: AdamW(
            schedules.CosineDecay(0.0, 100, alpha=0.1, warmup_target=0.01, warmup_steps=10)
        ),
        lambda: SGD(schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]), momentum=0.9),
    ],
)
def test_get_config_from_config_round_trip_through_json(make) -> None:
    opt = make()
    config = json.loads(json.dumps(opt.get_config()))
    rebuilt = optimizers.from_config(config)
    assert type(rebuilt) is type(opt)
    assert rebuilt.get_config() == opt.get_config()
    assert repr(rebuilt) == repr(opt)
    a, b = TinyModel(make_arrays()), TinyModel(make_arrays())
    for grads in grad_sequence(make_arrays(), 3):
        for model, o in ((a, opt), (b, rebuilt)):
            model.set_grads(grads)
            o.step(model)
    for key, p, _ in a.named_parameters():
        np.testing.assert_array_equal(b.params[key], p)


def test_get_config_spells_out_the_arguments() -> None:
    assert SGD().get_config() == {
        "class": "SGD",
        "config": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
    }
    assert AdamW(schedules.Constant(0.5)).get_config() == {
        "class": "AdamW",
        "config": {
            "learning_rate": {"class": "Constant", "config": {"learning_rate": 0.5}},
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-8,
            "weight_decay": 0.01,
        },
    }
    assert repr(Adam()) == (
        "Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08, weight_decay=0.0)"
    )


def test_get_config_after_setting_the_rate_holds_the_new_rate() -> None:
    opt = SGD(0.1)
    opt.learning_rate = 0.02
    assert optimizers.from_config(opt.get_config()).learning_rate == 0.02


def test_get_config_refuses_a_plain_callable_rate() -> None:
    opt = SGD(lambda step: 0.1)
    with pytest.raises(ValueError, match="Schedule"):
        opt.get_config()


def test_from_config_refuses_unknown_classes() -> None:
    with pytest.raises(ValueError, match="'SGD', 'Adam', 'AdamW'"):
        optimizers.from_config({"class": "RMSprop", "config": {}})
    with pytest.raises(TypeError, match="config"):
        optimizers.from_config({"class": "SGD"})


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (SGD, {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
        (
            Adam,
            {
                "learning_rate": 0.001,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-8,
                "weight_decay": 0.0,
            },
        ),
        (
            AdamW,
            {
                "learning_rate": 0.001,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-8,
                "weight_decay": 0.01,
            },
        ),
    ],
)
def test_defaults_are_the_documented_ones(make, expected: dict) -> None:
    assert make().get_config()["config"] == expected


@pytest.mark.parametrize(
    ("make", "error", "named"),
    [
        (lambda: SGD(-0.1), ValueError, "learning_rate"),
        (lambda: SGD(float("nan")), ValueError, "learning_rate"),
        (lambda: SGD("0.1"), TypeError, "learning_rate"),
        (lambda: SGD(True), TypeError, "learning_rate"),
        (lambda: SGD(momentum=1.0), ValueError, "momentum"),
        (lambda: SGD(momentum=-0.1), ValueError, "momentum"),
        (lambda: SGD(nesterov=True), ValueError, "nesterov"),
        (lambda: SGD(momentum=0.9, nesterov=1), TypeError, "nesterov"),
        (lambda: SGD(weight_decay=-1e-4), ValueError, "weight_decay"),
        (lambda: Adam(-0.001), ValueError, "learning_rate"),
        (lambda: Adam(beta_1=1.0), ValueError, "beta_1"),
        (lambda: Adam(beta_1=-0.5), ValueError, "beta_1"),
        (lambda: Adam(beta_2=1.0), ValueError, "beta_2"),
        (lambda: Adam(epsilon=0.0), ValueError, "epsilon"),
        (lambda: Adam(epsilon=-1e-8), ValueError, "epsilon"),
        (lambda: Adam(weight_decay=-0.1), ValueError, "weight_decay"),
        (lambda: AdamW(weight_decay=-0.01), ValueError, "weight_decay"),
        (lambda: AdamW(beta_2=1.5), ValueError, "beta_2"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(make, error, named: str) -> None:
    with pytest.raises(error, match=named):
        make()


@pytest.mark.parametrize(
    ("name", "cls"),
    [("sgd", SGD), ("adam", Adam), ("adamw", AdamW), ("Adam", Adam), ("AdamW", AdamW)],
)
def test_get_by_name_gives_defaults(name: str, cls: type) -> None:
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()


def test_get_passes_an_optimizer_through_and_refuses_the_rest() -> None:
    opt = Adam(0.5)
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="'sgd', 'adam', 'adamw'"):
        optimizers.get("rmsprop")
    with pytest.raises(TypeError, match="optimizer"):
        optimizers.get(3)
