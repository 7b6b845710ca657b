"""Piecewise constant schedules: ``StepDecay`` (PyTorch ``StepLR``) and Keras's
``PiecewiseConstantDecay``.

With η₀ the initial rate and t the step::

    StepDecay               η(t) = η₀ · γ^⌊t / step_size⌋
    PiecewiseConstantDecay  η(t) = values[i]  for boundaries[i-1] < t <= boundaries[i]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from minitrain._checks import describe, is_int, is_real, positive_int, real_in_range
from minitrain.schedules.base import Schedule, rate


class StepDecay(Schedule):
    """η(t) = η₀ · γ^⌊t / step_size⌋: multiply by γ every ``step_size`` steps.

    The values of PyTorch's ``StepLR`` (which counts epochs where this counts
    whatever ``step`` is given: updates or epochs).

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0.
    step_size : int
        Steps between two decays, > 0.
    gamma : float, default 0.1
        Factor γ > 0 applied at each decay.
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _arguments = ("initial_learning_rate", "step_size", "gamma")

    def __init__(
        self,
        initial_learning_rate: float,
        step_size: int,
        gamma: float = 0.1,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.initial_learning_rate = rate("initial_learning_rate", initial_learning_rate)
        self.step_size = positive_int("step_size", step_size)
        self.gamma = real_in_range("gamma", gamma, 0.0, math.inf, low_open=True, high_open=True)

    def _at(self, t: int) -> float:
        return self.initial_learning_rate * self.gamma ** (t // self.step_size)


class PiecewiseConstantDecay(Schedule):
    """A constant rate on each interval between boundaries (Keras semantics).

    η(t) = values[0] for t <= boundaries[0], values[i] for
    boundaries[i-1] < t <= boundaries[i], values[-1] for t > boundaries[-1].
    A boundary belongs to the interval on its left.

    Parameters
    ----------
    boundaries : sequence of int
        Strictly increasing steps, at least one.
    values : sequence of float
        ``len(boundaries) + 1`` rates, each >= 0.
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _arguments = ("boundaries", "values")

    def __init__(
        self, boundaries: Sequence[int], values: Sequence[float], name: str | None = None
    ) -> None:
        super().__init__(name)
        if isinstance(boundaries, str | bytes) or not isinstance(boundaries, Sequence):
            raise TypeError(f"boundaries must be a list of ints, got {describe(boundaries)}")
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise TypeError(f"values must be a list of floats, got {describe(values)}")
        if len(boundaries) == 0:
            raise ValueError("boundaries must hold at least one step, got []")
        if not all(is_int(b) for b in boundaries):
            raise TypeError(f"boundaries must be a list of ints, got {list(boundaries)!r}")
        bounds = [int(b) for b in boundaries]
        if any(b >= c for b, c in zip(bounds, bounds[1:], strict=False)):
            raise ValueError(f"boundaries must be strictly increasing, got {bounds}")
        if len(values) != len(bounds) + 1:
            raise ValueError(
                f"values must hold len(boundaries) + 1 = {len(bounds) + 1} rates, got {len(values)}"
            )
        if not all(is_real(v) for v in values):
            raise TypeError(f"values must be a list of floats, got {list(values)!r}")
        self.boundaries = bounds
        self.values = [rate(f"values[{i}]", v) for i, v in enumerate(values)]

    def _at(self, t: int) -> float:
        # The first boundary >= t closes t's interval; past the last one, the last value.
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if t <= boundary:
                return value
        return self.values[-1]
