"""The schedule base class (argument plumbing, ``name``, config, repr) and ``Constant``."""

from __future__ import annotations

import math
from typing import Any

from minitrain._checks import describe, non_negative_int, real_in_range


def rate(name: str, value: object) -> float:
    """A learning rate: a finite real >= 0."""
    return real_in_range(name, value, 0.0, math.inf, high_open=True)


def flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {describe(value)}")
    return value


class Schedule:
    """Base class: ``__call__`` checks the step, ``_at(t)`` computes the rate.

    A subclass stores its constructor arguments under the same names, lists them
    in ``_arguments`` and implements ``_at(t: int) -> float``; ``get_config`` and
    ``__repr__`` are built from those arguments, followed by ``name`` when it was
    given (Keras names every schedule; here the name is only a label, kept when set).

    Parameters
    ----------
    name : str or None, default None
        A label for the schedule, kept in its config and repr when set.
    """

    _arguments: tuple[str, ...] = ()

    def __init__(self, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {describe(name)}")
        self.name = name

    def __call__(self, step: int) -> float:
        """The learning rate at ``step`` (a 0-based int) as a Python float."""
        return float(self._at(non_negative_int("step", step)))

    def _at(self, t: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement _at(t)")

    def _config_items(self) -> list[tuple[str, Any]]:
        items = [(name, getattr(self, name)) for name in self._arguments]
        if getattr(self, "name", None) is not None:
            items.append(("name", self.name))
        return items

    def get_config(self) -> dict[str, Any]:
        """``{"class": name, "config": {argument: value}}``, JSON-able."""
        return {"class": type(self).__name__, "config": dict(self._config_items())}

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self._config_items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """η(t) = η₀ for every step.

    Parameters
    ----------
    learning_rate : float
        η₀ >= 0.
    name : str or None, default None
        A label kept in the config and repr when set.
    """

    _arguments = ("learning_rate",)

    def __init__(self, learning_rate: float, name: str | None = None) -> None:
        super().__init__(name)
        self.learning_rate = rate("learning_rate", learning_rate)

    def _at(self, t: int) -> float:
        return self.learning_rate
