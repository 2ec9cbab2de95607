"""A study's experiments: queued, run and read back through DVC (`dvc exp`, `dvc queue`).

Experiments are named after their points (study/declared.py: features-10) on the current
commit. `run` reuses a finished experiment of that name whose params have the point's values
(same commit, same params: the pipeline is deterministic), removes failed or unfinished
ones and queues the rest; --force, or uncommitted edits, remove them all first. Every number comes from the
experiments' own outputs: metrics from `dvc exp show --json`, the curves from their commits.
Experiments that ran on a Slurm cluster (study/slurm.py) read back the same way once pulled.
"""
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prunelab.aggregate import summary_table
from prunelab.numerics import usable_cores
from stages import UserError, paths

BIN = Path(sys.executable).parent
# Queue workers are `dvc exp queue-worker` found on PATH, and stages run `python -m ...`:
# this venv first on PATH whichever way this module was started.
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1"}
DONE = ("success", "failed")


def sh(*args, env=None, timeout=None):
    """Run a command; env: variables added where the caller's environment leaves them unset.
    Output goes through files, not pipes: `dvc queue start` forks workers that inherit its
    stdout, and reading a pipe to its end would wait for them to finish (the whole queue)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            returncode = subprocess.run(args, env={**(env or {}), **ENV}, stdout=out, stderr=err, text=True,
                                        timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise UserError(f"`{' '.join(args)}` did not end within {timeout:g} s") from None
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if returncode != 0:
        last = (stderr or stdout).strip().splitlines() or [""]
        raise UserError(f"`{' '.join(args)}` exited {returncode}: {last[-1]}")
    return stdout


def dvc(*args, env=None, timeout=None):
    return sh(str(BIN / "dvc"), *args, env=env, timeout=timeout)


def scalar(value):
    """A param value as a number for the axes: 16 or [16] (one hidden layer) -> 16."""
    return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value


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


def study_experiments(study, timeout=None):
    """{point name: its experiment on this commit, or None}, in the study's order."""
    found = experiments(json.loads(dvc("exp", "show", "--json", timeout=timeout)), head())
    return {point.name: found.get(point.name) for point in study.points}


def holds(exp, point):
    """Whether a finished experiment ran with the point's values."""
    return exp[0] == "success" and all(param(exp[2], key) == value for key, value in point.sets.items())


def states(study, timeout=None):
    return {name: exp and exp[0] for name, exp in study_experiments(study, timeout).items()}


def states_while_running(study):
    """states(study), or {} where `dvc exp show` fails: it reads every running experiment's
    temporary copy, and exits 1 while a worker is still making one ("directory ... does not exist");
    or where it takes over a minute (waiting on a lock a worker holds, treeverse/dvc#8762)."""
    try:
        return states(study, timeout=60)
    except UserError:
        return {}


def finished_refs(baseline):
    """Names of the experiments on `baseline` that finished: DVC keeps each as a git ref."""
    prefix = f"refs/exps/{baseline[:2]}/{baseline[2:]}/"
    return {ref.removeprefix(prefix) for ref in sh("git", "for-each-ref", "--format=%(refname)", prefix).split()}


def clean_tree():
    return not sh("git", "status", "--porcelain", "--untracked-files=no").strip()


def queue(study, jobs, force, timeout):
    """Queue the study's missing experiments, run the queue, wait, print the comparison."""
    existing = study_experiments(study)
    # A queued experiment also carries uncommitted edits of tracked files: reuse only from a clean tree.
    force = force or not clean_tree()
    stale = [point.name for point in study.points
             if existing[point.name] and (force or not holds(existing[point.name], point))]
    if stale:
        dvc("exp", "remove", *stale)
    todo = [point for point in study.points if not existing[point.name] or point.name in stale]
    for point in todo:
        dvc("exp", "run", "--queue", "-n", point.name, *point.flags())
    print(f"{study.name}: {len(todo)} queued, {len(existing) - len(todo)} reused", file=sys.stderr)
    if todo:
        start_workers(jobs)
    wait(study, set(existing), {point.name for point in todo}, timeout, jobs)
    failed = [name for name, state in states(study).items() if state != "success"]
    if len(failed) < len(existing):
        print(compare(study))
    if failed:
        raise UserError(f"experiments failed: {', '.join(failed)} (see `dvc queue logs {failed[0]}`)")


