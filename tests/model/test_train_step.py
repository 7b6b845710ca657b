"""train_step: one update by hand, dtypes, the pre-update loss, inputs left alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitrain as mt
from tests.model.helpers import _data

# --------------------------------------------------------------- train_step


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: mt.SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda: mt.Adam(learning_rate=0.01, weight_decay=1e-3),
        lambda: mt.AdamW(learning_rate=0.01),
    ],
)
@pytest.mark.parametrize(
    ("loss", "make_y"),
    [
        ("sparse_categorical_crossentropy", lambda y: y),
        ("categorical_crossentropy", lambda y: np.eye(3)[y]),  # float64 one-hot
        ("mse", lambda y: np.eye(3)[y]),
    ],
)
def test_train_step_stays_float32_everywhere(optimizer, loss, make_y):
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.2, activation="leaky_relu", seed=0)
    model.compile(optimizer(), loss, metrics=["accuracy"])
    x, y = _data(10)  # float64 data, cast once to float32
    for _ in range(2):
        logs = model.train_step(x, make_y(y))
    assert list(logs) == ["loss", "accuracy"]
    assert all(type(v) is float for v in logs.values())
    assert math.isfinite(logs["loss"]) and 0.0 <= logs["accuracy"] <= 1.0
    for layer in model.layers:
        for store in (layer.params, layer.grads, layer.buffers):
            for k, v in store.items():
                assert v.dtype == np.float32, (layer, k)
        for cached in layer._saved or ():
            if isinstance(cached, np.ndarray) and cached.dtype.kind != "b":
                assert cached.dtype == np.float32, layer
    for k, v in model.optimizer.state_dict().items():
        assert v.dtype == (np.int64 if k == "iterations" else np.float32), k
    assert model.optimizer.iterations == 2
    assert model.forward(x).dtype == np.float32
    assert model.predict(x).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("loss", "y"),
    [
        ("sparse_categorical_crossentropy", np.array([1, 0])),
        ("categorical_crossentropy", np.array([[0.0, 1.0], [1.0, 0.0]])),
    ],
)
def test_train_step_by_hand(dtype, loss, y):
    """One SGD step of a Dense(2, 2) on two samples, every number worked out below."""
    dense = mt.Dense(2, 2, dtype=dtype)
    ln3 = math.log(3.0)
    dense.params["W"][:] = [[ln3, 0.0], [0.0, 0.0]]
    dense.params["b"][:] = [0.0, 0.0]
    model = mt.Sequential([dense])
    model.compile(mt.SGD(learning_rate=0.1), loss, metrics=["accuracy"])
    assert model.loss.from_logits  # no Softmax at the end: logits
    x = np.array([[1.0, 0.0], [0.0, 2.0]])
    # logits z = x @ W + b:  row 0: [ln 3, 0]  -> softmax [3/4, 1/4], label 1
    #                        row 1: [0, 0]     -> softmax [1/2, 1/2], label 0
    # loss = (-ln(1/4) - ln(1/2)) / 2 = (ln 4 + ln 2) / 2 = 1.5 ln 2
    # dL/dz = (softmax - onehot) / N: row 0 [3/4, 1/4 - 1] / 2 = [3/8, -3/8]
    #                                 row 1 [1/2 - 1, 1/2] / 2 = [-1/4, 1/4]
    # dL/dW = x.T @ dL/dz = [[1 * 3/8, 1 * -3/8], [2 * -1/4, 2 * 1/4]] = [[3/8, -3/8], [-1/2, 1/2]]
    # dL/db = sum of rows = [3/8 - 1/4, -3/8 + 1/4] = [1/8, -1/8]
    # W <- W - 0.1 dL/dW = [[ln 3 - 0.0375, 0.0375], [0.05, -0.05]]
    # b <- b - 0.1 dL/db = [-0.0125, 0.0125]
    # accuracy: row 0 argmax 0 != 1, row 1 argmax 0 (a tie goes to the first) == 0 -> 1/2
    logs = model.train_step(x, y)
    tol = 1e-6 if dtype == np.float32 else 1e-15
    assert logs["loss"] == pytest.approx(1.5 * math.log(2.0), rel=tol)
    assert logs["accuracy"] == 0.5
    np.testing.assert_allclose(dense.grads["W"], [[0.375, -0.375], [-0.5, 0.5]], rtol=tol)
    np.testing.assert_allclose(dense.grads["b"], [0.125, -0.125], rtol=tol)
    np.testing.assert_allclose(
        dense.params["W"], [[ln3 - 0.0375, 0.0375], [0.05, -0.05]], rtol=tol, atol=tol
    )
    np.testing.assert_allclose(dense.params["b"], [-0.0125, 0.0125], rtol=tol)
    assert dense.params["W"].dtype == dtype
    assert model.optimizer.iterations == 1


def test_train_step_loss_is_the_pre_update_training_mode_loss():
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0, dtype=np.float64)
    model.compile(mt.SGD(learning_rate=0.5), "sparse_categorical_crossentropy")
    x, y = _data(10)
    twin = mt.MLP([4, 8, 3], batchnorm=True, seed=0, dtype=np.float64)
    expected = mt.SparseCategoricalCrossentropy(from_logits=True)(y, twin.forward(x))
    logs = model.train_step(x, y)
    assert logs == {"loss": pytest.approx(expected, rel=1e-15, abs=0.0)}
    assert model.train_step(x, y)["loss"] < expected  # and it learns


def test_train_step_does_not_modify_its_inputs():
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0)
    model.compile("sgd", "categorical_crossentropy")
    x, y = _data(10)
    x32 = x.astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[y]
    x_copy, y_copy = x32.copy(), onehot.copy()
    model.train_step(x32, onehot)
    np.testing.assert_array_equal(x32, x_copy)
    np.testing.assert_array_equal(onehot, y_copy)
