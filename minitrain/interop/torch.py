"""minitrain <-> PyTorch: a ``Sequential`` as a ``torch.nn.Sequential`` and back.

The contract::

    module = to_torch(model)      # torch.nn.Sequential, same weights, buffers, modes, dtype
    model = from_torch(module)    # minitrain Sequential, likewise

Layer by layer (minitrain -> torch; from_torch maps each module back to the layer on
the same line, so a Dense with an activation returns as two layers with equal outputs):

==========================================  ==============================================
minitrain                                   torch
==========================================  ==============================================
``Dense(in, out)``                          ``Linear(in, out)``: ``weight = W.T`` (out, in)
``Dense(..., activation=a)``                ``Linear`` followed by the module of ``a``
``BatchNorm(F, momentum=m, eps=e)``         ``BatchNorm1d(F, momentum=m, eps=e)``
``BatchNormalization(momentum=m, eps=e)``   ``BatchNorm1d(F, momentum=1 - m, eps=e)``
``ReLU``, ``Sigmoid``, ``Tanh``             ``ReLU``, ``Sigmoid``, ``Tanh``
``LeakyReLU(s)``                            ``LeakyReLU(s)``
``Softmax``                                 ``Softmax(dim=-1)``
``Dropout(rate)``                           ``Dropout(p=rate)``
``Input(shape)``                            nothing (torch modules take any batch)
==========================================  ==============================================

Buffers (``running_mean``, ``running_var``, ``num_batches_tracked``), the train/eval
flag of every layer and the dtype (float32 or float64) cross too. Every array is
copied: the two models share no memory.

The variance convention of ``BatchNormalization``
-------------------------------------------------
Both engines normalise a training batch with its *biased* variance, and eval mode
uses the running statistics, so outputs agree in both modes. They differ in the
update of the running variance: Keras's ``BatchNormalization`` feeds it the biased
batch variance, torch's ``BatchNorm1d`` the unbiased one::

    Keras:  moving_variance = m * moving_variance + (1 - m) * var
    torch:  running_var     = (1 - (1 - m)) * running_var + (1 - m) * var * N / (N - 1)

so after training steps taken in torch, the exported layer's running variance (and
with it the eval outputs) drifts from what Keras, or minitrain's
``BatchNormalization``, would hold, by the factor ``N / (N - 1)`` on each batch's
share. ``from_torch`` returns a ``BatchNorm1d`` as a ``BatchNorm``, whose convention
is torch's. A dropout layer's masks come from each engine's own generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minitrain import _checks, layers
from minitrain.interop._require import require
from minitrain.model import Sequential

if TYPE_CHECKING:
    import torch as torch_module

__all__ = ["to_torch", "from_torch"]

SUPPORTED_TORCH = (
    "Linear",
    "BatchNorm1d",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Dropout",
)
SUPPORTED_LAYERS = (
    "Input",
    "Dense",
    "BatchNorm",
    "BatchNormalization",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Dropout",
)


def _torch(what: str) -> Any:
    return require("torch", what)


def torch_dtype(torch: Any, dtype: np.dtype) -> Any:
    """The torch dtype of a minitrain parameter dtype (float32 or float64)."""
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[dtype]


def numpy_dtype(torch: Any, dtype: Any, name: str) -> np.dtype:
    """The NumPy dtype of a torch floating dtype; only float32 and float64 have one here."""
    table = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64)}
    if dtype not in table:
        raise ValueError(f"{name} must be float32 or float64, got {dtype}")
    return table[dtype]


def tensor(torch: Any, values: np.ndarray) -> Any:
    """A torch tensor holding a copy of ``values`` (C-contiguous, never sharing memory)."""
    return torch.from_numpy(np.array(values, copy=True, order="C"))


def array(t: Any) -> np.ndarray:
    """A NumPy copy of a tensor (detached, on the CPU)."""
    return t.detach().cpu().numpy().copy()


def unsupported_layer(index: int, layer: object) -> TypeError:
    return TypeError(
        f"layer {index} ({type(layer).__name__}) has no counterpart in the bridge; supported "
        f"layers are {', '.join(SUPPORTED_LAYERS)}"
    )


def check_model(name: str, model: object) -> Sequential:
    """A built minitrain ``Sequential`` (every layer with weights has them)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"{name} must be a minitrain Sequential, got {_checks.describe(model)}")
    for i, layer in enumerate(model.layers):
        if not getattr(layer, "built", True):
            raise ValueError(
                f"{name} is not built (layer {i}, {layer!r}, has no weights yet): call "
                f"{name}.build((None, features)) or run a batch through it first"
            )
    return model


