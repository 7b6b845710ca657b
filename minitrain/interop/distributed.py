"""Distributed training through PyTorch: ``DistributedDataParallel`` on a minitrain model.

minitrain runs in one process. To train on several, it hands the model to torch,
which already does this well (bucketed all-reduce overlapped with backward, gloo on
CPUs, NCCL on GPUs, elastic launch), and takes the result back::

    fit_rank(model, x_shard, y_shard, batch_size=b)   # in each rank, group initialised
    fit_distributed(model, x, y, nprocs=2)            # spawns the ranks on this machine

Each rank exports the model (``to_torch``) and its optimizer (``optimizer_to_torch``),
wraps the module in ``DistributedDataParallel`` and trains on its shard; DDP averages
the gradients over the ranks after every backward. With the mean losses minitrain
uses and equal shards, the average of the ranks' gradients on their halves of a batch
is the gradient on the whole batch, so ``nprocs`` ranks with batches of ``b`` give the
weights of one process with batches of ``nprocs * b`` (up to rounding), when the
global batch ``k`` is made of the ranks' local batches ``k``: shard with a stride,
``x[rank::nprocs]``, as ``torch.utils.data.DistributedSampler`` does. BatchNorm is the
exception: each rank normalises with its own shard's statistics (torch's
``SyncBatchNorm`` needs GPUs), and a Keras-style ``BatchNormalization`` trains as torch's
``BatchNorm1d`` (its running variance fed the unbiased batch variance, see
``minitrain.interop.torch``). The trained weights, buffers and optimizer state come
back into the given model (``from_torch``, ``optimizer_from_torch``), its loss and
metrics kept, so it evaluates, saves and resumes as any minitrain model.

``examples/distributed.py`` is the command-line entry point, for one machine or several
(torchrun's rendezvous).
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np

from minitrain import _checks, layers, losses
from minitrain.interop._require import require
from minitrain.interop.optimizer_state import optimizer_from_torch, optimizer_to_torch
from minitrain.interop.torch import from_torch, to_torch
from minitrain.model import Sequential

__all__ = ["fit_rank", "fit_distributed", "torch_loss", "TorchLoss"]

# Keras clips probabilities fed to a crossentropy; minitrain does too (losses/crossentropy.py).
_EPSILON = 1e-7


class TorchLoss:
    """A minitrain loss computed with torch ops, for training in torch.

    ``loss(y_pred, targets) -> scalar tensor`` with the reduction of minitrain (Keras's
    ``sum_over_batch_size``: the mean over the batch of each sample's loss), and
    ``loss.targets(y, dtype) -> tensor`` preparing a NumPy target array (integer labels
    for the sparse crossentropy, else floats; a ``(N,)`` target becomes ``(N, 1)``).
    """

    def __init__(self, loss: losses.Loss) -> None:
        self.kind = type(loss).__name__
        self.from_logits = bool(getattr(loss, "from_logits", False))
        self.label_smoothing = float(getattr(loss, "label_smoothing", 0.0))
        self.delta = float(getattr(loss, "delta", 1.0))

    def targets(self, y: np.ndarray, dtype: np.dtype) -> Any:
        torch = require("torch", "TorchLoss")
        y = np.asarray(y)
        if self.kind == "SparseCategoricalCrossentropy":
            return torch.from_numpy(y.reshape(len(y)).astype(np.int64))
        if y.ndim == 1:
            y = y[:, None]
        return torch.from_numpy(np.array(y, dtype=dtype))

    def __call__(self, y_pred: Any, target: Any) -> Any:
        torch = require("torch", "TorchLoss")
        f = torch.nn.functional
        ls = self.label_smoothing
        if self.kind == "MeanSquaredError":
            return f.mse_loss(y_pred, target)
        if self.kind == "MeanAbsoluteError":
            return f.l1_loss(y_pred, target)
        if self.kind == "Huber":
            return f.huber_loss(y_pred, target, delta=self.delta)
        if self.kind == "BinaryCrossentropy":
            t = target * (1 - ls) + 0.5 * ls if ls else target
            if self.from_logits:
                return f.binary_cross_entropy_with_logits(y_pred, t)
            p = y_pred.clamp(_EPSILON, 1 - _EPSILON)
            return -(t * p.log() + (1 - t) * (1 - p).log()).mean()
        # the categorical crossentropies
        if self.from_logits:
            log_p = f.log_softmax(y_pred, dim=-1)
        else:
            p = y_pred / y_pred.sum(dim=-1, keepdim=True)
            log_p = p.clamp(_EPSILON, 1 - _EPSILON).log()
        if self.kind == "SparseCategoricalCrossentropy":
            return f.nll_loss(log_p, target)
        t = target * (1 - ls) + ls / target.shape[-1] if ls else target
        return -(t * log_p).sum(dim=-1).mean()


_TORCH_LOSSES = (
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
)


def torch_loss(loss: losses.Loss) -> TorchLoss:
    """The torch version of a minitrain loss (one of ``_TORCH_LOSSES``), for ``fit_rank``."""
    if type(loss).__name__ not in _TORCH_LOSSES or not isinstance(loss, losses.Loss):
        raise TypeError(
            f"loss must be one of {', '.join(_TORCH_LOSSES)} to be computed in torch, got "
            f"{_checks.describe(loss)}; pass loss_fn=(y_pred, target) -> tensor instead"
        )
    return TorchLoss(loss)


def _require_compiled(model: object) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a minitrain Sequential, got {_checks.describe(model)}")
    if model.optimizer is None or model.loss is None:
        raise ValueError(
            "model must be compiled (its optimizer and loss are what the ranks train with): "
            "call model.compile(optimizer, loss) first"
        )
    return model


def _load_trained(model: Sequential, trained: Sequential) -> None:
    """Copy the weights and buffers of ``trained`` (from ``from_torch``) into ``model``.

    The layers holding arrays correspond one to one, in order (a Dense with an
    activation came back as a Dense and an activation layer, which holds none).
    """
    ours = [layer for layer in model.layers if layer.params or layer.buffers]
    theirs = [layer for layer in trained.layers if layer.params or layer.buffers]
    for mine, new in zip(ours, theirs, strict=True):
        arrays = (*mine.params.values(), *mine.buffers.values())
        values = (*new.params.values(), *new.buffers.values())
        for target, value in zip(arrays, values, strict=True):
            np.copyto(target, value)
        if isinstance(mine, layers.BatchNorm):
            mine.num_batches_tracked = new.num_batches_tracked


def fit_rank(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    epochs: int = 1,
    loss_fn: Callable[[Any, Any], Any] | None = None,
) -> Sequential:
    """Train this rank's shard with ``DistributedDataParallel``; the result lands in ``model``.

    Call it in every rank once ``torch.distributed`` is initialised (torchrun, or
    ``fit_distributed``), each with the same model and its own shard.

    Parameters
    ----------
    model : Sequential
        Compiled and built; the same in every rank (DDP broadcasts rank 0's weights).
    x : ndarray of shape (n, F)
        This rank's samples (every rank must hold the same number ``n``), in order:
        local batch ``k`` is ``x[k * batch_size : (k + 1) * batch_size]``.
    y : ndarray of shape (n,) or (n, C)
        Their targets.
    batch_size : int
        Samples per local batch; the global batch is ``world_size * batch_size``.
    epochs : int, default 1
        Passes over the shard.
    loss_fn : callable or None
        ``(y_pred, target) -> scalar tensor``; None computes ``model.loss`` in torch
        (``torch_loss``).

    Returns
    -------
    Sequential
        ``model`` itself, holding the trained weights and buffers, and a new optimizer
        continuing torch's (``optimizer_from_torch``), whose ``iterations`` counts the
        updates made here too (torch's SGD keeps no count).
    """
    torch = require("torch", "fit_rank")
    dist = torch.distributed
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(
            "fit_rank needs an initialised torch.distributed process group: launch with "
            "torchrun (see examples/distributed.py) or use fit_distributed"
        )
    _require_compiled(model)
    batch_size = _checks.positive_int("batch_size", batch_size)
    epochs = _checks.positive_int("epochs", epochs)
    x = _checks.array_2d("x", x, width=model.input_width)
    _checks.same_length("x", x, "y", np.asarray(y))
    sizes = torch.tensor([len(x), -len(x)])
    dist.all_reduce(sizes, op=dist.ReduceOp.MAX)
    if sizes[0] != -sizes[1]:  # max n != min n: DDP would wait forever for a missing batch
        raise ValueError(
            f"every rank must hold the same number of samples, got between {-int(sizes[1])} "
            f"and {int(sizes[0])}"
        )
    if loss_fn is None:
        loss_fn = torch_loss(model.loss)
    xt = torch.from_numpy(np.array(x, dtype=model.dtype))
    yt = (
        loss_fn.targets(y, model.dtype)
        if isinstance(loss_fn, TorchLoss)
        else torch.as_tensor(np.asarray(y))
    )
    module = to_torch(model)
    opt = optimizer_to_torch(model, module)
    ddp = torch.nn.parallel.DistributedDataParallel(module)
    start, steps = model.optimizer.iterations, 0
    for _ in range(epochs):
        for i in range(0, len(xt), batch_size):
            opt.zero_grad()
            loss_fn(ddp(xt[i : i + batch_size]), yt[i : i + batch_size]).backward()
            opt.step()  # DDP has averaged the gradients over the ranks during backward
            steps += 1
    _load_trained(model, from_torch(module))
    optimizer_from_torch(opt, model).iterations = start + steps
    return model


def _free_port() -> int:
    """A port free on 127.0.0.1 now (the OS picks it), for the ranks' rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawned_rank(
    rank: int,
    world_size: int,
    port: int,
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    options: dict[str, Any],
    result_path: str,
) -> None:
    """One process of ``fit_distributed``: join the group, train the shard, rank 0 reports."""
    torch = require("torch", "fit_distributed")
    dist = torch.distributed
    torch.set_num_threads(1)  # one core per rank: ranks would otherwise oversubscribe the CPU
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=options.pop("timeout")),
    )
    try:
        fit_rank(model, x[rank::world_size], y[rank::world_size], **options)
        if rank == 0:
            arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
            arrays |= {f"optimizer/{k}": v for k, v in model.optimizer.state_dict().items()}
            arrays |= {
                f"num_batches_tracked/{i}": np.array(layer.num_batches_tracked)
                for i, layer in enumerate(model.layers)
                if isinstance(layer, layers.BatchNorm)
            }
            np.savez(result_path, **arrays)
    finally:
        dist.destroy_process_group()


