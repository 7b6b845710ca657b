"""Learning-rate schedules: stateless functions of a step counter.

The whole contract::

    schedule(step) -> float        # step: a 0-based int, the result a Python float

An optimizer built with a schedule as its ``learning_rate`` calls it with its
counter ``iterations`` (the number of updates already made), so its first update
uses ``schedule(0)`` and its k-th update ``schedule(k - 1)``. Given to
``LearningRateScheduler`` instead, the same schedule is called once per epoch and
``step`` is the epoch index. A schedule keeps no state: calling it twice with the
same step gives the same rate.

With η₀ the initial rate and t the step:

=============================  =====================================================
``Constant``                   η₀
``StepDecay``                  η₀ · γ^⌊t / step_size⌋                 (PyTorch StepLR)
``PiecewiseConstantDecay``     values[i] for boundaries[i-1] < t <= boundaries[i]
``ExponentialDecay``           η₀ · rate^(t / decay_steps), exponent floored with staircase
``LinearDecay``                (η₀ - end) · (1 - min(t, D) / D) + end
``InverseSqrtDecay``           η₀ · min((t + 1) / W, sqrt(W / (t + 1)))
``CosineDecay``                linear warmup, then a half cosine (Keras 3)
=============================  =====================================================

Every schedule validates its arguments at construction (``ValueError`` naming the
argument), has a ``__repr__`` showing them, and ``get_config()`` returns
``{"class": name, "config": {argument: value}}`` (JSON-able), which
``from_config`` turns back into an equal schedule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minitrain._checks import (
    describe,
    is_int,
    is_real,
    non_negative_int,
    positive_int,
    real_in_range,
)

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "PiecewiseConstantDecay",
    "ExponentialDecay",
    "LinearDecay",
    "InverseSqrtDecay",
    "CosineDecay",
    "from_config",
]


def _rate(name: str, value: object) -> float:
    """A learning rate: a finite real >= 0."""
    return real_in_range(name, value, 0.0, math.inf, high_open=True)


class Schedule:
    """Base class: ``__call__`` checks the step, ``_at(t)`` computes the rate.

    A subclass stores its constructor arguments under the same names, lists them
    in ``_arguments`` and implements ``_at(t: int) -> float``; ``get_config`` and
    ``__repr__`` are built from those arguments.
    """

    _arguments: tuple[str, ...] = ()

    def __call__(self, step: int) -> float:
        """The learning rate at ``step`` (a 0-based int) as a Python float."""
        return float(self._at(non_negative_int("step", step)))

    def _at(self, t: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement _at(t)")

    def get_config(self) -> dict[str, Any]:
        """``{"class": name, "config": {argument: value}}``, JSON-able."""
        args = {name: getattr(self, name) for name in self._arguments}
        return {"class": type(self).__name__, "config": args}

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._arguments)
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """η(t) = η₀ for every step.

    Parameters
    ----------
    learning_rate : float
        η₀ >= 0.
    """

    _arguments = ("learning_rate",)

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = _rate("learning_rate", learning_rate)

    def _at(self, t: int) -> float:
        return self.learning_rate


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
    """

    _arguments = ("initial_learning_rate", "step_size", "gamma")

    def __init__(self, initial_learning_rate: float, step_size: int, gamma: float = 0.1) -> None:
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
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
    """

    _arguments = ("boundaries", "values")

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
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
        self.values = [_rate(f"values[{i}]", v) for i, v in enumerate(values)]

    def _at(self, t: int) -> float:
        # The first boundary >= t closes t's interval; past the last one, the last value.
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if t <= boundary:
                return value
        return self.values[-1]


class ExponentialDecay(Schedule):
    """η(t) = η₀ · rate^(t / decay_steps), or rate^⌊t / decay_steps⌋ with ``staircase`` (Keras).

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0.
    decay_steps : int
        Steps over which the rate is multiplied by ``decay_rate``, > 0.
    decay_rate : float
        Factor > 0 per ``decay_steps`` steps.
    staircase : bool, default False
        Floor the exponent, so the rate changes only every ``decay_steps`` steps.
    """

    _arguments = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)
        self.decay_rate = real_in_range(
            "decay_rate", decay_rate, 0.0, math.inf, low_open=True, high_open=True
        )
        if not isinstance(staircase, bool):
            raise TypeError(f"staircase must be a bool, got {describe(staircase)}")
        self.staircase = staircase

    def _at(self, t: int) -> float:
        exponent = t // self.decay_steps if self.staircase else t / self.decay_steps
        return self.initial_learning_rate * self.decay_rate**exponent


class LinearDecay(Schedule):
    """η(t) = (η₀ - end) · (1 - min(t, D) / D) + end: a straight line, then flat.

    Keras ``PolynomialDecay`` with ``power=1`` (and ``cycle=False``).

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0, the rate at step 0.
    decay_steps : int
        D > 0, the step from which the rate stays at ``end_learning_rate``.
    end_learning_rate : float, default 0.0
        The final rate, >= 0.
    """

    _arguments = ("initial_learning_rate", "decay_steps", "end_learning_rate")

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0
    ) -> None:
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)
        self.end_learning_rate = _rate("end_learning_rate", end_learning_rate)

    def _at(self, t: int) -> float:
        remaining = 1.0 - min(t, self.decay_steps) / self.decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * remaining + (
            self.end_learning_rate
        )


class InverseSqrtDecay(Schedule):
    """η(t) = η₀ · min((t + 1) / W, sqrt(W / (t + 1))): linear warmup, then 1/sqrt decay.

    The Transformer schedule (Vaswani et al., 2017) rescaled so that its peak,
    reached at t = W - 1, is η₀. Counting t + 1 makes the first update use η₀ / W
    rather than 0, so no update is wasted.

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0, the peak rate.
    warmup_steps : int
        W > 0, the number of warmup steps.
    """

    _arguments = ("initial_learning_rate", "warmup_steps")

    def __init__(self, initial_learning_rate: float, warmup_steps: int) -> None:
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.warmup_steps = positive_int("warmup_steps", warmup_steps)

    def _at(self, t: int) -> float:
        n = t + 1
        return self.initial_learning_rate * min(
            n / self.warmup_steps, math.sqrt(self.warmup_steps / n)
        )


class CosineDecay(Schedule):
    """Optional linear warmup, then a half cosine; exactly Keras 3 ``CosineDecay``.

    Without ``warmup_target`` (no warmup; ``warmup_steps`` is then ignored, as in
    Keras), with η₀ the initial rate, D = ``decay_steps`` and α = ``alpha``::

        η(t) = η₀ · ((1 - α) · ½(1 + cos(π · min(t, D) / D)) + α)

    With ``warmup_target`` η* and W = ``warmup_steps``::

        η(t) = η₀ + (η* - η₀) · t / W                              for t < W
        η(t) = η* · ((1 - α) · ½(1 + cos(π · min(t - W, D) / D)) + α)  for t >= W

    So step 0 gives η₀, step W - 1 gives η₀ + (η* - η₀)(W - 1)/W, step W gives η*
    exactly (the decay starts there, not one step later), and from step W + D on
    the rate stays at α · η*. Keras quirk, kept: with ``warmup_target`` set and
    ``warmup_steps=0`` the decay starts from ``warmup_target``, and η₀ is never used.

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0: the start of the warmup, or of the decay when there is no warmup.
    decay_steps : int
        D > 0, the length of the cosine part.
    alpha : float, default 0.0
        Final rate as a fraction of the decay's starting rate, in [0, 1].
    warmup_target : float or None, default None
        η* >= 0, the rate reached at the end of the warmup; None for no warmup.
    warmup_steps : int, default 0
        W >= 0, the length of the warmup.
    """

    _arguments = (
        "initial_learning_rate",
        "decay_steps",
        "alpha",
        "warmup_target",
        "warmup_steps",
    )

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        self.initial_learning_rate = _rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)
        self.alpha = real_in_range("alpha", alpha, 0.0, 1.0)
        if warmup_target is not None:
            warmup_target = _rate("warmup_target", warmup_target)
        self.warmup_target = warmup_target
        self.warmup_steps = non_negative_int("warmup_steps", warmup_steps)

    def _decay(self, t: int, start: float) -> float:
        """The cosine from ``start`` at t = 0 down to ``alpha * start`` at t = D, then flat."""
        fraction = min(t, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def _at(self, t: int) -> float:
        if self.warmup_target is None:
            return self._decay(t, self.initial_learning_rate)
        if t < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (t / self.warmup_steps) + self.initial_learning_rate
        return self._decay(t - self.warmup_steps, self.warmup_target)


_SCHEDULES: dict[str, type[Schedule]] = {
    cls.__name__: cls
    for cls in (
        Constant,
        StepDecay,
        PiecewiseConstantDecay,
        ExponentialDecay,
        LinearDecay,
        InverseSqrtDecay,
        CosineDecay,
    )
}


def from_config(config: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from ``get_config()``'s ``{"class": name, "config": {...}}``."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise TypeError(
            f'config must be a dict {{"class": name, "config": {{...}}}}, got {describe(config)}'
        )
    name = config.get("class")
    if name not in _SCHEDULES:
        listed = ", ".join(repr(n) for n in _SCHEDULES)
        raise ValueError(f"config['class'] must be one of {listed}, got {name!r}")
    return _SCHEDULES[name](**config["config"])
