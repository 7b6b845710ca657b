"""The exact ROC AUC of an epoch's predictions, kept up to date batch by batch.

The area under the ROC curve is the weighted fraction of (positive, negative)
pairs that the scores put in the right order, a tie counting one half (the
Mann-Whitney form of the trapezoid rule that scikit-learn applies)::

    pairs = sum_{i positive, j negative} w_i w_j ([s_i > s_j] + [s_i == s_j] / 2)
    AUC   = pairs / (P N)        P, N: the total weight of the positives, negatives

A new batch adds its pairs with every sample seen before and its pairs among
itself. To count the first without a pass over the whole epoch, the samples
seen so far are kept in *runs*, each sorted by score with the running sums of
its positive and negative weights: a new score's pairs with a run are two
binary searches. Runs merge like a binary counter (a run is merged into the one
before while that one is no longer than twice its size), so there are at most
about log2(n) of them and each sample is merged O(log n) times: a batch of b
samples costs O(b log^2 n) amortised, however long the epoch, where sorting
everything at each ``result()`` would cost O(n log n) every batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minitrain.metrics.base import Metric, check_state, pair, same_rank, sample_weights


class _Run:
    """Samples sorted by score, with the running weight of its positives and negatives.

    ``pos_cum[k]`` is the weight of the positives among the first ``k`` scores
    (``pos_cum[0] = 0``), likewise ``neg_cum``; so the positives scoring in
    ``[a, b)`` weigh ``pos_cum[hi] - pos_cum[lo]`` with ``lo``, ``hi`` from
    ``np.searchsorted``.
    """

    def __init__(self, scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> None:
        # A stable sort keeps equal scores in the order they came, so a merged run
        # is a function of the samples and their order alone.
        order = np.argsort(scores, kind="stable")
        self.scores = scores[order]
        self.labels = labels[order]
        self.weights = weights[order]
        positive = np.where(self.labels, self.weights, 0.0)
        self.pos_cum = np.concatenate(([0.0], np.cumsum(positive)))
        self.neg_cum = np.concatenate(([0.0], np.cumsum(self.weights - positive)))

    def __len__(self) -> int:
        return len(self.scores)

    def pairs_with(self, scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
        """The ordered pairs between new samples and this run's (ties one half)."""
        lo = np.searchsorted(self.scores, scores, side="left")
        hi = np.searchsorted(self.scores, scores, side="right")
        # A new positive pairs with the negatives below it; a new negative with the
        # positives above it (everything past hi).
        neg_below = self.neg_cum[lo] + 0.5 * (self.neg_cum[hi] - self.neg_cum[lo])
        pos_above = (self.pos_cum[-1] - self.pos_cum[hi]) + 0.5 * (
            self.pos_cum[hi] - self.pos_cum[lo]
        )
        return float(np.sum(weights * np.where(labels, neg_below, pos_above)))

    def pairs_within(self) -> float:
        """The ordered pairs among this run's own samples (ties one half)."""
        if len(self) < 2:
            return 0.0
        starts = np.flatnonzero(np.concatenate(([True], self.scores[1:] != self.scores[:-1])))
        # Per distinct score: the positives' weight there, and the negatives' weight
        # below (strictly) and at it.
        ends = np.append(starts[1:], len(self))
        pos_at = self.pos_cum[ends] - self.pos_cum[starts]
        neg_below = self.neg_cum[starts]
        neg_at = self.neg_cum[ends] - self.neg_cum[starts]
        return float(np.sum(pos_at * (neg_below + 0.5 * neg_at)))


