"""Every callback takes Keras 3.15.1's arguments with Keras's defaults (the oracle is run)."""

from __future__ import annotations

import inspect

import oracles
import pytest

import minitrain as mt

keras = oracles.keras()

SAME_AS_KERAS = [
    "Callback",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "TerminateOnNaN",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "CSVLogger",
    "BackupAndRestore",
]


def parameters(function):
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


@pytest.mark.parametrize("name", SAME_AS_KERAS)
def test_the_arguments_and_defaults_are_keras(name):
    assert parameters(getattr(mt.callbacks, name)) == parameters(getattr(keras.callbacks, name))


def test_lambda_callback_names_every_hook_keras_accepts():
    # Keras takes the six positional hooks and any other hook through **kwargs; minitrain
    # names each other hook as a keyword so that a misspelt one is a TypeError.
    ours = inspect.signature(mt.LambdaCallback).parameters
    theirs = parameters(keras.callbacks.LambdaCallback)
    assert list(ours)[: len(theirs)] == list(theirs)
    assert all(p.default is None for p in ours.values())
    hooks = {name for name in dir(keras.callbacks.Callback) if name.startswith("on_")}
    assert hooks <= set(ours)


def test_tensorboard_takes_the_contract_subset_of_keras_arguments():
    ours = parameters(mt.TensorBoard)
    assert ours == {
        "log_dir": "logs",
        "histogram_freq": 0,
        "write_graph": False,  # no graph to write: minitrain has no graph
        "update_freq": "epoch",
    }
    theirs = parameters(keras.callbacks.TensorBoard)
    assert {k: v for k, v in theirs.items() if k in ours and k != "write_graph"} == {
        k: v for k, v in ours.items() if k != "write_graph"
    }


def test_numbers_in_defaults_compare_as_keras_numbers():
    # min_delta=0 is an int in EarlyStopping and 1e-4 a float in ReduceLROnPlateau, as in Keras.
    for name in ("EarlyStopping", "ReduceLROnPlateau"):
        ours = parameters(getattr(mt.callbacks, name))
        theirs = parameters(getattr(keras.callbacks, name))
        assert [type(ours[k]) for k in ours] == [type(theirs[k]) for k in ours]
