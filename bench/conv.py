"""What pinned convolutions cost: LeNet-5 trained by prunelab.autograd_fit (its convolutions and
linear layers prunelab.pinned_layers', the same bytes on every machine and core count) against
a plain torch loop of the same model (nn.Conv2d and nn.Linear, autograd, torch.optim.Adam, one
seed at a time), in the same run: the block in docs/architectures.md (Training a non-MLP
architecture).

One epoch of 2,048 synthetic 1x28x28 images (Fashion-MNIST's shape; the values do not change the
time) in minibatches of 128, 10 classes, per seed. Each round times, in this order: autograd_fit,
one seed, with 1 and 2 prunelab workers (PRUNELAB_WORKERS; torch single-threaded, as in a
stage); the plain loop, one seed, torch on 1 and 2 threads; three seeds together
(autograd_fit.train_seeds, 2 workers); the plain loop's three seeds one after another on 2
threads. The report gives the medians, the ratios, and each median's rate against the two-core
GEMM reference of bench/scale.py (torch.mm 2048^2 on two threads, the machine's own kernels;
FLOPs counted as 6 x samples x multiply-adds per training epoch, LeNet-5's 2,293,000 a sample).

Usage: python bench/conv.py [--rounds N]
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

import stages  # noqa: E402,F401  (the pins, before torch loads, as in every stage)
import torch  # noqa: E402
from torch import nn  # noqa: E402

from bench.scale import GEMM, unpinned  # noqa: E402
from prunelab import autograd_fit, compute, fit  # noqa: E402
from prunelab.architectures import ARCHITECTURES  # noqa: E402

SAMPLES, BATCH, CLASSES, SHAPE, SEEDS = 2048, 128, 10, (1, 28, 28), (0, 1, 2)


def data():
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(SAMPLES, *SHAPE, generator=generator),
            torch.randint(0, CLASSES, (SAMPLES, 1), generator=generator).float())


def lenet5(seed=0):
    torch.manual_seed(seed)
    return ARCHITECTURES["lenet5"].build(SHAPE, CLASSES)


def pinned_epoch(x, y, workers):
    compute.set_workers(workers)  # also torch to one thread
    autograd_fit.train(lenet5(), x, y, 1, 0.001, batch_size=BATCH, order_seed=0)


def pinned_seeds(x, y):
    compute.set_workers(2)
    autograd_fit.train_seeds([lenet5(seed) for seed in SEEDS], x, y, 1, 0.001, list(SEEDS), batch_size=BATCH)


def plain_epoch(x, y, threads, seed=0):
    module = lenet5(seed)
    torch.set_num_threads(threads)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.001)
    for rows in fit.batches(SAMPLES, BATCH, [seed], 1):
        loss = nn.functional.cross_entropy(module(x[rows[0]]), y[rows[0]].view(-1).long())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    x, y = data()
    runs = {"autograd_fit, pinned, 1 worker": lambda: pinned_epoch(x, y, 1),
            "autograd_fit, pinned, 2 workers": lambda: pinned_epoch(x, y, 2),
            "plain torch loop, 1 thread": lambda: plain_epoch(x, y, 1),
            "plain torch loop, 2 threads": lambda: plain_epoch(x, y, 2),
            "autograd_fit, 3 seeds together, 2 workers": lambda: pinned_seeds(x, y),
            "plain torch loop, 3 seeds one by one, 2 threads": lambda: [plain_epoch(x, y, 2, seed) for seed in SEEDS]}
    for call in runs.values():  # untimed: first calls load kernels and grow the allocator
        call()
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, call in runs.items():
            times[name].append(record.seconds(call))
    medians = {name: statistics.median(values) for name, values in times.items()}
    two = unpinned(GEMM.format(threads=2))
    flops = 6 * SAMPLES * sum(ARCHITECTURES["lenet5"].multiply_adds(lenet5(), SHAPE).values())
    print(f"LeNet-5, one epoch of {SAMPLES:,} 1x28x28 images at batch {BATCH} per seed, median of {rounds} rounds, "
          f"{len(os.sched_getaffinity(0))} cores; torch {torch.__version__}; two-core GEMM reference {two / 1e9:.1f} GFLOP/s")
    print("| run | median s | all rounds s | of two-core GEMM |")
    print("|---|---|---|---|")
    for name, values in times.items():
        seeds = len(SEEDS) if "3 seeds" in name else 1
        print(f"| {name} | {medians[name]:.3f} | {', '.join(f'{value:.3f}' for value in values)} "
              f"| {seeds * flops / medians[name] / two:.3f} |")
    for ours, theirs in (("autograd_fit, pinned, 1 worker", "plain torch loop, 1 thread"),
                         ("autograd_fit, pinned, 2 workers", "plain torch loop, 2 threads"),
                         ("autograd_fit, 3 seeds together, 2 workers", "plain torch loop, 3 seeds one by one, 2 threads")):
        print(f"{theirs} / {ours}: {medians[theirs] / medians[ours]:.2f}x")


if __name__ == "__main__":
    with record.printed("conv"):
        main()
