"""Speed and memory against the machine's limit: the table of docs/scale.md.

The reference is the machine's GEMM rate: torch.mm of two 2048 x 2048 float32 matrices on two
threads, with the machine's own kernels (prunelab's pins undone, in a subprocess). FLOPs are
counted as 6 x samples x weights (weight-matrix entries of all layers) per training epoch and
2 x samples x weights per evaluation, dense: a pruned weight still costs its multiply.

Figures, each measured once, in this one run (--skip-large leaves out 3 and 4):
  1. training, default size, 15 seeds (fit.train, every worker) / reference
  2. stage prune-sweep, every method and regime, 5 seeds (its command's wall time) / reference
  3. training at 1,000,000 x 100, hidden 1024, batch 1024, one seed, one epoch / reference
  4. docs/scale.md's 1,000,000-sample run, stage by stage (wall time, peak RSS); the largest peak
     RSS / (torch's import RSS + 3 x dataset bytes, the two npz files)
  5. on a CUDA GPU only: 15 seeds / 1 seed, training wall time

Stages run as dvc.yaml runs them (`python -m stages.X`) in temporary directories.
Usage: python bench/scale.py [--skip-large]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

import stages  # noqa: E402,F401  (first: it pins the numerics before numpy and torch load)
import torch  # noqa: E402
from prunelab import compute, fit, stacks  # noqa: E402
from prunelab.model import as_tensors  # noqa: E402
from prunelab.numerics import PINNED  # noqa: E402
from prunelab.pruning import METHODS  # noqa: E402
from prunelab.regimes import REGIMES  # noqa: E402
from prunelab.schedules import geometric_rounds  # noqa: E402
from stages.artifacts import load_split  # noqa: E402
from stages import paths  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
GEMM = """
import time, torch
torch.set_num_threads({threads})
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
for _ in range(3): torch.mm(a, b)
start = time.perf_counter()
for _ in range(20): torch.mm(a, b)
print(20 * 2 * 2048 ** 3 / (time.perf_counter() - start))
"""
# docs/scale.md's 1,000,000-sample run: params changed from the defaults.
LARGE = {"data": {"n_samples": 1_000_000, "n_features": 100}, "model": {"hidden_sizes": [1024]},
         "train": {"epochs": 3, "repeats": 1, "batch_size": 1024},
         "prune": {"amounts": [0.5, 0.8, 0.9, 0.95, 0.99], "finetune_epochs": 1}}
LARGE_TOLERANCE = yaml.safe_load((ROOT / "params.yaml").read_text())["prune"]["tolerance"]
STAGES = ("check_params", "generate_data", "train", "prune_sweep", "sensitivity", "plot")


def unpinned(code):
    """Run python code with the machine's own kernels and threads; its stdout as a float."""
    env = {key: value for key, value in ENV.items() if key not in PINNED}
    return float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)


# Runs a module (or code) and writes its peak RSS (the kernel's VmHWM, in kB) to a file at exit.
# Measured inside the process: a child's rusage counts the memory of the process that forked
# it (this one, holding a large dataset) as its own.
PEAK = """
import atexit, runpy, sys
target, out = sys.argv[1], sys.argv[2]
def peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    with open(out, "w") as handle:
        handle.write(kb)
atexit.register(peak)
sys.argv = [target]
runpy.run_module(target, run_name="__main__") if not target.startswith("import ") else exec(target)
"""


def run_stage(stage, work):
    """(wall seconds, peak RSS bytes) of one stage's module, run as dvc.yaml runs it."""
    return run_peak(f"stages.{stage}", work)


def run_peak(target, work):
    peak = Path(work) / ".peak"
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK, target, str(peak)], cwd=work, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"{target} failed in {work}:\n{result.stderr}")
    return elapsed, int(peak.read_text()) * 1024


def workdir(parent, name, changes):
    work = Path(parent) / name
    work.mkdir()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in changes.items():
        params[section].update(values)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return work, params


def weights_of(hidden_sizes, features):
    widths = [features, *hidden_sizes, 1]
    return sum(a * b for a, b in zip(widths, widths[1:]))


def training_rate(work, params, seeds, epochs=None, device="cpu"):
    """(FLOP/s, seconds) of fit.train on the train split of work, as stage train runs it."""
    x, y = as_tensors(*load_split(work / paths.TRAIN_SPLIT))
    settings = params["train"]
    epochs = epochs or settings["epochs"]
    initial = stacks.init_stack(seeds, x.shape[1], params["model"]["hidden_sizes"])
    fit.train(stacks.part(initial, 0, 1), x[:2048], y[:2048], 1, settings["lr"], device=device)  # warm-up
    start = time.perf_counter()
    fit.train(initial, x, y, epochs, settings["lr"], batch_size=settings["batch_size"], order_seeds=seeds,
              device=device)
    elapsed = time.perf_counter() - start
    return 6 * len(x) * weights_of(params["model"]["hidden_sizes"], x.shape[1]) * epochs * len(seeds) / elapsed, elapsed


