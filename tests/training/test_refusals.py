"""Refuse early, never mid-run: batches a layer cannot take, unknown keywords; warnings that
point at the user's own line."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitrain as mt


def bn_model(seed=0):
    model = mt.MLP([4, 6, 3], batchnorm=True, seed=seed)
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(np.float32), rng.integers(0, 3, size=n)


def snapshot(model):
    return (
        {k: v.copy() for k, v in model.state_dict().items()},
        {k: np.array(v, copy=True) for k, v in model.optimizer.state_dict().items()},
        [layer.training for layer in model.layers],
        [getattr(layer, "num_batches_tracked", None) for layer in model.layers],
    )


def assert_untouched(model, before):
    state, opt, modes, tracked = snapshot(model)
    for key, value in before[0].items():
        assert value.tobytes() == state[key].tobytes(), key
    assert before[1].keys() == opt.keys()
    for key, value in before[1].items():
        assert np.array_equal(value, opt[key]), key
    assert modes == before[2]
    assert tracked == before[3]


def test_a_last_batch_of_one_is_refused_before_the_first_update_naming_batch_size():
    x, y = data(33)
    model = bn_model()
    model.fit(x[:8], y[:8], batch_size=4, epochs=1, verbose=0)  # optimizer state exists
    before = snapshot(model)
    seen = []
    spy = mt.LambdaCallback(on_train_begin=lambda logs: seen.append("train_begin"))
    with pytest.raises(ValueError) as info:
        model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[spy])
    message = str(info.value)
    # 33 = 32 + 1: 31 leaves a last batch of 2, 33 takes everything in one
    assert "batch_size=32" in message and "batch of each epoch holds 1 sample" in message
    assert "batch_size=31 or batch_size=33" in message
    assert "BatchNormalization" in message and "layers[1] (BatchNorm)" in message
    assert seen == []  # refused before any callback ran
    assert_untouched(model, before)


def test_the_suggested_batch_size_trains():
    x, y = data(33)
    model = bn_model()
    with pytest.raises(ValueError, match="batch_size=31"):
        model.fit(x, y, batch_size=32, verbose=0)
    model.fit(x, y, batch_size=31, verbose=0)
    model.fit(x, y, batch_size=33, verbose=0)


def test_a_validation_split_that_leaves_a_training_batch_of_one_is_refused():
    x, y = data(37)
    model = bn_model()
    before = snapshot(model)
    # floor(37 * 0.9) = 33 training samples: 32 + 1
    with pytest.raises(ValueError, match="with 33 training samples and batch_size=32"):
        model.fit(x, y, batch_size=32, validation_split=0.1, verbose=0)
    assert_untouched(model, before)


def test_a_single_training_sample_is_refused_with_no_batch_size_to_suggest():
    x, y = data(1)
    model = bn_model()
    with pytest.raises(ValueError, match="pass at least 2 training samples"):
        model.fit(x, y, verbose=0)


def test_a_streamed_batch_of_one_is_refused_before_its_update():
    x, y = data(9)
    model = bn_model()
    batches = iter([(x[:8], y[:8]), (x[8:], y[8:])])
    with pytest.raises(ValueError, match="training batch 1 of epoch 0 holds 1 sample"):
        model.fit(batches, verbose=0)


def test_the_keras_batch_normalization_takes_a_batch_of_one():
    x, y = data(33)
    model = mt.Sequential(
        [mt.Dense(4, 6), mt.layers.BatchNormalization(6), mt.ReLU(), mt.Dense(6, 3)], seed=0
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, verbose=0)


@pytest.mark.parametrize(
    ("method", "kwargs", "closest"),
    [
        ("fit", {"epoch": 10}, "epochs"),
        ("fit", {"batchsize": 8}, "batch_size"),
        ("fit", {"class_weights": {0: 1.0}}, "class_weight"),
        ("fit", {"validation_frequency": 2}, "validation_freq"),
        ("evaluate", {"sample_weights": None}, "sample_weight"),
        ("evaluate", {"return_dicts": True}, "return_dict"),
        ("predict", {"step": 1}, "steps"),
        ("predict", {"batch_sizes": 4}, "batch_size"),
    ],
)
def test_an_unknown_keyword_names_the_closest_valid_one(method, kwargs, closest):
    x, y = data(8)
    model = bn_model()
    before = snapshot(model)
    args = (x,) if method == "predict" else (x, y)
    name = next(iter(kwargs))
    with pytest.raises(
        TypeError,
        match=rf"{method}\(\) got an unexpected keyword argument "
        rf"'{name}'; did you mean '{closest}'\?",
    ):
        getattr(model, method)(*args, **kwargs)
    assert_untouched(model, before)


# --------------------------------------------------------------------- warnings


def test_a_missing_val_monitor_warns_at_the_callers_line_and_says_how_to_validate():
    x, y = data(16)
    model = bn_model()
    stop = mt.EarlyStopping(monitor="val_loss", patience=2)
    with pytest.warns(UserWarning) as caught:
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[stop])
    assert len(caught) == 2  # every epoch it is missing (Keras)
    message = str(caught[0].message)
    assert "'val_loss'" in message
    assert "available keys: loss, accuracy, learning_rate" in message
    assert "pass validation_data or validation_split" in message
    assert caught[0].filename == __file__


@pytest.mark.parametrize(
    "callback",
    [
        lambda: mt.EarlyStopping(monitor="val_acc"),
        lambda: mt.ReduceLROnPlateau(monitor="val_acc"),
        lambda: mt.ModelCheckpoint("unused.npz", monitor="val_acc", save_best_only=True),
    ],
    ids=["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint"],
)
def test_every_monitor_warns_at_the_callers_line(callback, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x, y = data(16)
    model = bn_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[callback()])
    ours = [w for w in caught if "val_acc" in str(w.message)]
    assert ours and all(w.filename == __file__ for w in ours)


def test_a_present_val_monitor_does_not_warn():
    x, y = data(20)
    model = bn_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(
            x,
            y,
            batch_size=8,
            epochs=2,
            verbose=0,
            validation_split=0.2,
            callbacks=[mt.EarlyStopping(monitor="val_loss")],
        )
