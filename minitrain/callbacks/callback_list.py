"""``CallbackList``: the one object ``fit`` talks to, dispatching each hook to every callback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._checks import describe
from .base import Callback, overrides
from .history import History
from .progress import ProgbarLogger


class CallbackList:
    """Dispatch every hook to a list of callbacks, in order.

    The user's callbacks come first, in the order given, then a ``History``
    (unless one is in the list already, as in Keras), then (``add_progbar``)
    the progress printer, so that both see the keys the user's callbacks add
    to the logs. Every callback gets ``set_model(model)`` and
    ``set_params(params)``; ``model.history`` is set to the ``History``.

    Logs reach the callbacks as given (``fit`` passes dicts of Python floats);
    ``None`` becomes ``{}``. Epoch and train/test/predict begin/end hooks get
    ``logs`` positionally, batch hooks by keyword (as Keras calls them).

    A batch hook runs once per batch, so a batch hook that no callback
    overrides is skipped entirely: the callbacks overriding each batch hook
    (or its older alias ``on_batch_begin``/``on_batch_end``) are listed once,
    at construction.

    Parameters
    ----------
    callbacks : list or tuple of Callback, or None
        The user's callbacks; anything else in it is a ``TypeError``.
    model : Sequential
        The model the callbacks act on.
    add_history : bool, default True
        Append a ``History``.
    add_progbar : bool, default False
        Append a ``ProgbarLogger`` (``fit`` does when ``verbose`` is 1 or 2).
    **params
        ``verbose``, ``epochs``, ``steps``: passed to ``set_params``.

    Attributes
    ----------
    callbacks : list of Callback
        Everything dispatched to, in order.
    history : History or None
        The ``History`` in ``callbacks``.
    params : dict
    model : Sequential
    """

    def __init__(
        self,
        callbacks: list[Callback] | tuple[Callback, ...] | None = None,
        *,
        model: Any,
        add_history: bool = True,
        add_progbar: bool = False,
        **params: Any,
    ) -> None:
        if callbacks is None:
            callbacks = []
        if not isinstance(callbacks, list | tuple):
            raise TypeError(
                f"callbacks must be a list of Callback instances, got {describe(callbacks)}"
            )
        for i, cb in enumerate(callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be a list of Callback instances, got {describe(cb)} "
                    f"at index {i}"
                )
        self.callbacks: list[Callback] = list(callbacks)
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())

        self.model = model
        self.params = params
        if self.history is not None:
            model.history = self.history
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

        def listening(hook: str, alias: str | None = None) -> list[Callback]:
            names = (hook,) if alias is None else (hook, alias)
            return [cb for cb in self.callbacks if overrides(cb, *names)]

        self._train_batch_begin = listening("on_train_batch_begin", "on_batch_begin")
        self._train_batch_end = listening("on_train_batch_end", "on_batch_end")
        self._test_batch_begin = listening("on_test_batch_begin")
        self._test_batch_end = listening("on_test_batch_end")
        self._predict_batch_begin = listening("on_predict_batch_begin")
        self._predict_batch_end = listening("on_predict_batch_end")

    def listens(self, hook: str) -> bool:
        """True when some callback overrides the batch ``hook`` (e.g. ``"on_train_batch_end"``):
        the loop then builds the batch's logs, which nobody reads otherwise."""
        return bool(getattr(self, "_" + hook.removeprefix("on_")))

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    # ----------------------------------------------------------------- training
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._train_batch_begin:
            return
        logs = logs if logs is not None else {}
        for cb in self._train_batch_begin:
            cb.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._train_batch_end:
            return
        logs = logs if logs is not None else {}
        for cb in self._train_batch_end:
            cb.on_train_batch_end(batch, logs=logs)

    # --------------------------------------------------------------- evaluation
    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_end(logs)

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._test_batch_begin:
            return
        logs = logs if logs is not None else {}
        for cb in self._test_batch_begin:
            cb.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._test_batch_end:
            return
        logs = logs if logs is not None else {}
        for cb in self._test_batch_end:
            cb.on_test_batch_end(batch, logs=logs)

    # --------------------------------------------------------------- prediction
    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_begin(logs)

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_end(logs)

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._predict_batch_begin:
            return
        logs = logs if logs is not None else {}
        for cb in self._predict_batch_begin:
            cb.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._predict_batch_end:
            return
        logs = logs if logs is not None else {}
        for cb in self._predict_batch_end:
            cb.on_predict_batch_end(batch, logs=logs)
