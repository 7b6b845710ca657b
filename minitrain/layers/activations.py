"""Activations: element-wise (and row-wise, for Softmax) layers without parameters.

Each keeps for backward what its derivative needs, following the cache rule of
``minitrain.layers.base``; none reads the train/eval mode. ``get(name_or_layer)``
turns the names ``Dense(activation=...)`` accepts into layers: ``"relu"``,
``"leaky_relu"`` (``LeakyReLU()``, PyTorch's slope 0.01; Keras's default is 0.2),
``"sigmoid"``, ``"tanh"``, ``"softmax"``, and ``"linear"``/None for none at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from .. import _checks
from .base import Layer

__all__ = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "get", "serialize"]


class ReLU(Layer):
    """``y = max(x, 0)``; ``dL/dx = g * [y > 0]`` (0 at exactly 0, as PyTorch)."""

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        y = np.maximum(x, 0)
        self.save_for_backward(y)  # y > 0 exactly where x > 0; no need to keep x
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (y,) = self.saved_tensors()
        # dy/dx = 1 where x > 0, else 0: a product with the 0/1 mask. np.where would
        # branch on every element of an unpredictable mask, about 15x slower.
        return grad_y * (y > 0)


class LeakyReLU(Layer):
    """``y = x`` where ``x > 0``, else ``negative_slope * x``.

    ``dL/dx = g`` where ``x > 0``, else ``negative_slope * g`` (so
    ``negative_slope`` at exactly 0, as PyTorch).
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = _checks.real_in_range("negative_slope", negative_slope, 0.0)

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        # The local slope as an array (1 where x > 0, else negative_slope) serves both
        # passes as a plain product: np.where would branch on every element, ~10x slower.
        positive = x > 0
        slope = x.dtype.type(self.negative_slope) * ~positive
        slope += positive
        self.save_for_backward(slope)
        return x * slope

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (slope,) = self.saved_tensors()
        return grad_y * slope  # dy/dx = slope, element by element

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``; ``dL/dx = g * y * (1 - y)``."""

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        y = expit(x)  # stable for large |x|, keeps float32
        self.save_for_backward(y)
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (y,) = self.saved_tensors()
        return grad_y * y * (1 - y)


class Tanh(Layer):
    """``y = tanh(x)``; ``dL/dx = g * (1 - y**2)``."""

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        y = np.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (y,) = self.saved_tensors()
        return grad_y * (1 - y * y)


class Softmax(Layer):
    """Softmax along the last axis: ``y_i = exp(x_i - max x) / sum_j exp(x_j - max x)``.

    Subtracting the row maximum changes nothing mathematically and keeps
    ``exp`` from overflowing. The Jacobian is ``diag(y) - y y^T`` per row, so
    ``dL/dx = y * (g - sum_j g_j y_j)`` without ever forming it.

    Parameters
    ----------
    dim : {None, -1, 1}, default None
        PyTorch's argument, accepted for the axis it names here: the last axis
        of the ``(N, C)`` inputs (``-1``, or ``1``); any other axis is a ``ValueError``.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim not in (None, -1, 1) or isinstance(dim, bool):
            raise ValueError(
                f"dim must be -1 or 1 (Softmax works along the last axis of (N, C) inputs), "
                f"got {dim!r}"
            )

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        y = x - x.max(axis=-1, keepdims=True)
        np.exp(y, out=y)
        y /= y.sum(axis=-1, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (y,) = self.saved_tensors()
        return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


_NAMES: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
}
_VALID = ", ".join(repr(n) for n in (*_NAMES, "linear")) + " or None"


def get(name_or_layer: str | Layer | None) -> Layer | None:
    """The activation layer for a name, the layer itself, or None for ``"linear"``/None.

    >>> get("relu")
    ReLU()
    >>> get("linear") is None
    True
    """
    if name_or_layer is None or name_or_layer == "linear":
        return None
    if isinstance(name_or_layer, str):
        if name_or_layer not in _NAMES:
            raise ValueError(f"activation must be one of {_VALID}, got {name_or_layer!r}")
        return _NAMES[name_or_layer]()
    if isinstance(name_or_layer, tuple(_NAMES.values())):
        return name_or_layer
    raise TypeError(
        f"activation must be one of {_VALID}, or an activation layer "
        f"({', '.join(c.__name__ for c in _NAMES.values())}), "
        f"got {_checks.describe(name_or_layer)}"
    )


def serialize(layer: Layer | None) -> str | dict[str, Any] | None:
    """JSON-able form: the name of a default activation, else its class and config."""
    if layer is None:
        return None
    for name, cls in _NAMES.items():
        if type(layer) is cls and layer.get_config() == cls().get_config():
            return name
    return {"class": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: str | dict[str, Any] | None) -> Layer | None:
    """The inverse of ``serialize``."""
    if isinstance(config, dict):
        classes = {cls.__name__: cls for cls in _NAMES.values()}
        name = config.get("class")
        if name not in classes:
            raise ValueError(f"activation class must be one of {sorted(classes)}, got {name!r}")
        return classes[name](**config.get("config", {}))
    return get(config)
