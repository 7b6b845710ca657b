"""``MonitorCallback``: the logic shared by callbacks that watch one log value.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau all ask the same
question at the end of an epoch: "is ``logs[monitor]`` better than the best
value so far by at least ``min_delta``?". The answer lives here, once:

- ``mode="min"`` means lower is better, ``"max"`` higher is better, and
  ``"auto"`` decides from the monitor's name (below). An unknown ``mode``
  string warns and falls back to ``"auto"``, as Keras does.
- The direction is resolved lazily, at the first ``on_epoch_end``, so an
  undecidable name in ``"auto"`` mode raises ``ValueError`` there, as in Keras.
- The sign of ``min_delta`` is folded in once (negative when lower is
  better), so that an improvement is the single comparison
  ``better(current - min_delta, reference)``.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import Any

from .._checks import caller_stacklevel, describe, real_in_range
from .base import Callback

MODES = ("auto", "min", "max")

# How "auto" mode reads a monitor's name once the "val_" prefix is removed.
# Keras 3 asks the compiled metric objects for their direction; minitrain's
# metrics are all accuracies, so the name alone decides, with the same outcome
# for every key ``fit`` logs.
_LOWER_IS_BETTER_WORDS = ("loss", "error", "crossentropy", "hinge", "divergence")
_LOWER_IS_BETTER_NAMES = ("mse", "mae", "mape", "msle")
_HIGHER_IS_BETTER_WORDS = ("acc", "auc", "precision", "recall")


def direction_of(monitor: str) -> str | None:
    """``"min"`` for a loss-like name, ``"max"`` for an accuracy-like one, else None.

    Examples: ``"val_loss"`` -> ``"min"``, ``"accuracy"`` and
    ``"val_sparse_categorical_accuracy"`` -> ``"max"``, ``"learning_rate"`` -> None.
    """
    name = monitor.removeprefix("val_")
    if name in _LOWER_IS_BETTER_NAMES or any(w in name for w in _LOWER_IS_BETTER_WORDS):
        return "min"
    if any(w in name for w in _HIGHER_IS_BETTER_WORDS):
        return "max"
    return None


class MonitorCallback(Callback):
    """Base of the callbacks that compare ``logs[monitor]`` with a best value.

    Parameters
    ----------
    monitor : str
        The log key to watch, e.g. ``"val_loss"`` or ``"accuracy"``.
    mode : {"auto", "min", "max"}
        Which way is better. ``"auto"`` reads the name: ``loss``-like names
        (``loss``, ``*_loss``, ``*error*``, ``*crossentropy*``, ``mse``, ...)
        are minimised, ``acc``/``auc``/``precision``/``recall`` names are
        maximised, anything else is a ``ValueError`` at the first ``on_epoch_end``.
        Any other string warns and falls back to ``"auto"`` (as Keras).
    min_delta : float
        How much better a value must be to count as an improvement. Its
        absolute value is used (as Keras).

    Attributes
    ----------
    monitor_op : callable or None
        ``operator.lt`` (lower is better) or ``operator.gt``, None until resolved.
    min_delta : float
        After resolution, ``-|min_delta|`` when lower is better, ``+|min_delta|``
        otherwise, so that improvement reads ``monitor_op(current - min_delta, best)``.
    """

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str (a log key), got {describe(monitor)}")
        min_delta = real_in_range("min_delta", min_delta)
        super().__init__()
        if mode not in MODES:
            warnings.warn(
                f"{type(self).__name__} mode {mode!r} is unknown, falling back to 'auto'",
                UserWarning,
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.monitor_op: Callable[[Any, Any], Any] | None = None

    def _resolve_mode(self) -> None:
        """Choose the comparison and fold the sign of ``min_delta`` (first call only)."""
        if self.monitor_op is not None:
            return
        direction = self.mode if self.mode != "auto" else direction_of(self.monitor)
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} cannot tell whether monitor={self.monitor!r} should "
                "be minimised or maximised; pass mode='min' or mode='max'"
            )
        if direction == "min":
            self.monitor_op = operator.lt
            self.min_delta = -self.min_delta
        else:
            self.monitor_op = operator.gt

    def _worst_value(self) -> float:
        """The starting best of a resolved monitor: +inf when minimising, -inf when maximising."""
        return float("inf") if self.monitor_op is operator.lt else float("-inf")

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        if reference is None:  # nothing seen yet: the first value is always the best
            return True
        return bool(self.monitor_op(current - self.min_delta, reference))

    def _monitor_value(self, logs: dict[str, Any] | None) -> Any:
        """``logs[monitor]``, or None after a ``UserWarning`` listing the keys there are.

        The warning points at the user's ``fit(...)`` line, not into minitrain; for a
        ``val_`` monitor in logs without validation keys, it says how to get them.
        """
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            available = ", ".join(logs) or "(none)"
            hint = ""
            if self.monitor.startswith("val_") and not any(k.startswith("val_") for k in logs):
                hint = (
                    f"; {self.monitor!r} is logged only on epochs that validate: pass "
                    "validation_data or validation_split to fit (with validation_freq > 1, "
                    "only every validation_freq-th epoch validates)"
                )
            warnings.warn(
                f"{type(self).__name__} is conditioned on {self.monitor!r}, which is not "
                f"in the logs; available keys: {available}{hint}",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
        return value
