"""Stage prune-sweep: every method, regime, seed and level; evaluated, costed and aggregated.

A level is given as `amount`, the fraction removed (of all layers' weights, or of each hidden
layer's neurons for structured pruning), or as a magnitude `threshold` (every |w| < t removed, turned
into the fraction it removes from each model). Every row records both. Sparsity and
counts are over ALL parameters.
"""
from pathlib import Path

from prunelab import aggregate, compute, stacks
from prunelab.costs import reports
from prunelab.model import layer_names, serialized
from prunelab.progress import progress
from prunelab.pruning import METHODS, amount_for_threshold, shrink, threshold_for_amount
from prunelab.regimes import REGIMES, Study
from stages import paths, run, schema
from stages.artifacts import rounded, write_bytes, write_csv, write_json
from stages.checkpoints import device_for, load_splits, load_stack

GROUPED_BY = ("method", "regime", "level_by", "level")


def levels_of(prune):
    """(kind, value) per level: the dense level first, then amounts, then thresholds, ascending."""
    return ([("amount", 0.0)] + [("amount", a) for a in sorted(prune["amounts"]) if a != 0]
            + [("threshold", t) for t in sorted(prune["thresholds"])])


def per_seed_levels(trained, levels):
    """For each model, the fraction removed and the magnitude threshold of every level."""
    amounts, thresholds = [], []
    for index in range(stacks.size(trained)):
        state = stacks.unstack(trained, index)
        amounts.append([value if kind == "amount" else amount_for_threshold(state, value) for kind, value in levels])
        thresholds.append([value if kind == "threshold" else threshold_for_amount(state, value)
                           for kind, value in levels])
    return amounts, thresholds


def sweep(study, thresholds, levels, methods, regimes, x_test, y_test):
    rows = []
    pairs = [(method, regime) for method in methods for regime in regimes]
    for method, regime in progress(pairs, "prune-sweep", unit="method-regime"):
        for name, weights in REGIMES[regime](study, METHODS[method]).items():
            accuracies, losses = stacks.evaluate(weights, x_test, y_test)
            for index, cost in enumerate(reports(weights)):
                model, level = divmod(index, len(levels))
                rows.append({"method": method, "regime": name, "seed": study.seeds[model],
                             "level_by": levels[level][0], "level": levels[level][1],
                             "amount": study.amounts[model][level], "threshold": thresholds[model][level],
                             **cost, "accuracy": float(accuracies[index]), "loss": float(losses[index])})
    return rows


def main():
    params = schema.load("prune", "train")
    prune, train = params["prune"], params["train"]
    device = device_for(train["device"])
    compute.setup()
    (x_train, y_train), (x_test, y_test) = load_splits()
    trained, seeds = load_stack(paths.MODELS, x_test.shape[1])
    levels = levels_of(prune)
    amounts, thresholds = per_seed_levels(trained, levels)
    study = Study(trained, seeds, amounts, x_train, y_train, prune["finetune_epochs"], prune["finetune_lr"],
                  train["epochs"], train["lr"], prune["seed"], train["batch_size"], device)
    rows = [rounded(row) for row in sweep(study, thresholds, levels, prune["methods"], prune["regimes"],
                                          x_test, y_test)]
    dense, _ = stacks.evaluate(trained, x_test, y_test)
    numeric = [column for column in rows[0] if column not in GROUPED_BY and column != "seed"]
    table = [rounded(row) for row in aggregate.group_stats(rows, GROUPED_BY, numeric)]
    write_csv(paths.PRUNE_SWEEP, rows)
    write_csv(paths.PRUNE_AGGREGATE, table)
    # Rounded as the rows are, so that a level exactly at the tolerance edge counts as within.
    summary = aggregate.summary(rows, {seed: round(float(value), 6) for seed, value in zip(seeds, dense)},
                                prune["tolerance"])
    write_json(paths.PRUNE_METRICS, rounded(summary))
    write_structured(study, levels, "structured" in prune["methods"])


def write_structured(study, levels, wanted):
    """Structured pruning's narrower nets for the first seed, one plain checkpoint per level."""
    entries = []
    for stale in Path(paths.STRUCTURED_DIR).glob("level-*.pt"):
        stale.unlink()
    if wanted:
        # The models of the first torch seed lead the seed-major stack; the masks come from the study's cache.
        pruned = REGIMES["one-shot"](study, METHODS["structured"])["one-shot"]
        for level, (kind, value) in enumerate(levels):
            small = shrink(stacks.unstack(pruned, level))
            name = f"level-{level:02d}.pt"
            write_bytes(f"{paths.STRUCTURED_DIR}/{name}", serialized(small))
            widths = [small[f"{layer}.weight"].shape[0] for layer in layer_names(small)[:-1]]
            entry = {"file": name, "seed": study.seeds[0], "level_by": kind, "level": value,
                     "hidden_size": sum(widths)}
            entries.append(entry if len(widths) == 1 else {**entry, "hidden_sizes": widths})
    write_json(f"{paths.STRUCTURED_DIR}/index.json", {"files": entries})


if __name__ == "__main__":
    run(main)
