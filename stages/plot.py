"""Stage plot: the study's figures, drawn from the committed CSVs (no torch needed).

Curves are means over seeds with a band of ± one std. Sparsity axes (and the fraction removed)
use -log10(1 - s), so that 0.9, 0.99 get as much room as 0 to 0.9: the break point lies at the
high levels. Each method, regime and split has its colour from prunelab/palette.py, the plots
page's too; panels and legends follow the registries' order.
"""
import itertools
import re

from matplotlib.figure import Figure

from prunelab.aggregate import CONTROL_PREFIX, group
from prunelab.figures import band, finish, high_level_scale, panels
from prunelab.palette import colour, ordered
from stages import paths, run, schema
from stages.artifacts import read_csv, read_header, read_json, read_rows, write_figure

SWEEP_COLUMNS = ("level", "amount_mean", "total_params_mean", "sparsity_mean", "accuracy_mean", "accuracy_std",
                 "nonzero_params_mean")
REMAINING_TICKS = [100, 51.3, 21.1, 7.0, 3.6, 1.9]  # the weights remaining Frankle & Carbin's LeNet figures mark
LAYER_STYLES = ("-", "--", ":", "-.")  # a dash per layer, cycled past four
SPARSITY_LABEL = "sparsity over all parameters (scale: -log10(1 - s))"
LEVEL_LABEL = "pruning level: fraction removed (amount; scale: -log10(1 - s))"
CONTROL_LABEL = "(dense, equal budget)"


def _band(axes, rows, label, x="sparsity_mean", y="accuracy"):
    rows = sorted(rows, key=lambda row: row[x])
    control = label.endswith(CONTROL_LABEL)  # the dense control: a dashed line in its regime's or method's colour
    line = {"linestyle": "--"} if control else {}
    if (drawn := colour(label.removesuffix(f" {CONTROL_LABEL}"))) is not None:
        line["color"] = drawn
    band(axes, [row[x] for row in rows], [row[f"{y}_mean"] for row in rows], [row[f"{y}_std"] for row in rows], label,
         **line)


def _in_order(groups):
    """group()'s {(name,): rows} as (name, rows) in the registries' order (prunelab/palette.py)."""
    rows = {name: members for (name,), members in groups.items()}
    bases = ordered(dict.fromkeys(name.removesuffix(f" {CONTROL_LABEL}") for name in rows))
    place = {base: index for index, base in enumerate(bases)}  # a control right after its method or regime
    return sorted(rows.items(), key=lambda item: (place[item[0].removesuffix(f" {CONTROL_LABEL}")],
                                                  item[0].endswith(CONTROL_LABEL)))


def _dense_line(axes, dense):
    axes.axhline(dense, color="grey", linestyle="--", label="dense (mean)")


def placed_controls(sweep, panel):
    """The sweep with each equal-budget dense control row (dense, sparsity 0) moved to its
    regime's panel and to the sparsity of the regime's row at the same level, so that it draws
    as a line beside the regime's curve."""
    paired = {(row["method"], row["regime"], row["level_by"], row["level"]): row for row in sweep}
    placed = []
    for row in sweep:
        if row["regime"].startswith(CONTROL_PREFIX):
            regime = row["regime"].removeprefix(CONTROL_PREFIX)
            twin = paired[row["method"], regime, row["level_by"], row["level"]]
            if panel == "regime":
                row = {**row, "regime": regime, "method": f"{row['method']} {CONTROL_LABEL}"}
            else:
                row = {**row, "regime": f"{regime} {CONTROL_LABEL}"}
            row["sparsity_mean"] = twin["sparsity_mean"]
        placed.append(row)
    return placed


def accuracy_figure(sweep, dense, size, panel="regime", line="method", title="Test accuracy vs sparsity"):
    """One panel per value of `panel`, a band per value of `line`: methods overlaid per regime,
    or (panel="method", line="regime") regimes compared per method."""
    by_panel = group(placed_controls(sweep, panel), (panel,))
    figure, axes_row = panels(len(by_panel), size)
    for axes, (name, rows) in zip(axes_row, _in_order(by_panel)):
        _dense_line(axes, dense)
        for label, curve in _in_order(group(rows, (line,))):
            _band(axes, curve, label)
        high_level_scale(axes)
        finish(axes, f"{title}: {name}", SPARSITY_LABEL, "test accuracy (mean ± std over seeds)")
    return figure


def _by_amount(sweep):
    """Amount levels of the first regime, per method, in level order."""
    first = sweep[0]["regime"]
    for method, rows in _in_order(group([row for row in sweep if row["regime"] == first], ("method",))):
        yield method, sorted((row for row in rows if row["level_by"] == "amount"), key=lambda row: row["level"])


def params_figure(sweep, size):
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    axes.axhline(sweep[0]["total_params_mean"], color="grey", linestyle="--", label="all parameters (what parameters() counts)")
    for method, rows in _by_amount(sweep):
        axes.plot([row["level"] for row in rows], [row["nonzero_params_mean"] for row in rows], marker=".",
                  label=method, color=colour(method))
    high_level_scale(axes)
    finish(axes, f"Nonzero parameters vs level ({sweep[0]['regime']})", LEVEL_LABEL, "nonzero parameters")
    return figure


