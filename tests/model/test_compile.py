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
