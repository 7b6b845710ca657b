"""Layers with hand-written backpropagation.

The Layer protocol
------------------
Every layer holds three dicts and one flag:

- ``params``   trainable arrays (``Dense.W``, ``BatchNorm.gamma``, ...);
- ``grads``    same keys, shapes and dtype as ``params``, zero from construction;
- ``buffers``  non-trainable state (BatchNorm's running statistics);
- ``training`` True after construction; Dropout and BatchNorm read it.

``forward(x) -> y`` (also ``layer(x)``) maps a batch of shape ``(N, F_in)`` to
``(N, F_out)``. ``backward(grad_y) -> grad_x`` takes ``dL/dy`` of shape
``(N, F_out)``, *overwrites* ``grads`` with ``dL/dparam`` and returns ``dL/dx``.
Neither ever modifies the array it is given.

The cache rule
--------------
What ``forward`` must keep for ``backward`` it hands to ``save_for_backward``,
and ``backward`` unpacks exactly those names from ``saved_tensors()``, in the
same order. Under ``minitrain.no_grad()`` nothing is kept (and the cache of an
earlier forward is dropped), so ``backward`` raises ``RuntimeError``.
Grad mode never changes train/eval behaviour: that is ``training``'s job.

Computation happens in the dtype of the input, which ``Sequential`` casts once
to the parameters' dtype (float32 unless built with ``dtype=np.float64``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from . import _checks
from .grad_mode import is_grad_enabled

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
    "from_config",
]


class Layer:
    """Base class: the three dicts, the training flag and the activation cache."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training: bool = True
        self._saved: tuple[Any, ...] | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep what backward needs, unless grad mode is off (then keep nothing)."""
        self._saved = tensors if is_grad_enabled() else None

    def saved_tensors(self) -> tuple[Any, ...]:
        if self._saved is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward needs the cache of a forward pass, but there "
                "is none: the last forward ran under no_grad() (or none ran). Run the forward "
                "outside no_grad() before calling backward."
            )
        return self._saved

    def _add_param(self, name: str, value: np.ndarray) -> None:
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def output_width(self, in_width: int) -> int:
        """Width of the output for an input of width ``in_width``."""
        return in_width

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able, so the layer can be rebuilt."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not _checks.is_int(seed):
        raise TypeError(
            f"seed must be an int, a numpy Generator or None, got {_checks.describe(seed)}"
        )
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- Dense

_INITS = ("he_uniform", "he_normal", "glorot_uniform", "glorot_normal")


def _init_weights(
    init: str, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
) -> np.ndarray:
    """Keras's variance-scaling initialisers.

    He keeps the variance of ReLU activations (scale 2/fan_in); Glorot the
    variance of both forward activations and backward gradients (scale
    2/(fan_in + fan_out)). The uniform ones draw from U(-sqrt(3s), sqrt(3s));
    the normal ones from a normal truncated at two standard deviations, whose
    standard deviation is divided by 0.8796 so that the truncated draw has
    variance s (as Keras does).
    """
    scale = 2.0 / fan_in if init.startswith("he") else 2.0 / (fan_in + fan_out)
    shape = (fan_in, fan_out)
    if init.endswith("uniform"):
        limit = np.sqrt(3.0 * scale)
        w = rng.uniform(-limit, limit, size=shape)
    else:
        std = np.sqrt(scale) / 0.87962566103423978
        w = rng.standard_normal(size=shape)
        outside = np.abs(w) > 2.0
        while outside.any():  # redraw the tails: a truncated normal
            w[outside] = rng.standard_normal(size=int(outside.sum()))
            outside = np.abs(w) > 2.0
        w *= std
    return w.astype(dtype)


class Dense(Layer):
    """Fully connected layer: ``y = x @ W + b``.

    Parameters
    ----------
    in_features, out_features : int
        ``W`` has shape ``(in_features, out_features)``, ``b`` shape ``(out_features,)``.
    use_bias : bool
        Without a bias, ``y = x @ W`` and there is no ``b`` (used before BatchNorm,
        whose mean subtraction cancels any bias).
    init : {"he_uniform", "he_normal", "glorot_uniform", "glorot_normal"}
        Initialiser of ``W``; ``b`` starts at zero.
    seed : int, Generator or None
    dtype : float32 or float64

    Backward, with ``g = dL/dy`` of shape ``(N, out)``::

        dL/dW = x.T @ g          (in, out)
        dL/db = sum_n g[n]       (out,)
        dL/dx = g @ W.T          (N, in)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        use_bias: bool = True,
        init: str = "he_uniform",
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        self.in_features = _checks.positive_int("in_features", in_features)
        self.out_features = _checks.positive_int("out_features", out_features)
        self.init = _checks.one_of("init", init, _INITS)
        self.use_bias = bool(use_bias)
        dt = _checks.float_dtype("dtype", dtype)
        rng = _generator(seed)
        self._add_param("W", _init_weights(init, self.in_features, self.out_features, rng, dt))
        if self.use_bias:
            self._add_param("b", np.zeros(self.out_features, dtype=dt))

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = x @ self.params["W"]
        if self.use_bias:
            y += self.params["b"]  # y is a fresh array: adding in place saves a temporary
        self.save_for_backward(x)
        return y

    def backward(self, grad_y: np.ndarray, *, need_input_grad: bool = True) -> np.ndarray | None:
        """``need_input_grad=False`` skips ``g @ W.T`` for a first layer, whose
        input is data: a third of that layer's backward work."""
        (x,) = self.saved_tensors()
        np.matmul(x.T, grad_y, out=self.grads["W"])  # dL/dW = x.T @ g
        if self.use_bias:
            np.sum(grad_y, axis=0, out=self.grads["b"])  # dL/db = sum over the batch
        return grad_y @ self.params["W"].T if need_input_grad else None  # dL/dx = g @ W.T

    def output_width(self, in_width: int) -> int:
        return self.out_features

    def __repr__(self) -> str:
        extra = "" if self.use_bias else ", use_bias=False"
        extra += "" if self.init == "he_uniform" else f", init={self.init!r}"
        dtype = self.params["W"].dtype
        extra += "" if dtype == np.float32 else f", dtype={dtype.name}"
        return f"Dense({self.in_features}, {self.out_features}{extra})"

    def get_config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "use_bias": self.use_bias,
            "init": self.init,
            "dtype": self.params["W"].dtype.name,
        }


