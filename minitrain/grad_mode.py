"""Grad mode: whether a forward pass keeps what backward needs.

``no_grad()`` and ``enable_grad()`` are context managers and decorators, as in
PyTorch. Under ``no_grad`` every layer's forward keeps no activation cache (and
drops the one an earlier forward left), so inference holds only the current
activation; a ``backward`` after such a forward raises ``RuntimeError``.

Grad mode is *not* train/eval mode: under ``no_grad`` a model in training mode
still drops units in ``Dropout`` and still normalises with, and updates, batch
statistics in ``BatchNorm``. ``model.eval()`` is the other, separate switch.
The state is per thread and both managers restore what was there, so they nest.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_state = threading.local()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad`` (and not re-enabled by ``enable_grad``)."""
    return getattr(_state, "enabled", True)


def _set_grad_enabled(enabled: bool) -> None:
    _state.enabled = enabled


class _GradMode:
    """Set grad mode to ``_enabled`` inside a ``with`` block or a decorated call.

    Both ``@no_grad()`` and ``@no_grad`` decorate, as in PyTorch: called with a
    function, the class returns the function wrapped by a fresh instance.
    """

    _enabled: bool
    _saved: dict[int, list[bool]]  # thread id -> the states to restore, innermost last

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(
                f"{cls.__name__}() takes no argument, or a function to decorate, "
                f"got {func!r} ({type(func).__name__})"
            )
        return cls()(func)

    def __enter__(self) -> None:
        # A stack, not one slot: the same instance may be entered again (recursion).
        # One stack per thread: it may also be entered from several threads at once.
        saved = self.__dict__.setdefault("_saved", {})
        saved.setdefault(threading.get_ident(), []).append(is_grad_enabled())
        _set_grad_enabled(self._enabled)

    def __exit__(self, *exc: object) -> None:
        _set_grad_enabled(self._saved[threading.get_ident()].pop())

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - named as in PyTorch
    """Context manager and decorator: forwards inside keep no activation caches.

    >>> with no_grad():
    ...     y = model(x)          # no caches kept; model.backward now raises
    >>> @no_grad()            # or @no_grad, without parentheses
    ... def infer(x): return model(x)
    """

    _enabled = False


class enable_grad(_GradMode):  # noqa: N801 - named as in PyTorch
    """Context manager and decorator: turn caching back on inside ``no_grad``."""

    _enabled = True
