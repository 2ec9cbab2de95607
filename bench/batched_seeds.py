"""Training several seeds as one batched model, against training one seed alone.

Generates the pipeline's data split in a temporary directory (`python -m stages.generate_data`
with the repo's params.yaml, so it works in a fresh clone), then times prunelab/fit.py's training
on one worker with the default train params of stages/schema.py: one seed (a stack of 1), 5
and 15 seeds as one stack, 15 seeds one after another (15 stacks of 1), and 15 seeds as the
train stage runs them (fit.train: as many per stack as fit its activation
budget). Once at the default hidden width, once at width 16, where stacking pays. Only the
training is timed, not building the initial weights. Each round runs every case once, in the
same order; the report gives medians.

Usage: python bench/batched_seeds.py [--rounds N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

from prunelab import compute, fit, stacks  # noqa: E402
from prunelab.model import as_tensors  # noqa: E402
from stages.artifacts import load_split  # noqa: E402
from stages.schema import SCHEMA, section_keys  # noqa: E402


def generate_split():
    """(x_train, y_train) as tensors, made by the generate-data stage in a temporary directory."""
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(ROOT / "params.yaml", work)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "stages.generate_data"], cwd=work, env=env, check=True)
        return as_tensors(*load_split(Path(work) / "data" / "train.npz"))


def timed_train(weights_list, x, y, epochs, lr, train=fit.train_stack):
    """Seconds to train each stack in turn."""
    start = time.perf_counter()
    for weights in weights_list:
        train(weights, x, y, epochs, lr)
    return time.perf_counter() - start


def measure(x, y, hidden, epochs, lr, rounds):
    """Per case, the seconds of every round."""
    init = lambda seeds: stacks.init_stack(seeds, x.shape[1], hidden)  # noqa: E731
    cases = {
        "1 seed": ([init([0])], fit.train_stack),
        "5 seeds batched": ([init(range(5))], fit.train_stack),
        "15 seeds batched": ([init(range(15))], fit.train_stack),
        "15 seeds one by one": ([init([seed]) for seed in range(15)], fit.train_stack),
        "15 seeds as stage train runs them": ([init(range(15))], fit.train),
    }
    times = {label: [] for label in cases}
    for _ in range(rounds):
        for label, (weights_list, train) in cases.items():
            times[label].append(timed_train(weights_list, x, y, epochs, lr, train))
    return times


def report(times, x, hidden, epochs, lr, rounds):
    medians = {label: statistics.median(values) for label, values in times.items()}
    print(f"training only, median of {rounds} rounds, 1 worker, {os.cpu_count()} cores; "
          f"{len(x)} train samples x {x.shape[1]} features, hidden {hidden}, {epochs} epochs, lr {lr}")
    print("| run | median s | all rounds s |")
    print("|---|---|---|")
    for label, values in times.items():
        print(f"| {label} | {medians[label]:.3f} | {', '.join(f'{v:.3f}' for v in values)} |")
    print(f"15 seeds batched / 1 seed: {medians['15 seeds batched'] / medians['1 seed']:.2f}x")
    print(f"15 seeds one by one / 15 batched: {medians['15 seeds one by one'] / medians['15 seeds batched']:.2f}x")
    print(f"15 seeds as stage train runs them (stacks of {fit.models_per_task(len(x), hidden, fit.ACTIVATION_BUDGET)}) / 1 seed: "
          f"{medians['15 seeds as stage train runs them'] / medians['1 seed']:.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    hidden = section_keys("model")["hidden_sizes"].default[0]
    epochs, lr = SCHEMA["train"]["epochs"].default, SCHEMA["train"]["lr"].default
    compute.setup()
    compute.set_workers(1)  # stacking against one by one, on one core
    x, y = generate_split()
    # A warm-up run: first calls load kernels; keep them out of the rounds.
    timed_train([stacks.init_stack([0], x.shape[1], 4)], x, y, 1, lr)
    for index, width in enumerate((hidden, 16)):
        if index:
            print()
        report(measure(x, y, width, epochs, lr, rounds), x, width, epochs, lr, rounds)


if __name__ == "__main__":
    with record.printed("batched_seeds"):
        main()
