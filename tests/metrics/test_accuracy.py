"""The accuracies: hand tables, then keras.metrics over several batches, weighted or not.

A fresh metric called once, ``metric(y, p)``, is the batch's accuracy; over a
stream of batches ``result()`` must equal Keras's after every batch.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from minitrain.metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from tests.metrics import streams
from tests.metrics.streams import PRED
from tests.oracles import keras


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


def test_binary_accuracy_threshold_is_checked():
    with pytest.raises(TypeError, match="threshold must be a real number"):
        BinaryAccuracy(threshold="0.5")


def test_binary_accuracy_cuts_logits_at_half_as_keras():
    # Logits [0.3, -2.0, 0.7] are cut at 0.5, not 0: predicted [0, 0, 1] against [1, 0, 1].
    logits = np.array([[0.3], [-2.0], [0.7]])
    y = np.array([[1.0], [0.0], [1.0]])
    assert BinaryAccuracy()(y, logits) == 2 / 3
    assert BinaryAccuracy(threshold=0.0)(y, logits) == 1.0


@pytest.mark.parametrize(
    ("metric", "y_true"),
    [
        (SparseCategoricalAccuracy(), [[0], [1], [1]]),  # labels (N, 1) as a list
        (SparseCategoricalAccuracy(), [0, 1, 1]),
        (CategoricalAccuracy(), [[1, 0], [0, 1], [0, 1]]),
        (Accuracy(), [0, 1, 1]),
        (TopKCategoricalAccuracy(k=1), [[1, 0], [0, 1], [0, 1]]),
        (SparseTopKCategoricalAccuracy(k=1), [[0], [1], [1]]),
    ],
)
def test_raw_lists_are_taken_as_keras_takes_them(metric, y_true):
    # Argmaxes 0, 1, 0 against labels 0, 1, 1 -> 2 of 3.
    assert metric(y_true, [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]) == 2 / 3


def test_accuracy_over_batches_weights_samples_not_batches():
    # Batch 1: 1 of 2 right; batch 2: 3 of 3 right -> 4 / 5, not mean(0.5, 1.0).
    metric = SparseCategoricalAccuracy()
    assert metric(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]])) == 0.5
    assert metric(np.array([1, 1, 0]), np.array([[0.1, 0.9], [0.4, 0.6], [0.7, 0.3]])) == 0.8


def test_weighted_accuracy_is_the_weighted_mean_of_hits():
    # Hits [1, 0, 1] with weights [1, 3, 0.5]: (1 + 0.5) / 4.5.
    metric = SparseCategoricalAccuracy()
    hits = metric(np.array([0, 0, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]]), [1, 3, 0.5])
    assert hits == 1.5 / 4.5


@pytest.mark.parametrize(
    ("labels", "k", "expected"),
    [
        # Scores [0.1, 0.5, 0.4, 0.5]: label 2 (0.4) is 3rd -> in top 3, not top 2.
        ([2], 3, 1.0),
        ([2], 2, 0.0),
        # Label 1 ties with label 3 for the top score: in the top 1 (in_top_k counts ties).
        ([1], 1, 1.0),
        ([3], 1, 1.0),
        ([0], 3, 0.0),
        ([0], 4, 1.0),
    ],
)
def test_top_k_on_a_hand_table_counts_ties_as_keras(labels, k, expected):
    p = np.array([[0.1, 0.5, 0.4, 0.5]])
    assert SparseTopKCategoricalAccuracy(k=k)(np.array(labels), p) == expected
    assert TopKCategoricalAccuracy(k=k)(np.eye(4)[labels], p) == expected


@pytest.mark.parametrize("cls", [TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy])
def test_top_k_above_the_class_count_names_k_and_the_classes(cls):
    y = np.eye(3)[[0, 1]] if cls is TopKCategoricalAccuracy else np.array([0, 1])
    with pytest.raises(ValueError, match=r"k must be at most the number of classes \(3\).*k=5"):
        cls()(y, np.full((2, 3), 1 / 3))


def test_sparse_top_k_refuses_labels_outside_the_classes():
    with pytest.raises(ValueError, match=r"y_true must be labels in \[0, 3\), got 3"):
        SparseTopKCategoricalAccuracy(k=2)(np.array([0, 3]), np.full((2, 3), 1 / 3))


@pytest.mark.parametrize(
    ("metric", "y_true", "y_pred", "message"),
    [
        (SparseCategoricalAccuracy(), [0, 1, 2], np.eye(3)[:2], "same number of samples"),
        (CategoricalAccuracy(), np.eye(3), np.eye(4)[:3], "one-hot of the shape of y_pred"),
        (BinaryAccuracy(), np.ones((3, 2)), np.ones((3, 1)), "same shape"),
        (SparseCategoricalAccuracy(), np.ones((3, 2)), np.eye(3), "one label per sample"),
        (CategoricalAccuracy(), np.eye(3)[0], np.eye(3)[0], r"shape \(N, C\)"),
    ],
)
def test_mismatched_shapes_are_refused(metric, y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metric.update_state(y_true, y_pred)
    assert metric.result() == 0.0  # nothing was counted


def test_sample_weight_of_another_length_is_refused():
    with pytest.raises(ValueError, match=r"sample_weight must hold one weight per sample \(2\)"):
        SparseCategoricalAccuracy().update_state([0, 1], np.eye(2), [1.0, 2.0, 3.0])


# Each row: our metric, Keras's (in float64), the batch maker.
CASES = {
    "binary": (BinaryAccuracy, "BinaryAccuracy", {}, streams.binary),
    "binary multi-label": (
        BinaryAccuracy, "BinaryAccuracy", {}, functools.partial(streams.binary, k=4)
    ),
    "binary threshold 0.3": (
        BinaryAccuracy, "BinaryAccuracy", {"threshold": 0.3}, streams.binary
    ),
    "binary labels (N,)": (
        BinaryAccuracy, "BinaryAccuracy", {}, lambda rng, n: (
            streams.binary(rng, n)[0][:, 0], streams.binary(rng, n)[1])
    ),
    "categorical": (CategoricalAccuracy, "CategoricalAccuracy", {}, streams.one_hot),
    "sparse": (SparseCategoricalAccuracy, "SparseCategoricalAccuracy", {}, streams.labels),
    "sparse (N, 1)": (
        SparseCategoricalAccuracy, "SparseCategoricalAccuracy", {},
        lambda rng, n: (lambda y, p: (y[:, None], p))(*streams.labels(rng, n)),
    ),
    "top 3": (TopKCategoricalAccuracy, "TopKCategoricalAccuracy", {"k": 3}, streams.one_hot),
    "top 5 of 8": (
        TopKCategoricalAccuracy, "TopKCategoricalAccuracy", {},
        functools.partial(streams.one_hot, c=8),
    ),
    "sparse top 2": (
        SparseTopKCategoricalAccuracy, "SparseTopKCategoricalAccuracy", {"k": 2}, streams.labels
    ),
    "sparse top 5 of 7": (
        SparseTopKCategoricalAccuracy, "SparseTopKCategoricalAccuracy", {},
        functools.partial(streams.labels, c=7),
    ),
}  # fmt: skip


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", list(CASES))
def test_accuracies_equal_keras_after_every_batch(case, weighted):
    ours, theirs, kwargs, make = CASES[case]
    batches = streams.stream(make, weighted=weighted)
    oracle = getattr(keras().metrics, theirs)(dtype="float64", **kwargs)
    expected = streams.keras_results(oracle, batches)
    got = streams.results(ours(**kwargs), batches)
    assert got == expected  # exact: every sum of these streams is exact in float64
    assert len(set(got)) > 1  # the stream moves the result


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_float32_accuracy_equals_keras_float32(weighted):
    batches = streams.stream(streams.binary, weighted=weighted, dtype=np.float32)
    expected = streams.keras_results(keras().metrics.BinaryAccuracy(), batches)
    got = streams.results(BinaryAccuracy(), batches)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)
