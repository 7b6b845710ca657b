"""Training through DistributedDataParallel gives the weights of one process.

Two gloo ranks on 127.0.0.1, each with half of every batch (``x[rank::2]``, local
batches of 8), for 5 steps, must give the weights, buffers and optimizer state of
single-process minitrain training on the whole batches of 16: DDP averages the two
halves' mean-loss gradients into the whole batch's. Spawning the two processes
dominates the time (measured: about 20 s on two busy cores); the other tests here run
one rank in this process.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import numpy as np
import oracles
import pytest

import minitrain as mt
from minitrain import layers as L
from minitrain.interop import fit_distributed, fit_rank

from .cases import weights_and_buffers

torch = oracles.torch()
EXAMPLE = Path(__file__).parents[2] / "examples" / "distributed.py"
TOL = 1e-6  # measured: below 3e-16 in float64


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model(batchnorm: bool = False) -> mt.Sequential:
    d = dict(dtype=np.float64)
    norm = [L.BatchNorm(16, momentum=0.2, **d)] if batchnorm else []
    m = mt.Sequential(
        [
            L.Dense(6, 16, activation="relu", use_bias=not batchnorm, seed=1, **d),
            *norm,
            L.Dense(16, 16, activation="tanh", seed=2, **d),
            L.Dense(16, 3, seed=3, **d),
        ]
    )
    m.compile(mt.SGD(0.1, momentum=0.9, nesterov=True), "sparse_categorical_crossentropy")
    return m


def data(n: int = 80):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 6)), rng.integers(0, 3, n)


def assert_same_training(actual: mt.Sequential, expected: mt.Sequential) -> None:
    for a, e in zip(weights_and_buffers(actual), weights_and_buffers(expected), strict=True):
        assert np.max(np.abs(a - e)) <= TOL * max(1.0, np.max(np.abs(e)))
    state, ref = actual.optimizer.state_dict(), expected.optimizer.state_dict()
    assert state.keys() == ref.keys()
    for key in ref:
        assert np.max(np.abs(state[key] - ref[key])) <= TOL * max(1.0, np.max(np.abs(ref[key])))
    assert actual.optimizer.iterations == expected.optimizer.iterations


def test_two_gloo_ranks_on_halves_of_each_batch_train_as_one_process():
    x, y = data()
    distributed, single = model(), model()
    loss, compiled = distributed.loss, distributed.optimizer
    fit_distributed(distributed, x, y, nprocs=2, batch_size=16)
    single.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert single.optimizer.iterations == 5
    assert_same_training(distributed, single)
    assert distributed.loss is loss and distributed.optimizer is compiled  # loaded in place


@pytest.fixture
def one_rank_group():
    """A gloo group of one rank, in this process, on 127.0.0.1."""
    dist = torch.distributed
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1
    )
    yield
    dist.destroy_process_group()


def test_one_rank_trains_as_minitrain_batchnorm_included(one_rank_group):
    x, y = data()
    ranked, single = model(batchnorm=True), model(batchnorm=True)
    fit_rank(ranked, x, y, batch_size=16, epochs=2)
    single.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert_same_training(ranked, single)
    assert ranked.layers[1].num_batches_tracked == single.layers[1].num_batches_tracked == 10


def test_fit_rank_refuses_unequal_shards_before_training(one_rank_group, monkeypatch):
    dist = torch.distributed
    real = dist.all_reduce

    def as_if_another_rank_held_more(tensor, op):
        real(tensor, op=op)
        tensor[0] += 1  # the largest shard is one sample longer

    monkeypatch.setattr(dist, "all_reduce", as_if_another_rank_held_more)
    m = model()
    before = weights_and_buffers(m)
    with pytest.raises(ValueError, match="same number of samples, got between 80 and 81"):
        fit_rank(m, *data(), batch_size=16)
    for a, b in zip(weights_and_buffers(m), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_example_runs_as_a_torchrun_rank(monkeypatch):
    """examples/distributed.py under torchrun's variables (a world of one rank here)."""
    for name, value in {
        "RANK": "0",
        "LOCAL_RANK": "0",
        "WORLD_SIZE": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
    }.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("distributed_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    logs = example.main(["--epochs", "3"])
    assert set(logs) == {"loss", "accuracy"}
    assert logs["accuracy"] > 0.5  # three classes: chance is 1/3
    assert not torch.distributed.is_initialized()
