"""AUC: exact ROC AUC against sklearn.metrics.roc_auc_score, ties and weights included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from minitrain.metrics import AUC
from tests.oracles import keras


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


def _state(n=3, runs=(3,), labels=None, scores=None):
    return {
        "scores": np.arange(n, dtype=np.float64) if scores is None else scores,
        "labels": np.arange(n) % 2 == 0 if labels is None else labels,
        "weights": np.ones(n),
        "runs": np.array(runs, dtype=np.int64),
        "pairs": np.array(0.0),
    }


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({**_state(), "labels": np.zeros(2, bool)},
         r"state\['labels'\] must hold one value per score \(3\), got 2"),
        ({**_state(), "labels": np.zeros(3)}, r"state\['labels'\] must be an array of kind 'b'"),
        ({**_state(), "scores": np.zeros((3, 1))}, r"state\['scores'\] must have shape \(n,\)"),
        (_state(runs=(2,)), r"state\['runs'\] must be positive run lengths adding up to 3"),
        (_state(runs=(3, 0)), r"state\['runs'\] must be positive run lengths"),
        (_state(scores=np.array([0.0, 2.0, 1.0])), r"must hold each run sorted"),
        ({**_state(), "pairs": np.zeros(1)}, r"state\['pairs'\] must have shape \(\)"),
    ],
)  # fmt: skip
def test_auc_state_is_checked_and_nothing_changes_on_error(state, message):
    metric = AUC()
    metric.update_state([0, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match=message):
        metric.load_state_dict(state)
    assert metric.result() == 1.0


def test_auc_state_of_two_runs_loads():
    # Runs [0, 2] and [1]: positives at 0 and 1, negative at 2 -> no pair in order.
    state = _state(runs=(2, 1), scores=np.array([0.0, 2.0, 1.0]), labels=np.array([1, 0, 1]) == 1)
    metric = AUC()
    metric.load_state_dict(state)
    assert metric.result() == 0.0  # pairs 0 as stored
    metric.update_state([0], [-1.0])  # a negative below everything: 2 ordered pairs more
    assert metric.result() == 2 / (2 * 2)


def test_auc_runs_stay_few_and_logarithmic():
    rng = np.random.default_rng(9)
    metric = AUC()
    for _ in range(500):
        metric.update_state(rng.integers(0, 2, 32), rng.random(32))
    runs = metric.state_dict()["runs"]
    assert runs.sum() == 16000
    assert len(runs) <= 1 + int(np.log2(16000 / 32)) + 1
    assert (runs[:-1] > 2 * runs[1:]).all()  # each run more than twice the next


@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 6), st.sampled_from([0.0, 0.5, 1.0, 2.5])),
        min_size=1,
        max_size=60,
    ),
    st.lists(st.integers(1, 12), min_size=1, max_size=8),
    st.integers(0, 8),
)
def test_auc_equals_sklearn_for_any_split_into_batches_and_any_backup_point(
    samples, sizes, backup_after
):
    # Scores on a grid of 7 values: ties everywhere; weights include 0.
    t, s, w = (np.array(column) for column in zip(*samples, strict=True))
    bounds = np.minimum(np.cumsum([0, *sizes, len(t)]), len(t))
    metric = AUC()
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if a == b:
            continue
        if i == backup_after:
            resumed = AUC()
            resumed.load_state_dict(metric.state_dict())
            metric = resumed
        metric.update_state(t[a:b], s[a:b] / 7, sample_weight=w[a:b])
    positive, negative = w[t == 1].sum(), w[t == 0].sum()
    if positive == 0 or negative == 0:
        assert metric.result() == 0.0
    else:
        expected = roc_auc_score(t, s / 7, sample_weight=w)
        assert metric.result() == pytest.approx(expected, rel=1e-12, abs=1e-15)
