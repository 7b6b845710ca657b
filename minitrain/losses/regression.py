r"""Regression losses: mean squared error, mean absolute error, Huber.

Each is the mean over the last axis of an elementwise loss of the difference
``d = p - t`` between predictions and targets of shape (N, C), then the
(weighted) mean over the batch, as Keras reduces it:

.. math:: L = \frac{1}{N} \sum_i w_i \frac{1}{C} \sum_j \ell(d_{ij}),
          \qquad
          \frac{\partial L}{\partial p_{ij}} = \frac{w_i}{N C} \ell'(d_{ij})

- ``MeanSquaredError``: :math:`\ell(d) = d^2`, :math:`\ell'(d) = 2 d`;
- ``MeanAbsoluteError``: :math:`\ell(d) = |d|`, :math:`\ell'(d) = \mathrm{sign}(d)` (0 at 0);
- ``Huber(delta)``: :math:`\ell(d) = d^2 / 2` where :math:`|d| \le \delta`, else
  :math:`\delta |d| - \delta^2 / 2`; :math:`\ell'(d) = \mathrm{clip}(d, -\delta, \delta)`.

Targets have the shape (N, C) of the predictions; with a single output,
(N,) is accepted too (as Keras does). None of them reads logits:
``from_logits`` is always False.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minitrain import _checks

from .base import Loss, _float_targets, _reduce_elementwise, _weighted_vdot


class _Regression(Loss):
    """What the regression losses share: targets shaped like the predictions."""

    def __init__(self) -> None:
        self.from_logits = False

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        if num_outputs == 1 and isinstance(y, np.ndarray) and y.ndim == 1:
            y = y[:, None]
        return _float_targets(name, y, num_outputs, dtype, "targets")


class MeanSquaredError(_Regression):
    r"""Mean squared error (Keras ``mean_squared_error``, PyTorch ``mse_loss``).

    .. math:: L = \frac{1}{N C} \sum_{i, j} w_i (p_{ij} - t_{ij})^2,
              \qquad \frac{\partial L}{\partial p_{ij}} = \frac{2 w_i (p_{ij} - t_{ij})}{N C}

    Keras averages over the last axis per sample and then over the batch, which
    without weights is the mean over all ``N * C`` entries.
    """

    name = "mean_squared_error"

    def value(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        diff = y_pred - y_true
        return float(_weighted_vdot(diff, diff, sample_weight) / diff.size)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        w = sample_weight
        diff = y_pred - y_true
        value = float(_weighted_vdot(diff, diff, w) / diff.size)
        # d(diff^2)/dp = 2 diff; diff is dead, so it becomes the gradient.
        if w is None:
            diff *= 2 / diff.size
        else:
            diff *= (2 / diff.size) * w[:, None]
        return value, diff


class MeanAbsoluteError(_Regression):
    r"""Mean absolute error (Keras ``mean_absolute_error``, PyTorch ``l1_loss``).

    .. math:: L = \frac{1}{N C} \sum_{i, j} w_i |p_{ij} - t_{ij}|,
              \qquad \frac{\partial L}{\partial p_{ij}} =
              \frac{w_i\,\mathrm{sign}(p_{ij} - t_{ij})}{N C}

    At ``p = t`` the gradient is 0, as PyTorch's (``sign(0) = 0``).
    """

    name = "mean_absolute_error"

    def value(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        diff = y_pred - y_true
        return _reduce_elementwise(np.abs(diff, out=diff), sample_weight)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        w = sample_weight
        diff = y_pred - y_true
        grad = np.sign(diff)  # d|d|/dd, 0 at 0; taken before diff becomes |diff|
        value = _reduce_elementwise(np.abs(diff, out=diff), w)
        if w is None:
            grad /= grad.size
        else:
            grad *= w[:, None] / grad.size
        return value, grad


class Huber(_Regression):
    r"""Huber loss (Keras ``huber``; PyTorch ``huber_loss``, ``smooth_l1_loss`` times beta).

    Quadratic near the target and linear beyond ``delta``:

    .. math:: \ell(d) = \begin{cases} \frac12 d^2 & |d| \le \delta \\
                                      \delta |d| - \frac12 \delta^2 & |d| > \delta
                        \end{cases}
              \qquad \ell'(d) = \mathrm{clip}(d, -\delta, \delta)

    and ``L = (1 / N C) sum_ij w_i l(p_ij - t_ij)``. The switch is at
    ``|d| <= delta`` as Keras writes it (PyTorch writes ``|d| < delta``); at
    ``|d| = delta`` both branches give ``delta^2 / 2`` exactly in floating
    point and both derivatives give ``d``, so the two agree to the last bit
    on the boundary. The linear branch is Keras's ``delta |d| - delta^2 / 2``
    (PyTorch rounds ``delta (|d| - delta / 2)``, equal to within an ulp).

    Parameters
    ----------
    delta : float > 0, default 1.0
        Where the loss turns from quadratic to linear.
    """

    name = "huber"

    def __init__(self, delta: float = 1.0) -> None:
        super().__init__()
        delta = _checks.real_in_range("delta", delta, 0.0, low_open=True)
        if not np.isfinite(delta):
            raise ValueError(f"delta must be a finite real number in (0.0, inf), got {delta}")
        self.delta = delta

    def _config(self) -> dict[str, Any]:
        return {"delta": self.delta}

    def _elementwise(self, diff: np.ndarray) -> np.ndarray:
        delta = self.delta
        abs_diff = np.abs(diff)
        return np.where(abs_diff <= delta, 0.5 * np.square(diff), delta * abs_diff - 0.5 * delta**2)

    def value(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        return _reduce_elementwise(self._elementwise(y_pred - y_true), sample_weight)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        w = sample_weight
        diff = y_pred - y_true
        value = _reduce_elementwise(self._elementwise(diff), w)
        # d/dd of d^2 / 2 is d (|d| <= delta), of delta |d| is delta sign(d) beyond:
        # together clip(d, -delta, delta); diff is dead, so it becomes the gradient.
        grad = np.clip(diff, -self.delta, self.delta, out=diff)
        if w is None:
            grad /= grad.size
        else:
            grad *= w[:, None] / grad.size
        return value, grad
