"""Optimizer state across the minitrain <-> PyTorch bridge.

The contract::

    torch_opt = optimizer_to_torch(model, module)   # module: usually to_torch(model)
    opt = optimizer_from_torch(torch_opt, model)    # model: usually from_torch(module)

Both carry the learning rate, the hyperparameters and the state, so training continued
on the other side follows the trajectory it would have had. Parameters are paired in
order, ``model._param_slots()`` with ``module.parameters()`` (the order of ``to_torch``
and ``from_torch``); a Dense ``W`` (in, out) pairs with a ``Linear.weight`` (out, in),
and its state is transposed with it.

=================================  ==========================  ================================
minitrain (slots)                  torch                       torch state
=================================  ==========================  ================================
``SGD`` (``momentum``)             ``SGD(dampening=0)``        ``momentum_buffer``
``Adam`` (``m``, ``v``)            ``Adam``                    ``step``, ``exp_avg``, ``exp_avg_sq``
``AdamW`` (``m``, ``v``)           ``AdamW``                   the same
``RMSprop`` (``square_avg``, ...)  ``RMSprop`` (``alpha=rho``) ``step``, ``square_avg``,
                                                               ``momentum_buffer``, ``grad_avg``
``Adagrad`` (``sum``)              ``Adagrad(lr_decay=0)``     ``step``, ``sum``
=================================  ==========================  ================================

``iterations`` is torch's ``step``. torch's ``SGD`` keeps no step count, so coming from
it ``iterations`` starts at 0. torch creates most state at the first step
(``momentum_buffer`` is None before it); state not created yet is zero on the minitrain
side, which is what torch's first step assumes (its first momentum buffer is the
gradient itself, ``0 * momentum + g``).

What cannot cross is refused, not approximated: a schedule learning rate (torch
changes rates from outside the optimizer, with ``torch.optim.lr_scheduler``), gradient
clipping (torch clips in the training loop, ``torch.nn.utils.clip_grad_norm_``),
torch's ``maximize``, ``amsgrad``, ``dampening``, ``lr_decay``, and param groups with
different hyperparameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minitrain import _checks, layers, optimizers
from minitrain.interop._require import require
from minitrain.interop.torch import array, numpy_dtype, tensor, unwrap
from minitrain.model import Sequential

if TYPE_CHECKING:
    import torch as torch_module

__all__ = ["optimizer_to_torch", "optimizer_from_torch"]

SUPPORTED = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")


def _transposed_keys(model: Sequential) -> set[str]:
    """Keys of the params stored transposed in torch: every Dense's ``W``."""
    return {f"{i}.W" for i, layer in enumerate(model.layers) if isinstance(layer, layers.Dense)}


def _pair(torch: Any, model: Sequential, params: list[Any], name: str) -> list[tuple[str, bool]]:
    """``(key, transposed)`` for each torch parameter, checked against the model's params."""
    slots = model._param_slots()
    if len(slots) != len(params):
        raise ValueError(
            f"{name} does not match the model: the model has {len(slots)} parameters "
            f"({', '.join(k for k, _, _ in slots)}), {name} has {len(params)}"
        )
    transposed = _transposed_keys(model)
    pairs = []
    for j, ((key, p, _), t) in enumerate(zip(slots, params, strict=True)):
        flip = key in transposed
        shape = p.shape[::-1] if flip else p.shape
        if tuple(t.shape) != shape:
            raise ValueError(
                f"{name} does not match the model: its parameter {j} has shape "
                f"{tuple(t.shape)}, the model's {key} needs {shape}"
                + (" (a Dense W (in, out) is a Linear weight (out, in))" if flip else "")
            )
        if numpy_dtype(torch, t.dtype, f"{name}'s parameter {j}") != p.dtype:
            raise ValueError(
                f"{name} does not match the model: its parameter {j} is {t.dtype}, the "
                f"model's {key} is {p.dtype}"
            )
        pairs.append((key, flip))
    return pairs


def _refuse_uncarried(opt: optimizers.Optimizer) -> None:
    if callable(opt._learning_rate):
        raise ValueError(
            f"the optimizer's learning_rate is a schedule ({opt._learning_rate!r}), which "
            "cannot be carried to torch.optim: torch changes rates from outside the "
            "optimizer (torch.optim.lr_scheduler). Compile the model with an optimizer "
            "built with a float learning_rate, and drive the rate in torch with a scheduler"
        )
    for clip in ("clipnorm", "clipvalue", "global_clipnorm"):
        if getattr(opt, clip, None) is not None:
            raise ValueError(
                f"the optimizer clips gradients ({clip}={getattr(opt, clip)}), which torch.optim "
                "does not: torch clips in the training loop (torch.nn.utils.clip_grad_norm_, "
                "clip_grad_value_). Use an optimizer without clipping and clip in the loop"
            )


