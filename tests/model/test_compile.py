"""compile: names, from_logits from the output, metrics and weighted_metrics, did-you-mean."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain import losses, metrics, optimizers
from minitrain.layers import Dense, Input, ReLU, Sigmoid, Softmax


def _model(*last):
    return mt.Sequential([Input((4,)), Dense(5), ReLU(), *last], seed=0)


ENDINGS = {
    "logits": lambda: _model(Dense(3)),
    "Softmax layer": lambda: _model(Dense(3), Softmax()),
    "Sigmoid layer": lambda: _model(Dense(1), Sigmoid()),
    "Dense softmax": lambda: _model(Dense(3, activation="softmax")),
    "Dense sigmoid": lambda: _model(Dense(1, activation="sigmoid")),
}


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize(
    "name",
    ["categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"],
)
def test_a_named_crossentropy_takes_from_logits_from_the_output(ending, name):
    model = ENDINGS[ending]()
    model.compile("sgd", name)
    assert model.loss.from_logits is (ending == "logits")


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("binary_crossentropy", losses.BinaryCrossentropy),
        ("mae", losses.MeanAbsoluteError),
        ("mean_absolute_error", losses.MeanAbsoluteError),
        ("huber", losses.Huber),
        ("mse", losses.MeanSquaredError),
    ],
)
def test_compile_takes_the_new_loss_names(name, cls):
    model = ENDINGS["logits"]()
    model.compile("sgd", name)
    assert type(model.loss) is cls


@pytest.mark.parametrize(
    ("name", "cls"),
    [("rmsprop", optimizers.RMSprop), ("adagrad", optimizers.Adagrad), ("sgd", optimizers.SGD)],
)
def test_compile_takes_the_new_optimizer_names(name, cls):
    model = ENDINGS["logits"]()
    model.compile(name, "mse")
    assert type(model.optimizer) is cls


def test_the_default_optimizer_is_rmsprop_as_keras():
    model = ENDINGS["logits"]()
    model.compile(loss="mse")
    assert type(model.optimizer) is optimizers.RMSprop


@pytest.mark.parametrize(
    ("ending", "loss", "message"),
    [
        (
            "Sigmoid layer",
            lambda: losses.BinaryCrossentropy(from_logits=True),
            r"BinaryCrossentropy\(from_logits=True\) expects logits, but the model ends in "
            r"Sigmoid and outputs probabilities: use from_logits=False, "
            r"or remove the Sigmoid layer",
        ),
        (
            "Dense sigmoid",
            lambda: losses.BinaryCrossentropy(from_logits=True),
            r"use from_logits=False, or remove activation='sigmoid' from the last Dense",
        ),
        (
            "Dense softmax",
            lambda: losses.CategoricalCrossentropy(from_logits=True),
            r"ends in Softmax .*or remove activation='softmax' from the last Dense",
        ),
        (
            "logits",
            lambda: losses.BinaryCrossentropy(),
            r"BinaryCrossentropy\(from_logits=False\) expects probabilities, but the model does "
            r"not end in Sigmoid and outputs logits: use from_logits=True, or add a Sigmoid layer "
            r"\(or activation='sigmoid' on the last Dense\)",
        ),
    ],
)
def test_a_loss_object_contradicting_the_output_says_which_to_change(ending, loss, message):
    model = ENDINGS[ending]()
    with pytest.raises(ValueError, match=message):
        model.compile("sgd", loss())
    assert model.optimizer is None and model.loss is None


@pytest.mark.parametrize("ending", ["Sigmoid layer", "Dense sigmoid"])
def test_a_consistent_binary_crossentropy_object_is_kept(ending):
    model = ENDINGS[ending]()
    loss = losses.BinaryCrossentropy(label_smoothing=0.1)
    model.compile("sgd", loss)
    assert model.loss is loss


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"los": "mse"},
            r"compile\(\) got an unexpected keyword argument 'los'; did you mean 'loss'\?",
        ),
        ({"metric": ["mae"]}, r"did you mean 'metrics'\?"),
        ({"weighted_metric": ["mae"]}, r"did you mean 'weighted_metrics'\?"),
        ({"run_eagerly": True}, r"'run_eagerly'; valid keywords: loss, metrics, optimizer"),
    ],
)
def test_an_unknown_keyword_names_the_closest_valid_one_and_changes_nothing(kwargs, message):
    model = ENDINGS["logits"]()
    model.compile("adam", "mse", metrics=["mae"])
    setup = (model.optimizer, model.loss, model.metrics, model.weighted_metrics)
    with pytest.raises(TypeError, match=message):
        model.compile("sgd", **kwargs)
    assert (model.optimizer, model.loss, model.metrics, model.weighted_metrics) == setup


def test_metrics_and_weighted_metrics_are_objects_named_as_given():
    model = ENDINGS["Dense sigmoid"]()
    precision = metrics.Precision(thresholds=0.3, name="p30")
    model.compile(
        "sgd", "binary_crossentropy", metrics=["acc", precision], weighted_metrics=["mae"]
    )
    assert [m.name for m in model.metrics] == ["acc", "p30"]
    assert model.metrics[1] is precision
    assert [(type(m), m.name) for m in model.weighted_metrics] == [
        (metrics.MeanAbsoluteError, "mae")
    ]
    with pytest.raises(TypeError, match=r"weighted_metrics must be a list of metric names"):
        model.compile("sgd", "mse", weighted_metrics="mae")


def test_train_step_weights_the_loss_and_weighted_metrics_only():
    model = mt.Sequential([Input((3,)), Dense(2)], seed=0)
    twin = mt.Sequential([Input((3,)), Dense(2)], seed=0)
    model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mae"])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    y = rng.standard_normal((6, 2)).astype(np.float32)
    w = np.array([1.0, 0.0, 2.0, 0.5, 0.0, 1.0])
    p = twin(x, training=True)  # the predictions before the update
    logs = model.train_step(x, y, sample_weight=w)
    err = np.abs(y - p).mean(axis=1)
    assert logs["loss"] == pytest.approx(losses.MeanSquaredError()(y, p, sample_weight=w), rel=1e-6)
    assert logs["mae"] == pytest.approx(err @ w / w.sum(), rel=1e-6)  # the weighted one, last
    assert model.metrics[0].result() == pytest.approx(err.mean(), rel=1e-6)
    # A second step reports that batch alone: each metric was reset first.
    p2 = model(x, training=True)
    logs2 = model.train_step(x, y)
    assert model.metrics[0].result() == pytest.approx(np.abs(y - p2).mean(), rel=1e-6)
    assert logs2["mae"] == pytest.approx(np.abs(y - p2).mean(), rel=1e-6)


def test_compile_before_building_builds_the_optimizer_with_the_model():
    model = mt.Sequential([Dense(4), Dense(2)], seed=0)
    model.compile("adam", "mse")
    assert model.optimizer.state_dict().keys() == {"iterations"}
    rng = np.random.default_rng(0)
    logs = model.train_step(rng.standard_normal((5, 3)), rng.standard_normal((5, 2)))
    assert model.built and np.isfinite(logs["loss"])
    assert set(model.optimizer.state_dict()) == {
        "iterations",
        *(f"{slot}/{key}" for slot in ("m", "v") for key in ("0.W", "0.b", "1.W", "1.b")),
    }
