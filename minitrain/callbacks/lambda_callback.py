"""``LambdaCallback``: a callback made of plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._checks import describe
from .base import Callback

Hook = Callable[..., Any] | None


class LambdaCallback(Callback):
    """Build a callback from functions, one per hook (Keras 3 ``LambdaCallback``).

    Each function given replaces that hook on this instance and is called as
    ``fit`` calls hooks:

    - ``on_train_begin(logs)``, ``on_train_end(logs)``, ``on_test_begin(logs)``,
      ``on_test_end(logs)``, ``on_predict_begin(logs)``, ``on_predict_end(logs)``:
      one positional argument;
    - ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``: two
      positional arguments;
    - the batch hooks (``on_train_batch_begin``, ``on_train_batch_end``,
      ``on_test_batch_*``, ``on_predict_batch_*`` and the older
      ``on_batch_begin``/``on_batch_end``): ``batch`` positionally and ``logs``
      by keyword, so ``lambda batch, logs: ...`` fits every hook.

    Hooks not given stay the base no-ops, so batch hooks left out cost nothing.
    Keras also accepts any other keyword and stores it as an attribute;
    minitrain names every hook, and an unknown keyword is a ``TypeError``.

    Examples
    --------
    >>> losses = []
    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(
        self,
        on_epoch_begin: Hook = None,
        on_epoch_end: Hook = None,
        on_train_begin: Hook = None,
        on_train_end: Hook = None,
        on_train_batch_begin: Hook = None,
        on_train_batch_end: Hook = None,
        *,
        on_batch_begin: Hook = None,
        on_batch_end: Hook = None,
        on_test_begin: Hook = None,
        on_test_end: Hook = None,
        on_test_batch_begin: Hook = None,
        on_test_batch_end: Hook = None,
        on_predict_begin: Hook = None,
        on_predict_end: Hook = None,
        on_predict_batch_begin: Hook = None,
        on_predict_batch_end: Hook = None,
    ) -> None:
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
            "on_test_begin": on_test_begin,
            "on_test_end": on_test_end,
            "on_test_batch_begin": on_test_batch_begin,
            "on_test_batch_end": on_test_batch_end,
            "on_predict_begin": on_predict_begin,
            "on_predict_end": on_predict_end,
            "on_predict_batch_begin": on_predict_batch_begin,
            "on_predict_batch_end": on_predict_batch_end,
        }
        for name, fn in hooks.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None, got {describe(fn)}")
        super().__init__()
        for name, fn in hooks.items():
            if fn is not None:
                # An instance attribute shadows the method: the hook is the function itself.
                setattr(self, name, fn)
