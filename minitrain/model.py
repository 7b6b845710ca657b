"""Sequential models: a list of layers run in order, and the MLP builder.

``Sequential`` chains layers (forward in order, backward in reverse), owns the
modes (``train()``/``eval()``), the state (``state_dict``) and the training
setup (``compile``). ``train_step`` is the arithmetic of one update; ``fit``
(in ``training.py``) only orchestrates batches, epochs and callbacks around it.
Saving and loading live in ``saving.py``.

Data enters through ``fit``, ``evaluate``, ``predict`` and ``train_step``,
which check it and cast it once to the parameters' dtype; layers never cast.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _checks, losses, metrics, optimizers, saving, training
from .grad_mode import no_grad
from .layers import BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

__all__ = ["Sequential", "MLP", "NotCompiledError"]


class NotCompiledError(ValueError, RuntimeError):
    """``fit``/``evaluate``/``train_step`` before ``compile`` (a ``RuntimeError`` in Keras)."""


class Sequential:
    """Layers applied one after another: ``y = layers[-1](... layers[0](x))``.

    Parameters
    ----------
    layers : sequence of Layer
    seed : int or None
        Seeds the model's generator, which shuffles the data in ``fit`` and
        draws the masks of every ``Dropout`` built without a seed of its own.
        Same seed, same data: bit-identical History and weights.
    """

    def __init__(self, layers: Sequence[Layer], *, seed: int | None = None) -> None:
        if isinstance(layers, Layer) or not isinstance(layers, Sequence):
            raise TypeError(f"layers must be a list of Layer, got {_checks.describe(layers)}")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a Layer, got {_checks.describe(layer)}")
        if not layers:
            raise ValueError("layers must hold at least one layer, got an empty list")
        if seed is not None and not _checks.is_int(seed):
            raise TypeError(f"seed must be an int or None, got {_checks.describe(seed)}")
        self.layers: list[Layer] = list(layers)
        self.seed = seed
        self.dtype = self._common_dtype()
        self.input_width, self.output_width = self._check_widths()
        self.rng = np.random.default_rng(seed)
        for layer in self.layers:
            if isinstance(layer, Dropout) and layer.rng is None:
                layer.rng = self.rng
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: losses.Loss | None = None
        self.metrics: list[metrics.Metric] = []
        self.history: Any = None
        self.stop_training = False
        self._resume: dict[str, Any] | None = None
        # The epoch in progress during fit (shuffle order, running means), for backups.
        self._fit_progress: dict[str, Any] | None = None

    def _common_dtype(self) -> np.dtype:
        dtypes = {p.dtype for layer in self.layers for p in layer.params.values()}
        if len(dtypes) > 1:
            raise ValueError(
                f"layers must share one parameter dtype, got {sorted(d.name for d in dtypes)}"
            )
        return dtypes.pop() if dtypes else np.dtype(np.float32)

    def _check_widths(self) -> tuple[int | None, int | None]:
        """Follow the feature width through the layers; a mismatch is an error now, not later."""
        first = width = None
        for i, layer in enumerate(self.layers):
            expected = (
                layer.in_features
                if isinstance(layer, Dense)
                else layer.num_features
                if isinstance(layer, BatchNorm)
                else None
            )
            if expected is not None:
                if width is None:
                    first = width = expected
                elif width != expected:
                    raise ValueError(
                        f"layers[{i}] ({type(layer).__name__}) expects {expected} input "
                        f"features, but the layer before it outputs {width}"
                    )
            if width is not None:
                width = layer.output_width(width)
        return first, width

    # ------------------------------------------------------------ forward/backward

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run ``x`` of shape ``(N, in)`` through every layer; returns ``(N, out)``."""
        return self._forward(self._check_x("x", x))

    def _forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Backpropagate ``dL/dy`` through every layer; returns ``dL/dx``."""
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def _backward_params(self, grad: np.ndarray) -> None:
        """Backward for training: the data needs no gradient, so a first Dense skips it."""
        for layer in self.layers[:0:-1]:
            grad = layer.backward(grad)
        first = self.layers[0]
        if isinstance(first, Dense):
            first.backward(grad, need_input_grad=False)
        else:
            first.backward(grad)

    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(key, param, grad)`` for every parameter, keyed ``"{layer index}.{name}"``."""
        return self._param_slots()

    def _param_slots(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(key, param, grad)`` for every parameter: what an optimizer updates."""
        return [
            (f"{i}.{name}", p, layer.grads[name])
            for i, layer in enumerate(self.layers)
            for name, p in layer.params.items()
        ]

    # ------------------------------------------------------------------- modes

    def train(self) -> Sequential:
        """Training mode for every layer (Dropout drops, BatchNorm uses batch statistics)."""
        for layer in self.layers:
            layer.training = True
        return self

    def eval(self) -> Sequential:
        """Eval mode for every layer (Dropout is the identity, BatchNorm uses running stats)."""
        for layer in self.layers:
            layer.training = False
        return self

    # ------------------------------------------------------------------- state

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every param and buffer, keyed ``"{layer index}.{name}"``."""
        return {key: value.copy() for key, value in self._state_arrays().items()}

    def _state_arrays(self) -> dict[str, np.ndarray]:
        """The live arrays behind ``state_dict`` (no copies)."""
        return {
            f"{i}.{name}": value
            for i, layer in enumerate(self.layers)
            for name, value in (*layer.params.items(), *layer.buffers.items())
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``state`` into the params and buffers; every key, shape and dtype
        must match exactly (checked before anything is written)."""
        saving.check_arrays("state", state, self._state_arrays())
        for key, target in self._state_arrays().items():
            np.copyto(target, state[key])

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Write params and buffers to an ``.npz``, atomically."""
        saving.save_weights(self, path)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Read params and buffers written by ``save_weights`` (or ``save``)."""
        saving.load_weights(self, path)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write architecture, weights, buffers, compile setup and optimizer state to
        one ``.npz``, atomically; ``minitrain.load_model`` rebuilds the model."""
        saving.save_model(self, path)

    def _save_training_state(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
        saving.save_training_state(self, path, meta)

    def _load_training_state(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        return saving.load_training_state(self, path)

    def get_config(self) -> dict[str, Any]:
        return {
            "layers": [
                {"class": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
            "seed": self.seed,
        }

    # ----------------------------------------------------------------- compile

    def compile(
        self,
        optimizer: str | optimizers.Optimizer,
        loss: str | losses.Loss,
        metrics: Sequence[str] | None = None,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        A loss given by name gets ``from_logits`` to match the model's output:
        logits unless the last layer is ``Softmax``. A crossentropy object whose
        ``from_logits`` contradicts the output is a ``ValueError``.
        """
        opt = optimizers.get(optimizer)
        ends_in_softmax = isinstance(self.layers[-1], Softmax)
        if isinstance(loss, str):
            loss_obj = losses.get(loss, from_logits=not ends_in_softmax)
        else:
            loss_obj = losses.get(loss)
            self._check_from_logits(loss_obj, ends_in_softmax)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, Sequence):
            raise TypeError(f"metrics must be a list of names, got {_checks.describe(metrics)}")
        metric_objs = [_metrics_get(name, loss_obj) for name in metrics]
        opt.build(self)
        self.optimizer, self.loss, self.metrics = opt, loss_obj, metric_objs

    @staticmethod
    def _check_from_logits(loss: losses.Loss, ends_in_softmax: bool) -> None:
        if not isinstance(
            loss, losses.CategoricalCrossentropy | losses.SparseCategoricalCrossentropy
        ):
            return
        name = type(loss).__name__
        if ends_in_softmax and loss.from_logits:
            raise ValueError(
                f"loss {name}(from_logits=True) expects logits, but the model ends in Softmax "
                "and outputs probabilities: use from_logits=False, or remove the Softmax layer"
            )
        if not ends_in_softmax and not loss.from_logits:
            raise ValueError(
                f"loss {name}(from_logits=False) expects probabilities, but the model does not "
                "end in Softmax and outputs logits: use from_logits=True, or add a Softmax layer"
            )

    def _require_compiled(self, what: str) -> None:
        if self.optimizer is None or self.loss is None:
            raise NotCompiledError(f"call compile(optimizer, loss) before {what}()")

    # ---------------------------------------------------------- data checking

    def _check_x(self, name: str, x: object) -> np.ndarray:
        """2-D, right width, cast once to the parameters' dtype."""
        x = _checks.array_2d(name, x, width=self.input_width)
        return x.astype(self.dtype, copy=False)

    def _prepare(self, x: object, y: object, x_name: str = "x", y_name: str = "y"):
        """Check a whole data set once (shapes, finiteness, labels) and cast it once."""
        x = self._check_x(x_name, x)
        if not isinstance(y, np.ndarray):
            raise TypeError(f"{y_name} must be a NumPy array, got {_checks.describe(y)}")
        _checks.same_length(x_name, x, y_name, y)
        _checks.finite(x_name, x)
        y = self.loss.prepare_targets(y, self._output_width(x), self.dtype, name=y_name)
        return x, y

    def _output_width(self, x: np.ndarray) -> int:
        """Width of the output for ``x``: a model of activations alone keeps its input's."""
        return self.output_width if self.output_width is not None else x.shape[1]

    # ------------------------------------------------------- one training step

    def train_step(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """One update on one batch: forward, loss, loss gradient, backward, optimizer step.

        Returns the batch's logs: ``{"loss": ..., <metric>: ...}`` (metrics on the
        predictions made before the update). Runs in the current train/eval mode.
        """
        self._require_compiled("train_step")
        x, y = self._prepare(x, y)
        loss, y_pred = self._train_step(x, y)
        return {"loss": loss, **{m.name: m(y, y_pred) for m in self.metrics}}

    def _train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """``train_step`` on checked data: the arithmetic of one update."""
        y_pred = self._forward(x)  # (N, out), caches kept for backward
        loss, grad = self.loss.value_and_gradient(y, y_pred)  # L and dL/dy_pred
        self._backward_params(grad)  # writes every layer's grads
        self.optimizer.step(self)  # params -= update(grads), in place
        return loss, y_pred

    # --------------------------------------------------------------- fit & co.

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        batch_size: int = 32,
        epochs: int = 1,
        verbose: int | str = 1,
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
    ) -> Any:
        """Train for ``epochs`` epochs of mini-batches, firing callbacks in Keras order.

        See ``minitrain.training.fit`` for the loop and ``minitrain.callbacks``
        for the hook order. Returns the ``History`` (also kept on ``self.history``).
        Any real ``x`` (bool, integer, float16, float32 or float64) is cast once to
        the parameters' dtype; complex, string and object arrays are a ``TypeError``.
        """
        return training.fit(
            self,
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            initial_epoch=initial_epoch,
        )

    def evaluate(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        batch_size: int = 32,
        verbose: int | str = 0,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss (and metrics) over ``(x, y)`` in eval mode under ``no_grad``.

        Returns the loss alone without metrics, else ``[loss, *metrics]``, or
        ``{"loss": ..., <metric>: ...}`` with ``return_dict=True``. The previous
        mode of every layer is restored. Any real ``x`` (bool, integer, float16,
        float32 or float64) is cast once to the parameters' dtype; complex, string
        and object arrays are a ``TypeError``.
        """
        self._require_compiled("evaluate")
        batch_size = _checks.positive_int("batch_size", batch_size)
        verbose = training.check_verbose(verbose)
        x, y = self._prepare(x, y)
        logs = training.evaluate_arrays(self, x, y, batch_size)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: np.ndarray, *, batch_size: int = 32, verbose: int | str = 0) -> np.ndarray:
        """Outputs for ``x`` of shape ``(N, in)``, in batches, in eval mode under ``no_grad``.

        Any real ``x`` (bool, integer, float16, float32 or float64) is cast once to
        the parameters' dtype (complex, string and object arrays are a ``TypeError``):
        each batch as it is taken, and no layer keeps a cache, so the extra memory
        is one batch's activations plus the output. Every layer's previous mode is
        restored; BatchNorm running statistics are left unchanged.
        """
        batch_size = _checks.positive_int("batch_size", batch_size)
        training.check_verbose(verbose)
        x = _checks.array_2d("x", x, width=self.input_width)
        out = np.empty((len(x), self._output_width(x)), dtype=self.dtype)
        with training.eval_mode(self), no_grad():
            for start in range(0, len(x), batch_size):
                xb = x[start : start + batch_size].astype(self.dtype, copy=False)
                out[start : start + len(xb)] = self._forward(xb)
        return out

    # ----------------------------------------------------------------- summary

    def summary(self, print_fn: Any = print) -> None:
        """Print a table of layers, output widths and parameter counts."""
        rows = [("Layer", "Output width", "Params")]
        width = self.input_width
        total = 0
        for i, layer in enumerate(self.layers):
            width = layer.output_width(width) if width is not None else None
            count = sum(p.size for p in layer.params.values())
            total += count
            rows.append((f"{i}: {layer!r}", "?" if width is None else str(width), f"{count:,}"))
        col = [max(len(r[c]) for r in rows) for c in range(3)]
        rule = "-" * (sum(col) + 4)
        lines = [rule]
        for j, (a, b, c) in enumerate(rows):
            lines.append(f"{a:<{col[0]}}  {b:>{col[1]}}  {c:>{col[2]}}")
            if j == 0:
                lines.append(rule)
        buffers = sum(b.size for layer in self.layers for b in layer.buffers.values())
        lines += [rule, f"Trainable params: {total:,}", f"Non-trainable (buffers): {buffers:,}"]
        print_fn("\n".join(lines))

    def __repr__(self) -> str:
        inner = ",\n".join(f"    {layer!r}" for layer in self.layers)
        return f"Sequential([\n{inner}\n])"


def _metrics_get(name: object, loss: losses.Loss) -> metrics.Metric:
    if not isinstance(name, str):
        raise TypeError(f"metrics entries must be metric names, got {_checks.describe(name)}")
    return metrics.get(name, loss)


_ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
}


def MLP(  # noqa: N802 - a builder named like the class it builds, as in Keras
    sizes: Sequence[int],
    *,
    activation: str = "relu",
    batchnorm: bool = False,
    dropout: float = 0.0,
    output: str = "logits",
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """A multilayer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Each hidden layer is ``Dense`` [+ ``BatchNorm``] + activation [+ ``Dropout``];
    the last is a ``Dense`` (+ ``Softmax`` when ``output="softmax"``). A Dense
    followed by BatchNorm has no bias: BatchNorm subtracts the batch mean, which
    cancels any bias, so its true gradient is exactly zero. Hidden layers of the
    ReLU family start from He initialisation, sigmoid and tanh ones and the
    output layer (no ReLU follows it) from Glorot. The seed draws
    the weights and seeds the model (shuffling, Dropout masks), from two
    independent streams.
    """
    if isinstance(sizes, str) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of ints, got {_checks.describe(sizes)}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least an input and an output width, got {sizes!r}")
    sizes = [_checks.positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    _checks.one_of("activation", activation, _ACTIVATIONS)
    _checks.one_of("output", output, ("logits", "softmax"))
    dropout = _checks.real_in_range("dropout", dropout, 0.0, 1.0, high_open=True)
    if seed is not None and not _checks.is_int(seed):
        raise TypeError(f"seed must be an int or None, got {_checks.describe(seed)}")
    init = "he_uniform" if activation in ("relu", "leaky_relu") else "glorot_uniform"
    init_seed, model_seed = np.random.SeedSequence(seed).spawn(2)
    init_rng = np.random.default_rng(init_seed)
    layers: list[Layer] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers.append(
            Dense(fan_in, fan_out, use_bias=not batchnorm, init=init, seed=init_rng, dtype=dtype)
        )
        if batchnorm:
            layers.append(BatchNorm(fan_out, dtype=dtype))
        layers.append(_ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout))
    layers.append(Dense(sizes[-2], sizes[-1], init="glorot_uniform", seed=init_rng, dtype=dtype))
    if output == "softmax":
        layers.append(Softmax())
    model_seed_int = None if seed is None else int(model_seed.generate_state(1)[0])
    return Sequential(layers, seed=model_seed_int)
