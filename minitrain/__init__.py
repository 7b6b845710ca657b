"""minitrain: a from-scratch NumPy neural-network trainer.

Every layer's backward pass is written by hand next to its forward; ``fit``
fires the Keras callback suite in Keras order. Read the packages in this order:
``layers`` -> ``losses`` -> ``metrics`` -> ``optimizers`` -> ``schedules`` ->
``model`` -> ``training`` -> ``callbacks`` -> ``grad_mode`` -> ``saving``. The
bridges (``minitrain.interop`` for PyTorch and Keras, ``minitrain.sklearn``)
are imported through their modules only, so that ``import minitrain`` never
imports torch, keras or scikit-learn.

>>> import minitrain as mt
>>> model = mt.MLP([2, 64, 3], batchnorm=True, seed=0)
>>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
"""

from . import (
    callbacks,
    data,
    grad_mode,
    initializers,
    layers,
    losses,
    lr_finder,
    metrics,
    optimizers,
    plot,
    schedules,
)
from .callbacks import (
    BackupAndRestore,
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    GradientFlow,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import gradcheck
from .layers import (
    BatchNorm,
    BatchNormalization,
    Dense,
    Dropout,
    Input,
    Layer,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from .lr_finder import lr_find
from .model import MLP, NotCompiledError, Sequential
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .saving import load_model
from .schedules import (
    Constant,
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseSqrtDecay,
    InverseTimeDecay,
    LinearDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    StepDecay,
)

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "data",
    "grad_mode",
    "initializers",
    "layers",
    "losses",
    "lr_finder",
    "metrics",
    "optimizers",
    "plot",
    "schedules",
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "GradientFlow",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
    "gradcheck",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "BatchNorm",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Input",
    "Layer",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "lr_find",
    "MLP",
    "NotCompiledError",
    "Sequential",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "load_model",
    "Constant",
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseSqrtDecay",
    "InverseTimeDecay",
    "LinearDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "StepDecay",
]
