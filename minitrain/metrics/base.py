"""The metric protocol and the weighted running mean every mean-type metric is.

A metric is a number reported beside the loss, never differentiated. As in
Keras it is an object that accumulates a state over the batches of an epoch::

    metric.update_state(y_true, y_pred, sample_weight=None)  # add one batch
    metric.result() -> float           # the value over every batch since the reset
    metric.reset_state()               # fit calls it when an epoch begins
    metric(y_true, y_pred)             # update_state, then result()
    metric.name                        # the key it is logged under
    metric.state_dict() / load_state_dict(d)   # the state as arrays, for backups
    metric.get_config()                # {"class": name, "config": {...}}, JSON-able

Most metrics are weighted means of one value per sample (``MeanMetric``)::

    result = sum_i w_i v_i / sum_i w_i        (w_i = 1 without sample weights)

over every sample ``i`` seen since the reset, where ``v_i`` is itself a mean
over the sample's last axis for the element-wise metrics (binary accuracy,
mean squared error, ...). Before any sample (or with zero total weight) the
result is 0.0, as Keras's ``divide_no_nan``.

Precision. Keras keeps ``total`` and ``count`` as float32 variables; here they
are Python floats (float64), while the per-sample values are computed in the
predictions' own dtype (float32 predictions are never cast whole). Over an
epoch the result agrees with Keras to about 1e-6 in float32 (Keras's own
rounding) and to about 1e-12 in float64.

In the fit loop ``update_state`` gets the *prepared* targets of the loss
(``Loss.prepare_targets``), the model's output and ``sample_weight`` None or
an array of shape (N,); a user may call it with raw array-likes (lists,
labels of shape (N,) or (N, 1)), as Keras accepts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from minitrain import _checks


def as_array(name: str, value: object) -> np.ndarray:
    """``value`` as a numeric array of at least one dimension (no copy for arrays)."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers, got {_checks.describe(value)}")
    if array.ndim == 0:
        raise ValueError(f"{name} must have a sample axis, got the scalar {array.item()!r}")
    return array


