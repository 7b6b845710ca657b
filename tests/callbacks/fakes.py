"""A stand-in model and a scripted ``fit`` loop, so callbacks are tested without training.

``FakeModel`` offers exactly what callbacks use from ``Sequential``: ``stop_training``,
``state_dict``/``load_state_dict``, ``save``/``save_weights`` (small atomic ``.npz``
files), an ``optimizer`` with a ``learning_rate`` property, ``history``, ``_resume`` and
``_save_training_state``/``_load_training_state``. Its one weight array records where
training is: after batch ``b`` of epoch ``e`` every entry equals ``e + b / 100``, so
after a one-batch epoch ``e`` the weights are exactly ``e``.

``run_fit`` calls the hooks in the order ``fit`` does, with logs given by the test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minitrain.callbacks import CallbackList
from minitrain.io import atomic_write_npz, from_json_array, json_array, read_npz


class FakeOptimizer:
    """``learning_rate`` as minitrain's optimizers expose it: a float, or a schedule
    read at ``iterations`` that refuses assignment with ``TypeError``."""

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.01) -> None:
        self._schedule = learning_rate if callable(learning_rate) else None
        self._lr = None if callable(learning_rate) else float(learning_rate)
        self.iterations = 0

    @property
    def learning_rate(self) -> float:
        if self._schedule is not None:
            return float(self._schedule(self.iterations))
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if self._schedule is not None:
            raise TypeError("learning_rate cannot be set: the optimizer was built with a schedule")
        if isinstance(value, bool) or not isinstance(value, float | int) or not value >= 0:
            raise ValueError(f"learning_rate must be a real number >= 0, got {value!r}")
        self._lr = float(value)


class FakeModel:
    def __init__(self, learning_rate: float | Callable[[int], float] = 0.01) -> None:
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.history: Any = None
        self._resume: dict[str, Any] | None = None
        self.w = np.zeros(3)
        self.saves: list[tuple[str, str]] = []  # (method, path) of every save

    def train_batch(self, epoch: int, batch: int) -> None:
        self.w[:] = epoch + batch / 100
        self.optimizer.iterations += 1

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"0.W": self.w.copy()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        if set(state) != {"0.W"}:
            raise ValueError(f"unexpected keys {sorted(state)}")
        self.w = state["0.W"].copy()

    def save(self, path: str | os.PathLike[str]) -> None:
        atomic_write_npz(path, {"0.W": self.w, "kind": np.array("model")})
        self.saves.append(("save", os.fspath(path)))

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        atomic_write_npz(path, {"0.W": self.w, "kind": np.array("weights")})
        self.saves.append(("save_weights", os.fspath(path)))

    def _save_training_state(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
        arrays = {
            "0.W": self.w,
            "iterations": np.array(self.optimizer.iterations),
            "meta": json_array(meta),
        }
        atomic_write_npz(path, arrays)

    def _load_training_state(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        arrays = read_npz(path)
        self.w = arrays["0.W"].copy()
        self.optimizer.iterations = int(arrays["iterations"])
        return from_json_array(arrays["meta"], "meta")


Logs = dict[str, Any]


def run_fit(
    model: FakeModel,
    callbacks: Sequence[Any],
    epoch_logs: Sequence[Logs] | Callable[[int], Logs],
    *,
    epochs: int | None = None,
    steps: int = 1,
    batch_logs: Callable[[int, int], Logs] | None = None,
    initial_epoch: int = 0,
    verbose: int = 0,
) -> Any:
    """Run ``fit``'s hook sequence with scripted logs; return the ``History``.

    ``epoch_logs[epoch]`` (or ``epoch_logs(epoch)``) are the logs of epoch ``epoch``
    (absolute index); ``batch_logs(epoch, batch)`` those after each batch (default
    ``{"loss": 1.0}``). Like ``fit``, a stop requested during a batch ends the batch
    loop, a stop at an epoch end ends training, an exception skips ``on_train_end``,
    and a resume point left by ``BackupAndRestore`` is honoured.
    """
    get_epoch_logs = epoch_logs if callable(epoch_logs) else epoch_logs.__getitem__
    get_batch_logs = batch_logs or (lambda epoch, batch: {"loss": 1.0})
    if epochs is None:
        epochs = len(epoch_logs)
    cbs = CallbackList(
        list(callbacks),
        model=model,
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )
    model.stop_training = False
    cbs.on_train_begin()
    first_epoch, first_step = initial_epoch, 0
    if model._resume is not None:
        resume, model._resume = model._resume, None
        first_epoch, first_step = resume["epoch"], resume["step"]
        done = len(next(iter(resume["history"].values()), []))
        cbs.history.history = {k: list(v) for k, v in resume["history"].items()}
        cbs.history.epoch = list(range(first_epoch - done, first_epoch))
    logs: Logs = {}
    for epoch in range(first_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        for batch in range(first_step, steps):
            cbs.on_train_batch_begin(batch)
            model.train_batch(epoch, batch)
            cbs.on_train_batch_end(batch, dict(get_batch_logs(epoch, batch)))
            if model.stop_training:
                break
        first_step = 0
        logs = dict(get_epoch_logs(epoch))
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return cbs.history


def epochs_run(history: Any) -> int:
    return len(history.epoch)
