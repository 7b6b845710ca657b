"""Optimizers: update every parameter in place from its gradient.

The contract (``base.py``)::

    opt.build(model)    # state slots shaped like each param (compile calls it)
    opt.step(model)     # one update of every (key, param, grad) of model._param_slots()

The update rules are PyTorch's and the argument names Keras's. Sorted in order of
increasing complexity, with p a parameter, g its gradient, η the learning rate of
this update and t = ``iterations + 1``:

===========  ==================================================  ==========  ===============
class        rule (in full, weight decay too, in its file)       file        state slots
===========  ==================================================  ==========  ===============
``SGD``      b ← μ b + g;  p ← p - η b                           sgd.py      momentum
``Adagrad``  s ← s + g²;  p ← p - η g / (sqrt(s) + ε)            adagrad.py  sum
``RMSprop``  s ← ρ s + (1 - ρ) g²;  p ← p - η g / (sqrt(s) + ε)  rmsprop.py  square_avg, ...
``Adam``     moments m, v, bias-corrected by 1 - βᵗ              adam.py     m, v
``AdamW``    Adam after p ← p · (1 - η λ)                        adam.py     m, v
===========  ==================================================  ==========  ===============

Every optimizer also takes Keras's ``clipnorm``, ``clipvalue`` and
``global_clipnorm`` (``clipping.py``), applied before weight decay and the update.

The learning rate is a float or a schedule ``step -> float`` evaluated at
``iterations`` (the updates already made), so the first update uses
``schedule(0)``. ``iterations`` counts updates; ``_last_lr`` holds the rate the
last update used. State slots have the parameter's dtype, are keyed like the
model's ``state_dict`` (``"m/0.W"``) and are saved through ``state_dict`` /
``load_state_dict``; ``get_config`` / ``from_config`` carry the arguments.
"""

from __future__ import annotations

from typing import Any

from minitrain import schedules
from minitrain._checks import describe
from minitrain.optimizers.adagrad import Adagrad
from minitrain.optimizers.adam import Adam, AdamW
from minitrain.optimizers.base import Optimizer
from minitrain.optimizers.rmsprop import RMSprop
from minitrain.optimizers.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "from_config", "get"]

_OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}


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
    """An optimizer from a name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``,
    ``"adagrad"``, any case) with its defaults, or the given ``Optimizer`` itself."""
    listed = ", ".join(repr(n) for n in _OPTIMIZERS)
    if isinstance(identifier, Optimizer):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            f"optimizer must be an Optimizer or one of {listed}, got {describe(identifier)}"
        )
    cls = _OPTIMIZERS.get(identifier.lower())
    if cls is None:
        raise ValueError(f"optimizer must be one of {listed}, got {identifier!r}")
    return cls()
