"""Batch normalisation: PyTorch's convention (``BatchNorm``) and Keras's (``BatchNormalization``).

Both normalise each feature over the batch in training mode and with running
statistics in eval mode, with the same forward and backward arithmetic. They
differ in how the running statistics move and in their names:

================  ===================================  ===================================
..                ``BatchNorm`` (PyTorch)              ``BatchNormalization`` (Keras 3)
================  ===================================  ===================================
update            ``r = (1 - m) * r + m * batch``      ``r = m * r + (1 - m) * batch``
default momentum  0.1                                  0.99 (the same average as 0.01)
running variance  unbiased (times ``N / (N - 1)``)     biased (the one that normalised)
epsilon           ``eps=1e-5``                         ``epsilon=1e-3``
batch of one      refused in training mode             allowed (``y = beta``)
buffers           ``running_mean``, ``running_var``    ``moving_mean``, ``moving_variance``
================  ===================================  ===================================

The mode of a call is ``training`` unless its ``training=`` overrides it; under
``no_grad`` a layer in training mode still uses and updates batch statistics,
as in PyTorch and Keras.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _checks
from ..grad_mode import is_grad_enabled
from .base import Layer

__all__ = ["BatchNorm", "BatchNormalization"]


class _Normalization(Layer):
    """The arithmetic both batch norms share: batch statistics, forward tail, backward.

    Training mode, for ``x`` of shape ``(N, F)``::

        mu      = mean_n x                     (F,)
        var     = mean_n (x - mu)**2           (F,)  biased: normalises the batch
        inv_std = 1 / sqrt(var + eps)          (F,)
        x_hat   = (x - mu) * inv_std           (N, F)
        y       = gamma * x_hat + beta         (N, F)

    Eval mode: ``x_hat = (x - running_mean) / sqrt(running_var + eps)``.

    Backward, with ``g = dL/dy``. In eval mode the statistics are constants,
    so ``dL/dx = g * gamma * inv_std``. In training mode ``mu`` and ``var``
    depend on every sample, which adds two terms::

        dL/dbeta  = sum_n g
        dL/dgamma = sum_n g * x_hat
        dL/dx     = gamma * inv_std / N * (N * g - dL/dbeta - x_hat * dL/dgamma)
    """

    num_features: int | None

    def _allocate(self, num_features: int, dtype: np.dtype, mean: str, var: str) -> None:
        self._add_param("gamma", np.ones(num_features, dtype=dtype))
        self._add_param("beta", np.zeros(num_features, dtype=dtype))
        self.buffers[mean] = np.zeros(num_features, dtype=dtype)
        self.buffers[var] = np.ones(num_features, dtype=dtype)

    def _check_x(self, x: np.ndarray) -> None:
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"x must have shape (N, {self.num_features}) for "
                f"{type(self).__name__}({self.num_features}), got shape {x.shape}"
            )

    @staticmethod
    def _batch_statistics(
        x: np.ndarray, eps: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(x_hat, mu, var, inv_std)`` of a training batch, ``var`` biased."""
        n = x.shape[0]
        # Centre on the first sample before averaging: a constant column then has
        # x - x[0] = 0 exactly, so x_hat = 0 and y = beta, whereas mean(x) may be
        # an ulp off, which 1 / sqrt(eps) would blow up (to 0.68 for 9930.077 in float32).
        x_hat = x - x[0]
        # Column sums as a matrix-vector product (ones @ x): BLAS's gemv is about twice
        # as fast as NumPy's reduction over axis 0.
        shift = np.ones(n, dtype=x.dtype) @ x_hat
        shift /= n
        x_hat -= shift
        mu = x[0] + shift
        var = np.einsum("nf,nf->f", x_hat, x_hat) / n  # biased, without a squared temporary
        inv_std = 1 / np.sqrt(var + eps)
        x_hat *= inv_std
        return x_hat, mu, var, inv_std

    def _eval_forward(
        self, x: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: float
    ) -> np.ndarray:
        """Eval mode with the statistics folded into one scale and one shift, as PyTorch's
        inference kernel: ``y = x * a + (beta - mean * a)`` with ``a = gamma * inv_std``,
        two passes over ``x`` instead of four. ``x_hat``, which only ``dL/dgamma`` needs,
        is computed only when the cache is kept (not under ``no_grad``)."""
        inv_std = 1 / np.sqrt(var + eps)
        a = self.params["gamma"] * inv_std
        y = x * a
        y += self.params["beta"] - mean * a
        x_hat = None
        if is_grad_enabled():
            x_hat = x - mean
            x_hat *= inv_std  # in place: one batch-sized array besides y
        self.save_for_backward(x_hat, inv_std, False)
        return y

    def _scale_and_shift(self, x_hat: np.ndarray) -> np.ndarray:
        y = x_hat * self.params["gamma"]
        y += self.params["beta"]
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        x_hat, inv_std, batch_stats = self.saved_tensors()
        dbeta, dgamma = self.grads["beta"], self.grads["gamma"]
        np.matmul(np.ones(len(grad_y), grad_y.dtype), grad_y, out=dbeta)  # dL/dbeta = sum_n g
        np.einsum("nf,nf->f", grad_y, x_hat, out=dgamma)  # dL/dgamma = sum_n g * x_hat
        scale = self.params["gamma"] * inv_std  # dy/dx_hat * dx_hat/dx, statistics fixed
        if not batch_stats:
            return grad_y * scale
        n = grad_y.shape[0]
        # The mean and variance move with x: subtract their share of the gradient,
        # written scale * (g - dL/dbeta / N - x_hat * dL/dgamma / N) to need one temporary.
        grad_x = x_hat * (dgamma / n)
        np.subtract(grad_y, grad_x, out=grad_x)
        grad_x -= dbeta / n
        grad_x *= scale
        return grad_x

    @property
    def input_width(self) -> int | None:
        return self.num_features

    def build(self, in_features: int, rng: np.random.Generator | None = None) -> None:
        in_features = _checks.positive_int("in_features", in_features)
        if self.num_features is not None and in_features != self.num_features:
            raise ValueError(
                f"in_features must be {self.num_features}: {type(self).__name__}"
                f"({self.num_features}) normalises {self.num_features} features, got {in_features}"
            )