# ------------------------------------------------------------------ activations


class ReLU(Layer):
    """``y = max(x, 0)``; ``dL/dx = g * [y > 0]`` (0 at exactly 0, as PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
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

    def forward(self, x: np.ndarray) -> np.ndarray:
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

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = expit(x)  # stable for large |x|, keeps float32
        self.save_for_backward(y)
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (y,) = self.saved_tensors()
        return grad_y * y * (1 - y)


class Tanh(Layer):
    """``y = tanh(x)``; ``dL/dx = g * (1 - y**2)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
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
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = x - x.max(axis=-1, keepdims=True)
        np.exp(y, out=y)
        y /= y.sum(axis=-1, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (y,) = self.saved_tensors()
        return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------------- Dropout


class Dropout(Layer):
    """Inverted dropout with drop probability ``rate``.

    Training mode: draw ``keep ~ Bernoulli(1 - rate)`` per element, anew at
    every forward, and scale survivors so the expectation is unchanged::

        m = keep / (1 - rate)        y = x * m        dL/dx = g * m

    Eval mode: ``y = x`` and ``dL/dx = g``. Masks come from the layer's own
    generator when built with ``seed``, else from the model's (``Sequential``
    hands it over), so a seeded model draws the same masks run after run.
    ``no_grad`` does not turn dropout off; ``eval()`` does.
    """

    def __init__(self, rate: float, *, seed: int | None = None) -> None:
        super().__init__()
        self.rate = _checks.real_in_range("rate", rate, 0.0, 1.0, high_open=True)
        self.seed = seed
        self.rng: np.random.Generator | None = None if seed is None else _generator(seed)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.rate == 0.0:
            self.save_for_backward(None)
            return x  # identity, as PyTorch: no copy of the activations
        if self.rng is None:
            self.rng = np.random.default_rng()
        # bool * a scalar of x's dtype keeps x's dtype: no float64 mask in float32 work
        mask = (self.rng.random(x.shape, dtype=x.dtype) >= self.rate) * x.dtype.type(
            1.0 / (1.0 - self.rate)
        )
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        (mask,) = self.saved_tensors()
        return grad_y if mask is None else grad_y * mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed}


# -------------------------------------------------------------------- BatchNorm


