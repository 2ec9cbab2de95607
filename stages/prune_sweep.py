"""Stage prune-sweep: every method, regime, seed and level; evaluated, costed and aggregated.

A level is given as `amount`, the fraction removed (of all layers' weights, or of each hidden
layer's neurons for structured pruning), or as a magnitude `threshold` (every |w| < t removed, turned
into the fraction it removes from each model). Every row records both. Sparsity and
counts are over ALL parameters.
"""
from pathlib import Path

from prunelab import aggregate, architectures, compute, regimes, stacks
from prunelab.aggregate import CONTROL_PREFIX
from prunelab.controls import dense_control, extra_training
from prunelab.costs import reports
from prunelab.model import layer_names, serialized
from prunelab.module_forms import live_units
from prunelab.progress import progress
from prunelab.pruning import METHODS, amount_for_threshold, budget_amount, shrink, threshold_for_amount
from prunelab.regimes import REGIMES
from prunelab.rounds import RoundRows
from prunelab.sweep_setup import SweepSetup, Training
from stages import UserError, paths, rules, run, schema
from stages.artifacts import rounded, write_bytes, write_csv, write_json
from stages.checkpoints import device_for, load_models, load_splits, sample_shape

GROUPED_BY = ("method", "regime", "level_by", "level")


BUDGETS = ("compression", "speedup")


def levels_of(prune):
    """(kind, value) per level: the dense level first, then amounts, thresholds, compressions and
    speedups, each ascending."""
    return ([("amount", 0.0)] + [("amount", a) for a in sorted(prune["amounts"]) if a != 0]
            + [("threshold", t) for t in sorted(prune["thresholds"])]
            + [("compression", c) for c in sorted(prune.get("compressions", []))]
            + [("speedup", s) for s in sorted(prune.get("speedups", []))])


def level_amount(state, kind, value):
    if kind == "amount":
        return value
    return amount_for_threshold(state, value) if kind == "threshold" else budget_amount(state, kind, value)


def per_seed_levels(trained, levels):
    """For each model, the fraction removed and the magnitude threshold of every level."""
    amounts, thresholds = [], []
    for index in range(stacks.size(trained)):
        state = stacks.unstack(trained, index)
        amounts.append([level_amount(state, kind, value) for kind, value in levels])
        thresholds.append([value if kind == "threshold" else threshold_for_amount(state, amount)
                           for (kind, value), amount in zip(levels, amounts[-1])])
    return amounts, thresholds


def sweep(setup, thresholds, levels, methods, regimes, x_test, y_test, dense_budget=False):
    rows = []
    pairs = [(method, regime) for method in methods for regime in regimes]
    controls = {}  # (schedule, multiples) -> the dense control's stack: the same for every method
    for method, regime in progress(pairs, "prune-sweep", unit="method-regime"):
        for name, result in REGIMES[regime](setup, METHODS[method]).items():
            rows += result_rows(setup, method, name, result, levels, thresholds, x_test, y_test)
            extra = extra_training(setup, name) if dense_budget else None
            if extra:
                schedule, per_round = extra
                multiples = list(range(result.count)) if per_round else [1] * len(levels)
                key = (schedule, tuple(multiples))
                if key not in controls:
                    controls[key] = dense_control(setup, schedule, multiples)
                control = RoundRows(controls[key], result.removed) if per_round else controls[key]
                rows += result_rows(setup, method, CONTROL_PREFIX + name, control, levels, thresholds, x_test, y_test)
    # A `round` column only when a regime pruned in rounds: the default sweep's CSV stays as it was.
    with_rounds = any(row["round"] != "" for row in rows)
    return rows if with_rounds else [{key: value for key, value in row.items() if key != "round"} for row in rows]


def result_rows(setup, method, name, result, levels, thresholds, x_test, y_test):
    """One row per model of a regime's result (a stack of levels, or RoundRows)."""
    rows = []
    weights = result.weights if isinstance(result, RoundRows) else result
    accuracies, losses = setup.evaluate(weights, x_test, y_test)
    costs = reports(weights) if setup.build is None else reports(weights, setup.template, tuple(x_test.shape[1:]))
    for index, cost in enumerate(costs):
        if isinstance(result, RoundRows):
            model, number = divmod(index, result.count)
            fraction = result.removed[number]
            level = {"level_by": "round", "level": fraction, "round": number, "amount": fraction,
                     "threshold": threshold_for_amount(stacks.unstack(setup.trained, model), fraction)}
        else:
            model, number = divmod(index, len(levels))
            level = {"level_by": levels[number][0], "level": levels[number][1], "round": "",
                     "amount": setup.amounts[model][number], "threshold": thresholds[model][number]}
        rows.append({"method": method, "regime": name, "seed": setup.seeds[model], **level,
                     **cost, "accuracy": float(accuracies[index]), "loss": float(losses[index])})
    return rows


