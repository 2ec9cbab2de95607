"""A study's figures, from its experiments' own outputs: the largest sparsity within
tolerance against the param, and the seed's two curves (accuracy and nonzero parameters
against the level) for each experiment. Nothing is recomputed."""
import csv
import io
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from prunelab.aggregate import SUMMARIES, group
from prunelab.figures import band, finish, panels
from prunelab.palette import colour, ordered
from stages import paths, schema
from stages.artifacts import write_figure
from study.experiments import finished, param, scalar, sh

SUMMARY = SUMMARIES[0]  # max_sparsity_within_tolerance
CURVE = ("global-magnitude", "one-shot")  # the seed's method and regime
FIGURES_DIR = "studies"


def _methods(metrics):
    return {method: entry for method, entry in metrics.items() if isinstance(entry, dict)}


def sparsity_figure(key, done, size):
    """Largest sparsity within tolerance against the param: a panel per regime, a line per method."""
    xs = {name: scalar(param(params, key)) for name, (_, _, params, _) in done.items()}
    regimes = ordered(dict.fromkeys(r for *_, m in done.values() for e in _methods(m).values() for r in e))
    methods = list(dict.fromkeys(m for *_, metrics in done.values() for m in _methods(metrics)))
    figure, axes_row = panels(len(regimes), size)
    for axes, regime in zip(axes_row, regimes):
        for method in ordered(methods):
            points = [(xs[v], m[method][regime]) for v, (*_, m) in done.items() if regime in m.get(method, {})]
            axes.errorbar([x for x, _ in points], [e[f"{SUMMARY}_mean"] for _, e in points],
                          yerr=[e[f"{SUMMARY}_std"] for _, e in points], marker="o", capsize=3, label=method,
                          color=colour(method))
        if max(xs.values()) > 10 * min(xs.values()):  # widths 16 to 1024: evenly spaced in log
            axes.set_xscale("log", base=2)
        axes.set_xticks(sorted(xs.values()), [str(x) for x in sorted(xs.values())])
        finish(axes, f"Largest sparsity within tolerance: {regime}", key,
               "sparsity over all parameters (mean ± std over seeds)")
    return figure


def curves_figure(key, done, size):
    """The seed's two figures for each experiment: accuracy and nonzero parameters against the
    level, global magnitude one-shot, mean ± std over seeds (from the experiment's own CSV)."""
    figure = Figure(figsize=(size[0] * 2, size[1]), layout="constrained")
    accuracy, params = figure.subplots(1, 2)
    for _, (_, rev, exp_params, _) in done.items():
        rows = list(csv.DictReader(io.StringIO(sh("git", "show", f"{rev}:{paths.PRUNE_AGGREGATE}"))))
        rows = group([r for r in rows if r["level_by"] == "amount"], ("method", "regime")).get(CURVE, [])
        levels = np.array([float(r["level"]) for r in rows])
        for axes, column in ((accuracy, "accuracy"), (params, "nonzero_params")):
            mean, std = ([float(r[f"{column}_{stat}"]) for r in rows] for stat in ("mean", "std"))
            band(axes, levels, mean, std, f"{key} = {param(exp_params, key)}")
    low, high = params.get_ylim()
    if high > 10 * max(low, 1):  # widths 16 to 1024: 60x apart, unreadable on a linear axis
        params.set_yscale("log")
    for axes, title, ylabel in ((accuracy, "Test accuracy", "test accuracy (mean ± std over seeds)"),
                                (params, "Nonzero parameters", "nonzero parameters, biases included")):
        finish(axes, f"{title} vs level ({' '.join(CURVE)})", "pruning level: fraction removed (amount)", ylabel)
    return figure


def draw(study, out):
    """Both figures of a study's finished experiments into folder `out`, in the plot section's
    size, resolution and format; prints each path."""
    key, done = finished(study)
    plot = schema.load("plot")["plot"]
    size = (plot["width"], plot["height"])
    for name, drawn in ((f"{study.name}_sparsity", sparsity_figure(key, done, size)),
                        (f"{study.name}_curves", curves_figure(key, done, size))):
        path = Path(out) / f"{name}.{plot['format']}"
        write_figure(path, drawn, plot["dpi"])
        print(path)
