"""Where one training step of minitrain spends its time, part by part.

The step of ``MLP([784, 256, 256, 10])`` (``--batchnorm``: with BatchNorm) trained
by ``fit`` with SGD (momentum 0.9), sparse categorical crossentropy and accuracy,
at batch 128 on one BLAS thread by default. Every row times the package's own
function, two ways::

    in fit   the function wrapped with a timer inside real ``fit`` epochs: the
             arrays, the caches and the order of calls are the step's own (a
             function that follows a large matrix product finds its inputs
             evicted from the caches, which isolated timing hides);
    alone    the same function called again and again on the arrays it saw in
             that step (warm caches): what it costs by itself.

Each cell is the median over steps (in fit) or over repeats (alone), in
microseconds per step. The GEMM rows are the step's matrix products alone, into
preallocated outputs; "Dense beyond its GEMMs" is Dense's time less those
products (the bias add, the bias gradient and the cache). "rest of the loop" is
the fit step (epoch time / steps, timed without the wrappers) less every row in
fit: callbacks, the loss tracker, Python overhead.

    python benchmarks/profile_step.py                 # both nets, batch 128, 1 thread
    python benchmarks/profile_step.py --threads 2 --batch 512 --net plain
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

SIZES = [784, 256, 256, 10]
CLOCK = time.perf_counter  # --clock cpu: time.process_time, blind to other processes


def data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's data: Gaussian inputs, labels from a fixed linear teacher."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]), dtype=np.float32)
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


def build(mt: Any, batchnorm: bool) -> Any:
    model = mt.MLP(SIZES, batchnorm=batchnorm, seed=0)
    model.compile(
        mt.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


# ----------------------------------------------------------------- timing in fit


class Recorder:
    """Per-step sums of wrapped calls: ``times[row]`` gets one total per step."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.steps: list[dict[str, float]] = []
        self.on = False

    def wrap(self, row: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = CLOCK()
            out = fn(*args, **kwargs)
            self.current[row] += CLOCK() - t0
            return out

        return timed

    def end_step(self) -> None:
        if self.on:
            self.steps.append(dict(self.current))
        self.current.clear()

    def median(self, row: str) -> float:
        return statistics.median(s.get(row, 0.0) for s in self.steps)


def layer_rows(model: Any) -> list[tuple[int, str]]:
    """``(index, "<i> <Class>")`` for every layer."""
    return [(i, f"{i} {type(layer).__name__}") for i, layer in enumerate(model.layers)]


@contextlib.contextmanager
def instrumented(model: Any, rec: Recorder) -> Iterator[None]:
    """Wrap every part of the step with ``rec``'s timers (on the instances; the batch
    gather on its class, put back afterwards)."""
    from minitrain.data import dataset

    for i, name in layer_rows(model):
        layer = model.layers[i]
        layer.forward = rec.wrap(f"{name} forward", layer.forward)
        layer.backward = rec.wrap(f"{name} backward", layer.backward)
    opt = model.optimizer
    timed = {id(p): rec.wrap(f"update {key}", opt._update) for key, p, _ in model._param_slots()}

    def per_param(p: np.ndarray, *args: Any) -> None:
        timed[id(p)](p, *args)

    opt._update = per_param
    opt.step = rec.wrap("optimizer step (all)", opt.step)
    model.loss.value_and_gradient = rec.wrap(
        "loss value and gradient", model.loss.value_and_gradient
    )
    for m in model.metrics:
        m.update_state = rec.wrap(f"metric {m.name} update", m.update_state)
    step = model._train_step

    def train_step(*args: Any) -> Any:
        rec.end_step()  # the previous step (and its metrics) is complete here
        return step(*args)

    model._train_step = train_step
    original = dataset.ArrayAdapter.next_batch
    dataset.ArrayAdapter.next_batch = rec.wrap("batch gather", original)
    try:
        yield
    finally:
        dataset.ArrayAdapter.next_batch = original


def fit_step_time(mt: Any, batchnorm: bool, x: np.ndarray, y: np.ndarray, batch: int) -> float:
    """Seconds per step of a plain (unwrapped) ``fit`` epoch."""
    model = build(mt, batchnorm)
    t0 = CLOCK()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return (CLOCK() - t0) / -(-len(x) // batch)


# -------------------------------------------------------------- timing alone


def per_call(fn: Callable[[], Any], repeat: int, budget: float = 2e-3) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` groups of calls, each group
    sized to take about ``budget`` seconds."""
    fn()
    t0 = CLOCK()
    fn()
    number = max(1, int(budget / max(CLOCK() - t0, 1e-7)))
    groups = []
    for _ in range(repeat):
        t0 = CLOCK()
        for _ in range(number):
            fn()
        groups.append((CLOCK() - t0) / number)
    return statistics.median(groups)


def gemm_times(batch: int, repeat: int) -> dict[str, float]:
    """The step's matrix products alone: forward ``a @ W`` per layer; backward ``a.T @ g``
    per layer and ``g @ W.T`` for all but the first (whose input is data)."""
    rng = np.random.default_rng(0)

    def arr(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    out: dict[str, float] = {}
    fwd = bwd = 0.0
    for k, (i, o) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        a, w, g = arr(batch, i), arr(i, o), arr(batch, o)
        z, dw, da = np.empty((batch, o), np.float32), np.empty_like(w), np.empty_like(a)
        fwd += per_call(lambda a=a, w=w, z=z: np.matmul(a, w, out=z), repeat)
        bwd += per_call(lambda a=a, g=g, dw=dw: np.matmul(a.T, g, out=dw), repeat)
        if k > 0:
            bwd += per_call(lambda g=g, w=w, da=da: np.matmul(g, w.T, out=da), repeat)
    out["GEMM forward (3)"], out["GEMM backward (5)"] = fwd, bwd
    return out


def alone_times(model: Any, x: np.ndarray, y: np.ndarray, batch: int, repeat: int) -> dict:
    """Each part of one step, called alone on that step's own arrays."""
    from minitrain.data import dataset

    out: dict[str, float] = {}
    adapter = dataset.ArrayAdapter(
        model, x, y, None, batch_size=batch, shuffle=True, class_weight=None, targets=True
    )

    def gather() -> Any:
        if adapter.position >= adapter.num_batches - 1:  # stay on full batches
            adapter.start_pass()
        return adapter.next_batch()

    adapter.start_pass()
    out["batch gather"] = per_call(gather, repeat)
    xb, yb, _ = gather()
    inputs = []
    h = xb
    for layer in model.layers:
        inputs.append(h)
        h = layer.forward(h, True)
    loss = model.loss
    out["loss value and gradient"] = per_call(lambda: loss.value_and_gradient(yb, h), repeat)
    _, grad = loss.value_and_gradient(yb, h)
    for m in model.metrics:
        out[f"metric {m.name} update"] = per_call(lambda m=m: m.update_state(yb, h), repeat)
    first = next(i for i, layer in enumerate(model.layers) if layer.params)
    grads_in = {}
    for i in range(len(model.layers) - 1, first - 1, -1):
        grads_in[i] = grad
        layer = model.layers[i]
        grad = layer.backward(grad, need_input_grad=False) if i == first else layer.backward(grad)
    for i, name in layer_rows(model):
        layer, a = model.layers[i], inputs[i]
        # A forward leaves its cache for the backward timed next; each backward
        # gets the very gradient it saw in the step.
        out[f"{name} forward"] = per_call(lambda layer=layer, a=a: layer.forward(a, True), repeat)
        layer.forward(a, True)
        if i in grads_in:
            g = grads_in[i]
            kw = {"need_input_grad": False} if i == first else {}
            out[f"{name} backward"] = per_call(
                lambda layer=layer, g=g, kw=kw: layer.backward(g, **kw), repeat
            )
    opt = model.optimizer
    lr = opt.learning_rate
    for key, p, g in model._param_slots():
        out[f"update {key}"] = per_call(
            lambda key=key, p=p, g=g: opt._update(p, g, opt._state[key], opt._work[key], lr),
            repeat,
        )
    out["optimizer step (all)"] = per_call(lambda: opt.step(model), repeat)
    return out


# ------------------------------------------------------------------------ table


def summarise(mt: Any, batchnorm: bool, args: argparse.Namespace) -> list[str]:
    x, y = data(args.samples)
    model = build(mt, batchnorm)
    rec = Recorder()
    with instrumented(model, rec):
        model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0)  # warm-up
        rec.on = True
        model.fit(x, y, batch_size=args.batch, epochs=args.epochs, verbose=0)
        rec.end_step()
    step = statistics.median(
        fit_step_time(mt, batchnorm, x, y, args.batch) for _ in range(args.repeat)
    )
    alone_model = build(mt, batchnorm)
    alone_model.fit(x[: 4 * args.batch], y[: 4 * args.batch], batch_size=args.batch, verbose=0)
    alone = alone_times(alone_model, x, y, args.batch, args.repeat)
    gemm = gemm_times(args.batch, args.repeat)
    gemm_total = sum(gemm.values())

    def both(row: str) -> tuple[float, float]:
        return rec.median(row), alone.get(row, 0.0)

    def total(rows: list[str]) -> tuple[float, float]:
        parts = [both(r) for r in rows]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    names = [name for _, name in layer_rows(model)]
    by_kind: dict[str, list[str]] = defaultdict(list)
    for name in names:
        kind = name.split()[1]
        by_kind[kind] += [f"{name} forward", f"{name} backward"]
    dense = total(by_kind.pop("Dense"))
    keys = [k for k, _, _ in model._param_slots()]
    metric_rows = [f"metric {m.name} update" for m in model.metrics]
    table: list[tuple[str, float | None, float | None]] = [
        *((k, None, v) for k, v in gemm.items()),
        ("Dense, all (GEMMs, bias add, bias gradient, cache)", *dense),
        ("Dense beyond its GEMMs", dense[0] - gemm_total, dense[1] - gemm_total),
    ]
    for rows in by_kind.values():
        table += [(r, *both(r)) for r in rows]
    table += [(f"update {k}", *both(f"update {k}")) for k in keys]
    table.append(("optimizer step, all parameters", *both("optimizer step (all)")))
    table += [(r, *both(r)) for r in ("batch gather", "loss value and gradient", *metric_rows)]
    in_fit = (
        dense[0]
        + sum(rec.median(r) for rows in by_kind.values() for r in rows)
        + sum(rec.median(r) for r in ("optimizer step (all)", "batch gather"))
        + sum(rec.median(r) for r in ("loss value and gradient", *metric_rows))
    )
    table.append(("rest of the loop (callbacks, loss tracker, Python)", step - in_fit, None))

    us = 1e6
    first_w = f"update {keys[0]}"
    summary = [
        f"GEMMs {gemm_total * us:,.0f}",
        f"optimizer update {both('optimizer step (all)')[0] * us:,.0f} "
        f"(the first layer's W alone {rec.median(first_w) * us:,.0f})",
    ]
    for kind, rows in by_kind.items():
        for part in ("forward", "backward"):
            t = sum(rec.median(r) for r in rows if r.endswith(part))
            summary.append(f"{kind} {part} {t * us:,.0f}")
    summary += [
        f"Dense beyond its GEMMs {(dense[0] - gemm_total) * us:,.0f}",
        f"batch gather {rec.median('batch gather') * us:,.0f}",
        f"loss value and gradient {rec.median('loss value and gradient') * us:,.0f}",
        *(f"{r.split()[1]} {rec.median(r) * us:,.0f}" for r in metric_rows),
    ]
    title = "BatchNorm" if batchnorm else "plain"
    lines = [
        "",
        f"## {title}: MLP {'-'.join(map(str, SIZES))}{' + BatchNorm' if batchnorm else ''}, "
        f"batch {args.batch}, {args.threads} thread(s), {args.clock} clock",
        "",
        f"fit step {step * us:,.0f} us (median of {args.repeat} unwrapped epochs of "
        f"{args.samples:,} samples); the step's GEMMs alone {gemm_total * us:,.0f} us: "
        f"{step / gemm_total - 1:.0%} beyond the matrix products.",
        "",
        "In fit, us per step: " + "; ".join(summary) + ".",
        "",
        "| part | in fit, us/step | alone, us/step | share of the step (in fit) |",
        "|---|---|---|---|",
    ]

    def cell(v: float | None) -> str:
        return "-" if v is None else f"{v * us:,.1f}"

    for name, fit_time, by_itself in table:
        ref = fit_time if fit_time is not None else by_itself
        share = "-" if ref is None else f"{ref / step:.1%}"
        lines.append(f"| {name} | {cell(fit_time)} | {cell(by_itself)} | {share} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl)")
    p.add_argument("--net", choices=("plain", "batchnorm", "both"), default="both")
    p.add_argument("--samples", type=int, default=16384, help="samples per fit epoch")
    p.add_argument("--epochs", type=int, default=2, help="instrumented epochs")
    p.add_argument("--repeat", type=int, default=7, help="repeats of each timing alone")
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time, or this process's CPU time (steadier on a busy machine, "
        "but blind to waiting and it adds up the threads of a multi-threaded BLAS)",
    )
    args = p.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    import threadpoolctl

    import minitrain as mt

    with threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas"):
        blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        lines = ["# minitrain: one training step, part by part", ""]
        lines += [
            f"- BLAS: {b.get('internal_api')} {b.get('version')}, kernel "
            f"{b.get('architecture')}, {b.get('num_threads')} thread(s)"
            for b in blas
        ]
        print("\n".join(lines), flush=True)
        for batchnorm in {"plain": [False], "batchnorm": [True], "both": [False, True]}[args.net]:
            print("\n".join(summarise(mt, batchnorm, args)), flush=True)


if __name__ == "__main__":
    main()
