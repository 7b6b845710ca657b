"""The Layer protocol and the cache rule, shared by every layer.

The Layer protocol
------------------
Every layer holds three dicts and one flag:

- ``params``   trainable arrays (``Dense.W``, ``BatchNorm.gamma``, ...);
- ``grads``    same keys, shapes and dtype as ``params``, zero from construction;
- ``buffers``  non-trainable state (the batch norms' running statistics);
- ``training`` True after construction; only Dropout and the batch norms read it.

``forward(x, training=None) -> y`` (also ``layer(x, training=None)``) maps a batch
of shape ``(N, F_in)`` to ``(N, F_out)``. ``training=None`` uses ``self.training``;
``True``/``False`` override it for this call only and never write the flag (Keras's
``call(x, training=...)``), so several threads may run ``forward(x, training=False)``
under ``no_grad`` on one layer at once. ``backward(grad_y) -> grad_x`` takes
``dL/dy`` of shape ``(N, F_out)``, *overwrites* ``grads`` with ``dL/dparam`` and
returns ``dL/dx``. Neither ever modifies the array it is given. A new layer
subclasses ``Layer`` and writes ``forward(self, x, training=None)`` (models pass
the mode to every layer) and ``backward(self, grad_y)``.

Building
--------
A layer with parameters may be created before its input width is known
(``Dense(64)``). Until ``build(in_features, rng=None)`` runs (or the first
``forward``, which builds from the batch's width), ``built`` is False and
``params`` is empty. A layer with a ``seed`` of its own draws from that; otherwise
from ``rng`` (the model's), otherwise from a fresh generator. ``input_width`` is
the width a built layer requires (None when any width will do) and
``output_width(in_width)`` the width it returns. ``min_training_batch`` is the
smallest batch a training-mode forward accepts (1; 2 for ``BatchNorm``).

Weights
-------
``get_weights()`` returns copies of the params then the buffers, in Keras order
(Dense ``[W, b]``); ``set_weights(list)`` checks the count, every shape and every
dtype before it writes anything. ``get_config()`` returns JSON-able constructor
arguments; ``minitrain.layers.from_config`` rebuilds the layer from them.

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

from .. import _checks
from ..grad_mode import is_grad_enabled

__all__ = ["Layer"]


def check_weight(where: str, target: np.ndarray, value: object) -> None:
    """Refuse ``value`` unless it is an array of ``target``'s shape and dtype."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{where} must be a NumPy array of shape {target.shape} and dtype "
            f"{target.dtype}, got {_checks.describe(value)}"
        )
    if value.shape != target.shape or value.dtype != target.dtype:
        raise ValueError(
            f"{where} must have shape {target.shape} and dtype {target.dtype}, "
            f"got shape {value.shape} and dtype {value.dtype}"
        )


class Layer:
    """Base class: the three dicts, the training flag and the activation cache."""

    #: The smallest batch a training-mode forward accepts.
    min_training_batch: int = 1

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training: bool = True
        self.built: bool = True  # layers with parameters set it False until built
        self._saved: tuple[Any, ...] | None = None

    def __call__(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        return self.forward(x, training)

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _mode(self, training: bool | None) -> bool:
        """The mode of one call: the flag unless ``training`` overrides it."""
        return self.training if training is None else bool(training)

    def train(self, mode: bool = True) -> Layer:
        """Set ``training`` to ``mode`` and return the layer, as PyTorch's ``Module.train``."""
        if not isinstance(mode, bool | np.bool_):
            raise TypeError(f"mode must be a bool, got {_checks.describe(mode)}")
        self.training = bool(mode)
        return self

    def eval(self) -> Layer:
        """``train(False)``: eval mode for this layer, as PyTorch's ``Module.eval``."""
        return self.train(False)

    # ------------------------------------------------------------- the cache

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep what backward needs, unless grad mode is off (then keep nothing)."""
        self._saved = tensors if is_grad_enabled() else None

    def saved_tensors(self) -> tuple[Any, ...]:
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward needs the cache of a forward pass, but there "
                "is none: the last forward ran under no_grad() (or none ran). Run the forward "
                "outside no_grad() before calling backward."
            )
        return saved

    def _add_param(self, name: str, value: np.ndarray) -> None:
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    # -------------------------------------------------------------- building

    def build(self, in_features: int, rng: np.random.Generator | None = None) -> None:
        """Allocate the parameters for inputs of width ``in_features`` (no-op here)."""
        _checks.positive_int("in_features", in_features)

    @property
    def input_width(self) -> int | None:
        """The input width this layer requires, or None when any width will do."""
        return None

    def output_width(self, in_width: int) -> int:
        """Width of the output for an input of width ``in_width``."""
        return in_width

    # --------------------------------------------------------------- weights

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the params, then the buffers, in the order they were created."""
        return [a.copy() for a in (*self.params.values(), *self.buffers.values())]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Copy ``weights`` (the order of ``get_weights``) into the params and buffers.

        The count, every shape and every dtype are checked before anything is
        written, so a refused call leaves the layer as it was.
        """
        names = [*self.params, *self.buffers]
        targets = [*self.params.values(), *self.buffers.values()]
        what = f"{type(self).__name__}.set_weights"
        if not isinstance(weights, list | tuple):
            raise TypeError(
                f"weights must be a list of {len(targets)} arrays for {what}, "
                f"got {_checks.describe(weights)}"
            )
        if len(weights) != len(targets):
            built = "" if self.built else " (the layer is not built yet)"
            raise ValueError(
                f"weights must hold {len(targets)} arrays {names} for {what}{built}, "
                f"got {len(weights)}"
            )
        for i, (name, target, value) in enumerate(zip(names, targets, weights, strict=True)):
            check_weight(f"weights[{i}] ({name})", target, value)
        for target, value in zip(targets, weights, strict=True):
            np.copyto(target, value)

    # ---------------------------------------------------------------- config

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able, so the layer can be rebuilt."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def generator(seed: int | np.random.Generator | None, name: str = "seed") -> np.random.Generator:
    """A generator from an int seed, a Generator (used as it is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    check_seed(seed, name)
    return np.random.default_rng(seed)


def check_seed(seed: object, name: str = "seed") -> None:
    if seed is not None and not isinstance(seed, np.random.Generator) and not _checks.is_int(seed):
        raise TypeError(
            f"{name} must be an int, a numpy Generator or None, got {_checks.describe(seed)}"
        )
