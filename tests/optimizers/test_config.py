"""Optimizer configs, get by name, and the refusal of bad arguments."""

from __future__ import annotations

import json

import numpy as np
import pytest
from signatures import signature

from minitrain import optimizers, schedules
from minitrain.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

from .fakes import TinyModel, grad_sequence, make_arrays


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
        lambda: RMSprop(),
        lambda: RMSprop(0.02, rho=0.9, momentum=0.5, epsilon=1e-6, centered=True, weight_decay=0.1),
        lambda: Adagrad(),
        lambda: Adagrad(schedules.Constant(0.1), initial_accumulator_value=0.1, weight_decay=0.01),
        lambda: SGD(0.1, momentum=0.9, clipnorm=0.5),
        lambda: Adam(clipvalue=0.1),
        lambda: AdamW(global_clipnorm=2.0),
        lambda: RMSprop(momentum=0.9, global_clipnorm=1.0),
        lambda: Adagrad(clipnorm=3.0),
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
    for key, p, _ in a._param_slots():
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
    with pytest.raises(ValueError, match="'SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad'"):
        optimizers.from_config({"class": "Adadelta", "config": {}})
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
        (
            RMSprop,
            {
                "learning_rate": 0.01,
                "rho": 0.99,
                "momentum": 0.0,
                "epsilon": 1e-8,
                "centered": False,
                "weight_decay": 0.0,
            },
        ),
        (
            Adagrad,
            {
                "learning_rate": 0.01,
                "initial_accumulator_value": 0.0,
                "epsilon": 1e-10,
                "weight_decay": 0.0,
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
        (lambda: RMSprop(-0.01), ValueError, "learning_rate"),
        (lambda: RMSprop(rho=1.0), ValueError, "rho"),
        (lambda: RMSprop(rho=-0.1), ValueError, "rho"),
        (lambda: RMSprop(momentum=1.0), ValueError, "momentum"),
        (lambda: RMSprop(momentum=-0.5), ValueError, "momentum"),
        (lambda: RMSprop(epsilon=0.0), ValueError, "epsilon"),
        (lambda: RMSprop(centered=1), TypeError, "centered"),
        (lambda: RMSprop(weight_decay=-0.1), ValueError, "weight_decay"),
        (lambda: Adagrad(-0.01), ValueError, "learning_rate"),
        (lambda: Adagrad(initial_accumulator_value=-0.1), ValueError, "initial_accumulator_value"),
        (lambda: Adagrad(initial_accumulator_value="0"), TypeError, "initial_accumulator_value"),
        (lambda: Adagrad(epsilon=0.0), ValueError, "epsilon"),
        (lambda: Adagrad(weight_decay=-0.1), ValueError, "weight_decay"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(make, error, named: str) -> None:
    with pytest.raises(error, match=named):
        make()


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sgd", SGD),
        ("adam", Adam),
        ("adamw", AdamW),
        ("Adam", Adam),
        ("AdamW", AdamW),
        ("rmsprop", RMSprop),
        ("RMSprop", RMSprop),
        ("adagrad", Adagrad),
        ("Adagrad", Adagrad),
    ],
)
def test_get_by_name_gives_defaults(name: str, cls: type) -> None:
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()


def test_get_passes_an_optimizer_through_and_refuses_the_rest() -> None:
    opt = Adam(0.5)
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'"):
        optimizers.get("adadelta")
    with pytest.raises(TypeError, match="optimizer"):
        optimizers.get(3)


CLIPPING = "*, clipnorm=None, clipvalue=None, global_clipnorm=None"


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (SGD, "learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0"),
        (
            Adam,
            "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08, weight_decay=0.0",
        ),
        (
            AdamW,
            "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08, weight_decay=0.01",
        ),
        (
            RMSprop,
            "learning_rate=0.01, rho=0.99, momentum=0.0, epsilon=1e-08, centered=False, "
            "weight_decay=0.0",
        ),
        (
            Adagrad,
            "learning_rate=0.01, initial_accumulator_value=0.0, epsilon=1e-10, weight_decay=0.0",
        ),
    ],
)
def test_constructor_arguments_and_defaults_are_the_contract(cls, expected: str) -> None:
    assert signature(cls) == f"{expected}, {CLIPPING}"
