"""Hand-off to PyTorch and Keras: models, optimizer state and distributed training.

minitrain is where a model is learnt and checked; when it outgrows one process, these
bridges carry it to the big engines and back (the ``minitrain[interop]`` extra: torch
and keras, imported when a bridge is first called, never at ``import minitrain``)::

    module = to_torch(model)                  # torch.nn.Sequential; from_torch(module)
    keras_model = to_keras(model)             # keras.Sequential;    from_keras(keras_model)
    opt = optimizer_to_torch(model, module)   # torch.optim, state included
    optimizer_from_torch(opt, model)          # back, installed as model.optimizer
    fit_distributed(model, x, y, nprocs=2)    # DistributedDataParallel over gloo

Every export copies its arrays; float64 stays float64. Layer tables and conventions:
``minitrain.interop.torch``, ``minitrain.interop.keras``; optimizer state:
``minitrain.interop.optimizer_state``; distributed training:
``minitrain.interop.distributed``. A layer, module or optimizer with no counterpart is
a ``TypeError`` naming it and listing the supported ones.
"""

from __future__ import annotations

from minitrain.interop.distributed import fit_distributed, fit_rank, torch_loss
from minitrain.interop.keras import from_keras, to_keras
from minitrain.interop.optimizer_state import optimizer_from_torch, optimizer_to_torch
from minitrain.interop.torch import from_torch, to_torch

__all__ = [
    "to_torch",
    "from_torch",
    "to_keras",
    "from_keras",
    "optimizer_to_torch",
    "optimizer_from_torch",
    "fit_rank",
    "fit_distributed",
    "torch_loss",
]
