"""The learning-rate range test: sweep the rate, watch the loss, put everything back.

Too small a learning rate and the loss barely moves; too large and it
explodes; in between it falls fastest. The range test (Smith, 2017, "Cyclical
Learning Rates for Training Neural Networks") finds that middle in one short
run: train for ``num_steps`` batches while the rate grows geometrically from
``min_lr`` to ``max_lr``,

    lr_k = min_lr * (max_lr / min_lr) ** (k / (num_steps - 1)),   k = 0 .. num_steps - 1

record each batch's loss, and stop early once the (smoothed) loss exceeds
``divergence`` times its best. The curve of loss against ``log(lr)`` is flat,
then falls, then shoots up; ``suggest_rate`` picks the rate where it falls
steepest.

The sweep is a probe, not training: ``lr_find`` restores the model exactly as
it was (weights, buffers, optimizer state and rate, every random generator,
train/eval modes), so the real ``fit`` starts from the same point it would
have started from without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _checks
from .saving import model_generators

__all__ = ["LRFinderResult", "lr_find", "suggest_rate", "smooth"]


@dataclass(frozen=True)
class LRFinderResult:
    """What the sweep measured.

    Attributes
    ----------
    rates : ndarray of shape (K,)
        The learning rate of each batch, geometric.
    losses : ndarray of shape (K,)
        Each batch's training loss, measured before its update.
    smoothed : ndarray of shape (K,)
        ``smooth(losses)``: the curve the suggestion reads.
    suggestion : float
        ``suggest_rate(rates, smoothed)``.
    """

    rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float


def smooth(losses: np.ndarray, beta: float = 0.98) -> np.ndarray:
    """Exponential moving average with bias correction (as Adam corrects its moments)::

        a_k = beta * a_{k-1} + (1 - beta) * loss_k,   a_{-1} = 0
        smoothed_k = a_k / (1 - beta ** (k + 1))

    Each batch's loss is noisy; the average shows the trend without lagging at the start.
    """
    losses = np.asarray(losses, dtype=np.float64)
    out = np.empty_like(losses)
    avg = 0.0
    for k, value in enumerate(losses):  # one value per batch of the sweep, a few hundred
        avg = beta * avg + (1.0 - beta) * value
        out[k] = avg / (1.0 - beta ** (k + 1))
    return out


def suggest_rate(rates: np.ndarray, losses: np.ndarray) -> float:
    """The rate where the loss falls fastest against ``log(rate)``, before its minimum.

    The slope ``d loss / d log(rate)`` at point k is read over a window of
    ``w = max(1, K // 20)`` points on each side,
    ``(loss[k + w] - loss[k - w]) / (log rate[k + w] - log rate[k - w])``, so
    that the batch-to-batch noise left after smoothing does not pass for a
    descent; the first tenth of the sweep, where the smoothed curve is still
    settling, is not considered. The most negative slope left of the lowest
    loss wins. (A tenth of the rate at the minimum is a common rule of thumb
    too; the steepest descent is usually close to it, and does not depend on
    where the sweep happened to stop.)
    """
    rates = np.asarray(rates, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if rates.shape != losses.shape or rates.ndim != 1 or len(rates) < 3:
        raise ValueError(
            "rates and losses must be 1-D of the same length >= 3, "
            f"got shapes {rates.shape} and {losses.shape}"
        )
    n = len(rates)
    w = max(1, n // 20)
    start = max(w, n // 10)
    lowest = int(np.argmin(losses))
    if lowest - w <= start:
        return float(rates[lowest])  # no descent to read: the sweep started too high
    k = np.arange(start, lowest - w + 1)
    log_rates = np.log(rates)
    slopes = (losses[k + w] - losses[k - w]) / (log_rates[k + w] - log_rates[k - w])
    return float(rates[k[int(np.argmin(slopes))]])


def lr_find(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    num_steps: int = 200,
    batch_size: int = 32,
    divergence: float = 4.0,
    beta: float = 0.98,
) -> LRFinderResult:
    """Run the learning-rate range test on a compiled model, then restore it exactly.

    Parameters
    ----------
    model : Sequential
        Compiled; its optimizer's rate is overridden during the sweep (even one
        built with a schedule) and given back afterwards.
    x : ndarray of shape (N, F)
    y : ndarray
        Targets, as ``fit`` takes them.
    min_lr, max_lr : float
        The sweep's first and last rate, ``0 < min_lr < max_lr``.
    num_steps : int, default 200
        Batches in the sweep; the data are reshuffled (by the model's
        generator) whenever they run out.
    batch_size : int, default 32
    divergence : float, default 4.0
        Stop once the smoothed loss exceeds ``divergence`` times its lowest
        value (or becomes NaN/inf).
    beta : float, default 0.98
        Smoothing of the loss curve (``smooth``).

    Returns
    -------
    LRFinderResult
        ``minitrain.plot.plot_lr_find(result)`` draws it.
    """
    model._require_compiled("lr_find")
    min_lr = _checks.real_in_range("min_lr", min_lr, 0.0, low_open=True)
    max_lr = _checks.real_in_range("max_lr", max_lr, min_lr, low_open=True)
    num_steps = _checks.positive_int("num_steps", num_steps)
    if num_steps < 3:
        raise ValueError(f"num_steps must be at least 3 to show a curve, got {num_steps}")
    batch_size = _checks.positive_int("batch_size", batch_size)
    divergence = _checks.real_in_range("divergence", divergence, 1.0, low_open=True)
    beta = _checks.real_in_range("beta", beta, 0.0, 1.0, high_open=True)
    x = _checks.array_2d("x", x)
    _checks.same_length("x", x, "y", y)

    if not getattr(model, "built", True):
        model.build((None, x.shape[1]))  # as fit would; the snapshot needs the weights
    snapshot = _Snapshot(model)
    rates = min_lr * (max_lr / min_lr) ** (np.arange(num_steps) / (num_steps - 1))
    losses: list[float] = []
    best = math.inf
    avg = 0.0
    try:
        model.train()
        order = model.rng.permutation(len(x))
        start = 0
        for k, rate in enumerate(rates):
            if start >= len(x):
                order, start = model.rng.permutation(len(x)), 0
            rows = order[start : start + batch_size]
            start += batch_size
            model.optimizer._learning_rate = float(rate)
            loss = model.train_step(x[rows], y[rows])["loss"]
            losses.append(loss)
            avg = beta * avg + (1.0 - beta) * loss
            current = avg / (1.0 - beta ** (k + 1))
            if not math.isfinite(current) or current > divergence * best:
                break
            best = min(best, current)
    finally:
        snapshot.restore()
    measured = np.array(losses)
    rates = rates[: len(measured)]
    smoothed = smooth(measured, beta)
    finite = np.isfinite(smoothed)
    suggestion = (
        suggest_rate(rates[finite], smoothed[finite]) if finite.sum() >= 3 else float(rates[0])
    )
    return LRFinderResult(rates, measured, smoothed, suggestion)


class _Snapshot:
    """Everything a sweep changes: params, buffers, optimizer state and rate, generators, modes."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.state = model.state_dict()
        opt = model.optimizer
        opt.build(model)  # compile built it already, unless the model was built since
        self.opt_state = opt.state_dict()
        self.learning_rate = opt._learning_rate
        self.last_lr = opt._last_lr
        self.modes = [layer.training for layer in model.layers]
        self.generators = list(model_generators(model).values())  # what a backup saves
        self.rng_states = [g.bit_generator.state for g in self.generators]

    def restore(self) -> None:
        model, opt = self.model, self.model.optimizer
        model.load_state_dict(self.state)
        opt.load_state_dict(self.opt_state)  # slots and the iteration counter
        opt._learning_rate = self.learning_rate
        opt._last_lr = self.last_lr
        for layer, mode in zip(model.layers, self.modes, strict=True):
            layer.training = mode
        for generator, state in zip(self.generators, self.rng_states, strict=True):
            generator.bit_generator.state = state
