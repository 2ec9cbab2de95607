"""Measured and theoretical speedup against sparsity: every measurement (speedup.png: a panel
per method, regime and thread count, a line per form and batch size), and the one a reader can
take in at a glance (deployable.png: one thread, a panel per batch size, per method the fastest
deployable form against the theoretical speedup). The forms drawn are those the rows hold: the
MLP's four, another architecture's three (no torch-csr)."""
from matplotlib.figure import Figure

from prunelab.figures import high_level_scale, panels
from prunelab.latency import FORMS
from prunelab.palette import colour, ordered

COLOURS = dict(zip(FORMS, ("tab:gray", "tab:blue", "tab:orange", "tab:green")))
STYLES = ("-", "--", ":", "-.")
WIDE_TICKS = (0, 0.5, 0.9, 0.99)


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
            for form in present_forms(rows):
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


def present_forms(rows: list[dict]) -> list[str]:
    """The forms of FORMS that the rows measured, in FORMS's order."""
    found = {row["form"] for row in rows}
    return [form for form in FORMS if form in found]


def deployable_forms(rows: list[dict]) -> str:
    """The forms but dense, in words: "CSR (scipy, torch) and shrunk" for the MLP's."""
    forms = present_forms(rows)
    csr = [form.removesuffix("-csr") for form in forms if form.endswith("-csr")]
    return " and ".join(([f"CSR ({', '.join(csr)})"] if csr else []) + (["shrunk"] if "shrunk" in forms else []))


def best_forms(rows: list[dict], threads: int = 1) -> list[dict]:
    """Per method, regime, batch and level at `threads`: the row of the fastest form that is
    not the dense model (the one a user would deploy at that level)."""
    best = {}
    for row in rows:
        if row["threads"] == threads and row["form"] != "dense":
            key = (row["method"], row["regime"], row["batch"], row["level_by"], row["level"])
            if key not in best or row["measured_speedup"] > best[key]["measured_speedup"]:
                best[key] = row
    return list(best.values())


def deployable_figure(rows: list[dict], title: str) -> Figure:
    """One thread (two threads on a loaded machine are noise, docs/cost-measured.md): a panel
    per batch size, per method (one regime: the first) the fastest deployable form's measured
    speedup (solid) against the theoretical one (dashed), in the method's colour."""
    regime = rows[0]["regime"]
    best = [row for row in best_forms(rows) if row["regime"] == regime]
    batches = sorted({row["batch"] for row in best})
    figure, axes_row = panels(len(batches), (4.6, 3.6))
    for axes, batch in zip(axes_row, batches):
        for method in ordered(dict.fromkeys(row["method"] for row in best)):
            line = sorted((row for row in best if row["method"] == method and row["batch"] == batch),
                          key=lambda row: row["sparsity"])
            xs = [row["sparsity"] for row in line]
            axes.plot(xs, [row["measured_speedup"] for row in line], color=colour(method), marker=".", label=method)
            axes.plot(xs, [row["theoretical_speedup"] for row in line], color=colour(method), linestyle="--",
                      linewidth=0.9)
        axes.plot([], [], color="black", linestyle="--", linewidth=0.9, label="theoretical (dense / nonzero MACs)")
        axes.axhline(1, color="black", linewidth=0.8)
        axes.set_yscale("log")
        high_level_scale(axes)
        axes.set_xticks(WIDE_TICKS, [f"{tick:g}" for tick in WIDE_TICKS])  # the figures' ticks crowd a small panel
        axes.set_xlim(0, 0.995)  # autoscaling's margin past the top level is most of this scale's room
        axes.set(title=f"batch {batch}, 1 thread", xlabel="sparsity (all parameters)")
        axes.grid(True)
    axes_row[0].set_ylabel("speedup over the dense model (log)")
    axes_row[0].legend(fontsize="x-small")
    figure.suptitle(f"{regime}: per method, the fastest of {deployable_forms(rows)} at each level, measured (solid) "
                     f"against theoretical (dashed)\n{title}", fontsize="small")
    return figure
