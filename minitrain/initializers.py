"""Initializers: how a layer's parameters are first drawn.

The contract
------------
An initializer is a callable ``initializer(shape, rng, dtype) -> ndarray``: it
returns a new array of ``shape`` and ``dtype``, drawing any randomness from the
NumPy generator ``rng`` (so a seeded layer gets the same weights every time).
``get_config()`` gives its JSON-able arguments and ``from_config`` (or ``get``)
rebuilds it. ``get(identifier)`` takes a name, an initializer, or a config dict.

The fans (Keras's ``compute_fans``): for a kernel of shape ``(fan_in, fan_out)``
they are its two sizes; for a vector of shape ``(n,)`` both are ``n``.

================== ==========================================================
name               draw
================== ==========================================================
``zeros``/``ones`` the constant 0 / 1
``Constant(v)``    the constant ``v``
``he_uniform``     ``U(-limit, limit)``, ``limit = sqrt(6 / fan_in)``
``he_normal``      truncated normal, std ``sqrt(2 / fan_in)``
``glorot_uniform`` ``U(-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``
``glorot_normal``  truncated normal, std ``sqrt(2 / (fan_in + fan_out))``
``lecun_normal``   truncated normal, std ``sqrt(1 / fan_in)``
``RandomNormal``   ``N(mean, stddev**2)``, defaults 0 and 0.05
``RandomUniform``  ``U(minval, maxval)``, defaults -0.05 and 0.05
================== ==========================================================

These are Keras's variance-scaling initializers: He keeps the variance of ReLU
activations, Glorot that of both forward activations and backward gradients,
LeCun that of SELU-like units. The truncated normals draw a standard normal cut
at two standard deviations (values beyond are drawn again), scaled by
``std / 0.87962566103423978``, so that the truncated draw has the stated
variance, as Keras does. Draws are made in float64 and then cast, so a float32
and a float64 layer with the same seed hold the same weights up to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "HeUniform",
    "HeNormal",
    "GlorotUniform",
    "GlorotNormal",
    "LecunNormal",
    "RandomNormal",
    "RandomUniform",
    "get",
    "from_config",
]

# Standard deviation of a standard normal truncated at +-2.
_TRUNCATED_STD = 0.87962566103423978


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``initializer(shape, rng, dtype) -> ndarray``."""

    def __call__(
        self,
        shape: tuple[int, ...],
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> np.ndarray:
        shape = tuple(int(s) for s in shape)
        dtype = _checks.float_dtype("dtype", dtype)
        if rng is None:
            rng = np.random.default_rng()
        return self._draw(shape, rng).astype(dtype, copy=False)

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# -------------------------------------------------------------------- constants


class Constant(Initializer):
    """Every entry equals ``value``."""

    def __init__(self, value: float = 0.0) -> None:
        if not _checks.is_real(value):
            raise TypeError(f"value must be a real number, got {_checks.describe(value)}")
        self.value = float(value)

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.full(shape, self.value)  # draws nothing: the generator is left as it is

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Zeros(Constant):
    """Every entry 0."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def get_config(self) -> dict[str, Any]:
        return {}


class Ones(Constant):
    """Every entry 1."""

    def __init__(self) -> None:
        super().__init__(1.0)

    def get_config(self) -> dict[str, Any]:
        return {}


# ---------------------------------------------------------------- plain random


class RandomNormal(Initializer):
    """``N(mean, stddev**2)`` entries (Keras's defaults: mean 0, stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = _checks.real_in_range("mean", mean)
        self.stddev = _checks.real_in_range("stddev", stddev, 0.0)

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.stddev, size=shape)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    """``U(minval, maxval)`` entries (Keras's defaults: -0.05 and 0.05)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval = _checks.real_in_range("minval", minval)
        self.maxval = _checks.real_in_range("maxval", maxval, self.minval)

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval}


# ------------------------------------------------------------ variance scaling


class _VarianceScaling(Initializer):
    """Variance ``scale / fan`` (``fan`` chosen by ``mode``), uniform or truncated normal."""

    scale: float
    mode: str  # "fan_in" or "fan_avg"
    distribution: str  # "uniform" or "truncated_normal"

    def _draw(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = _fans(shape)
        fan = fan_in if self.mode == "fan_in" else (fan_in + fan_out) / 2
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)  # U(-a, a) has variance a**2 / 3
            return rng.uniform(-limit, limit, size=shape)
        w = rng.standard_normal(size=shape)
        outside = np.abs(w) > 2.0
        while outside.any():  # redraw the tails: a normal truncated at 2 std
            w[outside] = rng.standard_normal(size=int(outside.sum()))
            outside = np.abs(w) > 2.0
        w *= np.sqrt(variance) / _TRUNCATED_STD
        return w


class HeUniform(_VarianceScaling):
    """``U(-sqrt(6 / fan_in), sqrt(6 / fan_in))``: variance ``2 / fan_in``."""

    scale, mode, distribution = 2.0, "fan_in", "uniform"


class HeNormal(_VarianceScaling):
    """Truncated normal of variance ``2 / fan_in``."""

    scale, mode, distribution = 2.0, "fan_in", "truncated_normal"


class GlorotUniform(_VarianceScaling):
    """``U(-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``."""

    scale, mode, distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_VarianceScaling):
    """Truncated normal of variance ``2 / (fan_in + fan_out)``."""

    scale, mode, distribution = 1.0, "fan_avg", "truncated_normal"


class LecunNormal(_VarianceScaling):
    """Truncated normal of variance ``1 / fan_in``."""

    scale, mode, distribution = 1.0, "fan_in", "truncated_normal"


# ------------------------------------------------------------------- registry

_NAMES: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "lecun_normal": LecunNormal,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
}
_CLASSES: dict[str, type[Initializer]] = {cls.__name__: cls for cls in _NAMES.values()}


def name_of(initializer: Initializer) -> str | None:
    """The registered name of an initializer equal to its class's default, else None."""
    for name, cls in _NAMES.items():
        if type(initializer) is cls and initializer == cls():
            return name
    return None


def get(
    identifier: str | Initializer | dict[str, Any], *, name: str = "initializer"
) -> Initializer:
    """An initializer from a name (``"he_uniform"``), an initializer or a config dict.

    ``name`` is the argument named in an error (``"kernel_initializer"``).
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return from_config(identifier)
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            valid = ", ".join(repr(n) for n in _NAMES)
            raise ValueError(f"{name} must be one of {valid}, got {identifier!r}")
        return _NAMES[identifier]()
    raise TypeError(
        f"{name} must be an initializer name, an Initializer or a config dict, "
        f"got {_checks.describe(identifier)}"
    )


def serialize(initializer: Initializer) -> str | dict[str, Any]:
    """The name of a default initializer, else ``{"class": ..., "config": ...}`` (JSON-able)."""
    name = name_of(initializer)
    if name is not None:
        return name
    return {"class": type(initializer).__name__, "config": initializer.get_config()}


def from_config(config: dict[str, Any]) -> Initializer:
    """Rebuild an initializer from ``{"class": name, "config": {...}}``."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {_checks.describe(config)}")
    name = config.get("class")
    if name not in _CLASSES:
        raise ValueError(f"initializer class must be one of {sorted(_CLASSES)}, got {name!r}")
    return _CLASSES[name](**config.get("config", {}))
