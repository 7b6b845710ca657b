"""``EarlyStopping``: stop ``fit`` when a monitored value stops improving."""

from __future__ import annotations

from typing import Any

from .._checks import describe, is_int, non_negative_int, real_in_range
from .monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when ``logs[monitor]`` has stopped improving (Keras 3.15.1).

    At every ``on_epoch_end`` from ``start_from_epoch`` on::

        wait += 1                                   # counted before comparing
        if current improves on best by min_delta:
            best, best_epoch = current, epoch       # (and best_weights)
            if baseline is None or current improves on baseline:
                wait = 0
        elif wait >= patience and epoch > 0:
            model.stop_training = True              # stopped_epoch = epoch

    Keras's behaviour is kept, quirks included:

    - ``wait`` is incremented before the comparison, so ``patience=0`` and
      ``patience=1`` stop at the same epoch: the first epoch without
      improvement. ``patience=k`` (k >= 1) stops after k epochs without one.
    - The first monitored epoch is always an improvement (``best`` starts as
      None), and training never stops at epoch 0.
    - With a ``baseline``, an epoch that improves on ``best`` but not on
      ``baseline`` updates ``best`` without resetting ``wait``. An epoch that
      improves on ``best`` never stops training, even with ``wait >= patience``:
      while the baseline is never beaten, training stops at the first epoch
      that does not improve on ``best`` once ``patience`` epochs were monitored.
    - ``restore_best_weights`` restores the best epoch's weights in
      ``on_train_end`` whether or not training stopped early, and whether or
      not the best epoch beat ``baseline``.
    - A monitor missing from the logs issues a ``UserWarning`` listing the
      available keys, every epoch it is missing (warm-up epochs included),
      and the epoch is skipped.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The log key to watch.
    min_delta : float, default 0
        The smallest change that counts as an improvement (absolute value used).
    patience : int, default 0
        Epochs without improvement after which training stops (see above).
    verbose : int, default 0
        1 prints ``Epoch N: early stopping`` and the restore message.
    mode : {"auto", "min", "max"}, default "auto"
        See ``MonitorCallback``; ``"auto"`` raises ``ValueError`` at the first
        ``on_epoch_end`` for a name it cannot read.
    baseline : float or None, default None
        A value the monitor must beat for ``wait`` to reset.
    restore_best_weights : bool, default False
        Restore ``model.load_state_dict(best_weights)`` when training ends.
    start_from_epoch : int, default 0
        Epochs (absolute indices below this) that are not monitored at all.

    Attributes
    ----------
    wait : int
        Epochs counted since the last improvement (on both best and baseline).
    stopped_epoch : int
        The 0-based epoch at whose end training was stopped, 0 if it was not.
    best : float or None
        The best monitored value of this run, None before the first.
    best_epoch : int
        The 0-based epoch of ``best``.
    best_weights : dict[str, ndarray] or None
        ``model.state_dict()`` (a copy) at the end of ``best_epoch`` when
        ``restore_best_weights``, else None.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        patience = non_negative_int("patience", patience)
        start_from_epoch = non_negative_int("start_from_epoch", start_from_epoch)
        if baseline is not None:
            baseline = real_in_range("baseline", baseline)
        if not is_int(verbose):
            raise TypeError(f"verbose must be an int, got {describe(verbose)}")
        super().__init__(monitor, mode, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: dict[str, Any] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._resolve_mode()
        current = self._monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the weights we have are the best we know.
            self.best_weights = self.model.state_dict()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)
