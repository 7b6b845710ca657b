"""Losses: the mean over the batch of a per-sample loss, and its gradient.

Every loss maps targets and predictions of shape (N, C) to
``L = (1/N) * sum_i l_i`` (Keras's ``sum_over_batch_size`` reduction) and
offers two doors, a checked one for users and an unchecked one for the
training loop::

    loss(y_true, y_pred)          -> float              checks its inputs
    loss.gradient(y_true, y_pred) -> ndarray (N, C)     dL/dy_pred, checks its inputs

    t = loss.prepare_targets(y, num_outputs, dtype)     fit/evaluate: once per call
    loss.value(t, y_pred)              -> float              every batch, no checks
    loss.value_and_gradient(t, y_pred) -> (float, ndarray)   every batch, no checks

A gradient has the dtype of ``y_pred`` (float32 stays float32) and no input
array is ever modified.

Crossentropy reads ``y_pred`` in one of two ways:

* ``from_logits=True``: ``y_pred`` holds logits ``z``; the loss works with a
  log-softmax shifted by the row maximum, so logits of any size stay finite,
  and the gradient is the fused ``(softmax(z) - t) / N``.
* ``from_logits=False``: ``y_pred`` holds probabilities; as in Keras, each row
  is divided by its sum and then clipped to ``[1e-7, 1 - 1e-7]``. The gradient
  is the exact derivative of that computation, clip and row sum included.

``get(name_or_loss)`` resolves the names ``compile`` accepts and
``get_config()`` / ``from_config(cfg)`` round-trip a loss through JSON.
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


def _check_probabilities(name: str, p: np.ndarray) -> None:
    """Probabilities are non-negative with a positive sum in each row.

    Keras divides and clips whatever comes; a negative entry (typically a logit
    passed with ``from_logits=False``) would be clipped silently, so it is an
    error here.
    """
    negative = (p < 0).any(axis=1)
    if negative.any():
        row = int(np.argmax(negative))
        raise ValueError(
            f"{name} must be probabilities (non-negative) when from_logits=False, "
            f"got a negative value in row {row}: {p[row]!r}; "
            "pass from_logits=True if it holds logits"
        )
    empty = p.sum(axis=1) <= 0
    if empty.any():
        row = int(np.argmax(empty))
        raise ValueError(
            f"{name} must be probabilities with a positive sum in each row, "
            f"got row {row}: {p[row]!r}"
        )


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

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The loss, the mean over the batch of the per-sample losses.

        Parameters
        ----------
        y_true : ndarray
            Targets; the shape each loss expects is given in its docstring.
        y_pred : ndarray of shape (N, C), float32 or float64
            Predictions: logits or probabilities (crossentropy), values (MSE).

        Returns
        -------
        float
        """
        t, p = self._check(y_true, y_pred)
        return self.value(t, p)

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """``dL/dy_pred``: an array of the shape and dtype of ``y_pred``."""
        t, p = self._check(y_true, y_pred)
        return self.value_and_gradient(t, p)[1]

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

    def value(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The loss from prepared targets; no checks."""
        raise NotImplementedError

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """The loss and ``dL/dy_pred`` from prepared targets in one pass; no checks."""
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

    def _check(self, y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
        p = _checks.array_2d("y_pred", y_pred)
        if p.dtype not in (np.float32, np.float64):
            raise TypeError(f"y_pred must be a float32 or float64 array, got dtype {p.dtype}")
        _checks.finite("y_pred", p)
        self._check_predictions(p)
        t = self._targets("y_true", y_true, p.shape[1], p.dtype)
        _checks.same_length("y_true", t, "y_pred", p)
        return t, p


class MeanSquaredError(Loss):
    r"""Mean squared error (Keras ``mean_squared_error``, PyTorch ``mse_loss``).

    .. math:: L = \frac{1}{N C} \sum_{i, j} (p_{ij} - t_{ij})^2,
              \qquad \frac{\partial L}{\partial p_{ij}} = \frac{2 (p_{ij} - t_{ij})}{N C}

    Keras averages over the last axis per sample and then over the batch, which
    is the mean over all ``N * C`` entries.

    Targets ``y_true`` have the shape (N, C) of the predictions; with a single
    output, (N,) is accepted too (as Keras does). ``from_logits`` is always False.
    """

    name = "mean_squared_error"

    def __init__(self) -> None:
        self.from_logits = False

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        if num_outputs == 1 and isinstance(y, np.ndarray) and y.ndim == 1:
            y = y[:, None]
        return _float_targets(name, y, num_outputs, dtype, "targets")

    def value(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        diff = y_pred - y_true
        return float(np.vdot(diff, diff) / diff.size)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[float, np.ndarray]:
        diff = y_pred - y_true
        value = float(np.vdot(diff, diff) / diff.size)
        diff *= 2 / diff.size  # d(diff^2)/dp = 2 diff; diff is dead, so it becomes the gradient
        return value, diff


class _Crossentropy(Loss):
    """What both crossentropies share: ``from_logits`` and the probability checks."""

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = _bool("from_logits", from_logits)

    def _config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits}

    def _check_predictions(self, p: np.ndarray) -> None:
        if not self.from_logits:
            _check_probabilities("y_pred", p)


class CategoricalCrossentropy(_Crossentropy):
    r"""Crossentropy against one-hot or probability targets (Keras's; PyTorch's with probabilities).

    With targets ``t`` of shape (N, C), smoothed first when ``label_smoothing``
    is ``ls > 0``: ``t <- t (1 - ls) + ls / C``,

    .. math:: L = -\frac{1}{N} \sum_{i, j} t_{ij} \log q_{ij}

    where ``q`` is ``softmax(z)`` of logits ``z`` (``from_logits=True``), or the
    predictions divided by their row sum and clipped to ``[1e-7, 1 - 1e-7]``
    (``from_logits=False``, as Keras). The gradients, with ``T_i = sum_j t_ij``
    (1 for one-hot or probability targets, smoothed or not):

    .. math:: \frac{\partial L}{\partial z_{ik}} = \frac{T_i\,\mathrm{softmax}(z_i)_k - t_{ik}}{N}
              \qquad \text{(logits)}

    .. math:: \frac{\partial L}{\partial p_{ik}} =
              \frac{\sum_j t_{ij} m_{ij} - t_{ik} m_{ik} / q_{ik}}{N s_i}
              \qquad \text{(probabilities)}

    where ``s_i = sum_j p_ij`` and ``m_ij = 1`` where the clip let ``q_ij``
    through, else 0. Chained through the softmax Jacobian, the second gives the
    first: a model ending in ``Softmax`` trains exactly as one without it and
    ``from_logits=True`` (as long as nothing is clipped).

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    label_smoothing : float in [0, 1], default 0.0
        Weight of the uniform distribution mixed into the targets.
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(from_logits)
        self.label_smoothing = _checks.real_in_range("label_smoothing", label_smoothing, 0.0, 1.0)

    def _config(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        return _float_targets(name, y, num_outputs, dtype, "one-hot or probability targets")

    def _smooth(self, t: np.ndarray) -> np.ndarray:
        """``t (1 - ls) + ls / C``, a new array; ``t`` itself when ``ls == 0``."""
        ls = self.label_smoothing
        if ls == 0.0:
            return t
        smoothed = t * (1.0 - ls)
        smoothed += ls / t.shape[1]
        return smoothed

    def value(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        t = self._smooth(y_true)
        n = len(y_pred)
        if self.from_logits:
            # -sum_j t_j log softmax(z)_j = sum_j t_j (log s - (z_j - m)) with
            # m = max_j z_j and s = sum_k exp(z_k - m) >= 1: no overflow, no log 0.
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            t_dot_shifted = np.vdot(t, shifted)
            log_s = np.log(np.exp(shifted, out=shifted).sum(axis=1))
            return float((np.dot(t.sum(axis=1), log_s) - t_dot_shifted) / n)
        q = y_pred / y_pred.sum(axis=1, keepdims=True)
        r = np.clip(q, EPSILON, 1.0 - EPSILON, out=q)
        return float(-np.vdot(t, np.log(r, out=r)) / n)

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[float, np.ndarray]:
        t = self._smooth(y_true)
        n = len(y_pred)
        if self.from_logits:
            # Forward: l_i = t_sum_i log s_i - sum_j t_ij (z_ij - m_i).
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            t_dot_shifted = np.vdot(t, shifted)
            e = np.exp(shifted, out=shifted)
            s = e.sum(axis=1, keepdims=True)
            t_sum = t.sum(axis=1, keepdims=True)
            value = float((np.vdot(t_sum, np.log(s)) - t_dot_shifted) / n)
            # Backward, fused: dl_i/dz_ij = t_sum_i softmax_ij - t_ij, since
            # d log s_i / dz_ij = softmax_ij and the shift m_i cancels. One-hot and
            # probability targets (smoothed or not) sum to 1, which gives the
            # familiar (softmax - t) / N. The fused form never divides by a
            # probability, so it stays exact where softmax underflows to 0.
            grad = e
            grad *= t_sum / s
            grad -= t
            grad /= n
            return value, grad
        # Forward: s = row sums, q = p / s, r = clip(q), l_i = -sum_j t_ij log r_ij.
        s = y_pred.sum(axis=1, keepdims=True)
        q = y_pred / s
        inside = (q >= EPSILON) & (q <= 1.0 - EPSILON)
        r = np.clip(q, EPSILON, 1.0 - EPSILON, out=q)
        log_r = np.log(r)
        value = float(-np.vdot(t, log_r) / n)
        # Backward, in reverse:
        #   dL/dr_ij = -t_ij / (N r_ij)
        #   dL/dq_ij = that where the clip let q through, else 0 (call it g_ij)
        #   dL/dp_ik = (g_ik - sum_j g_ij q_ij) / s_i        (q_j = p_j / s)
        # and where g_ij != 0, q_ij = r_ij, so sum_j g_ij q_ij = -sum_j t_ij [inside] / N.
        t_inside = np.multiply(t, inside, out=log_r)  # log_r is dead
        t_inside_sum = t_inside.sum(axis=1, keepdims=True)
        grad = np.divide(t_inside, r, out=r)  # r is dead
        np.subtract(t_inside_sum, grad, out=grad)
        grad /= n * s
        return value, grad


class SparseCategoricalCrossentropy(_Crossentropy):
    r"""Crossentropy against integer class labels (Keras's; PyTorch's with class indices).

    Labels ``y`` of shape (N,) or (N, 1), any integer dtype (or floats that are
    all integral), each in ``[0, C)``; a label outside is a ``ValueError``
    naming it (PyTorch raises too; some Keras backends return 0). The result
    equals ``CategoricalCrossentropy`` with the one-hot targets:

    .. math:: L = -\frac{1}{N} \sum_i \log q_{i, y_i}

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    """

    name = "sparse_categorical_crossentropy"

    def _targets(self, name: str, y: object, num_outputs: int, dtype: np.dtype) -> np.ndarray:
        if isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[1] > 1:
            raise ValueError(
                f"{name} must be integer labels of shape (N,) or (N, 1), got shape {y.shape}; "
                "one-hot targets go with CategoricalCrossentropy"
            )
        labels = _checks.class_labels(name, y, num_outputs)
        if len(labels) == 0:
            raise ValueError(f"{name} must hold at least one sample, got shape {np.shape(y)}")
        return labels

    def value(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        rows = np.arange(len(y_pred))
        if self.from_logits:
            # -log softmax(z)_y = log s - (z_y - m), as in CategoricalCrossentropy.
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            shifted_y = shifted[rows, y_true]
            s = np.exp(shifted, out=shifted).sum(axis=1)
            return float(np.mean(np.log(s) - shifted_y))
        q_y = y_pred[rows, y_true] / y_pred.sum(axis=1)
        return float(-np.mean(np.log(np.clip(q_y, EPSILON, 1.0 - EPSILON))))

    def value_and_gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray
    ) -> tuple[float, np.ndarray]:
        n = len(y_pred)
        rows = np.arange(n)
        if self.from_logits:
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            shifted_y = shifted[rows, y_true]
            e = np.exp(shifted, out=shifted)
            s = e.sum(axis=1)
            value = float(np.mean(np.log(s) - shifted_y))
            # Fused, as in CategoricalCrossentropy with one-hot t: (softmax - t) / N.
            grad = e
            grad /= s[:, None]
            grad[rows, y_true] -= 1.0
            grad /= n
            return value, grad
        # Forward: s = row sums, q_y = p_y / s, r_y = clip(q_y), l_i = -log r_y.
        s = y_pred.sum(axis=1)
        q_y = y_pred[rows, y_true] / s
        inside = (q_y >= EPSILON) & (q_y <= 1.0 - EPSILON)
        r_y = np.clip(q_y, EPSILON, 1.0 - EPSILON, out=q_y)
        value = float(-np.mean(np.log(r_y)))
        # Backward: dL/dq is -[inside] / (N r_y) at (i, y_i) and 0 elsewhere;
        # through q = p / s every entry of row i gets -(dL/dq_y) q_y / s = [inside] / (N s)
        # (q_y = r_y where inside), and the label's entry also gets (dL/dq_y) / s.
        coef = inside / (n * s)
        grad = np.empty_like(y_pred)
        grad[...] = coef[:, None]
        grad[rows, y_true] -= coef / r_y
        return value, grad


_BY_NAME: dict[str, type[Loss]] = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
}

_BY_CLASS: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError)
}


