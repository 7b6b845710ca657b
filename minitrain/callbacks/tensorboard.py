"""``TensorBoard``: write the run's scalars and weight histograms as TensorBoard event files."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import describe, is_int, non_negative_int
from .base import Callback

HISTOGRAM_BINS = 30  # tf.summary.histogram's default bucket count, as Keras writes them


def _tensorboard() -> tuple[Any, Any, Any]:
    """TensorBoard's own event writer and protos (the optional ``tensorboard`` extra)."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as err:
        raise ImportError(
            "TensorBoard needs the tensorboard package; install it with: "
            'pip install "minitrain[tensorboard]"'
        ) from err
    return EventFileWriter, event_pb2, summary_pb2


class TensorBoard(Callback):
    """Log every epoch's metrics (and, on request, batch metrics and weight histograms)
    for TensorBoard, as Keras 3's ``keras.callbacks.TensorBoard`` lays them out.

    Files (one event file per run and folder)::

        log_dir/train/events.out.tfevents...        epoch_loss, epoch_accuracy, ...,
                                                    epoch_learning_rate, batch_*,
                                                    histograms "0.W", "0.b", ...
        log_dir/validation/events.out.tfevents...   epoch_loss, epoch_accuracy, ...
                                                    (the val_ keys, prefix dropped)

    - Epoch scalars ``epoch_<name>`` at step ``epoch`` (0-based, absolute), from the
      epoch's logs: training keys in ``train``, ``val_`` keys in ``validation``.
    - ``update_freq="batch"`` (or an int ``n``): batch scalars ``batch_<name>`` of the
      running logs, at step = the training batches seen since ``fit`` began (1-based,
      across epochs, as Keras counts them), every batch (or every ``n``-th).
    - ``histogram_freq=n``: at the end of every epoch ``e`` with ``e % n == 0`` (Keras),
      a histogram of every parameter and buffer, tagged ``<layer index>.<name>`` as in
      ``state_dict`` (``"0.W"``, ``"1.running_mean"``), in ``HISTOGRAM_BINS`` buckets.

    Written through TensorBoard's own ``EventFileWriter`` and summary protos (scalars
    as ``simple_value``), so ``tensorboard --logdir logs`` and its ``EventAccumulator``
    read them; neither TensorFlow nor PyTorch is needed. Open them with::

        pip install "minitrain[tensorboard]"
        tensorboard --logdir logs

    Differences from Keras: no graph is written (``write_graph`` must stay False: a
    minitrain model has no TensorFlow graph), and no profiler, images or embeddings.

    Parameters
    ----------
    log_dir : str or PathLike, default "logs"
    histogram_freq : int, default 0
        Epochs between weight histograms; 0 writes none.
    write_graph : bool, default False
    update_freq : "epoch", "batch" or int, default "epoch"
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 0,
        write_graph: bool = False,
        update_freq: str | int = "epoch",
    ) -> None:
        if not isinstance(log_dir, str | os.PathLike) or not os.fspath(log_dir):
            raise TypeError(f"log_dir must be a path to a folder, got {describe(log_dir)}")
        histogram_freq = non_negative_int("histogram_freq", histogram_freq)
        if write_graph:
            raise ValueError(
                "write_graph must be False: a minitrain model has no TensorFlow graph to write"
            )
        if update_freq not in ("epoch", "batch") and not (is_int(update_freq) and update_freq > 0):
            raise ValueError(
                f"update_freq must be 'epoch', 'batch' or a positive int, got {update_freq!r}"
            )
        _tensorboard()  # fail now, not at the first epoch, when the extra is missing
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = False
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict[str, Any] = {}
        self._global_train_batch = 0

    def _writer(self, which: str) -> Any:
        """The event writer of ``log_dir/<which>``, opened when first needed."""
        if which not in self._writers:
            writer_class, _, _ = _tensorboard()
            folder = Path(self.log_dir) / which
            folder.mkdir(parents=True, exist_ok=True)
            self._writers[which] = writer_class(str(folder))
        return self._writers[which]

    def _event(self, which: str, step: int, values: list[Any]) -> None:
        _, event_pb2, summary_pb2 = _tensorboard()
        summary = summary_pb2.Summary(value=values)
        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer(which).add_event(event)

    def _scalars(self, which: str, step: int, prefix: str, logs: dict[str, Any]) -> None:
        _, _, summary_pb2 = _tensorboard()
        values = [
            summary_pb2.Summary.Value(tag=f"{prefix}{name}", simple_value=float(value))
            for name, value in logs.items()
            if isinstance(value, int | float | np.floating | np.integer)
        ]
        if values:
            self._event(which, step, values)

    def _histograms(self, epoch: int) -> None:
        _, _, summary_pb2 = _tensorboard()
        values = []
        for key, array in self.model.state_dict().items():
            a = np.asarray(array, dtype=np.float64).ravel()
            counts, edges = np.histogram(a, bins=HISTOGRAM_BINS)
            histo = summary_pb2.HistogramProto(
                min=float(a.min()),
                max=float(a.max()),
                num=float(a.size),
                sum=float(a.sum()),
                sum_squares=float(np.dot(a, a)),
                bucket_limit=[float(e) for e in edges[1:]],
                bucket=[float(c) for c in counts],
            )
            values.append(summary_pb2.Summary.Value(tag=key, histo=histo))
        if values:
            self._event("train", epoch, values)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._global_train_batch = 0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._global_train_batch += 1
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        self._scalars("train", self._global_train_batch, "batch_", logs or {})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k.removeprefix("val_"): v for k, v in logs.items() if k.startswith("val_")}
        self._scalars("train", epoch, "epoch_", train)
        self._scalars("validation", epoch, "epoch_", val)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._histograms(epoch)
        for writer in self._writers.values():
            writer.flush()  # every finished epoch is on disk

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
