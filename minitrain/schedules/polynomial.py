"""Powers of the step: ``PolynomialDecay`` and ``LinearDecay`` (Keras), ``InverseSqrtDecay``.

With η₀ the initial rate, t the step, D = ``decay_steps``, k the power and
η_end the end rate::

    PolynomialDecay   η(t) = (η₀ - η_end) · (1 - min(t, D) / D)^k + η_end
      with cycle      D is replaced by D · max(1, ⌈t / D⌉), so each period of D steps
                      decays again, from a lower start, down to η_end
    LinearDecay       PolynomialDecay with k = 1, no cycle, η_end = 0 by default
    InverseSqrtDecay  η(t) = η₀ · min((t + 1) / W, sqrt(W / (t + 1)))
"""

from __future__ import annotations

import math

from minitrain._checks import positive_int, real_in_range
from minitrain.schedules.base import Schedule, flag, rate


class PolynomialDecay(Schedule):
    """η(t) = (η₀ - η_end) · (1 - t / D)^power + η_end, flat or cycling after D; Keras 3.

    Without ``cycle``, t is clamped at D, so the rate stays at η_end from step D
    on. With ``cycle``, D grows to the first multiple of D that is >= t
    (``D · ⌈t / D⌉``; at t = 0 it stays D, as Keras), so::

        t in [0, D]         decays from η₀ to η_end, over D steps
        t in (D, 2D]        over 2D steps: restarts near η_end + (η₀ - η_end) · (1/2)^power
        t in (nD, (n+1)D]   over (n + 1) D steps, reaching η_end at t = (n + 1) D

    Each multiple of D itself ends a period at η_end; the next step jumps back up.

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0, the rate at step 0.
    decay_steps : int
        D > 0.
    end_learning_rate : float, default 0.0001
        η_end >= 0 (Keras's default).
    power : float, default 1.0
        k > 0: 1 is a straight line, 0.5 a square root (fast at the end), 2 fast at first.
    cycle : bool, default False
        Restart the decay after each multiple of D instead of staying at η_end.
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _arguments = (
        "initial_learning_rate",
        "decay_steps",
        "end_learning_rate",
        "power",
        "cycle",
    )

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.initial_learning_rate = rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)
        self.end_learning_rate = rate("end_learning_rate", end_learning_rate)
        self.power = real_in_range("power", power, 0.0, math.inf, low_open=True, high_open=True)
        self.cycle = flag("cycle", cycle)

    def _at(self, t: int) -> float:
        steps = self.decay_steps
        if self.cycle:
            # The first multiple of D at or above t, in integers (Keras uses ceil of a float
            # division, the same for any step a float represents exactly); D itself at t = 0.
            steps *= max(1, -(-t // steps))
        else:
            t = min(t, steps)
        remaining = 1.0 - t / steps
        start, end = self.initial_learning_rate, self.end_learning_rate
        return (start - end) * remaining**self.power + end


class LinearDecay(PolynomialDecay):
    """η(t) = (η₀ - end) · (1 - min(t, D) / D) + end: a straight line, then flat.

    Keras ``PolynomialDecay`` with ``power=1`` and ``cycle=False``, with an end
    rate of 0 by default.

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0, the rate at step 0.
    decay_steps : int
        D > 0, the step from which the rate stays at ``end_learning_rate``.
    end_learning_rate : float, default 0.0
        The final rate, >= 0.
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _arguments = ("initial_learning_rate", "decay_steps", "end_learning_rate")

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0,
        name: str | None = None,
    ) -> None:
        super().__init__(initial_learning_rate, decay_steps, end_learning_rate, name=name)


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
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _arguments = ("initial_learning_rate", "warmup_steps")

    def __init__(
        self, initial_learning_rate: float, warmup_steps: int, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.initial_learning_rate = rate("initial_learning_rate", initial_learning_rate)
        self.warmup_steps = positive_int("warmup_steps", warmup_steps)

    def _at(self, t: int) -> float:
        n = t + 1
        return self.initial_learning_rate * min(
            n / self.warmup_steps, math.sqrt(self.warmup_steps / n)
        )
