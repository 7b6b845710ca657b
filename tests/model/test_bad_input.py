"""Bad data and arguments are refused by every entry point, changing nothing."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain.model import NotCompiledError
from tests.model.helpers import _assert_same, _data, _snapshot, _state

# -------------------------------------------------------------- bad input

GOOD_X, GOOD_Y = _data(6, width=4, classes=3)


def _with_nan(row: int, value: float = np.nan) -> np.ndarray:
    x = GOOD_X.copy()
    x[row, 1] = value
    return x


def _scalar(value: str) -> str:
    """The value as printed, bare or as a NumPy scalar's repr (``np.int64(3)``)."""
    return rf"(np\.\w+\()?{value}\b"


BAD_XY = {
    "x 1-D": (np.zeros(4), GOOD_Y, r"x must be 2-D of shape \(N, features\), got shape \(4,\)"),
    "x 3-D": (
        np.zeros((6, 4, 1)),
        GOOD_Y,
        r"x must be 2-D of shape \(N, features\), got shape \(6, 4, 1\)",
    ),
    "x width": (
        np.zeros((6, 5)),
        GOOD_Y,
        r"x must have 4 features \(columns\), got shape \(6, 5\)",
    ),
    "x empty": (
        np.zeros((0, 4)),
        GOOD_Y[:0],
        r"x must hold at least one sample, got shape \(0, 4\)",
    ),
    "x NaN": (_with_nan(2), GOOD_Y, r"x must be finite, got NaN or inf in row 2"),
    "x inf": (_with_nan(4, -np.inf), GOOD_Y, r"x must be finite, got NaN or inf in row 4"),
    "len(y)": (
        GOOD_X,
        GOOD_Y[:5],
        r"x and y must hold the same number of samples, got 6 and 5",
    ),
    "label too big": (
        GOOD_X,
        np.array([0, 1, 2, 3, 0, 1]),
        r"y must be labels in \[0, 3\), got " + _scalar("3"),
    ),
    "label negative": (
        GOOD_X,
        np.array([0, -1, 2, 0, 0, 1], dtype=np.int8),
        r"y must be labels in \[0, 3\), got " + _scalar("-1"),
    ),
    "label non-integral": (
        GOOD_X,
        np.array([0.0, 1.0, 1.5, 0.0, 2.0, 1.0]),
        r"y must be integer labels, got the non-integral value " + _scalar(r"1\.5"),
    ),
    "label NaN": (
        GOOD_X,
        np.array([0.0, 1.0, np.nan, 0.0, 2.0, 1.0]),
        r"y must be finite integer labels, got NaN or inf",
    ),
    "one-hot given to sparse": (
        GOOD_X,
        np.eye(3)[GOOD_Y],
        r"y must be integer labels of shape \(N,\) or \(N, 1\), got shape \(6, 3\)",
    ),
}

BAD_ONEHOT = {
    "one-hot width": (
        GOOD_X,
        np.eye(4)[GOOD_Y],
        r"y must be one-hot or probability targets of shape \(N, 3\), got shape \(6, 4\)",
    ),
    "labels given to categorical": (
        GOOD_X,
        GOOD_Y,
        r"y must be one-hot or probability targets of shape \(N, 3\), got shape \(6,\); "
        r"integer class labels go with SparseCategoricalCrossentropy",
    ),
    "one-hot NaN": (
        GOOD_X,
        np.where(np.arange(6)[:, None] == 3, np.nan, np.eye(3)[GOOD_Y]),
        r"y must be finite, got NaN or inf in row 3",
    ),
    "one-hot len": (
        GOOD_X,
        np.eye(3)[GOOD_Y][:4],
        r"x and y must hold the same number of samples, got 6 and 4",
    ),
}

ENTRY_POINTS = {
    "fit": lambda m, x, y: m.fit(x, y, batch_size=4, verbose=0),
    "evaluate": lambda m, x, y: m.evaluate(x, y, batch_size=4),
    "train_step": lambda m, x, y: m.train_step(x, y),
}


def _trained(loss: str) -> mt.Sequential:
    """A model with non-zero optimizer slots and moved running statistics, in training mode."""
    model = mt.MLP([4, 8, 3], batchnorm=True, dropout=0.25, seed=0)
    model.compile(mt.Adam(learning_rate=0.01), loss, metrics=["accuracy"])
    y = GOOD_Y if loss.startswith("sparse") else np.eye(3)[GOOD_Y]
    model.train_step(GOOD_X, y)
    model.train_step(GOOD_X, y)
    return model


def _assert_refused(model, call, x, y, message) -> None:
    before = _snapshot(model)
    modes = [layer.training for layer in model.layers]
    with pytest.raises(ValueError, match=message):
        call(model, x, y)
    _assert_same(_snapshot(model), before)
    assert model.optimizer.iterations == 2
    assert [layer.training for layer in model.layers] == modes


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_XY)
def test_bad_data_is_refused_and_changes_nothing(entry, case):
    x, y, message = BAD_XY[case]
    _assert_refused(_trained("sparse_categorical_crossentropy"), ENTRY_POINTS[entry], x, y, message)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_ONEHOT)
def test_bad_one_hot_targets_are_refused_and_change_nothing(entry, case):
    x, y, message = BAD_ONEHOT[case]
    _assert_refused(_trained("categorical_crossentropy"), ENTRY_POINTS[entry], x, y, message)


@pytest.mark.parametrize("case", ["x 1-D", "x 3-D", "x width", "x empty"])
def test_predict_refuses_bad_x_and_changes_nothing(case):
    x, _, message = BAD_XY[case]
    model = _trained("sparse_categorical_crossentropy")
    before = _snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.predict(x)
    _assert_same(_snapshot(model), before)
    assert all(layer.training for layer in model.layers)


@pytest.mark.parametrize(
    ("entry", "kwargs", "error", "message"),
    [
        ("evaluate", {"batch_size": 0}, ValueError, "batch_size must be a positive int, got 0"),
        ("predict", {"batch_size": 2.5}, TypeError, "batch_size must be a positive int"),
        ("evaluate", {"verbose": 3}, ValueError, "verbose must be 0, 1, 2 or 'auto', got 3"),
        ("predict", {"verbose": "loud"}, ValueError, "verbose must be 0, 1, 2 or 'auto'"),
    ],
)
def test_bad_keyword_arguments(entry, kwargs, error, message):
    model = _trained("sparse_categorical_crossentropy")
    before = _snapshot(model)
    with pytest.raises(error, match=message):
        if entry == "predict":
            model.predict(GOOD_X, **kwargs)
        else:
            model.evaluate(GOOD_X, GOOD_Y, **kwargs)
    _assert_same(_snapshot(model), before)


def test_y_must_be_an_array():
    model = _trained("sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match=r"y must be a NumPy array, got \[0, 1"):
        model.train_step(GOOD_X, [0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_training_entry_points_need_compile(entry):
    model = mt.MLP([4, 8, 3], batchnorm=True, seed=0)
    before = _state(model)
    with pytest.raises(NotCompiledError, match=r"call compile\(optimizer, loss\) before") as info:
        ENTRY_POINTS[entry](model, GOOD_X, GOOD_Y)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    assert entry in str(info.value)
    _assert_same(model.state_dict(), before)


def test_not_compiled_error_is_a_value_and_runtime_error():
    assert issubclass(NotCompiledError, ValueError)
    assert issubclass(NotCompiledError, RuntimeError)