# ------------------------------------------------------------------ minitrain -> torch


def _activation_to_torch(torch: Any, index: int, layer: layers.Layer) -> Any:
    nn = torch.nn
    if type(layer) is layers.ReLU:
        return nn.ReLU()
    if type(layer) is layers.LeakyReLU:
        return nn.LeakyReLU(negative_slope=layer.negative_slope)
    if type(layer) is layers.Sigmoid:
        return nn.Sigmoid()
    if type(layer) is layers.Tanh:
        return nn.Tanh()
    if type(layer) is layers.Softmax:
        return nn.Softmax(dim=-1)
    raise unsupported_layer(index, layer)


def _dense_to_torch(torch: Any, layer: layers.Dense) -> Any:
    w = layer.params["W"]  # (in, out)
    use_bias = "b" in layer.params
    # skip_init: no random draw that would be overwritten (and would move torch's generator)
    linear = torch.nn.utils.skip_init(
        torch.nn.Linear, w.shape[0], w.shape[1], bias=use_bias, dtype=torch_dtype(torch, w.dtype)
    )
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(w.T))  # torch keeps (out, in); copy_ copies
        if use_bias:
            linear.bias.copy_(torch.from_numpy(layer.params["b"]))
    return linear


def _batchnorm_to_torch(torch: Any, layer: layers.Layer) -> Any:
    gamma = layer.params["gamma"]
    if type(layer) is layers.BatchNorm:
        momentum, eps = layer.momentum, layer.eps
        mean, var = layer.buffers["running_mean"], layer.buffers["running_var"]
        tracked = int(getattr(layer, "num_batches_tracked", 0))
    else:  # Keras's convention weights the old statistic by momentum, torch's the new one
        momentum, eps = 1.0 - layer.momentum, layer.epsilon
        mean, var = layer.buffers["moving_mean"], layer.buffers["moving_variance"]
        tracked = 0
    bn = torch.nn.utils.skip_init(
        torch.nn.BatchNorm1d,
        gamma.shape[0],
        eps=eps,
        momentum=momentum,
        dtype=torch_dtype(torch, gamma.dtype),
    )
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(layer.params["beta"]))
        bn.running_mean.copy_(torch.from_numpy(mean))
        bn.running_var.copy_(torch.from_numpy(var))
        bn.num_batches_tracked.fill_(tracked)
    return bn


def _layer_to_torch(torch: Any, index: int, layer: layers.Layer) -> list[Any]:
    """The modules standing for one layer (none, one, or a Linear and its activation)."""
    if type(layer) is layers.Input:
        return []
    if type(layer) is layers.Dense:
        modules = [_dense_to_torch(torch, layer)]
        if layer.activation is not None:
            modules.append(_activation_to_torch(torch, index, layer.activation))
    elif type(layer) in (layers.BatchNorm, layers.BatchNormalization):
        modules = [_batchnorm_to_torch(torch, layer)]
    elif type(layer) is layers.Dropout:
        modules = [torch.nn.Dropout(p=layer.rate)]
    else:
        modules = [_activation_to_torch(torch, index, layer)]
    for module in modules:
        module.train(layer.training)
    return modules


def to_torch(model: Sequential) -> torch_module.nn.Sequential:
    """Export ``model`` as a ``torch.nn.Sequential`` with the same weights, buffers and modes.

    Parameters
    ----------
    model : Sequential
        A built minitrain model of the layers in this module's table.

    Returns
    -------
    torch.nn.Sequential
        Modules in the model's order, in its dtype; each module in the train/eval mode
        of its layer. No memory is shared with ``model``.

    Raises
    ------
    TypeError
        A layer without a torch counterpart (named, with the supported ones listed).
    ValueError
        An unbuilt model.
    ImportError
        torch is not installed (the ``minitrain[interop]`` extra).
    """
    torch = _torch("to_torch")
    check_model("model", model)
    modules = [m for i, layer in enumerate(model.layers) for m in _layer_to_torch(torch, i, layer)]
    sequential = torch.nn.Sequential(*modules)
    # The container's own flag (children keep theirs): what module.training reports.
    sequential.training = all(layer.training for layer in model.layers)
    return sequential


# ------------------------------------------------------------------ torch -> minitrain


def _module_dtype(torch: Any, module: Any) -> np.dtype | None:
    """The one floating dtype of the module's parameters and buffers (None when it has none)."""
    dtypes = {t.dtype for t in (*module.parameters(), *module.buffers()) if t.is_floating_point()}
    if not dtypes:
        return None
    if len(dtypes) > 1:
        raise ValueError(
            f"module must hold one floating dtype, got {sorted(str(d) for d in dtypes)}"
        )
    return numpy_dtype(torch, dtypes.pop(), "module's dtype")


