"""GradientFlow: how large each layer's gradient is, epoch by epoch.

A deep stack of sigmoids multiplies the gradient by ``sigmoid'(z) <= 1/4`` at
every layer on its way down, so the first layers learn slowly or not at all
(the vanishing gradient). This callback makes that visible: after every
training batch it reads each parameter's gradient (what ``backward`` left in
``layer.grads``) and at the end of every epoch records the epoch's mean of the
L2 norms::

    grad_norms[key][e] = mean over the batches b of epoch e of ||dL/dparam_b||_2

keyed like ``state_dict`` (``"0.W"``, ``"0.b"``, ``"3.W"``, ...). With a probe
batch ``x`` it also records, at the end of every epoch, statistics of each
layer's output on that batch (eval mode, under ``no_grad``, so the running
statistics are not touched): the mean, the standard deviation and the 15th,
50th and 85th percentiles over every unit and sample, the quantities Ioffe and
Szegedy (2015) plot to show a distribution drifting during training.

Reading the gradients costs one pass over the parameters per batch (a norm per
array): cheap beside a training step, but not free, so it is a callback you
add when you want to look, not a default.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import array_2d
from ..grad_mode import no_grad
from .base import Callback

PERCENTILES = (15, 50, 85)


class GradientFlow(Callback):
    """Record gradient norms (and, with a probe batch, activation statistics) per epoch.

    Parameters
    ----------
    x : ndarray of shape (N, F), optional
        A fixed probe batch whose layer outputs are summarised at every epoch end.

    Attributes
    ----------
    epochs : list of int
        The epochs recorded (absolute indices).
    grad_norms : dict of str to list of float
        ``grad_norms["0.W"][i]``: the mean over epoch ``epochs[i]``'s batches of
        the L2 norm of the gradient of parameter ``"0.W"``.
    activations : dict of str to dict of str to list of float
        ``activations["2.ReLU"]["mean"][i]`` (and ``"std"``, ``"p15"``,
        ``"p50"``, ``"p85"``): statistics of layer 2's output on the probe
        batch at the end of epoch ``epochs[i]``. Empty without ``x``.
    """

    def __init__(self, x: np.ndarray | None = None) -> None:
        super().__init__()
        self.x = None if x is None else array_2d("x", x)
        self.epochs: list[int] = []
        self.grad_norms: dict[str, list[float]] = {}
        self.activations: dict[str, dict[str, list[float]]] = {}
        self._sums: dict[str, float] = {}
        self._batches = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epochs, self.grad_norms, self.activations = [], {}, {}

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._sums, self._batches = {}, 0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for i, layer in enumerate(self.model.layers):
            for name, grad in layer.grads.items():
                key = f"{i}.{name}"
                # ||g||_2 in float64 without a squared temporary the size of g
                flat = grad.reshape(-1)
                self._sums[key] = self._sums.get(key, 0.0) + float(np.sqrt(np.dot(flat, flat)))
        self._batches += 1

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._batches == 0:
            return
        self.epochs.append(epoch)
        for key, total in self._sums.items():
            self.grad_norms.setdefault(key, []).append(total / self._batches)
        if self.x is not None:
            self._record_activations()

    def _record_activations(self) -> None:
        h = self.x.astype(self.model.dtype, copy=False)
        with no_grad():
            for i, layer in enumerate(self.model.layers):
                h = layer.forward(h, training=False)
                stats = self.activations.setdefault(f"{i}.{type(layer).__name__}", {})
                values = np.percentile(h, PERCENTILES)
                row = {"mean": float(h.mean()), "std": float(h.std())}
                row.update({f"p{p}": float(v) for p, v in zip(PERCENTILES, values, strict=True)})
                for name, value in row.items():
                    stats.setdefault(name, []).append(value)
