"""Train a minitrain model with PyTorch's DistributedDataParallel, then evaluate it in minitrain.

The model is built and compiled in minitrain, exported to torch in every process
(``minitrain.interop.fit_rank``: ``to_torch``, ``optimizer_to_torch``, DDP over gloo),
trained on each process's shard of the data, and imported back for evaluation with
its loss and metrics, ready to ``save`` or to go on training in minitrain.

One machine, two processes (``torch.multiprocessing.spawn``; the ranks meet on
127.0.0.1 at a free port)::

    python examples/distributed.py --nprocs 2

The same with torchrun, which starts the processes and sets ``RANK``, ``WORLD_SIZE``,
``MASTER_ADDR`` and ``MASTER_PORT`` for each (the script sees them and joins)::

    torchrun --standalone --nproc-per-node 2 examples/distributed.py

Several machines: run the same command on each, pointing at one rendezvous endpoint
(a host every machine can reach, and a free port on it); torchrun's c10d rendezvous
assigns the ranks::

    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d \\
        --rdzv-endpoint node0.example.org:29400 --rdzv-id spirals-1 \\
        examples/distributed.py

(``--nnodes 1:4`` lets machines join elastically; gloo runs on CPUs, NCCL would be
the backend for GPUs.) Every rank builds the same data from the same seed and keeps
its stride ``x[rank::world_size]``; with real data, each rank would read its own shard.

Why minitrain does not ship a distributed layer of its own: distributing training is
not one idea but many (process launch and rendezvous, fault handling, collective
communication over gloo, NCCL or MPI, overlapping the gradient all-reduce with the
backward pass, sharded optimizers), and PyTorch has spent years getting each right.
minitrain's purpose is to show what one training step computes, and to check other
code against it; the DDP arithmetic fits in a sentence (every rank's gradient on its
share of the batch, averaged, is the gradient on the whole batch), and
``tests/interop/test_distributed.py`` checks exactly that against single-process
training. So minitrain hands the model over at the boundary, and takes it back.
"""

from __future__ import annotations

import argparse
import os
import time

import minitrain as mt
from minitrain.data import make_spirals, train_test_split
from minitrain.interop import fit_distributed, fit_rank


def build_model(seed: int = 0) -> mt.Sequential:
    """The minitrain model to train: an MLP on the three spirals."""
    model = mt.Sequential(
        [
            mt.layers.Dense(2, 64, activation="relu", seed=seed),
            mt.layers.Dense(64, 64, activation="relu", seed=seed + 1),
            mt.layers.Dense(64, 3, seed=seed + 2),
        ]
    )
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(seed: int = 0, multiple: int = 1):
    """The same train and test split in every process; the training set trimmed so that
    every rank gets as many samples."""
    x, y = make_spirals(n_per_class=400, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=seed)
    keep = len(x_train) - len(x_train) % multiple
    return (x_train[:keep], y_train[:keep]), (x_test, y_test)


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def main(argv: list[str] | None = None) -> dict[str, float] | None:
    """Train and evaluate; returns the test metrics on rank 0 (None on the other ranks)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nprocs", type=int, default=2, help="processes (without torchrun)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    parser.add_argument("--save", default=None, help="write the trained model to this .npz")
    args = parser.parse_args(argv)
    model = build_model()
    start = time.perf_counter()
    if under_torchrun():
        import torch.distributed as dist

        dist.init_process_group("gloo")  # env:// from torchrun's variables
        rank, world = dist.get_rank(), dist.get_world_size()
        try:
            (x, y), test = data(multiple=world)
            fit_rank(
                model,
                x[rank::world],
                y[rank::world],
                batch_size=args.batch_size // world,
                epochs=args.epochs,
            )
        finally:
            dist.destroy_process_group()
        if rank != 0:
            return None
    else:
        world = args.nprocs
        (x, y), test = data(multiple=world)
        fit_distributed(model, x, y, nprocs=world, batch_size=args.batch_size, epochs=args.epochs)
    logs = model.evaluate(*test, verbose=0, return_dict=True)
    print(
        f"{world} processes, {args.epochs} epochs in {time.perf_counter() - start:.1f} s; "
        "test " + ", ".join(f"{k} {v:.4f}" for k, v in logs.items())
    )
    if args.save:
        model.save(args.save)
    return logs


if __name__ == "__main__":
    main()
