"""Half cosines: Keras 3's ``CosineDecay`` (with its linear warmup) and ``CosineDecayRestarts``.

With η₀ the initial rate, α the final fraction and f in [0, 1] the fraction of
the current period done::

    cosine(f) = ½ (1 + cos(π f))                 (1 at f = 0, 0 at f = 1)
    CosineDecay           η = η₀ · ((1 - α) · cosine(min(t, D) / D) + α)
    CosineDecayRestarts   η = η₀ · ((1 - α) · m^i · cosine(f) + α) in period i,
                          periods of D, D·t_mul, D·t_mul², ... steps (SGDR)
"""

from __future__ import annotations

import math

from minitrain._checks import non_negative_int, positive_int, real_in_range
from minitrain.schedules.base import Schedule, rate


def _cosine(fraction: float) -> float:
    """½ (1 + cos(π f)): from 1 at f = 0 down to 0 at f = 1."""
    return 0.5 * (1.0 + math.cos(math.pi * fraction))


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
    name : str or None, default None
        A label kept in the config and repr when set.
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
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.initial_learning_rate = rate("initial_learning_rate", initial_learning_rate)
        self.decay_steps = positive_int("decay_steps", decay_steps)
        self.alpha = real_in_range("alpha", alpha, 0.0, 1.0)
        if warmup_target is not None:
            warmup_target = rate("warmup_target", warmup_target)
        self.warmup_target = warmup_target
        self.warmup_steps = non_negative_int("warmup_steps", warmup_steps)

    def _decay(self, t: int, start: float) -> float:
        """The cosine from ``start`` at t = 0 down to ``alpha * start`` at t = D, then flat."""
        fraction = min(t, self.decay_steps) / self.decay_steps
        return start * ((1.0 - self.alpha) * _cosine(fraction) + self.alpha)

    def _at(self, t: int) -> float:
        if self.warmup_target is None:
            return self._decay(t, self.initial_learning_rate)
        if t < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (t / self.warmup_steps) + self.initial_learning_rate
        return self._decay(t - self.warmup_steps, self.warmup_target)


class CosineDecayRestarts(Schedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov and Hutter, 2017); exactly Keras 3.

    Period i (from 0) lasts D·t_mulⁱ steps and starts at step
    S_i = D · (1 + t_mul + ... + t_mul^(i-1)) = D · (t_mulⁱ - 1) / (t_mul - 1)
    (D · i when t_mul = 1). Within it, with f = (t - S_i) / (D·t_mulⁱ) in [0, 1)::

        η(t) = η₀ · ((1 - α) · m_mulⁱ · ½(1 + cos(π f)) + α)

    So each period starts at η₀ · ((1 - α) m_mulⁱ + α) and falls towards α · η₀; the
    floor α · η₀ does not shrink with m_mul (Keras's formula). The step S_i itself
    is the first step of period i: the rate jumps back up there.

    Keras finds i as ⌊log(1 + (t / D)(t_mul - 1)) / log(t_mul)⌋, which rounding can
    put one period off exactly at a restart step (Python's ``math.log`` does at
    t_mul = 3, t = 121 = 1 + 3 + 9 + 27 + 81, D = 1). Here that estimate is
    corrected against the period bounds, so i is always the true period; f is then
    computed with Keras's arithmetic, ((t / D) - (1 - t_mulⁱ) / (1 - t_mul)) / t_mulⁱ.

    Parameters
    ----------
    initial_learning_rate : float
        η₀ >= 0.
    first_decay_steps : int
        D > 0, the length of the first period.
    t_mul : float, default 2.0
        Growth factor of the periods' lengths, >= 1 (with t_mul < 1 the periods
        would sum to a finite number of steps, after which Keras returns NaN).
    m_mul : float, default 1.0
        m_mul >= 0, the factor applied to the cosine's height at each restart.
    alpha : float, default 0.0
        α in [0, 1], the floor as a fraction of η₀.
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _arguments = ("initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha")

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.initial_learning_rate = rate("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = positive_int("first_decay_steps", first_decay_steps)
        self.t_mul = real_in_range("t_mul", t_mul, 1.0, math.inf, high_open=True)
        self.m_mul = real_in_range("m_mul", m_mul, 0.0, math.inf, high_open=True)
        self.alpha = real_in_range("alpha", alpha, 0.0, 1.0)

    def _period(self, t: int) -> tuple[int, float]:
        """(i, f): the period t falls in and the fraction of it done, in [0, 1)."""
        done = t / self.first_decay_steps  # in units of the first period
        if self.t_mul == 1.0:
            i = t // self.first_decay_steps
            return i, done - i
        t_mul = self.t_mul

        def start(i: int) -> float:  # S_i / D, as Keras computes it
            return (1.0 - t_mul**i) / (1.0 - t_mul)

        i = math.floor(math.log(1.0 - done * (1.0 - t_mul)) / math.log(t_mul))
        while i > 0 and done < start(i):
            i -= 1
        while done >= start(i + 1):
            i += 1
        return i, (done - start(i)) / t_mul**i

    def _at(self, t: int) -> float:
        i, fraction = self._period(t)
        height = self.m_mul**i * _cosine(fraction)
        return self.initial_learning_rate * ((1.0 - self.alpha) * height + self.alpha)
