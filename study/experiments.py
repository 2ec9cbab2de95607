"""The complexity studies: one param over a few values, each value a queued DVC experiment.

    python -m stages.study run features            # queue, run with -j 2, wait, compare
    python -m stages.study compare features        # the table, from `dvc exp show --json`
    python -m stages.study figure features -o DIR  # the figures (default: studies/, gitignored)

Not a stage: it drives DVC. Experiments are named STUDY-VALUE (features-10) on the current
commit. `run` reuses a finished experiment of that name whose param has the study's value
(same commit, same params: the pipeline is deterministic), removes failed or unfinished
ones and queues the rest; --force, or uncommitted edits, remove them all first. Every number comes from the
experiments' own outputs: metrics from `dvc exp show --json`, the curves from their commits.
"""
import argparse
import csv
import io
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import numpy as np
import yaml
from matplotlib.figure import Figure

from stages import UserError, run, schema
from prunelab.aggregate import group
from stages.artifacts import write_figure
from prunelab.numerics import usable_cores

# The study definitions: name -> (params key, values). The one place that names the keys.
STUDIES = {
    "features": ("data.n_features", (10, 20, 30)),
    "width": ("model.hidden_sizes", ([16], [64], [256], [1024])),
}
PRUNE_JSON = "metrics/prune.json"
AGGREGATE_CSV = "metrics/prune_aggregate.csv"
SUMMARY = "max_sparsity_within_tolerance"
CURVE = ("global-magnitude", "one-shot")  # the seed's method and regime
FIGURES_DIR = "studies"
BIN = Path(sys.executable).parent
# Queue workers are `dvc exp queue-worker` found on PATH, and stages run `python -m ...`:
# this venv first on PATH whichever way this module was started.
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1"}
DONE = ("success", "failed")


def sh(*args, env=None):
    """Run a command; env: variables added where the caller's environment leaves them unset."""
    result = subprocess.run(args, env={**(env or {}), **ENV}, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines() or [""]
        raise UserError(f"`{' '.join(args)}` exited {result.returncode}: {last[-1]}")
    return result.stdout


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
            metrics = (data.get("metrics") or {}).get(PRUNE_JSON, {}).get("data")
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
                        f"(run `python -m stages.study run {study}`; `dvc exp show` lists them)")
    return key, done


def compare(study, values=None):
    """Per experiment: the param, dense accuracy, and per method and regime the largest
    sparsity within tolerance, mean ± std over seeds, as a markdown table."""
    key, done = finished(study, values)
    regimes = list(dict.fromkeys(regime for *_, metrics in done.values() for value in metrics.values()
                                 if isinstance(value, dict) for regime in value))
    lines = [f"| experiment | {key} | dense accuracy | method | {' | '.join(regimes)} |",
             "|---|---|---|---|" + "---|" * len(regimes)]
    for value, (_, _, params, metrics) in done.items():
        head = [exp_name(study, value), str(param(params, key)),
                f"{metrics['dense_accuracy_mean']:.3f} ± {metrics['dense_accuracy_std']:.3f}"]
        for method, entry in ((m, e) for m, e in metrics.items() if isinstance(e, dict)):
            cells = [f"{entry[r][f'{SUMMARY}_mean']:.1%} ± {entry[r][f'{SUMMARY}_std']:.1%}" if r in entry else ""
                     for r in regimes]
            lines.append(f"| {' | '.join(head)} | {method} | {' | '.join(cells)} |")
            head = ["", "", ""]
    return "\n".join(lines)


