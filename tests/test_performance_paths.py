"""Guards on the hot paths of the second performance round. No timing here: speed is
measured by ``benchmarks/bench_fit.py`` and ``benchmarks/profile_step.py``.

Pinned instead, for BatchNorm's forward and backward (column sums taken by a
matrix-vector product, the input gradient built in one temporary, eval mode folded into
one scale and one shift) and for Dense's backward:

- float32 stays float32 in every array they make or write;
- a backward allocates its returned gradient and nothing else of batch size, and
  writes the parameter gradients in place (no per-step allocation of parameter size);
- the rearranged formulas agree with the textbook ones, computed in float64, for odd
  batch sizes too, and a constant feature still gives exactly ``beta``; eval mode gives
  the same bits with and without grad, and allocates its output only under ``no_grad``;
- a fit is bit-identical run to run, and leaves no thread running when it returns;
- an optimizer update is element by element: a parameter cut in two pieces gets the
  very bits of the whole, so any split of the update (over threads or chunks) is exact.

Memory is read with ``tracemalloc``, to which NumPy reports its buffers.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import minitrain as mt
from minitrain.layers import BatchNorm, BatchNormalization, Dense

FLOATS = [np.float32, np.float64]
KIB = 1024


@contextlib.contextmanager
def traced() -> Iterator[dict[str, int]]:
    """``peak`` bytes allocated inside the block, relative to its start."""
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    usage: dict[str, int] = {}
    try:
        yield usage
    finally:
        usage["peak"] = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.stop()


def batch(shape: tuple[int, int], dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (3.0 * rng.standard_normal(shape) + rng.uniform(-5, 5, shape[1])).astype(dtype)


def norm_layer(kind: type, width: int, dtype: type) -> BatchNorm | BatchNormalization:
    layer = kind(width, dtype=dtype)
    rng = np.random.default_rng(1)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, width)
    layer.params["beta"][...] = rng.standard_normal(width)
    return layer


NORMS = [BatchNorm, BatchNormalization]


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kind", NORMS)
def test_batchnorm_paths_keep_float32(kind, training):
    layer = norm_layer(kind, 16, np.float32)
    layer(batch((64, 16), np.float32, seed=3), training=True)  # statistics that moved
    y = layer(batch((37, 16), np.float32), training=training)
    grad_x = layer.backward(batch((37, 16), np.float32, seed=2))
    x_hat, inv_std, _ = layer.saved_tensors()
    arrays = {
        "y": y,
        "grad_x": grad_x,
        "x_hat": x_hat,
        "inv_std": inv_std,
        **layer.grads,
        **layer.buffers,
    }
    assert {k: a.dtype for k, a in arrays.items() if a.dtype != np.float32} == {}


@pytest.mark.parametrize("dtype", FLOATS)
def test_dense_backward_keeps_the_dtype_and_writes_its_gradients_in_place(dtype):
    dense = Dense(24, 16, seed=0, dtype=dtype)
    x, g = batch((37, 24), dtype), batch((37, 16), dtype, seed=1)
    before = dict(dense.grads)
    dense(x)
    grad_x = dense.backward(g)
    assert all(dense.grads[k] is before[k] for k in before)  # the same arrays
    assert {k: a.dtype for k, a in dense.grads.items()} == {"W": dtype, "b": dtype}
    assert grad_x.dtype == dtype
    # dL/db = sum over the batch, to the dtype's rounding of a 37-term sum
    exact = g.astype(np.float64).sum(axis=0)
    tol = 64 * np.finfo(dtype).eps * np.abs(g.astype(np.float64)).sum(axis=0)
    np.testing.assert_array_less(np.abs(dense.grads["b"] - exact), tol)


# ------------------------------------------------------------ allocations

N, F = 512, 256  # one batch-sized array: 512 KiB in float32; the parameters are (F,)


@pytest.mark.parametrize("kind", NORMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_batchnorm_backward_allocates_only_the_gradient_it_returns(kind, dtype):
    layer = norm_layer(kind, F, dtype)
    layer(batch((N, F), dtype), training=True)
    g = batch((N, F), dtype, seed=2)
    dgamma, dbeta = layer.grads["gamma"], layer.grads["beta"]
    with traced() as mem:
        grad_x = layer.backward(g)
    assert layer.grads["gamma"] is dgamma and layer.grads["beta"] is dbeta
    # grad_x itself, plus vectors of F or N values; a second batch-sized temporary
    # (the former N * g) would double it.
    assert grad_x.nbytes <= mem["peak"] < grad_x.nbytes + 128 * KIB


@pytest.mark.parametrize("kind", NORMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_batchnorm_training_forward_allocates_its_cache_and_output_only(kind, dtype):
    layer = norm_layer(kind, F, dtype)
    x = batch((N, F), dtype)
    layer(x, training=True)
    with traced() as mem:
        y = layer(x, training=True)
    # x_hat (kept for backward) and y; the statistics are vectors of F values.
    assert 2 * y.nbytes <= mem["peak"] < 2 * y.nbytes + 128 * KIB


@pytest.mark.parametrize("kind", NORMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_batchnorm_eval_forward_under_no_grad_allocates_its_output_only(kind, dtype):
    layer = norm_layer(kind, F, dtype)
    x = batch((N, F), dtype)
    layer(x, training=True)  # running statistics that are not 0 and 1
    with traced() as mem, mt.no_grad():
        y = layer(x, training=False)
    # The statistics folded into one scale and shift: y alone, no x_hat, no x - mean.
    assert y.nbytes <= mem["peak"] < y.nbytes + 128 * KIB


@pytest.mark.parametrize("kind", NORMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_batchnorm_eval_output_is_the_same_with_and_without_grad(kind, dtype):
    layer = norm_layer(kind, 8, dtype)
    layer(batch((64, 8), dtype), training=True)
    x = batch((37, 8), dtype, seed=3)
    with mt.no_grad():
        y_no_grad = layer(x, training=False)
    y = layer(x, training=False)
    np.testing.assert_array_equal(y, y_no_grad, strict=True)
    grad_x = layer.backward(np.ones_like(y))  # the cache for backward is there
    assert grad_x.dtype == dtype


@pytest.mark.parametrize("dtype", FLOATS)
def test_dense_backward_allocates_only_the_input_gradient(dtype):
    dense = Dense(F, F, seed=0, dtype=dtype)  # W of 256 KiB in float32
    x, g = batch((N, F), dtype), batch((N, F), dtype, seed=1)
    dense(x)
    with traced() as mem:
        grad_x = dense.backward(g)
    assert grad_x.nbytes <= mem["peak"] < grad_x.nbytes + 128 * KIB
    with traced() as mem:
        assert dense.backward(g, need_input_grad=False) is None
    assert mem["peak"] < 128 * KIB  # dW and db written in place, nothing batch-sized


# ------------------------------------------------------------- arithmetic


def textbook_batchnorm(x, g, gamma, eps):
    """y and dL/dx of a training-mode batch norm, in float64, straight from the formulas."""
    x, g, gamma = (a.astype(np.float64) for a in (x, g, gamma))
    n = len(x)
    mu = x.sum(axis=0) / n
    var = ((x - mu) ** 2).sum(axis=0) / n
    x_hat = (x - mu) / np.sqrt(var + eps)
    dbeta, dgamma = g.sum(axis=0), (g * x_hat).sum(axis=0)
    grad_x = gamma / np.sqrt(var + eps) / n * (n * g - dbeta - x_hat * dgamma)
    return x_hat * gamma, grad_x, dgamma, dbeta


@pytest.mark.parametrize("n", [2, 37, 128, 129])
def test_batchnorm_training_step_matches_the_textbook_formulas_in_float64(n):
    layer = norm_layer(BatchNorm, 8, np.float64)
    layer.params["beta"][...] = 0.0
    x, g = batch((n, 8), np.float64), batch((n, 8), np.float64, seed=2)
    y = layer(x, training=True)
    grad_x = layer.backward(g)
    ref_y, ref_dx, ref_dgamma, ref_dbeta = textbook_batchnorm(x, g, layer.params["gamma"], 1e-5)
    np.testing.assert_allclose(y, ref_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, ref_dx, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"], ref_dgamma, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"], ref_dbeta, rtol=1e-12, atol=1e-12)


def test_batchnorm_eval_matches_the_textbook_formula_in_float64():
    layer = norm_layer(BatchNorm, 8, np.float64)
    layer(batch((50, 8), np.float64), training=True)
    mean, var = layer.buffers["running_mean"], layer.buffers["running_var"]
    x, g = batch((37, 8), np.float64, seed=3), batch((37, 8), np.float64, seed=4)
    y = layer(x, training=False)
    grad_x = layer.backward(g)
    gamma, beta = layer.params["gamma"], layer.params["beta"]
    x_hat = (x - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(y, gamma * x_hat + beta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, g * gamma / np.sqrt(var + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["gamma"], (g * x_hat).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"], g.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [3, 128, 1000])
def test_a_constant_feature_gives_exactly_beta_at_any_batch_size(dtype, n):
    # 9930.077 is not a multiple of any power of two that a sum of n copies would keep.
    layer = norm_layer(BatchNorm, 3, dtype)
    x = batch((n, 3), dtype)
    x[:, 1] = dtype(9930.077)
    y = layer(x, training=True)
    np.testing.assert_array_equal(y[:, 1], np.full(n, layer.params["beta"][1]), strict=True)
    grad_x = layer.backward(batch((n, 3), dtype, seed=2))
    assert np.isfinite(grad_x).all()


# ---------------------------------------------------- splits and reruns

OPTIMIZERS: dict[str, Callable[[], mt.optimizers.Optimizer]] = {
    "sgd": lambda: mt.SGD(0.05),
    "sgd-momentum": lambda: mt.SGD(0.05, momentum=0.9),
    "sgd-nesterov-l2": lambda: mt.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam-l2": lambda: mt.Adam(0.01, weight_decay=1e-3),
    "adamw": lambda: mt.AdamW(0.01),
    "rmsprop": lambda: mt.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: mt.Adagrad(0.05),
}


class Params:
    """``_param_slots()`` over the given arrays: what an optimizer updates."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.params = {k: v.copy() for k, v in arrays.items()}
        self.grads = {k: np.zeros_like(v) for k, v in arrays.items()}

    def _param_slots(self):
        return [(k, self.params[k], self.grads[k]) for k in self.params]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_update_split_in_two_pieces_gives_the_bits_of_the_whole(name, dtype):
    rng = np.random.default_rng(0)
    size, cut = 3001, 1234  # uneven pieces, neither aligned to a vector width
    whole = Params({"0.W": rng.standard_normal(size).astype(dtype)})
    split = Params({"0.a": whole.params["0.W"][:cut], "0.b": whole.params["0.W"][cut:]})
    opts = OPTIMIZERS[name](), OPTIMIZERS[name]()
    for _ in range(4):
        g = (rng.standard_normal(size) * rng.uniform(0.1, 3)).astype(dtype)
        whole.grads["0.W"][...] = g
        split.grads["0.a"][...], split.grads["0.b"][...] = g[:cut], g[cut:]
        opts[0].step(whole)
        opts[1].step(split)
    pieces = np.concatenate([split.params["0.a"], split.params["0.b"]])
    np.testing.assert_array_equal(pieces, whole.params["0.W"], strict=True)


