"""Dense: the affine map ``y = act(x @ W + b)``, built eagerly or lazily."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _checks, initializers
from . import activations
from .base import Layer, check_seed, generator

__all__ = ["Dense"]

_KEYWORDS = (
    "units",
    "in_features",
    "out_features",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
    "seed",
    "dtype",
)


def _sizes(
    sizes: tuple[Any, ...], units: Any, in_features: Any, out_features: Any
) -> tuple[int | None, int]:
    """``(in_features or None, out_features)`` from ``Dense(units)``, ``Dense(in, out)``
    or the same sizes given by keyword."""
    if len(sizes) > 2:
        raise TypeError(
            f"Dense takes Dense(units) or Dense(in_features, out_features), got {len(sizes)} sizes"
        )
    keywords = {"units": units, "in_features": in_features, "out_features": out_features}
    given = {k: v for k, v in keywords.items() if v is not None}
    if sizes and given:
        raise TypeError(
            f"Dense got sizes both by position and by keyword ({', '.join(given)}): use one way"
        )
    if units is not None and out_features is not None:
        raise TypeError("Dense got both units and out_features: they are the same size")
    if len(sizes) == 2:
        in_features, out_features = sizes
    elif len(sizes) == 1:
        (out_features,) = sizes
    elif units is not None:
        out_features = units
    if out_features is None:
        raise TypeError("Dense needs its output size: Dense(units) or Dense(in_features, units)")
    name = "out_features" if len(sizes) == 2 or in_features is not None else "units"
    out = _checks.positive_int(name, out_features)
    return (None if in_features is None else _checks.positive_int("in_features", in_features)), out


def _refuse_input_shape(kwargs: dict[str, Any], sizes: tuple[int, ...], units: object) -> None:
    """Keras 2's ``input_shape=(784,)`` / ``input_dim=784``: say what Keras 3 and minitrain take."""
    key = next((k for k in ("input_shape", "input_dim") if k in kwargs), None)
    if key is None:
        return
    given = kwargs[key]
    width = given[0] if isinstance(given, tuple | list) and len(given) == 1 else given
    out = units if units is not None else (sizes[0] if len(sizes) == 1 else "units")
    raise TypeError(
        f"Dense() got {key}={given!r}, which Keras 3 deprecates and minitrain does not take: "
        f"put Input(({width},)) first in the Sequential, or give both sizes, "
        f"Dense({width}, {out})"
    )