def _step_tensor(torch: Any, iterations: int) -> Any:
    # As torch creates it: a float scalar in float32, or float64 when that is the default dtype
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(float(iterations), dtype=dtype)


def optimizer_to_torch(
    model: Sequential, torch_module: torch_module.nn.Module
) -> torch_module.optim.Optimizer:
    """The ``torch.optim`` optimizer that continues ``model.optimizer`` on ``torch_module``.

    Parameters
    ----------
    model : Sequential
        Compiled (its optimizer is carried: SGD, Adam, AdamW, RMSprop or Adagrad with a
        float learning rate and no clipping).
    torch_module : torch.nn.Module
        Whose ``parameters()`` pair one to one with the model's (``to_torch(model)``);
        a mismatch in count, shape or dtype is a ``ValueError``.

    Returns
    -------
    torch.optim.Optimizer
        Over ``torch_module.parameters()``, one param group, holding copies of the
        state (step counts, momentum buffers, moments).
    """
    torch = require("torch", "optimizer_to_torch")
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise ValueError(
            "model has no optimizer to carry: compile it first (model.compile(optimizer, loss))"
        )
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(
            f"torch_module must be a torch.nn.Module, got {_checks.describe(torch_module)}"
        )
    _refuse_uncarried(opt)
    params = list(unwrap(torch, torch_module).parameters())
    pairs = _pair(torch, model, params, "torch_module")
    opt.build(model)  # idempotent; a model compiled before it was built has no slots yet
    lr = float(opt._learning_rate)
    o = torch.optim
    if isinstance(opt, optimizers.SGD):
        t_opt = o.SGD(
            params,
            lr=lr,
            momentum=opt.momentum,
            nesterov=opt.nesterov,
            weight_decay=opt.weight_decay,
        )
        slots = {"momentum_buffer": "momentum"} if opt.momentum > 0 else {}
        with_step = False
    elif isinstance(opt, optimizers.Adam):  # AdamW included: a subclass
        cls = o.AdamW if isinstance(opt, optimizers.AdamW) else o.Adam
        t_opt = cls(
            params,
            lr=lr,
            betas=(opt.beta_1, opt.beta_2),
            eps=opt.epsilon,
            weight_decay=opt.weight_decay,
        )
        slots, with_step = {"exp_avg": "m", "exp_avg_sq": "v"}, True
    elif isinstance(opt, optimizers.RMSprop):
        t_opt = o.RMSprop(
            params,
            lr=lr,
            alpha=opt.rho,
            eps=opt.epsilon,
            weight_decay=opt.weight_decay,
            momentum=opt.momentum,
            centered=opt.centered,
        )
        slots = {"square_avg": "square_avg"}
        if opt.momentum > 0:
            slots["momentum_buffer"] = "momentum_buffer"
        if opt.centered:
            slots["grad_avg"] = "grad_avg"
        with_step = True
    elif isinstance(opt, optimizers.Adagrad):
        t_opt = o.Adagrad(
            params,
            lr=lr,
            lr_decay=0.0,
            weight_decay=opt.weight_decay,
            initial_accumulator_value=opt.initial_accumulator_value,
            eps=opt.epsilon,
        )
        slots, with_step = {"sum": "sum"}, True
    else:
        raise TypeError(
            f"model.optimizer ({type(opt).__name__}) has no torch counterpart in the bridge; "
            f"supported are {', '.join(SUPPORTED)}"
        )
    state = opt.state_dict()
    # Before the first update torch has no state yet (Adagrad excepted, which makes its sum
    # at construction): leave it to create its own, equal to minitrain's zeros.
    fresh = opt.iterations == 0 and not any(
        state[f"{s}/{key}"].any() for key, _ in pairs for s in slots.values()
    )
    if slots and (not fresh or isinstance(opt, optimizers.Adagrad)):
        for (key, flip), p in zip(pairs, params, strict=True):
            entry = {}
            if with_step:
                entry["step"] = _step_tensor(torch, opt.iterations)
            for torch_name, slot in slots.items():
                value = state[f"{slot}/{key}"]
                entry[torch_name] = tensor(torch, value.T if flip else value)
            t_opt.state[p] = entry
    return t_opt


# ------------------------------------------------------------------ torch -> minitrain


def _hyperparameters(optimizer: Any) -> dict[str, Any]:
    """The hyperparameters shared by every param group (refusing groups that differ)."""
    groups = optimizer.param_groups
    first = {k: v for k, v in groups[0].items() if k != "params"}
    for i, group in enumerate(groups[1:], start=1):
        other = {k: v for k, v in group.items() if k != "params"}
        differ = sorted(k for k in first if k in other and first[k] != other[k])
        if differ:
            raise ValueError(
                f"optimizer's param groups 0 and {i} differ in {', '.join(differ)}; a minitrain "
                "optimizer has one set of hyperparameters for every parameter"
            )
    return first


