"""``ReduceLROnPlateau``: divide the learning rate when a monitored value stalls."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import describe, is_int, non_negative_int, real_in_range
from .monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    At every ``on_epoch_end`` (Keras 3.15.1 semantics)::

        logs["learning_rate"] = lr                  # the rate of this epoch
        if cooldown_counter > 0:
            cooldown_counter -= 1; wait = 0
        if current improves on best by min_delta:
            best = current; wait = 0
        elif cooldown_counter == 0:                 # tested after the decrement
            wait += 1
            if wait >= patience and lr > float32(min_lr):
                lr = max(lr * factor, min_lr)
                cooldown_counter = cooldown; wait = 0

    Quirks kept from Keras: because the cooldown test follows the decrement,
    ``cooldown=1`` behaves exactly like ``cooldown=0``, and ``cooldown=c``
    pauses the count for ``c - 1`` epochs. The rate is compared with
    ``np.float32(min_lr)``, which under NumPy 2 rounds both sides to float32:
    a rate within float32 rounding of ``min_lr`` counts as reached and is left
    alone. ``best`` starts at +inf (or -inf), and ``wait``,
    ``cooldown_counter`` and ``best`` reset in ``on_train_begin``.
    A monitor missing from the logs issues a ``UserWarning`` listing the
    available keys and the epoch is skipped.

    Follows the shared monitor rules of minitrain (``MonitorCallback``), as
    API.md asks, where Keras's own ``ReduceLROnPlateau`` differs: ``mode="auto"``
    raises ``ValueError`` at the first ``on_epoch_end`` for a name it cannot
    read (Keras minimises any name without ``"acc"``), and a negative
    ``min_delta`` is taken as its absolute value.

    The first reduction on an optimizer built with a schedule raises the
    optimizer's ``TypeError``, as in Keras.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The log key to watch.
    factor : float, default 0.1
        ``new_lr = lr * factor``; in ``[0, 1)``.
    patience : int, default 10
        Epochs without improvement before a reduction.
    verbose : int, default 0
        1 prints every reduction.
    mode : {"auto", "min", "max"}, default "auto"
        See ``MonitorCallback``.
    min_delta : float, default 1e-4
        The smallest change that counts as an improvement.
    cooldown : int, default 0
        Epochs after a reduction during which ``wait`` stays 0 (see the quirk above).
    min_lr : float, default 0.0
        The rate is never reduced below this.

    Attributes
    ----------
    wait : int
        Epochs without improvement since the last improvement or reduction.
    cooldown_counter : int
        Epochs of cooldown left.
    best : float or None
        The best monitored value of this run: None until the first
        ``on_epoch_end`` resolves the direction, +-inf before the first value.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        factor = real_in_range("factor", factor, 0.0, 1.0, high_open=True)
        patience = non_negative_int("patience", patience)
        cooldown = non_negative_int("cooldown", cooldown)
        min_lr = real_in_range("min_lr", min_lr, 0.0)
        if not is_int(verbose):
            raise TypeError(f"verbose must be an int, got {describe(verbose)}")
        super().__init__(monitor, mode, min_delta)
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.wait = 0
        self.cooldown_counter = 0
        self.best: float | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.wait = 0
        self.cooldown_counter = 0
        self.best = None if self.monitor_op is None else self._worst_value()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._resolve_mode()
        if self.best is None:
            self.best = self._worst_value()
        optimizer = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._monitor_value(logs)
        if current is None:
            return

        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing "
                            f"learning rate to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
