"""Time minitrain against PyTorch eager, side by side in one process, in paired rounds.

What is measured::

    fit       one epoch of ``model.fit`` on 784-256-256-10 [+ BatchNorm] at batch
              32/128/512, and on the wide 784-2048-2048-10 at batch 128, SGD with
              momentum, against a PyTorch CPU eager loop: same layers, same initial
              weights (copied from the minitrain model), same SGD, batch size,
              dtype, thread count, shuffled gather and per-batch logging;
    gemm      the same step's matrix products alone (NumPy's BLAS, preallocated
              outputs): the limit a NumPy trainer cannot beat. "over GEMMs" is
              step / limit - 1, the time spent beyond the matrix products;
    predict   ``model.predict(x, batch_size=1024)`` against PyTorch ``eval()`` +
              ``no_grad`` over the same batches (and the forward GEMMs alone);
    memory    tracemalloc peak of inference over the whole data set.

Every configuration runs at every thread count of ``--threads`` (default 1 and 2:
threadpoolctl limits NumPy's BLAS, ``torch.set_num_threads`` torch's pool) inside
the same interleaved rounds: a round runs every contender at every thread count
once, in an order rotated by one each round. A ratio (minitrain / torch, one
thread / two threads, step / GEMMs) is taken within each round, then the median
and the spread (min-max) over the rounds are reported: a drift of the machine
between rounds moves both sides of a ratio together.

Both training loops log the same things every batch: the loss and the accuracy
(argmax) as Python floats. ``--sklearn`` adds scikit-learn's ``MLPClassifier``
(``solver="sgd"``, no BatchNorm, its own initialisation, no accuracy).
Run ``python benchmarks/bench_fit.py --help`` for flags and ``--list`` for names.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fnmatch
import functools
import gc
import importlib
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NETS = {"mlp": [784, 256, 256, 10], "wide": [784, 2048, 2048, 10]}
LEARNING_RATE = 0.01
MOMENTUM = 0.9
PREDICT_BATCH = 1024
BATCHES = (32, 128, 512)
WIDE_BATCH = 128

# The goals of the performance issue, each the median of paired rounds.
FIT_TARGETS = {32: 0.85, 128: 0.85, 512: 1.0}  # minitrain / torch, every thread count
WIDE_TARGET = (2, 1.0)  # (threads, ratio): the wide net at two threads
PREDICT_TARGET = 0.9
OVERHEAD_TARGETS = {False: 0.40, True: 0.60}  # beyond the GEMMs, batch 128, one thread
SPEEDUP_BATCH = 512  # minitrain's two-thread speed-up at least torch's there


# ----------------------------------------------------------------------------- setup


def optional(name: str) -> Any:
    """Import an optional package, or return None (its column is then skipped)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


torch = optional("torch")
sklearn_nn = optional("sklearn.neural_network")
threadpoolctl = optional("threadpoolctl")
resource = optional("resource")  # Unix only: the others' CPU column needs it


@dataclass(frozen=True)
class Config:
    """One benchmark case; ``name`` is what ``--configs`` patterns match."""

    kind: str  # "fit", "predict" or "memory"
    dtype: str  # "f32" or "f64"
    batch: int
    batchnorm: bool
    net: str = "mlp"

    @property
    def name(self) -> str:
        parts = [self.kind, self.dtype]
        if self.net != "mlp":
            parts.append(self.net)
        if self.kind == "fit":
            parts.append(f"b{self.batch}")
        if self.batchnorm:
            parts.append("bn")
        return "-".join(parts)

    @property
    def sizes(self) -> list[int]:
        return NETS[self.net]

    @property
    def np_dtype(self) -> type[np.floating]:
        return np.float32 if self.dtype == "f32" else np.float64


def all_configs(dtypes: tuple[str, ...] = ("f32",)) -> list[Config]:
    configs = [Config("fit", dt, b, bn) for dt in dtypes for bn in (False, True) for b in BATCHES]
    configs += [Config("fit", dt, WIDE_BATCH, False, "wide") for dt in dtypes]
    configs += [Config("predict", dt, PREDICT_BATCH, bn) for dt in dtypes for bn in (False, True)]
    configs += [Config("memory", "f32", PREDICT_BATCH, bn) for bn in (False, True)]
    return configs


