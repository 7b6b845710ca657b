"""``BackupAndRestore``: resume an interrupted ``fit`` where it stopped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._checks import describe, is_int
from .base import BatchCounter, Callback

BACKUP_NAME = "training_state.npz"


class BackupAndRestore(Callback):
    """Back up the whole training state during ``fit``; restore it when ``fit`` runs again.

    A ``fit`` interrupted by an exception or a killed process, run again with
    the same arguments and this callback, resumes from the last backup and
    ends bit-identical to an uninterrupted run.

    - ``on_train_begin``: if ``backup_dir`` holds a backup,
      ``meta = model._load_training_state(path)`` restores weights, buffers,
      optimizer state, every RNG state and the epoch's shuffle order, and
      ``model._resume = {"epoch": ..., "step": ..., "history": ...}`` tells
      ``fit`` where to start (epoch, batch within it) and what ``History``
      held. Without a backup, nothing happens.
    - ``save_freq="epoch"``: after every ``on_epoch_end``,
      ``model._save_training_state(path, meta)`` with ``meta`` = the next
      epoch, step 0, and the history so far including this epoch's logs
      (recorded by this callback, since ``History`` runs after the user's callbacks).
    - ``save_freq=n`` (an int): after every ``n`` training batches, counted
      across epochs and restarting with each ``fit``, with ``meta`` = the
      current epoch, the next batch, and the history of the completed epochs.
      No backup at epoch ends then, as in Keras.
    - ``on_train_end``: with ``delete_checkpoint``, the backup is deleted.
      As in Keras, this happens only when ``fit`` completes normally (an
      early stop included): an exception skips ``on_train_end`` and keeps the backup.

    Every write is atomic, so a process killed while saving leaves the
    previous backup whole; Keras keeps a second copy for that case, minitrain
    needs none. Keras deletes the whole ``backup_dir``; minitrain deletes its
    backup file, then the folder only if it is left empty.

    Parameters
    ----------
    backup_dir : str or PathLike
        The folder holding the backup (created when first needed). Give each
        run its own folder.
    save_freq : "epoch" or int, default "epoch"
        Back up at every epoch end, or every ``save_freq`` training batches.
    delete_checkpoint : bool, default True
        Delete the backup when ``fit`` completes.
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int = "epoch",
        delete_checkpoint: bool = True,
    ) -> None:
        if not isinstance(backup_dir, str | os.PathLike):
            raise TypeError(f"backup_dir must be a path to a folder, got {describe(backup_dir)}")
        if not os.fspath(backup_dir):
            raise ValueError("backup_dir must be a path to a folder, got an empty path")
        if Path(backup_dir).is_file():
            raise ValueError(f"backup_dir must be a folder, got the file {os.fspath(backup_dir)!r}")
        if save_freq != "epoch" and not (is_int(save_freq) and save_freq > 0):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        super().__init__()
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._history: dict[str, list[Any]] = {}
        self._epoch = 0
        self._batches = BatchCounter(save_freq)

    @property
    def backup_path(self) -> Path:
        """The backup file: ``backup_dir / "training_state.npz"``."""
        return Path(self.backup_dir) / BACKUP_NAME

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._history = {}
        self._batches.reset()
        if not self.backup_path.exists():
            return
        meta = self.model._load_training_state(self.backup_path)
        try:
            resume = {
                "epoch": int(meta["epoch"]),
                "step": int(meta["step"]),
                "history": {k: list(v) for k, v in meta["history"].items()},
            }
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(
                f"the backup {str(self.backup_path)!r} holds no valid resume point "
                f"(epoch, step, history): {err!r}"
            ) from None
        self._history = {k: list(v) for k, v in resume["history"].items()}
        self.model._resume = resume

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._batches.step():
            self._save(epoch=self._epoch, step=batch + 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            self._history.setdefault(key, []).append(value)
        if self.save_freq == "epoch":
            self._save(epoch=epoch + 1, step=0)

    def _save(self, *, epoch: int, step: int) -> None:
        history = {k: list(v) for k, v in self._history.items()}
        meta = {"epoch": epoch, "step": step, "history": history}
        self.backup_path.parent.mkdir(parents=True, exist_ok=True)
        self.model._save_training_state(self.backup_path, meta)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self.delete_checkpoint:
            return
        self.backup_path.unlink(missing_ok=True)
        try:
            Path(self.backup_dir).rmdir()
        except OSError:
            pass  # missing, or holding other files: left alone
