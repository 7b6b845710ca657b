"""``signature(f)``: a callable's arguments and defaults as the contract writes them.

``signature(Dropout) == "rate, *, seed=None"``: no annotations and no ``self``; a default
that is a class (a dtype) is written by its name (``dtype=float32``). ``**kwargs`` is left
out: it is there only to name the closest valid keyword when an unknown one comes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def signature(function: Callable[..., Any]) -> str:
    parts = []
    star = False
    for p in inspect.signature(function).parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            star = True
        elif p.kind is p.VAR_KEYWORD:
            continue
        else:
            if p.kind is p.KEYWORD_ONLY and not star:
                parts.append("*")
                star = True
            if p.default is p.empty:
                parts.append(p.name)
            elif isinstance(p.default, type):
                parts.append(f"{p.name}={p.default.__name__}")
            else:
                parts.append(f"{p.name}={p.default!r}")
    return ", ".join(parts)
