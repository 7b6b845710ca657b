"""evaluate and predict hooks, "acc" naming, CSVLogger with validation_freq, beside Keras 3.15.1."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt

from .twins import (
    OUTPUT_ATOL,
    RTOL,
    assert_same_history,
    data,
    float64,
    keras,
    keras_recorder,
    ours_recorder,
    pair,
)


def test_evaluate_fires_the_test_hooks_as_keras():
    x, y = data(11)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        got = ours.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec_ours])
        expected = theirs.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec_theirs])
    assert rec_ours.calls == rec_theirs.calls
    assert [c[0] for c in rec_ours.calls] == ["on_test_begin"] + [
        "on_test_batch_begin",
        "on_test_batch_end",
    ] * 3 + ["on_test_end"]
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_predict_fires_the_predict_hooks_as_keras_with_the_batch_outputs():
    x, _ = data(11)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        out_ours = ours.predict(x, batch_size=4, verbose=0, callbacks=[rec_ours])
        out_theirs = theirs.predict(x, batch_size=4, verbose=0, callbacks=[rec_theirs])
    assert rec_ours.calls == rec_theirs.calls
    assert [c[0] for c in rec_ours.calls] == ["on_predict_begin"] + [
        "on_predict_batch_begin",
        "on_predict_batch_end",
    ] * 3 + ["on_predict_end"]
    assert [o.shape for o in rec_ours.outputs] == [(4, 3), (4, 3), (3, 3)]
    np.testing.assert_array_equal(np.concatenate(rec_ours.outputs), out_ours)
    np.testing.assert_allclose(out_ours, out_theirs, rtol=RTOL, atol=OUTPUT_ATOL)


@pytest.mark.parametrize("name", ["acc", "accuracy"])
def test_metric_names_log_as_given_as_keras(name):
    x, y = data(12)
    with float64():
        ours, theirs = pair(metrics=[name])
        kw = dict(batch_size=4, epochs=2, shuffle=False, verbose=0, validation_split=0.25)
        stop_ours = mt.EarlyStopping(monitor=f"val_{name}", patience=5)
        stop_theirs = keras.callbacks.EarlyStopping(monitor=f"val_{name}", patience=5)
        h_ours = ours.fit(x, y, callbacks=[stop_ours], **kw)
        h_theirs = theirs.fit(x, y, callbacks=[stop_theirs], **kw)
        eval_ours = ours.evaluate(x, y, verbose=0, return_dict=True)
        eval_theirs = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert name in h_ours.history and f"val_{name}" in h_ours.history
    assert_same_history(h_ours, h_theirs)
    assert sorted(eval_ours) == sorted(eval_theirs) == sorted(["loss", name])
    assert stop_ours.best == pytest.approx(stop_theirs.best, rel=RTOL)


def csv_rows(path):
    return [line.split(",") for line in path.read_text().splitlines()]


@pytest.mark.parametrize("freq", [2, 3])
def test_csv_logger_with_validation_freq_as_keras(tmp_path, freq):
    x, y = data(12)
    xv, yv = data(6, seed=7)
    with float64():
        ours, theirs = pair()
        kw = dict(batch_size=4, epochs=4, shuffle=False, verbose=0, validation_data=(xv, yv))
        ours.fit(x, y, validation_freq=freq, callbacks=[mt.CSVLogger(tmp_path / "ours.csv")], **kw)
        theirs.fit(
            x,
            y,
            validation_freq=freq,
            callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "theirs.csv"))],
            **kw,
        )
    ours_rows, theirs_rows = csv_rows(tmp_path / "ours.csv"), csv_rows(tmp_path / "theirs.csv")
    # minitrain logs learning_rate (and so val_learning_rate, always NA); Keras does not.
    header = ours_rows[0]
    keep = [i for i, key in enumerate(header) if "learning_rate" not in key]
    assert [header[i] for i in keep] == theirs_rows[0]
    assert ours_rows[1][header.index("val_learning_rate")] == "NA"
    for mine, keras_row in zip(ours_rows[1:], theirs_rows[1:], strict=True):
        mine = [mine[i] for i in keep]
        assert [v == "NA" for v in mine] == [v == "NA" for v in keras_row]
        numbers = [(float(a), float(b)) for a, b in zip(mine, keras_row, strict=True) if a != "NA"]
        np.testing.assert_allclose(*zip(*numbers, strict=True), rtol=1e-6)


def test_default_batch_size_and_steps_match_keras():
    # batch_size=None is 32 for arrays, or ceil(N / steps) when steps is given (Keras):
    # evaluate and predict with steps=2 read the 70 samples in two batches of 35
    x, y = data(70)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        h_ours = ours.fit(x, y, epochs=2, shuffle=False, verbose=0, callbacks=[rec_ours])
        h_theirs = theirs.fit(x, y, epochs=2, shuffle=False, verbose=0, callbacks=[rec_theirs])
        eval_ours = ours.evaluate(x, y, steps=2, verbose=0, callbacks=[rec_ours])
        eval_theirs = theirs.evaluate(x, y, steps=2, verbose=0, callbacks=[rec_theirs])
        out_ours = ours.predict(x, steps=2, verbose=0, callbacks=[rec_ours])
        out_theirs = theirs.predict(x, steps=2, verbose=0, callbacks=[rec_theirs])
    assert rec_ours.calls == rec_theirs.calls
    assert out_ours.shape == np.asarray(out_theirs).shape == (70, 3)
    assert [o.shape for o in rec_ours.outputs] == [o.shape for o in rec_theirs.outputs]
    assert [o.shape for o in rec_ours.outputs] == [(35, 3), (35, 3)]
    assert_same_history(h_ours, h_theirs)
    np.testing.assert_allclose(eval_ours, eval_theirs, rtol=RTOL)
    np.testing.assert_allclose(out_ours, out_theirs, rtol=RTOL, atol=OUTPUT_ATOL)


def test_steps_per_epoch_without_batch_size_cuts_one_pass_into_that_many_batches():
    x, y = data(20)
    with float64():
        ours, theirs = pair()
        rec_ours, rec_theirs = ours_recorder(), keras_recorder()
        kw = dict(epochs=2, steps_per_epoch=3, shuffle=False, verbose=0)
        h_ours = ours.fit(x, y, callbacks=[rec_ours], **kw)  # batches of ceil(20 / 3) = 7
        h_theirs = theirs.fit(x, y, callbacks=[rec_theirs], **kw)
    assert rec_ours.calls == rec_theirs.calls
    assert_same_history(h_ours, h_theirs)
