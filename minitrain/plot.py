"""Pictures of training: curves, schedules, decision regions, activations.

Contract: every function draws on the Axes ``ax`` it is given, or on a new
figure when ``ax`` is None, and returns the Axes it drew on (the loss Axes for
``plot_history``). Nothing here calls ``plt.show()``: the caller shows or saves
the figure (``ax.figure.savefig(...)``), so the functions work under any
backend, Agg included. matplotlib is imported only when a function is called,
so ``import minitrain`` stays light.

Models are duck-typed: ``plot_decision_boundary`` needs ``model.predict`` and
``plot_activations`` needs ``model.layers``, a list of callables.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from minitrain import _checks
from minitrain.grad_mode import no_grad

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Keys that hold the learning rate rather than a metric ("lr" is Keras 2's name).
_LR_KEYS = ("learning_rate", "lr")

# Class names of the layers whose input plot_activations shows.
_ACTIVATIONS = ("ReLU", "LeakyReLU", "Sigmoid", "Tanh")


def _history_dict(history: object) -> tuple[list[float], dict[str, np.ndarray]]:
    """``(epochs, {key: values})`` from a History-like object or a plain dict."""
    if isinstance(history, Mapping):
        logs, epochs = history, None
    elif isinstance(getattr(history, "history", None), Mapping):
        logs, epochs = history.history, getattr(history, "epoch", None)  # type: ignore[attr-defined]
    else:
        raise TypeError(
            "history must be a History (with .history and .epoch) or a dict of lists, "
            f"got {_checks.describe(history)}"
        )
    if not logs:
        raise ValueError("history must hold at least one key, got an empty history")
    values = {str(k): np.asarray(v, dtype=np.float64) for k, v in logs.items()}
    n = len(next(iter(values.values())))
    if n == 0:
        raise ValueError("history must hold at least one epoch, got none")
    if epochs is None:
        epochs = list(range(n))
    for key, v in values.items():
        if v.shape != (len(epochs),):
            raise ValueError(
                f"history[{key!r}] must hold one value per epoch ({len(epochs)}), "
                f"got shape {v.shape}"
            )
    return list(epochs), values


def plot_history(
    history: Any,
    ax: Axes | None = None,
    *,
    best_epoch: int | None = None,
    stopped_epoch: int | None = None,
) -> Axes:
    """Plot the loss, the metrics and the learning rate per epoch.

    Each log key ``name`` is drawn as a solid line labelled ``name`` and its
    validation twin ``val_name`` as a dashed line of the same colour, against
    the epoch indices (0-based, as ``History.epoch`` and Keras). The loss goes
    on ``ax``; the learning rate (key ``learning_rate``, or Keras 2's ``lr``),
    when logged, goes on a twin y-axis on the right of ``ax``, dotted grey,
    on a log scale when it spans a factor of 10 or more. The metrics go on a
    second panel to the right when the figure is created here, else on ``ax``
    with the loss.

    Parameters
    ----------
    history : History or dict of lists
        A ``History`` (anything with ``.history``, a dict of per-epoch lists,
        and ``.epoch``, the epoch indices) or the dict itself, whose epochs are
        then ``0, 1, ...``.
    ax : Axes or None
        Where to draw the loss. None creates a figure: one panel without
        metrics, two side by side (loss, metrics) with metrics.
    best_epoch : int or None
        Draw a green dotted vertical line there, e.g. ``EarlyStopping.best_epoch``.
    stopped_epoch : int or None
        Draw a red dashed vertical line there, e.g. ``EarlyStopping.stopped_epoch``.
        0 draws nothing: Keras leaves ``stopped_epoch`` at 0 when training was
        not stopped, and it never stops at epoch 0.

    Returns
    -------
    Axes
        The Axes holding the loss curves (its figure is ``ax.figure``; the
        learning-rate axis and the metric panel are in ``ax.figure.axes``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs, values = _history_dict(history)
    for name, epoch in (("best_epoch", best_epoch), ("stopped_epoch", stopped_epoch)):
        if epoch is not None and not _checks.is_int(epoch):
            raise TypeError(f"{name} must be None or an int, got {_checks.describe(epoch)}")
    # Base names in log order: "val_accuracy" joins "accuracy" in one colour.
    bases = list(dict.fromkeys(k.removeprefix("val_") for k in values if k not in _LR_KEYS))
    has_metrics = any(b != "loss" for b in bases)
    if ax is None:
        if has_metrics:
            _, (ax, metric_ax) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
        else:
            _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
            metric_ax = ax
    else:
        metric_ax = ax
    panels = [ax] if metric_ax is ax else [ax, metric_ax]

    for i, base in enumerate(bases):
        target = ax if base == "loss" else metric_ax
        for key, style in ((base, "-"), (f"val_{base}", "--")):
            if key in values:
                target.plot(epochs, values[key], style, color=f"C{i % 10}", label=key)

    for panel in panels:
        if best_epoch is not None:
            panel.axvline(best_epoch, color="tab:green", ls=":", label=f"best epoch ({best_epoch})")
        if stopped_epoch:
            panel.axvline(
                stopped_epoch, color="tab:red", ls="--", label=f"stopped ({stopped_epoch})"
            )
        panel.set_xlabel("epoch")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.grid(alpha=0.3)
    ax.set_ylabel("loss" if metric_ax is not ax else "value")
    if metric_ax is not ax:
        metric_ax.set_ylabel("metric")

    handles, labels = ax.get_legend_handles_labels()
    lr_key = next((k for k in _LR_KEYS if k in values), None)
    if lr_key is not None:
        lr = values[lr_key]
        lr_ax = ax.twinx()
        lr_ax.plot(epochs, lr, ":", color="0.4", label=lr_key)
        lr_ax.set_ylabel("learning rate")
        if lr.min() > 0 and lr.max() >= 10 * lr.min():
            lr_ax.set_yscale("log")
        else:
            lr_ax.set_ylim(bottom=0.0)  # else a constant rate gets a meaningless zoomed-in axis
        more_handles, more_labels = lr_ax.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, fontsize="small")
    if metric_ax is not ax:
        metric_ax.legend(fontsize="small")
    return ax


def plot_schedules(
    schedules: Mapping[str, Callable[[int], float]] | Iterable[Callable[[int], float]],
    steps: int | Iterable[int],
    ax: Axes | None = None,
) -> Axes:
    """Plot learning-rate schedules ``schedule(step) -> float`` against the step.

    Parameters
    ----------
    schedules : dict of str to callable, or list of callables
        Each callable is evaluated at every step; a dict's keys are the legend
        labels, a list's callables are labelled by their ``repr``. A single
        callable is taken as a list of one.
    steps : int or iterable of int
        An int ``S`` means ``range(S)``; else the steps themselves.
    ax : Axes or None
        Where to draw; None creates a figure.

    Returns
    -------
    Axes
        One line per schedule, labelled, with x = the steps and y = the rates.
    """
    import matplotlib.pyplot as plt

    if callable(schedules) and not isinstance(schedules, Mapping):
        schedules = [schedules]
    if isinstance(schedules, Mapping):
        named = [(str(k), v, f"schedules[{k!r}]") for k, v in schedules.items()]
    elif isinstance(schedules, Iterable) and not isinstance(schedules, str | bytes):
        named = [(repr(s), s, f"schedules[{i}]") for i, s in enumerate(schedules)]
    else:
        raise TypeError(
            "schedules must be a dict of name -> callable or a list of callables, "
            f"got {_checks.describe(schedules)}"
        )
    if not named:
        raise ValueError("schedules must hold at least one schedule, got none")
    for _, schedule, where in named:
        if not callable(schedule):
            raise TypeError(f"{where} must be callable, got {_checks.describe(schedule)}")
    if _checks.is_int(steps):
        t = list(range(_checks.positive_int("steps", steps)))
    elif isinstance(steps, Iterable):
        t = list(steps)
        if not t or not all(_checks.is_int(s) for s in t):
            raise ValueError(
                "steps must be a positive int or a non-empty list of ints, "
                f"got {_checks.describe(t)}"
            )
    else:
        raise TypeError(
            f"steps must be a positive int or an iterable of ints, got {_checks.describe(steps)}"
        )

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for label, schedule, _ in named:
        ax.plot(t, [float(schedule(s)) for s in t], label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    # Below the plot: a schedule's repr is often wider than the Axes.
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return ax


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
