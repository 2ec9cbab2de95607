"""`python -m latency [--out DIR] [--methods ...] [--batches ...] [--threads ...]`: see latency/__init__.py."""
import argparse
import json
import shlex
import sys
from pathlib import Path

import yaml

import stages  # noqa: F401  (first: it pins the numerics before numpy and torch load)
from prunelab import costs, latency, stacks
from prunelab.numerics import usable_cores
from prunelab.pruning import METHODS
from prunelab.regimes import REGIMES
from prunelab.rounds import RoundRows
from stages import UserError, paths, run, schema
from stages.artifacts import REBUILD, read_json, read_rows, write_bytes, write_csv, write_figure, write_json
from stages.checkpoints import load_models, load_splits, sample_shape
from stages.prune_sweep import budget_message, levels_of, sweep_setup

import latency as tool
from latency.figure import deployable_figure, speedup_figure

OUT = "latency-results"  # gitignored
LOCK = "dvc.lock"
# The stages whose outputs it reads: the splits, the checkpoints.
READS = ("generate-data", "train")
MAX_BATCH = 2**20
CROSSOVER_TEXT = ("method", "regime", "form", "crossover_sparsity", "top_sparsity", "top_measured_speedup",
                  "top_theoretical_speedup")
COLUMNS = ("method", "regime", "level_by", "level", "amount", "sparsity", "hidden_width", "theoretical_speedup", "form",
           "batch", "threads", "min_s", "median_s", "q25_s", "q75_s", "calls", "measured_speedup",
           "measured_speedup_median")


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m latency", description=tool.__doc__.split("\n")[0])
    parser.add_argument("--out", default=OUT, help=f"folder for the results (default {OUT}/, gitignored)")
    parser.add_argument("--summarize", action="store_true",
                        help="measure nothing: print (and rewrite) the summary.md of the --out folder from its CSV")
    parser.add_argument("--methods", nargs="+", metavar="METHOD",
                        help="pruning methods (default: params.yaml's prune.methods; any of METHODS)")
    parser.add_argument("--regimes", nargs="+", default=["one-shot"], metavar="REGIME",
                        help="whose masks to time (default one-shot, whose masks fine-tune and lottery-one-shot "
                        "share; any of REGIMES: each is rerun for the first seed as prune-sweep runs it)")
    parser.add_argument("--batches", nargs="+", default=["1", "256", "test"], metavar="N",
                        help="batch sizes: integers (rows of the test split, repeated where it has fewer), "
                        "or `test` for the whole test split (default 1 256 test)")
    parser.add_argument("--threads", nargs="+", type=int, metavar="N",
                        help=f"torch thread counts (default 1 and every usable core: {usable_cores()})")
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per measurement (default 9)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    parser.add_argument("--min-seconds", type=float, default=2e-3,
                        help="shortest repeat: calls are looped until one lasts this long (default 0.002)")
    return parser.parse_args(argv)


def checked_names(option, names, registry):
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise UserError(f"--{option} {unknown[0]}: unknown; expected names from {', '.join(registry)}")
    return list(dict.fromkeys(names))


def checked(args):
    """(batches: integers or "test", thread counts), or a UserError naming the argument."""
    for value in args.batches:
        if value != "test" and not (value.isdigit() and 1 <= int(value) <= MAX_BATCH):
            raise UserError(f"--batches {value}: expected `test` (the samples of {paths.TEST_SPLIT}) or an integer "
                            f"in [1, {MAX_BATCH}]")
    counts = args.threads or sorted({1, usable_cores()})
    if any(count < 1 for count in counts) or args.repeats < 1 or args.warmup < 0 or args.min_seconds < 0:
        raise UserError("--threads and --repeats: expected integers >= 1, --warmup and --min-seconds >= 0")
    return list(dict.fromkeys(args.batches)), list(dict.fromkeys(counts))


