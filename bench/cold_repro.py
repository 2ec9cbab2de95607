"""Cold `dvc repro` against one Python process running the same five stages.

Each round clones the repo's committed HEAD (commit what you want measured) twice into a temporary directory (so nothing is
cached and the working tree is never touched), deletes every pipeline output, then times
`dvc repro` in one clone and a single `python -c` that calls each stage's main() in the
other. Rounds alternate the order; the report gives medians and their ratio, and, from
the single process, how much of each stage is importing and how much is its main().

Usage: python bench/cold_repro.py [--rounds N]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
STAGES = ["check_params", "generate_data", "train", "prune_sweep", "plot"]
# Times each stage's import and main() inside the one process; prints them as JSON.
SINGLE = f"""
import importlib, json, time
times = {{}}
for name in {STAGES!r}:
    start = time.perf_counter()
    module = importlib.import_module("stages." + name)
    imported = time.perf_counter()
    module.main()
    times[name] = [imported - start, time.perf_counter() - imported]
print(json.dumps(times))
"""


def fresh_clone(parent, name):
    repo = parent / name
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    (repo / "dvc.lock").unlink()
    shutil.rmtree(repo / "metrics")
    return repo


def timed(command, repo):
    start = time.perf_counter()
    result = subprocess.run(command, cwd=repo, env=ENV, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    times = {"dvc repro": [], "single process": [], "no-op dvc repro": []}
    stage_times = {name: ([], []) for name in STAGES}
    with tempfile.TemporaryDirectory() as parent:
        for round_ in range(rounds):
            runs = [("dvc repro", [str(BIN / "dvc"), "repro"]), ("single process", [sys.executable, "-c", SINGLE])]
            for label, command in runs if round_ % 2 == 0 else runs[::-1]:
                repo = fresh_clone(Path(parent), f"{label.replace(' ', '-')}-{round_}")
                seconds, output = timed(command, repo)
                times[label].append(seconds)
                if label == "dvc repro":
                    times["no-op dvc repro"].append(timed(command, repo)[0])
                else:
                    for name, (imports, work) in json.loads(output).items():
                        stage_times[name][0].append(imports)
                        stage_times[name][1].append(work)
    medians = {label: statistics.median(values) for label, values in times.items()}
    print(f"cold runs, median of {rounds} rounds, {os.cpu_count()} cores")
    print("| run | median s | all rounds s |")
    print("|---|---|---|")
    for label, values in times.items():
        print(f"| {label} | {medians[label]:.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print(f"cold dvc repro / single process: {medians['dvc repro'] / medians['single process']:.2f}x")
    print()
    print("inside the single process, median seconds (imports count once, in the first stage needing them)")
    print("| stage | importing | main() |")
    print("|---|---|---|")
    for name, (imports, work) in stage_times.items():
        print(f"| {name} | {statistics.median(imports):.3f} | {statistics.median(work):.3f} |")


if __name__ == "__main__":
    main()
