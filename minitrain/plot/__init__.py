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

from .activations import plot_activations
from .boundary import plot_decision_boundary
from .diagnostics import plot_gradient_flow, plot_lr_find
from .history import plot_history
from .schedules import plot_schedules

__all__ = [
    "plot_activations",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "plot_history",
    "plot_lr_find",
    "plot_schedules",
]
