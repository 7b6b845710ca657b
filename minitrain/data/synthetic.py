"""Small data sets and the two array chores every training script needs (``minitrain.data``).

Contract:

- ``make_spirals(...)``, ``make_blobs(...)`` return ``(x, y)`` with ``x`` a
  float32 array of shape (N, features) and ``y`` int64 labels of shape (N,),
  exactly ``n_per_class`` samples per class, in a shuffled order (``fit``'s
  ``validation_split`` takes the *last* samples, so a class-sorted set would
  validate on one class only). The same ``seed`` gives identical arrays;
  ``seed=None`` draws fresh entropy.
- ``load_digits()`` returns scikit-learn's bundled 8x8 digits (no download).
- ``to_categorical(y, num_classes=None)`` one-hot encodes labels (Keras).
- ``train_test_split(x, y, test_size=0.2, seed=None)`` returns
  ``x_train, x_test, y_train, y_test`` (scikit-learn's order).

Nothing here modifies its inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minitrain import _checks


def _generator(seed: object) -> np.random.Generator:
    """A NumPy generator from ``seed`` (None or a non-negative int)."""
    if seed is None:
        return np.random.default_rng()
    if not _checks.is_int(seed):
        raise TypeError(f"seed must be None or a non-negative int, got {_checks.describe(seed)}")
    return np.random.default_rng(_checks.non_negative_int("seed", seed))


def _shuffled(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), y[order].astype(np.int64)


def make_spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spiral arms, one per class (the CS231n toy problem).

    Arm :math:`k \in \{0, \dots, K-1\}` holds :math:`n` points
    :math:`i = 0, \dots, n-1` at

    .. math::

        r_i = 0.1 + 0.9 \, \frac{i}{n - 1}, \qquad
        \theta_{k,i} = \frac{2\pi k}{K} + 4 r_i + \sigma \, \varepsilon_{k,i}, \qquad
        x_{k,i} = r_i \, (\sin\theta_{k,i},\; \cos\theta_{k,i}),

    with :math:`\varepsilon_{k,i} \sim \mathcal{N}(0, 1)` and :math:`\sigma` =
    ``noise``: the noise is an angle in radians, as in CS231n, so it moves a
    point along its circle by :math:`r\sigma`. Two changes from CS231n keep the
    default set learnable to about 99% validation accuracy by a small MLP:

    - the arms start at :math:`2\pi k / K` (evenly spaced for every ``K``)
      rather than at :math:`4k` radians, which for some ``K`` lands two arms
      on top of each other;
    - the radius starts at 0.1, not 0: at :math:`r = 0` every arm has a point
      at the origin, the same input with ``K`` different labels, and near it
      the arms are closer than any noise.

    With ``K = 3`` neighbouring arms are :math:`2\pi/3 \approx 2.09` rad apart, ten
    default standard deviations; a linear classifier still cannot separate them.

    Parameters
    ----------
    n_per_class : int, default 100
        Points per arm, positive (at least 2, so that the radius spans [0.1, 1]).
    n_classes : int, default 3
        Number of arms ``K``, positive.
    noise : float, default 0.2
        Standard deviation :math:`\sigma` of the angle, in radians, ``>= 0``.
    seed : int or None, default None
        Seed of the generator that draws the noise and the order.

    Returns
    -------
    x : ndarray of shape (n_per_class * n_classes, 2), float32
        Points, inside the unit disc (up to the noise, which only turns them).
    y : ndarray of shape (n_per_class * n_classes,), int64
        Arm index in ``[0, n_classes)``.
    """
    n = _checks.positive_int("n_per_class", n_per_class)
    if n < 2:
        raise ValueError(f"n_per_class must be an int >= 2, got {n}")
    k = _checks.positive_int("n_classes", n_classes)
    sigma = _checks.real_in_range("noise", noise, 0.0)
    rng = _generator(seed)

    r = np.tile(np.linspace(0.1, 1.0, n), k)  # (K n,): radius, arm after arm
    y = np.repeat(np.arange(k), n)  # (K n,): arm index
    theta = 2.0 * np.pi * y / k + 4.0 * r + sigma * rng.standard_normal(k * n)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return _shuffled(x, y, rng)


