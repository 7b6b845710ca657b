"""Layers with hand-written backpropagation.

The protocol every layer follows (``params``/``grads``/``buffers``, ``training``,
``forward(x, training=None)``, ``backward``, lazy building, weights, configs)
and the cache rule under ``no_grad`` are stated in ``minitrain.layers.base``.
Read the layers in this order: ``dense`` (the affine map), ``activations``,
``dropout`` (the first to read the mode), ``batchnorm`` (statistics and a
backward through them), ``input``.

``from_config({"class": name, "config": {...}})`` rebuilds any layer from the
``get_config()`` of one, built or not.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import activations
from .activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer
from .batchnorm import BatchNorm, BatchNormalization
from .dense import Dense
from .dropout import Dropout
from .input import Input

__all__ = [
    "Layer",
    "Dense",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Dropout",
    "BatchNorm",
    "BatchNormalization",
    "Input",
    "activations",
    "from_config",
]

_LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        Dense,
        ReLU,
        LeakyReLU,
        Sigmoid,
        Tanh,
        Softmax,
        Dropout,
        BatchNorm,
        BatchNormalization,
        Input,
    )
}


def from_config(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from ``{"class": name, "config": {...}}`` (``get_config()``'s form)."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    name = config.get("class")
    if name not in _LAYERS:
        raise ValueError(f"layer class must be one of {sorted(_LAYERS)}, got {name!r}")
    kwargs = dict(config.get("config", {}))
    if name == "Dense" and "init" in kwargs:  # files written before kernel_initializer
        kwargs["kernel_initializer"] = kwargs.pop("init")
    if name == "BatchNorm":
        # The momentum was chosen when the layer was first made (and warned about then).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="BatchNorm\\(momentum=", category=UserWarning)
            return BatchNorm(**kwargs)
    return _LAYERS[name](**kwargs)
