"""to_torch / from_torch: every layer kind, both modes, float64, against PyTorch itself."""

from __future__ import annotations

import numpy as np
import oracles
import pytest

import minitrain as mt
from minitrain import layers as L
from minitrain.interop import from_torch, to_torch

from .cases import (
    CASES,
    assert_identical,
    batch,
    everything,
    model_of,
    randomize,
    weights_and_buffers,
)

torch = oracles.torch()
TOL = 1e-12  # relative to the largest output; measured: below 3e-16


def run(module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def assert_close(actual: np.ndarray, expected: np.ndarray, tol: float = TOL) -> None:
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert np.max(np.abs(actual - expected)) <= tol * max(1.0, np.max(np.abs(expected)))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", [c for c in CASES if c != "dropout"])
def test_exported_module_computes_the_model(case, training):
    model = model_of(case).train(training)
    module = to_torch(model)
    x = batch()
    assert module.training == training
    assert_close(run(module, x), model(x))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_exported_module_computes_the_whole_model(training):
    model = everything().train(training)
    model.layers[6].training = False  # Dropout: masks come from two different generators
    module = to_torch(model)
    x = batch()
    assert_close(run(module, x), model(x))


def test_exported_batchnorm_updates_its_statistics_as_minitrain():
    model = model_of("batchnorm")
    module = to_torch(model)
    x = batch()
    for _ in range(3):
        run(module, x)
        model(x)
    bn, tbn = model.layers[1], module[1]
    assert_close(tbn.running_mean.numpy(), bn.buffers["running_mean"])
    assert_close(tbn.running_var.numpy(), bn.buffers["running_var"])
    assert int(tbn.num_batches_tracked) == bn.num_batches_tracked == 10
    assert tbn.momentum == bn.momentum and tbn.eps == bn.eps


def test_exported_batchnormalization_differs_only_in_the_running_variance_update():
    """Keras feeds the biased batch variance to its moving variance, torch the unbiased one.

    Outputs (training and eval) and the running mean agree; each engine's running
    variance follows its own formula, from the same batch statistics.
    """
    model = model_of("batchnormalization")
    bn = model.layers[1]
    module = to_torch(model)
    m, eps = bn.momentum, bn.epsilon
    assert module[1].momentum == pytest.approx(1 - m, abs=1e-15) and module[1].eps == eps
    mean0, var0 = bn.buffers["moving_mean"].copy(), bn.buffers["moving_variance"].copy()
    x = batch(n=6)
    z = model.layers[0](x)  # what the batch norm sees
    n, mu, var = len(z), z.mean(axis=0), z.var(axis=0)
    assert_close(run(module, x), model(x))
    assert_close(module[1].running_mean.numpy(), bn.buffers["moving_mean"])
    assert_close(bn.buffers["moving_mean"], m * mean0 + (1 - m) * mu)
    assert_close(bn.buffers["moving_variance"], m * var0 + (1 - m) * var)
    assert_close(module[1].running_var.numpy(), m * var0 + (1 - m) * var * n / (n - 1))
    model.eval(), module.eval()
    x = batch(seed=5)
    # eval outputs follow each engine's own statistics: equal again once those are equal
    module[1].running_var.copy_(torch.from_numpy(bn.buffers["moving_variance"]))
    assert_close(run(module, x), model(x))


def test_exported_dropout_drops_and_scales_as_minitrain():
    model = model_of("dropout")
    module = to_torch(model)
    assert module[1].p == 0.4
    x = batch(n=200)
    kept = model.layers[0](x)
    y = run(module, x)
    dropped = y == 0
    assert_close(y[~dropped], kept[~dropped] / 0.6)
    assert 0.3 < dropped.mean() < 0.5
    module.eval()
    assert_close(run(module, x), kept)


def test_export_keeps_each_layers_mode_and_the_dtype():
    model = everything(dtype=np.float32)
    model.layers[1].training = False
    module = to_torch(model)
    assert [m.training for m in module] == [
        True, True, False, True, True, True, True, True, True, True, True, True, True, True,
        True, True,
    ]  # fmt: skip
    assert not module.training  # not every layer trains
    assert {p.dtype for p in module.parameters()} == {torch.float32}
    assert from_torch(module).dtype == np.float32


def test_exports_share_no_memory():
    model = everything()
    module = to_torch(model)
    back = from_torch(module)
    tensors = [t.detach().numpy() for t in (*module.parameters(), *module.buffers())]
    for a in weights_and_buffers(model) + weights_and_buffers(back):
        assert not any(np.shares_memory(a, t) for t in tensors)
    before = weights_and_buffers(model)
    with torch.no_grad():
        for t in module.parameters():
            t.add_(1.0)
    assert_identical(weights_and_buffers(model), before)


def test_round_trip_is_bit_identical():
    model = everything()
    model.layers[1].training = False
    back = from_torch(to_torch(model))
    assert_identical(weights_and_buffers(back), weights_and_buffers(model))
    with_arrays = [layer for layer in model.layers if layer.params]
    back_with_arrays = [layer for layer in back.layers if layer.params]
    assert [la.training for la in back_with_arrays] == [la.training for la in with_arrays]
    assert back.layers[2].num_batches_tracked == 7  # after the Dense and its Tanh
    model.eval(), back.eval()
    x = batch()
    np.testing.assert_array_equal(back(x), model(x))


def test_round_trip_of_the_torch_vocabulary_rebuilds_the_same_layers():
    """Layers with one torch module each come back as themselves, keys and configs alike."""
    d = dict(dtype=np.float64)
    model = randomize(
        mt.Sequential(
            [
                L.Dense(4, 6, **d),
                L.BatchNorm(6, momentum=0.3, eps=1e-3, **d),
                L.LeakyReLU(0.2),
                L.Dense(6, 6, use_bias=False, **d),
                L.Dropout(0.5),
                L.Sigmoid(),
                L.Dense(6, 3, **d),
                L.Tanh(),
                L.ReLU(),
                L.Softmax(),
            ]
        )
    )
    model.layers[2].training = False
    back = from_torch(to_torch(model))
    assert [la.get_config() for la in back.layers] == [la.get_config() for la in model.layers]
    assert [la.training for la in back.layers] == [la.training for la in model.layers]
    assert back.state_dict().keys() == model.state_dict().keys()
    assert_identical(list(back.state_dict().values()), list(model.state_dict().values()))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_imported_module_computes_the_torch_module(training):
    """The other way: a module built in torch, with torch's own initialisation."""
    torch.manual_seed(0)
    nn = torch.nn
    module = nn.Sequential(
        nn.Linear(4, 6),
        nn.BatchNorm1d(6, momentum=0.3, eps=1e-3),
        nn.LeakyReLU(0.1),
        nn.Linear(6, 5, bias=False),
        nn.Tanh(),
        nn.Linear(5, 5),
        nn.Sigmoid(),
        nn.Dropout(0.3),
        nn.Linear(5, 3),
        nn.ReLU(),
        nn.Softmax(dim=-1),
    ).double()
    with torch.no_grad():
        module[1].running_mean.normal_()
        module[1].running_var.uniform_(0.5, 2.0)
        module[1].weight.normal_()
        module[1].num_batches_tracked.fill_(3)
    module.train(training)
    module[7].eval()
    model = from_torch(module)
    assert [type(la).__name__ for la in model.layers] == [
        "Dense", "BatchNorm", "LeakyReLU", "Dense", "Tanh", "Dense", "Sigmoid", "Dropout",
        "Dense", "ReLU", "Softmax",
    ]  # fmt: skip
    assert model.layers[1].num_batches_tracked == 3
    assert model.layers[7].rate == pytest.approx(0.3) and not model.layers[7].training
    x = batch()
    assert_close(model(x), run(module, x))
    assert_close(model.layers[1].buffers["running_var"], module[1].running_var.numpy())
