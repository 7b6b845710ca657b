"""SGD with optional (Nesterov) momentum and L2 weight decay: PyTorch's ``torch.optim.SGD``.

With p a parameter, g its (clipped) gradient, η the learning rate, μ the momentum
and λ the weight decay::

    g ← g + λ p                                  (L2 weight decay, when λ > 0)
    b ← μ b + g                                  (when μ > 0; b starts at 0, so b₁ = g₁)
    d ← g + μ b  with nesterov, else d ← b       (d ← g when μ = 0)
    p ← p - η d

The buffer b holds gradients, not steps: η multiplies it only at the update, so
changing the rate mid-training does not rescale the velocity (PyTorch's
convention; Keras's SGD keeps -η·g in its buffer instead).

State slot: ``momentum`` (b, PyTorch's ``momentum_buffer``), only when μ > 0.
"""

from __future__ import annotations

import numpy as np

from minitrain._checks import describe, real_in_range
from minitrain.optimizers.base import LearningRate, Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum; PyTorch's rule.

    ::

        g ← g + λ p                              (λ = weight_decay > 0)
        b ← μ b + g                              (μ = momentum > 0)
        d ← g + μ b if nesterov else b           (d ← g when μ = 0)
        p ← p - η d

    Parameters
    ----------
    learning_rate : float or callable, default 0.01
        η >= 0, or a schedule ``step -> float``.
    momentum : float, default 0.0
        μ in [0, 1). Slot ``"momentum"`` exists only when μ > 0.
    nesterov : bool, default False
        Nesterov momentum; needs μ > 0 (as PyTorch).
    weight_decay : float, default 0.0
        λ >= 0, L2 penalty added to the gradient.
    clipnorm, clipvalue, global_clipnorm : float or None, default None
        Gradient clipping (at most one), see ``Optimizer``.
    """

    _arguments = ("learning_rate", "momentum", "nesterov", "weight_decay")

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        momentum = real_in_range("momentum", momentum, 0.0, 1.0, high_open=True)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool, got {describe(nesterov)}")
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
        )
        self.momentum = momentum
        self.nesterov = nesterov

    def _slots(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum > 0.0 else ()

    def _num_work(self) -> int:
        return 2  # one for g + λp, one for η·d

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        # Four passes with momentum (μb, + g, η·b, p -): each is one rounding of the rule,
        # so no two can merge in NumPy without changing the result's bits.
        g = self._l2(p, g, work[0])
        step = work[1]
        if self.momentum > 0.0:
            b = state["momentum"]
            b *= self.momentum
            b += g
            if self.nesterov:
                np.multiply(b, self.momentum, out=step)
                step += g
                step *= lr
            else:
                np.multiply(b, lr, out=step)
        else:
            np.multiply(g, lr, out=step)
        p -= step