def same_rank(a: np.ndarray, b: np.ndarray, *, expand: bool = True) -> tuple[np.ndarray, ...]:
    """Keras's ``squeeze_or_expand_to_same_rank``: reconcile (N,) with (N, 1).

    When the ranks differ by one and the longer array ends in an axis of 1,
    a 1-D shorter array gains that axis (``expand``), else the longer loses it.
    """
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        if b.ndim == 1 and expand:
            b = b[:, None]
        else:
            a = a[..., 0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        if a.ndim == 1 and expand:
            a = a[:, None]
        else:
            b = b[..., 0]
    return a, b


def pair(y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays checked for numbers and for one sample count."""
    t = as_array("y_true", y_true)
    p = as_array("y_pred", y_pred)
    _checks.same_length("y_true", t, "y_pred", p)
    return t, p


def same_shape(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) and (N, 1) reconciled, then one shape required of both."""
    t, p = same_rank(t, p)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {t.shape} and {p.shape}")
    return t, p


def sample_weights(sample_weight: object, n: int) -> np.ndarray | None:
    """None, or the weights as an array of shape (n,) (a scalar is broadcast, as Keras)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "fiub":
        raise TypeError(f"sample_weight must hold numbers, got {_checks.describe(sample_weight)}")
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim == 0:
        return np.broadcast_to(w, (n,))
    if w.ndim != 1:
        raise ValueError(f"sample_weight must have shape (N,) or (N, 1), got shape {w.shape}")
    if len(w) != n:
        raise ValueError(
            f"sample_weight must hold one weight per sample ({n}), got {len(w)} weights"
        )
    return w


def per_sample(values: np.ndarray) -> np.ndarray:
    """Means over every axis after the first: one value per sample, shape (N,)."""
    if values.ndim == 1:
        return values
    flat = values.reshape(len(values), -1)
    # One column stays as it is (a bool mask keeps its exact count).
    return flat[:, 0] if flat.shape[1] == 1 else flat.mean(axis=1)


def weighted_sum(values: np.ndarray, w: np.ndarray | None) -> float:
    """``sum_i w_i v_i`` (``sum_i v_i`` without weights), accumulated in float64."""
    if w is None:
        if values.dtype == np.bool_:
            return float(np.count_nonzero(values))
        return float(np.sum(values, dtype=np.float64))
    if values.dtype == np.bool_:
        # The weights of the matching samples: no float copy of the mask.
        return float(np.sum(w, where=values, dtype=np.float64))
    if values.dtype.kind != "f":
        values = values.astype(np.float64)  # integer errors: weights must not be truncated
    # The products in the values' dtype (as Keras), their sum in float64; not np.dot,
    # whose threaded BLAS call costs more than the sum on vectors this short.
    return float(np.sum(values * w.astype(values.dtype, copy=False), dtype=np.float64))


class Metric:
    """Base class of every metric: the Keras ``Metric`` protocol.

    Subclasses implement ``update_state``, ``result``, ``reset_state`` and name
    their scalar state in ``_state``; a state of another shape overrides
    ``state_dict`` and ``load_state_dict``.

    Parameters
    ----------
    name : str, optional
        The log key; defaults to the metric's Keras name, e.g. ``"binary_accuracy"``.
    """

    default_name = "metric"
    _state: tuple[str, ...] = ()

    def __init__(self, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {_checks.describe(name)}")
        self.name = self.default_name if name is None else name
        self.reset_state()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch to the state.

        Parameters
        ----------
        y_true : array-like of shape (N,), (N, 1) or (N, C)
            Targets: labels or one value per output, as the metric needs.
        y_pred : array-like of shape (N,) or (N, C)
            The model's output (scores, probabilities or logits).
        sample_weight : None, scalar or array-like of shape (N,) or (N, 1)
            Each sample's weight in the means and counts (1 when None).
        """
        raise NotImplementedError

    def result(self) -> float:
        """The metric over every batch since the last reset, a Python float."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget every batch: every scalar of ``_state`` back to 0."""
        for key in self._state:
            setattr(self, key, 0.0)

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        """``update_state(*args, **kwargs)``, then ``result()`` (Keras)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def state_dict(self) -> dict[str, np.ndarray]:
        """The accumulated state as float64 arrays of shape (), keyed as Keras's variables."""
        return {key: np.array(getattr(self, key), dtype=np.float64) for key in self._state}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Put back a ``state_dict()``; checked whole before anything is written."""
        arrays = check_state(state, {key: ((), "f") for key in self._state})
        for key, value in arrays.items():
            setattr(self, key, float(value))

    def get_config(self) -> dict[str, Any]:
        """``{"class": name, "config": constructor arguments}``, JSON-able."""
        return {"class": type(self).__name__, "config": self._config()}

    def _config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"


def check_state(
    state: object, expected: Mapping[str, tuple[tuple[int, ...] | None, str]]
) -> dict[str, np.ndarray]:
    """Check a state dict against ``{key: (shape or None for 1-D of any length, kinds)}``.

    Every key must be there and no other; each value an array of that shape
    whose dtype kind is one of ``kinds``. A ``ValueError`` names the key.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"state must be a dict of arrays from state_dict(), got {_checks.describe(state)}"
        )
    for key in state:
        if key not in expected:
            listed = ", ".join(repr(k) for k in expected)
            raise ValueError(f"state has the unknown key {key!r}; expected the keys {listed}")
    arrays = {}
    for key, (shape, kinds) in expected.items():
        if key not in state:
            raise ValueError(f"state is missing the key {key!r}")
        value = state[key]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in kinds:
            raise ValueError(
                f"state[{key!r}] must be an array of kind {kinds!r}, got {_checks.describe(value)}"
            )
        if (shape is None and value.ndim != 1) or (shape is not None and value.shape != shape):
            wanted = "(n,)" if shape is None else str(shape)
            raise ValueError(f"state[{key!r}] must have shape {wanted}, got {value.shape}")
        arrays[key] = value
    return arrays


class Mean(Metric):
    """The weighted running mean of values: ``sum_i w_i v_i / sum_i w_i`` (Keras ``Mean``).

    ``update_state(values, sample_weight=None)`` takes a scalar or an array of
    values; an array of shape (N, ...) counts as N samples whose values are
    averaged over the axes after the first. The fit loop tracks its loss with
    one: a batch's mean loss weighted by its sample count,
    ``update_state(loss, sample_weight=n)``.

    Parameters
    ----------
    name : str, optional
        Defaults to ``"mean"``.
    """

    default_name = "mean"
    _state = ("total", "count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        """Add ``total += sum_i w_i v_i`` and ``count += sum_i w_i``.

        Parameters
        ----------
        values : scalar or array-like of shape (N,) or (N, ...)
            A scalar is one sample; rows of an (N, ...) array are averaged first.
        sample_weight : None, scalar or array-like of shape (N,) or (N, 1)
            A scalar weights every sample alike (a batch's size for a batch's loss).
        """
        v = np.asarray(values)
        if v.dtype.kind not in "fiub":
            raise TypeError(f"values must hold numbers, got {_checks.describe(values)}")
        # A scalar is one sample; its weight (a batch's sample count) may be a scalar too.
        v = per_sample(v.reshape(1) if v.ndim == 0 else v)
        w = sample_weights(sample_weight, len(v))
        self.total += weighted_sum(v, w)
        self.count += len(v) if w is None else float(np.sum(w, dtype=np.float64))

    def add_batch_mean(self, value: float, n: int) -> None:
        """``update_state(value, sample_weight=n)`` for a float and a positive count,
        unchecked: the fit loop's door for a batch's mean loss, bit for bit the same
        sums at a tenth of the cost of the checked call."""
        self.total += value * n
        self.count += float(n)

    def result(self) -> float:
        return self.total / self.count if self.count != 0 else 0.0


class MeanMetric(Metric):
    """A metric that is the weighted mean of one value per sample (Keras ``MeanMetricWrapper``).

    Subclasses implement ``values(y_true, y_pred) -> ndarray of shape (N,)``
    (bool or float); this class accumulates ``total = sum_i w_i v_i`` and
    ``count = sum_i w_i`` and returns ``total / count``.
    """

    _state = ("total", "count")

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """One value per sample, shape (N,), for checked arrays of one length."""
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch: ``total += sum_i w_i v_i``, ``count += sum_i w_i``.

        Parameters
        ----------
        y_true, y_pred : array-like with N samples each
            As the subclass's ``values`` takes them.
        sample_weight : None, scalar or array-like of shape (N,) or (N, 1)
        """
        t, p = pair(y_true, y_pred)
        w = sample_weights(sample_weight, len(p))
        v = self.values(t, p)
        self.total += weighted_sum(v, w)
        self.count += len(v) if w is None else float(np.sum(w, dtype=np.float64))

    def result(self) -> float:
        return self.total / self.count if self.count != 0 else 0.0
