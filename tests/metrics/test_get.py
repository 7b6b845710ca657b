"""metrics.get: names as given, Keras's aliases, "accuracy" chosen by shapes as Keras 3."""

from __future__ import annotations

import numpy as np
import pytest
from signatures import signature

from minitrain import losses, metrics
from minitrain.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from minitrain.metrics import (
    AUC,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    Precision,
    Recall,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from tests.metrics.streams import PRED
from tests.oracles import keras


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("binary_accuracy", BinaryAccuracy), ("BinaryAccuracy", BinaryAccuracy),
        ("categorical_accuracy", CategoricalAccuracy),
        ("CategoricalAccuracy", CategoricalAccuracy),
        ("sparse_categorical_accuracy", SparseCategoricalAccuracy),
        ("SparseCategoricalAccuracy", SparseCategoricalAccuracy),
        ("top_k_categorical_accuracy", TopKCategoricalAccuracy),
        ("TopKCategoricalAccuracy", TopKCategoricalAccuracy),
        ("sparse_top_k_categorical_accuracy", SparseTopKCategoricalAccuracy),
        ("SparseTopKCategoricalAccuracy", SparseTopKCategoricalAccuracy),
        ("mse", metrics.MeanSquaredError), ("MSE", metrics.MeanSquaredError),
        ("mean_squared_error", metrics.MeanSquaredError),
        ("MeanSquaredError", metrics.MeanSquaredError),
        ("mae", MeanAbsoluteError), ("MAE", MeanAbsoluteError),
        ("mean_absolute_error", MeanAbsoluteError), ("MeanAbsoluteError", MeanAbsoluteError),
        ("precision", Precision), ("Precision", Precision),
        ("recall", Recall), ("Recall", Recall),
        ("auc", AUC), ("AUC", AUC),
        ("accuracy", Accuracy), ("acc", Accuracy), ("Accuracy", Accuracy), ("ACC", Accuracy),
    ],
)  # fmt: skip
def test_get_takes_keras_names_and_logs_them_as_given(name, cls):
    metric = metrics.get(name)
    assert type(metric) is cls
    assert metric.name == name


@pytest.mark.parametrize(
    "name",
    [
        "binary_accuracy", "BinaryAccuracy", "categorical_accuracy",
        "sparse_categorical_accuracy", "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy", "mse", "MSE", "mean_squared_error",
        "mae", "MAE", "mean_absolute_error", "MeanAbsoluteError", "precision", "Recall",
        "auc", "AUC",
    ],
)  # fmt: skip
def test_every_name_but_accuracy_is_one_keras_metrics_get_takes(name):
    # "accuracy" is compile's shape rule, not keras.metrics.get's exact-equality Accuracy.
    assert type(keras().metrics.get(name)).__name__ == type(metrics.get(name)).__name__


def test_top_k_by_name_has_keras_k_of_5():
    assert metrics.get("top_k_categorical_accuracy").k == 5
    assert metrics.get("sparse_top_k_categorical_accuracy").k == 5


@pytest.mark.parametrize(
    ("name", "loss", "num_outputs", "y", "resolved"),
    [
        ("accuracy", SparseCategoricalCrossentropy(), 3, [2, 0, 1, 1],
         "sparse_categorical_accuracy"),
        ("acc", SparseCategoricalCrossentropy(from_logits=True), 3, [2, 0, 1, 1],
         "sparse_categorical_accuracy"),
        ("accuracy", CategoricalCrossentropy(), 3, np.eye(3)[[2, 0, 1, 1]],
         "categorical_accuracy"),
        ("acc", CategoricalCrossentropy(label_smoothing=0.1), 3, np.eye(3)[[2, 0, 1, 1]],
         "categorical_accuracy"),
        ("accuracy", MeanSquaredError(), 3, np.eye(3)[[2, 0, 1, 1]], "categorical_accuracy"),
        ("accuracy", "sparse_categorical_crossentropy", 3, [2, 0, 1, 1],
         "sparse_categorical_accuracy"),
        ("accuracy", "mse", 1, [[1.0], [0.0], [0.0], [1.0]], "binary_accuracy"),
        ("acc", BinaryCrossentropy(), 1, [1, 0, 0, 1], "binary_accuracy"),
        ("accuracy", BinaryCrossentropy(from_logits=True), 1, [[1], [0], [0], [1]],
         "binary_accuracy"),
    ],
)  # fmt: skip
def test_accuracy_is_chosen_by_the_shapes_of_the_prepared_targets(
    name, loss, num_outputs, y, resolved
):
    # The fit loop feeds update_state the loss's prepared targets.
    metric = metrics.get(name, loss)
    assert type(metric) is Accuracy
    assert metric.name == name
    assert metric.resolved is None
    loss = losses.get(loss)
    t = loss.prepare_targets(np.array(y), num_outputs, np.dtype(np.float64))
    metric.update_state(t, PRED[:, :num_outputs])
    assert metric.resolved == resolved


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("categorical_accuracy", CategoricalAccuracy),
        ("sparse_categorical_accuracy", SparseCategoricalAccuracy),
        ("binary_accuracy", BinaryAccuracy),
    ],
)
@pytest.mark.parametrize("loss", [SparseCategoricalCrossentropy(), MeanSquaredError(), None])
def test_a_named_accuracy_is_that_accuracy_whatever_the_loss(name, cls, loss):
    metric = metrics.get(name, loss)
    assert type(metric) is cls
    assert metric.name == name


