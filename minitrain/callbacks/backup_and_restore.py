"""``BackupAndRestore``: resume an interrupted ``fit`` where it stopped."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from .._checks import caller_stacklevel, describe, is_int
from .base import BatchCounter, Callback

BACKUP_NAME = "training_state.npz"
PREVIOUS_NAME = "training_state.previous.npz"


class BackupAndRestore(Callback):
    """Back up the whole training state during ``fit``; restore it when ``fit`` runs again.

    A ``fit`` interrupted by an exception or a killed process, run again with
    the same arguments and this callback, resumes from the last backup and
    ends bit-identical to an uninterrupted run.

    - ``on_train_begin``: if ``backup_dir`` holds a backup,
      ``meta = model._load_training_state(path)`` restores weights, buffers,
      optimizer state, every RNG state and the epoch in progress (its shuffle order
      and metric states, which ``fit`` checks), and
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
    - ``on_train_end``: with ``delete_checkpoint``, the backups are deleted.
      As in Keras, this happens only when ``fit`` completes normally (an
      early stop included): an exception skips ``on_train_end`` and keeps them.

    Every write is atomic (a temporary file renamed over the backup), so a process
    killed while saving leaves the previous backup whole. ``double_checkpoint=True``
    (Keras 3.15.1) also keeps the backup before the latest
    (``training_state.previous.npz``), for a latest one damaged after it was written
    (a disk fault, a copy cut short): when the latest cannot be read, the previous one
    is restored instead, with a ``UserWarning`` (Keras falls back silently). Keras
    deletes the whole ``backup_dir``; minitrain deletes its backup files, then the
    folder only if it is left empty.

    Parameters
    ----------
    backup_dir : str or PathLike
        The folder holding the backup (created when first needed). Give each
        run its own folder.
    save_freq : "epoch" or int, default "epoch"
        Back up at every epoch end, or every ``save_freq`` training batches.
    double_checkpoint : bool, default False
        Keep the previous backup too, and fall back to it when the latest is unreadable.
    delete_checkpoint : bool, default True
        Delete the backups when ``fit`` completes.
    """

    def __init__(
        self,
        backup_dir: str | os.PathLike[str],
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        expected = "backup_dir must be a path to a folder (a str or os.PathLike)"
        if not isinstance(backup_dir, str | os.PathLike):
            raise TypeError(f"{expected}, got {describe(backup_dir)}")
        if not os.fspath(backup_dir):
            raise ValueError(f"{expected}, got an empty path")
        if Path(backup_dir).is_file():
            raise ValueError(
                f"{expected}, got the file {os.fspath(backup_dir)!r}: give a folder, "
                "which will hold the backup files"
            )
        if save_freq != "epoch" and not (is_int(save_freq) and save_freq > 0):
            raise ValueError(
                "save_freq must be 'epoch' (a backup at every epoch end) or a positive int "
                f"(a backup every save_freq training batches), got {save_freq!r}"
            )
        super().__init__()
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._history: dict[str, list[Any]] = {}
        self._epoch = 0
        self._batches = BatchCounter(save_freq)

    @property
    def backup_path(self) -> Path:
        """The latest backup: ``backup_dir / "training_state.npz"``."""
        return Path(self.backup_dir) / BACKUP_NAME

    @property
    def previous_path(self) -> Path:
        """The backup before it (``double_checkpoint``): ``training_state.previous.npz``."""
        return Path(self.backup_dir) / PREVIOUS_NAME

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._history = {}
        self._batches.reset()
        meta = self._restore()
        if meta is None:
            return
        try:
            resume = {
                "epoch": int(meta["epoch"]),
                "step": int(meta["step"]),
                "history": {k: list(v) for k, v in meta["history"].items()},
            }
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(
                f"the backup in {self.backup_dir!r} holds no valid resume point "
                f"(epoch, step, history): {err!r}"
            ) from None
        self._history = {k: list(v) for k, v in resume["history"].items()}
        self.model._resume = resume

    def _restore(self) -> dict[str, Any] | None:
        """Load the latest backup (or, with ``double_checkpoint``, the previous one when the
        latest is missing or unreadable); None when there is none. A failed load changes
        nothing: every file is checked whole before anything is written."""
        latest, previous = self.backup_path, self.previous_path
        fallback = self.double_checkpoint and previous.exists()
        if not latest.exists():
            if not fallback:
                return None
            return self.model._load_training_state(previous)  # killed between the two writes
        try:
            return self.model._load_training_state(latest)
        except (OSError, ValueError, KeyError, EOFError) as err:
            if not fallback:
                raise
            warnings.warn(
                f"BackupAndRestore could not read the latest backup {str(latest)!r} ({err}); "
                f"resuming from the previous one, {str(previous)!r}",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
            meta = self.model._load_training_state(previous)
            latest.unlink()  # so that the next backup does not keep it as "previous"
            return meta

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
        progress = getattr(self.model, "_fit_progress", None)
        if progress and "refresh" in progress:
            progress["arrays"] = progress["refresh"]()  # the epoch in progress, as of now
        self.backup_path.parent.mkdir(parents=True, exist_ok=True)
        if self.double_checkpoint and self.backup_path.exists():
            self._keep_previous()
        self.model._save_training_state(self.backup_path, meta)

    def _keep_previous(self) -> None:
        """The latest backup becomes the previous one and stays the latest until the new
        one replaces it: copied (a file of its own, which damage to the other cannot
        reach) to a temporary name, then renamed into place, so both are always whole."""
        staging = self.previous_path.with_name(PREVIOUS_NAME + ".tmp")
        shutil.copyfile(self.backup_path, staging)
        os.replace(staging, self.previous_path)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self.delete_checkpoint:
            return
        self.backup_path.unlink(missing_ok=True)
        self.previous_path.unlink(missing_ok=True)
        self.previous_path.with_name(PREVIOUS_NAME + ".tmp").unlink(missing_ok=True)
        try:
            Path(self.backup_dir).rmdir()
        except OSError:
            pass  # missing, or holding other files: left alone
