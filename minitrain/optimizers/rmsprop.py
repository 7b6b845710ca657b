"""RMSprop (Hinton, 2012): PyTorch's ``torch.optim.RMSprop``, with Keras's argument names.

With p a parameter, g its (clipped) gradient, η the learning rate, ρ the decay
rate (``rho``, PyTorch's ``alpha``), ε the stabiliser, μ the momentum and λ the
weight decay::

    g ← g + λ p                                  (L2 weight decay, when λ > 0)
    s ← ρ s + (1 - ρ) g²                         (running mean of g²)
    a ← ρ a + (1 - ρ) g                          (centered only: running mean of g)
    d ← sqrt(s - a²) + ε  if centered, else  sqrt(s) + ε
    b ← μ b + g / d,  p ← p - η b                (when μ > 0)
    p ← p - η g / d                              (when μ = 0)

ε is added outside the square root, as PyTorch (Keras adds it inside). The
centered form divides by an estimate of the gradient's standard deviation rather
than its root mean square. Unlike SGD's, the momentum buffer b holds g / d, so a
rate change takes effect at once without rescaling it.

State slots, named as PyTorch's state so a bridge maps them one to one:
``square_avg`` (s), ``momentum_buffer`` (b, only when μ > 0), ``grad_avg`` (a,
only when centered). All start at 0.
"""

from __future__ import annotations

import numpy as np

from minitrain._checks import describe, real_in_range
from minitrain.optimizers.base import LearningRate, Optimizer, positive


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum; PyTorch's rule.

    ::

        g ← g + λ p                              (λ = weight_decay > 0, L2)
        s ← ρ s + (1 - ρ) g²
        a ← ρ a + (1 - ρ) g                      (centered)
        d ← sqrt(s - a²) + ε if centered else sqrt(s) + ε
        b ← μ b + g / d, p ← p - η b             (μ > 0), else p ← p - η g / d

    Parameters
    ----------
    learning_rate : float or callable, default 0.01
        η >= 0, or a schedule ``step -> float`` (PyTorch's default rate; Keras's is 0.001).
    rho : float, default 0.99
        ρ in [0, 1), PyTorch's ``alpha`` (Keras's default is 0.9).
    momentum : float, default 0.0
        μ in [0, 1). Slot ``"momentum_buffer"`` exists only when μ > 0.
    epsilon : float, default 1e-8
        ε > 0, added to the square root.
    centered : bool, default False
        Subtract the squared running mean of g from s. Slot ``"grad_avg"`` exists
        only when centered.
    weight_decay : float, default 0.0
        λ >= 0, L2 penalty added to the gradient.
    clipnorm, clipvalue, global_clipnorm : float or None, default None
        Gradient clipping (at most one), see ``Optimizer``.
    """

    _arguments = ("learning_rate", "rho", "momentum", "epsilon", "centered", "weight_decay")

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        rho: float = 0.99,
        momentum: float = 0.0,
        epsilon: float = 1e-8,
        centered: bool = False,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        rho = real_in_range("rho", rho, 0.0, 1.0, high_open=True)
        momentum = real_in_range("momentum", momentum, 0.0, 1.0, high_open=True)
        epsilon = positive("epsilon", epsilon)
        if not isinstance(centered, bool):
            raise TypeError(f"centered must be a bool, got {describe(centered)}")
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _slots(self) -> tuple[str, ...]:
        slots = ("square_avg",)
        if self.momentum > 0.0:
            slots += ("momentum_buffer",)
        if self.centered:
            slots += ("grad_avg",)
        return slots

    def _num_work(self) -> int:
        return 2  # one for g + λp, one for the denominator and the step

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        g = self._l2(p, g, work[0])
        w, s, rho = work[1], state["square_avg"], self.rho
        np.square(g, out=w)  # s ← ρ s + (1 - ρ) g²
        w *= 1.0 - rho
        s *= rho
        s += w
        if self.centered:
            a = state["grad_avg"]
            np.multiply(g, 1.0 - rho, out=w)  # a ← ρ a + (1 - ρ) g
            a *= rho
            a += w
            np.multiply(a, a, out=w)  # d ← sqrt(s - a²) + ε
            np.subtract(s, w, out=w)
            np.sqrt(w, out=w)
        else:
            np.sqrt(s, out=w)  # d ← sqrt(s) + ε
        w += self.epsilon
        np.divide(g, w, out=w)  # g / d
        if self.momentum > 0.0:
            b = state["momentum_buffer"]
            b *= self.momentum  # b ← μ b + g / d
            b += w
            np.multiply(b, lr, out=w)
        else:
            w *= lr
        p -= w
