"""What the pinned numerics cost: the computing stages with prunelab/numerics.py's pins against
the same stages with the machine's own choices (every pinned variable put back to the caller's
environment before numpy and torch load).

Clones the repo's committed HEAD into a temporary directory, runs check-params and
generate-data once, then times each computing stage's command (`python -m stages.X`, as
dvc.yaml runs it) in both modes. Each round runs both modes, alternating which goes first;
the report gives medians and the ratio pinned / unpinned, measured in this one run.

Usage: python bench/pinned_numerics.py [--rounds N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

from prunelab.numerics import PINNED  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": "."}
STAGES = ("train", "prune_sweep", "sensitivity")
# Runs a stage module with the pins undone: `import stages` sets them, this puts the caller's
# values back before the stage imports numpy or torch.
UNPINNED = """
import os, runpy, sys
outer = {key: os.environ.get(key) for key in %r}
import stages
for key, value in outer.items():
    os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
sys.argv = [sys.argv[1]]
runpy.run_module(sys.argv[0], run_name="__main__")
"""


def command(stage, mode):
    module = f"stages.{stage}"
    return [sys.executable, "-m", module] if mode == "pinned" else [sys.executable, "-c", UNPINNED % (list(PINNED),),
                                                                    module]


def timed(args, repo):
    start = time.perf_counter()
    subprocess.run(args, cwd=repo, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    times = {(mode, stage): [] for mode in ("pinned", "unpinned") for stage in STAGES}
    with tempfile.TemporaryDirectory() as parent:
        repo = Path(parent) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        for stage in ("check_params", "generate_data"):
            timed([sys.executable, "-m", f"stages.{stage}"], repo)
        for round_ in range(rounds):
            for mode in ("pinned", "unpinned") if round_ % 2 == 0 else ("unpinned", "pinned"):
                for stage in STAGES:  # in order: each stage reads what the one before wrote
                    times[mode, stage].append(timed(command(stage, mode), repo))
    medians = {key: statistics.median(values) for key, values in times.items()}
    print(f"computing stages, median of {rounds} rounds, {os.cpu_count()} cores, default params")
    print("| stage | pinned s | unpinned s | pinned / unpinned |")
    print("|---|---|---|---|")
    for stage in STAGES:
        pinned, unpinned = medians["pinned", stage], medians["unpinned", stage]
        print(f"| {stage.replace('_', '-')} | {pinned:.2f} | {unpinned:.2f} | {pinned / unpinned:.2f}x |")
    total = {mode: sum(medians[mode, stage] for stage in STAGES) for mode in ("pinned", "unpinned")}
    print(f"| all three | {total['pinned']:.2f} | {total['unpinned']:.2f} | {total['pinned'] / total['unpinned']:.2f}x |")
    print(f"pinned / unpinned: {total['pinned'] / total['unpinned']:.2f}x")


if __name__ == "__main__":
    with record.printed("pinned_numerics"):
        main()
