"""Gradient clipping, Keras's three rules, applied before weight decay and the update.

With g one parameter's gradient array, ‖g‖ its L2 norm (all elements), c the
clipping value and G = sqrt(Σ ‖gᵢ‖²) the global norm over every parameter::

    clipnorm=c           g ← g · c / max(‖g‖, c)        (each array on its own)
    clipvalue=c          g ← min(max(g, -c), c)         (each element)
    global_clipnorm=c    gᵢ ← gᵢ · c / max(G, c)        (all arrays by one factor)

An array already within the bound is passed on as it is (Keras multiplies it by
c / c, which can differ from 1 in the last bit). A non-finite norm gives NaN
gradients, as Keras (for ``clipnorm``, an infinite norm zeroes the finite
elements: g · c / ∞). Clipped gradients are written into scratch arrays owned by
the optimizer, never into the layers' ``grads``. Norms are computed in the
gradient's dtype (Keras 3.15.1 on the torch backend rounds max(‖g‖, c) and
min(1 / G, 1 / c) to float32 even for float64 gradients; this module does not).

``global_clipnorm`` against PyTorch's ``torch.nn.utils.clip_grad_norm_(params,
max_norm=c)``: PyTorch computes the same G (as the norm of the per-array norms)
but scales by ``min(c / (G + 1e-6), 1)``, not ``c / max(G, c)``. So

- when G > c, PyTorch's gradients are this module's times G / (G + 1e-6): their
  norm is c · G / (G + 1e-6), short of c by a relative 1e-6 / (G + 1e-6);
- when c - 1e-6 < G <= c, PyTorch still scales (by c / (G + 1e-6) < 1), Keras and
  this module do not;
- with G infinite PyTorch scales by 0 (and the infinite elements become NaN),
  Keras and this module give NaN everywhere.
"""

from __future__ import annotations

import math

import numpy as np


def squared_norm(g: np.ndarray) -> float:
    """‖g‖², as one dot product (no temporary the size of g), in g's dtype."""
    flat = g.reshape(-1)
    return float(np.dot(flat, flat))


def clip_by_value(g: np.ndarray, c: float, out: np.ndarray) -> np.ndarray:
    """Every element of g clipped to ``[-c, c]``, written into ``out``."""
    return np.clip(g, -c, c, out=out)


def clip_by_norm(g: np.ndarray, c: float, out: np.ndarray) -> np.ndarray:
    """g scaled to L2 norm c when its norm exceeds c (into ``out``), else g itself."""
    norm = math.sqrt(squared_norm(g))
    if norm <= c:  # False for NaN: a NaN norm scales by NaN, as Keras
        return g
    return np.multiply(g, c / norm, out=out)


def global_scale(grads: list[np.ndarray], c: float) -> float | None:
    """The factor c / G for every gradient when the global norm G exceeds c, else None.

    A non-finite G gives NaN (Keras adds ``G - G`` to its factor for that).
    """
    norm = math.sqrt(sum(squared_norm(g) for g in grads))
    if norm <= c:
        return None
    return c / norm if math.isfinite(norm) else math.nan
