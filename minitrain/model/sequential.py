"""``Sequential``: layers run in order, forward and backward, with their modes and state."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _checks, losses, metrics, optimizers, saving
from ..layers import (
    Dense,
    Dropout,
    Layer,
)
from ..layers.base import check_weight
from ..training import Trainer
from .compiling import Compiling
from .widths import _HOW_TO_BUILD, _common_dtype, _follow_widths, _input_width_of


class Sequential(Compiling, Trainer):
    """Layers applied one after another: ``y = layers[-1](... layers[0](x))``.

    Parameters
    ----------
    layers : sequence of Layer, optional
        The layers in order; more may be appended with ``add``.
    seed : int or None
        Seeds the model's two generators: ``rng``, which shuffles the data in
        ``fit`` and draws the masks of every ``Dropout`` built without a seed of
        its own, and the build generator, which draws the weights of every layer
        built late without a seed of its own. Same seed, same data:
        bit-identical History and weights.
    """

    def __init__(self, layers: Sequence[Layer] | None = None, *, seed: int | None = None) -> None:
        if layers is None:
            layers = []
        if isinstance(layers, Layer | str) or not isinstance(layers, Sequence):
            raise TypeError(f"layers must be a list of Layer, got {_checks.describe(layers)}")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a Layer, got {_checks.describe(layer)}")
        if seed is not None and not _checks.is_int(seed):
            raise TypeError(f"seed must be an int or None, got {_checks.describe(seed)}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        # A child of the seed: independent of rng, so building draws no shuffle.
        self._build_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        self._build_width: int | None = None  # the width given to build() or by a batch
        self.layers: list[Layer] = []
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: losses.Loss | None = None
        self.metrics: list[metrics.Metric] = []
        self.weighted_metrics: list[metrics.Metric] = []
        self.history: Any = None
        self.stop_training = False
        self._resume: dict[str, Any] | None = None
        # The epoch in progress during fit, for backups: {"arrays": {name: array}}.
        self._fit_progress: dict[str, Any] | None = None
        self._settle(list(layers), self._build_width)

    # ---------------------------------------------------------------- building

    def add(self, layer: Layer) -> None:
        """Append ``layer``; it is built at once when the width reaching it is known.

        A layer whose width contradicts the model's is a ``ValueError``, and the
        model is left as it was.
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a Layer, got {_checks.describe(layer)}")
        self._settle([*self.layers, layer], self._build_width)

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Build every layer for inputs of shape ``input_shape``.

        Parameters
        ----------
        input_shape : tuple
            Keras's ``(None, F)`` (batch size unknown) or ``(F,)``. ``F`` must
            agree with an ``Input`` or a layer already built; a contradiction is
            a ``ValueError`` that changes nothing.
        """
        width = _input_width_of(input_shape)
        if not self.layers:
            raise ValueError("the model has no layers to build: add(layer) first")
        if self.input_width is not None and width != self.input_width:
            i, layer = self._width_source()
            raise ValueError(
                f"input_shape {tuple(input_shape)!r} gives {width} features, but the model "
                f"takes {self.input_width} (layers[{i}] {layer!r})"
            )
        self._settle(self.layers, width)

    def _settle(self, layers: list[Layer], build_width: int | None) -> None:
        """Check the widths along ``layers``, then build what can be built and adopt them.

        The widths and dtypes are checked before any layer is built or any
        attribute is set, so a refused add/build/constructor leaves the model as
        it was. A compiled model builds its optimizer for the new parameters; an
        optimizer that already holds state for others refuses, and the model
        goes back to its previous layers.
        """
        widths = _follow_widths(layers, build_width)
        _common_dtype(layers)
        for layer, width in zip(layers, widths, strict=True):
            if width is None:
                break  # build in layer order only: the draws must not depend on the path
            if not layer.built:
                layer.build(width, rng=self._build_rng)
        for layer in layers:
            if isinstance(layer, Dropout) and layer.rng is None:
                layer.rng = self.rng
        previous = (self.layers, self._build_width)
        self._adopt(layers, build_width, widths)
        if self.built and self.optimizer is not None:
            try:
                self.optimizer.build(self)
            except ValueError as err:
                self._adopt(*previous, _follow_widths(*previous))
                raise ValueError(f"{err} (compile again after changing the layers)") from None

    def _adopt(self, layers: list[Layer], build_width: int | None, widths: list) -> None:
        """Take ``layers`` (already checked and built as far as they can be)."""
        self.layers = layers
        self._build_width = build_width
        self.dtype = _common_dtype(layers)
        self.input_width = widths[0] if widths else None
        last = layers[-1] if layers else None
        self.output_width = (
            last.output_width(widths[-1]) if last is not None and widths[-1] is not None else None
        )

    def _width_source(self) -> tuple[int, Layer]:
        """The first layer that fixes the input width (for error messages)."""
        for i, layer in enumerate(self.layers):
            if layer.input_width is not None:
                return i, layer
        return 0, self.layers[0]

    @property
    def built(self) -> bool:
        """True when every layer is built (a model of activations alone always is)."""
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def _build_for(self, name: str, x: object) -> None:
        """Build an unbuilt model from the width of its first batch ``x``."""
        if not self.layers:
            raise ValueError("the model has no layers: add(layer) first")
        if not self.built:
            self.build((None, _checks.array_2d(name, x).shape[1]))

    def count_params(self) -> int:
        """Number of values in every param and buffer (Keras counts both)."""
        if not self.built:
            raise ValueError(
                "count_params() needs a built model: " + _HOW_TO_BUILD + f", for {self!r}"
            )
        return sum(
            a.size
            for layer in self.layers
            for a in (*layer.params.values(), *layer.buffers.values())
        )

    # ------------------------------------------------------------ forward/backward

    def __call__(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        return self.forward(x, training)

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        """Run ``x`` of shape ``(N, in)`` through every layer; returns ``(N, out)``.

        ``training=None`` lets each layer use its own mode; True or False run
        every layer in that mode for this call only. An unbuilt model builds
        from ``x``'s width.
        """
        self._build_for("x", x)
        return self._forward(self._check_x("x", x), training)

    def _forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        """Forward on checked data (2-D, right width, the model's dtype)."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Backpropagate ``dL/dy`` through every layer; returns ``dL/dx``."""
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def _backward_params(self, grad: np.ndarray) -> None:
        """Backward for training: the data needs no gradient, so the walk stops at the
        first layer with parameters, and a first Dense skips its input gradient."""
        first = next((i for i, layer in enumerate(self.layers) if layer.params), None)
        if first is None:
            return
        for layer in self.layers[:first:-1]:
            grad = layer.backward(grad)
        layer = self.layers[first]
        if isinstance(layer, Dense):
            layer.backward(grad, need_input_grad=False)
        else:
            layer.backward(grad)

    # ------------------------------------------------------- parameters (PyTorch)

    def parameters(self) -> list[np.ndarray]:
        """Every trainable array, in ``state_dict`` order (PyTorch's ``parameters()``)."""
        return [p for layer in self.layers for p in layer.params.values()]

    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        """``(key, param)`` pairs as PyTorch, keyed like ``state_dict``: ``"0.W"``."""
        return [(key, p) for key, p, _ in self._param_slots()]

    def _param_slots(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(key, param, grad)`` for every parameter: what an optimizer updates."""
        return [
            (f"{i}.{name}", p, layer.grads[name])
            for i, layer in enumerate(self.layers)
            for name, p in layer.params.items()
        ]

    def zero_grad(self) -> None:
        """Set every gradient to 0, in place (the arrays stay the same objects)."""
        for layer in self.layers:
            for g in layer.grads.values():
                g.fill(0)

    # ------------------------------------------------------------------- modes

    def train(self, mode: bool = True) -> Sequential:
        """Training mode for every layer (Dropout drops, batch norms use batch
        statistics); ``train(False)`` is ``eval()``. Returns the model, as PyTorch."""
        if not isinstance(mode, bool | np.bool_):
            raise TypeError(f"mode must be a bool, got {_checks.describe(mode)}")
        for layer in self.layers:
            layer.training = bool(mode)
        return self

    def eval(self) -> Sequential:
        """Eval mode for every layer (Dropout is the identity, batch norms use running stats)."""
        return self.train(False)

    @property
    def training(self) -> bool:
        """True when every layer is in training mode."""
        return all(layer.training for layer in self.layers)

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

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every layer's weights in Keras order (Dense ``[W, b]``, BatchNorm
        ``[gamma, beta, running_mean, running_var]``), layer after layer."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (in ``get_weights`` order) into the layers.

        The count, every shape and every dtype are checked against the whole
        model before any layer is written, so a refused call changes nothing.
        """
        expected = [(i, layer, layer.get_weights()) for i, layer in enumerate(self.layers)]
        total = sum(len(current) for _, _, current in expected)
        if isinstance(weights, np.ndarray) or not isinstance(weights, list | tuple):
            raise TypeError(
                f"weights must be a list of {total} arrays (the order of get_weights()), "
                f"got {_checks.describe(weights)}"
            )
        if len(weights) != total:
            unbuilt = "" if self.built else " (the model is not built yet)"
            raise ValueError(
                f"weights must hold {total} arrays, the model's get_weights(){unbuilt}, "
                f"got {len(weights)}"
            )
        k = 0
        for i, layer, current in expected:
            for target in current:
                check_weight(
                    f"weights[{k}] (layers[{i}] {type(layer).__name__})", target, weights[k]
                )
                k += 1
        k = 0
        for _, layer, current in expected:
            layer.set_weights(list(weights[k : k + len(current)]))
            k += len(current)

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
        # The fit loop may check what its fit/ arrays mean before anything is written.
        check = getattr(self, "_check_fit_progress", None)
        return saving.load_training_state(self, path, check_progress=check)

    def get_config(self) -> dict[str, Any]:
        """The architecture: each layer's config, the seed, and the width given to
        ``build`` (Keras's ``build_input_shape``), JSON-able."""
        return {
            "layers": [
                {"class": type(layer).__name__, "config": layer.get_config()}
                for layer in self.layers
            ],
            "seed": self.seed,
            "build_input_shape": None if self._build_width is None else [None, self._build_width],
        }

    # ---------------------------------------------------------- data checking

    def _check_x(self, name: str, x: object) -> np.ndarray:
        """2-D, right width, cast once to the parameters' dtype."""
        x = _checks.array_2d(name, x, width=self.input_width)
        return x.astype(self.dtype, copy=False)

    def _prepare(self, x: object, y: object, x_name: str = "x", y_name: str = "y"):
        """Check a whole data set once (shapes, finiteness, labels) and cast it once;
        an unbuilt model builds from ``x``'s width first."""
        self._build_for(x_name, x)
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

    def train_step(
        self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> dict[str, float]:
        """One update on one batch: forward, loss, loss gradient, backward, optimizer step.

        Parameters
        ----------
        x : ndarray of shape (N, F)
        y : ndarray
            Targets as the loss takes them (labels, one-hot, values).
        sample_weight : ndarray of shape (N,), optional
            Weights the loss (``sum_i w_i l_i / N``) and the ``weighted_metrics``.

        Returns
        -------
        dict
            ``{"loss": ..., <metric>: ...}`` of this batch alone: each metric is
            reset, then updated with the predictions made before the update (as
            Keras's ``train_on_batch``). The forward runs in training mode.
        """
        self._require_compiled("train_step")
        x, y = self._prepare(x, y)
        if sample_weight is not None:
            sample_weight = losses.prepare_sample_weight(sample_weight, len(x), self.dtype)
        loss, y_pred = self._train_step(x, y, sample_weight)
        logs = {"loss": loss}
        for metric_list, weights in ((self.metrics, None), (self.weighted_metrics, sample_weight)):
            for m in metric_list:
                m.reset_state()
                m.update_state(y, y_pred, sample_weight=weights)
                logs[m.name] = m.result()
        return logs

    def _train_step(
        self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """``train_step`` on checked data, metrics untouched: the arithmetic of one update."""
        y_pred = self._forward(x, training=True)  # (N, out), caches kept for backward
        loss, grad = self.loss.value_and_gradient(y, y_pred, sample_weight)  # L, dL/dy_pred
        self._backward_params(grad)  # writes every layer's grads
        self.optimizer.step(self)  # params -= update(grads), in place
        return loss, y_pred

    # ----------------------------------------------------------------- summary

    def summary(self, print_fn: Any = print) -> None:
        """Print a table of layers, output widths and parameter counts.

        An unbuilt model prints its layers with ``?`` for what is not known yet
        and says how to build it.
        """
        rows = [("Layer", "Output width", "Params")]
        widths = _follow_widths(self.layers, self._build_width)
        total = 0
        for i, (layer, width) in enumerate(zip(self.layers, widths, strict=True)):
            out = layer.output_width(width) if width is not None else None
            count = sum(p.size for p in layer.params.values())
            total += count
            shown = f"{count:,}" if layer.built else "? (unbuilt)"
            rows.append((f"{i}: {layer!r}", "?" if out is None else str(out), shown))
        col = [max(len(r[c]) for r in rows) for c in range(3)]
        rule = "-" * (sum(col) + 4)
        lines = [rule]
        for j, (a, b, c) in enumerate(rows):
            lines.append(f"{a:<{col[0]}}  {b:>{col[1]}}  {c:>{col[2]}}")
            if j == 0:
                lines.append(rule)
        lines.append(rule)
        if self.built:
            buffers = sum(b.size for layer in self.layers for b in layer.buffers.values())
            lines += [
                f"Total params: {total + buffers:,}",
                f"Trainable params: {total:,}",
                f"Non-trainable (buffers): {buffers:,}",
            ]
        else:
            lines.append("The model is not built yet: " + _HOW_TO_BUILD + ".")
        print_fn("\n".join(lines))

    def __repr__(self) -> str:
        if not self.layers:
            return "Sequential([])"
        inner = ",\n".join(f"    {layer!r}" for layer in self.layers)
        return f"Sequential([\n{inner}\n])"
