"""The training and validation data of ``fit``: arrays split by ``validation_split``,
``validation_data`` in any form ``fit`` reads, each wrapped in its adapter."""

from __future__ import annotations

import math
from typing import Any

from .. import _checks
from ..data.dataset import Adapter, Dataset, adapt, as_array, is_iterator


def _split(value: Any, at: int) -> tuple[Any, Any]:
    return (None, None) if value is None else (value[:at], value[at:])


def fit_data(
    model: Any,
    x: Any,
    y: Any,
    sample_weight: Any,
    class_weight: dict | None,
    batch_size: int | None,
    shuffle: bool,
    validation_split: float,
    validation_data: Any,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
) -> tuple[Adapter, Adapter | None]:
    """The training adapter and the validation one (or None). As Keras, explicit
    ``validation_data`` wins over ``validation_split``, which takes the last samples
    of arrays, before any shuffling: the first ``floor(N * (1 - split))`` train."""
    validation = validation_data
    arrays = not (x is None or isinstance(x, Dataset) or is_iterator(x))
    if arrays:
        x = as_array("x", x)
        y = None if y is None else as_array("y", y)
        sample_weight = None if sample_weight is None else as_array("sample_weight", sample_weight)
    if validation_data is None and validation_split > 0.0:
        if not arrays:
            raise ValueError(
                "validation_split needs x as arrays (it splits off their last samples); "
                "with a Dataset or an iterator, pass validation_data"
            )
        n = len(x)
        at = math.floor(n * (1.0 - validation_split))
        if at == 0 or at == n:
            left = "no training sample" if at == 0 else "no validation sample"
            raise ValueError(f"validation_split={validation_split} leaves {left} out of {n}")
        (x, xv), (y, yv), (sample_weight, wv) = (
            _split(x, at),
            _split(y, at),
            _split(sample_weight, at),
        )
        validation = (xv, yv, wv)
    train = adapt(
        model,
        x,
        y,
        sample_weight,
        batch_size=batch_size,
        shuffle=shuffle,
        class_weight=class_weight,
        steps=steps_per_epoch,
    )
    if validation is None:
        return train, None
    split = validation_data is None
    return train, _validation_adapter(model, validation, batch_size, validation_steps, split)


def _validation_adapter(
    model: Any, validation_data: Any, batch_size: int | None, steps: int | None, split: bool
) -> Adapter:
    if isinstance(validation_data, Dataset) or is_iterator(validation_data):
        return adapt(model, validation_data, batch_size=None, name="validation_data")
    if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be (x_val, y_val), (x_val, y_val, sample_weight), a "
            f"Dataset or an iterator, got {_checks.describe(validation_data)}"
        )
    xv, yv, *wv = validation_data
    return adapt(
        model,
        xv,
        yv,
        wv[0] if wv else None,
        batch_size=batch_size,
        name="x" if split else "validation_data[0]",
        y_name="y" if split else "validation_data[1]",
        w_name="sample_weight" if split else "validation_data[2]",
        steps=steps,
    )
