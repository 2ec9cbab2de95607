"""Measured and theoretical speedup against sparsity: a panel per method, regime and thread
count, a line per form and batch size."""
from matplotlib.figure import Figure

from prunelab.figures import high_level_scale
from prunelab.latency import FORMS

COLOURS = dict(zip(FORMS, ("tab:gray", "tab:blue", "tab:orange", "tab:green")))
STYLES = ("-", "--", ":", "-.")


def speedup_figure(rows: list[dict], title: str) -> Figure:
    series = list(dict.fromkeys((row["method"], row["regime"]) for row in rows))
    counts = list(dict.fromkeys(row["threads"] for row in rows))
    batches = list(dict.fromkeys(row["batch"] for row in rows))
    figure = Figure(figsize=(4.2 * len(series), 3.4 * len(counts)), layout="constrained")
    grid = figure.subplots(len(counts), len(series), sharex=True, sharey=True, squeeze=False)
    for axes_row, count in zip(grid, counts):
        for axes, named in zip(axes_row, series):
            mine = sorted((row for row in rows if (row["method"], row["regime"]) == named and row["threads"] == count),
                          key=lambda row: row["sparsity"])
            theory = {row["sparsity"]: row["theoretical_speedup"] for row in mine}
            axes.plot(list(theory), list(theory.values()), color="black", linewidth=2.5, alpha=0.35,
                      label="theoretical (dense / nonzero MACs)")
            for form in FORMS:
                for batch, style in zip(batches, STYLES):
                    line = [row for row in mine if row["form"] == form and row["batch"] == batch]
                    axes.plot([row["sparsity"] for row in line], [row["measured_speedup"] for row in line],
                              color=COLOURS[form], linestyle=style, marker=".", markersize=3,
                              label=f"{form}, batch {batch}")
            axes.axhline(1, color="black", linewidth=0.8)
            axes.set_yscale("log")
            high_level_scale(axes)
            axes.grid(True, which="major")
            axes.set_title(f"{', '.join(named)}, {count} thread{'s' if count > 1 else ''}", fontsize="medium")
        axes_row[0].set_ylabel("speedup over the dense model")
    for axes in grid[-1]:
        axes.set_xlabel("sparsity (all parameters)")
    grid[0][0].legend(fontsize="x-small", ncol=2)
    figure.suptitle(title, fontsize="medium")
    return figure
