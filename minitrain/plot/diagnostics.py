"""Training diagnostics: the learning-rate range test and gradient flow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_lr_find(result: Any, ax: Axes | None = None) -> Axes:
    """The learning-rate range test: loss against rate (log scale), with the suggestion.

    Parameters
    ----------
    result : LRFinderResult
        What ``minitrain.lr_finder.lr_find`` returned.
    ax : Axes or None

    Returns
    -------
    Axes
        The raw batch losses (faint), the smoothed curve, and a vertical line
        at the suggested rate.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.plot(result.rates, result.losses, alpha=0.3, label="batch loss")
    ax.plot(result.rates, result.smoothed, label="smoothed")
    ax.axvline(result.suggestion, color="C3", ls="--", label=f"suggested {result.suggestion:.2g}")
    ax.set_xscale("log")
    finite = result.smoothed[np.isfinite(result.smoothed)]
    if finite.size:  # the divergence at the end would squash the interesting part
        ax.set_ylim(finite.min() * 0.9, min(finite.max(), 4 * finite.min()) * 1.1)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_gradient_flow(flow: Any, ax: Axes | None = None, *, names: Iterable[str] = ("W",)) -> Axes:
    """Gradient norms per epoch, one line per parameter, on a log scale.

    Parameters
    ----------
    flow : GradientFlow
        The callback after ``fit``.
    ax : Axes or None
    names : iterable of str, default ("W",)
        Which parameters to draw, by name within their layer (``"W"``, ``"b"``,
        ``"gamma"``, ...).

    Returns
    -------
    Axes
        A line per parameter key (``"0.W"``, ``"2.W"``, ...), labelled, x = epoch.
    """
    import matplotlib.pyplot as plt

    names = set(names)
    keys = [k for k in flow.grad_norms if k.split(".", 1)[1] in names]
    if not keys:
        raise ValueError(
            f"flow has no gradient norms for {sorted(names)}: record them with fit(..., "
            f"callbacks=[flow]); it holds {sorted(flow.grad_norms)}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(keys)))
    for key, colour in zip(keys, colours, strict=True):
        ax.plot(flow.epochs, flow.grad_norms[key], label=key, color=colour)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean gradient norm")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", title="parameter")
    return ax