def train(batchnorm: bool, dtype: type, seed: int = 0) -> tuple[list, dict]:
    x, labels = batch((300, 12), dtype), np.random.default_rng(5).integers(0, 4, 300)
    model = mt.MLP([12, 32, 32, 4], batchnorm=batchnorm, seed=seed, dtype=dtype)
    model.compile(mt.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, labels, batch_size=37, epochs=3, verbose=0, validation_split=0.2)
    return model.get_weights(), history.history


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batchnorm", [False, True])
def test_fit_is_bit_identical_run_to_run(batchnorm, dtype):
    (w1, h1), (w2, h2) = train(batchnorm, dtype), train(batchnorm, dtype)
    assert h1 == h2
    assert len(w1) == len(w2) > 0
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_array_equal(a, b, strict=True)
    w3, _ = train(batchnorm, dtype, seed=1)
    assert any(not np.array_equal(a, b) for a, b in zip(w1, w3, strict=True))  # can fail


@pytest.mark.parametrize("batchnorm", [False, True])
def test_fit_leaves_no_thread_running(batchnorm):
    before = set(threading.enumerate())
    train(batchnorm, np.float32)
    assert set(threading.enumerate()) == before


def test_a_shuffled_epoch_gathers_every_batch_into_one_array():
    from minitrain.data import dataset

    model = mt.MLP([64, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 64)).astype(np.float32)
    adapter = dataset.ArrayAdapter(
        model,
        x,
        rng.integers(0, 3, 4096),
        None,
        batch_size=256,
        shuffle=True,
        class_weight=None,
        targets=True,
    )
    adapter.start_pass()
    adapter.next_batch()  # the reused array is allocated here, once
    batch_bytes = 256 * 64 * 4
    with traced() as usage:
        while adapter.next_batch() is not None:
            pass
    assert usage["peak"] < batch_bytes // 4  # the sorted rows and labels, no batch of x
