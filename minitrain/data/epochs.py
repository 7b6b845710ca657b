"""Epochs of batches from an adapter, as Keras 3's ``EpochIterator`` cuts them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import _checks
from .dataset import Adapter


def ran_out_warning() -> None:
    """Keras's warning when an input ends before ``steps_per_epoch`` batches, at the user's line."""
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure that your data set "
        "or generator can generate at least steps_per_epoch * epochs batches.",
        UserWarning,
        stacklevel=_checks.caller_stacklevel(),
    )


class EpochIterator:
    """Epochs of batches from one adapter, as Keras 3's ``EpochIterator``.

    Without ``steps_per_epoch`` an epoch is one whole pass (a generator: until it is
    exhausted). With it, an epoch is ``steps_per_epoch`` batches and the pass goes on
    across epochs; when a pass of a sized input ends inside an epoch, the epoch ends
    there with a warning and the next one starts a new pass (Keras 3.15.1). An input
    of unknown size that runs out sets ``ran_out`` (``fit`` then stops, with a warning).
    """

    def __init__(self, adapter: Adapter, steps_per_epoch: int | None = None) -> None:
        self.adapter = adapter
        self.steps_per_epoch = steps_per_epoch
        self.in_pass = False
        self.ran_out = False

    @property
    def num_batches(self) -> int | None:
        return self.steps_per_epoch or self.adapter.num_batches

    def resume(self, order: np.ndarray | None, position: int) -> None:
        """Continue a pass a backup recorded."""
        self.adapter.start_pass(order, position)
        self.in_pass = True

    def reset(self) -> None:
        """Start the next epoch on a new pass; a Dataset's ``on_epoch_end`` is called, as
        Keras's ``EpochIterator.reset`` does before ``fit`` and each ``evaluate``."""
        self.in_pass = False
        self.ran_out = False
        self.adapter.on_epoch_end()

    def epoch(self, first_step: int = 0) -> Iterator[tuple[int, tuple[np.ndarray, Any, Any]]]:
        """``(step, (x, y, w))`` for each batch of the next epoch; ``step`` 0-based, from
        ``first_step`` in an epoch resumed from a backup."""
        adapter, sized = self.adapter, self.adapter.num_batches is not None
        steps = self.num_batches
        if not self.in_pass:
            adapter.start_pass()
            self.in_pass = True
        step = first_step
        while steps is None or step < steps:
            if sized and adapter.position >= adapter.num_batches:
                if self.steps_per_epoch:
                    ran_out_warning()
                break
            batch = adapter.next_batch()
            if batch is None:  # an iterator is exhausted
                if step == 0 or self.steps_per_epoch:
                    self.ran_out = True
                break
            yield step, batch
            step += 1
        if sized and adapter.position >= adapter.num_batches:
            self.in_pass = False
        adapter.on_epoch_end()
