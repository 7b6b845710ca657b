"""Training curves: loss, metrics and the learning rate per epoch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from minitrain import _checks

if TYPE_CHECKING:
    from matplotlib.axes import Axes


# Keys that hold the learning rate rather than a metric ("lr" is Keras 2's name).
_LR_KEYS = ("learning_rate", "lr")


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