def main():
    params = schema.load("prune", "train")
    prune, train = params["prune"], params["train"]
    device = device_for(train["device"])
    compute.setup()
    (x_train, y_train), (x_test, y_test) = load_splits()
    models = load_models(paths.MODELS, sample_shape())
    trained, seeds = models.weights, models.seeds
    x_train, x_test = models.inputs(x_train), models.inputs(x_test)
    levels = levels_of(prune)
    message = budget_message(prune, models)
    if message:
        raise UserError(f"{schema.PARAMS_FILE}: {message}")
    setup, thresholds = sweep_setup(prune, train, trained, seeds, levels, x_train, y_train, device, models.build)
    rows = [rounded(row) for row in sweep(setup, thresholds, levels, prune["methods"], prune["regimes"],
                                          x_test, y_test, prune["dense_budget"])]
    dense, _ = setup.evaluate(trained, x_test, y_test)
    grouped = GROUPED_BY + (("round",) if "round" in rows[0] else ())
    numeric = [column for column in rows[0] if column not in grouped and column != "seed"]
    table = [rounded(row) for row in aggregate.group_stats(rows, grouped, numeric)]
    write_csv(paths.PRUNE_SWEEP, rows)
    write_csv(paths.PRUNE_AGGREGATE, table)
    # Rounded as the rows are, so that a level exactly at the tolerance edge counts as within.
    summary = aggregate.summary(rows, {seed: round(float(value), 6) for seed, value in zip(seeds, dense)},
                                prune["tolerance"])
    write_json(paths.PRUNE_METRICS, rounded(summary))
    neurons = [name for name in prune["methods"] if METHODS[name].unit == "neurons"]
    write_structured(setup, levels, neurons[0] if neurons else None)


def budget_message(prune, models):
    """What is wrong with the budget levels (or structured pruning of a user's module) for the
    trained architecture, or None."""
    neurons = [name for name in prune["methods"] if METHODS[name].unit == "neurons"]
    if models.arch == "module" and neurons:
        return (f"prune.methods lists {neurons[0]}, but model.arch is module: prunelab does not know which of your "
                "module's channels feed which (docs/architectures.md); expected weight methods only")
    if models.template is None:
        _, hidden, outputs = stacks.architecture(models.weights)
        return rules.budget_fits(prune, models.input_shape[0], hidden, outputs)
    found = architectures.layers(models.template)
    weights = sum(models.template.get_submodule(layer.name).weight.numel() for layer in found)
    total = sum(value.numel() for value in models.template.parameters())
    conv = any(models.template.get_submodule(layer.name).weight.dim() == 4 for layer in found)
    return rules.net_fits_budgets(prune, models.arch, weights, total - weights, conv)


def sweep_setup(prune, train, trained, seeds, levels, x_train, y_train, device, build=None):
    """The regimes' setup from the params, and each model's threshold at every level: what the
    sweep (and `python -m latency`, which times its masks) starts from. A gradual schedule with no
    update is an error here, before anything is written. The regimes' own settings (fine-tuning,
    rounds, gradual) come from their records (prunelab/regimes/)."""
    amounts, thresholds = per_seed_levels(trained, levels)
    setup = SweepSetup(trained, seeds, amounts, x_train, y_train, retrain=Training(train["epochs"], train["lr"]),
                       random_seed=prune["seed"], batch_size=train["batch_size"], device=device,
                       max_output_sparsity=prune["max_output_sparsity"], build=build, **regimes.settings(prune))
    setup.exact_levels = frozenset(index for index, (kind, _) in enumerate(levels) if kind in BUDGETS)
    message = rules.regimes_fit(prune, train["batch_size"], len(x_train))
    if message:
        raise UserError(f"{schema.PARAMS_FILE}: {message}")
    return setup, thresholds


def write_structured(setup, levels, method):
    """Neuron pruning's narrower nets for the first seed, one plain checkpoint per level."""
    entries = []
    for stale in Path(paths.STRUCTURED_DIR).glob("level-*.pt"):
        stale.unlink()
    if method:
        # The models of the first torch seed lead the seed-major stack; the masks come from the setup's cache.
        pruned = REGIMES["one-shot"](setup, METHODS[method])["one-shot"]
        for level, (kind, value) in enumerate(levels):
            state = stacks.unstack(pruned, level)
            if setup.build is None:
                small = shrink(state)
            else:
                small = architectures.shrink(setup.template, state, live_units(setup.template, state))[1]
            name = f"level-{level:02d}.pt"
            write_bytes(f"{paths.STRUCTURED_DIR}/{name}", serialized(small))
            widths = [small[f"{layer}.weight"].shape[0] for layer in layer_names(small)[:-1]]
            entry = {"file": name, "seed": setup.seeds[0], "level_by": kind, "level": value,
                     "hidden_size": sum(widths)}
            entries.append(entry if len(widths) == 1 else {**entry, "hidden_sizes": widths})
    write_json(f"{paths.STRUCTURED_DIR}/index.json", {"files": entries})


if __name__ == "__main__":
    run(main)
