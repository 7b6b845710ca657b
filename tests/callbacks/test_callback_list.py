"""CallbackList: type check, order, set_model/set_params, logs, batch-hook skipping."""

import pytest

from minitrain.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LambdaCallback,
    ProgbarLogger,
)
from minitrain.callbacks.base import overrides

from .fakes import FakeModel


class Recorder(Callback):
    """Records every hook call as (name, index or None, logs)."""

    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None, logs))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch, logs))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch, logs))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, logs))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, logs))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", None, logs))


@pytest.mark.parametrize("bad", ["es", EarlyStopping, None, 3, [EarlyStopping()]])
def test_an_item_that_is_not_a_callback_is_a_type_error_naming_callbacks(bad):
    with pytest.raises(TypeError, match=r"callbacks must be a list of Callback.* at index 1"):
        CallbackList([EarlyStopping(), bad], model=FakeModel())


@pytest.mark.parametrize("bad", [EarlyStopping(), "es", {"a": EarlyStopping()}])
def test_callbacks_that_is_not_a_list_is_a_type_error(bad):
    with pytest.raises(TypeError, match="callbacks must be a list of Callback"):
        CallbackList(bad, model=FakeModel())


def test_history_then_progbar_follow_the_user_callbacks_in_order():
    a, b = Callback(), Callback()
    cbs = CallbackList([a, b], model=FakeModel(), add_progbar=True, verbose=1, epochs=2, steps=3)
    assert cbs.callbacks[:2] == [a, b]
    assert isinstance(cbs.callbacks[2], History) and cbs.callbacks[2] is cbs.history
    assert isinstance(cbs.callbacks[3], ProgbarLogger)
    assert len(cbs) == 4


def test_without_progbar_and_history_only_the_user_callbacks_remain():
    a = Callback()
    cbs = CallbackList([a], model=FakeModel(), add_history=False)
    assert cbs.callbacks == [a] and cbs.history is None


def test_a_history_in_the_list_is_used_not_duplicated():
    own = History()
    cbs = CallbackList([own, Callback()], model=FakeModel())
    assert cbs.history is own
    assert sum(isinstance(cb, History) for cb in cbs.callbacks) == 1


def test_every_callback_gets_the_model_and_the_params_and_the_model_its_history():
    model = FakeModel()
    a, b = Callback(), EarlyStopping()
    cbs = CallbackList([a, b], model=model, add_progbar=True, verbose=2, epochs=5, steps=7)
    for cb in cbs.callbacks:
        assert cb.model is model
        assert cb.params == {"verbose": 2, "epochs": 5, "steps": 7}
    assert model.history is cbs.history


def test_hooks_reach_every_callback_in_order_with_empty_begin_logs():
    calls = []
    model = FakeModel()
    cbs = CallbackList([Recorder(calls), Recorder(calls)], model=model, add_history=False)
    cbs.on_train_begin()
    cbs.on_epoch_begin(4)
    cbs.on_train_batch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 0.5})
    cbs.on_epoch_end(4, {"loss": 0.5})
    cbs.on_train_end({"loss": 0.5})
    names = [(name, index) for name, index, _ in calls]
    assert names == [
        ("train_begin", None), ("train_begin", None),
        ("epoch_begin", 4), ("epoch_begin", 4),
        ("batch_begin", 0), ("batch_begin", 0),
        ("batch_end", 0), ("batch_end", 0),
        ("epoch_end", 4), ("epoch_end", 4),
        ("train_end", None), ("train_end", None),
    ]  # fmt: skip
    assert [logs for name, _, logs in calls if name.endswith("begin")] == [{}] * 6
    assert [logs for name, _, logs in calls if name.endswith("end")] == [{"loss": 0.5}] * 6


