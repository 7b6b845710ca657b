"""The fit loop: batches, epochs and callbacks around ``Sequential._train_step``.

``fit`` orchestrates and ``train_step`` computes. The hooks fire in Keras 3
order (``minitrain.callbacks`` documents each one)::

    on_train_begin
    for epoch in range(initial_epoch, epochs):
        on_epoch_begin(epoch)
        for batch in range(steps):
            on_train_batch_begin(batch)
            train_step(x[batch], y[batch])            # forward, loss, backward, update
            on_train_batch_end(batch, running means)
            if model.stop_training: break
        if validating:                                 # eval mode, no_grad
            on_test_begin
            for batch in validation batches:
                on_test_batch_begin(batch); on_test_batch_end(batch, running means)
            on_test_end(val logs)
        on_epoch_end(epoch, logs + val_ logs + learning_rate)
        if model.stop_training: break
    on_train_end(logs)

The data are checked and cast once per call; per batch the loop only gathers
rows by index. Whatever happens, every layer gets back the mode it had.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks
from .callbacks import CallbackList
from .grad_mode import no_grad

if TYPE_CHECKING:
    from .model import Sequential


class RunningMeans:
    """Sample-weighted means of the loss and metrics since the epoch began (as Keras):
    ``mean = sum_b value_b * n_b / sum_b n_b`` over the batches ``b`` seen so far."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.sums = np.zeros(len(self.names))
        self.count = 0

    def update(self, values: Sequence[float], n: int) -> None:
        for i, v in enumerate(values):
            self.sums[i] += v * n
        self.count += n

    def logs(self) -> dict[str, float]:
        return {name: float(s / self.count) for name, s in zip(self.names, self.sums, strict=True)}


@contextlib.contextmanager
def _mode(model: Sequential, training: bool) -> Iterator[None]:
    previous = [layer.training for layer in model.layers]
    for layer in model.layers:
        layer.training = training
    try:
        yield
    finally:
        for layer, was in zip(model.layers, previous, strict=True):
            layer.training = was


def eval_mode(model: Sequential) -> contextlib.AbstractContextManager[None]:
    """Every layer in eval mode inside the block; each gets its own mode back after."""
    return _mode(model, False)


def train_mode(model: Sequential) -> contextlib.AbstractContextManager[None]:
    """Every layer in training mode inside the block; each gets its own mode back after."""
    return _mode(model, True)


def check_verbose(verbose: object) -> int:
    if verbose == "auto":
        return 1
    if not _checks.is_int(verbose) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _metric_names(model: Sequential) -> list[str]:
    return ["loss", *(m.name for m in model.metrics)]


def evaluate_arrays(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    callbacks: CallbackList | None = None,
) -> dict[str, float]:
    """Loss and metrics over checked data, in batches, in eval mode under no_grad."""
    if callbacks is None:
        callbacks = CallbackList(None, model=model, add_history=False)
    means = RunningMeans(_metric_names(model))
    with eval_mode(model), no_grad():
        callbacks.on_test_begin()
        for step, start in enumerate(range(0, len(x), batch_size)):
            callbacks.on_test_batch_begin(step)
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            y_pred = model._forward(xb)
            values = [model.loss.value(yb, y_pred), *(m(yb, y_pred) for m in model.metrics)]
            means.update(values, len(xb))
            callbacks.on_test_batch_end(step, means.logs())
        logs = means.logs()
        callbacks.on_test_end(logs)
    return logs


