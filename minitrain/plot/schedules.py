"""Learning-rate schedules drawn against the step."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from minitrain import _checks

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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
