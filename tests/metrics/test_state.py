"""The metric state: reset_state, state_dict/load_state_dict mid-stream, configs, Mean.

A backup taken mid-epoch must resume bit for bit: a fresh metric rebuilt from the
config and loaded with the state, fed the rest of the stream, gives exactly the
results of the metric that never stopped.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from minitrain import metrics
from minitrain.metrics import (
    AUC,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    MeanAbsoluteError,
    MeanSquaredError,
    Precision,
    Recall,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from tests.metrics import streams
from tests.oracles import keras

METRICS = {
    "Accuracy": (lambda: Accuracy(name="acc"), streams.labels),
    "BinaryAccuracy": (lambda: BinaryAccuracy(name="bin", threshold=0.3), streams.binary),
    "CategoricalAccuracy": (CategoricalAccuracy, streams.one_hot),
    "SparseCategoricalAccuracy": (SparseCategoricalAccuracy, streams.labels),
    "TopKCategoricalAccuracy": (lambda: TopKCategoricalAccuracy(k=2), streams.one_hot),
    "SparseTopKCategoricalAccuracy": (
        lambda: SparseTopKCategoricalAccuracy(k=3, name="top3"),
        streams.labels,
    ),
    "MeanSquaredError": (MeanSquaredError, streams.normal),
    "MeanAbsoluteError": (lambda: MeanAbsoluteError(name="mae"), streams.normal),
    "Precision": (lambda: Precision(thresholds=0.4), streams.binary),
    "Recall": (lambda: Recall(thresholds=0.6, name="r"), streams.binary),
    "AUC": (AUC, streams.binary),
}


def _npz_round_trip(state):
    # As a backup stores it: an .npz read back without pickle.
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        return {key: loaded[key] for key in loaded.files}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", list(METRICS))
def test_state_dict_mid_stream_resumes_bit_for_bit(name, weighted):
    make_metric, make_batches = METRICS[name]
    batches = streams.stream(make_batches, weighted=weighted, seed=11)
    uninterrupted = make_metric()
    expected = streams.results(uninterrupted, batches)

    first = make_metric()
    streams.results(first, batches[:3])
    state = _npz_round_trip(first.state_dict())
    config = json.loads(json.dumps(first.get_config()))
    resumed = metrics.from_config(config)
    resumed.load_state_dict(state)
    assert resumed.result() == expected[2]
    assert streams.results(resumed, batches[3:]) == expected[3:]
    assert resumed.name == uninterrupted.name


@pytest.mark.parametrize("name", list(METRICS))
def test_state_dict_is_a_copy(name):
    make_metric, make_batches = METRICS[name]
    batches = streams.stream(make_batches, weighted=True, seed=2)
    metric = make_metric()
    streams.results(metric, batches[:2])
    state = metric.state_dict()
    snapshot = {k: v.copy() for k, v in state.items()}
    streams.results(metric, batches[2:])
    for key, value in state.items():
        np.testing.assert_array_equal(value, snapshot[key])


@pytest.mark.parametrize("name", list(METRICS))
def test_reset_state_forgets_every_batch(name):
    make_metric, make_batches = METRICS[name]
    batches = streams.stream(make_batches, weighted=True, seed=5)
    metric = make_metric()
    streams.results(metric, batches)
    metric.reset_state()
    assert metric.result() == 0.0
    assert streams.results(metric, batches[1:]) == streams.results(make_metric(), batches[1:])


@pytest.mark.parametrize("name", list(METRICS))
def test_call_is_update_state_then_result_as_a_python_float(name):
    make_metric, make_batches = METRICS[name]
    (t, p, w), *_ = streams.stream(make_batches, weighted=True, seed=8)
    called, updated = make_metric(), make_metric()
    value = called(t, p, sample_weight=w)
    updated.update_state(t, p, sample_weight=w)
    assert type(value) is float
    assert type(updated.result()) is float
    assert value == updated.result()


@pytest.mark.parametrize("name", list(METRICS))
def test_config_round_trips_through_json(name):
    make_metric, _ = METRICS[name]
    metric = make_metric()
    config = metric.get_config()
    rebuilt = metrics.from_config(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(metric)
    assert rebuilt.get_config() == config
    assert config["config"]["name"] == metric.name


def test_accuracy_keeps_its_choice_across_reset_and_in_its_state():
    metric = Accuracy()
    metric.update_state([0, 2], np.eye(3)[:2])
    assert metric.resolved == "sparse_categorical_accuracy"
    metric.reset_state()
    assert metric.resolved == "sparse_categorical_accuracy"
    fresh = Accuracy()
    fresh.load_state_dict(metric.state_dict())
    assert fresh.resolved == "sparse_categorical_accuracy"


def test_accuracy_does_not_choose_on_a_refused_batch():
    metric = Accuracy()
    with pytest.raises(ValueError, match="same number of samples"):
        metric.update_state([0, 1, 1], np.eye(3)[:2])
    assert metric.resolved is None


STATE = {"total": np.array(1.0), "count": np.array(2.0)}


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        ({"total": np.array(1.0)}, ValueError, "state is missing the key 'count'"),
        ({**STATE, "extra": np.array(0.0)}, ValueError, "state has the unknown key 'extra'"),
        ({**STATE, "count": np.array([2.0])}, ValueError,
         r"state\['count'\] must have shape \(\), got \(1,\)"),
        ({**STATE, "count": 2.0}, ValueError, r"state\['count'\] must be an array"),
        ({**STATE, "count": np.array("2")}, ValueError, r"state\['count'\] must be an array"),
        ([1.0, 2.0], TypeError, "state must be a dict of arrays"),
    ],
)  # fmt: skip
def test_load_state_dict_is_checked_and_changes_nothing_on_error(state, error, message):
    metric = MeanSquaredError()
    metric.update_state([[1.0]], [[3.0]])
    with pytest.raises(error, match=message):
        metric.load_state_dict(state)
    assert metric.result() == 4.0


def test_accuracy_state_names_its_valid_choices():
    state = {**STATE, "resolved": np.array("top_k")}
    with pytest.raises(ValueError, match=r"state\['resolved'\] must be one of ''"):
        Accuracy().load_state_dict(state)


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"class": "F1Score", "config": {}}, ValueError, r"config\['class'\] must be one of"),
        ("auc", TypeError, "config must be a dict"),
    ],
)
def test_from_config_rejects_what_is_not_a_metric_config(config, error, message):
    with pytest.raises(error, match=message):
        metrics.from_config(config)


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match="name must be a str or None, got 3"):
        Precision(name=3)


# Mean, the fit loop's loss tracker


def test_mean_weights_each_batch_loss_by_its_sample_count():
    # Keras's loss tracker: update_state(batch_loss, sample_weight=batch_size).
    tracker = Mean(name="loss")
    tracker.update_state(2.0, sample_weight=32)
    tracker.update_state(0.5, sample_weight=8)
    assert tracker.result() == (2.0 * 32 + 0.5 * 8) / 40
    assert tracker.name == "loss"


@pytest.mark.parametrize(
    "batches",
    [
        [(np.float64(0.75), 32), (np.float64(0.25), 7), (np.float64(1.5), 1)],
        [(np.arange(6) / 8, None), (np.arange(3) / 4, np.array([0.25, 1.0, 2.0]))],
        [(np.arange(8).reshape(4, 2) / 8, np.array([1.0, 0.0, 0.5, 2.0])), (np.ones((2, 2)), None)],
        [(np.arange(4) / 8, np.array([[1.0], [0.25], [0.5], [2.0]]))],
    ],
    ids=["scalar losses", "vectors", "(N, 2) values", "(N, 1) weights"],
)
def test_mean_equals_keras_mean(batches):
    oracle = keras().metrics.Mean(dtype="float64")
    ours = Mean()
    for values, weight in batches:
        oracle.update_state(values, sample_weight=weight)
        ours.update_state(values, sample_weight=weight)
        total, count = (float(np.asarray(v.numpy())) for v in oracle.variables)
        assert ours.result() == total / count
        assert ours.state_dict()["total"] == total
        assert ours.state_dict()["count"] == count


def test_mean_of_nothing_is_0():
    assert Mean().result() == 0.0


def test_mean_refuses_weights_of_another_length():
    with pytest.raises(ValueError, match=r"sample_weight must hold one weight per sample \(3\)"):
        Mean().update_state(np.ones(3), sample_weight=np.ones(2))


@pytest.mark.parametrize("n", [1, 7, 128, 60_000])
def test_add_batch_mean_gives_the_sums_of_the_checked_update(n):
    rng = np.random.default_rng(n)
    fast, checked = metrics.Mean(name="loss"), metrics.Mean(name="loss")
    for loss in rng.standard_normal(9) * 10.0 ** rng.integers(-8, 8, 9):
        fast.add_batch_mean(float(loss), n)
        checked.update_state(float(loss), sample_weight=n)
        assert (fast.total, fast.count) == (checked.total, checked.count)
        assert type(fast.count) is type(checked.count) is float
    assert fast.result() == checked.result()
