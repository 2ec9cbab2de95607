"""A study on Slurm, measured in one run on a real one-node cluster started here (as root;
tests/slurm.py: 2 CPUs), with a bare git repository as origin and a local DVC remote:

1. A job's overhead against its compute for the default study: the baseline reproduced and
   pushed to the DVC remote (as a team would), then one point of it, torch seed 1
   (`--grid train.seed=1`: train and what follows rerun, generate-data's outputs are pulled),
   as one job with all the node's CPUs. Its log says how long each step took (study/job.py):
   clone and checkout, the experiment (`dvc exp run --pull`: the pull and the stages'
   compute), `dvc push`, `dvc exp push`. (A point equal to the commit computes nothing:
   `--allow-missing` skips stages whose only change is missing data.)
2. The wall time of an 8-point grid (`data.n_features` 6..13, the study tests' small params,
   tests/study/conftest.py's TINY) from `run` to every point done and pulled, with
   2 CPUs per job (one slot: one job at a time) against 1 CPU per job (two slots).

The clone of the committed HEAD gets the small params committed on top for part 2 only.
Usage: python bench/slurm_study.py [--skip-default | --skip-grid]   (the venv first on PATH; root)
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.slurm import Cluster, absent_parts  # noqa: E402
from tests.study.conftest import TINY  # noqa: E402

ENV = {"DVC_NO_ANALYTICS": "1", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin:/usr/sbin:/sbin",
       "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@prunelab.invalid",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@prunelab.invalid"}
TOOK = re.compile(r"took ([0-9.]+) s: (.+)")


def sh(cwd, *args, env=None):
    return subprocess.run(args, cwd=cwd, env={**ENV, **(env or {})}, check=True, capture_output=True, text=True)


def team(parent):
    repo, origin = parent / "repo", parent / "origin.git"
    sh(parent, "git", "clone", "-q", str(ROOT), str(repo))
    sh(parent, "git", "init", "-q", "--bare", str(origin))
    sh(repo, "git", "remote", "set-url", "origin", str(origin))
    sh(repo, "dvc", "remote", "add", "-d", "team", str(parent / "dvc-remote"))
    sh(repo, "git", "commit", "-qam", "the team's DVC remote")
    sh(repo, "git", "push", "-q", "origin", "HEAD:main")
    return repo


def study(repo, cluster, name, grid, cpus):
    """Run a grid on Slurm to the end; (wall seconds, {step: seconds} summed over the jobs)."""
    start = time.perf_counter()
    sh(repo, sys.executable, "-m", "study", "run", name, *[a for g in grid for a in ("--grid", g)],
       "--on", "slurm", "--cpus", str(cpus), "--timeout", "7200", env=cluster.env)
    wall = time.perf_counter() - start
    steps = {}
    for log in (repo / ".dvc/tmp/study" / name).glob("*_log.out"):
        for seconds, step in TOOK.findall(log.read_text()):
            steps[step] = steps.get(step, 0) + float(seconds)
    return wall, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-default", action="store_true", help="only part 2")
    parser.add_argument("--skip-grid", action="store_true", help="only part 1")
    args = parser.parse_args()
    if absent_parts():
        sys.exit(f"error: a Slurm cluster: {absent_parts()}")
    with tempfile.TemporaryDirectory(prefix="bench-slurm-") as tmp:
        cluster = Cluster(Path(tmp) / "slurm", cpus=2)
        try:
            cluster.start()
            repo = team(Path(tmp))
            results = {}
            if not args.skip_default:
                sh(repo, "dvc", "repro")
                sh(repo, "dvc", "push")
                wall, steps = study(repo, cluster, "default", ["train.seed=1"], 2)
                results["default study, point train.seed=1, 2 CPUs"] = {
                    "wall_s": round(wall, 1), **{k: round(v, 1) for k, v in steps.items()}}
            if args.skip_grid:
                print(json.dumps(results, indent=1))
                return
            params = yaml.safe_load((repo / "params.yaml").read_text())
            for section, values in TINY.items():
                params[section].update(values)
            (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            sh(repo, "git", "commit", "-qam", "small params")
            sh(repo, "git", "push", "-q", "origin", "HEAD:main")
            for name, cpus in (("one-slot", 2), ("two-slots", 1)):
                wall, steps = study(repo, cluster, name, ["data.n_features=6,7,8,9,10,11,12,13"], cpus)
                results[f"8 points, {cpus} CPU(s) per job"] = {"wall_s": round(wall, 1),
                                                               **{k: round(v, 1) for k, v in steps.items()}}
            one, two = (results[f"8 points, {c} CPU(s) per job"]["wall_s"] for c in (2, 1))
            results["8 points: one slot / two slots"] = round(one / two, 2)
        finally:
            cluster.stop()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
