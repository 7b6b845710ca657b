"""optimizer_to_torch / optimizer_from_torch: training continued on the other side.

For every optimizer, float64: 10 steps in minitrain then 10 in PyTorch after
``optimizer_to_torch`` must equal 20 steps in minitrain and 20 in PyTorch (with a
``torch.optim`` optimizer built by hand, the independent oracle); and the other way,
10 in PyTorch then 10 in minitrain after ``optimizer_from_torch``. A split at 0 checks
the state torch creates lazily at its first step.
"""

from __future__ import annotations

import numpy as np
import oracles
import pytest
from signatures import signature

import minitrain as mt
from minitrain import layers as L
from minitrain import optimizers as O
from minitrain.interop import from_torch, optimizer_from_torch, optimizer_to_torch, to_torch

from .cases import weights_and_buffers

torch = oracles.torch()
F = torch.nn.functional
STEPS, BATCH, TOL = 20, 8, 1e-9  # measured: below 1e-14

# name -> (minitrain optimizer, the same torch.optim optimizer over params)
OPTIMIZERS = {
    "sgd": (lambda: O.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (
        lambda: O.SGD(0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "sgd_nesterov_weight_decay": (
        lambda: O.SGD(0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    ),
    "adam": (lambda: O.Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_weight_decay": (
        lambda: O.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.05),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
    ),
    "adamw": (
        lambda: O.AdamW(0.01, weight_decay=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    ),
    "rmsprop": (lambda: O.RMSprop(0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "rmsprop_centered_momentum": (
        lambda: O.RMSprop(0.005, rho=0.9, momentum=0.5, centered=True, weight_decay=0.01),
        lambda p: torch.optim.RMSprop(
            p, lr=0.005, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01
        ),
    ),
    "adagrad": (
        lambda: O.Adagrad(0.1, initial_accumulator_value=0.1, weight_decay=0.01),
        lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, weight_decay=0.01),
    ),
}


def batches() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(BATCH, 5)), rng.integers(0, 3, BATCH)) for _ in range(STEPS)]


def fresh_model(name: str) -> mt.Sequential:
    """5-16-16-3 with BatchNorm; the 16 x 16 W catches a transposition the shapes would not.

    No bias before the BatchNorm: its true gradient is 0, so Adam would scale rounding
    noise into full steps, a trajectory no two engines share.
    """
    d = dict(dtype=np.float64)
    model = mt.Sequential(
        [
            L.Dense(5, 16, use_bias=False, seed=1, **d),
            L.BatchNorm(16, **d),
            L.ReLU(),
            L.Dense(16, 16, seed=2, **d),
            L.Tanh(),
            L.Dense(16, 3, seed=3, **d),
        ]
    )
    model.compile(OPTIMIZERS[name][0](), "sparse_categorical_crossentropy")
    return model


LOSS = mt.losses.SparseCategoricalCrossentropy(from_logits=True)


def minitrain_steps(model: mt.Sequential, data) -> None:
    for x, y in data:
        model.backward(LOSS.gradient(y, model(x)))  # the mean crossentropy's dL/dlogits
        model.optimizer.step(model)


def torch_steps(module, opt, data) -> None:
    for x, y in data:
        opt.zero_grad()
        F.cross_entropy(module(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()


def assert_same_arrays(actual: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape
        assert np.max(np.abs(a - e)) <= TOL * max(1.0, np.max(np.abs(e)))


@pytest.fixture(scope="module")
def references():
    """name -> (weights after 20 minitrain steps, after 20 torch steps, minitrain's optimizer)."""
    data, out = batches(), {}
    for name, (_, make_torch) in OPTIMIZERS.items():
        model = fresh_model(name)
        module = to_torch(fresh_model(name))
        minitrain_steps(model, data)
        torch_steps(module, make_torch(module.parameters()), data)
        out[name] = (weights_and_buffers(model), weights_and_buffers(from_torch(module)), model)
    return out


@pytest.mark.parametrize("split", [10, 0])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_minitrain_then_torch_follows_both_trajectories(name, split, references):
    data = batches()
    model = fresh_model(name)
    minitrain_steps(model, data[:split])
    module = to_torch(model)
    opt = optimizer_to_torch(model, module)
    assert type(opt) is type(OPTIMIZERS[name][1](torch.nn.Linear(1, 1).parameters()))
    torch_steps(module, opt, data[split:])
    mt_20, torch_20, mt_model = references[name]
    assert_same_arrays(weights_and_buffers(from_torch(module)), mt_20)
    assert_same_arrays(weights_and_buffers(from_torch(module)), torch_20)
    # the state itself, carried back: moments and buffers as minitrain's after 20 steps
    back = from_torch(module)
    state = optimizer_from_torch(opt, back).state_dict()
    expected = mt_model.optimizer.state_dict()
    assert state.keys() == expected.keys()
    assert_same_arrays([state[k] for k in state if k != "iterations"],
                       [expected[k] for k in state if k != "iterations"])  # fmt: skip
    assert int(state["iterations"]) == (0 if name.startswith("sgd") else STEPS)


@pytest.mark.parametrize("split", [10, 0])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_torch_then_minitrain_follows_both_trajectories(name, split, references):
    data = batches()
    module = to_torch(fresh_model(name))
    opt = OPTIMIZERS[name][1](module.parameters())
    torch_steps(module, opt, data[:split])
    model = from_torch(module)
    model.compile("sgd", "sparse_categorical_crossentropy")
    loss = model.loss
    carried = optimizer_from_torch(opt, model)
    assert model.optimizer is carried and model.loss is loss
    assert type(carried).__name__ == type(references[name][2].optimizer).__name__
    assert carried.iterations == (0 if name.startswith("sgd") else split)
    minitrain_steps(model, data[split:])
    mt_20, torch_20, _ = references[name]
    assert_same_arrays(weights_and_buffers(model), mt_20)
    assert_same_arrays(weights_and_buffers(model), torch_20)


def test_hyperparameters_cross_both_ways():
    opt = O.RMSprop(0.003, rho=0.8, momentum=0.2, epsilon=1e-5, centered=True, weight_decay=0.1)
    model = fresh_model("rmsprop")
    model.compile(opt, "sparse_categorical_crossentropy")
    group = optimizer_to_torch(model, to_torch(model)).param_groups[0]
    assert (group["lr"], group["alpha"], group["momentum"], group["eps"]) == (0.003, 0.8, 0.2, 1e-5)
    assert group["centered"] and group["weight_decay"] == 0.1
    module = to_torch(model)
    back = optimizer_from_torch(
        torch.optim.Adam(module.parameters(), 0.02, (0.5, 0.6), 1e-4), model
    )
    assert type(back) is O.Adam
    assert (back.learning_rate, back.beta_1, back.beta_2, back.epsilon) == (0.02, 0.5, 0.6, 1e-4)
    adamw = optimizer_from_torch(torch.optim.AdamW(module.parameters(), weight_decay=0.3), model)
    assert type(adamw) is O.AdamW and adamw.weight_decay == 0.3
    decoupled = torch.optim.Adam(module.parameters(), decoupled_weight_decay=True)
    assert type(optimizer_from_torch(decoupled, model)) is O.AdamW


def test_carried_state_is_a_copy():
    model = fresh_model("adam")
    minitrain_steps(model, batches()[:2])
    module = to_torch(model)
    opt = optimizer_to_torch(model, module)
    before = model.optimizer.state_dict()
    for state in opt.state.values():
        state["exp_avg"].add_(1.0)
    after = model.optimizer.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_optimizer_of_a_model_compiled_before_it_was_built_is_carried():
    model = mt.Sequential([L.Dense(3, dtype=np.float64)])
    model.compile(O.Adam(0.01), "mse")
    model.build((None, 2))
    opt = optimizer_to_torch(model, to_torch(model))
    assert type(opt) is torch.optim.Adam and not opt.state  # nothing to carry yet


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (to_torch, "model"),
        (from_torch, "module"),
        (optimizer_to_torch, "model, torch_module"),
        (optimizer_from_torch, "optimizer, model"),
    ],
)
def test_bridge_arguments_are_the_contract(function, expected):
    assert signature(function) == expected
