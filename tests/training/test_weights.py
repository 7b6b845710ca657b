"""Sample and class weights in fit and evaluate, side by side with Keras 3.15.1."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt

from .twins import RTOL, assert_same_history, assert_same_weights, data, float64, keras, pair


def sample_weights(n: int, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 2.0, size=n)


def test_sample_weight_matches_keras_history_and_weights():
    x, y = data(20)
    w = sample_weights(20)
    with float64():
        ours, theirs = pair(metrics=["accuracy"], weighted_metrics=["accuracy"])
        kw = dict(batch_size=6, epochs=3, shuffle=False, verbose=0, sample_weight=w)
        h_ours = ours.fit(x, y, **kw)
        h_theirs = theirs.fit(x, y, **kw)
    # the unweighted and the weighted accuracy differ: one sees the weights, one does not
    assert h_ours.history["accuracy"] != h_ours.history["weighted_accuracy"]
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)


def test_class_weight_matches_keras_history_and_weights():
    x, y = data(20)
    class_weight = {0: 0.5, 1: 2.0}  # class 2 missing: weight 1, as Keras
    with float64():
        ours, theirs = pair(weighted_metrics=["accuracy"])
        kw = dict(batch_size=8, epochs=3, shuffle=False, verbose=0, class_weight=class_weight)
        h_ours = ours.fit(x, y, **kw)
        h_theirs = theirs.fit(x, y, **kw)
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)


def test_weighted_validation_data_matches_keras():
    x, y = data(20)
    xv, yv = data(9, seed=5)
    wv = sample_weights(9, seed=6)
    with float64():
        ours, theirs = pair(weighted_metrics=["accuracy"])
        kw = dict(batch_size=4, epochs=2, shuffle=False, verbose=0, validation_data=(xv, yv, wv))
        h_ours = ours.fit(x, y, **kw)
        h_theirs = theirs.fit(x, y, **kw)
    assert "val_weighted_accuracy" in h_ours.history
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)


def test_weighted_evaluate_matches_keras():
    x, y = data(17)
    w = sample_weights(17)
    with float64():
        ours, theirs = pair(weighted_metrics=["accuracy"])
        got = ours.evaluate(x, y, sample_weight=w, batch_size=5, verbose=0, return_dict=True)
        expected = theirs.evaluate(x, y, sample_weight=w, batch_size=5, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=RTOL), key


def test_unit_sample_weights_change_nothing_but_rounding():
    x, y = data(20)
    runs = []
    for w in (None, np.ones(20)):
        with float64():
            ours, _ = pair()
        h = ours.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0, sample_weight=w)
        runs.append((h.history, ours.get_weights()))
    for key, values in runs[0][0].items():
        np.testing.assert_allclose(runs[1][0][key], values, rtol=1e-14, err_msg=key)
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_class_weight_and_sample_weight_together_are_refused():
    x, y = data(10)
    with float64():
        ours, _ = pair()
    before = ours.get_weights()
    with pytest.raises(ValueError, match="class_weight and sample_weight"):
        ours.fit(x, y, class_weight={0: 2.0}, sample_weight=np.ones(10), verbose=0)
    for a, b in zip(before, ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("class_weight", "error", "match"),
    [
        ([1.0, 2.0], TypeError, "class_weight must be a dict"),
        ({"a": 1.0}, TypeError, "class indices"),
        ({0: -1.0}, ValueError, r"class_weight\[0\]"),
        ({0: float("inf")}, ValueError, r"class_weight\[0\]"),
    ],
)
def test_bad_class_weight_names_the_argument(class_weight, error, match):
    x, y = data(10)
    with float64():
        ours, _ = pair()
    with pytest.raises(error, match=match):
        ours.fit(x, y, class_weight=class_weight, verbose=0)


def test_class_weight_of_one_hot_targets_uses_the_argmax():
    x, y = data(12)
    onehot = mt.data.to_categorical(y, C := 3).astype(np.float64)
    runs = []
    for loss, targets, cw in (
        ("sparse_categorical_crossentropy", y, {0: 3.0}),
        ("categorical_crossentropy", onehot, {0: 3.0}),
    ):
        with float64():
            model, _ = pair()
        model.compile(mt.SGD(0.1), loss)
        model.fit(x, targets, batch_size=4, epochs=1, shuffle=False, verbose=0, class_weight=cw)
        runs.append(model.get_weights())
    assert C == 3
    for a, b in zip(*runs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_keras_is_the_oracle_here():
    assert keras.__version__ == "3.15.1"


def test_validation_split_splits_the_sample_weights_too_as_keras():
    x, y = data(20)
    w = sample_weights(20)
    with float64():
        ours, theirs = pair(weighted_metrics=["accuracy"])
        kw = dict(batch_size=4, epochs=2, shuffle=False, verbose=0, validation_split=0.3)
        h_ours = ours.fit(x, y, sample_weight=w, **kw)
        h_theirs = theirs.fit(x, y, sample_weight=w, **kw)
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)
