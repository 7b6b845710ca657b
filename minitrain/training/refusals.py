"""Refuse early, never mid-run: a training batch a layer cannot take is found before the
first update (BatchNorm needs two samples; the last batch of 33 with ``batch_size=32``
has one), and the error names a ``batch_size`` that works."""

from __future__ import annotations

from typing import Any

from ..data.dataset import Adapter, ArrayAdapter


def _min_training_batch(model: Any) -> tuple[int, int, Any]:
    """The smallest batch every layer accepts in training mode, and the layer that sets it."""
    need, index, which = 1, -1, None
    for i, layer in enumerate(model.layers):
        n = getattr(layer, "min_training_batch", 1)
        if n > need:
            need, index, which = n, i, layer
    return need, index, which


def _working_batch_sizes(n: int, batch_size: int, need: int) -> list[int]:
    """The batch sizes nearest ``batch_size`` (one below, one above) whose every batch holds
    at least ``need`` of the ``n`` samples."""

    def works(b: int) -> bool:
        return b >= need and (n % b == 0 or n % b >= need)

    below = next((b for b in range(batch_size - 1, need - 1, -1) if works(b)), None)
    above = next((b for b in range(batch_size + 1, n + 1) if works(b)), None)
    return [b for b in (below, above) if b is not None]


def refusal(model: Any, size: int, where: str, suggestion: str) -> ValueError:
    need, index, layer = _min_training_batch(model)
    name = type(layer).__name__
    other = (
        ", or use BatchNormalization (the Keras layer), which accepts a batch of one"
        if name == "BatchNorm"
        else ""
    )
    return ValueError(
        f"{where} holds {size} sample(s), but layers[{index}] ({name}) needs at least {need} "
        f"per batch in training mode; {suggestion}{other}. Nothing was trained."
    )


def refuse_small_batches(model: Any, adapter: Adapter) -> int:
    """Refuse, before the first update, a pass of arrays whose last batch a layer cannot
    take (BatchNorm and a batch of one). Returns the smallest batch accepted, which the
    loop checks streamed batches against as they come."""
    need = _min_training_batch(model)[0]
    if need <= 1 or not isinstance(adapter, ArrayAdapter):
        return need
    n, b = adapter.num_samples, adapter.batch_size
    last = adapter.last_batch_size()
    if last >= need:
        return need
    options = _working_batch_sizes(n, b, need)
    if not options:
        hint = f"pass at least {need} training samples"
    else:
        hint = "pass " + " or ".join(f"batch_size={o}" for o in options)
    where = f"with {n} training samples and batch_size={b}, the last batch of each epoch"
    raise refusal(model, last, where, hint)
