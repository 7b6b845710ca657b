"""Saving and loading models: one ``.npz``, written atomically, read without pickle.

File layout (every entry a plain array; JSON travels as a 0-d unicode array)::

    "0.W", "1.running_mean", ...   params and buffers, keyed as state_dict()
    "optimizer/iterations", "optimizer/m/0.W", ...   optimizer state (save, backups)
    "__config__"                   JSON: architecture and compile setup (save)
    "__training__"                 JSON: RNG states, learning rates, the caller's meta (backups)
    "fit/<name>"                   the epoch in progress (backups): what the fit loop
                                   keeps in model._fit_progress["arrays"]

Every load checks every key, shape and dtype (and, for backups, every
generator state and rate) against the model *before* it writes anything, so a
bad file leaves the model exactly as it was. What the ``fit/`` arrays mean is
the fit loop's business: here they are only checked to be plain arrays of
numbers or text, and the loop's own check (``check_progress``) runs with the
others, before anything is written.

Untrusted files cannot exhaust memory: ``io.read_npz`` refuses an entry whose
header promises more bytes than the file holds, and ``load_model`` compares
the sizes the architecture declares with the arrays the file holds *before*
it constructs a single layer (a 1 KB file declaring a 200000 x 200000 Dense is
a ``ValueError``, not a 160 GB allocation).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import io, layers, losses, metrics, optimizers
from ._checks import is_real
from .io import from_json_array, json_array

if TYPE_CHECKING:
    from .model import Sequential

FORMAT = "minitrain.model"
VERSION = 2
_OPT = "optimizer/"
_FIT = "fit/"


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
    """Architecture, weights, buffers, compile setup and optimizer state, atomically.

    An unbuilt model writes its configuration alone and loads unbuilt.
    """
    config: dict[str, Any] = {"format": FORMAT, "version": VERSION, "model": model.get_config()}
    if model.optimizer is not None:
        config["compile"] = {
            "optimizer": model.optimizer.get_config(),
            "loss": None if model.loss is None else model.loss.get_config(),
            "metrics": [m.get_config() for m in model.metrics],
            "weighted_metrics": [m.get_config() for m in model.weighted_metrics],
        }
    arrays = {**model._state_arrays(), **_optimizer_arrays(model), "__config__": json_array(config)}
    io.atomic_write_npz(path, arrays)


def _declared_sizes(model_config: dict[str, Any]) -> list[int]:
    """How many values (params and buffers) each layer of ``model_config`` will
    allocate, read from the configuration alone: nothing is constructed.

    The width is followed as ``Sequential`` follows it, so a lazy layer that the
    configuration would build (after an ``Input`` or a ``build_input_shape``)
    counts too. A layer with nothing to allocate counts 0.
    """
    shape = model_config.get("build_input_shape")
    width = None if shape is None else _positive(shape[-1])
    sizes = []
    for entry in model_config["layers"]:
        cls, cfg = entry["class"], entry.get("config", {})
        size = 0
        if cls == "Input":
            width = _positive(cfg["shape"][0])
        elif cls == "Dense":
            fan_in = cfg.get("in_features") or width
            fan_out = _positive(cfg.get("out_features") or cfg.get("units"))
            if fan_in is not None:
                size = _positive(fan_in) * fan_out + (fan_out if cfg.get("use_bias", True) else 0)
            width = fan_out
        elif cls in ("BatchNorm", "BatchNormalization"):
            features = cfg.get("num_features") or width
            if features is not None:
                size = 4 * _positive(features)  # gamma, beta and the two statistics
                width = features
        sizes.append(size)
    return sizes


def _positive(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"a layer width must be a positive int, got {value!r}")
    return value


# Values the configuration may declare beyond what the file holds before it is
# refused unbuilt: enough for an honest mismatch (a renamed or missing key) to reach
# the precise key-by-key check, far too few to exhaust memory.
_SLACK = 65_536


def _check_declared_sizes(model_config: Any, arrays: dict[str, np.ndarray]) -> None:
    """Refuse a configuration that declares far more values than the file holds,
    before anything is allocated (a crafted config cannot exhaust memory)."""
    sizes = _declared_sizes(model_config)
    held = [0] * len(sizes)
    for key, value in arrays.items():
        index, dot, _ = key.partition(".")
        if dot and index.isdigit() and int(index) < len(held):
            held[int(index)] += value.size
    if sum(sizes) <= sum(held) + _SLACK:
        return
    excess = [declared - have for declared, have in zip(sizes, held, strict=True)]
    i = excess.index(max(excess))
    raise ValueError(
        f"layers[{i}] ({model_config['layers'][i]['class']}) declares {sizes[i]:,} values "
        f"(params and buffers), but the file holds {held[i]:,} for it "
        "(refused before allocating anything)"
    )


def _metric_from_config(entry: Any, loss: losses.Loss | None) -> metrics.Metric:
    """A metric config; a bare name is a file of format version 1."""
    if isinstance(entry, str):
        return metrics.get(entry, loss=loss)
    return metrics.from_config(entry)


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """Rebuild a model written by ``Sequential.save``: architecture, weights, buffers,
    compile setup and optimizer state. Never unpickles; every key, shape and dtype
    is checked, and the sizes the architecture declares are checked against the
    arrays before any layer is constructed."""
    from .model import Sequential  # model imports this module

    arrays = io.read_npz(path)
    where = f"model file {str(path)!r}"
    if "__config__" not in arrays:
        raise ValueError(f"{where} has no '__config__' entry: it was not written by save()")
    try:
        config = from_json_array(arrays["__config__"], f"{where} '__config__'")
        if config.get("format") != FORMAT:
            raise ValueError(f"format must be {FORMAT!r}, got {config.get('format')!r}")
        arch = config["model"]
        _check_declared_sizes(arch, arrays)
        model = Sequential([layers.from_config(c) for c in arch["layers"]], seed=arch.get("seed"))
        if arch.get("build_input_shape") is not None:
            model.build(arch["build_input_shape"])
        if "compile" in config:
            c = config["compile"]
            loss = None if c["loss"] is None else losses.from_config(c["loss"])
            model.compile(
                optimizers.from_config(c["optimizer"]),
                loss,
                metrics=[_metric_from_config(m, loss) for m in c["metrics"]],
                weighted_metrics=[
                    _metric_from_config(m, loss) for m in c.get("weighted_metrics", [])
                ],
            )
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as err:
        # JSON of the wrong shape, or arguments a constructor refuses.
        raise ValueError(f"{where} has a broken '__config__': {err}") from None
    weights, opt = _split(arrays)
    _apply(model, where, weights, opt if model.optimizer is not None else None)
    return model


# -------------------------------------------------------------- training state


def model_generators(model: Sequential) -> dict[str, np.random.Generator]:
    """The model's generator (``"model"``) and every Dropout generator of its own
    (keyed by the layer's index)."""
    generators = {"model": model.rng}
    for i, layer in enumerate(model.layers):
        rng = getattr(layer, "rng", None)
        if rng is not None and rng is not model.rng:
            generators[str(i)] = rng
    return generators


def save_training_state(model: Sequential, path: str | os.PathLike[str], meta: dict) -> None:
    """Everything a resumed ``fit`` needs to continue bit-identically: weights,
    buffers, optimizer state, generator states, learning rates, ``meta``, and the
    arrays of the epoch in progress (``model._fit_progress["arrays"]``) as ``fit/...``."""
    arrays = {**model._state_arrays(), **_optimizer_arrays(model)}
    rngs = {key: rng.bit_generator.state for key, rng in model_generators(model).items()}
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
        arrays.update({_FIT + name: value for name, value in progress["arrays"].items()})
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
    generators = model_generators(model)
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


def _progress_arrays(where: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The ``fit/`` entries, prefix dropped; each must be a plain array of numbers (or
    of text: a metric may keep the kind it resolved to). The fit loop checks what
    they mean."""
    progress = {k[len(_FIT) :]: v for k, v in arrays.items() if k.startswith(_FIT)}
    for name, value in progress.items():
        if value.dtype.kind not in "biufU" or value.dtype.byteorder not in "=|":
            raise ValueError(
                f"{where} {_FIT + name!r} must be an array of numbers or text, "
                f"got dtype {value.dtype}"
            )
    return progress


def load_training_state(
    model: Sequential,
    path: str | os.PathLike[str],
    check_progress: Callable[[dict[str, np.ndarray], str], None] | None = None,
) -> dict[str, Any]:
    """Restore what ``save_training_state`` wrote; everything is checked first, so a
    bad file changes nothing. Sets ``model._fit_progress = {"arrays": {...}}`` (the
    ``fit/`` entries, possibly none) and returns the caller's ``meta``.

    ``check_progress(arrays, where)``, when given, is the fit loop's check of what
    the ``fit/`` arrays mean; it runs with the other checks, before anything is
    written, and refuses with a ``ValueError``.
    """
    arrays = io.read_npz(path)
    where = f"training state {str(path)!r}"
    if "__training__" not in arrays:
        raise ValueError(f"{where} has no '__training__' entry")
    state = from_json_array(arrays["__training__"], where)
    _check_training(where, state, model)
    progress = _progress_arrays(where, arrays)
    if check_progress is not None:
        check_progress(progress, where)
    weights, opt = _split(arrays)
    _apply(model, where, weights, opt if model.optimizer is not None else None)
    if model.optimizer is not None:
        if "learning_rate" in state:
            model.optimizer.learning_rate = state["learning_rate"]
        model.optimizer._last_lr = state.get("last_lr")
    for key, rng in model_generators(model).items():
        rng.bit_generator.state = state["rng"][key]
    model._fit_progress = {"arrays": progress}
    return state["meta"]
