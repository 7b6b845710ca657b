"""Tests for minitrain.metrics: accuracy variants on hand tables and name resolution."""

from __future__ import annotations

import numpy as np
import pytest

from minitrain import metrics
from minitrain.losses import (
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from minitrain.metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
)

# Four samples, three classes. Row argmaxes of PRED: 2, 0, 1, 0 (row 3 ties at
# 0.4 between classes 0 and 1: np.argmax, like Keras's, takes the first).
PRED = np.array(
    [
        [0.1, 0.2, 0.7],
        [0.5, 0.3, 0.2],
        [0.2, 0.6, 0.2],
        [0.4, 0.4, 0.2],
    ]
)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([2, 0, 1, 0], 1.0),  # all four right
        ([2, 0, 1, 1], 0.75),  # the tie goes to class 0, so row 3 is wrong
        ([0, 1, 2, 1], 0.0),
        ([2, 1, 1, 2], 0.5),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_and_categorical_accuracy_on_a_hand_table(labels, expected, dtype):
    labels = np.array(labels, dtype=np.intp)
    one_hot = np.eye(3, dtype=dtype)[labels]
    pred = PRED.astype(dtype)
    sparse = SparseCategoricalAccuracy()(labels, pred)
    categorical = CategoricalAccuracy()(one_hot, pred)
    assert sparse == expected
    assert categorical == expected
    assert type(sparse) is float
    assert type(categorical) is float


def test_categorical_accuracy_reads_the_argmax_of_probability_targets():
    # Soft targets: argmaxes 2, 0, 0, 0 against predictions 2, 0, 1, 0 -> 3 of 4.
    soft = np.array([[0.1, 0.1, 0.8], [0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.9, 0.05, 0.05]])
    assert CategoricalAccuracy()(soft, PRED) == 0.75


@pytest.mark.parametrize(
    ("y_true", "y_pred", "expected"),
    [
        # One output: p > 0.5 -> [1, 0, 0, 1] (0.5 itself is not above), t = [1, 0, 1, 0]:
        # matches at rows 0 and 1 -> 0.5.
        ([[1.0], [0.0], [1.0], [0.0]], [[0.9], [0.1], [0.5], [0.51]], 0.5),
        # Two outputs, mean over all four entries: thresholded [[1, 0], [0, 1]]
        # against [[1, 0], [1, 1]] -> 3 of 4.
        ([[1.0, 0.0], [1.0, 1.0]], [[0.7, 0.2], [0.3, 0.8]], 0.75),
        # Keras compares the target exactly: 0.9 never equals 0 or 1.
        ([[0.9], [0.0]], [[0.95], [0.05]], 0.5),
    ],
)
def test_binary_accuracy_on_a_hand_table(y_true, y_pred, expected):
    assert BinaryAccuracy()(np.array(y_true), np.array(y_pred)) == expected


def test_binary_accuracy_threshold():
    # With threshold 0.2: [0.3, 0.1] -> [1, 0]; targets [1, 1] -> 0.5.
    metric = BinaryAccuracy(threshold=0.2)
    assert metric(np.array([[1.0], [1.0]]), np.array([[0.3], [0.1]])) == 0.5


@pytest.mark.parametrize(
    ("y_true", "y_pred", "expected"),
    [
        # One output: binary at 0.5 -> [1, 0] against [1, 1].
        (np.array([[1.0], [1.0]]), np.array([[0.8], [0.2]]), 0.5),
        # Labels of shape (N,): sparse.
        (np.array([2, 1, 1, 1]), PRED, 0.5),
        # (N, C) targets: categorical.
        (np.eye(3)[[2, 0, 1, 1]], PRED, 0.75),
    ],
    ids=["one output", "labels", "one-hot"],
)
def test_accuracy_picks_by_shape_as_keras(y_true, y_pred, expected):
    assert Accuracy()(y_true, y_pred) == expected


@pytest.mark.parametrize(
    ("name", "loss", "cls", "log_key"),
    [
        ("accuracy", SparseCategoricalCrossentropy(), SparseCategoricalAccuracy, "accuracy"),
        ("acc", SparseCategoricalCrossentropy(from_logits=True), SparseCategoricalAccuracy,
         "accuracy"),
        ("accuracy", CategoricalCrossentropy(), CategoricalAccuracy, "accuracy"),
        ("acc", CategoricalCrossentropy(label_smoothing=0.1), CategoricalAccuracy, "accuracy"),
        ("accuracy", MeanSquaredError(), Accuracy, "accuracy"),
        ("accuracy", "sparse_categorical_crossentropy", SparseCategoricalAccuracy, "accuracy"),
        ("accuracy", "mse", Accuracy, "accuracy"),
        ("categorical_accuracy", SparseCategoricalCrossentropy(), CategoricalAccuracy,
         "categorical_accuracy"),
        ("sparse_categorical_accuracy", CategoricalCrossentropy(), SparseCategoricalAccuracy,
         "sparse_categorical_accuracy"),
        ("binary_accuracy", MeanSquaredError(), BinaryAccuracy, "binary_accuracy"),
    ],
)  # fmt: skip
def test_get_resolves_names_by_loss(name, loss, cls, log_key):
    metric = metrics.get(name, loss)
    assert type(metric) is cls
    assert metric.name == log_key


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


def test_get_returns_a_metric_object_unchanged():
    metric = BinaryAccuracy(name="hit_rate", threshold=0.3)
    assert metrics.get(metric, MeanSquaredError()) is metric
    assert metric.name == "hit_rate"


def test_unknown_metric_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError,
        match="metric must be one of 'accuracy', 'acc', 'categorical_accuracy', "
        "'sparse_categorical_accuracy', 'binary_accuracy', got 'precision'",
    ):
        metrics.get("precision", CategoricalCrossentropy())


@pytest.mark.parametrize(
    ("name", "loss", "error", "message"),
    [
        (3, CategoricalCrossentropy(), TypeError,
         r"metric must be a Metric or one of 'accuracy'.*got 3 \(int\)"),
        ("accuracy", "hinge", ValueError, "loss must be one of"),
        ("accuracy", None, TypeError, "loss must be a Loss or one of"),
    ],
)  # fmt: skip
def test_get_rejects_wrong_types(name, loss, error, message):
    with pytest.raises(error, match=message):
        metrics.get(name, loss)


def test_binary_accuracy_threshold_is_checked():
    with pytest.raises(TypeError, match="threshold must be a real number"):
        BinaryAccuracy(threshold="0.5")
