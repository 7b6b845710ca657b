"""One tiny MLP twice: in minitrain and in Keras 3.15.1 (torch backend), with the same weights.

Both keep float64 weights and take plain SGD steps, ``shuffle=False``, so their
trajectories agree to rounding. Keras's torch backend multiplies matrices in float32 even
for float64 operands (``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE``), so the
agreement is float32's (``RTOL``): far tighter than any weighting, batching or
validation mistake would leave it. ``Recorder`` logs every hook either framework calls,
so hook sequences compare as lists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import oracles

import minitrain as mt

keras = oracles.keras()

F, H, C = 3, 5, 3  # features, hidden units, classes
LR = 0.125  # exact in float32, where Keras keeps the rate
RTOL = 1e-6  # Keras's float32 matmuls; measured differences are about 1e-7
ATOL = 1e-7
# Outputs near 0 carry the float32 error of a whole dot product (eps32 * sum |x w|):
# measured up to 2.2e-7.
OUTPUT_ATOL = 1e-6


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """Keras computes in float64 inside the block."""
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


def data(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, F)), rng.integers(0, C, size=n)


def weights(seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.normal(scale=0.5, size=(F, H)),
        rng.normal(scale=0.1, size=H),
        rng.normal(scale=0.5, size=(H, C)),
        rng.normal(scale=0.1, size=C),
    ]


def pair(
    metrics: list[str] | None = None, weighted_metrics: list[str] | None = None, seed: int = 1
) -> tuple[mt.Sequential, object]:
    """The same model in minitrain and in Keras (call inside ``float64()``)."""
    metrics = ["accuracy"] if metrics is None else metrics
    ours = mt.Sequential(
        [mt.Dense(F, H, activation="relu", dtype=np.float64), mt.Dense(H, C, dtype=np.float64)]
    )
    ours.set_weights(weights(seed))
    ours.compile(
        mt.SGD(LR),
        "sparse_categorical_crossentropy",
        metrics=metrics,
        weighted_metrics=weighted_metrics,
    )
    theirs = keras.Sequential(
        [
            keras.Input((F,)),
            keras.layers.Dense(H, activation="relu"),
            keras.layers.Dense(C),
        ]
    )
    theirs.set_weights(weights(seed))
    theirs.compile(
        keras.optimizers.SGD(LR),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=metrics,
        weighted_metrics=weighted_metrics,
    )
    return ours, theirs


HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


def recorder(base: type) -> object:
    """A callback of ``base`` (minitrain's or Keras's) that records ``(hook, index, keys)``."""

    class Recorder(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[tuple] = []
            self.epoch_logs: list[dict] = []
            self.outputs: list[np.ndarray] = []

    def make(hook: str):
        def method(self, *args, **kwargs):
            logs = kwargs.get("logs", args[-1] if args and isinstance(args[-1], dict) else None)
            index = [a for a in args if isinstance(a, int)]
            keys = tuple(sorted(k for k in (logs or {}) if k != "learning_rate"))
            if hook == "on_predict_batch_end":
                self.outputs.append(np.asarray(logs["outputs"]))
                keys = ("outputs",)
            if hook == "on_epoch_end":
                self.epoch_logs.append({k: float(v) for k, v in logs.items()})
            self.calls.append((hook, *index, keys))

        return method

    for hook in HOOKS:
        setattr(Recorder, hook, make(hook))
    return Recorder()


def ours_recorder() -> object:
    return recorder(mt.Callback)


def keras_recorder() -> object:
    return recorder(keras.callbacks.Callback)


def history_of(history: object) -> dict[str, list[float]]:
    """History without ``learning_rate`` (minitrain always logs it, Keras does not)."""
    return {k: [float(v) for v in vs] for k, vs in history.history.items() if k != "learning_rate"}


def assert_same_history(ours: object, theirs: object, rtol: float = RTOL) -> None:
    a, b = history_of(ours), history_of(theirs)
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=ATOL, err_msg=key)


def assert_same_weights(ours: mt.Sequential, theirs: object, rtol: float = RTOL) -> None:
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=rtol, atol=ATOL)
