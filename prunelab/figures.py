"""The figures' shared look: mean curves with a ± one std band, finished axes, panels side by
side, the spread-out high-sparsity axis, and bytes that depend on the figure alone.

Used by the pipeline's figures (stages/plot.py) and the study tool's (study/figures.py).
"""
import io
from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

SPARSITY_TICKS = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99]


def band(axes: Axes, xs: Sequence[float] | np.ndarray, mean: Sequence[float] | np.ndarray,
         std: Sequence[float] | np.ndarray, label: str, **line) -> None:
    """A mean curve with a band of ± one std around it, the band in the curve's colour."""
    mean, std = np.asarray(mean), np.asarray(std)
    drawn, = axes.plot(xs, mean, marker=".", label=label, **line)
    axes.fill_between(xs, mean - std, mean + std, color=drawn.get_color(), alpha=0.2, linewidth=0)


def finish(axes: Axes, title: str, xlabel: str, ylabel: str) -> None:
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(True)
    axes.legend(fontsize="small")


def panels(count: int, size: tuple, sharey: bool = True) -> tuple:
    """A figure of `count` panels in a row, each of `size` inches, and their axes."""
    figure = Figure(figsize=(size[0] * count, size[1]), layout="constrained")
    return figure, np.atleast_1d(figure.subplots(1, count, sharey=sharey))


def high_level_scale(axes: Axes) -> None:
    """Sparsity on -log10(1 - s): 0.9 and 0.99 get as much room as 0 to 0.9, where the break lies."""
    axes.set_xscale("function", functions=(lambda s: -np.log10(1 - np.clip(s, 0, 1 - 1e-6)),
                                           lambda t: 1 - 10.0 ** -t))
    axes.set_xticks(SPARSITY_TICKS, [f"{tick:g}" for tick in SPARSITY_TICKS])


def figure_bytes(figure: Figure, file_format: str, dpi: int) -> bytes:
    """The figure as png or svg bytes that depend on the figure alone: no date in the metadata,
    and SVG ids from a fixed salt rather than a random one."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "prunelab"}):
        figure.savefig(buffer, format=file_format, dpi=dpi, metadata={"Date": None})
    return buffer.getvalue()