def sweep_flops(params, train_samples, test_samples, features):
    """Training and evaluation FLOPs of prune-sweep with every method and regime: per method,
    the model-epochs each regime trains (round regimes: the method's rounds, from
    prunelab/schedules.py) and the models it evaluates."""
    prune, train = params["prune"], params["train"]
    widths = [features, *params["model"]["hidden_sizes"], 1]
    weights = weights_of(params["model"]["hidden_sizes"], features)
    seeds = train["repeats"]
    models = seeds * (len([a for a in prune["amounts"] if a != 0]) + 1)
    output_rate = prune["iterative_output_rate"] or prune["iterative_rate"] / 2
    epochs = evaluated = 0
    for name in prune["methods"]:
        method = METHODS[name]
        sizes = [a * b for a, b in zip(widths, widths[1:])] if method.unit == "weights" else widths[1:-1]
        groups, rates = ([sum(sizes)], [prune["iterative_rate"]]) if method.pooled else (
            sizes, [prune["iterative_rate"]] * (len(sizes) - 1) + [output_rate if method.unit == "weights" else prune["iterative_rate"]])
        rounds = len(geometric_rounds(groups, rates, max(prune["amounts"]))) - 1
        per_regime = {"one-shot": (0, 1), "fine-tune": (models * prune["finetune_epochs"], 1),
                      "gradual": (models * prune["gradual_epochs"], 1),
                      "lottery-one-shot": (2 * models * train["epochs"], 2),
                      "iterative": (seeds * rounds * prune["finetune_epochs"], 1),
                      "lr-rewind": (seeds * rounds * train["epochs"], 1),
                      # the dense round 0, each round's ticket, and every round's control in one stack
                      "lottery-ticket": (seeds * (1 + rounds + (rounds + 1)) * train["epochs"], 2)}
        for regime in prune["regimes"]:
            trained, results = per_regime[regime]
            epochs += trained
            level_based = regime in ("one-shot", "fine-tune", "gradual", "lottery-one-shot")
            evaluated += results * (models if level_based else seeds * (rounds + 1))
    return 6 * train_samples * weights * epochs + 2 * test_samples * weights * evaluated


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="leave out the 1,000,000-sample figures")
    large = not parser.parse_args().skip_large
    compute.setup()
    one, two = (unpinned(GEMM.format(threads=threads)) for threads in (1, 2))
    rows = []
    with tempfile.TemporaryDirectory() as parent:
        every = {"prune": {"methods": list(METHODS), "regimes": list(REGIMES)}}
        work, params = workdir(parent, "default", every)
        for stage in STAGES[:3]:
            run_stage(stage, work)
        rate, seconds = training_rate(work, params, list(range(15)))
        rows.append(("training FLOP/s, default size, 15 seeds / two-core GEMM", rate / two, f"{seconds:.2f} s"))
        seconds, _ = run_stage("prune_sweep", work)
        x_train, _ = load_split(work / paths.TRAIN_SPLIT)
        x_test, _ = load_split(work / paths.TEST_SPLIT)
        flops = sweep_flops(params, len(x_train), len(x_test), x_train.shape[1])
        rows.append(("prune-sweep FLOP/s, every method and regime, 5 seeds / two-core GEMM", flops / seconds / two,
                     f"{seconds:.1f} s for {flops / 1e12:.2f} TFLOP"))
        if large:
            work, params = workdir(parent, "large", LARGE)
            stage_rows = []
            for stage in STAGES:
                stage_rows.append((stage.replace("_", "-"), *run_stage(stage, work)))
                if stage == "generate_data":
                    rate, seconds = training_rate(work, params, [0], epochs=1)
                    rows.append(("training FLOP/s at 1,000,000 x 100, hidden 1024, batch 1024 / two-core GEMM",
                                 rate / two, f"one epoch, {seconds:.1f} s"))
            trained = json.loads((work / paths.TRAIN_METRICS).read_text())
            swept = json.loads((work / paths.PRUNE_METRICS).read_text())["global-magnitude"]["fine-tune"]
            _, torch_rss = run_peak("import torch", work)
            dataset = sum((work / path).stat().st_size for path in (paths.TRAIN_SPLIT, paths.TEST_SPLIT))
            peak = max(rss for _, _, rss in stage_rows)
            rows.append(("peak RSS of any stage at that size / (torch import RSS + 3 x dataset bytes)",
                         peak / (torch_rss + 3 * dataset),
                         f"{peak / 2**30:.2f} GiB / ({torch_rss / 2**30:.2f} + 3 x {dataset / 2**30:.2f} GiB)"))
        if not torch.cuda.is_available():
            rows.append(("on a GPU: 15 seeds / 1 seed, training wall time", None, "not measured: torch finds no CUDA GPU"))
        else:
            work, params = workdir(parent, "gpu", {})
            for stage in STAGES[:2]:
                run_stage(stage, work)
            _, many = training_rate(work, params, list(range(15)), device="cuda")
            _, single = training_rate(work, params, [0], device="cuda")
            rows.append(("on a GPU: 15 seeds / 1 seed, training wall time", many / single,
                         f"{many:.2f} s / {single:.2f} s, {torch.cuda.get_device_name()}"))
    print(f"{compute.usable_cores()} cores, {compute.workers()} workers; reference torch.mm 2048^2 float32: "
          f"{two / 1e9:.0f} GFLOP/s on two threads, {one / 1e9:.0f} on one")
    print("| figure | ratio | measured |")
    print("|---|---|---|")
    for label, ratio, detail in rows:
        print(f"| {label} | {'-' if ratio is None else f'{ratio:.2f}'} | {detail} |")
    if large:
        print()
        print(f"the 1,000,000-sample run, params changed from params.yaml: {LARGE}")
        print("| stage | wall s | peak RSS GiB |")
        print("|---|---|---|")
        for stage, seconds, rss in stage_rows:
            print(f"| {stage} | {seconds:.1f} | {rss / 2**30:.2f} |")
        print(f"test accuracy {trained['test_accuracy']}; global-magnitude + fine-tune keeps it within "
              f"{LARGE_TOLERANCE} up to sparsity {swept['max_sparsity_within_tolerance_mean']}")


if __name__ == "__main__":
    with record.printed("scale"):
        main()
