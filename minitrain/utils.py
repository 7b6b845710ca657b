"""Array helpers under Keras's names (``keras.utils``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .data.synthetic import one_hot

__all__ = ["to_categorical"]


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows for integer class labels, as ``keras.utils.to_categorical``.

    ``out[i, x[i]] = 1`` and every other entry is 0. Categorical crossentropy
    wants these rows; sparse categorical crossentropy takes the labels as they
    are. The same function as ``minitrain.data.to_categorical``, returning
    Keras 3's float64 (cast with ``.astype("float32")``).

    Parameters
    ----------
    x : array-like of ints of shape (N,) or (N, 1)
        Class labels in ``[0, num_classes)``.
    num_classes : int, optional
        Width ``C`` of the rows; ``max(x) + 1`` when omitted (Keras).

    Returns
    -------
    ndarray of shape (N, C), float64
    """
    return one_hot(x, num_classes, np.float64, "x")
