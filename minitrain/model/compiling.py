"""``compile``: the optimizer, the loss (``from_logits`` matched to the output) and the metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _checks, losses, metrics, optimizers
from ..layers import Dense, Sigmoid, Softmax

_COMPILE_KEYWORDS = ("optimizer", "loss", "metrics", "weighted_metrics")


class NotCompiledError(ValueError, RuntimeError):
    """``fit``/``evaluate``/``train_step`` before ``compile`` (a ``RuntimeError`` in Keras)."""


class Compiling:
    """The training setup of a model: ``compile`` and what it resolves.

    Mixed into ``Sequential``, which provides ``layers`` and ``built``.
    """

    def compile(
        self,
        optimizer: str | optimizers.Optimizer = "rmsprop",
        loss: str | losses.Loss | None = None,
        metrics: Sequence[str | metrics.Metric] | None = None,
        weighted_metrics: Sequence[str | metrics.Metric] | None = None,
        **kwargs: Any,
    ) -> None:
        """Choose the optimizer, the loss and the metrics to report (Keras 3).

        Parameters
        ----------
        optimizer : str or Optimizer
            ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"`` (the
            defaults of API.md) or an optimizer object.
        loss : str or Loss
            A loss given by name gets ``from_logits`` to match the model's output:
            probabilities after a final ``Softmax`` or ``Sigmoid`` (a layer, or the
            last Dense's ``activation``), logits otherwise. A loss object whose
            ``from_logits`` contradicts the output is a ``ValueError`` saying
            which to change.
        metrics : list of str or Metric
            Reported beside the loss, logged under the names as given
            (``"acc"`` logs ``acc``); they ignore sample and class weights.
        weighted_metrics : list of str or Metric
            Like ``metrics``, but weighted by the sample (or class) weights.

        An unknown keyword is a ``TypeError`` naming the closest valid one.
        Nothing is changed unless every argument is valid.
        """
        _checks.no_unknown_keywords("compile", kwargs, _COMPILE_KEYWORDS)
        opt = optimizers.get(optimizer)
        loss_obj = None if loss is None else self._resolve_loss(loss)
        metric_objs = _resolve_metrics("metrics", metrics, loss_obj)
        weighted_objs = _resolve_metrics("weighted_metrics", weighted_metrics, loss_obj)
        if self.built:
            opt.build(self)  # an unbuilt model builds its optimizer when it builds
        self.optimizer, self.loss = opt, loss_obj
        self.metrics, self.weighted_metrics = metric_objs, weighted_objs

    def _output_kind(self) -> tuple[str | None, str]:
        """``("Softmax" | "Sigmoid" | None, what to remove to get logits)`` for the last layer."""
        last = self.layers[-1] if self.layers else None
        if isinstance(last, Softmax | Sigmoid):
            name = type(last).__name__
            return name, f"the {name} layer"
        if isinstance(last, Dense) and isinstance(last.activation, Softmax | Sigmoid):
            name = type(last.activation).__name__
            return name, f"activation={name.lower()!r} from the last Dense"
        return None, ""

    def _resolve_loss(self, loss: str | losses.Loss) -> losses.Loss:
        """The loss object, with ``from_logits`` matched to (or checked against) the output."""
        kind, removal = self._output_kind()
        probabilities = kind is not None
        if isinstance(loss, str):
            return losses.get(loss, from_logits=not probabilities)
        loss_obj = losses.get(loss)
        from_logits = getattr(loss_obj, "from_logits", None)  # the crossentropies have one
        if from_logits is None:
            return loss_obj
        name = type(loss_obj).__name__
        if probabilities and from_logits:
            raise ValueError(
                f"loss {name}(from_logits=True) expects logits, but the model ends in "
                f"{kind} and outputs probabilities: use from_logits=False, or remove {removal}"
            )
        if not probabilities and not from_logits:
            wanted = "Sigmoid" if name == "BinaryCrossentropy" else "Softmax"
            raise ValueError(
                f"loss {name}(from_logits=False) expects probabilities, but the model does not "
                f"end in {wanted} and outputs logits: use from_logits=True, or add a {wanted} "
                f"layer (or activation={wanted.lower()!r} on the last Dense)"
            )
        return loss_obj

    def _require_compiled(self, what: str) -> None:
        if self.optimizer is None or self.loss is None:
            raise NotCompiledError(f"call compile(optimizer, loss) before {what}()")


def _resolve_metrics(name: str, entries: object, loss: losses.Loss | None) -> list[metrics.Metric]:
    """``compile``'s ``metrics``/``weighted_metrics``: metric objects, names as given."""
    if entries is None:
        return []
    if isinstance(entries, str) or not isinstance(entries, Sequence):
        raise TypeError(
            f"{name} must be a list of metric names or Metric objects, "
            f"got {_checks.describe(entries)}"
        )
    return [metrics.get(entry, loss=loss) for entry in entries]
