"""Time minitrain against PyTorch eager and scikit-learn, side by side in one process.

What is measured (every timing is the median of interleaved rounds, after a warm-up)::

    fit       one epoch of ``model.fit`` on 784-256-256-10 [+ BatchNorm], SGD with
              momentum, batch 32/128/512, float32/float64, against
              (a) a PyTorch CPU eager loop: same layers, same initial weights (copied
                  from the minitrain model: He-uniform hidden layers, Glorot-uniform
                  output), same SGD, batch size, dtype and thread count;
              (b) scikit-learn ``MLPClassifier(solver="sgd", max_iter=1)`` (no BatchNorm).
    predict   ``model.predict(x, batch_size=1024)`` (eval mode, no_grad) against
              PyTorch ``eval()`` + ``no_grad`` over the same batches.
    memory    tracemalloc peak of inference over the whole data set, with and
              without no_grad (NumPy reports its buffers to tracemalloc).
    roofline  the time of just the matrix products of one training step (forward
              and backward) against minitrain's whole step: the overhead fraction.

Both training loops log the same things every batch: the loss and the accuracy
(argmax) as Python floats, as a Keras-style progress log needs them.
scikit-learn computes its loss but no accuracy. Ratios are epoch-time ratios,
``time(minitrain) / time(other)``: below 1 minitrain is faster.

A missing optional package (torch, scikit-learn, threadpoolctl) drops its
column with a note. Run ``python benchmarks/bench_fit.py --help`` for flags and
``--list`` for the configuration names ``--configs`` selects from.
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

SIZES = [784, 256, 256, 10]
LEARNING_RATE = 0.01
MOMENTUM = 0.9
PREDICT_BATCH = 1024
BATCHES = (32, 128, 512)

# (config name, other contender) -> largest allowed time ratio minitrain / other.
# The issue states the batch-32 target without naming BatchNorm; it is applied to both.
TARGETS: dict[tuple[str, str], float] = {
    ("fit-f32-b128", "torch"): 0.8,
    ("fit-f32-b128-bn", "torch"): 0.8,
    ("fit-f32-b128", "sklearn"): 0.7,
    ("fit-f32-b32", "torch"): 1.0,
    ("fit-f32-b32-bn", "torch"): 1.0,
    ("predict-f32", "torch"): 1.0,
    ("predict-f32-bn", "torch"): 1.0,
}
OVERHEAD_TARGET = 0.30  # of a step at batch 128, beyond the matrix products


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

    kind: str  # "fit", "predict", "memory" or "roofline"
    dtype: str  # "f32" or "f64"
    batch: int
    batchnorm: bool

    @property
    def name(self) -> str:
        parts = [self.kind, self.dtype]
        if self.kind in ("fit", "roofline"):
            parts.append(f"b{self.batch}")
        if self.batchnorm:
            parts.append("bn")
        return "-".join(parts)

    @property
    def np_dtype(self) -> type[np.floating]:
        return np.float32 if self.dtype == "f32" else np.float64


def all_configs() -> list[Config]:
    configs = [
        Config("fit", dt, b, bn) for dt in ("f32", "f64") for bn in (False, True) for b in BATCHES
    ]
    configs += [Config("predict", "f32", PREDICT_BATCH, bn) for bn in (False, True)]
    configs += [Config("memory", "f32", PREDICT_BATCH, bn) for bn in (False, True)]
    configs += [Config("roofline", "f32", b, bn) for b in (32, 128) for bn in (False, True)]
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
    x = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]), dtype=np.float32)
    y = np.argmax(x @ teacher, axis=1).astype(np.int64)
    return x.astype(dtype, copy=False), y


# ------------------------------------------------------------------------ contenders


def minitrain_model(mt: Any, cfg: Config) -> Any:
    model = mt.MLP(SIZES, batchnorm=cfg.batchnorm, seed=0, dtype=cfg.np_dtype)
    model.compile(
        mt.SGD(LEARNING_RATE, momentum=MOMENTUM),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def torch_model(mt_model: Any, cfg: Config) -> Any:
    """The same network in PyTorch, starting from the very same weights."""
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
    history = model.fit(x, y, batch_size=cfg.batch, epochs=1, verbose=0)
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
        hidden_layer_sizes=tuple(SIZES[1:-1]),
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


def predict_minitrain(model: Any, x: np.ndarray) -> float:
    t0 = time.perf_counter()
    model.predict(x, batch_size=PREDICT_BATCH)
    return time.perf_counter() - t0


def predict_torch(model: Any, x: np.ndarray) -> float:
    t0 = time.perf_counter()
    model.eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        out = torch.empty((len(x), SIZES[-1]), dtype=xt.dtype)
        for start in range(0, len(x), PREDICT_BATCH):
            out[start : start + PREDICT_BATCH] = model(xt[start : start + PREDICT_BATCH])
    out.numpy()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- timing


def interleaved(
    runners: dict[str, Callable[[], Any]], rounds: int, warmup: dict[str, Callable[[], Any]]
) -> dict[str, list[Any]]:
    """Warm every runner up, then time ``rounds`` rounds; each round runs every
    runner once, in an order rotated by one per round, so no contender always
    goes first (or right after the same neighbour)."""
    for fn in warmup.values():
        fn()
    names = list(runners)
    results: dict[str, list[Any]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            results[name].append(runners[name]())
    return results


def measure(
    runners: dict[str, Callable[[], Any]],
    warmup: dict[str, Callable[[], Any]],
    args: argparse.Namespace,
) -> tuple[dict[str, list[Any]], OthersCPU]:
    """``interleaved`` rounds; with ``--retry-noisy N``, measured again (up to N
    times) while other processes took more than ``--noisy`` of the machine.
    The quietest attempt is kept."""
    best: tuple[dict[str, list[Any]], OthersCPU] | None = None
    for attempt in range(args.retry_noisy + 1):
        with OthersCPU() as others:
            res = interleaved(runners, args.rounds, warmup if attempt == 0 else {})
        if best is None or (others.fraction or 0.0) < (best[1].fraction or 0.0):
            best = (res, others)
        if others.fraction is None or others.fraction <= args.noisy:
            break
    assert best is not None
    return best


def median_time(samples: list[Any]) -> float:
    return statistics.median(s[0] if isinstance(s, tuple) else s for s in samples)


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
    verdicts: list[tuple[str, str, float, float]]  # (config, other, ratio, target)

    def add(self, *lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)


def ratio_cell(cfg_name: str, other: str, ratio: float, report: Report) -> str:
    target = TARGETS.get((cfg_name, other))
    if target is None:
        return f"{ratio:.2f}"
    report.verdicts.append((cfg_name, other, ratio, target))
    return f"{ratio:.2f} ({'met' if ratio <= target else 'MISSED'} <= {target})"


def run_fit(mt: Any, cfgs: list[Config], args: argparse.Namespace, report: Report) -> dict:
    report.add(
        "",
        "## fit: one epoch",
        "",
        f"{args.samples:,} samples, {args.rounds} interleaved rounds after a warm-up; "
        "samples/s from the median epoch time; ratio = time(minitrain) / time(other); "
        "loss = the epoch's mean training loss (a check that all did the same work); "
        "others' CPU = the share of the machine other processes used meanwhile "
        "(a row with more than a few percent is noise, not a measurement).",
        "",
        "| config | minitrain samples/s | torch samples/s | ratio vs torch | "
        "sklearn samples/s | ratio vs sklearn | loss mt / torch / sk | others' CPU |",
        "|---|---|---|---|---|---|---|---|",
    )
    data = {
        dt: make_data(args.samples, np.float32 if dt == "f32" else np.float64)
        for dt in {c.dtype for c in cfgs}
    }
    medians: dict[str, dict[str, float]] = {}
    for cfg in cfgs:
        x, y = data[cfg.dtype]
        n_warm = min(len(x), args.warmup + len(x) % cfg.batch)  # also warms the last, short batch
        xw, yw = x[:n_warm], y[:n_warm]
        contenders: dict[str, Callable[..., tuple[float, float]]] = {"minitrain": fit_minitrain}
        if torch is not None:
            contenders["torch"] = fit_torch
        if sklearn_nn is not None and not cfg.batchnorm:
            contenders["sklearn"] = fit_sklearn
        runners = {k: functools.partial(f, mt, cfg, x, y) for k, f in contenders.items()}
        warm = {k: functools.partial(f, mt, cfg, xw, yw) for k, f in contenders.items()}
        res, others = measure(runners, warm, args)
        med = {k: median_time(v) for k, v in res.items()}
        loss = {k: statistics.median(s[1] for s in v) for k, v in res.items()}
        medians[cfg.name] = med
        n = len(x)
        t_mt = med["minitrain"]
        cells = [cfg.name, f"{n / t_mt:,.0f}"]
        for other, why in (("torch", "torch not installed"), ("sklearn", None)):
            if other in med:
                ratio = ratio_cell(cfg.name, other, t_mt / med[other], report)
                cells += [f"{n / med[other]:,.0f}", ratio]
            elif other == "sklearn" and cfg.batchnorm:
                cells += ["n/a (no BatchNorm)", "-"]
            else:
                cells += [f"skipped ({why or 'scikit-learn not installed'})", "-"]
        losses = (f"{loss[k]:.3f}" if k in loss else "-" for k in ("minitrain", "torch", "sklearn"))
        cells += [" / ".join(losses), others.cell()]
        report.add("| " + " | ".join(cells) + " |")
    return medians


def run_predict(mt: Any, cfgs: list[Config], args: argparse.Namespace, report: Report) -> None:
    report.add(
        "",
        f"## predict: eval mode + no_grad, batch {PREDICT_BATCH}",
        "",
        f"{args.samples:,} samples, {args.rounds} interleaved rounds after a warm-up; "
        "ratio = time(minitrain) / time(torch).",
        "",
        "| config | minitrain samples/s | torch samples/s | ratio vs torch | others' CPU |",
        "|---|---|---|---|---|",
    )
    for cfg in cfgs:
        x, y = make_data(args.samples, cfg.np_dtype)
        model = minitrain_model(mt, cfg)
        # One short training epoch first, so BatchNorm's running statistics are not trivial.
        model.fit(x[: 16 * 128], y[: 16 * 128], batch_size=128, epochs=1, verbose=0)
        runners: dict[str, Callable[[], float]] = {
            "minitrain": functools.partial(predict_minitrain, model, x)
        }
        if torch is not None:
            tmodel = torch_model(model, cfg)
            with torch.no_grad():  # copy the trained BatchNorm statistics too
                for tl, ml in zip(tmodel, model.layers, strict=True):
                    if "running_mean" in ml.buffers:
                        tl.running_mean.copy_(torch.from_numpy(ml.buffers["running_mean"]))
                        tl.running_var.copy_(torch.from_numpy(ml.buffers["running_var"]))
            runners["torch"] = functools.partial(predict_torch, tmodel, x)
        res, others = measure(runners, runners, args)
        n = len(x)
        t_mt = median_time(res["minitrain"])
        cells = [cfg.name, f"{n / t_mt:,.0f}"]
        if "torch" in res:
            t_t = median_time(res["torch"])
            cells += [f"{n / t_t:,.0f}", ratio_cell(cfg.name, "torch", t_mt / t_t, report)]
        else:
            cells += ["skipped (torch not installed)", "-"]
        report.add("| " + " | ".join([*cells, others.cell()]) + " |")


def run_memory(mt: Any, cfgs: list[Config], args: argparse.Namespace, report: Report) -> None:
    report.add(
        "",
        f"## memory: inference over {args.samples:,} x {SIZES[0]} (tracemalloc peak)",
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
            out = model.predict(x, batch_size=PREDICT_BATCH)
        peaks.append(t["peak"])
        out_bytes = out.nbytes
        del out
        for grad_on in (False, True):
            with traced() as t, contextlib.nullcontext() if grad_on else mt.no_grad():
                out = np.empty((len(x), SIZES[-1]), dtype=cfg.np_dtype)
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


def matmul_step(cfg: Config) -> Callable[[], None]:
    """Exactly the matrix products of one training step of the MLP, into preallocated
    outputs: three forward, and backward dW for every layer plus dX for all but the
    first (whose input is data; minitrain and PyTorch both skip that product)."""
    rng = np.random.default_rng(0)
    dt, b = cfg.np_dtype, cfg.batch

    def arr(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dt)

    ws = [arr(i, o) for i, o in zip(SIZES[:-1], SIZES[1:], strict=True)]
    acts = [arr(b, s) for s in SIZES]  # acts[0] is the batch, acts[k] layer k's output
    grads = [arr(b, s) for s in SIZES]
    dws = [np.empty_like(w) for w in ws]

    def step() -> None:
        for k, w in enumerate(ws):
            np.matmul(acts[k], w, out=acts[k + 1])
        for k in reversed(range(len(ws))):
            np.matmul(acts[k].T, grads[k + 1], out=dws[k])
            if k > 0:
                np.matmul(grads[k + 1], ws[k].T, out=grads[k])

    return step


def run_roofline(
    mt: Any, cfgs: list[Config], args: argparse.Namespace, report: Report, fit_medians: dict
) -> None:
    report.add(
        "",
        "## roofline: matrix products against the whole step",
        "",
        "matmul = the step's 8 matrix products alone (preallocated outputs, warm caches); "
        "step = one `fit` epoch over the data / number of batches (data gather, loss, "
        "metrics and callbacks included), timed in the same interleaved rounds; "
        "overhead = 1 - matmul / step. The torch column is its eager step (from the fit "
        "table when it ran), for scale.",
        "",
        "| config | matmul ms/step | minitrain ms/step | overhead | torch ms/step | others' CPU |",
        "|---|---|---|---|---|---|",
    )
    for cfg in cfgs:
        x, y = make_data(args.samples, cfg.np_dtype)
        steps = -(-len(x) // cfg.batch)
        products = matmul_step(cfg)

        def matmuls(products: Callable[[], None] = products, steps: int = steps) -> float:
            t0 = time.perf_counter()
            for _ in range(steps):
                products()
            return time.perf_counter() - t0

        fit_cfg = Config("fit", cfg.dtype, cfg.batch, cfg.batchnorm)
        xw, yw = x[: args.warmup], y[: args.warmup]
        # minitrain is timed again here, in the same rounds as the products, so
        # that both sides of the fraction see the same machine.
        runners: dict[str, Callable[[], Any]] = {
            "matmul": matmuls,
            "minitrain": functools.partial(fit_minitrain, mt, fit_cfg, x, y),
        }
        warm = {
            "matmul": matmuls,
            "minitrain": functools.partial(fit_minitrain, mt, fit_cfg, xw, yw),
        }
        known = fit_medians.get(fit_cfg.name, {})
        if "torch" not in known and torch is not None:
            runners["torch"] = functools.partial(fit_torch, mt, fit_cfg, x, y)
            warm["torch"] = functools.partial(fit_torch, mt, fit_cfg, xw, yw)
        res, others = measure(runners, warm, args)
        med = {**known, **{k: median_time(v) for k, v in res.items()}}
        t_mm, t_mt = med["matmul"] / steps, med["minitrain"] / steps
        overhead = 1 - t_mm / t_mt
        if cfg.batch == 128:
            report.verdicts.append((cfg.name, "overhead", overhead, OVERHEAD_TARGET))
            ok = "met" if overhead <= OVERHEAD_TARGET else "MISSED"
            verdict = f" ({ok} <= {OVERHEAD_TARGET:.0%})"
        else:
            verdict = ""
        t_torch = f"{med['torch'] / steps * 1e3:.3f}" if "torch" in med else "skipped"
        cells = [cfg.name, f"{t_mm * 1e3:.3f}", f"{t_mt * 1e3:.3f}", f"{overhead:.0%}{verdict}"]
        report.add("| " + " | ".join([*cells, t_torch, others.cell()]) + " |")


# --------------------------------------------------------------------- environment


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
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
            f"{info.get('num_threads')} threads ({path.name})"
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


def environment(mt: Any, threads: int) -> list[str]:
    env_flags = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    unset = [f"-u {k}" for k, v in env_flags.items() if v is None]
    set_ = [f"{k}={v}" for k, v in env_flags.items() if v is not None]
    command = (
        " ".join(["env", *unset, *set_] if unset or set_ else [])
        + " python "
        + " ".join(shlex.quote(a) for a in sys.argv)
    )
    versions = [f"numpy {np.__version__}", f"Python {platform.python_version()}"]
    if torch is not None:
        config = torch.__config__.show()
        blas = config.split("BLAS_INFO=", 1)[1].split(",", 1)[0] if "BLAS_INFO=" in config else "?"
        versions.append(
            f"torch {torch.__version__} (BLAS {blas}, {torch.backends.cpu.get_cpu_capability()}, "
            f"{torch.get_num_threads()} threads)"
        )
    else:
        versions.append("torch not installed: its columns are skipped")
    sk = optional("sklearn")
    versions.append(f"scikit-learn {sk.__version__}" if sk else "scikit-learn not installed")
    return [
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- command: `{command.strip()}`",
        f"- minitrain: {minitrain_source(mt)}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; threads used: {threads} "
        "(NumPy's BLAS and torch.set_num_threads)",
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: fewer samples and configs")
    p.add_argument("--configs", help="comma-separated names or fnmatch patterns (see --list)")
    p.add_argument("--list", action="store_true", help="print the configuration names and exit")
    p.add_argument("--samples", type=int, help="data set size (default 60000, --quick 6000)")
    p.add_argument("--rounds", type=int, help="timed rounds per config (default 5, at least 3)")
    p.add_argument("--warmup", type=int, help="samples of the warm-up epoch (default 4096)")
    p.add_argument("--threads", type=int, help="threads of the BLAS and torch (default: BLAS's)")
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
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.warmup = args.warmup or (1024 if args.quick else 4096)
    if args.rounds < 3:
        p.error("--rounds must be at least 3 (the median of fewer is not robust)")
    if args.samples < 2 * max(BATCHES):
        p.error(f"--samples must be at least {2 * max(BATCHES)}")
    return args


QUICK_CONFIGS = "fit-f32-b128,fit-f32-b128-bn,fit-f32-b32,predict-f32,memory-f32,roofline-f32-b128"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configs = all_configs()
    if args.list:
        print("\n".join(c.name for c in configs))
        return
    configs = select(configs, args.configs or (QUICK_CONFIGS if args.quick else None))
    import minitrain as mt

    threads = args.threads
    if threadpoolctl is not None:
        blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        threads = threads or (blas[0]["num_threads"] if blas else os.cpu_count())
        limiter = threadpoolctl.threadpool_limits(limits=threads, user_api="blas")
    else:
        threads = threads or os.cpu_count()
        limiter = contextlib.nullcontext()
    if torch is not None:
        torch.set_num_threads(threads)
    report = Report(lines=[], verdicts=[])
    start = time.perf_counter()
    with limiter:
        mode = "quick smoke run" if args.quick else "full run"
        coretype = os.environ.get("OPENBLAS_CORETYPE")
        mode += f", OPENBLAS_CORETYPE={coretype}" if coretype else ", OPENBLAS_CORETYPE unset"
        report.add(f"# minitrain benchmark ({mode})", "", *environment(mt, threads))
        kinds = ("fit", "predict", "memory", "roofline")
        by_kind = {k: [c for c in configs if c.kind == k] for k in kinds}
        fit_medians: dict = {}
        if by_kind["fit"]:
            fit_medians = run_fit(mt, by_kind["fit"], args, report)
        if by_kind["predict"]:
            run_predict(mt, by_kind["predict"], args, report)
        if by_kind["memory"]:
            run_memory(mt, by_kind["memory"], args, report)
        if by_kind["roofline"]:
            run_roofline(mt, by_kind["roofline"], args, report, fit_medians)
    report.add("", "## targets", "")
    if report.verdicts:
        report.add("| config | against | measured | target | |", "|---|---|---|---|---|")
        for name, other, value, target in report.verdicts:
            ok = "met" if value <= target else "MISSED"
            fmt = f"{value:.0%}" if other == "overhead" else f"{value:.2f}"
            tgt = f"{target:.0%}" if other == "overhead" else f"{target}"
            report.add(f"| {name} | {other} | {fmt} | <= {tgt} | {ok} |")
    else:
        report.add("No configuration with a target was run.")
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