@pytest.mark.parametrize(
    ("num_outputs", "y_true", "y_pred", "expected"),
    [
        # One output: binary accuracy at 0.5; [0.7, 0.4, 0.6] -> [1, 0, 1] vs [1, 0, 0].
        (1, np.array([[1.0], [0.0], [0.0]]), np.array([[0.7], [0.4], [0.6]]), 2 / 3),
        # Several outputs: categorical accuracy; argmaxes 2, 0, 1, 0 vs 2, 0, 0, 0.
        (3, np.eye(3)[[2, 0, 0, 0]], PRED, 0.75),
    ],
)
def test_mse_accuracy_is_binary_for_one_output_else_categorical(
    num_outputs, y_true, y_pred, expected
):
    loss = MeanSquaredError()
    metric = metrics.get("accuracy", loss)
    t = loss.prepare_targets(y_true, num_outputs, np.float64)
    assert metric(t, y_pred) == expected


def _keras_choice(y, outputs):
    k = keras()
    model = k.Sequential([k.Input((2,)), k.layers.Dense(outputs)])
    model.compile(loss="mse", metrics=["acc"])
    x = np.linspace(0, 1, 2 * len(y)).reshape(len(y), 2)
    # Keras 3.15.1 builds its compiled metrics from the first batch's y and y_pred.
    compiled = model._compile_metrics
    compiled.build(y, model(x))
    (chosen,) = [m for group in compiled._flat_metrics for m in group.metrics]
    return chosen, model, x


@pytest.mark.parametrize(
    ("y", "outputs"),
    [
        (np.array([0.0, 1.0, 1.0, 0.0]), 1),
        (np.array([[0.0], [1.0], [1.0], [0.0]]), 1),
        (np.array([0, 2, 1, 2]), 3),
        (np.array([[0], [2], [1], [2]]), 3),
        (np.eye(3)[[0, 2, 1, 2]], 3),
    ],
    ids=["(N,) vs 1", "(N, 1) vs 1", "(N,) vs 3", "(N, 1) vs 3", "(N, 3) vs 3"],
)
def test_accuracy_chooses_what_keras_compile_chooses(y, outputs):
    chosen, model, x = _keras_choice(y, outputs)
    ours = metrics.get("acc")
    p = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    value = ours(y, p)
    assert type(chosen).__name__ == type(metrics.get(ours.resolved)).__name__
    assert chosen.name == ours.name == "acc"
    chosen.update_state(y, p)
    assert value == float(chosen.result())


def test_accuracy_of_1d_predictions_is_binary():
    # One score per sample, shape (N,): one output column.
    metric = Accuracy()
    assert metric([1, 0, 1], [0.7, 0.2, 0.4]) == 2 / 3
    assert metric.resolved == "binary_accuracy"


def test_get_returns_a_metric_object_unchanged():
    metric = BinaryAccuracy(name="hit_rate", threshold=0.3)
    assert metrics.get(metric, MeanSquaredError()) is metric
    assert metrics.get(metric) is metric
    assert metric.name == "hit_rate"


@pytest.mark.parametrize("cls", [AUC, Precision, TopKCategoricalAccuracy, Accuracy])
def test_get_builds_a_metric_class_with_its_defaults_as_keras(cls):
    metric = metrics.get(cls)
    assert type(metric) is cls
    assert metric.name == cls.default_name
    assert metric.get_config() == cls().get_config()


@pytest.mark.parametrize("cls", [metrics.Metric, metrics.MeanMetric, metrics.Mean])
def test_get_refuses_the_base_classes(cls):
    with pytest.raises(TypeError, match="metric must be a Metric or one of 'accuracy'"):
        metrics.get(cls)


def test_unknown_metric_name_lists_the_valid_ones():
    listed = ", ".join(repr(n) for n in metrics.NAMES)
    with pytest.raises(ValueError, match=f"metric must be one of {listed}, got 'precison'"):
        metrics.get("precison", CategoricalCrossentropy())
    assert {"accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy",
            "binary_accuracy", "top_k_categorical_accuracy", "mse", "mae", "auc"} <= set(
        metrics.NAMES
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "loss", "error", "message"),
    [
        (3, CategoricalCrossentropy(), TypeError,
         r"metric must be a Metric or one of 'accuracy'.*got 3 \(int\)"),
        ("accuracy", "hinge", ValueError, "loss must be one of"),
        ("accuracy", 3, TypeError, "loss must be"),
    ],
)  # fmt: skip
def test_get_rejects_wrong_types(name, loss, error, message):
    with pytest.raises(error, match=message):
        metrics.get(name, loss)


def test_get_takes_no_loss_or_none():
    # The loss used to choose "accuracy"; the shapes choose it now, so it may be left out.
    assert type(metrics.get("accuracy")) is Accuracy
    assert type(metrics.get("accuracy", None)) is Accuracy


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (Precision, "thresholds=0.5, name=None"),
        (Recall, "thresholds=0.5, name=None"),
        (TopKCategoricalAccuracy, "k=5, name=None"),
        (SparseTopKCategoricalAccuracy, "k=5, name=None"),
        (BinaryAccuracy, "name=None, threshold=0.5"),
        (AUC, "name=None"),
        (metrics.Metric, "name=None"),
    ],
)
def test_constructor_arguments_and_defaults_are_the_contract(cls, expected):
    assert signature(cls) == expected


def test_the_metric_protocol_signatures_are_keras():
    assert signature(metrics.Metric.update_state) == "y_true, y_pred, sample_weight=None"
    assert signature(metrics.Mean.update_state) == "values, sample_weight=None"
    assert signature(metrics.get) == "identifier, loss=None"
