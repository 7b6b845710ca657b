"""``TerminateOnNaN``: stop ``fit`` after a batch whose loss is NaN or infinite."""

from __future__ import annotations

import math
from typing import Any

from .base import Callback


class TerminateOnNaN(Callback):
    """Stop training when the running loss becomes NaN or +-inf (Keras 3.15.1).

    After every training batch, ``logs["loss"]`` (the running mean since the
    epoch began, which stays non-finite once one batch loss is) is checked.

    Parameters
    ----------
    raise_error : bool, default False
        False: print ``Batch N: Invalid loss, terminating training`` and set
        ``model.stop_training``; ``fit`` then ends normally after that batch
        (the partial epoch is validated, ``on_epoch_end`` and ``on_train_end``
        run). True: raise ``RuntimeError`` at once, so no callback's
        ``on_train_end`` runs (a ``BackupAndRestore`` backup is kept).
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
