"""Whole training runs checked against PyTorch in float64.

A 5-16-16-3 MLP with BatchNorm is trained for 20 steps through ``train_step``
and, from the same initial weights, as ``torch.nn.Sequential`` of
``Linear(bias=False) + BatchNorm1d + ReLU`` blocks with ``cross_entropy`` and
the matching ``torch.optim`` optimizer. Every parameter, every BatchNorm
running statistic and every optimizer slot must agree to about 1e-9 relative.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt

torch = pytest.importorskip("torch")

SIZES = [5, 16, 16, 3]
STEPS, BATCH = 20, 8
TOL = 1e-10  # relative to each array's largest entry (measured: below 3e-15)


def _batches(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """20 fixed batches of 8: float64 features, integer labels in [0, 3)."""
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((BATCH, SIZES[0])), rng.integers(0, SIZES[-1], size=BATCH))
        for _ in range(STEPS)
    ]


def _torch_twin(model: mt.Sequential) -> torch.nn.Sequential:
    """The same network in PyTorch, float64, with the same initial state, module i <-> layer i."""
    modules = []
    for layer in model.layers:
        if isinstance(layer, mt.Dense):
            m = torch.nn.Linear(
                layer.in_features, layer.out_features, bias=layer.use_bias, dtype=torch.float64
            )
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(layer.params["W"].T))  # torch keeps (out, in)
                if layer.use_bias:
                    m.bias.copy_(torch.from_numpy(layer.params["b"]))
        elif isinstance(layer, mt.BatchNorm):
            m = torch.nn.BatchNorm1d(
                layer.num_features, eps=layer.eps, momentum=layer.momentum, dtype=torch.float64
            )
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(layer.params["gamma"]))
                m.bias.copy_(torch.from_numpy(layer.params["beta"]))
                m.running_mean.copy_(torch.from_numpy(layer.buffers["running_mean"]))
                m.running_var.copy_(torch.from_numpy(layer.buffers["running_var"]))
        elif isinstance(layer, mt.ReLU):
            m = torch.nn.ReLU()
        else:
            raise AssertionError(f"no twin for {layer!r}")
        modules.append(m)
    return torch.nn.Sequential(*modules)


_TORCH_NAMES = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias"}


def _pairs(model: mt.Sequential, twin: torch.nn.Sequential):
    """(name, ours, theirs) for every param and buffer, in our layout."""
    tstate = twin.state_dict()
    for key, ours in model.state_dict().items():
        i, name = key.split(".")
        theirs = tstate[f"{i}.{_TORCH_NAMES.get(name, name)}"].numpy()
        yield key, ours, theirs.T if name == "W" else theirs


_TORCH_SLOTS = {"momentum": "momentum_buffer", "m": "exp_avg", "v": "exp_avg_sq"}


def _slot_pairs(model: mt.Sequential, twin: torch.nn.Sequential, topt):
    """(name, ours, theirs) for every optimizer slot."""
    params = dict(twin.named_parameters())
    for key, ours in model.optimizer.state_dict().items():
        if key == "iterations":
            continue
        slot, pkey = key.split("/")
        i, name = pkey.split(".")
        theirs = topt.state[params[f"{i}.{_TORCH_NAMES[name]}"]][_TORCH_SLOTS[slot]].numpy()
        yield key, ours, theirs.T if name == "W" else theirs


def _rel(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-300))


def _largest_difference(model, twin, topt) -> tuple[float, str]:
    worst = max(
        (_rel(a, b), k) for k, a, b in [*_pairs(model, twin), *_slot_pairs(model, twin, topt)]
    )
    return worst


OPTIMIZERS = {
    "sgd-nesterov": (
        lambda: mt.SGD(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
    ),
    "adam": (
        lambda: mt.Adam(learning_rate=0.01),
        lambda p: torch.optim.Adam(p, lr=0.01),
    ),
    "adam-l2": (
        lambda: mt.Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.99, weight_decay=1e-3),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=1e-3),
    ),
    "adamw": (
        lambda: mt.AdamW(learning_rate=0.01, weight_decay=0.05),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05),
    ),
}


def _setup(name: str, seed: int = 0):
    ours, theirs = OPTIMIZERS[name]
    model = mt.MLP(SIZES, batchnorm=True, seed=seed, dtype=np.float64)
    twin = _torch_twin(model)
    for _, a, b in _pairs(model, twin):
        np.testing.assert_array_equal(a, b)  # the same starting point
    model.compile(ours(), "sparse_categorical_crossentropy")
    return model, twin, theirs(twin.parameters())


def _torch_step(twin, topt, x, y) -> float:
    topt.zero_grad()
    loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    topt.step()
    return loss.item()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_twenty_steps_match_pytorch(name):
    model, twin, topt = _setup(name)
    twin.train()
    for x, y in _batches():
        logs = model.train_step(x, y)
        expected = _torch_step(twin, topt, x, y)
        assert logs["loss"] == pytest.approx(expected, rel=TOL)
    assert model.optimizer.iterations == STEPS
    worst, key = _largest_difference(model, twin, topt)
    assert worst < TOL, f"{key}: {worst:.2e}"
    # Training moved everything: the comparison is not of untouched arrays.
    start = mt.MLP(SIZES, batchnorm=True, seed=0, dtype=np.float64).state_dict()
    for k, v in model.state_dict().items():
        assert not np.allclose(v, start[k]), k


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_step_after_a_learning_rate_change_matches_pytorch(name):
    model, twin, topt = _setup(name, seed=1)
    batches = _batches(seed=1)
    for x, y in batches[:10]:
        model.train_step(x, y)
        _torch_step(twin, topt, x, y)
    model.optimizer.learning_rate = 0.2 * model.optimizer.learning_rate
    for group in topt.param_groups:
        group["lr"] *= 0.2
    before = model.state_dict()
    x, y = batches[10]
    model.train_step(x, y)
    _torch_step(twin, topt, x, y)
    assert model.optimizer._last_lr == topt.param_groups[0]["lr"]
    worst, key = _largest_difference(model, twin, topt)
    assert worst < TOL, f"{key}: {worst:.2e}"
    assert not np.array_equal(model.state_dict()["0.W"], before["0.W"])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_softmax_output_with_probabilities_equals_logits_output(name):
    """API promise: Softmax + from_logits=False trains as logits + from_logits=True."""
    ours, _ = OPTIMIZERS[name]
    logits = mt.MLP(SIZES, batchnorm=True, seed=2, dtype=np.float64)
    probs = mt.MLP(SIZES, batchnorm=True, output="softmax", seed=2, dtype=np.float64)
    assert isinstance(probs.layers[-1], mt.Softmax)
    logits.compile(ours(), "sparse_categorical_crossentropy")
    probs.compile(ours(), mt.SparseCategoricalCrossentropy(from_logits=False))
    assert logits.loss.from_logits and not probs.loss.from_logits
    for x, y in _batches(seed=2):
        a, b = logits.train_step(x, y), probs.train_step(x, y)
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-12)
    for key, v in logits.state_dict().items():
        w = probs.state_dict()[key]
        assert _rel(w, v) < 1e-12, key
