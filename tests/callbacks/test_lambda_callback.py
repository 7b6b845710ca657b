"""LambdaCallback: each function becomes that hook, called as fit calls hooks."""

import pytest

from minitrain.callbacks import CallbackList, LambdaCallback
from minitrain.callbacks.base import overrides

from .fakes import FakeModel

ONE_ARGUMENT = [
    "on_train_begin",
    "on_train_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
]
EPOCH = ["on_epoch_begin", "on_epoch_end"]
BATCH = [
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
]


def test_every_hook_can_be_given_and_is_called_with_its_arguments():
    calls = []
    hooks = {}
    for name in ONE_ARGUMENT:
        hooks[name] = lambda logs, name=name: calls.append((name, logs))
    for name in EPOCH:
        hooks[name] = lambda epoch, logs, name=name: calls.append((name, epoch, logs))
    for name in BATCH:
        hooks[name] = lambda batch, logs, name=name: calls.append((name, batch, logs))
    cbs = CallbackList([LambdaCallback(**hooks)], model=FakeModel(), add_history=False)
    logs = {"loss": 0.5}
    for name in ONE_ARGUMENT:
        getattr(cbs, name)(logs)
    for name in EPOCH + BATCH:
        getattr(cbs, name)(3, logs)
    expected = [(name, logs) for name in ONE_ARGUMENT] + [(name, 3, logs) for name in EPOCH + BATCH]
    assert calls == expected


def test_the_older_batch_names_are_reached_through_the_train_batch_hooks():
    calls = []
    cb = LambdaCallback(
        on_batch_begin=lambda batch, logs: calls.append(("begin", batch)),
        on_batch_end=lambda batch, logs: calls.append(("end", batch, logs)),
    )
    cbs = CallbackList([cb], model=FakeModel())
    cbs.on_train_batch_begin(1)
    cbs.on_train_batch_end(1, {"loss": 2.0})
    assert calls == [("begin", 1), ("end", 1, {"loss": 2.0})]


def test_hooks_not_given_stay_the_base_no_ops():
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    assert overrides(cb, "on_epoch_end")
    assert not any(overrides(cb, name) for name in BATCH + ONE_ARGUMENT)
    cb.on_train_batch_end(0, {"loss": 1.0})  # the base hook, no error


def test_the_first_six_hooks_are_positional_as_keras():
    calls = []
    cb = LambdaCallback(None, lambda epoch, logs: calls.append(epoch))
    cb.on_epoch_end(7, {})
    assert calls == [7]


def test_a_hook_that_is_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="on_epoch_end must be callable or None, got 'print'"):
        LambdaCallback(on_epoch_end="print")


def test_an_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        LambdaCallback(on_epoch_finish=print)
