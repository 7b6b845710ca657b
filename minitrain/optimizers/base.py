"""Optimizers: update every parameter in place from its gradient.

The contract, sorted in order of increasing complexity (SGD, Adam, AdamW)::

    opt.build(model)    # zero state slots shaped like each param (compile calls it)
    opt.step(model)     # one update of every (key, param, grad) of model.named_parameters()

The update rules are PyTorch's (``torch.optim.SGD``, ``Adam``, ``AdamW``) and the
argument names Keras's. With p a parameter, g its gradient, η the learning rate
of this update, λ the weight decay and t = ``iterations + 1`` the number of the
update being made:

SGD (momentum μ; the buffer b holds gradients, η multiplies only at the update)::

    g ← g + λ p                                  (L2 weight decay, when λ > 0)
    b ← μ b + g                                  (when μ > 0; b starts at 0, so b₁ = g₁)
    d ← g + μ b  with nesterov, else d ← b       (d ← g when μ = 0)
    p ← p - η d

Adam (β₁, β₂, ε; ε is added after the bias correction of v)::

    g ← g + λ p                                  (L2 weight decay, when λ > 0)
    m ← β₁ m + (1 - β₁) g
    v ← β₂ v + (1 - β₂) g²
    p ← p - η / (1 - β₁ᵗ) · m / (sqrt(v) / sqrt(1 - β₂ᵗ) + ε)

AdamW (decoupled weight decay, applied first, scaled by η but not by the moments)::

    p ← p · (1 - η λ)
    then Adam's update without the L2 term.

The learning rate is a float or a schedule ``step -> float`` evaluated at
``iterations`` (the updates already made), so the first update uses
``schedule(0)``. ``iterations`` counts updates; ``_last_lr`` holds the rate the
last update used. State slots have the parameter's dtype (float32 parameters keep
float32 state), are keyed like the model's ``state_dict`` (``"m/0.W"``) and are
saved through ``state_dict`` / ``load_state_dict``. An update writes into the
parameters and the state in place and into preallocated scratch arrays, so a
step allocates nothing shaped like a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from minitrain import schedules
from minitrain._checks import describe, is_real, real_in_range

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "from_config", "get"]

LearningRate = float | Callable[[int], float]


class _HasParameters(Protocol):
    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]: ...


def _rate(name: str, value: object) -> float:
    """A finite real >= 0."""
    return real_in_range(name, value, 0.0, math.inf, high_open=True)


def _check_learning_rate(learning_rate: object) -> LearningRate:
    """A learning rate is a finite float >= 0 or a callable ``step -> float``."""
    if callable(learning_rate):
        return learning_rate  # type: ignore[return-value]
    if not is_real(learning_rate):
        raise TypeError(
            "learning_rate must be a float >= 0 or a schedule step -> float, "
            f"got {describe(learning_rate)}"
        )
    return _rate("learning_rate", learning_rate)


def _learning_rate_at(learning_rate: LearningRate, step: int) -> float:
    """The rate for update number ``step`` (0-based): the float, or the schedule's value."""
    if not callable(learning_rate):
        return learning_rate
    value = learning_rate(step)
    if not is_real(value) or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"learning_rate schedule must return a finite float >= 0, got {describe(value)} "
            f"at step {step}"
        )
    return float(value)


def _signature_of(params: list[tuple[str, np.ndarray, np.ndarray]]) -> tuple:
    """What the state slots depend on: each parameter's key, shape and dtype, in order."""
    return tuple((key, p.shape, p.dtype) for key, p, _ in params)