def get(name_or_loss: str | Loss, *, from_logits: bool = False) -> Loss:
    """The loss for a name ``compile`` accepts, or the loss itself.

    Parameters
    ----------
    name_or_loss : str or Loss
        ``"categorical_crossentropy"``, ``"sparse_categorical_crossentropy"``,
        ``"mse"`` or ``"mean_squared_error"``; a ``Loss`` is returned as is.
    from_logits : bool, default False
        Given to a crossentropy built from a name; mean squared error has no
        such switch and ignores it.

    Returns
    -------
    Loss
    """
    from_logits = _bool("from_logits", from_logits)
    if isinstance(name_or_loss, Loss):
        return name_or_loss
    if not isinstance(name_or_loss, str):
        listed = ", ".join(repr(k) for k in _BY_NAME)
        raise TypeError(
            f"loss must be a Loss or one of {listed}, got {_checks.describe(name_or_loss)}"
        )
    cls = _BY_NAME[_checks.one_of("loss", name_or_loss, _BY_NAME)]
    if cls is MeanSquaredError:
        return MeanSquaredError()
    return cls(from_logits=from_logits)  # type: ignore[call-arg]


def from_config(cfg: dict[str, Any]) -> Loss:
    """Rebuild a loss from ``loss.get_config()``."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get("config"), dict):
        raise TypeError(
            'cfg must be a dict {"class": name, "config": {...}} from Loss.get_config(), '
            f"got {_checks.describe(cfg)}"
        )
    cls = _BY_CLASS[_checks.one_of("cfg['class']", cfg.get("class"), _BY_CLASS)]
    return cls(**cfg["config"])
