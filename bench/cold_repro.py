"""Cold `dvc repro` with the default params against the pipeline's single-seed one-shot run.

Each round clones the repo's committed HEAD (commit what you want measured) twice into a
temporary directory (so nothing is cached and the working tree is never touched) and deletes
every pipeline output. One clone keeps params.yaml as committed ("defaults"); the other gets
train.repeats 1, prune.methods [global-magnitude], prune.regimes [one-shot] and prune.amounts
the seed's 20 levels (stages.schema.SEED_AMOUNTS), the rest unchanged ("single-seed one-shot").
Each clone then times a cold `dvc repro`, and the defaults clone a no-op `dvc repro` after it.
Last, in both clones, each stage's command runs alone, in dvc.yaml's order, to show where the
time goes: a stage's process start-up, imports and work, without DVC's bookkeeping. Rounds
alternate the order of the two clones; the report gives medians and their ratio.

With --before REV, a third clone checks out an earlier commit REV and runs the defaults there
too ("defaults at REV"): the cold repro and the check-params stage of this commit against
REV's, e.g. before check-params stopped loading torch (the front door's speed).

Usage: python bench/cold_repro.py [--rounds N] [--before REV]
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

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

from stages.schema import SEED_AMOUNTS, read_params  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
DEFAULTS, ONE_SHOT = "defaults", "single-seed one-shot"


def fresh_clone(parent, name, rev=None):
    repo = parent / name
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    if rev:
        subprocess.run(["git", "checkout", "-q", rev], cwd=repo, check=True)
    (repo / "dvc.lock").unlink()
    shutil.rmtree(repo / "metrics")
    return repo


def make_single_seed_one_shot(repo):
    params = read_params(repo / "params.yaml")
    params["train"]["repeats"] = 1
    params["prune"].update(methods=["global-magnitude"], regimes=["one-shot"], amounts=SEED_AMOUNTS)
    text = yaml.safe_dump(params, sort_keys=False, default_flow_style=False)
    (repo / "params.yaml").write_text(text)


def timed(command, repo):
    start = time.perf_counter()
    subprocess.run(command, cwd=repo, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def stage_commands(repo):
    """Each stage's name and command, in dvc.yaml's order (which runs upstream stages first)."""
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return {name: stage["cmd"].split() for name, stage in stages.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also run the defaults at this earlier commit")
    args = parser.parse_args()
    rounds, before = args.rounds, args.before and f"{DEFAULTS} at {args.before}"
    dvc = [str(BIN / "dvc"), "repro"]
    configs = [DEFAULTS, ONE_SHOT] + ([before] if before else [])
    times = {f"dvc repro, {config}": [] for config in configs}
    times[f"no-op dvc repro, {DEFAULTS}"] = []
    stage_times = {config: {} for config in configs}
    with tempfile.TemporaryDirectory() as parent:
        for round_ in range(rounds):
            for config in configs if round_ % 2 == 0 else configs[::-1]:
                repo = fresh_clone(Path(parent), f"{config.replace(' ', '-')}-{round_}",
                                   args.before if config == before else None)
                if config == ONE_SHOT:
                    make_single_seed_one_shot(repo)
                times[f"dvc repro, {config}"].append(timed(dvc, repo))
                if config == DEFAULTS:
                    times[f"no-op dvc repro, {DEFAULTS}"].append(timed(dvc, repo))
                for name, command in stage_commands(repo).items():
                    stage_times[config].setdefault(name, []).append(timed(command, repo))
    medians = {label: statistics.median(values) for label, values in times.items()}
    print(f"cold runs, median of {rounds} rounds, {os.cpu_count()} cores")
    print("| run | median s | all rounds s |")
    print("|---|---|---|")
    for label, values in times.items():
        print(f"| {label} | {medians[label]:.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    ratio = medians[f"dvc repro, {DEFAULTS}"] / medians[f"dvc repro, {ONE_SHOT}"]
    print(f"{DEFAULTS} / {ONE_SHOT}: {ratio:.2f}x")
    stage_medians = {config: {name: statistics.median(values) for name, values in by_stage.items()}
                     for config, by_stage in stage_times.items()}
    if before:
        print(f"cold dvc repro, this commit / {args.before}: "
              f"{medians[f'dvc repro, {DEFAULTS}'] / medians[f'dvc repro, {before}']:.2f}x")
        print(f"check-params alone, this commit / {args.before}: "
              f"{stage_medians[DEFAULTS]['check-params'] / stage_medians[before]['check-params']:.2f}x")
    print()
    print("each stage's command run alone, in order, after the cold repro: median s")
    print(f"| stage | {' | '.join(configs)} |")
    print("|---|" + "---|" * len(configs))
    for name in stage_medians[DEFAULTS]:
        print(f"| {name} | {' | '.join(f'{stage_medians[c].get(name, 0):.2f}' for c in configs)} |")
    print(f"| all stages | {' | '.join(f'{sum(stage_medians[c].values()):.2f}' for c in configs)} |")


if __name__ == "__main__":
    with record.printed("cold_repro-before" if "--before" in " ".join(sys.argv) else "cold_repro"):
        main()
