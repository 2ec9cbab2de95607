"""What pinned convolutions cost: LeNet-5 trained by prunelab.autograd_fit (its convolutions and
linear layers prunelab.pinned_layers', the same bytes on every machine and core count) against
a plain torch loop of the same model (nn.Conv2d and nn.Linear, autograd, torch.optim.Adam), in
the same run: the block in docs/architectures.md (Training a non-MLP architecture).

One seed, one epoch of 2,048 synthetic 1x28x28 images (Fashion-MNIST's shape; the values do not
change the time) in minibatches of 128, 10 classes. Each round times, in this order, autograd_fit
with 1 and with 2 prunelab workers (PRUNELAB_WORKERS; torch single-threaded, as in a stage) and
the plain loop with torch on 1 and 2 threads; the report gives the medians and two ratios.

Usage: python bench/conv.py [--rounds N]
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

import stages  # noqa: E402,F401  (the pins, before torch loads, as in every stage)
import torch  # noqa: E402
from torch import nn  # noqa: E402

from prunelab import autograd_fit, compute, fit  # noqa: E402
from prunelab.architectures import ARCHITECTURES  # noqa: E402

SAMPLES, BATCH, CLASSES, SHAPE = 2048, 128, 10, (1, 28, 28)


def data():
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(SAMPLES, *SHAPE, generator=generator),
            torch.randint(0, CLASSES, (SAMPLES, 1), generator=generator).float())


def lenet5():
    torch.manual_seed(0)
    return ARCHITECTURES["lenet5"].build(SHAPE, CLASSES)


def pinned_epoch(x, y, workers):
    compute.set_workers(workers)  # also torch to one thread
    autograd_fit.train(lenet5(), x, y, 1, 0.001, batch_size=BATCH, order_seed=0)


def plain_epoch(x, y, threads):
    module = lenet5()
    torch.set_num_threads(threads)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.001)
    for rows in fit.batches(SAMPLES, BATCH, [0], 1):
        loss = nn.functional.cross_entropy(module(x[rows[0]]), y[rows[0]].view(-1).long())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    x, y = data()
    runs = {"autograd_fit, pinned, 1 worker": lambda: pinned_epoch(x, y, 1),
            "autograd_fit, pinned, 2 workers": lambda: pinned_epoch(x, y, 2),
            "plain torch loop, 1 thread": lambda: plain_epoch(x, y, 1),
            "plain torch loop, 2 threads": lambda: plain_epoch(x, y, 2)}
    for call in runs.values():  # untimed: first calls load kernels and grow the allocator
        call()
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, call in runs.items():
            times[name].append(seconds(call))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"LeNet-5, one epoch of {SAMPLES:,} 1x28x28 images at batch {BATCH}, one seed, median of {rounds} rounds, "
          f"{len(os.sched_getaffinity(0))} cores; torch {torch.__version__}")
    print("| run | median s | all rounds s |")
    print("|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {medians[name]:.3f} | {', '.join(f'{value:.3f}' for value in values)} |")
    for ours, theirs in (("1 worker", "1 thread"), ("2 workers", "2 threads")):
        ratio = medians[f"autograd_fit, pinned, {ours}"] / medians[f"plain torch loop, {theirs}"]
        print(f"pinned, {ours} / plain torch, {theirs}: {ratio:.2f}x")


if __name__ == "__main__":
    with record.printed("conv"):
        main()