def fit_distributed(
    model: Sequential,
    x: np.ndarray,
    y: np.ndarray,
    *,
    nprocs: int = 2,
    batch_size: int = 32,
    epochs: int = 1,
    loss_fn: Callable[[Any, Any], Any] | None = None,
    timeout: float = 120.0,
) -> Sequential:
    """Train ``model`` with DDP in ``nprocs`` processes on this machine (gloo, 127.0.0.1).

    Rank ``r`` trains on ``x[r::nprocs]`` with local batches of ``batch_size // nprocs``
    (see the module docstring for why this equals one process with batches of
    ``batch_size``). The processes are started with ``torch.multiprocessing.spawn``,
    rendezvous on 127.0.0.1 at a free port, and rank 0 hands the result back through
    a temporary ``.npz`` file (read without pickle).

    Parameters
    ----------
    model : Sequential
        Compiled and built; trained in place (weights, buffers, optimizer state).
    x : ndarray of shape (N, F)
    y : ndarray of shape (N,) or (N, C)
        ``N`` a multiple of ``nprocs``, so every rank holds as many samples.
    nprocs : int, default 2
    batch_size : int, default 32
        The global batch, a multiple of ``nprocs``.
    epochs : int, default 1
    loss_fn : callable or None
        As ``fit_rank``; it must be picklable (spawned processes receive it).
    timeout : float, default 120
        Seconds a rank waits for the others before failing.

    Returns
    -------
    Sequential
        ``model``, trained.
    """
    torch = require("torch", "fit_distributed")
    _require_compiled(model)
    nprocs = _checks.positive_int("nprocs", nprocs)
    batch_size = _checks.positive_int("batch_size", batch_size)
    if batch_size % nprocs:
        raise ValueError(
            f"batch_size must be a multiple of nprocs={nprocs} (each rank takes an equal "
            f"share of every batch), got {batch_size}"
        )
    x = _checks.array_2d("x", x, width=model.input_width)
    y = np.asarray(y)
    _checks.same_length("x", x, "y", y)
    if len(x) % nprocs:
        raise ValueError(
            f"x must hold a multiple of nprocs={nprocs} samples (equal shards), got {len(x)}: "
            f"drop the last {len(x) % nprocs}"
        )
    options = {
        "batch_size": batch_size // nprocs,
        "epochs": epochs,
        "loss_fn": loss_fn,
        "timeout": timeout,
    }
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "rank0.npz")
        args = (nprocs, _free_port(), model, x, y, options, path)
        torch.multiprocessing.spawn(_spawned_rank, args=args, nprocs=nprocs, join=True)
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model/")})
    model.optimizer.build(model)
    model.optimizer.load_state_dict(
        {k[10:]: v for k, v in arrays.items() if k.startswith("optimizer/")}
    )
    for key, value in arrays.items():
        if key.startswith("num_batches_tracked/"):
            model.layers[int(key.split("/")[1])].num_batches_tracked = int(value)
    return model
