"""Redraw the figures a `docs/results/NAME` folder keeps (accuracy_vs_sparsity, and
lottery_ticket where a regime pruned in rounds) from the CSV and metrics it keeps, with
today's drawing code and the folder's own params.yaml (plot size, resolution, format):
    python tools/redraw_results.py NAME ...
A change to how figures look (prunelab/palette.py, stages/plot.py) then reaches the kept
results without rerunning them; the bytes are those a rerun draws (`make check-results`).
"""
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script
from stages import UserError, run  # noqa: E402
from stages.artifacts import write_figure  # noqa: E402
from stages.plot import accuracy_figure, lottery_figure, read_sweep  # noqa: E402

RESULTS = ROOT / "docs" / "results"


def redraw(folder: Path) -> list:
    """The folder's figures, rewritten; their paths."""
    if not (folder / "params.yaml").is_file():
        raise UserError(f"{folder}: no params.yaml; expected a folder tools/experiment.sh wrote")
    plot = yaml.safe_load((folder / "params.yaml").read_text())["plot"]
    sweep, _, dense = read_sweep(folder / "prune_aggregate.csv", folder / "train.json")
    size = (plot["width"], plot["height"])
    figures = {"accuracy_vs_sparsity": accuracy_figure(sweep, dense, size),
               "lottery_ticket": lottery_figure(sweep, dense, size)}
    written = []
    for name, figure in figures.items():
        if figure is not None:
            written.append(folder / f"{name}.{plot['format']}")
            write_figure(written[-1], figure, plot["dpi"])
    return written


def main():
    if len(sys.argv) < 2:
        raise UserError("usage: python tools/redraw_results.py NAME ... (folders of docs/results/)")
    for name in sys.argv[1:]:
        for path in redraw(RESULTS / name):
            print(path.relative_to(ROOT))


if __name__ == "__main__":
    run(main)
