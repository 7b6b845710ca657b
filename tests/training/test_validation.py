"""Validation in fit: validation_freq, validation_split, validation_steps, beside Keras 3.15.1."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitrain as mt

from .twins import (
    assert_same_history,
    assert_same_weights,
    data,
    float64,
    keras_recorder,
    ours_recorder,
    pair,
)


@pytest.mark.parametrize("freq", [2, 3])
def test_validation_freq_matches_keras_hooks_and_history(freq):
    x, y = data(12)
    xv, yv = data(7, seed=4)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        kw = dict(batch_size=5, epochs=7, shuffle=False, verbose=0, validation_data=(xv, yv))
        h_ours = ours.fit(x, y, validation_freq=freq, callbacks=[rec_ours], **kw)
        h_theirs = theirs.fit(x, y, validation_freq=freq, callbacks=[rec_theirs], **kw)
    assert rec_ours.calls == rec_theirs.calls
    # History's val_ lists hold the validated epochs only: epochs freq, 2 freq, ... (1-based)
    assert len(h_ours.history["val_loss"]) == 7 // freq
    assert len(h_ours.history["loss"]) == 7
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)


def test_validation_freq_counts_absolute_epochs_from_initial_epoch():
    x, y = data(12)
    with float64():
        ours, theirs = pair()
        kw = dict(batch_size=6, epochs=6, shuffle=False, verbose=0, validation_data=(x, y))
        h_ours = ours.fit(x, y, validation_freq=2, initial_epoch=3, **kw)
        h_theirs = theirs.fit(x, y, validation_freq=2, initial_epoch=3, **kw)
    assert h_ours.epoch == [3, 4, 5]
    assert len(h_ours.history["val_loss"]) == 2  # epochs 3 and 5 (0-based): the 4th and 6th
    assert_same_history(h_ours, h_theirs)


def test_validation_freq_as_a_list_of_epochs_matches_keras():
    x, y = data(12)
    with float64():
        ours, theirs = pair()
        kw = dict(batch_size=6, epochs=5, shuffle=False, verbose=0, validation_data=(x, y))
        h_ours = ours.fit(x, y, validation_freq=[1, 4], **kw)
        h_theirs = theirs.fit(x, y, validation_freq=[1, 4], **kw)
    assert len(h_ours.history["val_loss"]) == 2
    assert_same_history(h_ours, h_theirs)


@pytest.mark.parametrize(("n", "split"), [(10, 0.25), (20, 0.3), (7, 0.5), (11, 0.1)])
def test_validation_split_trains_on_the_floor_as_keras(n, split):
    x, y = data(n)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        kw = dict(batch_size=2, epochs=2, shuffle=False, verbose=0, validation_split=split)
        h_ours = ours.fit(x, y, callbacks=[rec_ours], **kw)
        h_theirs = theirs.fit(x, y, callbacks=[rec_theirs], **kw)
    train = math.floor(n * (1 - split))
    steps = [c for c in rec_ours.calls if c[0] == "on_train_batch_end"]
    assert len(steps) == 2 * math.ceil(train / 2)
    assert rec_ours.calls == rec_theirs.calls
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)


def test_validation_steps_limits_the_validation_batches_as_keras():
    x, y = data(12)
    xv, yv = data(9, seed=2)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        kw = dict(batch_size=3, epochs=2, shuffle=False, verbose=0, validation_data=(xv, yv))
        h_ours = ours.fit(x, y, validation_steps=2, callbacks=[rec_ours], **kw)
        h_theirs = theirs.fit(x, y, validation_steps=2, callbacks=[rec_theirs], **kw)
    assert [c for c in rec_ours.calls if c[0] == "on_test_batch_end"] == [
        ("on_test_batch_end", b, ("accuracy", "loss")) for b in (0, 1) * 2
    ]
    assert rec_ours.calls == rec_theirs.calls
    assert_same_history(h_ours, h_theirs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"validation_freq": 0}, ValueError, "validation_freq"),
        ({"validation_freq": 1.5}, TypeError, "validation_freq"),
        ({"validation_steps": 0}, ValueError, "validation_steps"),
        ({"validation_split": 1.0}, ValueError, "validation_split"),
        ({"validation_data": np.zeros((4, 3))}, ValueError, "validation_data must be"),
        ({"validation_data": (np.zeros((4, 3)),)}, ValueError, "validation_data must be"),
    ],
)
def test_bad_validation_arguments_name_themselves(kwargs, error, match):
    x, y = data(10)
    with float64():
        ours, _ = pair()
    with pytest.raises(error, match=match):
        ours.fit(x, y, verbose=0, **kwargs)


def test_a_split_leaving_no_training_sample_is_refused():
    x, y = data(1)
    with float64():
        ours, _ = pair()
    with pytest.raises(ValueError, match="leaves no training sample out of 1"):
        ours.fit(x, y, validation_split=0.5, verbose=0)


def test_validation_split_of_a_dataset_is_refused():
    class Batches(mt.data.Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return data(4)

    with float64():
        ours, _ = pair()
    with pytest.raises(ValueError, match="validation_split needs x as arrays"):
        ours.fit(Batches(), validation_split=0.2, verbose=0)