def layers_figure(sweep, layers, size):
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    for method, rows in _by_amount(sweep):
        for layer, style in zip(layers, itertools.cycle(LAYER_STYLES)):
            axes.plot([row["level"] for row in rows], [row[f"{layer}_sparsity_mean"] for row in rows],
                      linestyle=style, marker=".", label=f"{method} {layer}", color=colour(method))
    high_level_scale(axes)
    finish(axes, f"Sparsity of each layer vs level ({sweep[0]['regime']})", LEVEL_LABEL,
            "fraction of the layer's weights that are zero")
    return figure


def sensitivity_figure(table, size):
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    for (layer,), rows in group(table, ("layer",)).items():
        _band(axes, rows, f"only {layer} pruned", x="layer_sparsity_mean")
    high_level_scale(axes)
    finish(axes, "Sensitivity: one layer pruned at a time (magnitude)", "sparsity of the pruned layer",
            "test accuracy (mean ± std over seeds)")
    return figure


def curve_figure(curve, size, loss="BCE"):
    figure = Figure(figsize=size, layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for split in ("train", "test"):
        loss_axes.plot(curve["epoch"], curve[f"{split}_loss"], label=split, color=colour(split))
        accuracy_axes.plot(curve["epoch"], curve[f"{split}_accuracy"], label=split, color=colour(split))
    finish(loss_axes, "Training curve: loss", "epoch", f"{loss} loss")
    finish(accuracy_axes, "Training curve: accuracy", "epoch", "accuracy")
    return figure


def lottery_figure(sweep, dense, size):
    """Frankle & Carbin's figure: test accuracy against the weights remaining (percent, log
    scale, falling to the right), a band per regime that prunes in rounds (the ticket and its
    re-initialised control among them), a panel per method; None when no regime has rounds.
    The equal-budget dense control has no weights removed of its own: it is in the sparsity figures."""
    rows = [row for row in sweep if row["level_by"] == "round" and not row["regime"].startswith(CONTROL_PREFIX)]
    if not rows:
        return None
    by_method = group(rows, ("method",))
    figure, axes_row = panels(len(by_method), size)
    for axes, (method, curves) in zip(axes_row, _in_order(by_method)):
        _dense_line(axes, dense)
        remaining = [100 * (1 - row["amount_mean"]) for row in curves]
        for regime, curve in _in_order(group(curves, ("regime",))):
            curve = [{**row, "remaining": 100 * (1 - row["amount_mean"])} for row in curve]
            _band(axes, curve, regime, x="remaining")
        axes.set_xscale("log")
        ticks = [tick for tick in REMAINING_TICKS if min(remaining) <= tick <= max(remaining)]  # set_xticks widens the axis to every tick
        axes.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
        axes.minorticks_off()
        axes.invert_xaxis()
        finish(axes, f"Lottery tickets: {method}", "weights remaining, % (log scale)",
               "test accuracy (mean ± std over seeds)")
    return figure


def read_sweep(aggregate, train_metrics):
    """(the aggregate's rows, its layers, the dense models' mean test accuracy): what the
    sweep's figures are drawn from (tools/redraw_results.py redraws a kept folder from them)."""
    # The trained models' mean test accuracy (not from prune.json, which changes with the tolerance).
    dense = read_json(train_metrics, "test_accuracy_mean")["test_accuracy_mean"]
    layers = [column.removesuffix("_sparsity_mean") for column in read_header(aggregate)
              if re.fullmatch(r"fc\d+_sparsity_mean", column)]
    sweep = read_rows(aggregate, SWEEP_COLUMNS + tuple(f"{layer}_sparsity_mean" for layer in layers),
                      text=("method", "regime", "level_by"))
    return sweep, layers, dense


def main():
    plot = schema.load("plot")["plot"]
    sweep, layers, dense = read_sweep(paths.PRUNE_AGGREGATE, paths.TRAIN_METRICS)
    # Two classes train one sigmoid output on BCE, more classes a softmax on cross-entropy.
    classes = [key for key in read_json(paths.DATA_METRICS, "train")["train"] if re.fullmatch(r"class_\d+", key)]
    sensitivity = read_rows(paths.SENSITIVITY_AGGREGATE,
                            ("layer_sparsity_mean", "accuracy_mean", "accuracy_std"), text=("layer",))
    curve = read_csv(paths.TRAIN_CURVE, "epoch", "train_loss", "test_loss",
                     "train_accuracy", "test_accuracy")
    size = (plot["width"], plot["height"])
    figures = {"accuracy_vs_sparsity": accuracy_figure(sweep, dense, size),
               "regimes_compared": accuracy_figure(sweep, dense, size, "method", "regime", "Regimes compared"),
               "nonzero_params_vs_level": params_figure(sweep, size),
               "layer_sparsity_vs_level": layers_figure(sweep, layers, size),
               "sensitivity": sensitivity_figure(sensitivity, size),
               "train_curve": curve_figure(curve, size, "BCE" if len(classes) == 2 else "cross-entropy")}
    if (lottery := lottery_figure(sweep, dense, size)) is not None:  # only when a regime prunes in rounds
        figures["lottery_ticket"] = lottery
    for name, figure in figures.items():
        write_figure(f"{paths.PLOTS_DIR}/{name}.{plot['format']}", figure, plot["dpi"])


if __name__ == "__main__":
    run(main)