def _refuse(h: dict[str, Any], name: str, value: Any, why: str) -> None:
    if h.get(name, value) != value:
        raise ValueError(f"optimizer has {name}={h[name]!r}, which minitrain has not ({why})")


def _build(
    torch: Any, kind: type, h: dict[str, Any], lr: float
) -> tuple[optimizers.Optimizer, dict[str, str], bool]:
    """The minitrain optimizer, its ``{torch state name: slot}`` and whether torch counts steps."""
    o = torch.optim
    _refuse(h, "maximize", False, "it always minimises")
    if kind is o.SGD:
        _refuse(h, "dampening", 0, "its momentum buffer adds the whole gradient")
        opt = optimizers.SGD(
            learning_rate=lr,
            momentum=h["momentum"],
            nesterov=h["nesterov"],
            weight_decay=h["weight_decay"],
        )
        return opt, ({"momentum_buffer": "momentum"} if h["momentum"] > 0 else {}), False
    if kind in (o.Adam, o.AdamW):
        _refuse(h, "amsgrad", False, "no AMSGrad variant")
        decoupled = h.get("decoupled_weight_decay", kind is o.AdamW)
        cls = optimizers.AdamW if decoupled else optimizers.Adam
        b1, b2 = (float(b) for b in h["betas"])
        opt = cls(
            learning_rate=lr,
            beta_1=b1,
            beta_2=b2,
            epsilon=h["eps"],
            weight_decay=h["weight_decay"],
        )
        return opt, {"exp_avg": "m", "exp_avg_sq": "v"}, True
    if kind is o.RMSprop:
        opt = optimizers.RMSprop(
            learning_rate=lr,
            rho=h["alpha"],
            momentum=h["momentum"],
            epsilon=h["eps"],
            centered=h["centered"],
            weight_decay=h["weight_decay"],
        )
        slots = {"square_avg": "square_avg"}
        if h["momentum"] > 0:
            slots["momentum_buffer"] = "momentum_buffer"
        if h["centered"]:
            slots["grad_avg"] = "grad_avg"
        return opt, slots, True
    if kind is o.Adagrad:
        _refuse(h, "lr_decay", 0, "its rate does not decay with the step count")
        opt = optimizers.Adagrad(
            learning_rate=lr,
            initial_accumulator_value=h["initial_accumulator_value"],
            epsilon=h["eps"],
            weight_decay=h["weight_decay"],
        )
        return opt, {"sum": "sum"}, True
    raise TypeError(
        f"optimizer ({kind.__name__}) has no minitrain counterpart in the bridge; supported "
        f"are torch.optim.{', torch.optim.'.join(SUPPORTED)}"
    )


def optimizer_from_torch(
    optimizer: torch_module.optim.Optimizer, model: Sequential
) -> optimizers.Optimizer:
    """The minitrain optimizer that continues a ``torch.optim`` optimizer on ``model``.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        SGD, Adam, AdamW, RMSprop or Adagrad; its parameters (all groups, in order)
        pair one to one with ``model._param_slots()`` (a mismatch is a ``ValueError``).
    model : Sequential
        Usually ``from_torch(module)``. When compiled, the new optimizer replaces
        ``model.optimizer`` (loss and metrics stay).

    Returns
    -------
    Optimizer
        Built for ``model``, with torch's learning rate, hyperparameters and state
        (copies); ``iterations`` is torch's step count (0 coming from SGD, which
        keeps none).
    """
    torch = require("torch", "optimizer_from_torch")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {_checks.describe(optimizer)}"
        )
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a minitrain Sequential, got {_checks.describe(model)}")
    h = _hyperparameters(optimizer)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    pairs = _pair(torch, model, params, "optimizer")
    opt, slots, counts_steps = _build(torch, type(optimizer), h, float(h["lr"]))
    opt.build(model)
    state = opt.state_dict()
    steps = set()
    for (key, flip), p in zip(pairs, params, strict=True):
        entry = optimizer.state.get(p, {})
        if counts_steps:
            steps.add(int(entry["step"]) if "step" in entry else 0)
        for torch_name, slot in slots.items():
            value = entry.get(torch_name)
            if value is not None:  # None (or absent): not created yet, zero as torch assumes
                state[f"{slot}/{key}"] = array(value).T if flip else array(value)
    if len(steps) > 1:
        raise ValueError(
            f"optimizer's parameters have taken different numbers of steps ({sorted(steps)}); "
            "a minitrain optimizer counts one for all (were some parameters without gradients?)"
        )
    state["iterations"] = np.array(steps.pop() if steps else 0, dtype=np.int64)
    opt.load_state_dict(state)
    if getattr(model, "loss", None) is not None:
        model.optimizer = opt
    return opt
