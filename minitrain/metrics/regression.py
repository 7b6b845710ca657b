"""Regression metrics: mean squared and mean absolute error, tracked over an epoch (Keras).

Each is a ``MeanMetric`` whose per-sample value is a mean over the last axis::

    MeanSquaredError:   v_i = mean_j (p_ij - t_ij)^2
    MeanAbsoluteError:  v_i = mean_j |p_ij - t_ij|
    result = sum_i w_i v_i / sum_i w_i

The differences are taken in the predictions' dtype (targets are cast to it,
as Keras does), so float32 predictions stay float32. The top-level
``minitrain.MeanSquaredError`` is the *loss*; these are reached as
``minitrain.metrics.MeanSquaredError``.
"""

from __future__ import annotations

import numpy as np

from minitrain.metrics.base import MeanMetric, per_sample, same_shape


def _difference(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``p - t`` as a new array in ``p``'s float dtype, for arrays of one shape."""
    t, p = same_shape(t, p)
    if p.dtype.kind == "f":
        t = t.astype(p.dtype, copy=False)
    return np.subtract(p, t)


class MeanSquaredError(MeanMetric):
    """``mean_j (p_ij - t_ij)^2`` per sample, weighted over the epoch (Keras's metric).

    Parameters
    ----------
    name : str, optional
        Defaults to ``"mean_squared_error"`` (``get("mse")`` names it ``"mse"``).
    """

    default_name = "mean_squared_error"

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        d = _difference(y_true, y_pred)
        return per_sample(np.square(d, out=d))


class MeanAbsoluteError(MeanMetric):
    """``mean_j |p_ij - t_ij|`` per sample, weighted over the epoch (Keras's metric).

    Parameters
    ----------
    name : str, optional
        Defaults to ``"mean_absolute_error"`` (``get("mae")`` names it ``"mae"``).
    """

    default_name = "mean_absolute_error"

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        d = _difference(y_true, y_pred)
        return per_sample(np.abs(d, out=d))
