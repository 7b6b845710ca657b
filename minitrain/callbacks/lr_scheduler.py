"""``LearningRateScheduler``: set the learning rate at the start of every epoch."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import describe, is_int
from .base import Callback


def takes_two_arguments(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` accepts two positional arguments (``fn(epoch, lr)``).

    Read from the signature, so ``lambda epoch, lr=0.1: ...``, ``def f(*args)``,
    a ``functools.partial`` leaving two free parameters and an object whose
    ``__call__`` takes two all count. A callable without a readable signature
    gets the two-argument form, the one Keras tries first.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(0, 0.0)
    except TypeError:
        return False
    return True


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.learning_rate = schedule(...)`` at every epoch start (Keras 3.15.1).

    ``schedule(epoch, lr)`` gets the 0-based epoch and the current rate (a
    Python float); a schedule that takes one argument gets ``schedule(epoch)``.
    Which form is decided once, from the signature, never by calling and
    catching ``TypeError`` (Keras's way, which hides a ``TypeError`` raised
    inside the schedule). A ``minitrain.schedules`` schedule is such a
    one-argument callable: ``epoch`` is then its step.

    The result must be a Python or NumPy float (an int, a bool or a str is a
    ``ValueError``, as in Keras) and must not be negative (``ValueError``). An
    optimizer built with a schedule refuses the assignment with ``TypeError``,
    which propagates. As Keras does, ``on_epoch_end`` writes the optimizer's
    rate to ``logs["learning_rate"]``.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float`` or ``schedule(epoch) -> float``.
    verbose : int, default 0
        1 prints the rate set at each epoch.
    """

    def __init__(self, schedule: Callable[..., Any], verbose: int = 0) -> None:
        if not callable(schedule):
            raise TypeError(f"schedule must be callable, got {describe(schedule)}")
        if not is_int(verbose):
            raise TypeError(f"verbose must be an int, got {describe(verbose)}")
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose
        self._pass_lr = takes_two_arguments(schedule)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        optimizer = self.model.optimizer
        if self._pass_lr:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            lr = self.schedule(epoch)
        if not isinstance(lr, float | np.floating):
            raise ValueError(
                f"the schedule of LearningRateScheduler must return a float, got {describe(lr)} "
                f"at epoch {epoch}"
            )
        if not lr >= 0:
            raise ValueError(
                "the schedule of LearningRateScheduler must return a learning rate >= 0, "
                f"got {lr} at epoch {epoch}"
            )
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
