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
on float64 copies of the params, grads and buffers.

The very objects given
----------------------
The check runs the layers it is given, not copies of them: a layer whose
``backward`` (or ``forward``) was replaced on the instance, say by a student
trying their own, is checked with that method, even when it refers to the
layer by name. For the time of the check, each layer (and each layer held in
one of its attributes, like ``Dense.activation``) holds float64 copies of its
arrays in its dicts; afterwards everything is put back: the very same arrays,
untouched, in ``params``, ``grads`` and ``buffers``, every attribute of the
instance (cache, mode, counters) as it was, and the state of every generator.
So the float32 model itself is never cast, and nothing of the check remains.

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
Every evaluation of ``f`` must see the same function. So the buffers and the
state of every random generator are put back before every
forward: BatchNorm's running statistics (which a training-mode forward
updates) start each forward alike, and Dropout in training mode draws the very
same mask each time, so the check is of ``y = x * mask`` for that fixed mask.
A Dropout without a generator gets a seeded one for the time of the check.
Training-mode BatchNorm is checked with its batch statistics, as it trains.

A model is anything with ``.layers`` (a ``Sequential``): its layers run forward
in order and backward in reverse. Anything else is treated as a single layer.
Every layer must be built (a lazy ``Dense(units)`` builds at its first forward
or with ``build(in_features)``).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import _checks
from .grad_mode import enable_grad, no_grad

__all__ = ["gradcheck"]

_SEED = 0  # of R and of the generators given to unseeded layers for the check


def gradcheck(model_or_layer: Any, x: np.ndarray, *, eps: float = 1e-6) -> float:
    """Largest relative error between ``backward`` and central differences.

    Parameters
    ----------
    model_or_layer : Layer or model with ``.layers``
        Checked as it is (training or eval mode, methods replaced on an instance
        included), in float64; it is left exactly as it was.
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
    with _in_float64(layers):
        return _check(layers, x, eps)


def _check(layers: list[Any], x: np.ndarray, eps: float) -> float:
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
        if not getattr(layer, "built", True):
            raise ValueError(
                f"model_or_layer must be built before gradcheck, but {layer!r} is not: "
                "call build(in_features) or run one forward first"
            )
    if not layers:
        raise ValueError("model_or_layer must hold at least one layer, got none")
    return layers


def _objects(layers: list[Any]) -> list[Any]:
    """The layers and every layer held in their attributes (``Dense.activation``), once each."""
    found: dict[int, Any] = {}
    todo = list(layers)
    while todo:
        obj = todo.pop()
        if id(obj) in found:
            continue
        found[id(obj)] = obj
        todo.extend(
            v for v in vars(obj).values() if hasattr(v, "params") and hasattr(v, "backward")
        )
    return list(found.values())


@contextlib.contextmanager
def _in_float64(layers: list[Any]) -> Iterator[None]:
    """Give each layer float64 copies of its arrays; afterwards put back every attribute,
    the original arrays and the state of every generator, as they were."""
    objects = _objects(layers)
    attributes = [(obj, dict(vars(obj))) for obj in objects]
    stores = [
        (store, dict(store))
        for obj in objects
        for name in ("params", "grads", "buffers")
        if isinstance(store := getattr(obj, name, None), dict)
    ]
    generators = {
        id(v): (v, copy.deepcopy(v.bit_generator.state))
        for obj in objects
        for v in vars(obj).values()
        if isinstance(v, np.random.Generator)
    }
    try:
        for store, arrays in stores:
            for k, v in arrays.items():
                store[k] = np.array(v, dtype=np.float64)  # always a copy: v stays untouched
        yield
    finally:
        for store, arrays in stores:
            store.clear()
            store.update(arrays)
        for obj, attrs in attributes:
            vars(obj).clear()
            vars(obj).update(attrs)
        for gen, state in generators.values():
            gen.bit_generator.state = state


def _state_restorer(layers: list[Any]) -> Callable[[], None]:
    """Snapshot the buffers and generators; return a function putting them back."""
    objects = _objects(layers)
    for obj in objects:
        if hasattr(obj, "rng") and obj.rng is None:  # would draw fresh entropy
            obj.rng = np.random.default_rng(_SEED)
    generators: dict[int, tuple[np.random.Generator, dict[str, Any]]] = {}
    for obj in objects:
        for value in vars(obj).values():
            if isinstance(value, np.random.Generator):
                generators[id(value)] = (value, copy.deepcopy(value.bit_generator.state))
    buffers = [
        (obj.buffers, k, v.copy())
        for obj in objects
        for k, v in getattr(obj, "buffers", {}).items()
    ]

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
