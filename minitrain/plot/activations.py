"""What each activation layer receives: violins of its inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minitrain import _checks
from minitrain.grad_mode import no_grad

if TYPE_CHECKING:
    from matplotlib.axes import Axes


# Class names of the layers whose input plot_activations shows.
_ACTIVATIONS = ("ReLU", "LeakyReLU", "Sigmoid", "Tanh")


def _pre_activations(model: Any, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``(label, input of the layer)`` for every activation layer of ``model``."""
    h = x
    found = []
    with no_grad():
        for i, layer in enumerate(model.layers):
            name = type(layer).__name__
            if name in _ACTIVATIONS:
                found.append((f"{i}: {name}", h))
            h = layer(h)
    return found


def plot_activations(model: Any, x: np.ndarray, ax: Axes | None = None) -> Axes:
    """Violin plot of the pre-activations of each activation layer.

    ``x`` runs through ``model.layers`` one layer at a time under
    :func:`minitrain.grad_mode.no_grad`; the input of each layer whose class
    is one of ``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh`` is collected, all
    samples and units pooled, and drawn as one violin with its extremes and
    median, at x = 1, 2, ... in layer order, labelled ``"<layer index>: <class>"``.
    Pre-activations far below 0 mean dead ReLUs; far from 0 mean saturated
    Sigmoid/Tanh units; BatchNorm keeps them centred.

    The train/eval mode is left as it is, as ``no_grad`` does: in training
    mode BatchNorm normalises with (and updates its running statistics from)
    the statistics of ``x`` and Dropout drops units. Call ``model.eval()``
    first to see what inference sees.

    Parameters
    ----------
    model : object with ``layers``
        A list of callables ``layer(h) -> h``, e.g. a ``Sequential``. When the
        model has a ``dtype``, ``x`` is cast to it once first (as the model's
        own forward does).
    x : ndarray of shape (N, features)
    ax : Axes or None
        Where to draw; None creates a figure.

    Returns
    -------
    Axes
        The Axes holding the violins (``ax.collections``).
    """
    import matplotlib.pyplot as plt

    if not isinstance(getattr(model, "layers", None), list | tuple):
        raise TypeError(f"model must have a list of layers, got {_checks.describe(model)}")
    _checks.array_2d("x", x)
    dtype = getattr(model, "dtype", None)
    if dtype is not None:
        x = x.astype(dtype, copy=False)
    found = _pre_activations(model, x)
    if not found:
        raise ValueError(
            f"model must contain an activation layer ({', '.join(_ACTIVATIONS)}), got none in "
            f"{[type(layer).__name__ for layer in model.layers]}"
        )

    if ax is None:
        _, ax = plt.subplots(figsize=(max(5, 1.6 * len(found)), 4), layout="constrained")
    positions = np.arange(1, len(found) + 1)
    ax.violinplot(
        [np.asarray(h, dtype=np.float64).ravel() for _, h in found],
        positions=positions,
        showmedians=True,
    )
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xticks(positions, [label for label, _ in found])
    ax.set_xlabel("activation layer")
    ax.set_ylabel("pre-activation value")
    ax.set_title("inputs of the activation layers")
    return ax
