"""The optimizer base class: learning rate, counter, state slots, clipping, saving.

An optimizer updates every parameter in place from its gradient::

    opt.build(model)    # state slots shaped like each param (compile calls it)
    opt.step(model)     # one update of every (key, param, grad) of model._param_slots()

``model`` is anything with a ``_param_slots()`` method returning ``(key, param,
grad)`` triples, keyed like the model's ``state_dict`` (``"0.W"``). One step is::

    η ← learning_rate, or schedule(iterations)   (the first update uses schedule(0))
    g ← clip(g)                                   (clipnorm, clipvalue or global_clipnorm)
    p ← update(p, g, state, η)                    (the subclass's rule, weight decay included)
    iterations ← iterations + 1

A subclass names its state slots in ``_slots()``, how many scratch arrays its
update needs in ``_num_work()``, its constructor arguments in ``_arguments``
(stored as attributes under the same names) and implements ``_update(p, g, state,
work, lr)`` for one parameter. State slots have the parameter's dtype (float32
parameters keep float32 state) and are saved as ``"<slot>/<param key>"``
(``"m/0.W"``). An update writes into the parameter, its state and preallocated
scratch arrays, never into the gradient, so a step allocates nothing shaped like
a parameter.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from minitrain import schedules
from minitrain._checks import describe, is_real, real_in_range
from minitrain.optimizers import clipping

LearningRate = float | Callable[[int], float]
Slots = list[tuple[str, np.ndarray, np.ndarray]]

# The clipping arguments every optimizer takes, in Keras's order.
CLIP_ARGUMENTS = ("clipnorm", "clipvalue", "global_clipnorm")


class HasParamSlots(Protocol):
    def _param_slots(self) -> Slots: ...


def non_negative(name: str, value: object) -> float:
    """A finite real >= 0."""
    return real_in_range(name, value, 0.0, math.inf, high_open=True)


def positive(name: str, value: object) -> float:
    """A finite real > 0."""
    return real_in_range(name, value, 0.0, math.inf, low_open=True, high_open=True)


def check_learning_rate(learning_rate: object) -> LearningRate:
    """A learning rate is a finite float >= 0 or a callable ``step -> float``."""
    if callable(learning_rate):
        return learning_rate  # type: ignore[return-value]
    if not is_real(learning_rate):
        raise TypeError(
            "learning_rate must be a float >= 0 or a schedule step -> float, "
            f"got {describe(learning_rate)}"
        )
    return non_negative("learning_rate", learning_rate)


def learning_rate_at(learning_rate: LearningRate, step: int) -> float:
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


def _signature_of(params: Slots) -> tuple:
    """What the state slots depend on: each parameter's key, shape and dtype, in order."""
    return tuple((key, p.shape, p.dtype) for key, p, _ in params)


def _looks_like_parameters(value: object) -> bool:
    """PyTorch's ``model.parameters()``: a generator, or a list of arrays."""
    if inspect.isgenerator(value):
        return True
    return (
        isinstance(value, list | tuple)
        and len(value) > 0
        and all(isinstance(v, np.ndarray) for v in value)
    )


def _default_rate(cls: type) -> object:
    default = inspect.signature(cls.__init__).parameters.get("learning_rate")
    return None if default is None else default.default