class Optimizer:
    """Base class: learning rate, counter, state slots and their (de)serialisation.

    A subclass names its state slots in ``_slots()``, its constructor arguments
    in ``_arguments`` (stored under the same names), and implements
    ``_update(p, g, state, work, lr)`` for one parameter.

    Attributes
    ----------
    iterations : int
        Updates made so far.
    """

    _arguments: tuple[str, ...] = ("learning_rate",)

    def __init__(self, learning_rate: LearningRate, weight_decay: float) -> None:
        self._learning_rate = _check_learning_rate(learning_rate)
        self.weight_decay = _rate("weight_decay", weight_decay)
        self.iterations: int = 0
        self._last_lr: float | None = None
        # key -> {slot: array}, key -> scratch arrays; filled by build().
        self._state: dict[str, dict[str, np.ndarray]] = {}
        self._work: dict[str, tuple[np.ndarray, ...]] = {}
        self._signature: tuple[tuple[str, tuple[int, ...], np.dtype], ...] | None = None

    # -- learning rate ---------------------------------------------------------------

    @property
    def learning_rate(self) -> float:
        """The rate the next update will use (a schedule is evaluated at ``iterations``)."""
        return _learning_rate_at(self._learning_rate, self.iterations)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if callable(self._learning_rate):
            # As Keras: a schedule owns the rate, so setting it would be silently undone.
            raise TypeError(
                "learning_rate cannot be set on an optimizer built with a schedule "
                f"({self._learning_rate!r}); build it with a float instead"
            )
        if not is_real(value):
            raise TypeError(f"learning_rate must be a float >= 0, got {describe(value)}")
        self._learning_rate = _rate("learning_rate", value)

    # -- state -----------------------------------------------------------------------

    def _slots(self) -> tuple[str, ...]:
        """Names of the per-parameter state arrays."""
        return ()

    def _num_work(self) -> int:
        """How many scratch arrays shaped like a parameter one update needs."""
        return 1

    def build(self, model: _HasParameters) -> None:
        """Create zero state slots for every parameter of ``model``.

        Idempotent: building again for the same parameters (keys, shapes, dtypes)
        keeps the state; other parameters are a ``ValueError``.
        """
        params = model.named_parameters()
        signature = _signature_of(params)
        if self._signature is not None:
            if signature != self._signature:
                raise ValueError(
                    f"this optimizer was built for the parameters {self._describe_built()}, "
                    f"got {[k for k, _, _ in signature]}; use a new optimizer for another model"
                )
            return
        self._state = {key: {s: np.zeros_like(p) for s in self._slots()} for key, p, _ in params}
        self._work = {
            key: tuple(np.empty_like(p) for _ in range(self._num_work())) for key, p, _ in params
        }
        self._signature = signature

    def _describe_built(self) -> str:
        assert self._signature is not None
        return ", ".join(f"{k} {shape} {dtype}" for k, shape, dtype in self._signature)

    # -- the update ------------------------------------------------------------------

    def step(self, model: _HasParameters) -> None:
        """Apply one update to every parameter from its gradient, then count it."""
        params = model.named_parameters()
        if self._signature is None:
            self.build(model)
        elif _signature_of(params) != self._signature:
            # Checked before any update, so a mismatched model is left untouched.
            raise ValueError(
                f"this optimizer was built for the parameters {self._describe_built()}; "
                "the model's parameters differ"
            )
        lr = _learning_rate_at(self._learning_rate, self.iterations)
        for key, p, g in params:
            self._update(p, g, self._state[key], self._work[key], lr)
        self._last_lr = lr
        self.iterations += 1

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def _l2(self, p: np.ndarray, g: np.ndarray, out: np.ndarray) -> np.ndarray:
        """g + λ p in ``out`` when λ > 0 (the gradient itself is never written), else g."""
        if self.weight_decay == 0.0:
            return g
        np.multiply(p, self.weight_decay, out=out)
        out += g
        return out

    # -- saving ----------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"iterations": 0-d int64, "<slot>/<param key>": array}``, all copies."""
        out = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for key, slots in self._state.items():
            for slot, arr in slots.items():
                out[f"{slot}/{key}"] = arr.copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``state`` in; every key, shape and dtype must match the built slots.

        On any mismatch a ``ValueError`` names the key and nothing changes.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of arrays, got {describe(state)}")
        if self._signature is None and set(state) != {"iterations"}:
            raise ValueError("call build(model) before loading an optimizer's slots")
        # The built slots themselves serve as the reference: no copies made to check.
        expected: dict[str, np.ndarray | None] = {"iterations": None}
        for key, slots in self._state.items():
            for slot, arr in slots.items():
                expected[f"{slot}/{key}"] = arr
        missing = [k for k in expected if k not in state]
        extra = [k for k in state if k not in expected]
        if missing or extra:
            raise ValueError(f"optimizer state keys differ: missing {missing}, unexpected {extra}")
        for key, ref in expected.items():
            arr = state[key]
            if not isinstance(arr, np.ndarray):
                raise TypeError(f"state[{key!r}] must be an array, got {describe(arr)}")
            if key == "iterations":
                if arr.shape != () or arr.dtype.kind not in "iu" or arr < 0:
                    raise ValueError(
                        f"state['iterations'] must be a 0-d int array >= 0, got {describe(arr)}"
                    )
            elif ref is not None and (arr.shape != ref.shape or arr.dtype != ref.dtype):
                raise ValueError(
                    f"state[{key!r}] must have shape {ref.shape} and dtype {ref.dtype}, "
                    f"got {describe(arr)}"
                )
        for key, slots in self._state.items():
            for slot, arr in slots.items():
                np.copyto(arr, state[f"{slot}/{key}"])
        self.iterations = int(state["iterations"])

    def get_config(self) -> dict[str, Any]:
        """``{"class": name, "config": {argument: value}}``, JSON-able.

        A schedule learning rate is stored as its own ``get_config()``; any other
        callable cannot be saved and is a ``ValueError``.
        """
        lr = self._learning_rate
        if isinstance(lr, schedules.Schedule):
            lr_config: float | dict[str, Any] = lr.get_config()
        elif callable(lr):
            raise ValueError(
                f"learning_rate {lr!r} is a callable but not a minitrain Schedule, so it "
                "cannot be saved; use a schedule from minitrain.schedules"
            )
        else:
            lr_config = lr
        config = {name: getattr(self, name) for name in self._arguments[1:]}
        return {"class": type(self).__name__, "config": {"learning_rate": lr_config, **config}}

    def __repr__(self) -> str:
        args = [f"learning_rate={self._learning_rate!r}"]
        args += [f"{name}={getattr(self, name)!r}" for name in self._arguments[1:]]
        return f"{type(self).__name__}({', '.join(args)})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum; PyTorch's rule.

    ::

        g ← g + λ p                              (λ = weight_decay > 0)
        b ← μ b + g                              (μ = momentum > 0)
        d ← g + μ b if nesterov else b           (d ← g when μ = 0)
        p ← p - η d

    Parameters
    ----------
    learning_rate : float or callable, default 0.01
        η >= 0, or a schedule ``step -> float``.
    momentum : float, default 0.0
        μ in [0, 1). Slot ``"momentum"`` exists only when μ > 0.
    nesterov : bool, default False
        Nesterov momentum; needs μ > 0 (as PyTorch).
    weight_decay : float, default 0.0
        λ >= 0, L2 penalty added to the gradient.
    """

    _arguments = ("learning_rate", "momentum", "nesterov", "weight_decay")

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        momentum = real_in_range("momentum", momentum, 0.0, 1.0, high_open=True)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool, got {describe(nesterov)}")
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")
        super().__init__(learning_rate, weight_decay)
        self.momentum = momentum
        self.nesterov = nesterov

    def _slots(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum > 0.0 else ()

    def _num_work(self) -> int:
        return 2  # one for g + λp, one for η·d

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        g = self._l2(p, g, work[0])
        step = work[1]
        if self.momentum > 0.0:
            b = state["momentum"]
            b *= self.momentum
            b += g
            if self.nesterov:
                np.multiply(b, self.momentum, out=step)
                step += g
                step *= lr
            else:
                np.multiply(b, lr, out=step)
        else:
            np.multiply(g, lr, out=step)
        p -= step


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with PyTorch's rule: ε after the bias correction.

    ::

        g ← g + λ p                              (λ = weight_decay > 0, L2)
        m ← β₁ m + (1 - β₁) g
        v ← β₂ v + (1 - β₂) g²
        p ← p - η / (1 - β₁ᵗ) · m / (sqrt(v) / sqrt(1 - β₂ᵗ) + ε)

    with t = ``iterations + 1``, the number of the update being made.

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        η >= 0, or a schedule ``step -> float``.
    beta_1, beta_2 : float, default 0.9 and 0.999
        Decay rates of the first and second moments, in [0, 1).
    epsilon : float, default 1e-8
        ε > 0.
    weight_decay : float, default 0.0
        λ >= 0, L2 penalty added to the gradient (see AdamW for the decoupled kind).
    """

    _arguments = ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        beta_1 = real_in_range("beta_1", beta_1, 0.0, 1.0, high_open=True)
        beta_2 = real_in_range("beta_2", beta_2, 0.0, 1.0, high_open=True)
        epsilon = real_in_range("epsilon", epsilon, 0.0, math.inf, low_open=True, high_open=True)
        super().__init__(learning_rate, weight_decay)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _slots(self) -> tuple[str, ...]:
        return ("m", "v")

    def _num_work(self) -> int:
        return 2  # one for g + λp, one for the step

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        self._adam(p, self._l2(p, g, work[0]), state, work[1], lr)

    def _adam(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], w: np.ndarray, lr: float
    ) -> None:
        """The moment updates and the step, with ``w`` as scratch."""
        t = self.iterations + 1
        b1, b2 = self.beta_1, self.beta_2
        m, v = state["m"], state["v"]
        np.multiply(g, 1.0 - b1, out=w)  # m ← β₁ m + (1 - β₁) g
        m *= b1
        m += w
        np.multiply(g, g, out=w)  # v ← β₂ v + (1 - β₂) g²
        w *= 1.0 - b2
        v *= b2
        v += w
        np.sqrt(v, out=w)  # denominator: sqrt(v̂) + ε, with v̂ = v / (1 - β₂ᵗ)
        w /= math.sqrt(1.0 - b2**t)
        w += self.epsilon
        np.divide(m, w, out=w)  # m̂ / (sqrt(v̂) + ε), with m̂ = m / (1 - β₁ᵗ)
        w *= lr / (1.0 - b1**t)
        p -= w


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019); PyTorch's rule.

    ::

        p ← p · (1 - η λ)                        (before the moments see g)
        then Adam's update with g unchanged (no L2 term)

    The decay shrinks p by the same fraction whatever the gradient's scale,
    unlike L2, whose term Adam divides by sqrt(v̂).

    Parameters
    ----------
    learning_rate : float or callable, default 0.001
        η >= 0, or a schedule ``step -> float``.
    beta_1, beta_2 : float, default 0.9 and 0.999
        Decay rates of the first and second moments, in [0, 1).
    epsilon : float, default 1e-8
        ε > 0.
    weight_decay : float, default 0.01
        λ >= 0, the decoupled decay rate.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay)

    def _num_work(self) -> int:
        return 1  # no L2 gradient to hold

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        state: dict[str, np.ndarray],
        work: tuple[np.ndarray, ...],
        lr: float,
    ) -> None:
        if self.weight_decay > 0.0:
            p *= 1.0 - lr * self.weight_decay
        self._adam(p, g, state, work[0], lr)


_OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def from_config(config: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer (without its state) from ``get_config()``'s output."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise TypeError(
            f'config must be a dict {{"class": name, "config": {{...}}}}, got {describe(config)}'
        )
    classes = {cls.__name__: cls for cls in _OPTIMIZERS.values()}
    name = config.get("class")
    if name not in classes:
        listed = ", ".join(repr(n) for n in classes)
        raise ValueError(f"config['class'] must be one of {listed}, got {name!r}")
    kwargs = dict(config["config"])
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = schedules.from_config(kwargs["learning_rate"])
    return classes[name](**kwargs)


def get(identifier: str | Optimizer) -> Optimizer:
    """An optimizer from a name (``"sgd"``, ``"adam"``, ``"adamw"``, any case) with its
    defaults, or the given ``Optimizer`` itself."""
    if isinstance(identifier, Optimizer):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            f"optimizer must be an Optimizer or one of 'sgd', 'adam', 'adamw', "
            f"got {describe(identifier)}"
        )
    cls = _OPTIMIZERS.get(identifier.lower())
    if cls is None:
        listed = ", ".join(repr(n) for n in _OPTIMIZERS)
        raise ValueError(f"optimizer must be one of {listed}, got {identifier!r}")
    return cls()
