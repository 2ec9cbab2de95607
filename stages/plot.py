"""Stage plot: the study's figures, drawn from the committed CSVs (no torch needed)."""
import matplotlib
from matplotlib.figure import Figure

from stages import run, schema
from stages.artifacts import read_csv, write_figure

PLOTS_DIR = "metrics/plots"
AMOUNT_LABEL = "pruning level: fraction of fc1+fc2 weights removed (amount)"


def accuracy_figure(sweep, size):
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    axes.axhline(sweep["accuracy"][0], color="grey", linestyle="--", label="dense")
    axes.plot(sweep["amount"], sweep["accuracy"], marker="o", label="global magnitude")
    axes.set(title="Test accuracy vs pruning level", xlabel=AMOUNT_LABEL, ylabel="test accuracy")
    axes.grid(True)
    axes.legend()
    return figure


def params_figure(sweep, size):
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    axes.axhline(sweep["total_params"][0], color="grey", linestyle="--",
                 label="all parameters (what parameters() counts)")
    axes.plot(sweep["amount"], sweep["nonzero_params"], marker="o", label="nonzero parameters")
    axes.set(title="Nonzero parameters vs pruning level", xlabel=AMOUNT_LABEL,
             ylabel="parameters (weights and biases)")
    axes.grid(True)
    axes.legend()
    return figure


def curve_figure(curve, size):
    figure = Figure(figsize=size, layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for split in ("train", "test"):
        loss_axes.plot(curve["epoch"], curve[f"{split}_loss"], label=split)
        accuracy_axes.plot(curve["epoch"], curve[f"{split}_accuracy"], label=split)
    loss_axes.set(title="Training curve: loss", xlabel="epoch", ylabel="BCE loss")
    accuracy_axes.set(title="Training curve: accuracy", xlabel="epoch", ylabel="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(True)
        axes.legend()
    return figure


def main():
    plot = schema.load("plot")["plot"]
    sweep = read_csv("metrics/prune_sweep.csv", "amount", "accuracy", "nonzero_params", "total_params")
    curve = read_csv("metrics/train_curve.csv", "epoch", "train_loss", "test_loss",
                     "train_accuracy", "test_accuracy")
    matplotlib.rcParams["svg.hashsalt"] = "prunelab"  # fixed SVG ids: identical params, identical bytes
    size = (plot["width"], plot["height"])
    figures = {"accuracy_vs_amount": accuracy_figure(sweep, size),
               "nonzero_params_vs_amount": params_figure(sweep, size),
               "train_curve": curve_figure(curve, size)}
    for name, figure in figures.items():
        write_figure(f"{PLOTS_DIR}/{name}.{plot['format']}", figure, plot["dpi"])


if __name__ == "__main__":
    run(main)
