"""Dropout: inverted dropout in training mode, the identity in eval mode."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _checks
from .base import Layer, generator

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout with drop probability ``rate``.

    Training mode: draw ``keep ~ Bernoulli(1 - rate)`` per element, anew at
    every forward, and scale survivors so the expectation is unchanged::

        m = keep / (1 - rate)        y = x * m        dL/dx = g * m

    Eval mode: ``y = x`` and ``dL/dx = g`` (no draw, so the sequence of masks
    is not shifted). The mode is ``training`` unless a call's ``training=``
    overrides it. Masks come from the layer's own generator when built with
    ``seed``, else from the model's (``Sequential`` hands it over), so a seeded
    model draws the same masks run after run. ``no_grad`` does not turn dropout
    off; ``eval()`` (or ``training=False``) does.
    """

    def __init__(
        self, rate: float | None = None, *, seed: int | None = None, **kwargs: Any
    ) -> None:
        if "p" in kwargs:
            # nn.Dropout(p=0.2) is the PyTorch spelling of the same drop probability.
            raise TypeError(
                f"Dropout() takes Keras's name rate= for PyTorch's p=: write "
                f"Dropout(rate={kwargs['p']!r}) or Dropout({kwargs['p']!r})"
            )
        _checks.no_unknown_keywords("Dropout", kwargs, ["rate", "seed"])
        super().__init__()
        self.rate = _checks.real_in_range("rate", rate, 0.0, 1.0, high_open=True)
        self.seed = seed
        self.rng: np.random.Generator | None = None if seed is None else generator(seed)

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        if not self._mode(training) or self.rate == 0.0:
            self.save_for_backward(None)
            return x  # identity, as PyTorch: no copy of the activations
        if self.rng is None:
            self.rng = np.random.default_rng()
        # bool * a scalar of x's dtype keeps x's dtype: no float64 mask in float32 work
        mask = (self.rng.random(x.shape, dtype=x.dtype) >= self.rate) * x.dtype.type(
            1.0 / (1.0 - self.rate)
        )
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (mask,) = self.saved_tensors()
        return grad_y if mask is None else grad_y * mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed}
