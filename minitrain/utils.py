"""Array helpers with Keras's names (``keras.utils``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks

__all__ = ["to_categorical"]


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows for integer class labels, as ``keras.utils.to_categorical``.

    ``out[i, x[i]] = 1`` and every other entry is 0. Categorical crossentropy
    wants these rows; sparse categorical crossentropy takes the labels as they are.

    Parameters
    ----------
    x : array-like of ints of shape (N,) or (N, 1)
        Class labels in ``[0, num_classes)``.
    num_classes : int, optional
        Width ``C`` of the rows; ``max(x) + 1`` when omitted (Keras).

    Returns
    -------
    ndarray of shape (N, C), float64
        As Keras 3's NumPy path returns (cast it with ``.astype("float32")``).
    """
    labels = np.asarray(x)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"x must be labels of shape (N,) or (N, 1), got shape {labels.shape}")
    if labels.size and not np.all(np.mod(labels, 1) == 0):
        raise ValueError(f"x must hold integer class labels, got {_checks.describe(labels)}")
    labels = labels.astype(np.intp)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    num_classes = _checks.non_negative_int("num_classes", num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"x must hold labels in [0, {num_classes}), got values from {labels.min()} "
            f"to {labels.max()}"
        )
    out = np.zeros((len(labels), num_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return out