def make_blobs(
    n_per_class: int = 100,
    n_classes: int = 3,
    n_features: int = 2,
    spread: float = 1.0,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Isotropic Gaussian blobs, one per class (as scikit-learn's ``make_blobs``).

    Class :math:`k` has a centre :math:`c_k` drawn uniformly from the box
    :math:`[-10, 10]^F`, and its points are

    .. math::

        x_{k,i} = c_k + s \, \varepsilon_{k,i}, \qquad
        \varepsilon_{k,i} \sim \mathcal{N}(0, I_F),

    with :math:`s` = ``spread``. The centres come from the same generator as the
    points, so one seed fixes both. Random centres may land close together;
    lower ``spread`` (or change ``seed``) for cleanly separated blobs.

    Parameters
    ----------
    n_per_class : int, default 100
        Points per class, positive.
    n_classes : int, default 3
        Number of blobs, positive.
    n_features : int, default 2
        Dimension ``F`` of the points, positive.
    spread : float, default 1.0
        Standard deviation :math:`s` of every coordinate around its centre, ``>= 0``.
    seed : int or None, default None
        Seed of the generator that draws the centres, the points and the order.

    Returns
    -------
    x : ndarray of shape (n_per_class * n_classes, n_features), float32
    y : ndarray of shape (n_per_class * n_classes,), int64
        Class index in ``[0, n_classes)``.
    """
    n = _checks.positive_int("n_per_class", n_per_class)
    k = _checks.positive_int("n_classes", n_classes)
    f = _checks.positive_int("n_features", n_features)
    s = _checks.real_in_range("spread", spread, 0.0)
    rng = _generator(seed)

    centres = rng.uniform(-10.0, 10.0, size=(k, f))  # (K, F)
    y = np.repeat(np.arange(k), n)  # (K n,)
    x = centres[y] + s * rng.standard_normal((k * n, f))  # (K n, F)
    return _shuffled(x, y, rng)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled handwritten digits, scaled to [0, 1].

    1797 grey 8x8 images of the digits 0-9, flattened row by row. The pixel
    values are the integers 0..16 in the source; they are divided by 16. The
    data ship with scikit-learn, so nothing is downloaded. The samples keep
    scikit-learn's order (roughly interleaved classes); shuffle with
    :func:`train_test_split`.

    Returns
    -------
    x : ndarray of shape (1797, 64), float32
        Pixel intensities in [0, 1].
    y : ndarray of shape (1797,), int64
        Digit in ``[0, 10)``.

    Raises
    ------
    ImportError
        When scikit-learn is not installed; it comes with the ``test`` extra.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as err:
        raise ImportError(
            'load_digits needs scikit-learn; install it with: pip install "minitrain[test]"'
        ) from err
    bunch = sklearn_load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    return x, y


def to_categorical(y: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer labels (Keras ``to_categorical``).

    ``out[i, y[i]] = 1`` and every other entry is 0.

    Parameters
    ----------
    y : array_like of shape (N,) or (N, 1)
        Integer class labels (any integer dtype, or floats holding integers).
        A list is accepted, as in Keras.
    num_classes : int or None, default None
        Number of columns; ``None`` means ``max(y) + 1``. Every label must be in
        ``[0, num_classes)``: unlike Keras, a label out of range is a
        ``ValueError``, not an ``IndexError``.
    Returns
    -------
    ndarray of shape (N, num_classes), float32
        (``minitrain.utils.to_categorical``, under Keras's name, gives Keras's float64.)
    """
    return one_hot(y, num_classes, np.float32, "y")


def one_hot(y: Any, num_classes: int | None, dtype: Any, name: str) -> np.ndarray:
    """``to_categorical`` with the rows' dtype and the argument's name for messages."""
    if isinstance(y, list | tuple):
        y = np.asarray(y)
    if num_classes is not None:
        num_classes = _checks.positive_int("num_classes", num_classes)
    labels = _checks.class_labels(name, y, num_classes)
    if num_classes is None:
        if labels.size == 0:
            raise ValueError(
                f"{name} must hold at least one label when num_classes is None, got none"
            )
        num_classes = int(labels.max()) + 1
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def train_test_split(
    x: np.ndarray,
    y: np.ndarray,
    test_size: float | int = 0.2,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle, then split ``x`` and ``y`` into a training and a test part.

    The rows are put in the order of one random permutation; the first
    ``n_test`` rows of that order form the test part, the others the training
    part. The arrays keep their dtypes and are copies.

    Parameters
    ----------
    x : ndarray of shape (N, ...)
    y : ndarray of shape (N, ...)
        Same number of rows as ``x``.
    test_size : float or int, default 0.2
        A float in (0, 1) is a fraction: ``n_test = ceil(test_size * N)``, as
        scikit-learn. An int is ``n_test`` itself. Both parts must be non-empty.
    seed : int or None, default None
        Seed of the permutation; the same seed gives the same split.

    Returns
    -------
    x_train : ndarray of shape (N - n_test, ...)
    x_test : ndarray of shape (n_test, ...)
    y_train : ndarray of shape (N - n_test, ...)
    y_test : ndarray of shape (n_test, ...)
    """
    for name, a in (("x", x), ("y", y)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a NumPy array, got {_checks.describe(a)}")
        if a.ndim == 0:
            raise ValueError(f"{name} must have a sample axis, got a 0-d array")
    _checks.same_length("x", x, "y", y)
    n = len(x)
    if n < 2:
        raise ValueError(f"x must hold at least 2 samples to be split, got {n}")
    if not _checks.is_real(test_size):
        raise TypeError(
            f"test_size must be a float in (0, 1) or an int, got {_checks.describe(test_size)}"
        )
    if _checks.is_int(test_size):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"test_size must be an int in [1, {n - 1}] for {n} samples, got {n_test}"
            )
    else:
        fraction = _checks.real_in_range(
            "test_size", test_size, 0.0, 1.0, low_open=True, high_open=True
        )
        n_test = math.ceil(fraction * n)
        if n_test >= n:
            raise ValueError(
                f"test_size must leave at least one training sample, got {test_size} "
                f"of {n} samples (ceil gives {n_test} test samples)"
            )
    order = _generator(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]
