r"""The loss contract: a per-sample loss, reduced over the batch, and its gradient.

A loss maps targets ``t`` and predictions ``p`` of shape (N, C) to a per-sample
loss ``l_i`` (a sum over the classes for the categorical crossentropies; the
mean over the last axis of an elementwise loss for binary crossentropy and the
regression losses, as Keras computes them) and reduces it with Keras's
``sum_over_batch_size``, optionally weighted by per-sample weights ``w``:

.. math:: L = \frac{1}{N} \sum_i w_i \, l_i \qquad (w_i = 1 \text{ without weights})

The divisor is ``N`` whatever the weights are (Keras 3, not ``sum(w)``), so a
weight of 2 counts a sample twice and a weight of 0 drops it from the
numerator only. Every loss offers two doors, a checked one for users and an
unchecked one for the training loop::

    loss(y_true, y_pred, sample_weight=None)          -> float           checks its inputs
    loss.gradient(y_true, y_pred, sample_weight=None) -> ndarray (N, C)  dL/dy_pred, checked

    t = loss.prepare_targets(y, num_outputs, dtype)    fit/evaluate: once per data set
    w = prepare_sample_weight(sample_weight, n, dtype) (N,) in dtype, or None
    loss.value(t, y_pred, w)              -> float             every batch, no checks
    loss.value_and_gradient(t, y_pred, w) -> (float, ndarray)  every batch, no checks

A gradient has the dtype of ``y_pred`` (float32 stays float32) and no input
array is ever modified. Without sample weights the hot paths make no pass and
no copy beyond what the unweighted loss needs; with them, the weights scale
the gradient's rows in the pass that divides by ``N`` anyway.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minitrain import _checks

EPSILON = 1e-7
"""Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` (Keras's ``epsilon()``)."""


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {_checks.describe(value)}")
    return bool(value)


def _float_targets(
    name: str, y: object, num_outputs: int, dtype: np.dtype, what: str
) -> np.ndarray:
    """Check ``y`` is a finite (N, num_outputs) array of numbers and cast it to ``dtype``."""
    expected = f"{what} of shape (N, {num_outputs})"
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of {expected}, got {_checks.describe(y)}")
    if y.ndim != 2 or y.shape[1] != num_outputs:
        hint = ""
        if what.startswith("one-hot") and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
            hint = "; integer class labels go with SparseCategoricalCrossentropy"
        raise ValueError(f"{name} must be {expected}, got shape {y.shape}{hint}")
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers, got dtype {y.dtype}")
    if len(y) == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {y.shape}")
    # Checked after the cast: a finite float64 such as 1e300 is inf in float32,
    # which the check below reports (so the cast need not warn).
    with np.errstate(over="ignore"):
        t = y.astype(dtype, copy=False)
    _checks.finite(name, t)
    return t


def prepare_sample_weight(
    sample_weight: object, n: int, dtype: Any, *, name: str = "sample_weight"
) -> np.ndarray | None:
    """Check a user's per-sample weights once and cast them to the predictions' dtype.

    Parameters
    ----------
    sample_weight : array-like of shape (N,) or (N, 1), or None
        One finite, non-negative weight per sample (a list is accepted, as in
        Keras). A scalar or any other shape is refused: nothing is broadcast.
    n : int
        The number of samples ``N`` the weights must match.
    dtype : float32 or float64
        Dtype of the predictions.
    name : str
        The argument named in error messages.

    Returns
    -------
    ndarray of shape (N,) in ``dtype``, or None
        None when ``sample_weight`` is None. Not copied when the weights already
        are a (N,) or (N, 1) array of ``dtype`` (the losses never write to them).
    """
    n = _checks.positive_int("n", n)
    dtype = _checks.float_dtype("dtype", dtype)
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold numbers, got {_checks.describe(sample_weight)}")
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (N,) or (N, 1), got shape {w.shape}")
    if len(w) != n:
        raise ValueError(f"{name} must hold one weight per sample ({n}), got {len(w)}")
    with np.errstate(over="ignore"):
        w = w.astype(dtype, copy=False)
    _checks.finite(name, w)
    if w.min() < 0:
        i = int(np.argmax(w < 0))
        raise ValueError(f"{name} must be non-negative, got {w[i].item()!r} at index {i}")
    return w


def _reduce(per_sample: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """``sum_i w_i l_i / N`` of per-sample losses ``l`` of shape (N,)."""
    if sample_weight is None:
        return float(np.mean(per_sample))
    return float(np.dot(sample_weight, per_sample) / len(per_sample))


def _reduce_elementwise(elementwise: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """``sum_i w_i (1/C) sum_j l_ij / N``: Keras's mean over the last axis, then the batch."""
    if sample_weight is None:
        return float(elementwise.sum() / elementwise.size)
    return float(np.dot(sample_weight, elementwise.sum(axis=1)) / elementwise.size)


def _weighted_vdot(a: np.ndarray, b: np.ndarray, sample_weight: np.ndarray | None) -> Any:
    """``sum_ij w_i a_ij b_ij`` of (N, C) arrays; a plain ``vdot`` (no temporary) unweighted."""
    if sample_weight is None:
        return np.vdot(a, b)
    return np.dot(sample_weight, np.einsum("ij,ij->i", a, b))


class Loss:
    """Base class: checked ``__call__``/``gradient`` around unchecked hot paths.

    Subclasses implement ``_targets`` (validation of a target array),
    ``value``, ``value_and_gradient`` and ``_config``.

    Attributes
    ----------
    name : str
        Keras's name for the loss function, e.g. ``"categorical_crossentropy"``.
    from_logits : bool
        Whether ``y_pred`` holds logits (crossentropy) or not.
    """

    name = "loss"
    from_logits = False

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any = None) -> float:
        """The loss, ``sum_i w_i l_i / N`` (the batch mean without weights).

        Parameters
        ----------
        y_true : ndarray
            Targets; the shape each loss expects is given in its docstring.
        y_pred : ndarray of shape (N, C), float32 or float64
            Predictions: logits or probabilities (crossentropy), values (regression).
        sample_weight : array-like of shape (N,) or (N, 1), optional
            Non-negative per-sample weights ``w`` (see ``prepare_sample_weight``).

        Returns
        -------
        float
        """
        t, p, w = self._check(y_true, y_pred, sample_weight)
        return self.value(t, p, w)

    def gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any = None
    ) -> np.ndarray:
        """``dL/dy_pred``: an array of the shape and dtype of ``y_pred``."""
        t, p, w = self._check(y_true, y_pred, sample_weight)
        return self.value_and_gradient(t, p, w)[1]

    def prepare_targets(
        self, y: np.ndarray, num_outputs: int, dtype: Any, *, name: str = "y"
    ) -> np.ndarray:
        """Check a whole target array once, in the form the hot paths expect.

        Parameters
        ----------
        y : ndarray
            The targets of a whole data set.
        num_outputs : int
            Width ``C`` of the predictions.
        dtype : float32 or float64
            Dtype of the predictions; float targets are cast to it.
        name : str
            The argument named in error messages.

        Returns
        -------
        ndarray
            Sparse crossentropy: ``intp`` labels of shape (N,) in ``[0, C)``;
            otherwise finite targets of shape (N, C) in ``dtype`` (not copied
            when ``y`` already is one).
        """
        num_outputs = _checks.positive_int("num_outputs", num_outputs)
        dtype = _checks.float_dtype("dtype", dtype)
        return self._targets(name, y, num_outputs, dtype)

    def value(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        """The loss from prepared targets and weights (None or (N,) in ``y_pred``'s dtype)."""
        raise NotImplementedError

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """The loss and ``dL/dy_pred`` from prepared targets and weights in one pass."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """``{"class": name, "config": constructor arguments}``, JSON-able."""
        return {"class": type(self).__name__, "config": self._config()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"

    def _config(self) -> dict[str, Any]:
        return {}

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        raise NotImplementedError

    def _check_predictions(self, p: np.ndarray) -> None:
        """Checks beyond a finite float (N, C) array; none by default."""

    def _check(
        self, y_true: object, y_pred: object, sample_weight: object
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if (
            isinstance(y_pred, np.ndarray)
            and y_pred.ndim == 1
            and isinstance(y_true, np.ndarray)
            and y_true.ndim == 2
        ):
            # PyTorch's loss_fn(pred, y) typed here swaps the arguments.
            raise ValueError(
                f"y_pred must be 2-D of shape (N, features), got shape {y_pred.shape}; "
                "losses take (y_true, y_pred) in Keras's order: PyTorch's loss_fn(pred, y) "
                "is written loss_fn(y, pred) here"
            )
        p = _checks.array_2d("y_pred", y_pred)
        if p.dtype not in (np.float32, np.float64):
            raise TypeError(f"y_pred must be a float32 or float64 array, got dtype {p.dtype}")
        _checks.finite("y_pred", p)
        self._check_predictions(p)
        t = self._targets("y_true", y_true, p.shape[1], p.dtype)
        _checks.same_length("y_true", t, "y_pred", p)
        return t, p, prepare_sample_weight(sample_weight, len(p), p.dtype)
