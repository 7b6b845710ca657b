"""Decision regions of a classifier over a plane."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import numpy as np

from minitrain import _checks

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _class_colours(n_classes: int) -> tuple[Any, Any]:
    """A colormap with one colour per class and the norm mapping class k to colour k."""
    import matplotlib
    from matplotlib.colors import BoundaryNorm, ListedColormap

    if n_classes <= 10:
        colours = matplotlib.colormaps["tab10"].colors[:n_classes]
    else:
        colours = matplotlib.colormaps["viridis"](np.linspace(0.0, 1.0, n_classes))
    cmap = ListedColormap(colours)
    return cmap, BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes)


def plot_decision_boundary(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
) -> Axes:
    """Colour the plane by the predicted class and scatter the labelled points.

    A ``resolution x resolution`` grid spans the bounding box of ``x`` widened
    by 10% on each side; the class of grid point ``g`` is
    ``argmax(model.predict(grid)[g])``. The regions are drawn as an image
    (``ax.images[0]``, class indices, row 0 at the bottom) and the points as
    one scatter (``ax.collections[0]``) coloured by ``y`` with the same colours.

    Parameters
    ----------
    model : object with ``predict``
        ``model.predict(grid)`` with ``grid`` of shape (resolution**2, 2) returns
        class scores of shape (resolution**2, C) (logits or probabilities). The
        grid has ``x``'s dtype when it is a float, else float32.
    x : ndarray of shape (N, 2)
    y : ndarray of shape (N,)
        Integer class labels.
    ax : Axes or None
        Where to draw; None creates a figure.
    resolution : int, default 200
        Grid points per axis, at least 2.

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt

    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict method, got {_checks.describe(model)}")
    _checks.array_2d("x", x, width=2)
    _checks.finite("x", x)
    labels = _checks.class_labels("y", y, None)
    _checks.same_length("x", x, "y", labels)
    res = _checks.positive_int("resolution", resolution)
    if res < 2:
        raise ValueError(f"resolution must be an int >= 2, got {res}")

    lo, hi = x.min(axis=0).astype(np.float64), x.max(axis=0).astype(np.float64)
    margin = 0.1 * np.maximum(hi - lo, 1e-3)  # a flat direction still gets a visible band
    lo, hi = lo - margin, hi + margin
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], res), np.linspace(lo[1], hi[1], res))
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    grid = np.stack([g0.ravel(), g1.ravel()], axis=1).astype(dtype)  # (res**2, 2)
    # A minitrain model prints a progress bar unless told verbose=0 (Keras's
    # default); a duck-typed model may not take the keyword at all.
    quiet = "verbose" in inspect.signature(model.predict).parameters
    scores = np.asarray(model.predict(grid, verbose=0) if quiet else model.predict(grid))
    if scores.ndim != 2 or scores.shape[0] != len(grid):
        raise ValueError(
            f"model.predict must return class scores of shape ({len(grid)}, classes), "
            f"got shape {scores.shape}"
        )
    regions = scores.argmax(axis=1).reshape(res, res)  # row i is g1 = linspace(...)[i]

    n_classes = int(max(regions.max(), labels.max())) + 1
    cmap, norm = _class_colours(n_classes)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    ax.imshow(
        regions,
        origin="lower",
        extent=(lo[0], hi[0], lo[1], hi[1]),
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        norm=norm,
        alpha=0.35,
    )
    ax.scatter(x[:, 0], x[:, 1], c=labels, cmap=cmap, norm=norm, s=15, edgecolors="k", lw=0.4)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    return ax
