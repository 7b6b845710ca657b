"""minitrain: a from-scratch NumPy neural-network trainer.

Every layer's backward pass is written by hand next to its forward; ``fit``
fires the Keras callback suite in Keras order. Read the modules in this order:
``layers`` -> ``losses`` -> ``optimizers`` -> ``schedules`` -> ``model`` ->
``training`` -> ``callbacks`` -> ``grad_mode`` -> ``saving``.

>>> import minitrain as mt
>>> model = mt.MLP([2, 64, 3], batchnorm=True, seed=0)
>>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
"""

from . import callbacks, data, grad_mode, layers, losses, metrics, optimizers, plot, schedules
from .callbacks import (
    BackupAndRestore,
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import gradcheck
from .layers import BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .losses import CategoricalCrossentropy, MeanSquaredError, SparseCategoricalCrossentropy
from .model import MLP, NotCompiledError, Sequential
from .optimizers import SGD, Adam, AdamW, Optimizer
from .saving import load_model
from .schedules import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseSqrtDecay,
    LinearDecay,
    PiecewiseConstantDecay,
    StepDecay,
)

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "data",
    "grad_mode",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "plot",
    "schedules",
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "gradcheck",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "BatchNorm",
    "Dense",
    "Dropout",
    "Layer",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "CategoricalCrossentropy",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "MLP",
    "NotCompiledError",
    "Sequential",
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "load_model",
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "InverseSqrtDecay",
    "LinearDecay",
    "PiecewiseConstantDecay",
    "StepDecay",
]
