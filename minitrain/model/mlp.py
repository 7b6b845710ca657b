"""``MLP``: the multilayer perceptron builder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _checks
from ..layers import BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .sequential import Sequential

_ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
}


def MLP(  # noqa: N802 - a builder named like the class it builds, as in Keras
    sizes: Sequence[int],
    *,
    activation: str = "relu",
    batchnorm: bool = False,
    dropout: float = 0.0,
    output: str = "logits",
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """A multilayer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Each hidden layer is ``Dense`` [+ ``BatchNorm``] + activation [+ ``Dropout``];
    the last is a ``Dense`` (+ ``Softmax`` when ``output="softmax"``). A Dense
    followed by BatchNorm has no bias: BatchNorm subtracts the batch mean, which
    cancels any bias, so its true gradient is exactly zero. Hidden layers of the
    ReLU family start from He initialisation, sigmoid and tanh ones and the
    output layer (no ReLU follows it) from Glorot. The seed draws
    the weights and seeds the model (shuffling, Dropout masks), from two
    independent streams.
    """
    if isinstance(sizes, str) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of ints, got {_checks.describe(sizes)}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least an input and an output width, got {sizes!r}")
    sizes = [_checks.positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    _checks.one_of("activation", activation, _ACTIVATIONS)
    _checks.one_of("output", output, ("logits", "softmax"))
    dropout = _checks.real_in_range("dropout", dropout, 0.0, 1.0, high_open=True)
    if seed is not None and not _checks.is_int(seed):
        raise TypeError(f"seed must be an int or None, got {_checks.describe(seed)}")
    init = "he_uniform" if activation in ("relu", "leaky_relu") else "glorot_uniform"
    init_seed, model_seed = np.random.SeedSequence(seed).spawn(2)
    init_rng = np.random.default_rng(init_seed)
    layers: list[Layer] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers.append(
            Dense(
                fan_in,
                fan_out,
                use_bias=not batchnorm,
                kernel_initializer=init,
                seed=init_rng,
                dtype=dtype,
            )
        )
        if batchnorm:
            layers.append(BatchNorm(fan_out, dtype=dtype))
        layers.append(_ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout))
    layers.append(
        Dense(sizes[-2], sizes[-1], kernel_initializer="glorot_uniform", seed=init_rng, dtype=dtype)
    )
    if output == "softmax":
        layers.append(Softmax())
    model_seed_int = None if seed is None else int(model_seed.generate_state(1)[0])
    return Sequential(layers, seed=model_seed_int)
