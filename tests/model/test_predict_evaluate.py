"""predict and evaluate on a Sequential: eval mode, batches, restored modes."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from tests.model.helpers import _assert_same, _data, _state

# ------------------------------------------------------------------ predict


def test_predict_equals_forward_in_eval_mode():
    model = mt.MLP([6, 16, 8, 4], batchnorm=True, dropout=0.5, seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data(20, width=6, classes=4)
    model.train_step(x, y)  # non-trivial running statistics
    p = model.predict(x, batch_size=64)
    model.eval()
    np.testing.assert_array_equal(p, model.forward(x))


def test_predict_in_batches_equals_one_batch():
    model = mt.MLP([6, 16, 8, 4], batchnorm=True, seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data(50, width=6, classes=4)
    model.train_step(x, y)
    batched = model.predict(x, batch_size=7)
    whole = model.predict(x, batch_size=50)
    assert batched.shape == (50, 4)
    # BLAS may round a row differently inside a bigger product: float32 rounding only.
    np.testing.assert_allclose(batched, whole, rtol=1e-5, atol=1e-6)
    # Against the same batches run by hand the result is exact: rows land in place.
    model.eval()
    by_hand = np.concatenate([model.forward(x[i : i + 7]) for i in range(0, 50, 7)])
    np.testing.assert_array_equal(batched, by_hand)


def test_predict_restores_each_layers_mode():
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.5, seed=0)
    modes = [True, False, True, False, True]  # Dense, BatchNorm, ReLU, Dropout, Dense
    for layer, mode in zip(model.layers, modes, strict=True):
        layer.training = mode
    model.predict(np.ones((5, 4)))
    assert [layer.training for layer in model.layers] == modes
    model.train()
    model.predict(np.ones((5, 4)))
    assert all(layer.training for layer in model.layers)


def test_predict_leaves_running_statistics_and_no_caches():
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.5, seed=0)
    x, _ = _data(10)
    model.forward(x)  # a training forward: caches everywhere, running stats moved
    assert all(layer._saved is not None for layer in model.layers)
    before = _state(model)
    p = model.predict(x, batch_size=3)
    assert p.dtype == np.float32 and p.shape == (10, 3)
    _assert_same(model.state_dict(), before)
    assert all(layer._saved is None for layer in model.layers)
    with pytest.raises(RuntimeError, match="no_grad"):
        model.backward(np.ones((10, 3), dtype=np.float32))


def test_predict_works_before_compile_and_on_one_sample():
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0)
    p = model.predict(np.ones((1, 4)))  # eval mode: one sample is fine for BatchNorm
    assert p.shape == (1, 3)


# ----------------------------------------------------------------- evaluate


@pytest.mark.parametrize(("dtype", "tol"), [(np.float32, 1e-6), (np.float64, 1e-12)])
def test_evaluate_equals_the_loss_over_the_whole_set_in_eval_mode(dtype, tol):
    model = mt.MLP([6, 16, 4], batchnorm=True, dropout=0.3, seed=0, dtype=dtype)
    x, y = _data(50, width=6, classes=4)
    model.compile(mt.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    model.train_step(x, y)
    model.train_step(x, y)
    before = _state(model)
    loss = model.evaluate(x, y, batch_size=7)
    assert type(loss) is float
    _assert_same(model.state_dict(), before)  # no running statistic moved
    assert all(layer.training for layer in model.layers)  # mode restored
    model.eval()
    expected = mt.SparseCategoricalCrossentropy(from_logits=True)(y, model.forward(x))
    assert loss == pytest.approx(expected, rel=tol, abs=0.0)


def test_evaluate_returns_loss_and_metrics():
    model = mt.MLP([6, 16, 4], seed=0)
    x, y = _data(50, width=6, classes=4)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    values = model.evaluate(x, y, batch_size=7)
    logs = model.evaluate(x, y, batch_size=7, return_dict=True)
    assert isinstance(values, list) and len(values) == 2
    assert list(logs) == ["loss", "accuracy"]
    assert values == [logs["loss"], logs["accuracy"]]
    model.eval()
    out = model.forward(x)
    assert logs["accuracy"] == float(np.mean(out.argmax(axis=1) == y))
    assert logs["loss"] == pytest.approx(
        mt.SparseCategoricalCrossentropy(from_logits=True)(y, out), rel=1e-6
    )


def test_evaluate_with_return_dict_and_no_metric():
    model = mt.MLP([6, 4], seed=0)
    x, y = _data(9, width=6, classes=4)
    model.compile("sgd", "sparse_categorical_crossentropy")
    logs = model.evaluate(x, y, return_dict=True)
    assert list(logs) == ["loss"]
    assert logs["loss"] == model.evaluate(x, y)
