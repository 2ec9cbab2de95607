"""A study's experiments: queued, run and read back through DVC (`dvc exp`, `dvc queue`).

Experiments are named STUDY-VALUE (features-10) on the current
commit. `run` reuses a finished experiment of that name whose param has the study's value
(same commit, same params: the pipeline is deterministic), removes failed or unfinished
ones and queues the rest; --force, or uncommitted edits, remove them all first. Every number comes from the
experiments' own outputs: metrics from `dvc exp show --json`, the curves from their commits.
"""
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from prunelab.aggregate import summary_table
from prunelab.numerics import usable_cores
from stages import UserError, paths

# The study definitions: name -> (params key, values). The one place that names the keys.
STUDIES = {
    "features": ("data.n_features", (10, 20, 30)),
    "width": ("model.hidden_sizes", ([16], [64], [256], [1024])),
}
BIN = Path(sys.executable).parent
# Queue workers are `dvc exp queue-worker` found on PATH, and stages run `python -m ...`:
# this venv first on PATH whichever way this module was started.
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1"}
DONE = ("success", "failed")


def sh(*args, env=None):
    """Run a command; env: variables added where the caller's environment leaves them unset.
    Output goes through files, not pipes: `dvc queue start` forks workers that inherit its
    stdout, and reading a pipe to its end would wait for them to finish (the whole queue)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        returncode = subprocess.run(args, env={**(env or {}), **ENV}, stdout=out, stderr=err, text=True).returncode
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if returncode != 0:
        last = (stderr or stdout).strip().splitlines() or [""]
        raise UserError(f"`{' '.join(args)}` exited {returncode}: {last[-1]}")
    return stdout


def dvc(*args, env=None):
    return sh(str(BIN / "dvc"), *args, env=env)


def exp_name(study, value):
    return f"{study}-{'-'.join(map(str, np.atleast_1d(value)))}"


def scalar(value):
    """A param value as a number for the axes: 16 or [16] (one hidden layer) -> 16."""
    return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value


def as_key(value):
    """A value as a dict key: a list of hidden sizes becomes a tuple."""
    return tuple(value) if isinstance(value, list) else value


def as_param(value):
    """A value as params.yaml holds it: a tuple of hidden sizes becomes a list again."""
    return list(value) if isinstance(value, tuple) else value


def param(params, key):
    """The value of a dotted key in parsed params; None where it is missing."""
    for part in key.split("."):
        params = params.get(part) if isinstance(params, dict) else None
    return params


def experiments(shown, baseline):
    """{name: (state, rev, params, prune metrics or None)} of the experiments on `baseline`,
    from the parsed output of `dvc exp show --json`."""
    found = {}
    for commit in shown:
        if commit["rev"] != baseline:
            continue
        for exp in commit.get("experiments") or []:
            rev = exp["revs"][0]
            data = rev.get("data") or {}
            metrics = (data.get("metrics") or {}).get(paths.PRUNE_METRICS, {}).get("data")
            params = (data.get("params") or {}).get("params.yaml", {}).get("data", {})
            state = (exp.get("executor") or {}).get("state", "success")  # no executor: done and kept
            found[exp["name"]] = (state, rev["rev"], params, metrics)
    return found


def head():
    return sh("git", "rev-parse", "HEAD").strip()


def study_experiments(study, values=None):
    """The study's params key and {value: its experiment on this commit, or None}."""
    key, default = STUDIES[study]
    found = experiments(json.loads(dvc("exp", "show", "--json")), head())
    return key, {as_key(value): found.get(exp_name(study, value)) for value in values or default}


def states(study, values):
    return {exp_name(study, value): exp and exp[0] for value, exp in study_experiments(study, values)[1].items()}


def finished_refs(baseline):
    """Names of the experiments on `baseline` that finished: DVC keeps each as a git ref."""
    prefix = f"refs/exps/{baseline[:2]}/{baseline[2:]}/"
    return {ref.removeprefix(prefix) for ref in sh("git", "for-each-ref", "--format=%(refname)", prefix).split()}


def queue(study, values, jobs, force, timeout):
    """Queue the study's missing experiments, run the queue, wait, print the comparison."""
    key, existing = study_experiments(study, values)
    # A queued experiment also carries uncommitted edits of tracked files: reuse only from a clean tree.
    force = force or bool(sh("git", "status", "--porcelain", "--untracked-files=no").strip())
    stale = [exp_name(study, value) for value, exp in existing.items()
             if exp and (force or exp[0] != "success" or param(exp[2], key) != as_param(value))]
    if stale:
        dvc("exp", "remove", *stale)
    todo = [value for value, exp in existing.items() if not exp or exp_name(study, value) in stale]
    for value in todo:
        dvc("exp", "run", "--queue", "-n", exp_name(study, value), "-S", f"{key}={json.dumps(as_param(value))}")
    print(f"{study}: {len(todo)} queued, {len(existing) - len(todo)} reused", file=sys.stderr)
    if todo:
        # The workers inherit this: each experiment's stages get their share of the cores
        # (results do not depend on it), unless PRUNELAB_WORKERS is set already.
        dvc("queue", "start", "-j", str(jobs), env={"PRUNELAB_WORKERS": str(max(1, usable_cores() // jobs))})
    wait(study, values, {exp_name(study, value) for value in existing}, timeout)
    failed = [name for name, state in states(study, values).items() if state != "success"]
    if len(failed) < len(existing):
        print(compare(study, values))
    if failed:
        raise UserError(f"experiments failed: {', '.join(failed)} (see `dvc queue logs {failed[0]}`)")


def wait(study, values, names, timeout):
    """`dvc queue start` returns at once. A finished experiment is a git ref, cheap to list;
    `dvc exp show` (1-2 s of CPU, taken from the workers) only every 10th poll, for failed ones."""
    deadline, baseline = time.monotonic() + timeout, head()
    for poll in itertools.count(1):
        if names <= finished_refs(baseline):
            return
        if poll % 10 == 0 and all(state in DONE for state in states(study, values).values()):
            return
        if time.monotonic() > deadline:
            raise UserError(f"{', '.join(sorted(names))}: not all finished after {timeout:g} s (see `dvc queue "
                            "status`; a task that stays Queued means the workers found no `dvc` on PATH)")
        time.sleep(2)


def finished(study, values):
    key, existing = study_experiments(study, values)
    done = {value: exp for value, exp in existing.items() if exp and exp[0] == "success" and exp[3]}
    if not done:
        raise UserError(f"no finished experiments of study {study} on this commit "
                        f"(run `python -m study run {study}`; `dvc exp show` lists them)")
    return key, done


def compare(study, values=None):
    """Per experiment: the param, dense accuracy, and per method and regime the largest
    sparsity within tolerance, mean ± std over seeds, as a markdown table."""
    key, done = finished(study, values)
    return summary_table([((exp_name(study, value), str(param(params, key)),
                             f"{metrics['dense_accuracy_mean']:.3f} ± {metrics['dense_accuracy_std']:.3f}"), metrics)
                          for value, (_, _, params, metrics) in done.items()], ("experiment", key, "dense accuracy"))
