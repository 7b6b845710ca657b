"""Argument checks shared by every public entry point.

Each helper raises a ``ValueError`` (or ``TypeError`` for a wrong type) whose
message names the argument, what was expected and what came, so that every
error in the package reads alike::

    batch_size must be a positive int, got 0
"""

from __future__ import annotations

import difflib
import numbers
import os
import sys
from collections.abc import Iterable, Mapping

import numpy as np


def describe(value: object) -> str:
    """A short description of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def is_int(value: object) -> bool:
    """True for Python and NumPy integers, False for bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def is_real(value: object) -> bool:
    """True for Python and NumPy reals (ints included), False for bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def positive_int(name: str, value: object) -> int:
    if not is_int(value):
        raise TypeError(f"{name} must be a positive int, got {describe(value)}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def non_negative_int(name: str, value: object) -> int:
    if not is_int(value):
        raise TypeError(f"{name} must be a non-negative int, got {describe(value)}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value}")
    return int(value)


def real_in_range(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check ``low <= value <= high`` (``<`` on an open end) and return a float."""
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    if not is_real(value):
        raise TypeError(f"{name} must be a real number in {interval}, got {describe(value)}")
    v = float(value)
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high or np.isnan(v):
        raise ValueError(f"{name} must be a real number in {interval}, got {value}")
    return v


def one_of(name: str, value: object, choices: Iterable[str]) -> str:
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value  # type: ignore[return-value]


def float_dtype(name: str, dtype: object) -> np.dtype:
    """Parameters live in float32 or float64; nothing else is a parameter dtype."""
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {describe(dtype)}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{name} must be float32 or float64, got {dt}")
    return dt


def array_2d(name: str, x: object, *, width: int | None = None) -> np.ndarray:
    """Check that ``x`` is a non-empty numeric array of shape (N, width)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of shape (N, features), got {describe(x)}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (N, features), got shape {x.shape}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {x.shape}")
    if width is not None and x.shape[1] != width:
        raise ValueError(f"{name} must have {width} features (columns), got shape {x.shape}")
    return x


def finite(name: str, x: np.ndarray) -> None:
    """Raise naming the first row of ``x`` that holds a NaN or an infinity."""
    if x.dtype.kind != "f":
        return
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(x.sum()):  # no temporary the size of x; NaN and inf spoil the sum
            return
    ok = np.isfinite(x)
    if ok.all():
        return  # the sum overflowed, every value is finite
    bad = ~ok.reshape(len(x), -1).all(axis=1)
    row = int(np.argmax(bad))
    raise ValueError(f"{name} must be finite, got NaN or inf in row {row}: {x[row]!r}")


def same_length(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b} must hold the same number of samples, got {len(a)} and {len(b)}"
        )


def class_labels(name: str, y: object, num_classes: int | None) -> np.ndarray:
    """Integer class labels of shape (N,) or (N, 1), returned as intp of shape (N,).

    Any integer dtype is accepted; float labels only when every value is integral.
    A label outside ``[0, num_classes)`` is a ``ValueError`` naming the bad value.
    """
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of integer labels, got {describe(y)}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be integer labels of shape (N,) or (N, 1), got {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{name} must be finite integer labels, got NaN or inf")
        frac = y != np.round(y)
        if frac.any():
            raise ValueError(
                f"{name} must be integer labels, got the non-integral value {y[frac][0].item()!r}"
            )
    elif y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer labels, got dtype {y.dtype}")
    if y.size:
        lo, hi = y.min(), y.max()
        if lo < 0:
            raise ValueError(f"{name} must be labels in [0, {num_classes}), got {lo.item()!r}")
        if num_classes is not None and hi >= num_classes:
            raise ValueError(f"{name} must be labels in [0, {num_classes}), got {hi.item()!r}")
    return y.astype(np.intp, copy=False)


def no_unknown_keywords(function: str, unknown: Mapping[str, object], valid: Iterable[str]) -> None:
    """A ``TypeError`` for the first unknown keyword, naming the closest valid one.

    Keras users type ``fit(epoch=10)``; Python's own message stops at "unexpected
    keyword argument", this one says what to write instead.
    """
    if not unknown:
        return
    name = next(iter(unknown))
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keywords: {', '.join(valid)}"
    raise TypeError(f"{function}() got an unexpected keyword argument {name!r}{hint}")


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the user's line, outside minitrain.

    Call it in the function that calls ``warnings.warn``: it counts the frames from
    there up to the first one whose file is not in the minitrain package, so a
    warning issued deep in ``fit`` (a callback, the data iterator) names the line
    of the user's ``fit(...)`` call, wherever the warning is raised from.
    """
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
        level += 1
    return level
