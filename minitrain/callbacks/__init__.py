"""Callbacks: code that ``fit`` runs at fixed points of training (Keras 3 semantics).

``fit`` wraps the user's callbacks, a ``History`` and the progress printer in
one ``CallbackList`` and calls its hooks in this order (indices 0-based,
epochs absolute)::

    callbacks.on_train_begin({})
    for epoch in range(initial_epoch, epochs):
        callbacks.on_epoch_begin(epoch, {})
        for batch in range(steps):
            callbacks.on_train_batch_begin(batch, {})
            ...                                         # one train_step
            callbacks.on_train_batch_end(batch, running_logs)
            if model.stop_training:
                break                                   # the partial epoch is still validated
        if validating and (epoch + 1) % validation_freq == 0:
            callbacks.on_test_begin({})
            for batch in range(validation_steps):
                callbacks.on_test_batch_begin(batch, {})
                callbacks.on_test_batch_end(batch, running_validation_logs)
            callbacks.on_test_end(validation_logs)
        callbacks.on_epoch_end(epoch, epoch_logs)       # loss, metrics, val_*, learning_rate
        if model.stop_training:
            break
    callbacks.on_train_end(epoch_logs)                  # skipped when an exception leaves fit

``running_logs`` hold the sample-weighted means of the loss and metrics since
the epoch began. The user's callbacks run in the order given, then
``History``, then the progress printer. ``Callback`` documents each hook.

Every callback has Keras 3.15.1's name, arguments, defaults and behaviour,
quirks included (each docstring lists them); where minitrain deliberately
differs, the docstring says so.
"""

from .backup_and_restore import BackupAndRestore
from .base import Callback
from .callback_list import CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .gradient_flow import GradientFlow
from .history import History
from .lambda_callback import LambdaCallback
from .lr_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .monitor import MonitorCallback
from .progress import ProgbarLogger
from .reduce_lr import ReduceLROnPlateau
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientFlow",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
