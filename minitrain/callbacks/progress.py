"""``ProgbarLogger``: the progress printer ``fit`` adds for ``verbose=1`` and ``verbose=2``.

The lines read as Keras 3 prints them::

    Epoch 3/10
    12/50 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.8123 - loss: 0.4211      (verbose=1, live)
    50/50 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.8123 - loss: 0.4211 - val_accuracy: ...
    50/50 - 0s - 3ms/step - accuracy: 0.8123 - loss: 0.4211 - val_accuracy: ...  (verbose=2)

A live line shows the step count, a 20-character bar, the estimated time
left and the time per step, then the running metrics; the final line of an
epoch shows the epoch's wall time instead of the time left, and adds the
validation metrics.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

from .base import Callback

BAR_WIDTH = 20
_DONE = "\x1b[32m"  # green, as Keras
_TODO = "\x1b[37m"  # light grey, as Keras
_RESET = "\x1b[0m"


def format_eta(seconds: float) -> str:
    """``"45s"``, ``"1:15"`` (over a minute) or ``"1:02:05"`` (over an hour), truncated."""
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def format_time_per_step(seconds: float) -> str:
    """``"2s/step"``, ``"3ms/step"`` or ``"50us/step"``, rounded (0 reads ``"0s/step"``)."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_value(value: Any) -> str:
    """A log value with 4 decimals, or in scientific notation when ``|value| <= 1e-3``."""
    if isinstance(value, int | float):
        return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"
    return str(value)


def display_keys(logs: dict[str, Any]) -> list[str]:
    """Training keys sorted, then ``val_`` keys sorted; ``learning_rate`` is left out.

    Keras shows the rate only when a learning-rate callback adds it to the
    logs; minitrain always logs it (it is in ``History``), so the printer
    leaves it out to keep the line as Keras prints it without such callbacks.
    """
    keys = [k for k in logs if k != "learning_rate"]
    train = sorted(k for k in keys if not k.startswith("val_"))
    return train + sorted(k for k in keys if k.startswith("val_"))


class ProgbarLogger(Callback):
    """Print training progress to stdout (Keras 3 ``ProgbarLogger`` format).

    ``verbose`` comes from ``params`` (set by ``fit``): 0 prints nothing; 1
    prints ``Epoch i/N`` (only when ``epochs > 1``, as Keras) and a progress
    line per epoch; 2 prints ``Epoch i/N`` and one summary line per epoch.
    With ``verbose=1`` and stdout a terminal, the line is redrawn in place
    with ``\\r`` after training batches, at most once per ``interval`` seconds,
    with a coloured bar; when stdout is not a terminal (a file, a pipe, a
    notebook), only the finished line of each epoch is printed, without
    escape codes. Validation inside ``fit`` is silent; ``evaluate`` and
    ``predict`` get a line of their own.

    Unlike Keras, the metrics shown are the running means ``fit`` logs, not
    re-averaged by the printer; the step count at an epoch's end is the
    number of batches run (Keras shows the full count after an early stop);
    and the time per step counts training batches only (Keras spreads the
    validation time over it).

    Parameters
    ----------
    interval : float, default 0.1
        Least time in seconds between two redraws of a live line.
    dynamic : bool or None, default None
        Redraw in place; None decides from ``sys.stdout.isatty()``.
    clock : callable, default time.perf_counter
        Seconds, as a float; tests give a fake clock.
    """

    def __init__(
        self,
        *,
        interval: float = 0.1,
        dynamic: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__()
        self.interval = interval
        self.dynamic = dynamic
        self.clock = clock
        self.verbose = 1
        self.epochs = 1
        self.target: int | None = None
        self._in_fit = False
        self._reset_line()

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._in_fit = True  # validation inside fit prints nothing

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.verbose and self.epochs > 1:
            _write(f"Epoch {epoch + 1}/{self.epochs}\n")
        self._reset_line()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._step(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._finish(logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._reset_line()

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._step(batch, logs)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset_line()

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._step(batch, None)  # predictions are not metrics

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        self._finish(None)

    # ------------------------------------------------------------------- line
    def _reset_line(self) -> None:
        self._start = self.clock()
        self._seen = 0  # 1-based index of the last batch reported
        self._steps = 0  # batches reported on this line (fewer than _seen after a resume)
        self._t_first: float | None = None
        self._t_last = self._start
        self._last_draw = -math.inf
        self._width = 0  # visible width of the last live line, to erase it
        self._live = self.dynamic if self.dynamic is not None else _stdout_is_terminal()

    def _step(self, batch: int, logs: dict[str, Any] | None) -> None:
        now = self.clock()
        self._seen = batch + 1
        self._steps += 1
        if self._steps == 1:
            self._t_first = now
        self._t_last = now
        if self.verbose == 1 and self._live and now - self._last_draw >= self.interval:
            self._last_draw = now
            self._draw(self._seen, logs or {}, final=False)

    def _time_per_step(self) -> float:
        """Seconds per batch, leaving out the first (slow, unrepresentative) one when possible."""
        if self._steps > 1:
            return (self._t_last - self._t_first) / (self._steps - 1)
        if self._steps == 1:
            return self._t_last - self._start
        return 0.0

    def _count(self, current: int) -> str:
        target = self.target if self.target else current
        digits = len(str(target))
        return f"{current:>{digits}d}/{target}"

    def _metrics(self, logs: dict[str, Any]) -> str:
        return "".join(f" - {k}: {format_value(logs[k])}" for k in display_keys(logs))

    def _draw(self, current: int, logs: dict[str, Any], *, final: bool) -> None:
        """Write a verbose=1 line: live (in place) or final."""
        target = self.target if self.target else current
        done = min(BAR_WIDTH, int(BAR_WIDTH * current / target)) if target else BAR_WIDTH
        if self._live:
            bar = f"{_DONE}{'━' * done}{_RESET}" if done else ""
            bar += f"{_TODO}{'━' * (BAR_WIDTH - done)}{_RESET}"
        else:
            bar = "━" * BAR_WIDTH  # a plain line is only ever a finished one
        if final:
            when = f"{self.clock() - self._start:.0f}s"
        else:
            when = format_eta(self._time_per_step() * (target - current))
        head = self._count(current)
        tail = f" {when} {format_time_per_step(self._time_per_step())}{self._metrics(logs)}"
        line = f"{head} {bar}{tail}"
        width = len(head) + 1 + BAR_WIDTH + len(tail)  # what the terminal shows
        if self._live:
            line = "\r" + line + " " * max(0, self._width - width)
            self._width = width
        _write(line + ("\n" if final else ""))

    def _finish(self, logs: dict[str, Any] | None) -> None:
        logs = logs or {}
        current = self._seen or (self.target or 0)
        if self.verbose == 1:
            self._draw(current, logs, final=True)
        elif self.verbose == 2:
            elapsed = self.clock() - self._start
            _write(
                f"{self._count(current)} - {elapsed:.0f}s - "
                f"{format_time_per_step(self._time_per_step())}{self._metrics(logs)}\n"
            )


def _stdout_is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def _write(text: str) -> None:
    # Looked up at every call, so that a redirected sys.stdout is honoured.
    sys.stdout.write(text)
    sys.stdout.flush()
