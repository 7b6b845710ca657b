"""``ModelCheckpoint``: save the model (or its weights) during ``fit``."""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

from .._checks import describe, is_int, real_in_range
from ..io import check_npz_path
from .base import BatchCounter
from .monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights every epoch or every ``save_freq`` batches (Keras 3.15.1).

    The file name is ``filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)``:
    ``{epoch:02d}`` and ``{batch}`` are 1-based (as Keras) and ``{val_loss:.4f}``
    may name any log key. A key that is not there is a ``KeyError`` listing the
    available ones; ``{batch}`` in a file saved at an epoch end is such a key.
    Parent folders are created. Every write is atomic (``minitrain.io``), so an
    interrupted save never leaves a broken file.

    Keras's behaviour is kept, quirks included:

    - ``best`` persists across ``fit`` calls: a second ``fit`` saves only what
      beats the first one's best. The batch counter of an int ``save_freq``
      counts batches across epochs and restarts with each ``fit``.
    - The monitor's direction is resolved at the first ``on_epoch_end`` even
      without ``save_best_only``, so an unreadable name in ``mode="auto"``
      raises ``ValueError`` there.
    - With ``save_best_only``, a monitor missing from the logs issues a
      ``UserWarning`` listing the available keys and the model is saved anyway.
    - ``best`` is None until a ``save_best_only`` comparison sets it (or
      ``initial_value_threshold`` does). The first monitored value is always saved,
      even a NaN; then, since nothing compares better than NaN, nothing more is
      saved in that run (Keras 3.15.1).

    Unlike Keras 3.15 (where it fails), ``save_best_only`` with an int
    ``save_freq`` works: the monitor is read from the batch logs (running means
    since the epoch began), and the direction is resolved at the first save.

    Parameters
    ----------
    filepath : str or PathLike
        Where to save; must end in ``.npz``; may hold format fields as above.
    monitor : str, default "val_loss"
        The log key compared when ``save_best_only``.
    verbose : int, default 0
        1 prints a line for every save or skipped save.
    save_best_only : bool, default False
        Save only when ``logs[monitor]`` improves on ``best``.
    save_weights_only : bool, default False
        ``model.save_weights(path)`` instead of ``model.save(path)``.
    mode : {"auto", "min", "max"}, default "auto"
        See ``MonitorCallback``.
    save_freq : "epoch" or int, default "epoch"
        Save at every epoch end, or after every ``save_freq`` training batches.
    initial_value_threshold : float or None, default None
        The starting ``best``: only a better value is saved.

    Attributes
    ----------
    best : float or None
        The best monitored value saved so far (``save_best_only``); None until
        the first comparison, or ``initial_value_threshold``.
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        check_npz_path("filepath", filepath)
        filepath = os.fspath(filepath)
        _check_template(filepath)
        if save_freq != "epoch" and not (is_int(save_freq) and save_freq > 0):
            raise ValueError(
                "save_freq must be 'epoch' (a save at every epoch end) or a positive int "
                f"(a save every save_freq training batches), got {save_freq!r}"
            )
        if initial_value_threshold is not None:
            initial_value_threshold = real_in_range(
                "initial_value_threshold", initial_value_threshold
            )
        if not is_int(verbose):
            raise TypeError(f"verbose must be an int, got {describe(verbose)}")
        super().__init__(monitor, mode, min_delta=0)
        self.filepath = filepath
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        self.best: float | None = initial_value_threshold
        self._batches = BatchCounter(save_freq)
        self._epoch = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Not `best`: it is kept across fit calls, as in Keras.
        self._batches.reset()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._batches.step():
            self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._resolve_mode()
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        path = self._format_path(epoch, batch, logs)
        if self.save_best_only and not self._improved(epoch, logs, path):
            return
        if self.verbose > 0 and not self.save_best_only:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        check_npz_path("filepath", path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _improved(self, epoch: int, logs: dict[str, Any], path: str) -> bool:
        """Compare ``logs[monitor]`` with ``best``, updating ``best`` on an improvement."""
        self._resolve_mode()
        current = self._monitor_value(logs)
        if current is None:
            return True  # Keras saves when it cannot compare
        best = "None" if self.best is None else f"{self.best:.5f}"
        if not self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
            return False
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} "
                f"to {current:.5f}, saving model to {path}"
            )
        self.best = current
        return True

    def _format_path(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format_map(fields)
        except KeyError as err:
            available = ", ".join(fields)
            where = "at an epoch end" if batch is None else "after a batch"
            raise KeyError(
                f"filepath {self.filepath!r} uses {{{err.args[0]}}}, which is not available "
                f"{where}; available keys: {available}"
            ) from None


def _check_template(filepath: str) -> None:
    """Refuse a ``filepath`` that ``str.format`` could never fill (bad braces, ``{}``, ``{0}``)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(filepath) if name is not None]
    except ValueError as err:
        raise ValueError(
            f"filepath must be a valid format string, got {filepath!r}: {err}"
        ) from None
    for name in fields:
        if name == "" or name.split(".")[0].split("[")[0].isdigit():
            raise ValueError(
                f"filepath fields must be named (like {{epoch:02d}} or {{val_loss:.4f}}), "
                f"got {{{name}}} in {filepath!r}"
            )
