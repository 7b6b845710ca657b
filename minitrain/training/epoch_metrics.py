"""The loss tracker and the metrics of one loop (fit's epoch, a validation, an evaluate).

``model.metrics`` ignore sample weights, ``model.weighted_metrics`` get them, and the
loss is a ``metrics.Mean`` of the batch losses weighted by each batch's sample count
(Keras 3). ``evaluate`` and validation work on copies of the model's metrics, so they
write nothing the model holds.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np


def _fresh(metric: Any) -> Any:
    """A copy of ``metric`` with an empty state; the original is not touched."""
    clone = copy.deepcopy(metric)
    clone.reset_state()
    return clone


class EpochMetrics:
    """The loss tracker, the metrics and the weighted metrics of one loop.

    ``logs()`` is ``{"loss": ..., <metric name>: ...}`` in Keras's order (the loss,
    then ``metrics``, then ``weighted_metrics``), each the running ``result()``.
    """

    def __init__(self, model: Any, *, copies: bool) -> None:
        from .. import metrics

        take = _fresh if copies else (lambda m: m)
        self.tracker = metrics.Mean(name="loss")
        self.metrics = [take(m) for m in model.metrics]
        self.weighted = [take(m) for m in getattr(model, "weighted_metrics", None) or []]
        self.seen = 0
        self.names = ["loss", *_log_names(self.metrics, self.weighted)]

    @property
    def all(self) -> list[Any]:
        return [self.tracker, *self.metrics, *self.weighted]

    def reset(self) -> None:
        for m in self.all:
            m.reset_state()
        self.seen = 0

    def update(self, loss: float, y: Any, y_pred: np.ndarray, w: np.ndarray | None) -> None:
        self.tracker.add_batch_mean(loss, len(y_pred))
        for m in self.metrics:
            m.update_state(y, y_pred)
        for m in self.weighted:
            m.update_state(y, y_pred, sample_weight=w)
        self.seen += 1

    def logs(self) -> dict[str, float]:
        return {name: float(m.result()) for name, m in zip(self.names, self.all, strict=True)}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every metric's state, keyed ``"metric/<index>/<key>"`` (the tracker is index 0)."""
        return {
            f"metric/{i}/{key}": np.asarray(value)
            for i, m in enumerate(self.all)
            for key, value in m.state_dict().items()
        }

    def load_state_arrays(self, arrays: dict[str, np.ndarray], where: str) -> None:
        """Put back what ``state_arrays`` recorded (each metric checks its own state)."""
        for i, m in enumerate(self.all):
            prefix = f"metric/{i}/"
            state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            try:
                m.load_state_dict(state)
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(
                    f"{where} holds a broken state for metric {m.name!r}: {err}"
                ) from None


def _log_names(metrics: list[Any], weighted: list[Any]) -> list[str]:
    """Log keys as Keras 3 makes them unique: a repeated metric name gets ``_1``, ``_2``...;
    a weighted metric whose name is taken becomes ``weighted_<name>``."""
    counts: dict[str, int] = {}
    names = []

    def unique(name: str) -> str:
        if name not in counts:
            counts[name] = 1
            return name
        counts[name] += 1
        return f"{name}_{counts[name] - 1}"

    for m in metrics:
        names.append(unique(m.name))
    for m in weighted:
        names.append(unique(m.name if m.name not in counts else f"weighted_{m.name}"))
    return names
