"""fit, evaluate and predict take Keras 3.15.1's arguments, with its defaults."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import minitrain as mt

from .twins import keras

# Keras's own arguments that minitrain leaves out: each needs what minitrain does not have.
LEFT_OUT = {"validation_batch_size"}


def parameters(function):
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
    }


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_the_arguments_and_defaults_are_keras(method):
    ours = parameters(getattr(mt.Sequential, method))
    theirs = parameters(getattr(keras.Model, method))
    theirs = {k: v for k, v in theirs.items() if k not in LEFT_OUT}
    assert ours == theirs


def test_fit_evaluate_and_predict_are_written_once_in_the_trainer():
    for method in ("fit", "evaluate", "predict"):
        assert getattr(mt.Sequential, method) is getattr(mt.training.Trainer, method)
    assert issubclass(mt.Sequential, mt.training.Trainer)


def test_batch_size_none_means_32():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(70, 3)), rng.integers(0, 3, size=70)
    steps = []
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(
        x,
        y,
        verbose=0,
        callbacks=[mt.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))],
    )
    assert steps == [0, 1, 2]  # 70 = 32 + 32 + 6


def test_verbose_auto_prints_a_progress_bar(capsys):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1)
    model.evaluate(x, y)
    model.predict(x)
    out = capsys.readouterr().out
    assert out.count("1/1") == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
        ({"steps_per_epoch": 0}, ValueError, "steps_per_epoch must be a positive int"),
        ({"steps_per_epoch": 1.5}, TypeError, "steps_per_epoch must be a positive int"),
        ({"validation_steps": -1}, ValueError, "validation_steps must be a positive int"),
        ({"epochs": 0}, ValueError, "epochs must be a positive int"),
    ],
)
def test_bad_fit_arguments_name_themselves(kwargs, error, match):
    rng = np.random.default_rng(0)
    model = mt.MLP([3, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(error, match=match):
        model.fit(rng.normal(size=(4, 3)), np.zeros(4, int), verbose=0, **kwargs)


def test_evaluate_and_predict_with_steps_read_that_many_batches():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)), rng.integers(0, 3, size=10)
    model = mt.MLP([3, 3], seed=0, dtype=np.float64)
    model.compile("sgd", "sparse_categorical_crossentropy")
    out = model.predict(x, batch_size=4, steps=2, verbose=0)
    np.testing.assert_array_equal(out, model.predict(x[:8], batch_size=4, verbose=0))
    loss = model.evaluate(x, y, batch_size=4, steps=1, verbose=0)
    assert loss == model.evaluate(x[:4], y[:4], verbose=0)