def start_workers(jobs):
    """`dvc queue start -j jobs`: starts the workers that are not running. They inherit the
    environment: each experiment's stages get their share of the cores (results do not depend
    on it), unless PRUNELAB_WORKERS is set already."""
    dvc("queue", "start", "-j", str(jobs), env={"PRUNELAB_WORKERS": str(max(1, usable_cores() // jobs))})


def elapsed(seconds):
    """12 s, 3 min 12 s, 1 h 0 min 5 s."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours} h {minutes} min " if hours else f"{minutes} min " if minutes else "") + f"{secs} s"


def report(study, name, state, count, total, start):
    """One line on stderr as a point finishes, so that a long wait is not silent."""
    print(f"{study.name}: {name} {state} ({count} of {total}, {elapsed(time.monotonic() - start)})",
          file=sys.stderr, flush=True)


def wait(study, names, todo, timeout, jobs=1):
    """`dvc queue start` returns at once. A finished experiment is a git ref, cheap to list;
    `dvc exp show` (1-2 s of CPU, taken from the workers) only every 10th poll, for failed ones.
    Each of `todo` (the queued points) is reported as it finishes.

    DVC's workers can stop while tasks are still queued (treeverse/dvc#10562: each worker stops
    when a check of its own finds nothing to do, and under load that check can miss the queue):
    then nothing runs until `dvc queue start` again. Two such checks in a row, 20 s apart, with
    points queued and none running, start the workers again (said on stderr)."""
    start, baseline = time.monotonic(), head()
    deadline, reported, idle, now = start + timeout, set(), 0, {}
    for poll in itertools.count(1):
        refs = finished_refs(baseline)
        for name in sorted(todo & refs - reported):
            reported.add(name)
            report(study, name, "done", len(reported), len(todo), start)
        if names <= refs:
            return
        if poll % 10 == 0:
            now = states_while_running(study)
            for name in sorted(todo - reported):
                if now.get(name) in DONE:  # "success" here: it finished since the refs were listed
                    reported.add(name)
                    report(study, name, "done" if now[name] == "success" else "failed", len(reported), len(todo), start)
            if now and all(state in DONE for state in now.values()):
                return
            queued = sorted(name for name, state in now.items() if state == "queued")
            idle = idle + 1 if queued and "running" not in now.values() else 0
            if idle == 2:
                print(f"{study.name}: no worker running with {len(queued)} queued ({', '.join(queued)}): "
                      "starting the queue's workers again", file=sys.stderr, flush=True)
                start_workers(jobs)
                idle = 0
        if time.monotonic() > deadline:
            now = states_while_running(study)
            left = ", ".join(f"{name} {now.get(name) or 'unfinished'}" for name in sorted(names - refs))
            raise UserError(f"not all finished after {timeout:g} s: {left} (see `dvc queue status` and "
                            "`dvc queue logs NAME`; a task that stays Queued means the workers found no `dvc` on PATH)")
        time.sleep(2)


def finished(study):
    """The study's first key (the figures' x axis) and {name: experiment} of its finished points."""
    done = {name: exp for name, exp in study_experiments(study).items() if exp and exp[0] == "success" and exp[3]}
    if not done:
        raise UserError(f"no finished experiments of study {study.name} on this commit "
                        f"(run `python -m study run {study.name}`; `dvc exp show` lists them)")
    return study.keys()[0], done


def compare(study):
    """Per experiment: the params it sets, dense accuracy, and per method and regime the largest
    sparsity within tolerance, mean ± std over seeds, as a markdown table."""
    _, done = finished(study)
    keys = study.keys()
    return table(keys, {name: ({key: param(params, key) for key in keys}, metrics)
                        for name, (_, _, params, metrics) in done.items()})


def table(keys, entries):
    """compare's table from {experiment: ({key: value}, prune metrics)} (study/kept.py keeps them)."""
    return summary_table([((name, *(str(values[key]) for key in keys),
                            f"{metrics['dense_accuracy_mean']:.3f} ± {metrics['dense_accuracy_std']:.3f}"), metrics)
                          for name, (values, metrics) in entries.items()], ("experiment", *keys, "dense accuracy"))
