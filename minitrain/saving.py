"""Saving and loading models: one ``.npz``, written atomically, read without pickle.

File layout (every entry a plain array; JSON travels as a 0-d unicode array)::

    "0.W", "1.running_mean", ...   params and buffers, keyed as state_dict()
    "optimizer/iterations", "optimizer/m/0.W", ...   optimizer state (save, backups)
    "__config__"                   JSON: architecture and compile setup (save)
    "__training__"                 JSON: RNG states and the caller's meta (backups)
    "fit/order", "fit/sums", "fit/count"   the epoch in progress (backups)

Every load checks every key, shape and dtype against the model *before* it
writes anything, so a bad file leaves the model exactly as it was.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from . import io, layers, losses, optimizers
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
    model.load_state_dict(weights)
    if opt is not None:
        model.optimizer.load_state_dict(opt)


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


def _rng_states(model: Sequential) -> dict[str, Any]:
    """The model's generator and every Dropout generator of its own."""
    states: dict[str, Any] = {"model": model.rng.bit_generator.state}
    for i, layer in enumerate(model.layers):
        rng = getattr(layer, "rng", None)
        if rng is not None and rng is not model.rng:
            states[str(i)] = rng.bit_generator.state
    return states


def save_training_state(model: Sequential, path: str | os.PathLike[str], meta: dict) -> None:
    """Everything a resumed ``fit`` needs to continue bit-identically."""
    arrays = {**model._state_arrays(), **_optimizer_arrays(model)}
    training: dict[str, Any] = {"meta": meta, "rng": _rng_states(model)}
    opt = model.optimizer
    if opt is not None and not callable(opt._learning_rate):
        # A float rate may have been changed mid-run (ReduceLROnPlateau): keep it too.
        training["learning_rate"] = opt.learning_rate
    arrays["__training__"] = json_array(training)
    progress = getattr(model, "_fit_progress", None)
    if progress:
        if progress["order"] is not None:
            arrays["fit/order"] = progress["order"]
        arrays["fit/sums"] = progress["means"].sums
        arrays["fit/count"] = np.array(progress["means"].count)
    io.atomic_write_npz(path, arrays)


def load_training_state(model: Sequential, path: str | os.PathLike[str]) -> dict[str, Any]:
    from .training import RunningMeans

    arrays = io.read_npz(path)
    where = f"training state {str(path)!r}"
    if "__training__" not in arrays:
        raise ValueError(f"{where} has no '__training__' entry")
    state = from_json_array(arrays["__training__"], where)
    weights, opt = _split(arrays)
    rngs = state["rng"]
    own = {
        str(i)
        for i, layer in enumerate(model.layers)
        if getattr(layer, "rng", None) not in (None, model.rng)
    }
    if set(rngs) - {"model"} != own:
        raise ValueError(
            f"{where} holds generator states for layers {sorted(rngs)}, expected {sorted(own)}"
        )
    _apply(model, where, weights, opt if model.optimizer is not None else None)
    if "learning_rate" in state and model.optimizer is not None:
        model.optimizer.learning_rate = state["learning_rate"]
    model.rng.bit_generator.state = rngs["model"]
    for key in own:
        model.layers[int(key)].rng.bit_generator.state = rngs[key]
    model._fit_progress = None
    if "fit/sums" in arrays:
        means = RunningMeans(["loss", *(m.name for m in model.metrics)])
        means.sums[:] = arrays["fit/sums"]
        means.count = int(arrays["fit/count"])
        model._fit_progress = {"order": arrays.get("fit/order"), "means": means}
    return state["meta"]
