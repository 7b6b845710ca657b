"""Precision and Recall against keras.metrics; AUC against sklearn.metrics.roc_auc_score."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from minitrain.metrics import AUC, Precision, Recall
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
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    assert len(set(got)) > 1


def test_precision_in_float32_equals_keras():
    batches = streams.stream(streams.binary, weighted=True, dtype=np.float32)
    expected = streams.keras_results(keras().metrics.Precision(), batches)
    np.testing.assert_allclose(streams.results(Precision(), batches), expected, rtol=1e-6)


# AUC


def test_auc_on_a_hand_table_counts_a_tie_one_half():
    # Positives score 0.8 and 0.4, negatives 0.4 and 0.1: of the four pairs three are
    # ordered right and one (0.4, 0.4) is tied -> (3 + 0.5) / 4.
    assert AUC()(np.array([1, 1, 0, 0]), np.array([0.8, 0.4, 0.4, 0.1])) == 0.875


def _auc_batches(rng, sizes, *, weighted, tie_decimals):
    batches = []
    for n in sizes:
        t = rng.integers(0, 2, n)
        p = np.round(rng.random(n), tie_decimals)
        w = rng.uniform(0, 3, n) if weighted else None
        batches.append((t, p, w))
    return batches


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("tie_decimals", [1, 2, 15], ids=["many ties", "some ties", "no ties"])
def test_auc_equals_sklearn_on_everything_seen_after_every_batch(tie_decimals, weighted):
    rng = np.random.default_rng(7)
    batches = _auc_batches(
        rng, (40, 1, 300, 17, 1000), weighted=weighted, tie_decimals=tie_decimals
    )
    metric = AUC()
    for i, (t, p, w) in enumerate(batches):
        metric.update_state(t, p, sample_weight=w)
        seen = batches[: i + 1]
        ts = np.concatenate([b[0] for b in seen])
        ps = np.concatenate([b[1] for b in seen])
        ws = None if w is None else np.concatenate([b[2] for b in seen])
        if len(set(ts)) < 2:
            continue
        np.testing.assert_allclose(
            metric.result(), roc_auc_score(ts, ps, sample_weight=ws), rtol=1e-13, atol=0
        )


def test_auc_takes_n_1_shapes_and_float32_scores():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 2, 200)
    p = np.round(rng.random(200), 2).astype(np.float32)
    metric = AUC()
    metric.update_state(t[:100, None], p[:100, None])
    metric.update_state(t[100:], p[100:])
    assert metric.result() == pytest.approx(roc_auc_score(t, p), rel=1e-13)


def test_auc_of_logits_equals_auc_of_probabilities():
    rng = np.random.default_rng(2)
    t = rng.integers(0, 2, 500)
    logits = rng.normal(size=500)
    assert AUC()(t, logits) == AUC()(t, 1 / (1 + np.exp(-logits)))


def test_auc_is_0_while_undefined():
    metric = AUC()
    assert metric.result() == 0.0
    assert metric(np.array([1, 1]), np.array([0.2, 0.3])) == 0.0  # no negative yet
    assert metric(np.array([0]), np.array([0.25])) == 0.5


def test_auc_differs_from_keras_by_its_200_thresholds_only():
    # Keras's AUC buckets the scores into 200 thresholds; with scores on that grid the
    # buckets are exact and the two agree.
    rng = np.random.default_rng(4)
    t = rng.integers(0, 2, 400)
    p = rng.integers(1, 199, 400) / 199 + 1e-4
    oracle = keras().metrics.AUC(dtype="float64")
    oracle.update_state(t, p)
    assert AUC()(t, p) == pytest.approx(float(oracle.result()), rel=1e-6)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 2, 1], [0.1, 0.2, 0.3], "y_true must be labels 0 or 1, got 2"),
        ([0, 0.5, 1], [0.1, 0.2, 0.3], "y_true must be labels 0 or 1, got 0.5"),
        ([0, 1], [[0.1, 0.9], [0.2, 0.8]], r"one score per sample, shape \(N,\) or \(N, 1\)"),
        ([0, 1], [0.1, np.nan], "y_pred must be finite"),
        ([0, 1, 1], [0.1, 0.2], "same number of samples, got 3 and 2"),
    ],
)
def test_auc_refuses_bad_input_and_keeps_its_state(y_true, y_pred, message):
    metric = AUC()
    metric.update_state([0, 1], [0.3, 0.6])
    with pytest.raises(ValueError, match=message):
        metric.update_state(y_true, y_pred)
    assert len(metric.state_dict()["scores"]) == 2
    assert metric.result() == 1.0


def test_auc_state_grows_across_many_small_batches():
    rng = np.random.default_rng(5)
    t = rng.integers(0, 2, 5000)
    p = rng.random(5000)
    metric = AUC()
    for start in range(0, 5000, 37):
        metric.update_state(t[start : start + 37], p[start : start + 37])
    assert metric.result() == pytest.approx(roc_auc_score(t, p), rel=1e-13)
    metric.reset_state()
    assert metric.result() == 0.0
    assert metric(t[:10], p[:10]) == pytest.approx(roc_auc_score(t[:10], p[:10]), rel=1e-13)
