"""Losses: a per-sample loss reduced over the batch (Keras's reduction), and its gradient.

Reading order: ``base`` (the contract: the checked and the hot doors, sample
weights, the reduction ``sum_i w_i l_i / N``), then ``regression`` (mean
squared and absolute errors, Huber), then ``crossentropy`` (categorical,
sparse and binary, from logits or probabilities).

``get(identifier)`` resolves the names ``compile`` accepts (``names()`` lists
them) and ``get_config()`` / ``from_config(cfg)`` round-trip a loss through JSON.
"""

from __future__ import annotations

from typing import Any

from minitrain import _checks

from .base import EPSILON, Loss, _bool, prepare_sample_weight
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .regression import Huber, MeanAbsoluteError, MeanSquaredError

__all__ = [
    "EPSILON",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "from_config",
    "get",
    "names",
    "prepare_sample_weight",
]

_BY_NAME: dict[str, type[Loss]] = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
}

_BY_CLASS: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        BinaryCrossentropy,
        MeanSquaredError,
        MeanAbsoluteError,
        Huber,
    )
}

_WITH_LOGITS = (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy)


def names() -> list[str]:
    """The loss names ``get`` (and so ``compile``) accepts, in the order errors list them."""
    return list(_BY_NAME)


def get(identifier: str | Loss | dict[str, Any], *, from_logits: bool = False) -> Loss:
    """The loss for a name ``compile`` accepts, a config, or the loss itself.

    Parameters
    ----------
    identifier : str, Loss or dict
        A name from ``names()``: ``"categorical_crossentropy"``,
        ``"sparse_categorical_crossentropy"``, ``"binary_crossentropy"``,
        ``"mse"``/``"mean_squared_error"``, ``"mae"``/``"mean_absolute_error"``,
        ``"huber"`` (built with its defaults); a ``get_config()`` dict (as
        Keras's ``get``); a ``Loss`` is returned as is.
    from_logits : bool, default False
        Given to a crossentropy built from a name; the regression losses have
        no such switch and ignore it.

    Returns
    -------
    Loss
    """
    from_logits = _bool("from_logits", from_logits)
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return from_config(identifier)
    if not isinstance(identifier, str):
        listed = ", ".join(repr(k) for k in _BY_NAME)
        raise TypeError(
            f"loss must be a Loss or one of {listed}, got {_checks.describe(identifier)}"
        )
    cls = _BY_NAME[_checks.one_of("loss", identifier, _BY_NAME)]
    if issubclass(cls, _WITH_LOGITS):
        return cls(from_logits=from_logits)  # type: ignore[call-arg]
    return cls()


def from_config(cfg: dict[str, Any]) -> Loss:
    """Rebuild a loss from ``loss.get_config()``."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("config"), dict):
        raise TypeError(
            'cfg must be a dict {"class": name, "config": {...}} from Loss.get_config(), '
            f"got {_checks.describe(cfg)}"
        )
    cls = _BY_CLASS[_checks.one_of("cfg['class']", cfg.get("class"), _BY_CLASS)]
    return cls(**cfg["config"])
