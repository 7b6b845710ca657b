"""The feature width, followed through a list of layers (Keras-style late building)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import _checks
from ..layers import Layer

_HOW_TO_BUILD = (
    "call build((None, features)), start the model with Input((features,)), or run it on a batch"
)


def _input_width_of(input_shape: object) -> int:
    """``F`` from Keras's ``(None, F)`` or from ``(F,)``."""
    shape = tuple(input_shape) if isinstance(input_shape, tuple | list) else None
    if shape is not None and len(shape) == 2 and shape[0] is None:
        shape = shape[1:]
    if shape is None or len(shape) != 1 or not _checks.is_int(shape[0]) or shape[0] <= 0:
        raise ValueError(
            "input_shape must be (None, features) or (features,) with a positive int "
            f"number of features, got {_checks.describe(input_shape)}"
        )
    return int(shape[0])


def _follow_widths(layers: Sequence[Layer], width: int | None) -> list[int | None]:
    """The width reaching each layer (None where not known yet), checked on the way.

    ``width`` is the model's input width when given (``build``). Otherwise the
    first layer that requires a width (an ``Input``, a built ``Dense``) sets it,
    and the width-keeping layers before it (activations, Dropout) share it.
    """
    widths: list[int | None] = []
    for i, layer in enumerate(layers):
        expected = layer.input_width
        if expected is not None:
            if width is None:
                width = expected
            elif width != expected:
                raise ValueError(
                    f"layers[{i}] ({type(layer).__name__}) expects {expected} input "
                    f"features, but the layer before it outputs {width}"
                    if i
                    else f"layers[0] ({type(layer).__name__}) expects {expected} input "
                    f"features, but the model's input has {width}"
                )
        widths.append(width)
        if width is not None:
            width = layer.output_width(width)
    known = next((i for i, w in enumerate(widths) if w is not None), None)
    if known is not None and known > 0:
        w = widths[known]
        for i in range(known - 1, -1, -1):
            layer = layers[i]
            if not layer.built or layer.params or layer.output_width(w) != w:
                break  # a layer that may change the width: what reaches it is unknown
            widths[i] = w
    return widths


def _common_dtype(layers: Sequence[Layer]) -> np.dtype:
    """The one dtype of every param (and of the layers still to build)."""
    dtypes = {p.dtype for layer in layers for p in layer.params.values()}
    dtypes |= {
        np.dtype(layer.dtype)
        for layer in layers
        if not layer.built and getattr(layer, "dtype", None) is not None
    }
    if len(dtypes) > 1:
        raise ValueError(
            f"layers must share one parameter dtype, got {sorted(d.name for d in dtypes)}"
        )
    return dtypes.pop() if dtypes else np.dtype(np.float32)