def sparsity_figure(key, done, size):
    """Largest sparsity within tolerance against the param: a panel per regime, a line per method."""
    xs = {value: scalar(param(params, key)) for value, (_, _, params, _) in done.items()}
    regimes = list(dict.fromkeys(r for *_, m in done.values() for e in m.values() if isinstance(e, dict) for r in e))
    figure = Figure(figsize=(size[0] * len(regimes), size[1]), layout="constrained")
    for axes, regime in zip(np.atleast_1d(figure.subplots(1, len(regimes), sharey=True)), regimes):
        methods = dict.fromkeys(m for *_, metrics in done.values() for m, e in metrics.items() if isinstance(e, dict))
        for method in methods:
            points = [(xs[v], m[method][regime]) for v, (*_, m) in done.items() if regime in m.get(method, {})]
            axes.errorbar([x for x, _ in points], [e[f"{SUMMARY}_mean"] for _, e in points],
                          yerr=[e[f"{SUMMARY}_std"] for _, e in points], marker="o", capsize=3, label=method)
        if max(xs.values()) > 10 * min(xs.values()):  # widths 16 to 1024: evenly spaced in log
            axes.set_xscale("log", base=2)
        axes.set_xticks(sorted(xs.values()), [str(x) for x in sorted(xs.values())])
        axes.set(title=f"Largest sparsity within tolerance: {regime}", xlabel=key,
                 ylabel="sparsity over all parameters (mean ± std over seeds)")
        axes.grid(True)
        axes.legend(fontsize="small")
    return figure


def curves_figure(key, done, size):
    """The seed's two figures for each experiment: accuracy and nonzero parameters against the
    level, global magnitude one-shot, mean ± std over seeds (from the experiment's own CSV)."""
    figure = Figure(figsize=(size[0] * 2, size[1]), layout="constrained")
    accuracy, params = figure.subplots(1, 2)
    for value, (_, rev, exp_params, _) in done.items():
        rows = list(csv.DictReader(io.StringIO(sh("git", "show", f"{rev}:{AGGREGATE_CSV}"))))
        rows = group([r for r in rows if r["level_by"] == "amount"], ("method", "regime")).get(CURVE, [])
        levels = np.array([float(r["level"]) for r in rows])
        for axes, column in ((accuracy, "accuracy"), (params, "nonzero_params")):
            mean, std = (np.array([float(r[f"{column}_{stat}"]) for r in rows]) for stat in ("mean", "std"))
            line, = axes.plot(levels, mean, marker=".", label=f"{key} = {param(exp_params, key)}")
            axes.fill_between(levels, mean - std, mean + std, color=line.get_color(), alpha=0.2, linewidth=0)
    low, high = params.get_ylim()
    if high > 10 * max(low, 1):  # widths 16 to 1024: 60x apart, unreadable on a linear axis
        params.set_yscale("log")
    for axes, title, ylabel in ((accuracy, "Test accuracy", "test accuracy (mean ± std over seeds)"),
                                (params, "Nonzero parameters", "nonzero parameters, biases included")):
        axes.set(title=f"{title} vs level ({' '.join(CURVE)})", xlabel="pruning level: fraction removed (amount)",
                 ylabel=ylabel)
        axes.grid(True)
        axes.legend(fontsize="small")
    return figure


def figure(study, values, out):
    key, done = finished(study, values)
    plot = schema.load("plot")["plot"]
    size = (plot["width"], plot["height"])
    matplotlib.rcParams["svg.hashsalt"] = "prunelab"
    for name, drawn in ((f"{study}_sparsity", sparsity_figure(key, done, size)),
                        (f"{study}_curves", curves_figure(key, done, size))):
        path = Path(out) / f"{name}.{plot['format']}"
        write_figure(path, drawn, plot["dpi"])
        print(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m stages.study", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "compare", "figure"):
        sub = commands.add_parser(name)
        sub.add_argument("study", help=f"one of {', '.join(STUDIES)}")
        sub.add_argument("--values", nargs="+", type=yaml.safe_load, metavar="VALUE",
                         help="other values than the study's own (as -S takes them: 8 or [8])")
        if name == "run":
            sub.add_argument("-j", "--jobs", type=int, default=2, help="queue workers (default 2)")
            sub.add_argument("--force", action="store_true", help="rerun experiments that already finished")
            sub.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the queue")
        if name == "figure":
            sub.add_argument("-o", "--out", default=FIGURES_DIR, help=f"folder (default {FIGURES_DIR}/, gitignored)")
    args = parser.parse_args(argv)
    if args.study not in STUDIES:
        raise UserError(f"unknown study {args.study!r}: expected one of {', '.join(STUDIES)}")
    if args.command == "run":
        queue(args.study, args.values, args.jobs, args.force, args.timeout)
    elif args.command == "compare":
        print(compare(args.study, args.values))
    else:
        figure(args.study, args.values, args.out)


if __name__ == "__main__":
    run(main)
