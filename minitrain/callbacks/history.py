"""``History``: the per-epoch record that ``fit`` returns."""

from __future__ import annotations

from typing import Any

from .base import Callback


class History(Callback):
    """Record every epoch's logs (Keras 3 ``keras.callbacks.History``).

    ``fit`` adds one automatically, after the user's callbacks (so it sees the
    keys they add to the logs), and returns it.

    Attributes
    ----------
    history : dict[str, list]
        One list per log key, one entry per epoch run: ``history["loss"][i]``
        is the loss of the ``i``-th epoch of the run.
    epoch : list[int]
        The 0-based indices of the epochs run.

    Notes
    -----
    As in Keras, ``on_train_begin`` empties ``epoch`` but not ``history``:
    ``fit`` builds a new ``History`` for every call, so the difference only
    shows when one instance is passed to several ``fit`` calls, where
    ``history`` keeps growing. Every ``on_epoch_end`` also sets
    ``model.history`` to this instance.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self
