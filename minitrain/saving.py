"""Saving and loading models: one ``.npz``, written atomically, read without pickle.

File layout (every entry a plain array; JSON travels as a 0-d unicode array)::

    "0.W", "1.running_mean", ...   params and buffers, keyed as state_dict()
    "optimizer/iterations", "optimizer/m/0.W", ...   optimizer state (save, backups)
    "__config__"                   JSON: architecture and compile setup (save)
    "__training__"                 JSON: RNG states, learning rates, the caller's meta (backups)
    "fit/order", "fit/sums", "fit/count"   the epoch in progress (backups)

Every load checks every key, shape and dtype (and, for backups, every
generator state, rate and running sum) against the model *before* it writes
anything, so a bad file leaves the model exactly as it was.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from . import io, layers, losses, optimizers
from ._checks import is_real
from .io import from_json_array, json_array

if TYPE_CHECKING:
    from .model import Sequential

FORMAT = "minitrain.model"
VERSION = 1
_OPT = "optimizer/"


def check_arrays(what: str, given: object, expected: dict[str, np.ndarray]) -> None:
    """``given`` must have exactly ``expected``'s keys, shapes and dtypes."""
    if not isinstance(given, dict):
        raise TypeError(f"{what} must be a dict of arrays, got {type(given).__name__}")
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{what} does not match the model: missing keys {missing}, unexpected keys {unexpected}"
        )
    for key, target in expected.items():
        value = given[key]
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{what}[{key!r}] must be an array, got {type(value).__name__}")
        if value.shape != target.shape:
            raise ValueError(
                f"{what}[{key!r}] must have shape {target.shape}, got shape {value.shape}"
            )
        if value.dtype != target.dtype:
            raise ValueError(f"{what}[{key!r}] must have dtype {target.dtype}, got {value.dtype}")


