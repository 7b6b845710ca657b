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
    utils,
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
    MonitorCallback,
    ProgbarLogger,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from .data import (
    Dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_mnist_sample,
    make_blobs,
    make_spirals,
    to_categorical,
    train_test_split,
)
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import gradcheck

# The initializer named Constant stays in minitrain.initializers: mt.Constant is the schedule.
from .initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    LecunNormal,
    Ones,
    RandomNormal,
    RandomUniform,
    Zeros,
)
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
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from .lr_finder import LRFinderResult, lr_find, suggest_rate

# The metrics named MeanSquaredError and MeanAbsoluteError stay in minitrain.metrics:
# mt.MeanSquaredError and mt.MeanAbsoluteError are the losses.
from .metrics import (
    AUC,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    MeanMetric,
    Metric,
    Precision,
    Recall,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from .model import MLP, NotCompiledError, Sequential
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .plot import (
    plot_activations,
    plot_decision_boundary,
    plot_gradient_flow,
    plot_history,
    plot_lr_find,
    plot_schedules,
)
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
    Schedule,
    StepDecay,
)
from .training import Trainer

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
    "utils",
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
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
    "Dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "make_blobs",
    "make_spirals",
    "to_categorical",
    "train_test_split",
    "gradcheck",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "LecunNormal",
    "Ones",
    "RandomNormal",
    "RandomUniform",
    "Zeros",
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
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "LRFinderResult",
    "lr_find",
    "suggest_rate",
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "Mean",
    "MeanMetric",
    "Metric",
    "Precision",
    "Recall",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "MLP",
    "NotCompiledError",
    "Sequential",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "plot_activations",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "plot_history",
    "plot_lr_find",
    "plot_schedules",
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
    "Schedule",
    "StepDecay",
    "Trainer",
]
