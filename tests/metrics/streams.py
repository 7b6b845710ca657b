"""Batches of targets, predictions and weights, and runners for minitrain and Keras.

A *stream* is a list of batches ``(y_true, y_pred, sample_weight)`` of unequal sizes
(one batch of a single sample among them), drawn from a fixed seed. ``results``
feeds a stream to a minitrain metric and ``keras_results`` to a ``keras.metrics``
one, each returning the result after every batch, so they compare batch by batch.

Two float32 roundings of Keras 3.15.1 on the torch backend shape these streams.
``result()`` comes back as float32 even for a float64 metric (its
``divide_no_nan``), so in float64 the oracle divides Keras's own float64 state
variables (``total / count``, ``tp / (tp + fp)``, ``tp / (tp + fn)``), after
checking that this ratio rounds to Keras's float32 result. And its ``ops.mean``
computes in float32 whatever the input (``result_type(x.dtype, "float32")``), so
the per-sample means of a float64 metric are float32 roundings. The float64
streams therefore hold numbers that float32 represents exactly and whose means
it computes exactly (multiples of 1/8, weights multiples of 1/4, widths that are
powers of two): there both computations are exact and must agree to the last bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

SIZES = (7, 16, 1, 9, 12)

Batch = tuple[Any, Any, Any]

# Four samples, three classes. Row argmaxes of PRED: 2, 0, 1, 0 (row 3 ties at
# 0.4 between classes 0 and 1: np.argmax, like Keras's, takes the first).
PRED = np.array(
    [
        [0.1, 0.2, 0.7],
        [0.5, 0.3, 0.2],
        [0.2, 0.6, 0.2],
        [0.4, 0.4, 0.2],
    ]
)


def stream(
    make: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]],
    *,
    weighted: bool,
    seed: int = 0,
    dtype: type = np.float64,
) -> list[Batch]:
    """Batches ``make(rng, n) -> (y_true, y_pred)``, with weights in {0, 1/4, ..., 2} or None."""
    rng = np.random.default_rng(seed)
    batches = []
    for n in SIZES:
        t, p = make(rng, n)
        w = None
        if weighted:
            w = (rng.integers(0, 9, n) / 4).astype(dtype)
        batches.append((t, p.astype(dtype), w))
    return batches


def results(metric: Any, batches: list[Batch]) -> list[float]:
    """``float(metric.result())`` after each ``update_state`` of the stream."""
    out = []
    for t, p, w in batches:
        metric.update_state(t, p, sample_weight=w)
        out.append(float(metric.result()))
    return out


def _keras_ratio(metric: Any) -> float:
    state = {v.name: float(np.asarray(v.numpy()).sum()) for v in metric.variables}
    if "count" in state:
        num, den = state["total"], state["count"]
    elif "false_positives" in state:
        num, den = state["true_positives"], state["true_positives"] + state["false_positives"]
    else:
        num, den = state["true_positives"], state["true_positives"] + state["false_negatives"]
    return num / den if den != 0 else 0.0


def keras_results(metric: Any, batches: list[Batch]) -> list[float]:
    """Keras's value after each batch: its float64 state's ratio, else ``result()``."""
    out = []
    for t, p, w in batches:
        metric.update_state(t, p, sample_weight=w)
        reported = float(metric.result())
        if metric.dtype != "float64":
            out.append(reported)
            continue
        ratio = _keras_ratio(metric)
        assert abs(reported - ratio) <= 1e-7 * abs(ratio)  # float32 rounding of the same
        out.append(ratio)
    return out


def ties(p: np.ndarray) -> np.ndarray:
    """Scores rounded to one decimal: many ties within a row and across rows."""
    return np.round(p, 1)


def binary(rng: np.random.Generator, n: int, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """0/1 targets (n, k) and scores in [0, 1] with ties, 0.5 itself among them."""
    return rng.integers(0, 2, (n, k)).astype(np.float64), ties(rng.random((n, k)))


def labels(rng: np.random.Generator, n: int, c: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Labels (n,) in [0, c) and tied scores (n, c)."""
    return rng.integers(0, c, n), ties(rng.random((n, c)))


def one_hot(rng: np.random.Generator, n: int, c: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """One-hot targets (n, c) and tied scores (n, c)."""
    y, p = labels(rng, n, c)
    return np.eye(c)[y], p


def regression(rng: np.random.Generator, n: int, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions (n, k), multiples of 1/8 in [-2, 2]."""
    return rng.integers(-16, 17, (n, k)) / 8, rng.integers(-16, 17, (n, k)) / 8


def normal(rng: np.random.Generator, n: int, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Normal targets and predictions (n, k): no exact representation to lean on."""
    return rng.normal(size=(n, k)), rng.normal(size=(n, k))