def select(configs: list[Config], patterns: str | None) -> list[Config]:
    if not patterns:
        return configs
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = [c for c in configs if any(fnmatch.fnmatchcase(c.name, p) for p in pats)]
    if not chosen:
        names = ", ".join(c.name for c in configs)
        raise SystemExit(f"--configs {patterns!r} matches no configuration; names: {names}")
    return chosen


def make_data(n: int, dtype: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable synthetic data: Gaussian inputs, labels from a fixed linear teacher."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 784), dtype=np.float32)
    teacher = rng.standard_normal((784, 10), dtype=np.float32)
    y = np.argmax(x @ teacher, axis=1).astype(np.int64)
    return x.astype(dtype, copy=False), y


# --------------------------------------------------------------------- thread counts


class Threads:
    """Sets the thread count of every contender: NumPy's BLAS (threadpoolctl), on which
    minitrain's matrix products run, and torch's intra-op pool (``torch.set_num_threads``)."""

    def __init__(self) -> None:
        self.controller = threadpoolctl.ThreadpoolController() if threadpoolctl else None
        self.limiter: Any = None

    def set(self, n: int) -> None:
        if self.limiter is not None:
            self.limiter.restore_original_limits()
        if self.controller is not None:
            self.limiter = self.controller.limit(limits=n, user_api="blas")
        if torch is not None:
            torch.set_num_threads(n)

    def restore(self) -> None:
        if self.limiter is not None:
            self.limiter.restore_original_limits()
            self.limiter = None

    def blas_threads(self) -> int | None:
        if self.controller is None:
            return None
        blas = self.controller.select(user_api="blas").info()
        return blas[0]["num_threads"] if blas else None


# ------------------------------------------------------------------------ contenders


def minitrain_model(mt: Any, cfg: Config) -> Any:
    model = mt.MLP(cfg.sizes, batchnorm=cfg.batchnorm, seed=0, dtype=cfg.np_dtype)
    model.compile(
        mt.SGD(LEARNING_RATE, momentum=MOMENTUM),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def torch_model(mt_model: Any, cfg: Config) -> Any:
    """The same network in PyTorch, starting from the very same weights and statistics."""
    from minitrain.layers import BatchNorm, Dense, ReLU

    nn = torch.nn
    dtype = torch.float32 if cfg.dtype == "f32" else torch.float64
    layers = []
    for layer in mt_model.layers:
        if isinstance(layer, Dense):
            lin = nn.Linear(layer.in_features, layer.out_features, bias=layer.use_bias)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
                if layer.use_bias:
                    lin.bias.copy_(torch.from_numpy(layer.params["b"]))
            layers.append(lin)
        elif isinstance(layer, BatchNorm):
            bn = nn.BatchNorm1d(layer.num_features, eps=layer.eps, momentum=layer.momentum)
            with torch.no_grad():
                bn.running_mean.copy_(torch.from_numpy(layer.buffers["running_mean"]))
                bn.running_var.copy_(torch.from_numpy(layer.buffers["running_var"]))
            layers.append(bn)
        elif isinstance(layer, ReLU):
            layers.append(nn.ReLU())
        else:
            raise TypeError(f"no PyTorch counterpart written for {layer!r}")
    return nn.Sequential(*layers).to(dtype)


def fit_minitrain(mt: Any, cfg: Config, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    model = minitrain_model(mt, cfg)
    gc.collect()
    t0 = time.perf_counter()
    history = model.fit(x, y, batch_size=cfg.batch, epochs=1, verbose=0, shuffle=True)
    elapsed = time.perf_counter() - t0
    return elapsed, history.history["loss"][-1]


def fit_torch(mt: Any, cfg: Config, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    model = torch_model(minitrain_model(mt, cfg), cfg)
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    cross_entropy = torch.nn.functional.cross_entropy
    torch.manual_seed(0)
    gc.collect()
    t0 = time.perf_counter()
    model.train()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)  # views, no copy
    n, b = len(x), cfg.batch
    order = torch.randperm(n)
    loss_sum = correct = 0.0
    for start in range(0, n, b):
        idx = order[start : start + b]
        xb, yb = xt[idx], yt[idx]  # gather the batch, as minitrain does
        out = model(xb)
        loss = cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(yb)  # the same per-batch logging as fit
        correct += (out.argmax(dim=1) == yb).sum().item()
    elapsed = time.perf_counter() - t0
    return elapsed, loss_sum / n


def fit_sklearn(mt: Any, cfg: Config, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning

    clf = sklearn_nn.MLPClassifier(
        hidden_layer_sizes=tuple(cfg.sizes[1:-1]),
        activation="relu",
        solver="sgd",
        alpha=0.0,  # no L2 term: minitrain's SGD has none here either
        batch_size=cfg.batch,
        learning_rate_init=LEARNING_RATE,
        momentum=MOMENTUM,
        nesterovs_momentum=False,
        max_iter=1,
        shuffle=True,
        random_state=0,
    )
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(x, y)
        elapsed = time.perf_counter() - t0
    return elapsed, float(clf.loss_)


def gemm_products(sizes: list[int], batch: int, dtype: Any, forward_only: bool) -> Callable:
    """The matrix products of one step, into preallocated outputs: ``a_k @ W_k`` for
    every layer, then (training) ``a_k.T @ g_k`` for every layer and ``g_k @ W_k.T`` for
    all but the first, whose input is data (minitrain and PyTorch both skip that one)."""
    rng = np.random.default_rng(0)

    def arr(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    ws = [arr(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    acts = [arr(batch, s) for s in sizes]  # acts[0] is the batch, acts[k] layer k's output
    grads = [arr(batch, s) for s in sizes]
    dws = [np.empty_like(w) for w in ws]

    def step() -> None:
        for k, w in enumerate(ws):
            np.matmul(acts[k], w, out=acts[k + 1])
        if forward_only:
            return
        for k in reversed(range(len(ws))):
            np.matmul(acts[k].T, grads[k + 1], out=dws[k])
            if k > 0:
                np.matmul(grads[k + 1], ws[k].T, out=grads[k])

    return step


def gemm_epoch(cfg: Config, n: int, *, forward_only: bool = False) -> Callable[[], float]:
    """Seconds of the matrix products of one epoch of ``n`` samples (the last, shorter
    batch included), as a runner."""
    full, last = divmod(n, cfg.batch)
    steps = [(gemm_products(cfg.sizes, cfg.batch, cfg.np_dtype, forward_only), full)]
    if last:
        steps.append((gemm_products(cfg.sizes, last, cfg.np_dtype, forward_only), 1))

    def run() -> float:
        t0 = time.perf_counter()
        for products, count in steps:
            for _ in range(count):
                products()
        return time.perf_counter() - t0

    return run


def predict_minitrain(model: Any, x: np.ndarray) -> float:
    t0 = time.perf_counter()
    model.predict(x, batch_size=PREDICT_BATCH, verbose=0)  # no progress bar: torch prints none
    return time.perf_counter() - t0


def predict_torch(model: Any, x: np.ndarray) -> float:
    t0 = time.perf_counter()
    model.eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        out = torch.empty((len(x), model[-1].out_features), dtype=xt.dtype)
        for start in range(0, len(x), PREDICT_BATCH):
            out[start : start + PREDICT_BATCH] = model(xt[start : start + PREDICT_BATCH])
    out.numpy()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- timing

Runner = Callable[[], Any]  # returns seconds, or (seconds, loss)


def seconds(sample: Any) -> float:
    return sample[0] if isinstance(sample, tuple) else sample


def interleaved(
    runners: dict[tuple[str, int], Runner],
    warmup: dict[tuple[str, int], Runner],
    rounds: int,
    threads: Threads,
) -> list[dict[tuple[str, int], Any]]:
    """Warm every ``(contender, threads)`` runner up, then run ``rounds`` rounds; each
    round runs every runner once, in an order rotated by one per round (so no runner
    always goes first, or right after the same neighbour). One dict per round."""
    for (_, n), fn in warmup.items():
        threads.set(n)
        fn()
    keys = list(runners)
    out = []
    for r in range(rounds):
        sample = {}
        for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
            threads.set(key[1])
            sample[key] = runners[key]()
        out.append(sample)
    return out


def measure(
    runners: dict[tuple[str, int], Runner],
    warmup: dict[tuple[str, int], Runner],
    args: argparse.Namespace,
    threads: Threads,
) -> tuple[list[dict[tuple[str, int], Any]], OthersCPU]:
    """``interleaved`` rounds; with ``--retry-noisy N``, measured again (up to N times)
    while other processes took more than ``--noisy`` of the machine. The quietest
    attempt is kept."""
    best = None
    for attempt in range(args.retry_noisy + 1):
        with OthersCPU() as others:
            res = interleaved(runners, warmup if attempt == 0 else {}, args.rounds, threads)
        if best is None or (others.fraction or 0.0) < (best[1].fraction or 0.0):
            best = (res, others)
        if others.fraction is None or others.fraction <= args.noisy:
            break
    assert best is not None
    return best


@dataclass
class Spread:
    """Median and range of one ratio over the rounds."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def cell(self, fmt: str = "{:.2f}") -> str:
        lo, hi = min(self.values), max(self.values)
        return f"{fmt.format(self.median)} [{fmt.format(lo)}-{fmt.format(hi)}]"


def paired(rounds: list[dict], a: tuple[str, int], b: tuple[str, int]) -> Spread | None:
    """``time(a) / time(b)`` within each round."""
    if a not in rounds[0] or b not in rounds[0]:
        return None
    return Spread([seconds(r[a]) / seconds(r[b]) for r in rounds])


def median_seconds(rounds: list[dict], key: tuple[str, int]) -> float:
    return statistics.median(seconds(r[key]) for r in rounds)


@contextlib.contextmanager
def traced() -> Any:
    """Trace allocations inside the block; yields a dict that gets ``peak`` and
    ``current`` (bytes, relative to the start of the block) when it ends."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    out: dict[str, int] = {}
    try:
        yield out
    finally:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["peak"], out["current"] = peak - base, current - base


# ------------------------------------------------------------------------- sections


@dataclass
class Report:
    lines: list[str]
    verdicts: list[tuple[str, str, str, str]]  # (config, what, measured, target + verdict)

    def add(self, *lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)

    def check(self, config: str, what: str, spread: Spread, target: float, *, at_least=False):
        ok = spread.median >= target if at_least else spread.median <= target
        sign = ">=" if at_least else "<="
        pct = what.startswith("over GEMMs")
        fmt = "{:.1%}" if pct else "{:.3f}"  # enough digits that the verdict reads right
        goal = f"{sign} {fmt.format(target)}: {'met' if ok else 'MISSED'}"
        self.verdicts.append((config, what, spread.cell(fmt), goal))
        return f" ({'met' if ok else 'MISSED'})"


def thread_label(n: int) -> str:
    return f"{n} thread{'s' if n > 1 else ''}"


def run_fit(
    mt: Any, cfgs: list[Config], args: argparse.Namespace, report: Report, threads: Threads
) -> None:
    report.add(
        "",
        "## fit: one epoch",
        "",
        f"{args.samples:,} samples ({args.wide_samples:,} for the wide net), {args.rounds} "
        "paired rounds after a warm-up. Each cell is the median over the rounds of a ratio "
        "taken within a round, [min-max] over the rounds. ratio = time(minitrain) / "
        "time(torch): below 1 minitrain is faster. over GEMMs = time(step) / time(the "
        "step's matrix products alone) - 1, for each contender against the same NumPy "
        "GEMMs. loss = the epoch's mean training loss (both did the same work). others' "
        "CPU = the share of the machine other processes used during the rows of that "
        "config (more than a few percent is noise, not a measurement).",
        "",
        "| config | threads | minitrain samples/s | torch samples/s | ratio minitrain/torch "
        "| minitrain over GEMMs | torch over GEMMs | loss mt / torch | others' CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    )
    speedups: list[str] = []
    for cfg in cfgs:
        n = args.wide_samples if cfg.net == "wide" else args.samples
        x, y = make_data(n, cfg.np_dtype)
        n_warm = min(n, args.warmup + n % cfg.batch)  # also warms the last, short batch
        xw, yw = x[:n_warm], y[:n_warm]
        contenders: dict[str, Callable[..., tuple[float, float]]] = {"minitrain": fit_minitrain}
        if torch is not None:
            contenders["torch"] = fit_torch
        if args.sklearn and sklearn_nn is not None and not cfg.batchnorm:
            contenders["sklearn"] = fit_sklearn
        runners: dict[tuple[str, int], Runner] = {}
        warm: dict[tuple[str, int], Runner] = {}
        for t in args.threads:
            for name, fn in contenders.items():
                runners[name, t] = functools.partial(fn, mt, cfg, x, y)
                warm[name, t] = functools.partial(fn, mt, cfg, xw, yw)
            runners["gemm", t] = gemm_epoch(cfg, n)
            warm["gemm", t] = gemm_epoch(cfg, n_warm)
        rounds, others = measure(runners, warm, args, threads)
        for t in args.threads:
            mt_key, torch_key, gemm_key = ("minitrain", t), ("torch", t), ("gemm", t)
            cells = [cfg.name, str(t), f"{n / median_seconds(rounds, mt_key):,.0f}"]
            ratio = paired(rounds, mt_key, torch_key)
            if ratio is None:
                cells += ["skipped (torch not installed)", "-"]
            else:
                target = FIT_TARGETS.get(cfg.batch) if cfg.net == "mlp" else None
                if cfg.net == "wide" and t == WIDE_TARGET[0]:
                    target = WIDE_TARGET[1]
                verdict = (
                    ""
                    if target is None
                    else report.check(cfg.name, f"ratio, {thread_label(t)}", ratio, target)
                )
                cells += [f"{n / median_seconds(rounds, torch_key):,.0f}", ratio.cell() + verdict]
            over_mt = paired(rounds, mt_key, gemm_key)
            assert over_mt is not None
            over_mt = Spread([v - 1 for v in over_mt.values])
            verdict = ""
            if cfg.batch == 128 and cfg.net == "mlp" and t == 1:
                target = OVERHEAD_TARGETS[cfg.batchnorm]
                verdict = report.check(cfg.name, "over GEMMs, 1 thread", over_mt, target)
            cells.append(over_mt.cell("{:.0%}") + verdict)
            over_torch = paired(rounds, torch_key, gemm_key)
            cells.append(
                "-"
                if over_torch is None
                else Spread([v - 1 for v in over_torch.values]).cell("{:.0%}")
            )
            losses = [
                f"{statistics.median(r[k][1] for r in rounds):.3f}"
                for k in (mt_key, torch_key)
                if k in rounds[0]
            ]
            cells += [" / ".join(losses), others.cell()]
            report.add("| " + " | ".join(cells) + " |")
            if "sklearn" in contenders:
                sk = paired(rounds, mt_key, ("sklearn", t))
                assert sk is not None
                speedups.append(
                    f"- {cfg.name}, {thread_label(t)}: minitrain / scikit-learn {sk.cell()}"
                )
        if len(args.threads) >= 2:
            lo, hi = min(args.threads), max(args.threads)
            row = [cfg.name, f"{lo} -> {hi}"]
            sp_mt = paired(rounds, ("minitrain", lo), ("minitrain", hi))
            sp_torch = paired(rounds, ("torch", lo), ("torch", hi))
            assert sp_mt is not None
            row.append(sp_mt.cell())
            if sp_torch is not None:
                row.append(sp_torch.cell())
                both = Spread([a / b for a, b in zip(sp_mt.values, sp_torch.values, strict=True)])
                verdict = ""
                if cfg.batch == SPEEDUP_BATCH and cfg.net == "mlp":
                    verdict = report.check(
                        cfg.name, "speed-up minitrain / torch's", both, 1.0, at_least=True
                    )
                row.append(both.cell() + verdict)
            else:
                row += ["-", "-"]
            speedups.append("| " + " | ".join(row) + " |")
    if len(args.threads) >= 2:
        report.add(
            "",
            "## fit: speed-up from more threads",
            "",
            "speed-up = time(fewer threads) / time(more threads) of the same contender, "
            "within each round (from the rounds of the fit table); the last column is "
            "minitrain's speed-up over torch's, >= 1 when minitrain gains at least as much.",
            "",
            "| config | threads | minitrain speed-up | torch speed-up | minitrain's / torch's |",
            "|---|---|---|---|---|",
            *(s for s in speedups if s.startswith("|")),
        )
    sk_lines = [s for s in speedups if s.startswith("-")]
    if sk_lines:
        report.add("", "scikit-learn (`--sklearn`), ratio of epoch times:", "", *sk_lines)


def run_predict(
    mt: Any, cfgs: list[Config], args: argparse.Namespace, report: Report, threads: Threads
) -> None:
    report.add(
        "",
        f"## predict: eval mode + no_grad, batch {PREDICT_BATCH}",
        "",
        f"{args.samples:,} samples, {args.rounds} paired rounds after a warm-up; ratio = "
        "time(minitrain) / time(torch), median [min-max] over the rounds; over GEMMs "
        "against the forward matrix products alone.",
        "",
        "| config | threads | minitrain samples/s | torch samples/s | ratio minitrain/torch "
        "| minitrain over GEMMs | others' CPU |",
        "|---|---|---|---|---|---|---|",
    )
    for cfg in cfgs:
        x, y = make_data(args.samples, cfg.np_dtype)
        model = minitrain_model(mt, cfg)
        # One short training epoch first, so BatchNorm's running statistics are not trivial.
        model.fit(x[: 16 * 128], y[: 16 * 128], batch_size=128, epochs=1, verbose=0)
        runners: dict[tuple[str, int], Runner] = {}
        tmodel = torch_model(model, cfg) if torch is not None else None
        for t in args.threads:
            runners["minitrain", t] = functools.partial(predict_minitrain, model, x)
            if tmodel is not None:
                runners["torch", t] = functools.partial(predict_torch, tmodel, x)
            runners["gemm", t] = gemm_epoch(
                Config("fit", cfg.dtype, PREDICT_BATCH, cfg.batchnorm, cfg.net),
                len(x),
                forward_only=True,
            )
        rounds, others = measure(runners, runners, args, threads)
        n = len(x)
        for t in args.threads:
            cells = [cfg.name, str(t), f"{n / median_seconds(rounds, ('minitrain', t)):,.0f}"]
            ratio = paired(rounds, ("minitrain", t), ("torch", t))
            if ratio is None:
                cells += ["skipped (torch not installed)", "-"]
            else:
                verdict = report.check(cfg.name, f"ratio, {thread_label(t)}", ratio, PREDICT_TARGET)
                cells += [
                    f"{n / median_seconds(rounds, ('torch', t)):,.0f}",
                    ratio.cell() + verdict,
                ]
            over = paired(rounds, ("minitrain", t), ("gemm", t))
            assert over is not None
            cells.append(Spread([v - 1 for v in over.values]).cell("{:.0%}"))
            report.add("| " + " | ".join([*cells, others.cell()]) + " |")


def run_memory(mt: Any, cfgs: list[Config], args: argparse.Namespace, report: Report) -> None:
    report.add(
        "",
        f"## memory: inference over {args.samples:,} x 784 (tracemalloc peak)",
        "",
        "Peak of the allocations made during the call (the input array itself "
        "excluded), in eval mode. `predict` runs under no_grad; the loop rows "
        f"run `model(x[batch])` over batches of {PREDICT_BATCH}, the full rows one "
        "forward over the whole set.",
        "",
        "| config | predict (no_grad) | batched, no_grad | batched, grad on | "
        "full, no_grad | full, grad on | output |",
        "|---|---|---|---|---|---|---|",
    )
    mb = 1 / 2**20
    for cfg in cfgs:
        x, _ = make_data(args.samples, cfg.np_dtype)
        model = minitrain_model(mt, cfg)
        model.eval()
        peaks = []
        with traced() as t:
            out = model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
        peaks.append(t["peak"])
        out_bytes = out.nbytes
        del out
        for grad_on in (False, True):
            with traced() as t, contextlib.nullcontext() if grad_on else mt.no_grad():
                out = np.empty((len(x), cfg.sizes[-1]), dtype=cfg.np_dtype)
                for start in range(0, len(x), PREDICT_BATCH):
                    out[start : start + PREDICT_BATCH] = model(x[start : start + PREDICT_BATCH])
            peaks.append(t["peak"])
            del out
        for grad_on in (False, True):
            with traced() as t, contextlib.nullcontext() if grad_on else mt.no_grad():
                out = model(x)
            peaks.append(t["peak"])
            del out
        with mt.no_grad():  # drop the caches the last forward kept
            model(x[:2])
        cells = [cfg.name, *(f"{p * mb:,.1f} MB" for p in peaks), f"{out_bytes * mb:,.1f} MB"]
        report.add("| " + " | ".join(cells) + " |")


# --------------------------------------------------------------------- environment


def cpu_model() -> str:
    """The model name in /proc/cpuinfo, with the vector extensions BLAS kernels key on."""
    with contextlib.suppress(OSError):
        text = Path("/proc/cpuinfo").read_text()
        name = flags = ""
        for line in text.splitlines():
            if line.startswith("model name") and not name:
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line.split(":", 1)[1]
        have = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in flags.split()]
        hypervisor = ", under a hypervisor" if "hypervisor" in flags.split() else ""
        return f"{name} ({' '.join(have) or 'no AVX2'}{hypervisor})"
    return platform.processor() or platform.machine()


def blas_lines() -> list[str]:
    """One line per native thread pool (threadpoolctl), naming the package that ships
    it: NumPy's BLAS is the one minitrain's matrix products run on."""
    if threadpoolctl is None:
        return ["- BLAS: unknown (threadpoolctl not installed)"]
    lines = []
    for info in threadpoolctl.threadpool_info():
        path = Path(info.get("filepath", "?"))
        owner = path.parent.name.removesuffix(".libs")
        owner = path.parent.parent.name if owner == "lib" else owner
        what = " ".join(str(v) for v in (info.get("internal_api"), info.get("version")) if v)
        kernel = f", kernel {info['architecture']}" if info.get("architecture") else ""
        lines.append(
            f"- {info.get('user_api')} from {owner}: {what}{kernel}, "
            f"{info.get('num_threads')} threads by default ({path.name})"
        )
    return lines


def minitrain_source(mt: Any) -> str:
    """Where minitrain was imported from, with its git commit when it is a checkout."""
    where = Path(mt.__file__).parent
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(where)]
        rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "."], capture_output=True, text=True)
        if rev.returncode == 0:
            state = "with uncommitted changes" if dirty.stdout.strip() else "clean"
            return f"{where} (commit {rev.stdout.strip()}, {state})"
    return str(where)


def environment(mt: Any, args: argparse.Namespace) -> list[str]:
    env_flags = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    versions = [f"numpy {np.__version__}", f"Python {platform.python_version()}"]
    if torch is not None:
        config = torch.__config__.show()
        blas = config.split("BLAS_INFO=", 1)[1].split(",", 1)[0] if "BLAS_INFO=" in config else "?"
        versions.append(
            f"torch {torch.__version__} (BLAS {blas}, {torch.backends.cpu.get_cpu_capability()})"
        )
    else:
        versions.append("torch not installed: its columns are skipped")
    if args.sklearn:
        sk = optional("sklearn")
        versions.append(f"scikit-learn {sk.__version__}" if sk else "scikit-learn not installed")
    counts = ", ".join(map(str, args.threads))
    return [
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- command: `{command}`",
        f"- minitrain: {minitrain_source(mt)}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs",
        f"- thread counts measured: {counts} (NumPy's BLAS through threadpoolctl, "
        "torch.set_num_threads)",
        *(f"- {k}: {v if v is not None else 'unset'}" for k, v in env_flags.items()),
        *blas_lines(),
        f"- {', '.join(versions)}",
        f"- load average at start: {load_average()}",
    ]


class OthersCPU:
    """CPU time used by *other* processes while a block runs, as a fraction of the
    machine (all CPUs x wall time): 0 on a quiet machine. Linux only (/proc/stat);
    None elsewhere. A two-thread BLAS slows down sharply as soon as this is not ~0."""

    def __enter__(self) -> OthersCPU:
        self.start = self._sample()
        self.fraction: float | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        if self.start is not None and end is not None:
            busy, own, wall = (e - s for e, s in zip(end, self.start, strict=True))
            self.fraction = max(0.0, busy - own) / ((os.cpu_count() or 1) * wall)

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        except (OSError, ValueError):
            return None
        if resource is None:
            return None
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return busy, usage.ru_utime + usage.ru_stime, time.perf_counter()

    def cell(self) -> str:
        return "?" if self.fraction is None else f"{self.fraction:.0%}"


def load_average() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return "unknown"


# ---------------------------------------------------------------------------- main


def thread_counts(text: str | None) -> list[int]:
    if text is None:
        return [1, 2] if (os.cpu_count() or 1) >= 2 else [1]
    counts = sorted({int(t) for t in text.split(",") if t.strip()})
    if not counts or counts[0] < 1:
        raise SystemExit(f"--threads must list positive ints, got {text!r}")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: fewer samples and configs")
    p.add_argument("--configs", help="comma-separated names or fnmatch patterns (see --list)")
    p.add_argument("--list", action="store_true", help="print the configuration names and exit")
    p.add_argument("--dtypes", default="f32", help="f32, f64 or f32,f64 (default f32)")
    p.add_argument("--samples", type=int, help="data set size (default 60000, --quick 6000)")
    p.add_argument(
        "--wide-samples", type=int, help="data set of the wide net (default 8192, --quick 1024)"
    )
    p.add_argument("--rounds", type=int, help="paired rounds per config (default 7, at least 3)")
    p.add_argument("--warmup", type=int, help="samples of the warm-up epoch (default 4096)")
    p.add_argument("--threads", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--sklearn", action="store_true", help="add scikit-learn's MLPClassifier")
    p.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).with_name("RESULTS.md"),
        help="markdown report (default benchmarks/RESULTS.md)",
    )
    p.add_argument("--append", action="store_true", help="append to --out instead of replacing it")
    p.add_argument(
        "--retry-noisy",
        type=int,
        default=0,
        metavar="N",
        help="measure a config again, up to N times, while other processes are busy",
    )
    p.add_argument(
        "--noisy",
        type=float,
        default=0.05,
        help="share of the machine used by others that counts as noisy (default 0.05)",
    )
    args = p.parse_args(argv)
    args.samples = args.samples or (6000 if args.quick else 60000)
    args.wide_samples = args.wide_samples or (1024 if args.quick else 8192)
    args.rounds = args.rounds or (3 if args.quick else 7)
    args.warmup = args.warmup or (1024 if args.quick else 4096)
    args.threads = thread_counts(args.threads)
    args.dtypes = tuple(d.strip() for d in args.dtypes.split(","))
    if not set(args.dtypes) <= {"f32", "f64"}:
        p.error(f"--dtypes must be f32, f64 or both, got {args.dtypes}")
    if args.rounds < 3:
        p.error("--rounds must be at least 3 (the median of fewer is not robust)")
    if min(args.samples, args.wide_samples) < 2 * max(BATCHES):
        p.error(f"--samples and --wide-samples must be at least {2 * max(BATCHES)}")
    return args


QUICK_CONFIGS = "fit-f32-b128,fit-f32-b128-bn,fit-f32-wide-b128,predict-f32,memory-f32"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configs = all_configs(args.dtypes)
    if args.list:
        print("\n".join(c.name for c in configs))
        return
    configs = select(configs, args.configs or (QUICK_CONFIGS if args.quick else None))
    import minitrain as mt

    threads = Threads()
    report = Report(lines=[], verdicts=[])
    start = time.perf_counter()
    mode = "quick smoke run" if args.quick else "full run"
    report.add(f"# minitrain benchmark ({mode})", "", *environment(mt, args))
    try:
        by_kind = {k: [c for c in configs if c.kind == k] for k in ("fit", "predict", "memory")}
        if by_kind["fit"]:
            run_fit(mt, by_kind["fit"], args, report, threads)
        if by_kind["predict"]:
            run_predict(mt, by_kind["predict"], args, report, threads)
        if by_kind["memory"]:
            threads.set(max(args.threads))
            run_memory(mt, by_kind["memory"], args, report)
    finally:
        threads.restore()
    report.add("", "## goals of the performance issue", "")
    if report.verdicts:
        report.add("| config | what | measured, median [min-max] | goal |", "|---|---|---|---|")
        for config, what, measured, goal in report.verdicts:
            report.add(f"| {config} | {what} | {measured} | {goal} |")
    else:
        report.add("No configuration with a goal was run.")
    report.add(
        "",
        f"- load average at end: {load_average()}; wall time {time.perf_counter() - start:.0f} s",
    )
    text = "\n".join(report.lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.append and args.out.exists():
        text = args.out.read_text() + "\n---\n\n" + text
    args.out.write_text(text)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