def _validation_sets(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    validation_split: float,
    validation_data: Any,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The training arrays and the validation pair (or None). As Keras, explicit
    ``validation_data`` wins over ``validation_split``, and a split takes the last
    samples, before any shuffling."""
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val), got "
                f"{_checks.describe(validation_data)}"
            )
        xv, yv = model._prepare(*validation_data, "validation_data[0]", "validation_data[1]")
        return x, y, (xv, yv)
    if validation_split == 0.0:
        return x, y, None
    split_at = math.ceil(len(x) * (1.0 - validation_split))
    if split_at >= len(x):
        raise ValueError(
            f"validation_split={validation_split} leaves no validation sample out of {len(x)}"
        )
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])


def fit(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 32,
    epochs: int = 1,
    verbose: int | str = 1,
    callbacks: Sequence[Any] | None = None,
    validation_split: float = 0.0,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    shuffle: bool = True,
    initial_epoch: int = 0,
) -> Any:
    """``Sequential.fit``: see the module docstring for the loop."""
    model._require_compiled("fit")
    batch_size = _checks.positive_int("batch_size", batch_size)
    epochs = _checks.positive_int("epochs", epochs)
    verbose = check_verbose(verbose)
    initial_epoch = _checks.non_negative_int("initial_epoch", initial_epoch)
    if not isinstance(shuffle, bool | np.bool_):
        raise TypeError(f"shuffle must be a bool, got {_checks.describe(shuffle)}")
    validation_split = _checks.real_in_range(
        "validation_split", validation_split, 0.0, 1.0, high_open=True
    )
    x, y = model._prepare(x, y)
    x, y, validation = _validation_sets(model, x, y, validation_split, validation_data)
    n = len(x)
    steps = math.ceil(n / batch_size)
    cbs = CallbackList(
        callbacks,
        model=model,
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )
    model.history = cbs.history
    model.stop_training = False
    model._resume = None
    names = _metric_names(model)
    logs: dict[str, float] = {}
    with train_mode(model):
        cbs.on_train_begin()
        first_epoch, first_step, order, means = _resume_point(model, cbs, initial_epoch, names)
        for epoch in range(first_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            if first_step == 0:
                order = model.rng.permutation(n) if shuffle else None
                means = RunningMeans(names)
            # Kept on the model so that a backup taken mid-epoch can resume it exactly.
            model._fit_progress = {"order": order, "means": means}
            updated = first_step > 0  # a resumed epoch made updates before its backup
            for step in range(first_step, steps):
                cbs.on_train_batch_begin(step)
                rows = slice(step * batch_size, (step + 1) * batch_size)
                if order is not None:
                    rows = order[rows]  # gather the batch once, by index
                xb, yb = x[rows], y[rows]
                loss, y_pred = model._train_step(xb, yb)
                updated = True
                means.update([loss, *(m(yb, y_pred) for m in model.metrics)], len(xb))
                cbs.on_train_batch_end(step, means.logs())
                if model.stop_training:
                    break
            first_step = 0
            logs = means.logs() if means.count else {}
            if validation is not None:
                val_logs = evaluate_arrays(model, *validation, batch_size, callbacks=cbs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            opt = model.optimizer
            logs["learning_rate"] = float(opt._last_lr if updated else opt.learning_rate)
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        model._fit_progress = None
        cbs.on_train_end(logs)
    return model.history


def _resume_point(
    model: Sequential, cbs: CallbackList, initial_epoch: int, names: list[str]
) -> tuple[int, int, np.ndarray | None, RunningMeans]:
    """Where the loop starts: ``initial_epoch``, or where a restored backup left off
    (``BackupAndRestore`` sets ``model._resume`` in ``on_train_begin``)."""
    resume, model._resume = model._resume, None
    if resume is None:
        return initial_epoch, 0, None, RunningMeans(names)
    epoch, step = int(resume["epoch"]), int(resume.get("step", 0))
    history = {k: list(v) for k, v in resume.get("history", {}).items()}
    done = len(next(iter(history.values()), []))
    cbs.history.history = history
    cbs.history.epoch = list(range(epoch - done, epoch))
    progress = model._fit_progress or {}
    means = RunningMeans(names)
    if step > 0 and progress.get("means") is not None:
        means = progress["means"]
    return epoch, step, progress.get("order"), means
