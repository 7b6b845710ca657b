"""The ``Callback`` base class: one no-op method per hook of ``fit``.

This class is the specification of the hooks: each method's docstring says
when ``fit`` (or ``evaluate``/``predict``) calls it and what ``logs`` holds.
A subclass overrides only the hooks it needs; hooks it leaves alone cost
nothing, because ``CallbackList`` skips batch hooks nobody overrides.
"""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class of every callback (Keras 3 ``keras.callbacks.Callback``).

    ``fit`` calls the hooks below in a fixed order (see the
    ``minitrain.callbacks`` module docstring for the loop). Epoch and batch
    indices are 0-based; epochs are absolute, so a ``fit`` started at
    ``initial_epoch=3`` calls ``on_epoch_begin(3)`` first. ``*_begin`` hooks
    get an empty dict. Every ``logs`` value is a Python ``float``.

    Attributes
    ----------
    model : Sequential or None
        The model being trained, set by ``set_model`` before ``on_train_begin``.
        A callback stops training by setting ``self.model.stop_training = True``.
    params : dict
        The run's parameters, set by ``set_params``: ``verbose``, ``epochs``
        (the ``epochs`` argument of ``fit``, absolute) and ``steps`` (training
        batches per epoch).
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Attach the model the hooks act on."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Store the run's parameters (``verbose``, ``epochs``, ``steps``)."""
        self.params = params

    # ----------------------------------------------------------------- training
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called once when ``fit`` starts, before the first epoch.

        Stateful callbacks reset their state here, so that one instance can
        serve several ``fit`` calls. ``logs`` is empty.
        """

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called once when ``fit`` ends normally (after an early stop too).

        ``logs`` holds the last epoch's logs. Not called when an exception
        leaves ``fit``.
        """

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called at the start of epoch ``epoch`` (0-based, absolute). ``logs`` is empty."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called at the end of epoch ``epoch``, after validation.

        ``logs`` holds ``loss``, each metric, their ``val_`` versions when
        validating, and ``learning_rate``. Callbacks may add keys; later
        callbacks (and ``History``, which runs after the user's callbacks) see them.
        """

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before training batch ``batch`` (0-based within the epoch).

        ``logs`` is empty. The default forwards to the older name
        ``on_batch_begin``, as Keras does.
        """
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after training batch ``batch`` and its optimizer update.

        ``logs`` holds the running, sample-weighted means of ``loss`` and each
        metric since the epoch began. The default forwards to ``on_batch_end``.
        """
        self.on_batch_end(batch, logs=logs)

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Older name of ``on_train_batch_begin``, kept as in Keras."""

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Older name of ``on_train_batch_end``, kept as in Keras."""

    # --------------------------------------------------------------- evaluation
    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called when ``evaluate`` starts, or when ``fit`` starts validating an epoch
        (every ``validation_freq``-th epoch)."""

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called when evaluation or validation ends; ``logs`` holds its final means
        (without the ``val_`` prefix)."""

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before evaluation or validation batch ``batch``. ``logs`` is empty."""

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after evaluation or validation batch ``batch``; ``logs`` holds the
        running means since evaluation began (without the ``val_`` prefix)."""

    # --------------------------------------------------------------- prediction
    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called when ``predict`` starts. ``logs`` is empty."""

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called when ``predict`` ends. ``logs`` is empty."""

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before prediction batch ``batch`` (0-based). ``logs`` is empty."""

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after prediction batch ``batch``; ``logs`` is ``{"outputs": y}``, the
        batch's outputs of shape ``(B, outputs)`` (Keras 3)."""


def overrides(callback: Callback, *hooks: str) -> bool:
    """True when ``callback`` replaces any of ``hooks`` (in its class or on the instance)."""
    for hook in hooks:
        if hook in vars(callback):  # set on the instance, as LambdaCallback does
            return True
        if getattr(type(callback), hook) is not getattr(Callback, hook):
            return True
    return False


class BatchCounter:
    """When an int ``save_freq`` is due: counts training batches across epochs, as
    Keras does, restarting with each ``fit`` (``reset`` in ``on_train_begin``).

    ``save_freq="epoch"`` is never due after a batch.
    """

    def __init__(self, save_freq: str | int) -> None:
        self.save_freq = save_freq
        self.seen = 0

    def reset(self) -> None:
        self.seen = 0

    def step(self) -> bool:
        """Count one batch; True when a save is due."""
        if self.save_freq == "epoch":
            return False
        self.seen += 1
        if self.seen < self.save_freq:
            return False
        self.seen = 0
        return True
