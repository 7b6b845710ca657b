"""Precision and Recall: hand tables, then keras.metrics after every batch."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from minitrain.metrics import Precision, Recall
from tests.metrics import streams
from tests.oracles import keras


def test_precision_and_recall_on_a_hand_table():
    # p > 0.5 -> predicted [1, 1, 0, 0, 1], actual [1, 0, 1, 0, 1]:
    # TP = 2 (rows 0, 4), FP = 1 (row 1), FN = 1 (row 2).
    t = np.array([1, 0, 1, 0, 1])
    p = np.array([0.9, 0.6, 0.4, 0.1, 0.51])
    assert Precision()(t, p) == 2 / 3
    assert Recall()(t, p) == 2 / 3
    # Weights [1, 2, 3, 1, 0.5]: TP = 1.5, FP = 2, FN = 3.
    w = np.array([1, 2, 3, 1, 0.5])
    assert Precision()(t, p, w) == 1.5 / 3.5
    assert Recall()(t, p, w) == 1.5 / 4.5
    # thresholds=0.55 drops row 4: TP = 1, FP = 1, FN = 2.
    assert Precision(thresholds=0.55)(t, p) == 0.5
    assert Recall(thresholds=0.55)(t, p) == 1 / 3


def test_precision_and_recall_are_0_before_any_positive():
    assert Precision().result() == 0.0
    assert Recall()(np.array([0, 0]), np.array([0.9, 0.1])) == 0.0


@pytest.mark.parametrize("thresholds", [-0.1, 1.5])
def test_thresholds_outside_0_1_are_refused(thresholds):
    with pytest.raises(ValueError, match=r"thresholds must be a real number in \[0.0, 1.0\]"):
        Precision(thresholds=thresholds)
    with pytest.raises(ValueError, match=r"thresholds must be a real number in \[0.0, 1.0\]"):
        Recall(thresholds=thresholds)


def test_thresholds_is_one_value():
    with pytest.raises(TypeError, match="thresholds must be a real number"):
        Precision(thresholds=[0.3, 0.5])


def _soft(rng, n):
    # Keras casts targets to bool: 0.3 is a positive.
    t, p = streams.binary(rng, n, k=2)
    t[rng.random(t.shape) < 0.3] = 0.25
    return t, p


def _logits(rng, n):
    t, _ = streams.binary(rng, n)
    return t, streams.ties(rng.normal(size=(n, 1)))


CASES = {
    "one column": ({}, streams.binary),
    "labels (N,)": ({}, lambda rng, n: (lambda t, p: (t[:, 0], p))(*streams.binary(rng, n))),
    "multi-label": ({}, functools.partial(streams.binary, k=4)),
    "threshold 0.3": ({"thresholds": 0.3}, streams.binary),
    "logits at 0": ({"thresholds": 0.0}, _logits),
    "soft targets": ({}, _soft),
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(("ours", "theirs"), [(Precision, "Precision"), (Recall, "Recall")])
def test_precision_and_recall_equal_keras_after_every_batch(ours, theirs, case, weighted):
    kwargs, make = CASES[case]
    batches = streams.stream(make, weighted=weighted, seed=3)
    oracle = getattr(keras().metrics, theirs)(dtype="float64", **kwargs)
    expected = streams.keras_results(oracle, batches)
    got = streams.results(ours(**kwargs), batches)
    assert got == expected  # exact: every sum of these streams is exact in float64
    assert len(set(got)) > 1


def test_precision_in_float32_equals_keras():
    batches = streams.stream(streams.binary, weighted=True, dtype=np.float32)
    expected = streams.keras_results(keras().metrics.Precision(), batches)
    np.testing.assert_allclose(streams.results(Precision(), batches), expected, rtol=1e-6)
