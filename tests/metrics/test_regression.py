"""MeanSquaredError and MeanAbsoluteError metrics: hand values, Keras after every batch."""

from __future__ import annotations

import numpy as np
import pytest

from minitrain.metrics import MeanAbsoluteError, MeanSquaredError
from tests.metrics import streams
from tests.oracles import keras

METRICS = [(MeanSquaredError, "MeanSquaredError"), (MeanAbsoluteError, "MeanAbsoluteError")]


def test_mse_and_mae_on_a_hand_table():
    # Errors [[1, -1], [0, 3]]: per sample mse [1, 4.5], mae [1, 1.5];
    # with weights [3, 1]: mse (3 + 4.5) / 4, mae (3 + 1.5) / 4.
    t = np.array([[0.0, 1.0], [2.0, 0.0]])
    p = np.array([[1.0, 0.0], [2.0, 3.0]])
    assert MeanSquaredError()(t, p) == 2.75
    assert MeanAbsoluteError()(t, p) == 1.25
    assert MeanSquaredError()(t, p, np.array([3.0, 1.0])) == 7.5 / 4
    assert MeanAbsoluteError()(t, p, np.array([3.0, 1.0])) == 4.5 / 4


def test_targets_of_shape_n_meet_one_output_column():
    assert MeanSquaredError()([1, 2, 3], np.array([[1.0], [2.0], [5.0]])) == 4 / 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_errors_are_taken_in_the_predictions_dtype(dtype, monkeypatch):
    seen = []
    original = MeanSquaredError.values

    def spy(self, t, p):
        v = original(self, t, p)
        seen.append(v.dtype)
        return v

    monkeypatch.setattr(MeanSquaredError, "values", spy)
    # float64 targets (as a user may pass them) do not lift float32 predictions.
    MeanSquaredError()(np.ones((4, 3)), np.zeros((4, 3), dtype=dtype))
    assert seen == [np.dtype(dtype)]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("ours", "theirs"), METRICS, ids=["mse", "mae"])
def test_equal_keras_after_every_batch_in_float64(ours, theirs, weighted):
    batches = streams.stream(streams.regression, weighted=weighted)
    oracle = getattr(keras().metrics, theirs)(dtype="float64")
    expected = streams.keras_results(oracle, batches)
    assert streams.results(ours(), batches) == expected  # exact, as every sum here is


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("ours", "theirs"), METRICS, ids=["mse", "mae"])
def test_equal_keras_in_float32(ours, theirs, weighted):
    batches = streams.stream(streams.normal, weighted=weighted, dtype=np.float32)
    expected = streams.keras_results(getattr(keras().metrics, theirs)(), batches)
    np.testing.assert_allclose(streams.results(ours(), batches), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("ours", "power"), [(MeanSquaredError, 2), (MeanAbsoluteError, 1)])
def test_float64_running_value_is_the_weighted_mean_of_every_sample_so_far(ours, power, weighted):
    # An oracle without Keras's float32 means: np.average over the concatenated batches.
    batches = streams.stream(streams.normal, weighted=weighted)
    metric = ours()
    for i, (t, p, w) in enumerate(batches):
        metric.update_state(t, p, sample_weight=w)
        seen = batches[: i + 1]
        per_sample = np.concatenate([np.mean(np.abs(p - t) ** power, axis=1) for t, p, _ in seen])
        weights = None if w is None else np.concatenate([w for _, _, w in seen])
        np.testing.assert_allclose(
            metric.result(), np.average(per_sample, weights=weights), rtol=1e-14, atol=0
        )


@pytest.mark.parametrize("cls", [MeanSquaredError, MeanAbsoluteError])
def test_shapes_that_do_not_match_are_refused(cls):
    with pytest.raises(ValueError, match=r"same shape, got \(3, 2\) and \(3, 3\)"):
        cls()(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same number of samples, got 3 and 2"):
        cls()(np.zeros((3, 2)), np.zeros((2, 2)))
