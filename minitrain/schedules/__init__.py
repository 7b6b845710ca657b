"""Learning-rate schedules: stateless functions of a step counter.

The whole contract::

    schedule(step) -> float        # step: a 0-based int, the result a Python float

An optimizer built with a schedule as its ``learning_rate`` calls it with its
counter ``iterations`` (the number of updates already made), so its first update
uses ``schedule(0)`` and its k-th update ``schedule(k - 1)``. Given to
``LearningRateScheduler`` instead, the same schedule is called once per epoch and
``step`` is the epoch index. A schedule keeps no state: calling it twice with the
same step gives the same rate.

With η₀ the initial rate and t the step:

==========================  ========================================================  ==============
schedule                    η(t)                                                      file
==========================  ========================================================  ==============
``Constant``                η₀                                                        base.py
``StepDecay``               η₀ · γ^⌊t / step_size⌋ (PyTorch StepLR)                   step.py
``PiecewiseConstantDecay``  values[i] for boundaries[i-1] < t <= boundaries[i]        step.py
``ExponentialDecay``        η₀ · rate^(t / D), exponent floored with staircase        exponential.py
``InverseTimeDecay``        η₀ / (1 + rate · t / D), t / D floored with staircase     exponential.py
``PolynomialDecay``         (η₀ - end) · (1 - min(t, D) / D)^power + end, or cycling  polynomial.py
``LinearDecay``             (η₀ - end) · (1 - min(t, D) / D) + end                    polynomial.py
``InverseSqrtDecay``        η₀ · min((t + 1) / W, sqrt(W / (t + 1)))                  polynomial.py
``CosineDecay``             linear warmup, then a half cosine                         cosine.py
``CosineDecayRestarts``     half cosines over periods growing by t_mul (SGDR)         cosine.py
==========================  ========================================================  ==============

The Keras schedules (all but ``Constant``, ``StepDecay`` and ``InverseSqrtDecay``)
give Keras 3's values. Every schedule validates its arguments at construction
(``ValueError`` naming the argument), takes ``name=None`` (a label kept in its
config and repr only when set), has a ``__repr__`` showing its arguments, and
``get_config()`` returns ``{"class": name, "config": {argument: value}}``
(JSON-able), which ``from_config`` turns back into an equal schedule.
"""

from __future__ import annotations

from typing import Any

from minitrain._checks import describe
from minitrain.schedules.base import Constant, Schedule
from minitrain.schedules.cosine import CosineDecay, CosineDecayRestarts
from minitrain.schedules.exponential import ExponentialDecay, InverseTimeDecay
from minitrain.schedules.polynomial import InverseSqrtDecay, LinearDecay, PolynomialDecay
from minitrain.schedules.step import PiecewiseConstantDecay, StepDecay

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "PiecewiseConstantDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PolynomialDecay",
    "LinearDecay",
    "InverseSqrtDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "from_config",
]

_SCHEDULES: dict[str, type[Schedule]] = {
    cls.__name__: cls
    for cls in (
        Constant,
        StepDecay,
        PiecewiseConstantDecay,
        ExponentialDecay,
        InverseTimeDecay,
        PolynomialDecay,
        LinearDecay,
        InverseSqrtDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def from_config(config: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from ``get_config()``'s ``{"class": name, "config": {...}}``."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise TypeError(
            f'config must be a dict {{"class": name, "config": {{...}}}}, got {describe(config)}'
        )
    name = config.get("class")
    if name not in _SCHEDULES:
        listed = ", ".join(repr(n) for n in _SCHEDULES)
        raise ValueError(f"config['class'] must be one of {listed}, got {name!r}")
    return _SCHEDULES[name](**config["config"])