class Dense(Layer):
    """Fully connected layer: ``z = x @ W + b``, then ``y = activation(z)``.

    ``Dense(units)`` builds when its input width becomes known (``build``, the
    model's ``Input`` or ``build(input_shape)``, or the first batch);
    ``Dense(in_features, out_features)`` builds at once.

    Parameters
    ----------
    units or in_features, out_features : int
        ``W`` has shape ``(in_features, out_features)``, ``b`` shape ``(out_features,)``.
    activation : {"relu", "leaky_relu", "sigmoid", "tanh", "softmax", "linear", None} or Layer
        Applied after the affine map, inside this layer (``self.activation``, None
        for none). ``"leaky_relu"`` is ``LeakyReLU()`` with PyTorch's slope 0.01.
        A layer given is used as it is and keeps this Dense's activation cache, so
        give each Dense its own instance.
    use_bias : bool
        Without a bias, ``z = x @ W`` and there is no ``b`` (used before a batch norm,
        whose mean subtraction cancels any bias).
    kernel_initializer, bias_initializer : str or Initializer
        Draw ``W`` (He uniform by default) and ``b`` (zeros); see ``minitrain.initializers``.
    seed : int, Generator or None
        Draws the weights at build time; None takes the model's generator (or a
        fresh one). Same seed, same weights.
    dtype : float32 or float64

    Backward, with ``g = dL/dy`` of shape ``(N, out)``, the activation first::

        dL/dz = activation.backward(g)   (N, out)
        dL/dW = x.T @ dL/dz              (in, out)
        dL/db = sum_n dL/dz[n]           (out,)
        dL/dx = dL/dz @ W.T              (N, in)
    """

    def __init__(
        self,
        *sizes: int,
        units: int | None = None,
        in_features: int | None = None,
        out_features: int | None = None,
        activation: str | Layer | None = None,
        use_bias: bool = True,
        kernel_initializer: str | initializers.Initializer = "he_uniform",
        bias_initializer: str | initializers.Initializer = "zeros",
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if "init" in kwargs:
            raise TypeError(
                f"Dense() got init={kwargs['init']!r}: init= is gone, use "
                f"kernel_initializer={kwargs['init']!r} (see minitrain.initializers)"
            )
        _refuse_input_shape(kwargs, sizes, units)
        _checks.no_unknown_keywords("Dense", kwargs, _KEYWORDS)
        n_in, self.out_features = _sizes(sizes, units, in_features, out_features)
        self.in_features: int | None = None
        self.activation = activations.deserialize(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, name="kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, name="bias_initializer")
        check_seed(seed)
        self.seed = seed
        self.dtype = _checks.float_dtype("dtype", dtype)
        self.built = False
        if n_in is not None:
            self.build(n_in)

    @property
    def units(self) -> int:
        """The output width (Keras's name for ``out_features``)."""
        return self.out_features

    def build(self, in_features: int, rng: np.random.Generator | None = None) -> None:
        """Draw ``W`` of shape ``(in_features, out_features)`` (then ``b``).

        The generator is the layer's ``seed`` when it has one, else ``rng``, else a
        fresh one. Building a built layer again checks the width and draws nothing.
        """
        in_features = _checks.positive_int("in_features", in_features)
        if self.built:
            if in_features != self.in_features:
                raise ValueError(
                    f"in_features must be {self.in_features}: {self!r} is built for inputs "
                    f"of width {self.in_features}, got {in_features}"
                )
            return
        rng = generator(self.seed if self.seed is not None else rng)
        self._add_param(
            "W", self.kernel_initializer((in_features, self.out_features), rng, self.dtype)
        )
        if self.use_bias:
            self._add_param("b", self.bias_initializer((self.out_features,), rng, self.dtype))
        self.in_features = in_features
        self.built = True

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        if not self.built:
            self.build(x.shape[-1])
        elif x.shape[-1] != self.in_features:
            raise ValueError(
                f"x must have {self.in_features} features (columns) for {self!r}, "
                f"got shape {x.shape}"
            )
        z = x @ self.params["W"]
        if self.use_bias:
            z += self.params["b"]  # z is a fresh array: adding in place saves a temporary
        self.save_for_backward(x)
        if self.activation is None:
            return z
        return self.activation.forward(z, training)  # keeps its own cache for backward

    def backward(self, grad_y: np.ndarray, *, need_input_grad: bool = True) -> np.ndarray | None:
        """``need_input_grad=False`` skips ``g @ W.T`` for a first layer, whose
        input is data: a third of that layer's backward work."""
        if self.activation is not None:
            grad_y = self.activation.backward(grad_y)  # dL/dz, the activation undone first
        (x,) = self.saved_tensors()
        np.matmul(x.T, grad_y, out=self.grads["W"])  # dL/dW = x.T @ dL/dz
        if self.use_bias:
            np.sum(grad_y, axis=0, out=self.grads["b"])  # dL/db = sum over the batch
        return grad_y @ self.params["W"].T if need_input_grad else None  # dL/dx = dL/dz @ W.T

    @property
    def input_width(self) -> int | None:
        return self.in_features

    def output_width(self, in_width: int) -> int:
        return self.out_features

    def __repr__(self) -> str:
        """``Dense(3, 4)`` (``Dense(4)`` until built), then the arguments off their defaults."""
        sizes = [self.out_features] if self.in_features is None else [self.in_features, self.units]
        args = [str(n) for n in sizes]
        act = activations.serialize(self.activation)
        if act is not None:
            args.append(f"activation={self.activation if isinstance(act, dict) else act!r}")
        if not self.use_bias:
            args.append("use_bias=False")
        for name, value, default in (
            ("kernel_initializer", self.kernel_initializer, "he_uniform"),
            ("bias_initializer", self.bias_initializer, "zeros"),
        ):
            serial = initializers.serialize(value)
            if serial != default:
                args.append(f"{name}={value if isinstance(serial, dict) else serial!r}")
        if self.dtype != np.float32:
            args.append(f"dtype={self.dtype.name}")
        return f"Dense({', '.join(args)})"

    def get_config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "seed": self.seed if _checks.is_int(self.seed) else None,
            "dtype": self.dtype.name,
        }