class BatchNorm(Layer):
    """Batch normalisation over the batch axis, with PyTorch ``BatchNorm1d`` conventions.

    Training mode, for ``x`` of shape ``(N, F)`` (N >= 2)::

        mu      = mean_n x                     (F,)
        var     = mean_n (x - mu)**2           (F,)  biased: normalises the batch
        inv_std = 1 / sqrt(var + eps)          (F,)
        x_hat   = (x - mu) * inv_std           (N, F)
        y       = gamma * x_hat + beta         (N, F)

        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)

    (the running variance takes the unbiased estimate). Eval mode uses the
    running statistics instead: ``x_hat = (x - running_mean) / sqrt(running_var + eps)``.
    Under ``no_grad`` a layer in training mode still uses and updates batch
    statistics, as in PyTorch.

    Backward, with ``g = dL/dy``. In eval mode the statistics are constants,
    so ``dL/dx = g * gamma * inv_std``. In training mode ``mu`` and ``var``
    depend on every sample, which adds two terms::

        dL/dbeta  = sum_n g
        dL/dgamma = sum_n g * x_hat
        dL/dx     = gamma * inv_std / N * (N * g - dL/dbeta - x_hat * dL/dgamma)
    """

    def __init__(
        self,
        num_features: int,
        *,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        self.num_features = _checks.positive_int("num_features", num_features)
        self.momentum = _checks.real_in_range("momentum", momentum, 0.0, 1.0)
        self.eps = _checks.real_in_range("eps", eps, 0.0, low_open=True)
        dt = _checks.float_dtype("dtype", dtype)
        self._add_param("gamma", np.ones(self.num_features, dtype=dt))
        self._add_param("beta", np.zeros(self.num_features, dtype=dt))
        self.buffers["running_mean"] = np.zeros(self.num_features, dtype=dt)
        self.buffers["running_var"] = np.ones(self.num_features, dtype=dt)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"x must have shape (N, {self.num_features}) for BatchNorm({self.num_features}), "
                f"got shape {x.shape}"
            )
        n = x.shape[0]
        if self.training:
            if n < 2:
                raise ValueError(
                    "BatchNorm in training mode needs a batch of at least 2 samples to "
                    f"estimate a variance, got a batch of {n} (call eval() for single samples)"
                )
            # Centre on the first sample before averaging: a constant column then has
            # x - x[0] = 0 exactly, so x_hat = 0 and y = beta, whereas mean(x) may be
            # an ulp off, which 1 / sqrt(eps) would blow up (to 0.68 for 9930.077 in float32).
            x_hat = x - x[0]
            shift = x_hat.mean(axis=0)
            x_hat -= shift
            mu = x[0] + shift
            var = np.einsum("nf,nf->f", x_hat, x_hat) / n  # biased, without a squared temporary
            inv_std = 1 / np.sqrt(var + self.eps)
            x_hat *= inv_std
            m = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1 - m
            rm += m * mu
            rv *= 1 - m
            rv += (m * n / (n - 1)) * var
        else:
            inv_std = 1 / np.sqrt(self.buffers["running_var"] + self.eps)
            x_hat = (x - self.buffers["running_mean"]) * inv_std
        self.save_for_backward(x_hat, inv_std, self.training)
        y = x_hat * self.params["gamma"]
        y += self.params["beta"]
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        x_hat, inv_std, batch_stats = self.saved_tensors()
        dbeta, dgamma = self.grads["beta"], self.grads["gamma"]
        np.sum(grad_y, axis=0, out=dbeta)  # dL/dbeta = sum_n g
        np.einsum("nf,nf->f", grad_y, x_hat, out=dgamma)  # dL/dgamma = sum_n g * x_hat
        scale = self.params["gamma"] * inv_std  # dy/dx_hat * dx_hat/dx, statistics fixed
        if not batch_stats:
            return grad_y * scale
        n = grad_y.shape[0]
        # The mean and variance move with x: subtract their share of the gradient.
        grad_x = x_hat * dgamma
        np.subtract(grad_y * n, grad_x, out=grad_x)
        grad_x -= dbeta
        grad_x *= scale / n
        return grad_x

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "momentum": self.momentum,
            "eps": self.eps,
            "dtype": self.params["gamma"].dtype.name,
        }

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps})"


_LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Dense, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Dropout, BatchNorm)
}


def from_config(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from ``{"class": name, "config": {...}}``."""
    name = config.get("class")
    if name not in _LAYERS:
        raise ValueError(f"layer class must be one of {sorted(_LAYERS)}, got {name!r}")
    return _LAYERS[name](**config.get("config", {}))