class BatchNorm(_Normalization):
    """Batch normalisation with PyTorch ``BatchNorm1d`` conventions.

    Training mode (``N >= 2``) normalises with the batch statistics (see the
    equations of ``_Normalization``) and updates::

        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)

    (the running variance takes the unbiased estimate), and counts the update in
    ``num_batches_tracked``, as PyTorch. Eval mode uses the running statistics.
    ``momentum > 0.5`` warns: that is Keras's convention read the PyTorch way
    (Keras's 0.99 is ``momentum=0.01`` here; ``BatchNormalization`` takes it as is).
    A training batch of one sample is refused (``ValueError``) and changes nothing.
    """

    min_training_batch = 2

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
        if self.momentum > 0.5:
            warnings.warn(
                f"BatchNorm(momentum={self.momentum}) weights each new batch by "
                f"{self.momentum}: PyTorch's convention, running = (1 - momentum) * running + "
                f"momentum * batch. Keras's momentum={self.momentum} is "
                f"momentum={1 - self.momentum:.6g} here; or use BatchNormalization, the "
                "Keras layer, which takes Keras's value",
                UserWarning,
                stacklevel=_checks.caller_stacklevel(),  # the user's line, even through MLP
            )
        dt = _checks.float_dtype("dtype", dtype)
        self.num_batches_tracked: int = 0
        self._allocate(self.num_features, dt, "running_mean", "running_var")

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        self._check_x(x)
        n = x.shape[0]
        batch_stats = self._mode(training)
        if batch_stats:
            if n < 2:
                raise ValueError(
                    "BatchNorm in training mode needs a batch of at least 2 samples to "
                    f"estimate a variance, got a batch of {n} (call eval() for single samples)"
                )
            x_hat, mu, var, inv_std = self._batch_statistics(x, self.eps)
            m = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1 - m
            rm += m * mu
            rv *= 1 - m
            rv += (m * n / (n - 1)) * var
            self.num_batches_tracked += 1
            self.save_for_backward(x_hat, inv_std, True)
            return self._scale_and_shift(x_hat)
        return self._eval_forward(
            x, self.buffers["running_mean"], self.buffers["running_var"], self.eps
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "momentum": self.momentum,
            "eps": self.eps,
            "dtype": self.params["gamma"].dtype.name,
        }

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps})"


class BatchNormalization(_Normalization):
    """Batch normalisation exactly as Keras 3's ``BatchNormalization`` (on 2-D inputs).

    Training mode normalises with the batch statistics (see the equations of
    ``_Normalization``), a batch of one included (its variance is 0, so
    ``y = beta``), and updates, with the *biased* batch variance::

        moving_mean     = momentum * moving_mean     + (1 - momentum) * mu
        moving_variance = momentum * moving_variance + (1 - momentum) * var

    Eval mode uses ``moving_mean`` and ``moving_variance``. Without
    ``num_features`` the layer builds from its first input's width.

    Keras computes the batch variance as ``E[x**2] - E[x]**2``; this layer takes
    the mean of the squared deviations, which is the same number up to rounding
    and exact on a constant feature (``y = beta`` there, where Keras's rounding
    noise is divided by ``sqrt(epsilon)``).
    """

    def __init__(
        self,
        num_features: int | None = None,
        *,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        self.momentum = _checks.real_in_range("momentum", momentum, 0.0, 1.0)
        self.epsilon = _checks.real_in_range("epsilon", epsilon, 0.0, low_open=True)
        self.dtype = _checks.float_dtype("dtype", dtype)
        self.num_features: int | None = None
        self.built = False
        if num_features is not None:
            self.build(_checks.positive_int("num_features", num_features))

    def build(self, in_features: int, rng: np.random.Generator | None = None) -> None:
        """Allocate ``gamma`` = 1, ``beta`` = 0 and the moving statistics for ``in_features``."""
        super().build(in_features, rng)  # checks against an earlier width
        if self.built:
            return
        self.num_features = int(in_features)
        self._allocate(self.num_features, self.dtype, "moving_mean", "moving_variance")
        self.built = True

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        if not self.built and x.ndim == 2:
            self.build(x.shape[1])
        self._check_x(x)
        batch_stats = self._mode(training)
        if batch_stats:
            x_hat, mu, var, inv_std = self._batch_statistics(x, self.epsilon)
            m = self.momentum
            mm, mv = self.buffers["moving_mean"], self.buffers["moving_variance"]
            mm *= m
            mm += (1.0 - m) * mu
            mv *= m
            mv += (1.0 - m) * var
            self.save_for_backward(x_hat, inv_std, True)
            return self._scale_and_shift(x_hat)
        return self._eval_forward(
            x, self.buffers["moving_mean"], self.buffers["moving_variance"], self.epsilon
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        size = "" if self.num_features is None else f"{self.num_features}, "
        return f"BatchNormalization({size}momentum={self.momentum}, epsilon={self.epsilon})"