def batch_inputs(x_test, batches):
    """The largest batch's rows: the test split's, repeated in order where the batch is larger."""
    sizes = [len(x_test) if batch == "test" else int(batch) for batch in batches]
    largest = max(sizes)
    return x_test.repeat((largest + len(x_test) - 1) // len(x_test), 1)[:largest], list(dict.fromkeys(sizes))


def check_fresh(current):
    """The params dvc.lock records for the runs that made the splits and checkpoints against
    params.yaml's (current: as parsed): a change not reproduced yet is a stale input. Without a
    dvc.lock (stages run by hand) there is nothing to compare."""
    if not Path(LOCK).exists():
        return
    try:
        lock = yaml.safe_load(Path(LOCK).read_text())
        recorded = {stage: lock["stages"][stage].get("params", {}).get("params.yaml", {}) for stage in READS}
    except (yaml.YAMLError, KeyError, TypeError, AttributeError):
        raise UserError(f"{LOCK}: unreadable or without stages {', '.join(READS)}; run `dvc repro train`") from None
    for stage, sections in recorded.items():
        for section, values in sections.items():
            now = current.get(section)
            for key in sorted(set(values) | set(now or {})) if isinstance(values, dict) else []:
                if not isinstance(now, dict) or now.get(key) != values.get(key):
                    shown = now.get(key) if isinstance(now, dict) else None
                    raise UserError(f"{LOCK}: stage {stage} ran with {section}.{key} = {values.get(key)!r}, params.yaml "
                                    f"has {shown!r}: its outputs are stale; run `dvc repro train` first")


def sweep_models(params, methods, regimes):
    """(the first torch seed's models of every regime and method at each of its levels (or
    rounds), pruned and trained as prune-sweep does it, the test split's rows, the checkpoints'
    Models): the regimes run on that seed alone, which gives its models of the whole sweep
    (every regime is tested stacked = solo), for any model.arch."""
    prune, train = params["prune"], params["train"]
    (x_train, y_train), (x_test, _) = load_splits()
    trained = load_models(paths.MODELS, sample_shape())
    check_models(trained, params["model"], train)
    check_methods(trained, prune, methods)
    levels = levels_of(prune)
    setup, _ = sweep_setup(prune, train, stacks.part(trained.weights, 0, 1), trained.seeds[:1], levels,
                           trained.inputs(x_train), y_train, "cpu", trained.build)
    models = []
    for method in methods:
        for regime in regimes:
            for name, result in REGIMES[regime](setup, METHODS[method]).items():
                models += regime_models(method, name, result, levels, setup.amounts[0], trained)
    return models, x_test, trained


def check_models(trained, model, train):
    """The checkpoints against params.yaml: the MLP's hidden sizes (another net's model.arch) and the seeds."""
    arch = model.get("arch", "mlp")
    if trained.template is None and arch == "mlp":
        hidden = stacks.architecture(trained.weights)[1]
        fits = hidden == model["hidden_sizes"]
        found, wanted = f"hidden sizes {hidden}", f"model.hidden_sizes {model['hidden_sizes']}"
    else:
        fits, found, wanted = trained.arch == arch, f"architecture {trained.arch}", f"model.arch {arch}"
    seeds, expected = trained.seeds, list(range(train["seed"], train["seed"] + train["repeats"]))
    if not fits or seeds != expected:
        raise UserError(f"{paths.MODELS}: {found} and seeds {seeds[0]}..{seeds[-1]} do not fit params.yaml "
                        f"({wanted}, seeds {expected[0]}..{expected[-1]}); {REBUILD}")


def check_methods(trained, prune, methods):
    """What prune-sweep refuses for a net other than the MLP: a neuron method on a user's module,
    budget levels that do not fit the net (the MLP's path checks neither, as it never did)."""
    if trained.template is None:
        return
    neurons = [method for method in methods if METHODS[method].unit == "neurons"]
    if trained.arch == "module" and neurons:
        raise UserError(f"method {neurons[0]} (--methods, default prune.methods): model.arch is module, whose "
                        "channels prunelab cannot tell apart (docs/architectures.md); expected weight methods only")
    message = budget_message({**prune, "methods": methods}, trained)
    if message:
        raise UserError(f"{schema.PARAMS_FILE}: {message}")


def regime_models(method, regime, result, levels, amounts, trained):
    """A record per model of one regime's result: its listed levels, or its rounds, with the
    sweep's cost columns (hidden_width empty where a user's module has none)."""
    if isinstance(result, RoundRows):
        weights, named = result.weights, [("round", number, fraction) for number, fraction in enumerate(result.removed)]
    else:
        weights, named = result, [(kind, value, amount) for (kind, value), amount in zip(levels, amounts)]
    models, reports = [], costs.reports(weights, trained.template, trained.input_shape)
    for index, ((kind, value, amount), cost) in enumerate(zip(named, reports)):
        models.append({"method": method, "regime": regime, "level_by": kind, "level": value, "amount": amount,
                       "sparsity": cost["sparsity"], "hidden_width": cost.get("hidden_width", ""),
                       "theoretical_speedup": cost["speedup"], "state": stacks.unstack(weights, index)})
    return models


def main(argv=None):
    args = arguments(argv)
    if args.summarize:
        return summarize(args.out)
    params = schema.load("model", "train", "prune")
    methods = checked_names("methods", args.methods or params["prune"]["methods"], METHODS)
    regimes = checked_names("regimes", args.regimes, REGIMES)
    batches, counts = checked(args)
    check_fresh(schema.read_params())
    models, x_test, trained = sweep_models(params, methods, regimes)
    x, batches = batch_inputs(x_test, batches)
    forms, deploy = latency.forms_for(trained.template)
    machine = {**latency.machine(), "seed": trained.seeds[0], "regimes": regimes,
               "command": shlex.join(["python", "-m", "latency", *(sys.argv[1:] if argv is None else argv)])}
    rows = latency.measure(models, trained.inputs(x), batches, counts, forms, repeats=args.repeats,
                           warmup=args.warmup, min_seconds=args.min_seconds, deploy=deploy)
    rows = [{column: row[column] for column in COLUMNS} for row in rows]
    crossing = latency.crossovers(rows, ("method", "regime"))
    machine["load_average_after"] = latency.machine()["load_average_1_5_15min"]
    write_csv(f"{args.out}/latency.csv", rows)
    write_csv(f"{args.out}/crossover.csv", [{**row, "crossover_sparsity": "" if row["crossover_sparsity"] is None
                                              else row["crossover_sparsity"]} for row in crossing])
    write_json(f"{args.out}/machine.json", machine)
    figures(args.out, rows, machine)
    write_bytes(f"{args.out}/summary.md", summary(crossing, machine).encode())
    print(summary(crossing, machine), end="")


def summary(crossing, machine):
    """Markdown: the command and machine, then per thread count a table of method x regime x form,
    a column per batch: the sparsity from which the form beats dense, and the measured
    (theoretical) speedup at the top level."""
    batches = list(dict.fromkeys(row["batch"] for row in crossing))
    lines = [f"`{machine['command']}`", "", f"machine: {json.dumps({k: v for k, v in machine.items() if k != 'command'})}"]
    for count in dict.fromkeys(row["threads"] for row in crossing):
        lines += ["", f"{count} thread{'s' if count > 1 else ''}: beats dense from sparsity; at the top level, "
                  "measured speedup (theoretical)", "",
                  "| method | regime | form | " + " | ".join(f"batch {batch}" for batch in batches) + " |",
                  "|---|---|---|" + "---|" * len(batches)]
        cells = {(row["method"], row["regime"], row["form"], row["batch"]): row for row in crossing
                 if row["threads"] == count}
        for series in dict.fromkeys(key[:3] for key in cells):
            lines.append(f"| {' | '.join(series)} | " + " | ".join(_cell(cells[(*series, batch)]) for batch in batches)
                         + " |")
    return "\n".join(lines) + "\n"


def _cell(row):
    crossover = "never" if row["crossover_sparsity"] in (None, "") else f"{float(row['crossover_sparsity']):.3f}"
    return (f"{crossover}; {float(row['top_measured_speedup']):.2f}x ({float(row['top_theoretical_speedup']):.1f}x "
            f"at {float(row['top_sparsity']):.3f})")


def figures(folder, rows, machine):
    """speedup.png (every measurement) and deployable.png (one thread, the fastest form per method)."""
    title = (f"{machine['cpu']}, {machine['usable_cores']} cores; torch {machine['torch']}, scipy {machine['scipy']}; "
             f"pinned numerics (MKL_CBWR={machine['pins']['MKL_CBWR']}); seed {machine['seed']}")
    write_figure(f"{folder}/speedup.png", speedup_figure(rows, title), 100)
    write_figure(f"{folder}/deployable.png", deployable_figure(rows, title), 100)


def summarize(folder):
    """The summary and figures of a folder a run wrote (from its CSVs and machine.json), printed
    and rewritten: a change to how they are drawn reaches kept folders without measuring again."""
    text = ("method", "regime", "level_by", "form", "hidden_width")  # hidden_width: empty for some modules
    rows = read_rows(f"{folder}/latency.csv", [column for column in COLUMNS if column not in text], text=text)
    rows = [{**row, "batch": int(row["batch"]), "threads": int(row["threads"])} for row in rows]
    crossing = read_rows(f"{folder}/crossover.csv", ("batch", "threads"), text=CROSSOVER_TEXT)
    crossing = [{**row, "batch": int(row["batch"]), "threads": int(row["threads"])} for row in crossing]
    machine = read_json(f"{folder}/machine.json", "command")
    figures(folder, rows, machine)
    write_bytes(f"{folder}/summary.md", summary(crossing, machine).encode())
    print(summary(crossing, machine), end="")


if __name__ == "__main__":
    run(main)