class AUC(Metric):
    """Exact area under the ROC curve of every prediction since the reset.

    Equal to ``sklearn.metrics.roc_auc_score(labels, scores, sample_weight=weights)``
    over the epoch's samples: the trapezoid rule over the distinct scores,
    computed as the weighted fraction of (positive, negative) pairs in the right
    order, a tie counting one half (see the module docstring)::

        AUC = sum_{i pos, j neg} w_i w_j ([s_i > s_j] + [s_i == s_j] / 2) / (P N)

    Keras's ``AUC`` approximates this with 200 thresholds (its
    ``num_thresholds``), so the two differ by up to about 1/200.

    The area depends only on the order of the scores, so logits and
    probabilities give the same value. While no positive or no negative has
    been seen the area is undefined and the result is 0.0 (Keras's convention;
    scikit-learn warns and returns nan).

    ``update_state(y_true, y_pred, sample_weight=None)`` takes labels 0/1 of
    shape (N,) or (N, 1) and one finite score per sample, shape (N,) or (N, 1).
    The state is every score, label and weight of the epoch, in sorted runs,
    and the pair count so far.

    Parameters
    ----------
    name : str, optional
        Defaults to ``"auc"``.
    """

    default_name = "auc"

    def reset_state(self) -> None:
        self._runs: list[_Run] = []
        self._pairs = 0.0

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        t, p = pair(y_true, y_pred)
        p, t = same_rank(p, t)
        if p.ndim == 2 and p.shape[1] == 1:
            t, p = t[:, 0], p[:, 0]
        if p.ndim != 1:
            raise ValueError(
                f"y_pred must hold one score per sample, shape (N,) or (N, 1), got shape {p.shape}"
            )
        if t.shape != p.shape:
            raise ValueError(f"y_true must have the shape of y_pred {p.shape}, got {t.shape}")
        bad = (t != 0) & (t != 1)
        if bad.any():
            raise ValueError(f"y_true must be labels 0 or 1, got {t[bad][0].item()!r}")
        if p.dtype.kind == "f" and not np.isfinite(p).all():
            raise ValueError("y_pred must be finite, got NaN or inf")
        w = sample_weights(sample_weight, len(p))
        weights = np.ones(len(p)) if w is None else w.astype(np.float64)
        self._add(p.astype(np.float64), t != 0, weights)

    def _add(self, scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> None:
        new = _Run(scores, labels, weights)
        pairs = new.pairs_within()
        for run in self._runs:
            pairs += run.pairs_with(new.scores, new.labels, new.weights)
        self._pairs += pairs
        self._runs.append(new)
        self._merge()

    def _merge(self) -> None:
        runs = self._runs
        while len(runs) > 1 and len(runs[-2]) <= 2 * len(runs[-1]):
            newer = runs.pop()
            older = runs.pop()
            runs.append(
                _Run(
                    np.concatenate((older.scores, newer.scores)),
                    np.concatenate((older.labels, newer.labels)),
                    np.concatenate((older.weights, newer.weights)),
                )
            )

    def result(self) -> float:
        positives = sum(run.pos_cum[-1] for run in self._runs)
        negatives = sum(run.neg_cum[-1] for run in self._runs)
        if positives <= 0 or negatives <= 0:
            return 0.0
        return float(self._pairs / (positives * negatives))

    def state_dict(self) -> dict[str, np.ndarray]:
        """``scores`` (float64), ``labels`` (bool), ``weights``: the runs one after another;
        ``runs``: their lengths (int64); ``pairs``: the weighted pair count (float64, shape ())."""

        def joined(key: str, dtype: type) -> np.ndarray:
            return np.concatenate([getattr(run, key) for run in self._runs] or [np.empty(0, dtype)])

        return {
            "scores": joined("scores", np.float64),
            "labels": joined("labels", np.bool_),
            "weights": joined("weights", np.float64),
            "runs": np.array([len(run) for run in self._runs], dtype=np.int64),
            "pairs": np.array(self._pairs),
        }

    def load_state_dict(self, state: Any) -> None:
        arrays = check_state(
            state,
            {
                "scores": (None, "f"),
                "labels": (None, "b"),
                "weights": (None, "f"),
                "runs": (None, "iu"),
                "pairs": ((), "f"),
            },
        )
        n = len(arrays["scores"])
        for key in ("labels", "weights"):
            if len(arrays[key]) != n:
                raise ValueError(
                    f"state[{key!r}] must hold one value per score ({n}), got {len(arrays[key])}"
                )
        sizes = arrays["runs"]
        if (sizes <= 0).any() or sizes.sum() != n:
            raise ValueError(
                f"state['runs'] must be positive run lengths adding up to {n}, got {sizes.tolist()}"
            )
        bounds = np.concatenate(([0], np.cumsum(sizes)))
        runs = [
            _Run(*(arrays[key][a:b] for key in ("scores", "labels", "weights")))
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        for run, a in zip(runs, bounds[:-1], strict=True):
            if not np.array_equal(run.scores, arrays["scores"][a : a + len(run)]):
                raise ValueError("state['scores'] must hold each run sorted, as state_dict() gives")
        self._runs = runs
        self._pairs = float(arrays["pairs"])
