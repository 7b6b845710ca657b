"""What the bridges refuse, and how: each error names what came and what would do."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import oracles
import pytest

import minitrain as mt
from minitrain import layers as L
from minitrain import optimizers as O
from minitrain.interop import (
    fit_distributed,
    fit_rank,
    from_keras,
    from_torch,
    optimizer_from_torch,
    optimizer_to_torch,
    to_keras,
    to_torch,
)

torch = oracles.torch()
keras = oracles.keras()
nn = torch.nn


class Doubling(L.Layer):
    def forward(self, x, training=None):
        return 2 * x


def compiled(optimizer=None) -> mt.Sequential:
    model = mt.Sequential(
        [L.Dense(3, 4, dtype=np.float64), L.ReLU(), L.Dense(4, 2, dtype=np.float64)]
    )
    model.compile(optimizer or O.Adam(0.01), "mse")
    return model


# ------------------------------------------------------------------ layers and modules


@pytest.mark.parametrize("export", [to_torch, to_keras])
def test_unsupported_layer_is_named_with_the_supported_ones(export):
    model = mt.Sequential([L.Dense(3, 4), Doubling()])
    with pytest.raises(TypeError, match=r"layer 1 \(Doubling\).*supported.*Dense.*BatchNorm"):
        export(model)


@pytest.mark.parametrize("export", [to_torch, to_keras])
def test_unbuilt_model_is_refused(export):
    with pytest.raises(ValueError, match=r"not built.*build\(\(None, features\)\)"):
        export(mt.Sequential([L.Dense(4)]))


@pytest.mark.parametrize(
    "module, name",
    [(nn.GELU(), "GELU"), (nn.Conv1d(1, 1, 1), "Conv1d"), (nn.LazyLinear(3), "LazyLinear")],
)
def test_unsupported_torch_module_is_named_with_the_supported_ones(module, name):
    with pytest.raises(TypeError, match=rf"module 1 \({name}\).*supported.*Linear, BatchNorm1d"):
        from_torch(nn.Sequential(nn.Linear(2, 2), module))


def test_from_torch_needs_a_sequential():
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Sequential.*Linear"):
        from_torch(nn.Linear(2, 2))


@pytest.mark.parametrize(
    "module, match",
    [
        (nn.BatchNorm1d(2, momentum=None), "momentum=None"),
        (nn.BatchNorm1d(2, affine=False), "affine=True"),
        (nn.BatchNorm1d(2, track_running_stats=False), "track_running_stats=True"),
        (nn.Softmax(dim=0), "dim=-1"),
    ],
)
def test_torch_settings_minitrain_cannot_reproduce_are_named(module, match):
    with pytest.raises(ValueError, match=match):
        from_torch(nn.Sequential(nn.Linear(2, 2), module))


def test_half_precision_module_is_refused():
    with pytest.raises(ValueError, match="float32 or float64, got torch.float16"):
        from_torch(nn.Sequential(nn.Linear(2, 2)).half())


@pytest.mark.parametrize(
    "layer, kind, match",
    [
        (keras.layers.Flatten(), TypeError, r"layer 1 \(Flatten\).*supported.*Dense"),
        (keras.layers.Activation("gelu"), TypeError, r"'gelu'.*supported.*'relu'"),
        (keras.layers.ReLU(max_value=6.0), ValueError, "max_value"),
        (keras.layers.BatchNormalization(center=False), ValueError, "center"),
        (keras.layers.Dense(2, kernel_regularizer="l2"), ValueError, "kernel_regularizer"),
    ],
)
def test_unsupported_keras_layer_is_named(layer, kind, match):
    keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2), layer])
    with pytest.raises(kind, match=match):
        from_keras(keras_model)


def test_from_keras_needs_a_built_sequential():
    inputs = keras.Input((2,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(TypeError, match="keras.Sequential"):
        from_keras(functional)
    with pytest.raises(ValueError, match="not built"):
        from_keras(keras.Sequential([keras.layers.Dense(2)]))


# ------------------------------------------------------------------ optimizer state


def test_optimizer_to_torch_refuses_a_module_with_other_parameters():
    model = compiled()
    with pytest.raises(
        ValueError, match=r"the model has 4 parameters \(0.W, 0.b, 2.W, 2.b\).*has 2"
    ):
        optimizer_to_torch(model, nn.Linear(3, 4).double())
    wrong = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 3)).double()
    with pytest.raises(ValueError, match=r"parameter 2 has shape \(3, 4\).*2.W needs \(2, 4\)"):
        optimizer_to_torch(model, wrong)
    with pytest.raises(ValueError, match=r"parameter 0 is torch.float32.*0.W is float64"):
        optimizer_to_torch(model, to_torch(model).float())


def test_optimizer_from_torch_refuses_a_model_with_other_parameters():
    module = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2)).double()
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(5, 3\).*0.W needs \(4, 3\)"):
        optimizer_from_torch(torch.optim.SGD(module.parameters()), compiled())


def test_optimizer_to_torch_needs_a_compiled_model():
    model = mt.Sequential([L.Dense(3, 4)])
    with pytest.raises(ValueError, match="compile it first"):
        optimizer_to_torch(model, to_torch(model))


@pytest.mark.parametrize(
    "optimizer, match",
    [
        (O.SGD(mt.schedules.ExponentialDecay(0.1, 10, 0.5)), "schedule.*lr_scheduler"),
        (O.Adam(clipnorm=1.0), "clipnorm=1.0.*clip_grad_norm_"),
        (O.SGD(global_clipnorm=2.0), "global_clipnorm"),
    ],
)
def test_what_torch_optim_cannot_carry_is_refused(optimizer, match):
    model = compiled(optimizer)
    with pytest.raises(ValueError, match=match):
        optimizer_to_torch(model, to_torch(model))


@pytest.mark.parametrize(
    "make, kind, match",
    [
        (lambda p: torch.optim.Adadelta(p), TypeError, r"Adadelta.*supported.*SGD"),
        (lambda p: torch.optim.SGD(p, momentum=0.9, dampening=0.1), ValueError, "dampening"),
        (lambda p: torch.optim.Adam(p, amsgrad=True), ValueError, "amsgrad"),
        (lambda p: torch.optim.Adam(p, maximize=True), ValueError, "maximize"),
        (lambda p: torch.optim.Adagrad(p, lr_decay=0.1), ValueError, "lr_decay"),
        (
            lambda p: torch.optim.SGD([{"params": p[:2]}, {"params": p[2:], "lr": 0.5}], lr=0.1),
            ValueError,
            "param groups 0 and 1 differ in lr",
        ),
    ],
)
def test_torch_optimizers_minitrain_cannot_continue_are_refused(make, kind, match):
    model = compiled()
    with pytest.raises(kind, match=match):
        optimizer_from_torch(make(list(to_torch(model).parameters())), model)


def test_parameters_at_different_steps_are_refused():
    model = compiled()
    module = to_torch(model)
    opt = torch.optim.Adam(module.parameters())
    module[0].weight.grad = torch.ones_like(module[0].weight)  # only one param has a gradient
    opt.step()
    with pytest.raises(ValueError, match=r"different numbers of steps \(\[0, 1\]\)"):
        optimizer_from_torch(opt, model)


# ------------------------------------------------------------------ distributed


def test_fit_rank_needs_a_process_group():
    with pytest.raises(RuntimeError, match="torchrun"):
        fit_rank(compiled(), np.zeros((4, 3)), np.zeros((4, 2)), batch_size=2)


def test_fit_distributed_needs_equal_shares():
    x, y = np.zeros((8, 3)), np.zeros((8, 2))
    with pytest.raises(ValueError, match="batch_size must be a multiple of nprocs=2"):
        fit_distributed(compiled(), x, y, nprocs=2, batch_size=3)
    with pytest.raises(ValueError, match="multiple of nprocs=3 samples"):
        fit_distributed(compiled(), x, y, nprocs=3, batch_size=3)
    with pytest.raises(ValueError, match="must be compiled"):
        fit_distributed(mt.Sequential([L.Dense(3, 2)]), x, y)


# ------------------------------------------------------------------ optional packages


@pytest.mark.parametrize(
    "call, module",
    [
        (lambda: to_torch(compiled()), "torch"),
        (lambda: from_torch(None), "torch"),
        (lambda: optimizer_to_torch(compiled(), None), "torch"),
        (lambda: optimizer_from_torch(None, compiled()), "torch"),
        (lambda: fit_distributed(compiled(), np.zeros((4, 3)), np.zeros((4, 2))), "torch"),
        (lambda: to_keras(compiled()), "keras"),
        (lambda: from_keras(None), "keras"),
    ],
)
def test_missing_engine_names_the_extra(monkeypatch, call, module):
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` now fails
    with pytest.raises(ImportError, match=rf"needs {module}.*pip install \"minitrain\[interop\]\""):
        call()


def test_importing_minitrain_imports_neither_engine():
    code = (
        "import sys, minitrain, minitrain.interop; "
        "print(sorted(m for m in ('torch', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
