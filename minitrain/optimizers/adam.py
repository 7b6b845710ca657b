"""Adam and AdamW: PyTorch's ``torch.optim.Adam`` and ``torch.optim.AdamW``.

With p a parameter, g its (clipped) gradient, η the learning rate of this update,
β₁, β₂ the moment decay rates, ε the stabiliser, λ the weight decay and
t = ``iterations + 1`` the number of the update being made:

Adam (ε is added after the bias correction of v, as PyTorch)::

    g ← g + λ p                                  (L2 weight decay, when λ > 0)
    m ← β₁ m + (1 - β₁) g
    v ← β₂ v + (1 - β₂) g²
    p ← p - η / (1 - β₁ᵗ) · m / (sqrt(v) / sqrt(1 - β₂ᵗ) + ε)

AdamW (decoupled weight decay, applied first, scaled by η but not by the moments)::

    p ← p · (1 - η λ)
    then Adam's update without the L2 term.

State slots: ``m`` and ``v`` (PyTorch's ``exp_avg`` and ``exp_avg_sq``); t is the
optimizer's ``iterations + 1`` (PyTorch's per-parameter ``step``).
"""

from __future__ import annotations

import math

import numpy as np

from minitrain._checks import real_in_range
from minitrain.optimizers.base import LearningRate, Optimizer, positive


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with PyTorch's rule: ε after the bias correction.

    ::

        g ← g + λ p                              (λ = weight_decay > 0, L2)
        m ← β₁ m + (1 - β₁) g
        v ← β₂ v + (1 - β₂) g²
        p ← p - η / (1 - β₁ᵗ) · m / (sqrt(v) / sqrt(1 - β₂ᵗ) + ε)

    with t = ``iterations + 1``, the number of the update being made.

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        η >= 0, or a schedule ``step -> float``.
    beta_1, beta_2 : float, default 0.9 and 0.999
        Decay rates of the first and second moments, in [0, 1).
    epsilon : float, default 1e-8
        ε > 0.
    weight_decay : float, default 0.0
        λ >= 0, L2 penalty added to the gradient (see AdamW for the decoupled kind).
    clipnorm, clipvalue, global_clipnorm : float or None, default None
        Gradient clipping (at most one), see ``Optimizer``.
    """

    _arguments = ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        beta_1 = real_in_range("beta_1", beta_1, 0.0, 1.0, high_open=True)
        beta_2 = real_in_range("beta_2", beta_2, 0.0, 1.0, high_open=True)
        epsilon = positive("epsilon", epsilon)
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _slots(self) -> tuple[str, ...]:
        return ("m", "v")

    def _num_work(self) -> int:
        return 2  # one for g + λp, one for the step

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        self._adam(p, self._l2(p, g, work[0]), state, work[1], lr)

    def _adam(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], w: np.ndarray, lr: float
    ) -> None:
        """The moment updates and the step, with ``w`` as scratch.

        Thirteen passes, one rounding each, in PyTorch's order: NumPy has no fused
        ufunc, so fewer passes would round differently. Running them block by block
        for the cache measured slower (the per-block calls cost more than they save).
        """
        t = self.iterations + 1
        b1, b2 = self.beta_1, self.beta_2
        m, v = state["m"], state["v"]
        np.multiply(g, 1.0 - b1, out=w)  # m ← β₁ m + (1 - β₁) g
        m *= b1
        m += w
        np.square(g, out=w)  # v ← β₂ v + (1 - β₂) g²
        w *= 1.0 - b2
        v *= b2
        v += w
        np.sqrt(v, out=w)  # denominator: sqrt(v̂) + ε, with v̂ = v / (1 - β₂ᵗ)
        w /= math.sqrt(1.0 - b2**t)
        w += self.epsilon
        np.divide(m, w, out=w)  # m̂ / (sqrt(v̂) + ε), with m̂ = m / (1 - β₁ᵗ)
        w *= lr / (1.0 - b1**t)
        p -= w


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019); PyTorch's rule.

    ::

        p ← p · (1 - η λ)                        (before the moments see g)
        then Adam's update with g unchanged (no L2 term)

    The decay shrinks p by the same fraction whatever the gradient's scale,
    unlike L2, whose term Adam divides by sqrt(v̂).

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        η >= 0, or a schedule ``step -> float``.
    beta_1, beta_2 : float, default 0.9 and 0.999
        Decay rates of the first and second moments, in [0, 1).
    epsilon : float, default 1e-8
        ε > 0.
    weight_decay : float, default 0.01
        λ >= 0, the decoupled decay rate.
    clipnorm, clipvalue, global_clipnorm : float or None, default None
        Gradient clipping (at most one), see ``Optimizer``; the decay does not see it.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
        )

    def _num_work(self) -> int:
        return 1  # no L2 gradient to hold

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        if self.weight_decay > 0.0:
            p *= 1.0 - lr * self.weight_decay
        self._adam(p, g, state, work[0], lr)
