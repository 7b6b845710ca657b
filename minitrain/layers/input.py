"""Input: the declared width of a model's data, as the first layer of a ``Sequential``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _checks
from .base import Layer

__all__ = ["Input"]


class Input(Layer):
    """Declares the input shape ``(F,)``; passes ``x`` of shape ``(N, F)`` through.

    Placed first in a ``Sequential``, it lets the layers after it build at once
    (Keras's ``Input(shape=(784,))``). It has no parameters; ``input_width`` is
    ``F``, and ``backward`` returns the gradient it is given.
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        if not isinstance(shape, tuple | list) or not all(_checks.is_int(s) for s in shape):
            raise TypeError(
                f"shape must be a tuple of positive ints like (784,), got {_checks.describe(shape)}"
            )
        if len(shape) != 1 or shape[0] <= 0:
            raise ValueError(
                "shape must be a tuple of one positive int (the number of features) like "
                f"(784,), got {tuple(shape)!r}"
            )
        self.shape: tuple[int] = (int(shape[0]),)

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.shape[0]:
            raise ValueError(
                f"x must have shape (N, {self.shape[0]}) for {self!r}, got shape {x.shape}"
            )
        return x

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return grad_y

    def build(self, in_features: int, rng: np.random.Generator | None = None) -> None:
        """Check that ``in_features`` is the declared width."""
        in_features = _checks.positive_int("in_features", in_features)
        if in_features != self.shape[0]:
            raise ValueError(f"in_features must be {self.shape[0]} for {self!r}, got {in_features}")

    @property
    def input_width(self) -> int:
        return self.shape[0]

    def output_width(self, in_width: int | None = None) -> int:
        return self.shape[0]

    def get_config(self) -> dict[str, Any]:
        return {"shape": list(self.shape)}

    def __repr__(self) -> str:
        return f"Input({self.shape!r})"
