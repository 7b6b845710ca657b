"""Check hand-written backward passes against finite differences.

The contract
------------
``gradcheck(model_or_layer, x, *, eps=1e-6) -> float`` compares the gradient
that ``backward`` computes with one measured from ``forward`` alone, for the
input and for every parameter, and returns the largest relative error. A
correct backward gives about ``1e-10``; a wrong one gives something of order 1.

What is differentiated
----------------------
A layer maps ``x`` to a whole array ``y``, so the check needs a scalar. It uses
``f(x) = sum(forward(x) * R)`` for a fixed random ``R`` of the shape of ``y``
(seeded, so the check is repeatable). Then ``df/dy = R``: one call of
``backward(R)`` gives the analytic ``df/dx`` and ``df/dparam``. A random ``R``
weighs every output differently, so no error can hide behind a symmetry (with
``R = 1``, ``f`` of a Softmax is the constant ``N``, since its rows sum to 1;
its true gradient is zero, and a backward with its sign flipped would pass).

Central differences
-------------------
Each entry ``theta`` of the input or of a parameter is nudged both ways::

    df/dtheta ~ (f(theta + eps) - f(theta - eps)) / (2 * eps)

The one-sided quotient ``(f(theta + eps) - f(theta)) / eps`` is off by
``O(eps)``; the symmetric one by only ``O(eps**2)``, because the even terms of
the Taylor series cancel. It costs two forwards per entry, so keep the inputs
and layers small. Near a kink (ReLU at 0) the quotient straddles two slopes:
keep every input further than ``eps`` from one.

Why float64
-----------
The quotient divides a difference of two nearly equal numbers by ``2 * eps``,
so the rounding error of ``f``, about ``machine_eps * |f|``, is magnified by
``1 / eps``. In float64 (``machine_eps ~ 1e-16``) with ``eps = 1e-6`` that is
about ``1e-10``, next to a truncation error of about ``eps**2 = 1e-12``. In
float32 (``machine_eps ~ 1e-7``) no ``eps`` makes both small. So the check runs
on a float64 deep copy of the model (params, grads and buffers cast); the model
itself is never touched: its params, buffers, generators and train/eval mode
are exactly as they were.

Why this relative error
-----------------------
The result is::

    max |analytic - numeric| / max(|analytic| + |numeric|, 1e-12)

with both maxima taken over every entry of the input gradient and of all the
parameter gradients together. Dividing by the size of the gradient makes the
number independent of the scale of the problem (doubling ``R`` changes
nothing), so one threshold fits every layer. Taking the maxima over all entries
rather than entry by entry keeps a gradient that is truly zero (a Dense bias
followed by BatchNorm, whose mean subtraction cancels it) from dividing
rounding noise by rounding noise. ``1e-12`` only avoids ``0 / 0`` when every gradient vanishes.

Layers with side effects
------------------------
Every evaluation of ``f`` must see the same function. So, in the copy, the
buffers and the state of every random generator are put back before every
forward: BatchNorm's running statistics (which a training-mode forward
updates) start each forward alike, and Dropout in training mode draws the very
same mask each time, so the check is of ``y = x * mask`` for that fixed mask.
A Dropout without a generator of its own gets a seeded one in the copy.
Training-mode BatchNorm is checked with its batch statistics, as it trains.

A model is anything with ``.layers`` (a ``Sequential``): its layers run forward
in order and backward in reverse. Anything else is treated as a single layer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _checks
from .grad_mode import enable_grad, no_grad

__all__ = ["gradcheck"]

_SEED = 0  # of R and of the generators given to unseeded layers in the copy


def gradcheck(model_or_layer: Any, x: np.ndarray, *, eps: float = 1e-6) -> float:
    """Largest relative error between ``backward`` and central differences.

    Parameters
    ----------
    model_or_layer : Layer or model with ``.layers``
        Checked as it is (training or eval mode), through a float64 deep copy;
        the object itself is left exactly as it was.
    x : ndarray of shape (N, F_in), any float dtype
        The point at which the gradients are taken (cast to a float64 copy).
    eps : float
        Step of the central differences.

    Returns
    -------
    float
        ``max |a - n| / max(|a| + |n|, 1e-12)`` over every entry ``a`` of the
        analytic gradients (input and all params) and ``n`` of the numeric ones.
        Below ``1e-7`` for a correct backward.

    Examples
    --------
    >>> from minitrain.layers import Dense
    >>> x = np.random.default_rng(0).standard_normal((4, 3))
    >>> gradcheck(Dense(3, 2, seed=0), x) < 1e-7
    True
    """
    layers = _layers_of(model_or_layer)
    _checks.array_2d("x", x)
    if x.dtype.kind != "f":
        raise TypeError(f"x must be a float array, got dtype {x.dtype}")
    _checks.finite("x", x)
    eps = _checks.real_in_range("eps", eps, 0.0, low_open=True)
    x = np.array(x, dtype=np.float64)  # a copy: perturbed in place below
    layers = _float64_copy(layers)
    restore = _state_restorer(layers)

    # Analytic: one forward, then one backward with df/dy = R.
    with enable_grad():  # works even when called under no_grad
        y = _forward(layers, x, restore)
        r = np.random.default_rng(_SEED).standard_normal(y.shape)
        grad = r
        for layer in reversed(layers):
            grad = layer.backward(grad)
    analytic = [grad] + [layer.grads[k].copy() for layer, k in _param_keys(layers)]

    # Numeric: nudge every entry of x and of each param both ways, then put it back.
    def f() -> float:
        with no_grad():  # only the value is needed
            return float(np.sum(_forward(layers, x, restore) * r))

    targets = [x] + [layer.params[k] for layer, k in _param_keys(layers)]
    numeric = [_central_differences(f, t, eps) for t in targets]

    # Both maxima over every entry of every gradient at once (see the module docstring).
    a = np.concatenate([g.ravel() for g in analytic])
    n = np.concatenate([g.ravel() for g in numeric])
    return float(np.max(np.abs(a - n)) / max(np.max(np.abs(a) + np.abs(n)), 1e-12))


def _layers_of(obj: Any) -> list[Any]:
    """The layers to run: ``obj.layers`` for a model, ``[obj]`` for a layer."""
    layers = list(obj.layers) if hasattr(obj, "layers") else [obj]
    for layer in layers:
        if not all(hasattr(layer, a) for a in ("params", "grads", "buffers", "backward")):
            raise TypeError(
                "model_or_layer must be a Layer or a model with .layers, got "
                f"{_checks.describe(layer)}"
            )
    if not layers:
        raise ValueError("model_or_layer must hold at least one layer, got none")
    return layers


def _float64_copy(layers: list[Any]) -> list[Any]:
    """Deep-copy the layers (one call, so shared generators stay shared) in float64."""
    layers = copy.deepcopy(layers)
    for layer in layers:
        for store in (layer.params, layer.grads, layer.buffers):
            for k in store:
                store[k] = store[k].astype(np.float64)
    return layers


def _state_restorer(layers: list[Any]) -> Callable[[], None]:
    """Snapshot the copy's buffers and generators; return a function putting them back."""
    generators: dict[int, tuple[np.random.Generator, dict[str, Any]]] = {}
    for layer in layers:
        if hasattr(layer, "rng") and layer.rng is None:  # would draw fresh entropy
            layer.rng = np.random.default_rng(_SEED)
        for value in vars(layer).values():
            if isinstance(value, np.random.Generator):
                generators[id(value)] = (value, copy.deepcopy(value.bit_generator.state))
    buffers = [(layer.buffers, k, v.copy()) for layer in layers for k, v in layer.buffers.items()]

    def restore() -> None:
        for gen, state in generators.values():
            gen.bit_generator.state = state
        for store, k, value in buffers:
            store[k][...] = value

    return restore


def _forward(layers: list[Any], x: np.ndarray, restore: Callable[[], None]) -> np.ndarray:
    restore()  # every evaluation sees the same buffers and the same Dropout masks
    for layer in layers:
        x = layer.forward(x)
    return x


def _param_keys(layers: list[Any]) -> Iterator[tuple[Any, str]]:
    for layer in layers:
        for k in layer.params:
            yield layer, k


def _central_differences(f: Callable[[], float], target: np.ndarray, eps: float) -> np.ndarray:
    """``(f(t + eps) - f(t - eps)) / (2 eps)`` for every entry ``t`` of ``target``.

    ``target`` is the input or a parameter of the copy, which ``f`` reads; it
    is perturbed in place and restored bit for bit after each entry. One entry
    at a time, so ``2 * target.size`` forwards: small inputs and layers only.
    """
    grad = np.empty_like(target)
    for idx in np.ndindex(target.shape):
        old = target[idx]
        target[idx] = old + eps
        f_plus = f()
        target[idx] = old - eps
        f_minus = f()
        target[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
