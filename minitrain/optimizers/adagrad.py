"""Adagrad (Duchi et al., 2011): PyTorch's ``torch.optim.Adagrad`` (with ``lr_decay=0``).

With p a parameter, g its (clipped) gradient, η the learning rate, ε the
stabiliser, λ the weight decay and s the running sum of squared gradients,
starting at ``initial_accumulator_value``::

    g ← g + λ p                                  (L2 weight decay, when λ > 0)
    s ← s + g²
    p ← p - η g / (sqrt(s) + ε)

Each element gets its own rate η / sqrt(s), which only shrinks: elements with
large or frequent gradients slow down first.

State slot: ``sum`` (s, PyTorch's ``sum``).
"""

from __future__ import annotations

import numpy as np

from minitrain.optimizers.base import LearningRate, Optimizer, non_negative, positive


class Adagrad(Optimizer):
    """Adagrad with PyTorch's rule: ε outside the square root, no rate decay.

    ::

        g ← g + λ p                              (λ = weight_decay > 0, L2)
        s ← s + g²                               (s starts at initial_accumulator_value)
        p ← p - η g / (sqrt(s) + ε)

    Parameters
    ----------
    learning_rate : float or callable, default 0.01
        η >= 0, or a schedule ``step -> float``.
    initial_accumulator_value : float, default 0.0
        The value s starts at, >= 0 (PyTorch's default; Keras's is 0.1).
    epsilon : float, default 1e-10
        ε > 0 (PyTorch's default; Keras's is 1e-7).
    weight_decay : float, default 0.0
        λ >= 0, L2 penalty added to the gradient.
    clipnorm, clipvalue, global_clipnorm : float or None, default None
        Gradient clipping (at most one), see ``Optimizer``.
    """

    _arguments = ("learning_rate", "initial_accumulator_value", "epsilon", "weight_decay")

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        initial_accumulator_value: float = 0.0,
        epsilon: float = 1e-10,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        initial = non_negative("initial_accumulator_value", initial_accumulator_value)
        epsilon = positive("epsilon", epsilon)
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
        )
        self.initial_accumulator_value = initial
        self.epsilon = epsilon

    def _slots(self) -> tuple[str, ...]:
        return ("sum",)

    def _initial_value(self, slot: str) -> float:
        return self.initial_accumulator_value

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
        g = self._l2(p, g, work[0])
        w, s = work[1], state["sum"]
        np.square(g, out=w)  # s ← s + g²
        s += w
        np.sqrt(s, out=w)  # p ← p - η g / (sqrt(s) + ε)
        w += self.epsilon
        np.divide(g, w, out=w)
        w *= lr
        p -= w