def test_keys_a_callback_adds_to_the_epoch_logs_reach_history():
    def add_key(epoch, logs):
        logs["extra"] = 2.0 * epoch

    model = FakeModel()
    cbs = CallbackList([LambdaCallback(on_epoch_end=add_key)], model=model)
    cbs.on_train_begin()
    for epoch in range(2):
        cbs.on_epoch_end(epoch, {"loss": 1.0})
    assert cbs.history.history == {"loss": [1.0, 1.0], "extra": [0.0, 2.0]}


def test_batch_hooks_get_logs_by_keyword_and_epoch_hooks_positionally():
    seen = []
    cb = LambdaCallback(
        on_train_batch_end=lambda batch, *, logs: seen.append(("batch", batch, logs)),
        on_epoch_end=lambda epoch, logs, /: seen.append(("epoch", epoch, logs)),
    )
    cbs = CallbackList([cb], model=FakeModel())
    cbs.on_train_batch_end(3, {"loss": 1.5})
    cbs.on_epoch_end(1, {"loss": 1.25})
    assert seen == [("batch", 3, {"loss": 1.5}), ("epoch", 1, {"loss": 1.25})]


def test_a_batch_hook_nobody_overrides_is_never_dispatched(monkeypatch):
    cbs = CallbackList([Callback(), EarlyStopping()], model=FakeModel())
    calls = []
    # Had the list looped over its callbacks, this base hook would now be reached.
    monkeypatch.setattr(Callback, "on_train_batch_end", lambda self, b, logs=None: calls.append(b))
    monkeypatch.setattr(Callback, "on_test_batch_begin", lambda self, b, logs=None: calls.append(b))
    cbs.on_train_batch_end(0, {"loss": 1.0})
    cbs.on_test_batch_begin(0)
    assert calls == []


def test_only_the_callbacks_that_override_a_batch_hook_receive_it():
    calls = []
    quiet, loud = Callback(), Recorder(calls)
    cbs = CallbackList([quiet, loud], model=FakeModel(), add_history=False)
    cbs.on_train_batch_end(2, {"loss": 1.0})
    assert calls == [("batch_end", 2, {"loss": 1.0})]


class OldStyle(Callback):
    """Overrides only the older names on_batch_begin/on_batch_end."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch, logs))


def test_the_older_batch_hook_names_are_called_through_the_train_batch_hooks():
    cb = OldStyle()
    cbs = CallbackList([cb], model=FakeModel())
    cbs.on_train_batch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 2.0})
    assert cb.calls == [("begin", 0), ("end", 0, {"loss": 2.0})]


@pytest.mark.parametrize(
    ("callback", "hook", "expected"),
    [
        (Callback(), "on_train_batch_end", False),
        (EarlyStopping(), "on_train_batch_end", False),
        (EarlyStopping(), "on_epoch_end", True),
        (OldStyle(), "on_batch_end", True),
        (LambdaCallback(on_train_batch_end=print), "on_train_batch_end", True),
        (LambdaCallback(on_epoch_end=print), "on_train_batch_end", False),
    ],
)
def test_overrides_sees_class_methods_and_instance_functions(callback, hook, expected):
    assert overrides(callback, hook) is expected


def test_history_records_every_epoch_and_sets_model_history():
    model = FakeModel()
    cbs = CallbackList([], model=model)
    cbs.on_train_begin()
    cbs.on_epoch_end(2, {"loss": 0.5, "val_loss": 0.75})
    cbs.on_epoch_end(3, {"loss": 0.25, "val_loss": 0.5})
    assert cbs.history.history == {"loss": [0.5, 0.25], "val_loss": [0.75, 0.5]}
    assert cbs.history.epoch == [2, 3]  # absolute epoch indices
    assert model.history is cbs.history


def test_a_reused_history_restarts_epoch_but_keeps_growing_history_as_keras():
    model, history = FakeModel(), History()
    for _ in range(2):
        cbs = CallbackList([history], model=model)
        cbs.on_train_begin()
        cbs.on_epoch_end(0, {"loss": 1.0})
    assert history.epoch == [0]
    assert history.history == {"loss": [1.0, 1.0]}
