"""Decay by a rate per ``decay_steps``: Keras's ``ExponentialDecay`` and ``InverseTimeDecay``.

With η₀ the initial rate, t the step, D = ``decay_steps``, r = ``decay_rate`` and
p = t / D (⌊t / D⌋ with ``staircase``, so the rate changes only every D steps)::

    ExponentialDecay   η(t) = η₀ · r^p          (multiplied by r every D steps)
    InverseTimeDecay   η(t) = η₀ / (1 + r · p)  (1/t decay: halved once r · p = 1)
"""

from __future__ import annotations

import math

from minitrain._checks import positive_int, real_in_range
from minitrain.schedules.base import Schedule, flag, rate


class _PerDecaySteps(Schedule):
    """The arguments and the progress ``p = t / D`` (``⌊t / D⌋`` with ``staircase``)
    that both decays share; ``decay_rate`` may be 0 unless ``_decay_rate_low_open``."""

    _arguments = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase")
    _decay_rate_low_open = False

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.initial_learning_rate = rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)
        self.decay_rate = real_in_range(
            "decay_rate",
            decay_rate,
            0.0,
            math.inf,
            low_open=self._decay_rate_low_open,
            high_open=True,
        )
        self.staircase = flag("staircase", staircase)

    def _progress(self, t: int) -> float:
        return t // self.decay_steps if self.staircase else t / self.decay_steps


class ExponentialDecay(_PerDecaySteps):
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
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _decay_rate_low_open = True

    def _at(self, t: int) -> float:
        return self.initial_learning_rate * self.decay_rate ** self._progress(t)


class InverseTimeDecay(_PerDecaySteps):
    """η(t) = η₀ / (1 + rate · t / decay_steps), exponent floored with ``staircase``; Keras 3.

    ::

        η(t) = η₀ / (1 + r · t / D)              (staircase=False)
        η(t) = η₀ / (1 + r · ⌊t / D⌋)            (staircase=True)

    The rate falls as 1/t for large t: slower than exponential decay, and never
    reaching 0. ``decay_rate=0`` keeps η₀.

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0.
    decay_steps : int
        D > 0, the unit of t in the decay.
    decay_rate : float
        r >= 0: after D steps the rate is η₀ / (1 + r).
    staircase : bool, default False
        Floor t / D, so the rate changes only every D steps.
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    def _at(self, t: int) -> float:
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(t))
