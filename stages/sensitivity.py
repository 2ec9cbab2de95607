"""Stage sensitivity: prune one layer at a time, the others left dense (Distiller's analysis).

Shows which layer the accuracy depends on: the layer whose pruning hurts first is the one a
global method should spare.
"""
import torch

from prunelab import aggregate, compute, stacks
from prunelab.model import as_tensors, layer_names
from prunelab.masks import keep_highest, removed_count
from stages import paths, run, schema
from stages.artifacts import load_sample_shape, load_split, rounded, write_csv
from stages.checkpoints import load_models


def layer_masks(state, layer, amounts):
    """Magnitude masks of one layer's weights at each level; every other parameter kept."""
    masks = {key: torch.ones(len(amounts), *value.shape) for key, value in state.items()}
    masks[f"{layer}.weight"] = keep_highest(state[f"{layer}.weight"].abs(), amounts)
    return masks


def sensitivity(trained, seeds, amounts, x, y, evaluate=stacks.evaluate):
    """One row per layer (a conv layer too), seed and amount: test accuracy with only that
    layer pruned. evaluate: the architecture's (stages.checkpoints.Models.evaluate)."""
    rows = []
    for layer in layer_names(trained):
        per_seed = [layer_masks(stacks.unstack(trained, index), layer, amounts) for index in range(len(seeds))]
        masks = {key: torch.cat([masks[key] for masks in per_seed]) for key in trained}
        accuracies, losses = evaluate(stacks.apply(stacks.repeat(trained, len(amounts)), masks), x, y)
        weights = trained[f"{layer}.weight"][0].numel()
        for index, (accuracy, loss) in enumerate(zip(accuracies, losses)):
            model, level = divmod(index, len(amounts))
            rows.append({"layer": layer, "seed": seeds[model], "amount": amounts[level],
                         "layer_sparsity": removed_count(amounts[level], weights) / weights,
                         "accuracy": float(accuracy), "loss": float(loss)})
    return rows


def main():
    amounts = schema.load("sensitivity")["sensitivity"]["amounts"]
    compute.setup()
    x, y = as_tensors(*load_split(paths.TEST_SPLIT))
    models = load_models(paths.MODELS, load_sample_shape(paths.TEST_SPLIT, x.shape[1]))
    rows = [rounded(row) for row in sensitivity(models.weights, models.seeds, [0.0] + sorted(a for a in amounts if a != 0),
                                                x, y, models.evaluate)]
    write_csv(paths.SENSITIVITY, rows)
    table = aggregate.group_stats(rows, ("layer", "amount"), ("layer_sparsity", "accuracy", "loss"))
    table = [rounded(row) for row in table]
    write_csv(paths.SENSITIVITY_AGGREGATE, table)


if __name__ == "__main__":
    run(main)