class Optimizer:
    """Base class: learning rate, counter, state slots, clipping and their (de)serialisation.

    Parameters
    ----------
    learning_rate : float or callable
        η >= 0, or a schedule ``step -> float`` evaluated at ``iterations``.
    weight_decay : float
        λ >= 0; what it means is the subclass's (L2 or decoupled).
    clipnorm, clipvalue, global_clipnorm : float or None, default None
        At most one of them, each > 0 (Keras's rules; see ``minitrain.optimizers.clipping``):
        every gradient array's L2 norm clipped to ``clipnorm``; every element clipped
        to ``[-clipvalue, clipvalue]``; all gradients scaled together by
        ``global_clipnorm / max(global_norm, global_clipnorm)``. Applied before weight
        decay and the update, into scratch arrays: the layers' ``grads`` stay untouched.

    Attributes
    ----------
    iterations : int
        Updates made so far.
    """

    _arguments: tuple[str, ...] = ("learning_rate",)

    def __new__(cls, *args: Any, **kwargs: Any) -> Optimizer:
        # Before any subclass's __init__ sees them: the habits students bring from
        # PyTorch (the parameters as first argument) and Keras 2 (lr=) get a sentence
        # that says what to write, not Python's "unexpected keyword argument".
        if args and _looks_like_parameters(args[0]):
            rate = kwargs.get("lr", kwargs.get("learning_rate", _default_rate(cls)))
            raise TypeError(
                f"minitrain optimizers take no parameters: write {cls.__name__}"
                f"(learning_rate={rate!r}); optimizer.step(model) reads them from the model"
            )
        if "lr" in kwargs:
            raise TypeError(
                f"lr is Keras 2's name for the learning rate: write "
                f"{cls.__name__}(learning_rate={kwargs['lr']!r})"
            )
        return super().__new__(cls)

    def __init__(
        self,
        learning_rate: LearningRate,
        weight_decay: float,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ) -> None:
        self._learning_rate = check_learning_rate(learning_rate)
        self.weight_decay = non_negative("weight_decay", weight_decay)
        given = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in given.values()) > 1:
            # Keras refuses any two of the three, with this message.
            listed = ", ".join(f"{k}={v!r}" for k, v in given.items())
            raise ValueError(
                f"only one of clipnorm, clipvalue and global_clipnorm can be set, got {listed}"
            )
        self.clipnorm = None if clipnorm is None else positive("clipnorm", clipnorm)
        self.clipvalue = None if clipvalue is None else positive("clipvalue", clipvalue)
        self.global_clipnorm = (
            None if global_clipnorm is None else positive("global_clipnorm", global_clipnorm)
        )
        self.iterations: int = 0
        self._last_lr: float | None = None
        # key -> {slot: array}, key -> scratch arrays, key -> clipped gradient; filled by build().
        self._state: dict[str, dict[str, np.ndarray]] = {}
        self._work: dict[str, tuple[np.ndarray, ...]] = {}
        self._clipped: dict[str, np.ndarray] = {}
        self._signature: tuple[tuple[str, tuple[int, ...], np.dtype], ...] | None = None

    # -- learning rate ---------------------------------------------------------------

    @property
    def learning_rate(self) -> float:
        """The rate the next update will use (a schedule is evaluated at ``iterations``)."""
        return learning_rate_at(self._learning_rate, self.iterations)

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
        self._learning_rate = non_negative("learning_rate", value)

    # -- state -----------------------------------------------------------------------

    def _slots(self) -> tuple[str, ...]:
        """Names of the per-parameter state arrays."""
        return ()

    def _initial_value(self, slot: str) -> float:
        """The value a state slot starts at (0; Adagrad's ``sum`` starts elsewhere)."""
        return 0.0

    def _num_work(self) -> int:
        """How many scratch arrays shaped like a parameter one update needs."""
        return 1

    @property
    def _clips(self) -> bool:
        return (
            self.clipnorm is not None
            or self.clipvalue is not None
            or (self.global_clipnorm is not None)
        )

    def build(self, model: HasParamSlots) -> None:
        """Create the state slots for every parameter of ``model``.

        Idempotent: building again for the same parameters (keys, shapes, dtypes)
        keeps the state; other parameters are a ``ValueError``.
        """
        params = model._param_slots()
        signature = _signature_of(params)
        if self._signature is not None:
            if signature != self._signature:
                raise ValueError(
                    f"this optimizer was built for the parameters {self._describe_built()}, "
                    f"got {[k for k, _, _ in signature]}; use a new optimizer for another model"
                )
            return
        self._state = {
            key: {s: np.full_like(p, self._initial_value(s)) for s in self._slots()}
            for key, p, _ in params
        }
        self._work = {
            key: tuple(np.empty_like(p) for _ in range(self._num_work())) for key, p, _ in params
        }
        self._clipped = {key: np.empty_like(p) for key, p, _ in params} if self._clips else {}
        self._signature = signature

    def _describe_built(self) -> str:
        assert self._signature is not None
        return ", ".join(f"{k} {shape} {dtype}" for k, shape, dtype in self._signature)

    # -- the update ------------------------------------------------------------------

    def zero_grad(self, *args: Any, **kwargs: Any) -> None:
        """Not here: the gradients live in the layers (``model.zero_grad()``)."""
        raise TypeError(
            "minitrain optimizers hold no gradients: call model.zero_grad() (each layer's "
            "backward overwrites its grads anyway, so a training loop needs neither)"
        )

    def step(self, model: HasParamSlots | None = None) -> None:
        """Apply one update to every parameter from its gradient, then count it."""
        if model is None:
            raise TypeError(
                "optimizer.step(model): minitrain optimizers read params and grads from the "
                "model at every step, so pass it (PyTorch's optimizer.step() holds them instead)"
            )
        params = model._param_slots()
        if self._signature is None:
            self.build(model)
        elif _signature_of(params) != self._signature:
            # Checked before any update, so a mismatched model is left untouched.
            raise ValueError(
                f"this optimizer was built for the parameters {self._describe_built()}; "
                "the model's parameters differ"
            )
        lr = learning_rate_at(self._learning_rate, self.iterations)
        state, work = self._state, self._work
        if self._clips:
            params = self._clip_gradients(params)
        for key, p, g in params:
            self._update(p, g, state[key], work[key], lr)
        self._last_lr = lr
        self.iterations += 1

    def _clip_gradients(self, params: Slots) -> Slots:
        """``(key, param, clipped grad)``: the clipped copies live in ``_clipped[key]``.

        A gradient the rule leaves alone is passed on itself, uncopied.
        """
        out = self._clipped
        if self.clipvalue is not None:
            c = self.clipvalue
            return [(k, p, clipping.clip_by_value(g, c, out[k])) for k, p, g in params]
        if self.clipnorm is not None:
            c = self.clipnorm
            return [(k, p, clipping.clip_by_norm(g, c, out[k])) for k, p, g in params]
        assert self.global_clipnorm is not None
        scale = clipping.global_scale([g for _, _, g in params], self.global_clipnorm)
        if scale is None:
            return params
        return [(k, p, np.multiply(g, scale, out=out[k])) for k, p, g in params]

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

    def _config_items(self) -> list[tuple[str, Any]]:
        """The arguments after the learning rate; clipping ones only when set."""
        items = [(name, getattr(self, name)) for name in self._arguments[1:]]
        items += [(n, getattr(self, n)) for n in CLIP_ARGUMENTS if getattr(self, n) is not None]
        return items

    def get_config(self) -> dict[str, Any]:
        """``{"class": name, "config": {argument: value}}``, JSON-able.

        A schedule learning rate is stored as its own ``get_config()``; any other
        callable cannot be saved and is a ``ValueError``. ``clipnorm``,
        ``clipvalue`` and ``global_clipnorm`` appear only when set.
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
        config = {"learning_rate": lr_config, **dict(self._config_items())}
        return {"class": type(self).__name__, "config": config}

    def __repr__(self) -> str:
        args = [f"learning_rate={self._learning_rate!r}"]
        args += [f"{name}={value!r}" for name, value in self._config_items()]
        return f"{type(self).__name__}({', '.join(args)})"
