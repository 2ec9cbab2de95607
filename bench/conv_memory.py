"""Peak memory of a Fashion-MNIST LeNet-5 run: each computing stage's peak resident set, against
the issue's goal of 2 GB (10**9 bytes each).

The full 60,000 training and 10,000 test images (the Debian package dataset-fashion-mnist,
`make system`), model.arch lenet5 at train.batch_size 128, with fewer epochs, seeds and levels
than a study (memory follows the data, the batch and the models held, not the epochs): every
stage runs as `dvc repro` runs it, `python -m stages.NAME`, in a copy of this repository's
tracked files, and its peak is the child's ru_maxrss (os.wait4). Run: `python bench/conv_memory.py`.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import record

ROOT = Path(__file__).resolve().parent.parent
FASHION = Path("/usr/share/datasets/fashion-mnist")
STAGES = ("check_params", "generate_data", "train", "prune_sweep", "sensitivity")
GOAL = 2 * 10**9
SETTINGS = {"train": {"epochs": 1, "repeats": 2, "batch_size": 128},
            "prune": {"amounts": [0.5, 0.9], "methods": ["global-magnitude"], "regimes": ["one-shot"]},
            "sensitivity": {"amounts": [0.5]}}


def copy_of_repository(folder: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    shutil.copytree(FASHION, folder / "datasets/fashion")
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params["data"] = {"source": "idx", "path": "datasets/fashion", "random_state": 42, "standardize": False}
    params["model"]["arch"] = "lenet5"
    for section, values in SETTINGS.items():
        params[section].update(values)
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def peak(folder: Path, stage: str) -> tuple[float, int]:
    """(seconds, peak resident bytes) of one stage run in its own process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", f"stages.{stage}"], cwd=folder)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"stages.{stage} exited {child.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss * 1024  # KiB on Linux


def main():
    if not FASHION.is_dir():
        raise SystemExit(f"no {FASHION}: `make system` installs dataset-fashion-mnist")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        copy_of_repository(folder)
        print("LeNet-5 on Fashion-MNIST (60,000 + 10,000 images of 1x28x28), train.batch_size 128, "
              f"{SETTINGS['train']['repeats']} seeds, 1 epoch, global-magnitude one-shot at 2 levels:")
        print(f"{'stage':<14} {'seconds':>8} {'peak MB':>8} {'of 2 GB':>8}")
        for stage in STAGES:
            seconds, size = peak(folder, stage)
            print(f"{stage:<14} {seconds:8.1f} {size / 1e6:8.0f} {size / GOAL:8.2f}")


if __name__ == "__main__":
    with record.printed("conv_memory"):
        main()
