"""Guards on what makes minitrain fast. No timing here: speed is measured by
``benchmarks/bench_fit.py``, never asserted in a unit test.

Pinned instead:

- float32 stays float32: every activation, gradient, parameter, buffer and
  optimizer slot of a float32 model is float32 (an upcast would double the
  memory traffic and halve the BLAS speed), and a float64 input is cast to
  float32 before the first layer;
- ``fit`` gathers batches by index and never copies the data set, per epoch
  or otherwise (a float64 input costs one float32 copy, made once);
- inference under ``no_grad`` keeps no activation cache, and ``predict``
  holds one batch of activations plus the output;
- backward writes parameter gradients in place and an optimizer step
  allocates nothing shaped like a parameter.

Memory is read with ``tracemalloc``, to which NumPy reports its buffers: the
peak and the memory still held are measured relative to the start of the call.
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest

import minitrain as mt

KIB = 1024
FLOATS = [np.float32, np.float64]


@contextlib.contextmanager
def traced() -> Iterator[dict[str, int]]:
    """Allocations made inside the block: ``peak`` and ``held`` (still allocated at the
    end), both relative to ``start``, the traced memory when the block began."""
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    usage: dict[str, int] = {"start": start}
    try:
        yield usage
    finally:
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        usage["peak"], usage["held"] = peak - start, held - start


def record_dtypes(model: mt.Sequential) -> list[tuple[str, str, np.dtype]]:
    """Wrap each layer's forward/backward (on the instance) to log the dtype of
    every array entering and leaving it."""
    seen: list[tuple[str, str, np.dtype]] = []

    for layer in model.layers:
        name = type(layer).__name__
        forward, backward = layer.forward, layer.backward

        def logged_forward(x, training=None, _forward=forward, _name=name):
            y = _forward(x, training)
            seen.extend([(_name, "forward x", x.dtype), (_name, "forward y", y.dtype)])
            return y

        def logged_backward(g, *args, _backward=backward, _name=name, **kwargs):
            dx = _backward(g, *args, **kwargs)
            seen.append((_name, "backward grad_y", g.dtype))
            if dx is not None:
                seen.append((_name, "backward grad_x", dx.dtype))
            return dx

        layer.forward, layer.backward = logged_forward, logged_backward
    return seen


def data(n: int, features: int, dtype: type, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(dtype)
    return x, rng.integers(0, classes, n)


# Architectures and losses that exercise every layer kind and every loss path.
NETS = {
    "relu": dict(activation="relu"),
    "batchnorm": dict(activation="relu", batchnorm=True),
    "leaky_relu-bn-dropout": dict(activation="leaky_relu", batchnorm=True, dropout=0.5),
    "sigmoid-dropout": dict(activation="sigmoid", dropout=0.25),
    "tanh-softmax": dict(activation="tanh", output="softmax"),
}
LOSSES = ["sparse_categorical_crossentropy", "categorical_crossentropy", "mse"]
OPTIMIZERS = {
    "sgd-momentum": lambda: mt.SGD(0.01, momentum=0.9),
    "sgd-nesterov-l2": lambda: mt.SGD(0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "adam-l2": lambda: mt.Adam(weight_decay=1e-4),
    "adamw": lambda: mt.AdamW(),
}


def targets_for(loss: str, labels: np.ndarray, classes: int) -> np.ndarray:
    if loss == "sparse_categorical_crossentropy":
        return labels.astype(np.int32)  # a narrower int dtype must not leak into the math
    return np.eye(classes)[labels]  # float64 targets: cast once, to the model's dtype


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_fit_keeps_every_array_in_the_model_dtype(dtype, loss, net, opt):
    model = mt.MLP([6, 8, 8, 3], seed=0, dtype=dtype, **NETS[net])
    model.compile(OPTIMIZERS[opt](), loss, metrics=["accuracy"])
    seen = record_dtypes(model)
    x, labels = data(40, 6, dtype)
    model.fit(x, targets_for(loss, labels, 3), batch_size=16, epochs=2, verbose=0)

    expected = np.dtype(dtype)
    # 3 batches x 2 epochs, each logging at least 3 dtypes per layer (x, y, grad_y)
    assert len(seen) >= 6 * 3 * len(model.layers)
    assert [s for s in seen if s[2] != expected] == []
    arrays = {
        **{f"param {k}": p for k, p, _ in model._param_slots()},
        **{f"grad {k}": g for k, _, g in model._param_slots()},
        **{f"state {k}": v for k, v in model.state_dict().items()},
        **{f"slot {k}": v for k, v in model.optimizer.state_dict().items() if k != "iterations"},
    }
    assert len(arrays) > len(model._param_slots()) * 2
    assert {k: a.dtype for k, a in arrays.items() if a.dtype != expected} == {}
    assert model.predict(x, batch_size=16).dtype == expected


@pytest.mark.parametrize("net", NETS)
def test_float64_input_reaches_a_float32_model_as_float32(net):
    model = mt.MLP([6, 8, 8, 3], seed=0, **NETS[net])
    model.compile(mt.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
    seen = record_dtypes(model)
    x64, y = data(40, 6, np.float64)
    model.fit(x64, y, batch_size=16, epochs=2, verbose=0)
    model.evaluate(x64, y, batch_size=16)
    model.predict(x64, batch_size=16)
    assert len(seen) > 0
    assert [s for s in seen if s[2] != np.float32] == []


# --------------------------------------------------------- copies of the data

N, F = 16384, 256  # a float32 data set of 16 MiB, far above a batch's working set
BATCH = 256


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("validation_split", [0.0, 0.25])
def test_fit_never_copies_a_float32_data_set(shuffle, validation_split):
    x, y = data(N, F, np.float32, classes=10)
    model = mt.MLP([F, 32, 10], seed=0)
    model.compile(mt.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy", ["accuracy"])
    with traced() as mem:
        model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=3,
            verbose=0,
            shuffle=shuffle,
            validation_split=validation_split,
        )
    # Half the data set: any copy of x (per epoch or once) would be 1.0; what is
    # allowed is per-batch work plus, today, the one-byte-per-value finiteness mask
    # of the input check (0.25).
    assert mem["peak"] < 0.5 * x.nbytes
    # What outlives fit is the last batch's caches (x's rows among them): 1 MiB at most.
    assert mem["held"] < 4 * BATCH * F * 4


def test_fit_casts_a_float64_data_set_once():
    x64, y = data(N, F, np.float64, classes=10)
    model = mt.MLP([F, 32, 10], seed=0)
    model.compile(mt.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
    with traced() as mem:
        model.fit(x64, y, batch_size=BATCH, epochs=3, verbose=0, validation_split=0.25)
    # One float32 copy is 0.5 of the float64 input (the lower bound: the instrument
    # sees it); a second copy alive at the same time, or a float64 copy, would pass
    # 1.0. The finiteness mask adds 0.125.
    assert 0.5 * x64.nbytes <= mem["peak"] < 0.75 * x64.nbytes
    assert mem["held"] < 4 * BATCH * F * 4


@pytest.mark.parametrize("dtype", FLOATS)
def test_predict_casts_and_holds_one_batch_at_a_time(dtype):
    x, _ = data(N, F, dtype, classes=10)
    model = mt.MLP([F, 64, 10], batchnorm=True, seed=0)
    with traced() as mem:
        out = model.predict(x, batch_size=BATCH)
    # one batch cast to float32 (256 KiB from float64), one batch of activations
    # (3 x 64 KiB), and the 640 KiB output: far below a cast of the whole set.
    assert mem["peak"] < out.nbytes + 2 * BATCH * F * 4 + 512 * KIB
    assert mem["peak"] < 0.1 * x.nbytes


# --------------------------------------------------------------- no_grad caches


@pytest.mark.parametrize("batchnorm", [False, True])
def test_predict_leaves_no_activation_cache(batchnorm):
    x, _ = data(4096, 64, np.float32, classes=10)
    model = mt.MLP([64, 256, 256, 10], batchnorm=batchnorm, seed=0)
    with traced() as mem:
        out = model.predict(x, batch_size=1024)
    # The caches of one 1024-sample batch would be at least 2 x 1 MiB (the two ReLU outputs).
    assert out.nbytes <= mem["held"] < out.nbytes + 64 * KIB


@pytest.mark.parametrize("batchnorm", [False, True])
def test_no_grad_forward_keeps_no_cache_and_lowers_the_peak(batchnorm):
    x, _ = data(4096, 64, np.float32, classes=10)
    model = mt.MLP([64, 256, 256, 10], batchnorm=batchnorm, seed=0).eval()
    activation = 4096 * 256 * 4  # one hidden activation: 4 MiB
    with traced() as with_grad:
        out = model(x)
    del out
    with mt.no_grad():
        model(x[:2])  # drop those caches before measuring again
    with traced() as without_grad, mt.no_grad():
        out = model(x)
    # With grad on, backward needs the two ReLU outputs (and BatchNorm's x_hat):
    # the instrument sees them. Under no_grad nothing but the output stays.
    assert with_grad["held"] - out.nbytes >= 2 * activation
    assert without_grad["held"] - out.nbytes < 64 * KIB
    # ... and the peak is lower by (at least) the first ReLU output no longer kept.
    assert without_grad["peak"] < with_grad["peak"] - activation + 64 * KIB


def test_no_grad_forward_releases_the_caches_of_an_earlier_forward():
    x, _ = data(4096, 64, np.float32, classes=10)
    model = mt.MLP([64, 256, 256, 10], seed=0)
    with traced() as mem:
        model(x)
        cached = tracemalloc.get_traced_memory()[0]  # the two ReLU outputs: 8 MiB
        with mt.no_grad():
            model(x[:2])
    assert cached - mem["start"] >= 2 * 4096 * 256 * 4  # the instrument sees the caches
    assert mem["held"] < 64 * KIB  # and they are gone


# ------------------------------------------------------ in-place grads and updates

WIDE = [64, 1024, 10]  # W of the first layer: 256 KiB in float32


def largest_param_bytes(model: mt.Sequential) -> int:
    return max(p.nbytes for _, p, _ in model._param_slots())


def test_backward_writes_parameter_gradients_in_place():
    model = mt.MLP(WIDE, seed=0)
    x, _ = data(4, 64, np.float32)
    grads_before = [g for _, _, g in model._param_slots()]
    y = model(x)
    with traced() as mem:
        model.backward(np.ones_like(y))
    grads_after = [g for _, _, g in model._param_slots()]
    assert all(a is b for a, b in zip(grads_before, grads_after, strict=True))  # same arrays
    # batch of 4: every activation gradient is at most 16 KiB; a fresh dW of the
    # first layer would be 256 KiB
    assert mem["peak"] < 0.25 * largest_param_bytes(model)


@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_optimizer_step_allocates_nothing_shaped_like_a_parameter(opt):
    model = mt.MLP(WIDE, batchnorm=True, seed=0)
    model.compile(OPTIMIZERS[opt](), "sparse_categorical_crossentropy")
    x, y = data(8, 64, np.float32, classes=10)
    model.train_step(x, y)  # anything built lazily exists now
    with traced() as mem:
        model.optimizer.step(model)
    assert model.optimizer.iterations == 2
    assert mem["peak"] < 0.25 * largest_param_bytes(model)
