"""The loops of ``fit``, ``evaluate`` and ``predict`` (see the package docstring)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _checks
from ..callbacks import CallbackList, History
from ..data.dataset import Adapter, ArrayAdapter, adapt, check_class_weight
from ..data.epochs import EpochIterator, ran_out_warning
from ..grad_mode import no_grad
from .epoch_metrics import EpochMetrics
from .inputs import fit_data
from .refusals import refusal, refuse_small_batches

__all__ = ["Trainer", "check_verbose"]


def check_verbose(verbose: object) -> int:
    """``"auto"`` is 1 (a progress bar), as Keras; else 0, 1 or 2."""
    if verbose == "auto":
        return 1
    if not _checks.is_int(verbose) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _optional_positive_int(name: str, value: object) -> int | None:
    return None if value is None else _checks.positive_int(name, value)


def _check_validation_freq(value: object) -> int | list[int]:
    if isinstance(value, list):
        return [_checks.positive_int("validation_freq entries", v) for v in value]
    if not _checks.is_int(value):
        raise TypeError(
            "validation_freq must be a positive int or a list of 1-based epochs, "
            f"got {_checks.describe(value)}"
        )
    return _checks.positive_int("validation_freq", value)


def _validates(epoch: int, validation_freq: int | list[int]) -> bool:
    """Keras: epochs count from 1, so ``validation_freq=2`` validates epochs 1, 3, ... (0-based)."""
    if isinstance(validation_freq, list):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


# ------------------------------------------------------------------- loops


def _test_loop(
    model: Any, batches: EpochIterator, metrics: EpochMetrics, cbs: CallbackList
) -> dict[str, float]:
    """Loss and metrics over ``batches`` with ``training=False`` under ``no_grad``.

    Reads the model and writes only ``metrics`` (the caller's copies)."""
    batches.reset()
    metrics.reset()
    cbs.on_test_begin()
    listening = cbs.listens("on_test_batch_end")
    with no_grad():
        for step, (x, y, w) in batches.epoch():
            cbs.on_test_batch_begin(step)
            y_pred = model._forward(x, training=False)
            metrics.update(model.loss.value(y, y_pred, w), y, y_pred, w)
            if listening:
                cbs.on_test_batch_end(step, metrics.logs())
    logs = metrics.logs() if metrics.seen else {}
    cbs.on_test_end(logs)
    return logs


class Trainer:
    """``fit``, ``evaluate`` and ``predict`` of a model (Keras 3's ``Trainer``).

    The model provides what the loop calls: ``_train_step(x, y, sample_weight)``,
    ``_forward(x, training=...)``, ``loss`` (``value`` and ``prepare_targets``),
    ``metrics``, ``weighted_metrics``, ``optimizer``, ``layers``, ``rng``, ``dtype``,
    ``input_width``, ``output_width``, ``build`` and ``_require_compiled``.
    """

    # ------------------------------------------------------------------- fit

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        *,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_freq: int | list[int] = 1,
        **kwargs: Any,
    ) -> History:
        """Train for ``epochs`` epochs of mini-batches, firing callbacks in Keras order.

        Keras 3's arguments and meaning; the module docstring shows the loop. Any real
        ``x`` (bool, integer, float16, float32 or float64) is cast once to the parameters'
        dtype (a memmap a batch at a time); complex, string and object arrays are a
        ``TypeError``.

        Parameters
        ----------
        x : array-like of shape (N, F), np.memmap, Dataset or iterator
            Arrays (lists and pandas objects are converted once) are checked and cast
            once; a memmap is read batch by batch; a ``Dataset`` or an iterator yields
            ``(x, y)`` or ``(x, y, sample_weight)`` batches (``minitrain.data``).
        y : array-like of shape (N,) or (N, C), optional
            Targets (None with a Dataset or an iterator).
        batch_size : int or None
            Rows per batch for arrays; None means 32, or ``ceil(N / steps_per_epoch)`` when
            ``steps_per_epoch`` is given (Keras). None with a Dataset or an iterator.
        epochs : int
            The index (1-based) of the last epoch: training runs ``initial_epoch..epochs-1``.
        verbose : "auto", 0, 1 or 2
            ``"auto"`` is 1 (a progress bar); 2 prints a line per epoch; 0 nothing.
        callbacks : list of Callback
        validation_split : float in [0, 1)
            The last samples of arrays validate: the first ``floor(N * (1 - split))``
            train (Keras 3.15.1), split before shuffling.
        validation_data : (x, y), (x, y, sample_weight), Dataset or iterator
            Wins over ``validation_split``.
        shuffle : bool
            Reshuffle the samples (of a ``Dataset``: the batch order) every epoch,
            with the model's generator.
        class_weight : dict {class index: weight}
            Per-sample weights ``class_weight.get(class, 1.0)`` for the loss and the
            ``weighted_metrics`` (not with ``sample_weight``).
        sample_weight : array-like of shape (N,)
            Weights of the loss ``sum_i w_i l_i / N`` and of the ``weighted_metrics``.
        initial_epoch : int
            The 0-based epoch to start at (absolute in the logs).
        steps_per_epoch : int or None
            Batches per epoch; a pass over the data then goes on across epochs. Needed
            for a generator that never ends.
        validation_steps : int or None
            Batches per validation (default: a whole pass).
        validation_freq : int or list of int
            Validate after every ``validation_freq``-th epoch, counting from 1 (or on the
            listed epochs); History's ``val_`` lists hold the validated epochs only.

        Returns
        -------
        History
            Also kept as ``model.history``.
        """
        _checks.no_unknown_keywords("fit", kwargs, _keywords(Trainer.fit))
        self._require_compiled("fit")
        batch_size = _optional_positive_int("batch_size", batch_size)
        epochs = _checks.positive_int("epochs", epochs)
        verbose = check_verbose(verbose)
        initial_epoch = _checks.non_negative_int("initial_epoch", initial_epoch)
        if not isinstance(shuffle, bool | np.bool_):
            raise TypeError(f"shuffle must be a bool, got {_checks.describe(shuffle)}")
        validation_split = _checks.real_in_range(
            "validation_split", validation_split, 0.0, 1.0, high_open=True
        )
        steps_per_epoch = _optional_positive_int("steps_per_epoch", steps_per_epoch)
        validation_steps = _optional_positive_int("validation_steps", validation_steps)
        validation_freq = _check_validation_freq(validation_freq)
        if class_weight is not None:
            class_weight = check_class_weight(class_weight)

        train, val = fit_data(
            self,
            x,
            y,
            sample_weight,
            class_weight,
            batch_size,
            bool(shuffle),
            validation_split,
            validation_data,
            steps_per_epoch,
            validation_steps,
        )
        need = refuse_small_batches(self, train)
        batches = EpochIterator(train, steps_per_epoch)
        val_batches = None if val is None else EpochIterator(val, validation_steps)
        cbs = CallbackList(
            callbacks,
            model=self,
            add_history=True,
            add_progbar=verbose != 0,
            verbose=verbose,
            epochs=epochs,
            steps=batches.num_batches,
        )
        self.stop_training = False
        self._resume = None
        metrics = EpochMetrics(self, copies=False)
        val_metrics = EpochMetrics(self, copies=True)
        listening = cbs.listens("on_train_batch_end")
        logs: dict[str, float] = {}
        previous = [layer.training for layer in self.layers]
        for layer in self.layers:  # dropout and batch statistics throughout, as Keras's fit
            layer.training = True
        batches.reset()  # Keras 3.15.1 calls a Dataset's on_epoch_end once before training
        try:
            cbs.on_train_begin()
            first_epoch, first_step = self._resume_point(cbs, initial_epoch, batches, metrics)
            progress = {"arrays": {}, "refresh": _progress_recorder(train, metrics)}
            for epoch in range(first_epoch, epochs):
                if first_step == 0:
                    metrics.reset()
                self._fit_progress = progress  # a backup taken mid-epoch resumes it exactly
                cbs.on_epoch_begin(epoch)
                updated = first_step > 0  # a resumed epoch made updates before its backup
                for step, (xb, yb, wb) in batches.epoch(first_step):
                    cbs.on_train_batch_begin(step)
                    if len(xb) < need:
                        raise refusal(
                            self,
                            len(xb),
                            f"training batch {step} of epoch {epoch}",
                            f"make every batch of the data hold at least {need} samples",
                        )
                    loss, y_pred = self._train_step(xb, yb, wb)
                    updated = True
                    metrics.update(loss, yb, y_pred, wb)
                    if listening:
                        cbs.on_train_batch_end(step, metrics.logs())
                    if self.stop_training:
                        break
                first_step = 0
                if batches.ran_out:
                    ran_out_warning()
                    self.stop_training = True
                    if not metrics.seen:  # nothing came this epoch: it is not an epoch
                        break
                logs = metrics.logs() if metrics.seen else {}
                if val_batches is not None and _validates(epoch, validation_freq):
                    val_logs = _test_loop(self, val_batches, val_metrics, cbs)
                    logs.update({f"val_{k}": v for k, v in val_logs.items()})
                opt = self.optimizer
                logs["learning_rate"] = float(opt._last_lr if updated else opt.learning_rate)
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            self._fit_progress = None
            cbs.on_train_end(logs)
        finally:
            self._fit_progress = None
            for layer, was in zip(self.layers, previous, strict=True):
                layer.training = was
        return self.history

    def _resume_point(
        self, cbs: CallbackList, initial_epoch: int, batches: EpochIterator, metrics: EpochMetrics
    ) -> tuple[int, int]:
        """Where the loop starts: ``initial_epoch``, or where a restored backup left off
        (``BackupAndRestore`` sets ``model._resume`` in ``on_train_begin`` and the backup's
        ``fit/`` arrays come back in ``model._fit_progress["arrays"]``)."""
        resume, self._resume = self._resume, None
        progress, self._fit_progress = self._fit_progress, None
        if resume is None:
            return initial_epoch, 0
        epoch, step = int(resume["epoch"]), int(resume.get("step", 0))
        history = {k: list(v) for k, v in resume.get("history", {}).items()}
        done = len(history.get("loss", next(iter(history.values()), [])))
        cbs.history.history = history
        cbs.history.epoch = list(range(epoch - done, epoch))
        arrays = (progress or {}).get("arrays") or {}
        adapter = batches.adapter
        where = "the backup"
        position = int(arrays["position"]) if "position" in arrays else step
        size = getattr(adapter, "num_samples", adapter.num_batches)
        # The pass goes on unless it ended with the previous epoch (a backup at an epoch
        # end); a backup after an epoch's last batch resumes that epoch with nothing left.
        sized = adapter.num_batches is not None
        if position > 0 and (not sized or position < adapter.num_batches or step > 0):
            order = arrays.get("order")
            if order is not None and (
                size is None
                or order.shape != (size,)
                or order.dtype.kind not in "iu"
                or not np.array_equal(np.sort(order), np.arange(size))
            ):
                raise ValueError(
                    f"{where} holds a shuffle order that is not a permutation of the "
                    f"{size} training samples (or batches) of this fit: was the data changed?"
                )
            if order is None and getattr(adapter, "shuffle", False):
                raise ValueError(f"{where} holds no shuffle order, but this fit shuffles")
            batches.resume(order, position)
        if step > 0:
            metrics.load_state_arrays(arrays, where)
            metrics.seen = step
        return epoch, step

    def _check_fit_progress(self, arrays: dict[str, np.ndarray], where: str) -> None:
        """What a backup's ``fit/`` arrays must be, checked before the backup writes
        anything (``load_training_state`` calls this): a shuffle order that is a
        permutation, a position >= 0 and a valid state for every metric."""
        order, position = arrays.get("order"), arrays.get("position")
        if order is not None and (
            order.ndim != 1
            or order.dtype.kind not in "iu"
            or not np.array_equal(np.sort(order), np.arange(len(order)))
        ):
            raise ValueError(
                f"{where} holds a shuffle order that is not a permutation of 0, 1, ..., N - 1 "
                "('fit/order')"
            )
        if position is not None and (
            position.shape != () or position.dtype.kind not in "iu" or int(position) < 0
        ):
            raise ValueError(f"{where} 'fit/position' must be a 0-d int array >= 0")
        if any(key.startswith("metric/") for key in arrays):
            EpochMetrics(self, copies=True).load_state_arrays(arrays, where)

    # -------------------------------------------------------------- evaluate

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        *,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
        **kwargs: Any,
    ) -> float | list[float] | dict[str, float]:
        """Loss and metrics over ``x``, ``y`` with ``training=False`` under ``no_grad``.

        Inputs as ``fit`` takes them: any real ``x`` (bool, integer, float16, float32 or
        float64) is cast once to the parameters' dtype; complex, string and object arrays
        are a ``TypeError``. ``steps`` limits the batches read. Callbacks get
        ``on_test_begin``, ``on_test_batch_begin/end`` and ``on_test_end``. Returns the
        loss alone without metrics, else ``[loss, *metrics]``, or
        ``{"loss": ..., <metric>: ...}`` with ``return_dict=True``. No layer's mode and
        no metric of the model changes, so threads may share the model.
        """
        _checks.no_unknown_keywords("evaluate", kwargs, _keywords(Trainer.evaluate))
        self._require_compiled("evaluate")
        batch_size = _optional_positive_int("batch_size", batch_size)
        verbose = check_verbose(verbose)
        steps = _optional_positive_int("steps", steps)
        adapter = adapt(self, x, y, sample_weight, batch_size=batch_size, steps=steps)
        batches = EpochIterator(adapter, steps)
        cbs = _one_pass_callbacks(self, callbacks, verbose, batches)
        logs = _test_loop(self, batches, EpochMetrics(self, copies=True), cbs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # --------------------------------------------------------------- predict

    def predict(
        self,
        x: Any,
        *,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """Outputs for ``x``, in batches, with ``training=False`` under ``no_grad``.

        What the last layer outputs (logits for ``MLP(...)``, probabilities after a
        ``Softmax`` or ``Sigmoid``), of shape ``(N, outputs)`` in the model's dtype. Any real
        ``x`` (bool, integer, float16, float32 or float64) is cast once to the parameters'
        dtype, each batch as it is taken (complex, string and object arrays are a
        ``TypeError``); a generator yields ``(x,)`` tuples or ``x`` alone.
        Callbacks get ``on_predict_begin``, ``on_predict_batch_begin(step)``,
        ``on_predict_batch_end(step, {"outputs": batch outputs})`` and ``on_predict_end``.
        No layer's mode changes and no cache is kept, so threads may share the model;
        BatchNorm statistics stay as they were.
        """
        _checks.no_unknown_keywords("predict", kwargs, _keywords(Trainer.predict))
        batch_size = _optional_positive_int("batch_size", batch_size)
        verbose = check_verbose(verbose)
        steps = _optional_positive_int("steps", steps)
        adapter = adapt(self, x, batch_size=batch_size, targets=False, steps=steps)
        batches = EpochIterator(adapter, steps)
        cbs = _one_pass_callbacks(self, callbacks, verbose, batches)
        out = None
        if isinstance(adapter, ArrayAdapter):
            rows = adapter.num_samples
            if steps is not None:
                rows = min(rows, steps * adapter.batch_size)
            width = self.output_width if self.output_width is not None else adapter.x.shape[1]
            out = np.empty((rows, width), dtype=self.dtype)
        parts: list[np.ndarray] = []
        done = 0
        cbs.on_predict_begin()
        with no_grad():
            for step, (xb, _, _) in batches.epoch():
                cbs.on_predict_batch_begin(step)
                yb = self._forward(xb, training=False)
                if out is not None:
                    out[done : done + len(yb)] = yb
                else:
                    parts.append(yb)
                done += len(yb)
                cbs.on_predict_batch_end(step, {"outputs": yb})
        cbs.on_predict_end()
        if out is not None:
            return out
        if not parts:
            raise ValueError("x yielded no batch to predict")
        return np.concatenate(parts)


def _one_pass_callbacks(
    model: Any, callbacks: Sequence[Any] | None, verbose: int, batches: EpochIterator
) -> CallbackList:
    """The callbacks of one pass over the data (evaluate, predict): no History, a
    progress bar unless ``verbose`` is 0."""
    return CallbackList(
        callbacks,
        model=model,
        add_history=False,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=1,
        steps=batches.num_batches,
    )


def _keywords(method: Callable[..., Any]) -> list[str]:
    params = inspect.signature(method).parameters
    return [p for p, v in params.items() if v.kind is v.KEYWORD_ONLY or p in ("x", "y")]


def _progress_recorder(
    adapter: Adapter, metrics: EpochMetrics
) -> Callable[[], dict[str, np.ndarray]]:
    """A function returning the epoch in progress, for ``model._fit_progress["arrays"]``:
    the pass's shuffle order, how many of its batches were read, and every metric's state.
    ``BackupAndRestore`` calls it right before a backup, so the loop pays nothing per batch."""

    def record() -> dict[str, np.ndarray]:
        arrays = metrics.state_arrays()
        if adapter.order is not None:
            arrays["order"] = adapter.order
        arrays["position"] = np.array(adapter.position)
        return arrays

    return record
