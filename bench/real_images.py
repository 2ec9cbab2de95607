"""LeNet-300-100 on Fashion-MNIST at its real size: the table of docs/real-images.md (Speed).

Figures, each measured once, in this one run:
  1. training at 60,000 x 784, hidden [300, 100], the study's batch (256) with one seed and
     with the study's three trained together, and batch 1024 with one seed, one epoch
     (fit.train) / the two-core GEMM reference of bench/scale.py
  2. peak RSS of generate-data on the whole set / (torch's import RSS + 3 x dataset bytes, the
     two npz files), the budget docs/scale.md set
  3. the study of docs/real-images.md reduced to a tenth of the training images
     (data.limit_train 6000, all 10,000 test images) and one seed, stage by stage (wall time);
     its training scales linearly (steps per epoch follow the samples at a fixed batch), so
     the full study's training costs about 10 x this per seed

Stages run as dvc.yaml runs them (`python -m stages.X`) in a temporary directory whose
datasets/fashion-mnist links to the system copy (Debian's dataset-fashion-mnist).
Usage: python bench/real_images.py [--data FOLDER]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

import stages  # noqa: E402,F401  (first: it pins the numerics before numpy and torch load)
from bench.scale import GEMM, run_peak, run_stage, unpinned  # noqa: E402
from prunelab import compute, fit, stacks  # noqa: E402
from prunelab.model import as_tensors  # noqa: E402
from prunelab.shapes import weight_count  # noqa: E402
from stages import paths  # noqa: E402
from stages.artifacts import load_split  # noqa: E402

SYSTEM = "/usr/share/datasets/fashion-mnist"
HIDDEN = [300, 100]
# docs/real-images.md's study: the data, model and train sections, then its two prune-sweeps.
STUDY = {"data": {"source": "idx", "path": "datasets/fashion-mnist", "random_state": 42, "standardize": False},
         "model": {"hidden_sizes": HIDDEN},
         "train": {"epochs": 12, "lr": 0.001, "repeats": 1, "batch_size": 256}}
SWEEPS = {
    "imp": {"methods": ["layerwise-magnitude"], "regimes": ["lottery-ticket", "gradual"],
            "amounts": [0.5, 0.8, 0.9, 0.93], "iterative_output_rate": 0.1, "gradual_epochs": 5,
            "gradual_every": 25, "finetune_lr": 0.001},
    "methods": {"methods": ["global-magnitude", "layerwise-magnitude", "global-random", "layerwise-random",
                            "structured", "lamp", "global-gradient", "layerwise-gradient", "erk-random"],
                "regimes": ["one-shot", "fine-tune"], "amounts": [0.5, 0.8, 0.9, 0.917, 0.95],
                "finetune_epochs": 2, "finetune_lr": 0.001},
}
REDUCED = 6000


def write_params(work, data=None, prune=None):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"] = {**STUDY["data"], **(data or {})}
    params["model"], params["train"] = STUDY["model"], {**params["train"], **STUDY["train"]}
    params["prune"].update(prune or {})
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return params


def workdir(parent, name, folder):
    work = Path(parent) / name
    (work / "datasets").mkdir(parents=True)
    os.symlink(folder, work / "datasets/fashion-mnist")
    return work


def training_rate(work, batch_size, seeds):
    """(FLOP/s, seconds) of one epoch of the seeds' models trained together, as stage train runs them."""
    x, y = as_tensors(*load_split(work / paths.TRAIN_SPLIT))
    initial = stacks.init_stack(seeds, x.shape[1], HIDDEN, 10)
    fit.train(initial, x[:2048], y[:2048], 1, 0.001, batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    fit.train(initial, x, y, 1, 0.001, batch_size=batch_size, order_seeds=seeds)
    elapsed = time.perf_counter() - start
    return 6 * len(x) * weight_count([x.shape[1], *HIDDEN, 10])[0] * len(seeds) / elapsed, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=SYSTEM, help="the folder of the four Fashion-MNIST (or MNIST) IDX files")
    folder = parser.parse_args().data
    if not os.path.isdir(folder):
        raise SystemExit(f"{folder}: missing; expected the IDX files (Debian: apt-get install dataset-fashion-mnist)")
    compute.setup()
    two = unpinned(GEMM.format(threads=2))
    rows = []
    with tempfile.TemporaryDirectory() as parent:
        work = workdir(parent, "full", folder)
        write_params(work)
        run_stage("check_params", work)
        _, peak = run_stage("generate_data", work)
        # One seed alone, and the study's three trained together (the stack feeds both cores:
        # a 256-row minibatch's forward product is a single tile, compute.ROWS).
        for batch_size, seeds in ((256, [0]), (256, [0, 1, 2]), (1024, [0])):
            rate, seconds = training_rate(work, batch_size, seeds)
            rows.append((f"training FLOP/s at 60,000 x 784, [300, 100], batch {batch_size}, {len(seeds)} seed"
                         f"{'s' if len(seeds) > 1 else ''} / two-core GEMM", rate / two, f"one epoch, {seconds:.1f} s"))
        _, torch_rss = run_peak("import torch", work)
        dataset = sum((work / path).stat().st_size for path in (paths.TRAIN_SPLIT, paths.TEST_SPLIT))
        rows.append(("peak RSS of generate-data, whole set / (torch import RSS + 3 x dataset bytes)",
                     peak / (torch_rss + 3 * dataset),
                     f"{peak / 2**30:.2f} GiB / ({torch_rss / 2**30:.2f} + 3 x {dataset / 2**30:.2f} GiB)"))
        reduced = workdir(parent, "reduced", folder)
        stage_rows = []
        write_params(reduced, {"limit_train": REDUCED}, SWEEPS["imp"])
        for stage in ("check_params", "generate_data", "train", "prune_sweep"):
            stage_rows.append((stage.replace("_", "-") + (" (imp)" if stage == "prune_sweep" else ""),
                               run_stage(stage, reduced)[0]))
        write_params(reduced, {"limit_train": REDUCED}, SWEEPS["methods"])
        for stage in ("prune_sweep", "sensitivity", "plot"):
            stage_rows.append((stage.replace("_", "-") + (" (methods)" if stage == "prune_sweep" else ""),
                               run_stage(stage, reduced)[0]))
    print(f"{compute.usable_cores()} cores, {compute.workers()} workers; reference torch.mm 2048^2 float32: "
          f"{two / 1e9:.0f} GFLOP/s on two threads")
    print("| figure | ratio | measured |")
    print("|---|---|---|")
    for label, ratio, detail in rows:
        print(f"| {label} | {ratio:.2f} | {detail} |")
    print()
    print(f"the study reduced to data.limit_train {REDUCED} (of 60,000), one seed: {STUDY}, prune-sweeps {SWEEPS}")
    print("| stage | wall s |")
    print("|---|---|")
    for stage, seconds in stage_rows:
        print(f"| {stage} | {seconds:.1f} |")
    print(f"| all | {sum(seconds for _, seconds in stage_rows):.1f} |")


if __name__ == "__main__":
    with record.printed("real_images"):
        main()