def _split(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Weights (``"0.W"``) and optimizer state (``"optimizer/..."`` with the prefix dropped)."""
    weights = {k: v for k, v in arrays.items() if "/" not in k and not k.startswith("__")}
    opt = {k[len(_OPT) :]: v for k, v in arrays.items() if k.startswith(_OPT)}
    return weights, opt


def _optimizer_arrays(model: Sequential) -> dict[str, np.ndarray]:
    if model.optimizer is None:
        return {}
    return {_OPT + k: v for k, v in model.optimizer.state_dict().items()}


def _apply(model: Sequential, what: str, weights: dict, opt: dict | None) -> None:
    """Check everything, then write everything."""
    check_arrays(what, weights, model._state_arrays())
    if opt is not None:
        if model.optimizer is None:
            raise ValueError(f"{what} holds optimizer state, but the model is not compiled")
        check_arrays(f"{what} optimizer state", opt, model.optimizer.state_dict())
        try:  # before the weights: its last check (a counter >= 0) may still refuse
            model.optimizer.load_state_dict(opt)
        except ValueError as err:
            raise ValueError(f"{what} optimizer {err}") from None
    model.load_state_dict(weights)


# --------------------------------------------------------------------- weights


def save_weights(model: Sequential, path: str | os.PathLike[str]) -> None:
    io.atomic_write_npz(path, model._state_arrays())


def load_weights(model: Sequential, path: str | os.PathLike[str]) -> None:
    weights, _ = _split(io.read_npz(path))
    _apply(model, f"weights file {str(path)!r}", weights, None)


# ----------------------------------------------------------------- whole model


def save_model(model: Sequential, path: str | os.PathLike[str]) -> None:
    config: dict[str, Any] = {"format": FORMAT, "version": VERSION, "model": model.get_config()}
    if model.optimizer is not None and model.loss is not None:
        config["compile"] = {
            "optimizer": model.optimizer.get_config(),
            "loss": model.loss.get_config(),
            "metrics": [m.name for m in model.metrics],
        }
    arrays = {**model._state_arrays(), **_optimizer_arrays(model), "__config__": json_array(config)}
    io.atomic_write_npz(path, arrays)


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """Rebuild a model written by ``Sequential.save``: architecture, weights, buffers,
    compile setup and optimizer state. Never unpickles; every key, shape and dtype
    is checked."""
    from .model import Sequential  # model imports this module

    arrays = io.read_npz(path)
    where = f"model file {str(path)!r}"
    if "__config__" not in arrays:
        raise ValueError(f"{where} has no '__config__' entry: it was not written by save()")
    try:
        config = from_json_array(arrays["__config__"], f"{where} '__config__'")
        if config.get("format") != FORMAT:
            raise ValueError(f"format must be {FORMAT!r}, got {config.get('format')!r}")
        model = Sequential(
            [layers.from_config(c) for c in config["model"]["layers"]],
            seed=config["model"].get("seed"),
        )
        if "compile" in config:
            c = config["compile"]
            model.compile(
                optimizers.from_config(c["optimizer"]),
                losses.from_config(c["loss"]),
                metrics=c["metrics"],
            )
    except (AttributeError, KeyError, TypeError, ValueError) as err:  # JSON of the wrong shape
        raise ValueError(f"{where} has a broken '__config__': {err}") from None
    weights, opt = _split(arrays)
    _apply(model, where, weights, opt if model.optimizer is not None else None)
    return model


# -------------------------------------------------------------- training state


def _generators(model: Sequential) -> dict[str, np.random.Generator]:
    """The model's generator (``"model"``) and every Dropout generator of its own
    (keyed by the layer's index)."""
    generators = {"model": model.rng}
    for i, layer in enumerate(model.layers):
        rng = getattr(layer, "rng", None)
        if rng is not None and rng is not model.rng:
            generators[str(i)] = rng
    return generators


def save_training_state(model: Sequential, path: str | os.PathLike[str], meta: dict) -> None:
    """Everything a resumed ``fit`` needs to continue bit-identically."""
    arrays = {**model._state_arrays(), **_optimizer_arrays(model)}
    rngs = {key: rng.bit_generator.state for key, rng in _generators(model).items()}
    training: dict[str, Any] = {"meta": meta, "rng": rngs}
    opt = model.optimizer
    if opt is not None:
        # The rate of the last update, which the epoch's logs report.
        training["last_lr"] = opt._last_lr
        if not callable(opt._learning_rate):
            # A float rate may have been changed mid-run (ReduceLROnPlateau): keep it too.
            training["learning_rate"] = opt.learning_rate
    arrays["__training__"] = json_array(training)
    progress = model._fit_progress
    if progress:
        if progress["order"] is not None:
            arrays["fit/order"] = progress["order"]
        arrays["fit/sums"] = progress["means"].sums
        arrays["fit/count"] = np.array(progress["means"].count)
    io.atomic_write_npz(path, arrays)


def _check_training(where: str, state: Any, model: Sequential) -> None:
    """The JSON part of a training state must fit ``model``: a ``meta`` object,
    a valid state for each of its generators, and valid learning rates."""
    if not (
        isinstance(state, dict)
        and isinstance(state.get("meta"), dict)
        and isinstance(state.get("rng"), dict)
    ):
        raise ValueError(
            f"{where} has a broken '__training__': expected an object holding "
            "'meta' and 'rng' objects"
        )
    generators = _generators(model)
    rngs = state["rng"]
    if set(rngs) != set(generators):
        raise ValueError(
            f"{where} holds generator states for {sorted(rngs)}, expected {sorted(generators)}"
        )
    for key, rng in generators.items():
        try:  # on a scratch generator of the same kind: the model's are not touched yet
            type(rng.bit_generator)().state = rngs[key]
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{where} holds a broken state for generator {key!r}: {err}") from None
    opt = model.optimizer
    if opt is None:
        return
    if "learning_rate" in state and callable(opt._learning_rate):
        raise ValueError(
            f"{where} holds a float learning rate, but the optimizer was built with a schedule"
        )
    for name in ("learning_rate", "last_lr"):
        value = state.get(name)
        if value is not None and not (is_real(value) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{where} holds a broken {name}: {value!r}")


def _check_progress(where: str, arrays: dict[str, np.ndarray], width: int) -> None:
    """The epoch in progress, when there is one: running sums, count and shuffle order."""
    if "fit/sums" not in arrays:
        return
    sums, count = arrays["fit/sums"], arrays.get("fit/count")
    order = arrays.get("fit/order")
    if sums.shape != (width,) or sums.dtype != np.float64:
        raise ValueError(
            f"{where} 'fit/sums' must have shape ({width},) and dtype float64, "
            f"got shape {sums.shape} and dtype {sums.dtype}"
        )
    if count is None or count.shape != () or count.dtype.kind not in "iu" or count < 0:
        raise ValueError(f"{where} 'fit/count' must be a 0-d int array >= 0")
    if order is not None and (
        order.ndim != 1
        or order.dtype.kind not in "iu"
        or not np.array_equal(np.sort(order), np.arange(len(order)))
    ):
        raise ValueError(f"{where} 'fit/order' must be a permutation of 0, 1, ..., N - 1")


def load_training_state(model: Sequential, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Restore what ``save_training_state`` wrote; everything is checked first, so a
    bad file changes nothing. Returns the caller's ``meta``."""
    from .training import RunningMeans

    arrays = io.read_npz(path)
    where = f"training state {str(path)!r}"
    if "__training__" not in arrays:
        raise ValueError(f"{where} has no '__training__' entry")
    state = from_json_array(arrays["__training__"], where)
    names = ["loss", *(m.name for m in model.metrics)]
    _check_training(where, state, model)
    _check_progress(where, arrays, len(names))
    weights, opt = _split(arrays)
    _apply(model, where, weights, opt if model.optimizer is not None else None)
    if model.optimizer is not None:
        if "learning_rate" in state:
            model.optimizer.learning_rate = state["learning_rate"]
        model.optimizer._last_lr = state.get("last_lr")
    for key, rng in _generators(model).items():
        rng.bit_generator.state = state["rng"][key]
    model._fit_progress = None
    if "fit/sums" in arrays:
        means = RunningMeans(names)
        means.sums[:] = arrays["fit/sums"]
        means.count = int(arrays["fit/count"])
        model._fit_progress = {"order": arrays.get("fit/order"), "means": means}
    return state["meta"]
