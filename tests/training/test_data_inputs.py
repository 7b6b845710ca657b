"""What fit, evaluate and predict read: array-likes, Datasets, generators (beside Keras 3.15.1)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import minitrain as mt

from .twins import (
    assert_same_history,
    assert_same_weights,
    data,
    float64,
    keras,
    keras_recorder,
    ours_recorder,
    pair,
)


def batches_of(x, y, size):
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]


def counting(base, batches):
    """A Dataset of ``base`` (minitrain's or Keras's PyDataset) over fixed batches, counting
    its ``on_epoch_end`` calls and the batches asked for."""

    class Counting(base):
        def __init__(self):
            super().__init__()
            self.epoch_ends = 0
            self.asked = []

        def __len__(self):
            return len(batches)

        def __getitem__(self, index):
            self.asked.append(index)
            return batches[index]

        def on_epoch_end(self):
            self.epoch_ends += 1

    return Counting()


# ------------------------------------------------------------------ array-likes


def test_a_list_a_dataframe_and_an_array_give_bit_identical_runs():
    x, y = data(30)
    runs = []
    for xs, ys in (
        (x, y),
        (x.tolist(), y.tolist()),
        (pd.DataFrame(x, columns=["a", "b", "c"]), pd.Series(y)),
    ):
        model = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
        model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(xs, ys, batch_size=8, epochs=3, verbose=0, validation_split=0.2)
        runs.append((h.history, model.get_weights(), model.predict(xs, verbose=0)))
    for history, weights, out in runs[1:]:
        assert history == runs[0][0]
        for a, b in zip(weights, runs[0][1], strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(out, runs[0][2])


def test_a_list_of_strings_is_a_type_error_naming_x():
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="x must hold numbers"):
        model.fit([["a", "b", "c"]], [[0.0, 1.0, 2.0]], verbose=0)


def test_an_unsupported_input_names_what_is_accepted():
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="Dataset or an iterator"):
        model.fit(object(), verbose=0)


# ------------------------------------------------------------------- Datasets


@pytest.mark.parametrize("steps_per_epoch", [None, 2])
def test_a_dataset_matches_keras_pydataset(steps_per_epoch):
    x, y = data(20)
    xv, yv = data(8, seed=3)
    with float64():
        ours, theirs = pair()
        ds_ours = counting(mt.data.Dataset, batches_of(x, y, 6))
        ds_theirs = counting(keras.utils.PyDataset, batches_of(x, y, 6))
        val_ours = counting(mt.data.Dataset, batches_of(xv, yv, 3))
        val_theirs = counting(keras.utils.PyDataset, batches_of(xv, yv, 3))
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        kw = dict(epochs=3, shuffle=False, verbose=0, steps_per_epoch=steps_per_epoch)
        h_ours = ours.fit(ds_ours, validation_data=val_ours, callbacks=[rec_ours], **kw)
        h_theirs = theirs.fit(ds_theirs, validation_data=val_theirs, callbacks=[rec_theirs], **kw)
    assert rec_ours.calls == rec_theirs.calls
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)
    assert ds_ours.epoch_ends == ds_theirs.epoch_ends
    assert val_ours.epoch_ends == val_theirs.epoch_ends


def test_a_shuffled_dataset_permutes_whole_batches_each_epoch():
    x, y = data(20)
    ds = counting(mt.data.Dataset, batches_of(x, y, 4))
    model = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
    model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(ds, epochs=3, shuffle=True, verbose=0)
    epochs = [ds.asked[i : i + 5] for i in range(0, 15, 5)]
    for order in epochs:
        assert sorted(order) == [0, 1, 2, 3, 4]
    assert len({tuple(order) for order in epochs}) > 1  # a new order every epoch


def test_a_dataset_with_sample_weights_equals_the_arrays_with_them():
    x, y = data(12)
    w = np.linspace(0.5, 2.0, 12)
    runs = []
    for source in ("arrays", "dataset"):
        model = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
        model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy")
        if source == "arrays":
            h = model.fit(x, y, sample_weight=w, batch_size=4, shuffle=False, epochs=2, verbose=0)
        else:
            batches = [(x[i : i + 4], y[i : i + 4], w[i : i + 4]) for i in range(0, 12, 4)]
            h = model.fit(counting(mt.data.Dataset, batches), shuffle=False, epochs=2, verbose=0)
        runs.append((h.history, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_y_with_a_dataset_is_refused():
    x, y = data(4)
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="y must be None when x is a Dataset"):
        model.fit(counting(mt.data.Dataset, [(x, y)]), y, verbose=0)


# ------------------------------------------------------------------ generators


def cycle(x, y, size):
    return itertools.cycle(batches_of(x, y, size))


def test_a_generator_with_steps_per_epoch_matches_keras():
    x, y = data(20)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        kw = dict(epochs=3, steps_per_epoch=3, shuffle=False, verbose=0)
        h_ours = ours.fit((b for b in cycle(x, y, 6)), callbacks=[rec_ours], **kw)
        h_theirs = theirs.fit((b for b in cycle(x, y, 6)), callbacks=[rec_theirs], **kw)
    assert rec_ours.calls == rec_theirs.calls
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)


def test_a_generator_without_steps_per_epoch_is_one_pass():
    x, y = data(20)
    model = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
    model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy")
    rec = ours_recorder()
    h = model.fit(iter(batches_of(x, y, 6)), epochs=1, verbose=0, callbacks=[rec])
    assert [c[1] for c in rec.calls if c[0] == "on_train_batch_end"] == [0, 1, 2, 3]
    twin = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
    twin.compile(mt.SGD(0.1), "sparse_categorical_crossentropy")
    h_twin = twin.fit(x, y, batch_size=6, shuffle=False, epochs=1, verbose=0)
    assert h.history == h_twin.history


def test_a_generator_that_runs_out_warns_at_the_callers_line_and_stops():
    x, y = data(12)
    model = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
    model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="ran out of data") as caught:
        h = model.fit(iter(batches_of(x, y, 4)), epochs=5, steps_per_epoch=2, verbose=0)
    assert caught[0].filename == __file__
    assert h.epoch == [0, 1]  # 3 batches: epoch 0 takes two, epoch 1 the last one


def test_predict_reads_a_generator_of_x_alone_or_one_tuples():
    x, _ = data(10)
    model = mt.MLP([3, 4, 2], seed=0, dtype=np.float64)
    expected = model.predict(x, verbose=0)
    alone = model.predict((x[i : i + 3] for i in range(0, 10, 3)), verbose=0)
    tuples = model.predict(((x[i : i + 4],) for i in range(0, 10, 4)), verbose=0)
    np.testing.assert_array_equal(alone, expected)
    np.testing.assert_array_equal(tuples, expected)


def test_evaluate_reads_a_dataset_with_steps():
    x, y = data(12)
    with float64():
        ours, theirs = pair()
        got = ours.evaluate(counting(mt.data.Dataset, batches_of(x, y, 4)), steps=2, verbose=0)
        expected = theirs.evaluate(
            counting(keras.utils.PyDataset, batches_of(x, y, 4)), steps=2, verbose=0
        )
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_generator_exhausted_by_the_first_epoch_ends_the_run_after_it():
    x, y = data(12)
    model = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
    model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="ran out of data"):
        h = model.fit(iter(batches_of(x, y, 4)), epochs=3, verbose=0)
    assert h.epoch == [0]
    assert {k: len(v) for k, v in h.history.items()} == {"loss": 1, "learning_rate": 1}


def test_arrays_with_steps_per_epoch_go_on_across_epochs_as_keras():
    # 10 batches per pass and 4 per epoch: epochs of 4, 4, then 2 when the pass ends
    # (with Keras's warning), then a new pass.
    x, y = data(20)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        kw = dict(batch_size=2, epochs=4, steps_per_epoch=4, shuffle=False, verbose=0)
        with pytest.warns(UserWarning, match="ran out of data"):
            h_ours = ours.fit(x, y, callbacks=[rec_ours], **kw)
        h_theirs = theirs.fit(x, y, callbacks=[rec_theirs], **kw)
    batches = [c[1] for c in rec_ours.calls if c[0] == "on_train_batch_end"]
    assert batches == [0, 1, 2, 3] * 2 + [0, 1] + [0, 1, 2, 3]
    assert rec_ours.calls == rec_theirs.calls
    assert_same_history(h_ours, h_theirs)
    assert_same_weights(ours, theirs)
