"""Tests for minitrain.data: toy sets, digits, one-hot encoding, splitting."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from signatures import signature

from minitrain import data

# ---------------------------------------------------------------- make_spirals


@pytest.mark.parametrize(("n_per_class", "n_classes"), [(100, 3), (2, 1), (7, 5), (50, 2)])
def test_spirals_shapes_dtypes_and_exact_class_balance(n_per_class, n_classes):
    x, y = data.make_spirals(n_per_class, n_classes, seed=0)
    assert x.shape == (n_per_class * n_classes, 2)
    assert x.dtype == np.float32
    assert y.shape == (n_per_class * n_classes,)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y, minlength=n_classes), [n_per_class] * n_classes)


def test_spirals_defaults_are_300_points_of_3_classes():
    x, y = data.make_spirals(seed=1)
    assert x.shape == (300, 2)
    assert set(np.unique(y)) == {0, 1, 2}


def test_spirals_without_noise_match_the_closed_form():
    # n=2, K=2: r in {0.1, 1.0}; theta = pi*k + 4r; x = r (sin theta, cos theta).
    # class 0: theta=0.4 -> 0.1*(sin .4, cos .4) = (0.03894183, 0.09210610)
    #          theta=4.0 -> (sin 4, cos 4)        = (-0.75680250, -0.65364362)
    # class 1: the same points turned by pi, i.e. negated.
    x, y = data.make_spirals(2, 2, noise=0.0, seed=3)
    expected = {
        (0, 0.03894183, 0.09210610),
        (0, -0.75680250, -0.65364362),
        (1, -0.03894183, -0.09210610),
        (1, 0.75680250, 0.65364362),
    }
    got = {(int(k), round(float(a), 8), round(float(b), 8)) for k, (a, b) in zip(y, x, strict=True)}
    assert len(got) == 4
    for (k, a, b), (ek, ea, eb) in zip(sorted(got), sorted(expected), strict=True):
        assert k == ek
        assert a == pytest.approx(ea, abs=1e-7)
        assert b == pytest.approx(eb, abs=1e-7)


def test_spirals_noise_turns_points_by_noise_radians_and_keeps_the_radius():
    n, k, sigma = 4000, 3, 0.2
    x, y = data.make_spirals(n, k, noise=sigma, seed=7)
    r = np.hypot(x[:, 0], x[:, 1]).astype(np.float64)
    # The radius is the deterministic grid 0.1 + 0.9 i/(n-1) for each class.
    for c in range(k):
        np.testing.assert_allclose(np.sort(r[y == c]), np.linspace(0.1, 1.0, n), atol=1e-6)
    theta = np.arctan2(x[:, 0], x[:, 1]).astype(np.float64)
    residual = theta - (2 * np.pi * y / k + 4 * r)
    residual = (residual + np.pi) % (2 * np.pi) - np.pi  # wrap to [-pi, pi)
    # 12000 N(0, 0.2^2) draws: the sample std is within 0.2 * (1 +- 0.02) by far.
    assert residual.std() == pytest.approx(sigma, rel=0.02)
    assert abs(residual.mean()) < 0.01


def test_spirals_same_seed_gives_identical_arrays_and_another_seed_differs():
    x1, y1 = data.make_spirals(seed=11)
    x2, y2 = data.make_spirals(seed=11)
    x3, y3 = data.make_spirals(seed=12)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_spirals_come_shuffled_so_the_last_fifth_holds_every_class():
    # fit's validation_split validates on the last samples.
    _, y = data.make_spirals(seed=0)
    assert set(np.unique(y[-60:])) == {0, 1, 2}


def test_default_spirals_are_learnable_by_an_mlp_but_not_by_a_linear_model():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    x, y = data.make_spirals(seed=0)
    x_train, x_val, y_train, y_val = x[:240], x[240:], y[:240], y[240:]
    mlp = MLPClassifier((64, 64), learning_rate_init=0.01, max_iter=2000, random_state=0)
    mlp.fit(x_train, y_train)
    assert mlp.score(x_val, y_val) >= 0.97
    # A linear model cannot fit even its own training set (about 57% here).
    linear = LogisticRegression().fit(x, y)
    assert linear.score(x, y) < 0.65


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_per_class": 0}, ValueError, "n_per_class must be a positive int, got 0"),
        ({"n_per_class": 1}, ValueError, "n_per_class must be an int >= 2, got 1"),
        ({"n_per_class": 2.0}, TypeError, "n_per_class must be a positive int"),
        ({"n_classes": 0}, ValueError, "n_classes must be a positive int, got 0"),
        ({"n_classes": True}, TypeError, "n_classes must be a positive int"),
        ({"noise": -0.1}, ValueError, r"noise must be a real number in \[0.0, inf\], got -0.1"),
        ({"noise": "0.2"}, TypeError, "noise must be a real number"),
        ({"seed": -1}, ValueError, "seed must be a non-negative int, got -1"),
        ({"seed": 1.5}, TypeError, "seed must be None or a non-negative int"),
    ],
)
def test_spirals_reject_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.make_spirals(**kwargs)


# ------------------------------------------------------------------ make_blobs


@pytest.mark.parametrize(
    ("n_per_class", "n_classes", "n_features"), [(100, 3, 2), (1, 1, 1), (5, 4, 7)]
)
def test_blobs_shapes_dtypes_and_exact_class_balance(n_per_class, n_classes, n_features):
    x, y = data.make_blobs(n_per_class, n_classes, n_features, seed=0)
    assert x.shape == (n_per_class * n_classes, n_features)
    assert x.dtype == np.float32
    assert y.shape == (n_per_class * n_classes,)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y, minlength=n_classes), [n_per_class] * n_classes)


def test_blobs_without_spread_put_every_point_on_its_centre_inside_the_box():
    x, y = data.make_blobs(10, 4, 3, spread=0.0, seed=2)
    for c in range(4):
        points = x[y == c]
        np.testing.assert_array_equal(points, np.broadcast_to(points[0], points.shape))
        assert np.all(np.abs(points[0]) <= 10.0)
    assert len(np.unique(x, axis=0)) == 4


def test_blobs_spread_is_the_standard_deviation_around_each_centre():
    x, y = data.make_blobs(5000, 3, 2, spread=0.5, seed=4)
    for c in range(3):
        deviations = x[y == c] - x[y == c].mean(axis=0)
        # 5000 draws per coordinate: the sample std is within 0.5 * (1 +- 0.03).
        np.testing.assert_allclose(deviations.std(axis=0), [0.5, 0.5], rtol=0.03)


def test_blobs_same_seed_gives_identical_arrays_and_another_seed_differs():
    x1, y1 = data.make_blobs(seed=5)
    x2, y2 = data.make_blobs(seed=5)
    x3, _ = data.make_blobs(seed=6)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_per_class": 0}, ValueError, "n_per_class must be a positive int, got 0"),
        ({"n_classes": -2}, ValueError, "n_classes must be a positive int, got -2"),
        ({"n_features": 0}, ValueError, "n_features must be a positive int, got 0"),
        ({"n_features": 2.5}, TypeError, "n_features must be a positive int"),
        ({"spread": -1.0}, ValueError, "spread must be a real number"),
        ({"seed": "0"}, TypeError, "seed must be None or a non-negative int"),
    ],
)
def test_blobs_reject_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.make_blobs(**kwargs)


# ----------------------------------------------------------------- load_digits


def test_load_digits_is_sklearn_digits_scaled_to_unit_interval():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits as sklearn_load_digits

    x, y = data.load_digits()
    reference = sklearn_load_digits()
    assert x.shape == (1797, 64)
    assert x.dtype == np.float32
    assert y.shape == (1797,)
    assert y.dtype == np.int64
    assert x.min() == 0.0
    assert x.max() == 1.0
    # Pixels are integers 0..16, so x * 16 is exact in float32.
    np.testing.assert_array_equal(x * 16, reference.data)
    np.testing.assert_array_equal(y, reference.target)
    np.testing.assert_array_equal(np.unique(y), np.arange(10))


def test_load_digits_without_sklearn_names_the_extra_to_install(monkeypatch):
    # A None entry in sys.modules makes the import fail as if the package were absent.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "minitrain\[test\]"'):
        data.load_digits()


# -------------------------------------------------------------- to_categorical


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.float32, np.float64])
def test_to_categorical_one_hot_table(dtype):
    y = np.array([2, 0, 1, 2], dtype=dtype)
    expected = np.array(
        [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]],
        dtype=np.float32,
    )
    out = data.to_categorical(y)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_to_categorical_with_num_classes_pads_columns():
    out = data.to_categorical(np.array([1, 3]), num_classes=5)
    np.testing.assert_array_equal(out, [[0, 1, 0, 0, 0], [0, 0, 0, 1, 0]])


@pytest.mark.parametrize("y", [np.array([[0], [2]]), [0, 2], (0, 2)])
def test_to_categorical_accepts_column_labels_and_lists_as_keras(y):
    np.testing.assert_array_equal(data.to_categorical(y), [[1, 0, 0], [0, 0, 1]])


def test_to_categorical_of_no_labels_with_num_classes_is_empty():
    out = data.to_categorical(np.array([], dtype=np.int64), num_classes=3)
    assert out.shape == (0, 3)
    assert out.dtype == np.float32


def test_to_categorical_leaves_its_input_alone():
    y = np.array([[1.0], [0.0]])
    data.to_categorical(y)
    np.testing.assert_array_equal(y, [[1.0], [0.0]])
    assert y.dtype == np.float64


@pytest.mark.parametrize(
    ("y", "num_classes", "error", "match"),
    [
        (np.array([0, 3]), 3, ValueError, r"y must be labels in \[0, 3\), got 3"),
        (np.array([0, -1]), None, ValueError, r"y must be labels in \[0, None\), got -1"),
        (np.array([0.0, 1.5]), None, ValueError, "non-integral value 1.5"),
        (np.array(["a", "b"]), None, TypeError, "y must hold integer labels, got dtype <U1"),
        (np.array([[0, 1]]), None, ValueError, r"shape \(N,\) or \(N, 1\)"),
        (np.array([], dtype=np.int64), None, ValueError, "at least one label"),
        (np.array([0, 1]), 0, ValueError, "num_classes must be a positive int, got 0"),
        (np.array([0, 1]), 2.0, TypeError, "num_classes must be a positive int"),
        ("012", None, TypeError, "y must be a NumPy array of integer labels"),
    ],
)
def test_to_categorical_rejects_bad_labels(y, num_classes, error, match):
    with pytest.raises(error, match=match):
        data.to_categorical(y, num_classes)


# ------------------------------------------------------------ train_test_split


@pytest.mark.parametrize(
    ("test_size", "n_test"),
    [
        (0.2, 2),  # ceil(0.2 * 10) = 2
        (0.25, 3),  # ceil(2.5) = 3, as scikit-learn
        (0.05, 1),  # ceil(0.5) = 1
        (0.9, 9),
        (np.float32(0.5), 5),
        (3, 3),
        (np.int64(9), 9),
        (1, 1),
    ],
)
def test_split_sizes(test_size, n_test):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_size, seed=0)
    assert x_test.shape == (n_test, 2)
    assert x_train.shape == (10 - n_test, 2)
    assert y_test.shape == (n_test,)
    assert y_train.shape == (10 - n_test,)


def test_split_is_a_shuffled_partition_that_keeps_rows_paired_and_dtypes():
    x = np.arange(40, dtype=np.float64).reshape(20, 2)
    y = np.arange(20, dtype=np.int16)
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, 0.25, seed=3)
    # Each x row [2i, 2i+1] must travel with its label i.
    np.testing.assert_array_equal(x_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(x_test[:, 0], 2 * y_test)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), np.arange(20))
    assert not np.array_equal(np.concatenate([y_test, y_train]), np.arange(20))
    assert x_train.dtype == np.float64
    assert y_train.dtype == np.int16


def test_split_same_seed_gives_identical_parts_and_another_seed_differs():
    x, y = data.make_blobs(seed=0)
    first = data.train_test_split(x, y, seed=9)
    second = data.train_test_split(x, y, seed=9)
    third = data.train_test_split(x, y, seed=10)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], third[3])


def test_split_returns_copies_and_leaves_inputs_alone():
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    y = np.arange(5)
    x_train, x_test, y_train, _ = data.train_test_split(x, y, 1, seed=0)
    x_train[:] = -1.0
    y_train[:] = -1
    np.testing.assert_array_equal(x, np.arange(10, dtype=np.float32).reshape(5, 2))
    np.testing.assert_array_equal(y, np.arange(5))


@pytest.mark.parametrize(
    ("x", "y", "test_size", "error", "match"),
    [
        (
            np.zeros((10, 2)),
            np.zeros(10),
            0.0,
            ValueError,
            r"test_size must be a real number in \(0",
        ),
        (
            np.zeros((10, 2)),
            np.zeros(10),
            1.0,
            ValueError,
            r"test_size must be a real number in \(0",
        ),
        (np.zeros((10, 2)), np.zeros(10), 0, ValueError, r"test_size must be an int in \[1, 9\]"),
        (np.zeros((10, 2)), np.zeros(10), 10, ValueError, r"test_size must be an int in \[1, 9\]"),
        (np.zeros((10, 2)), np.zeros(10), True, TypeError, "test_size must be a float in"),
        (np.zeros((10, 2)), np.zeros(10), "0.2", TypeError, "test_size must be a float in"),
        (np.zeros((2, 2)), np.zeros(2), 0.99, ValueError, "at least one training sample"),
        (np.zeros((10, 2)), np.zeros(9), 0.2, ValueError, "same number of samples, got 10 and 9"),
        ([[0.0], [1.0]], np.zeros(2), 0.5, TypeError, "x must be a NumPy array"),
        (np.zeros((2, 1)), [0, 1], 0.5, TypeError, "y must be a NumPy array"),
        (np.zeros((1, 2)), np.zeros(1), 0.5, ValueError, "at least 2 samples"),
        (np.float64(1.0), np.zeros(1), 0.5, TypeError, "x must be a NumPy array"),
        (np.array(1.0), np.zeros(1), 0.5, ValueError, "x must have a sample axis"),
    ],
)
def test_split_rejects_bad_arguments(x, y, test_size, error, match):
    with pytest.raises(error, match=match):
        data.train_test_split(x, y, test_size, seed=0)


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (data.make_spirals, "n_per_class=100, n_classes=3, noise=0.2, seed=None"),
        (data.load_digits, ""),
        (data.to_categorical, "y, num_classes=None"),
        (data.train_test_split, "x, y, test_size=0.2, seed=None"),
    ],
)
def test_arguments_and_defaults_are_the_contract(function, expected):
    assert signature(function) == expected