def _linear_from_torch(torch: Any, m: Any, dtype: np.dtype) -> layers.Dense:
    out_features, in_features = m.weight.shape
    dense = layers.Dense(in_features, out_features, use_bias=m.bias is not None, dtype=dtype)
    np.copyto(dense.params["W"], array(m.weight).T)  # (out, in) -> (in, out)
    if m.bias is not None:
        np.copyto(dense.params["b"], array(m.bias))
    return dense


def _batchnorm_from_torch(index: int, m: Any, dtype: np.dtype) -> layers.BatchNorm:
    for flag in ("affine", "track_running_stats"):
        if not getattr(m, flag):
            raise ValueError(
                f"module {index} ({type(m).__name__}) must have {flag}=True (minitrain's "
                f"BatchNorm has a scale, a shift and running statistics), got {flag}=False"
            )
    if m.momentum is None:
        raise ValueError(
            f"module {index} ({type(m).__name__}) must have a float momentum, got momentum=None "
            "(a cumulative average, which minitrain's BatchNorm does not keep)"
        )
    bn = layers.BatchNorm(m.num_features, momentum=m.momentum, eps=m.eps, dtype=dtype)
    np.copyto(bn.params["gamma"], array(m.weight))
    np.copyto(bn.params["beta"], array(m.bias))
    np.copyto(bn.buffers["running_mean"], array(m.running_mean))
    np.copyto(bn.buffers["running_var"], array(m.running_var))
    bn.num_batches_tracked = int(m.num_batches_tracked)
    return bn


def _module_to_layer(torch: Any, index: int, m: Any, dtype: np.dtype) -> layers.Layer:
    nn = torch.nn
    kind = type(m)
    # Exact types: a subclass may compute something else under the same name.
    if kind is nn.Linear:
        return _linear_from_torch(torch, m, dtype)
    if kind in (nn.BatchNorm1d, nn.SyncBatchNorm):
        return _batchnorm_from_torch(index, m, dtype)
    if kind is nn.ReLU:
        return layers.ReLU()
    if kind is nn.LeakyReLU:
        return layers.LeakyReLU(m.negative_slope)
    if kind is nn.Sigmoid:
        return layers.Sigmoid()
    if kind is nn.Tanh:
        return layers.Tanh()
    if kind is nn.Softmax:
        if m.dim not in (-1, 1, None):  # None: torch's implicit choice, 1 for (N, F)
            raise ValueError(
                f"module {index} (Softmax) must have dim=-1 (the features of an (N, F) batch), "
                f"got dim={m.dim}"
            )
        return layers.Softmax()
    if kind is nn.Dropout:
        return layers.Dropout(m.p)
    raise TypeError(
        f"module {index} ({kind.__name__}) has no minitrain counterpart; supported modules "
        f"are {', '.join(SUPPORTED_TORCH)} (in a torch.nn.Sequential)"
    )


def unwrap(torch: Any, module: Any) -> Any:
    """The module inside a ``DistributedDataParallel`` wrapper, else the module itself."""
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        return module.module
    return module


def from_torch(module: torch_module.nn.Module) -> Sequential:
    """Import a ``torch.nn.Sequential`` as a minitrain ``Sequential``.

    Parameters
    ----------
    module : torch.nn.Sequential
        Of the modules in this module's table (a ``DistributedDataParallel`` wrapping
        one is unwrapped). ``BatchNorm1d`` needs ``affine``, ``track_running_stats``
        and a float ``momentum``; ``Softmax`` ``dim=-1``.

    Returns
    -------
    Sequential
        One layer per module, in the module's dtype, each layer in its module's
        train/eval mode, holding copies of the weights and buffers
        (``num_batches_tracked`` included). Not compiled.

    Raises
    ------
    TypeError
        A module without a minitrain counterpart (named, with the supported ones listed).
    ValueError
        Unsupported settings of a supported module, or mixed dtypes.
    ImportError
        torch is not installed (the ``minitrain[interop]`` extra).
    """
    torch = _torch("from_torch")
    module = unwrap(torch, module)
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(
            f"module must be a torch.nn.Sequential of {', '.join(SUPPORTED_TORCH)}, got "
            f"{_checks.describe(module)}"
        )
    dtype = _module_dtype(torch, module) or np.dtype(np.float32)
    result = []
    for i, m in enumerate(module):
        layer = _module_to_layer(torch, i, m, dtype)
        layer.training = m.training
        result.append(layer)
    if not result:
        raise ValueError("module must hold at least one module, got an empty torch.nn.Sequential")
    return Sequential(result)
