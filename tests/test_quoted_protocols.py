"""Figures quoted in the prose of docs/protocols.md on the default data (every section before
the digits one), each rebuilt from the kept run it comes from (docs/results/protocols-*/):
prune.json's summaries as the results tables print them (`.1%`), prune_aggregate.csv's rows,
data.json and command.txt. Every sentence must appear as written (whitespace collapsed). The
tables themselves are tests/test_readme.py's; the per-round and layer-collapse tables are
command blocks that tests/test_quoted_figures.py reruns.
"""
import functools
import inspect
import json
import re

import pytest
import yaml
from sklearn import datasets

from prunelab.methods import Score
from prunelab.pruning import METHODS
from tests.conftest import ROOT
from tests.test_quoted_figures import aggregate_rows, results_rows, spread
from tests.test_readme import block

RESULTS = ROOT / "docs" / "results"
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())  # today's: the README's default run


@functools.cache
def ran_with(run):
    """The params.yaml a kept run ran with (tools/experiment.sh keeps it): prose built from
    params reads these, so it stays right when today's defaults change."""
    return yaml.safe_load((RESULTS / run / "params.yaml").read_text())
WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
GM, LW, LAMP, GG, LG = "global-magnitude", "layerwise-magnitude", "lamp", "global-gradient", "layerwise-gradient"
GR, LR, ERK = "global-random", "layerwise-random", "erk-random"
TICKETS = ("lottery-ticket", "lottery-reinit")
PLAIN, GUARD, ALL = "protocols-methods", "protocols-guard", "protocols-all"  # the methods, guard and every-method runs


def prose():
    """The page before its digits section (that section quotes its own run), whitespace collapsed."""
    before = (ROOT / "docs" / "protocols.md").read_text().split("## Every method under every regime, digits")[0]
    return re.sub(r"\s+", " ", before)


@functools.cache
def summary(run):
    return json.loads((RESULTS / run / "prune.json").read_text())


@functools.cache
def rows(run):
    return aggregate_rows(RESULTS / run / "prune_aggregate.csv")


def data(run):
    return json.loads((RESULTS / run / "data.json").read_text())


def command(run):
    return (RESULTS / run / "command.txt").read_text()


def methods(run):
    return [name for name, entry in summary(run).items() if isinstance(entry, dict)]


def sparsity(run, method, regime, stat="mean"):
    return summary(run)[method][regime][f"max_sparsity_within_tolerance_{stat}"]


def printed(value):
    """A fraction as the results tables print it (`.1%`), the percent sign dropped."""
    return f"{value:.1%}".removesuffix("%")


def cell(run, method, regime, stat="mean"):
    """Largest sparsity within tolerance as the results tables print it, the percent sign dropped."""
    return printed(sparsity(run, method, regime, stat))


def versus(run, method, regime, other):
    return f"{cell(run, method, regime)} % against {cell(run, method, other)} %"


def percent(value, digits=0):
    """A fraction as the prose writes it: 0.9 -> '90 %'."""
    return f"{100 * value:.{digits}f} %"


def row(run, method, regime, level):
    (found,) = [r for r in rows(run) if (r["method"], r["regime"], r["level_by"], float(r["level"])) ==
                (method, regime, "amount", level)]
    return found


def in_rounds(run):
    """The regimes that prune in rounds (their rows are levelled by round), the dense controls left out."""
    return sorted({r["regime"] for r in rows(run) if r["level_by"] == "round" and not r["regime"].startswith("dense-")})


def per_round(run, method=GM):
    """{(regime, round): (accuracy mean, std)}."""
    return {(r["regime"], int(r["round"])): (float(r["accuracy_mean"]), float(r["accuracy_std"]))
            for r in rows(run) if r["level_by"] == "round" and r["method"] == method}


def last_round(run):
    return max(key[1] for key in per_round(run))


def regimes(run):
    """The regimes its command.txt asked for (`prune.regimes=[...]`)."""
    return re.search(r"prune\.regimes=\[([\w,-]+)\]", command(run)).group(1).split(",")


def commit(run):
    return re.search(r"\(commit (\w+)\)", command(run)).group(1)


def one_class(run):
    """The test split's share of class 0: what a net that answers one class scores."""
    test = data(run)["test"]
    return f"{test['class_0'] / test['samples']:.3f}"


def listed(numbers):
    """Runs of consecutive numbers: [1, 2, 3, 5, 7, 8] -> '1–3, 5 and 7–8'."""
    runs = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    spans = [f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs]
    return ", ".join(spans[:-1]) + f" and {spans[-1]}" if len(spans) > 1 else spans[0]


@pytest.mark.parametrize("run, sentence", [
    ("protocols-global-magnitude", "mean ± std over the {seeds} seeds, and in brackets the gain in accuracy points"),
    ("protocols-methods", "mean ± std over {seeds} seeds (`python -m stages.results`)"),
    ("protocols-guard", "mean ± std over {seeds} seeds (`python -m stages.results`)"),
    ("protocols-all", "mean ± std over {seeds} seeds, and in brackets the gain in accuracy points")])
def test_each_tables_seeds_are_its_runs(run, sentence):
    assert sentence.format(seeds=WORDS[summary(run)["seeds"]]) in prose()


def test_the_global_magnitude_runs_dense_accuracy_and_ceiling_are_its_files():
    run = "protocols-global-magnitude"
    result, dense = summary(run), row(run, GM, "one-shot", 0.0)
    weights = int(float(dense["fc1_nonzero_weights_mean"]) + float(dense["fc2_nonzero_weights_mean"]))
    total = int(float(dense["total_params_mean"]))
    removed, last = result["max_amount"], last_round(run)
    (at_last,) = {float(r["amount_mean"]) for r in rows(run) if r["level_by"] == "round" and r["round"] == str(last)}
    ceiling = max(float(r["sparsity_mean"]) for r in rows(run))
    assert at_last == removed and printed(ceiling) == printed(removed * weights / total)
    for quoted in (f"first run at 27a9698, last rerun at {commit(run)}, after Adam's square root became the correctly rounded one",
                   f"dense accuracy ({spread(result['dense_accuracy_mean'], result['dense_accuracy_std'], 4)})",
                   f"{printed(ceiling)} % is the most a weight mask reaches here: the rounds stop once "
                   f"{percent(removed)} of the {weights} weights are gone ({100 * removed:.2f} % after round {last}), "
                   f"and the {total - weights} biases stay ({removed:.4f} × {weights} / {total} = "
                   f"{percent(removed * weights / total, 1)})"):
        assert quoted in prose()


def test_the_answers_on_imp_gradual_and_the_dense_control_are_the_global_magnitude_run():
    run = "protocols-global-magnitude"
    result, accuracy, last = summary(run), per_round(run), last_round(run)
    imp = ("iterative", "lottery-ticket", "lr-rewind")
    tuned, dense = result[GM]["fine-tune"], result["dense_accuracy_mean"]
    assert all(accuracy[(regime, last)][0] >= dense - result["tolerance"] for regime in imp)  # "end within one point"
    reached = sorted(cell(run, GM, regime) for regime in imp)
    fine = [r for r in rows(run) if r["regime"] == "fine-tune"]
    emptied = min(float(r["level"]) for r in fine if float(r["fc2_empty_mean"]) == 1)
    assert all(float(r["fc2_empty_mean"]) == 1 for r in fine if float(r["level"]) >= emptied)
    assert one_class(run) == f"{tuned['accuracy_at_max_level_mean']:.3f}"  # "chance"
    assert sparsity(run, GM, "gradual") < sparsity(run, GM, "fine-tune")
    gains = {regime: 100 * entry["gain_over_dense_budget_mean"] for regime, entry in result[GM].items()
             if "gain_over_dense_budget_mean" in entry}
    assert min(gains.values()) > 0  # "every gain in brackets is positive"
    rounds = [gains[regime] for regime in in_rounds(run)]
    prune, train, removed = ran_with(run)["prune"], ran_with(run)["train"], percent(result["max_amount"])
    for quoted in (f"end within one point of dense at {removed} of the weights removed (largest sparsity within "
                   f"tolerance {reached[0]}–{reached[-1]} % over all parameters), where one-shot + "
                   f"{prune['finetune_epochs']} epochs of fine-tuning keep {cell(run, GM, 'fine-tune')} % ± "
                   f"{cell(run, GM, 'fine-tune', 'std')} % and at {removed} of the weights fall to "
                   f"{tuned['accuracy_at_max_level_mean']:.3f} (chance: global magnitude has emptied the output layer, "
                   f"fc2_empty_mean 1.0 from {percent(emptied)} on)",
                   f"Gradual, with the default {prune['gradual_epochs']} epochs (`prune.gradual_epochs`), does not: "
                   f"{cell(run, GM, 'gradual')} % ± {cell(run, GM, 'gradual', 'std')} %, below fine-tune",
                   f"training the dense model on lowers its accuracy ({dense:.4f} dense; "
                   f"{tuned['dense_budget_accuracy_mean']:.4f} after {prune['finetune_epochs']} more epochs at "
                   f"{prune['finetune_lr']}; {result[GM]['lottery-ticket']['dense_budget_accuracy_mean']:.4f} after "
                   f"{last} × {train['epochs']} more), so every gain in brackets is positive",
                   f"the rounds' +{round(min(rounds))} to +{round(max(rounds))} points are partly the dense control's "
                   f"overfitting at `train.lr` {train['lr']}, full batch, on {data(run)['train']['samples']} samples"):
        assert quoted in prose()


def test_the_ticket_against_its_reinitialisation_is_the_per_round_accuracy():
    run = "protocols-global-magnitude"
    accuracy, result = per_round(run), summary(run)
    rounds = range(1, last_round(run) + 1)
    gap = {k: accuracy[("lottery-ticket", k)][0] - accuracy[("lottery-reinit", k)][0] for k in rounds}
    ahead, behind = [k for k in rounds if gap[k] > 0], [k for k in rounds if gap[k] < 0]
    assert len(ahead) + len(behind) == len(rounds)
    widest = max(ahead, key=gap.get)
    (std,) = {f"{100 * accuracy[(regime, widest)][1]:.1f}" for regime in TICKETS}
    floor = result["dense_accuracy_mean"] - result["tolerance"]
    assert all(accuracy[(regime, k)][0] >= floor for regime in TICKETS for k in rounds)
    (within,) = {f"{cell(run, GM, regime)} % ± {cell(run, GM, regime, 'std')} %" for regime in TICKETS}
    generator = inspect.signature(datasets.make_classification).parameters  # prunelab.data passes neither count
    informative, redundant = generator["n_informative"].default, generator["n_redundant"].default
    features = data(run)["features"]
    for quoted in (f"both reach the same largest sparsity within tolerance ({within} each), their means within "
                   f"tolerance of dense at every round",
                   f"the ticket's mean is ahead in rounds {listed(ahead)}, by at most {100 * gap[widest]:.1f} points "
                   f"(round {widest}: {accuracy[('lottery-ticket', widest)][0]:.4f} against "
                   f"{accuracy[('lottery-reinit', widest)][0]:.4f}, about "
                   f"{WORDS[round(100 * gap[widest] / float(std))]} stds of {std} points), and behind in rounds "
                   f"{listed(behind)}",
                   f"{informative} of its {features} features are informative and "
                   f"{WORDS[ran_with(run)['data']['n_clusters_per_class']]} Gaussian clusters per class",
                   f"{informative} of the {features} features are informative (and {redundant} redundant, combinations "
                   f"of them); presumably the loss gradient tells the weights on the "
                   f"{features - informative - redundant} noise inputs apart"):
        assert quoted in prose()


def test_the_lamp_guard_and_erk_prose_is_the_methods_and_guard_runs():

    def both(run, method):
        return f"{cell(run, method, 'one-shot')} / {cell(run, method, 'fine-tune')} %"

    cap = float(re.search(r"prune\.max_output_sparsity=([\d.]+)", command(GUARD)).group(1))
    assert all(float(r["fc2_empty_mean"]) == 0 for r in rows(PLAIN) if r["method"] == LAMP)  # "never empties"
    assert all(sparsity(PLAIN, ranked, regime) > sparsity(PLAIN, layerwise, regime)
               for ranked, layerwise in ((LAMP, LW), (GG, LG)) for regime in ("one-shot", "fine-tune"))
    erk = [r for r in rows(PLAIN) if (r["method"], r["regime"]) == (ERK, "one-shot")]
    dense_output = max(float(r["level"]) for r in erk if float(r["fc2_sparsity_mean"]) == 0)
    assert all(float(r["fc2_sparsity_mean"]) == 0 for r in erk if float(r["level"]) <= dense_output)
    harder = [float(r["fc1_sparsity_mean"]) > float(row(PLAIN, GR, "one-shot", float(r["level"]))["fc1_sparsity_mean"])
              for r in erk if 0 < float(r["level"]) <= dense_output]
    assert harder and all(harder)
    assert sparsity(PLAIN, ERK, "fine-tune") > sparsity(PLAIN, GR, "fine-tune")
    assert sparsity(PLAIN, ERK, "one-shot") < sparsity(PLAIN, GR, "one-shot")
    for quoted in (f"LAMP never empties the output layer and keeps dense accuracy to {cell(PLAIN, LAMP, 'one-shot')} % "
                   f"one-shot and {cell(PLAIN, LAMP, 'fine-tune')} % fine-tuned (global magnitude: "
                   f"{cell(PLAIN, GM, 'one-shot')} % and {cell(PLAIN, GM, 'fine-tune')} %); with the guard at {cap} "
                   f"(LAMP's Unif+), global magnitude fine-tuned reaches {cell(GUARD, GM, 'fine-tune')} % instead of "
                   f"{cell(PLAIN, GM, 'fine-tune')} %",
                   f"LAMP against layer-wise magnitude ({both(PLAIN, LAMP)} against {both(PLAIN, LW)}), global against "
                   f"layer-wise gradient ({both(PLAIN, GG)} against {both(PLAIN, LG)})",
                   f"the second with `-S prune.max_output_sparsity={cap}`",
                   f"The same with `prune.max_output_sparsity: {cap}` (the output layer kept at least "
                   f"{percent(1 - cap)} dense)",
                   f"keeps dense accuracy to {cell(PLAIN, GG, 'one-shot')} % sparsity one-shot",
                   f"uniform random after fine-tuning ({cell(PLAIN, ERK, 'fine-tune')} % against "
                   f"{cell(PLAIN, GR, 'fine-tune')} %), not one-shot ({cell(PLAIN, ERK, 'one-shot')} % against "
                   f"{cell(PLAIN, GR, 'one-shot')} %): it keeps the output layer dense up to "
                   f"{percent(dense_output)}, so one-shot its fc1 is pruned harder"):
        assert quoted in prose()


def test_layer_collapse_at_90_percent_is_the_one_shot_rows():
    level = float(re.search(r"float\(r\['level'\]\) == ([\d.]+)", block("command:protocols-collapse")).group(1))
    collapsed, lamp, gradient = (row(PLAIN, method, "one-shot", level) for method in (GM, LAMP, GG))
    guarded = row(GUARD, GM, "one-shot", level)
    output = int(float(row(PLAIN, GM, "one-shot", 0.0)["fc2_nonzero_weights_mean"]))
    assert float(collapsed["fc2_empty_mean"]) == 1  # a mean of 0/1 flags: every seed
    assert one_class(PLAIN) == f"{float(collapsed['accuracy_mean']):.3f}"

    def sparse(r, digits=0):
        return f"{percent(float(r['fc2_sparsity_mean']), digits)} sparse and"

    for quoted in (f"One-shot at {percent(level)} of the weights removed, mean over seeds (the command",
                   f"One-shot, at {percent(level)} of the weights removed, global magnitude has emptied fc2 "
                   f"(the {output}-weight output layer) in every seed (`fc2_empty_mean` "
                   f"{float(collapsed['fc2_empty_mean']):.1f}) and answers one class "
                   f"({float(collapsed['accuracy_mean']):.3f}); LAMP "
                   f"leaves fc2 {sparse(lamp)} scores "
                   f"{float(lamp['accuracy_mean']):.3f}, the global gradient score {sparse(gradient)} "
                   f"{float(gradient['accuracy_mean']):.3f}, and global magnitude under the guard keeps fc2 "
                   f"{sparse(guarded, 1)} scores {float(guarded['accuracy_mean']):.3f}"):
        assert quoted in prose()


def test_the_default_methods_rows_are_the_readmes_table():
    shown, readme = results_rows(block("results:protocols-methods")), results_rows(block("results"))
    assert set(readme) == set(PARAMS["prune"]["methods"])
    assert {method: shown[method] for method in readme} == readme
    assert f"The rows of the {WORDS[len(readme)]} default methods equal the README's table" in prose()


def test_the_every_method_run_repeats_the_smaller_runs():
    everything = (RESULTS / ALL / "prune_aggregate.csv").read_text().splitlines()
    alone = (RESULTS / "protocols-global-magnitude" / "prune_aggregate.csv").read_text().splitlines()
    assert everything[0] == alone[0] and [line for line in everything if line.startswith(f"{GM},")] == alone[1:]
    alone_methods = rows(PLAIN)
    assert "round" not in alone_methods[0]  # "the methods run's file predates the `round` column"
    assert [{key: value for key, value in r.items() if key != "round"} for r in rows(ALL)
            if r["regime"] in ("one-shot", "fine-tune")] == alone_methods

    def table_row(name, method):
        return next(line for line in block(name).splitlines() if line.startswith(f"| {method} |"))

    assert table_row("results:protocols-all", GM) == table_row("results:protocols", GM)
    first_columns = [[cells.strip() for cells in line.strip("|").split("|")][:3]
                     for line in block("results:protocols-all").splitlines()[2:]]
    assert ({method: (once, tuned.split(" (")[0]) for method, once, tuned in first_columns} ==
            results_rows(block("results:protocols-methods")))

    digits = "protocols-digits-300-100"
    assert methods(digits) == methods(ALL) and regimes(digits) == regimes(ALL)
    for quoted in (f"on a clone of {commit(ALL)})",
                   f"with the {WORDS[len(methods(ALL))]} weight methods, the {WORDS[len(regimes(ALL))]} regimes and "
                   f"`prune.dense_budget=true`",
                   f"on `digits` with `[300, 100]`, the same {WORDS[len(methods(digits))]} weight methods under the "
                   f"same {WORDS[len(regimes(digits))]} regimes"):
        assert quoted in prose()


def is_random(name):
    """The prose's random methods: random by their records' scores, not by their names."""
    return METHODS[name].score in (Score("uniform"), Score("erk"))


WEIGHT_MASKS = [name for name in methods(ALL) if not is_random(name)]


def test_imp_against_one_shot_and_fine_tune_is_the_every_method_run():
    names = methods(ALL)
    assert all(sparsity(ALL, name, regime) >= sparsity(ALL, name, "fine-tune")
               for name in names for regime in ("lottery-ticket", "iterative", "lr-rewind"))
    ceiling = sorted(sparsity(ALL, name, regime) for name in WEIGHT_MASKS for regime in in_rounds(ALL))
    pairs = ", ".join(f"{label} {versus(ALL, name, 'lottery-ticket', 'fine-tune')}"
                      for label, name in (("global magnitude", GM), ("layer-wise", LW), ("LAMP", LAMP),
                                          ("global random", GR)))
    assert (f"the ticket's largest sparsity within tolerance is at least the fine-tuned one's in all "
            f"{WORDS[len(names)]} rows ({pairs}); iterative and lr-rewind likewise. Every non-random method reaches "
            f"the ceiling of a weight mask in the rounds ({printed(ceiling[0])}–{printed(ceiling[-1])} %)") in prose()


def test_gradual_against_fine_tune_is_the_every_method_run():
    gradual = {name: sparsity(ALL, name, "gradual") - sparsity(ALL, name, "fine-tune") for name in methods(ALL)}
    below = {name for name, gap in gradual.items() if gap < 0}
    assert below == {GM, LAMP, LG, GR, LR} and {name for name, gap in gradual.items() if gap == 0} == {LW}
    prune = ran_with(ALL)["prune"]
    assert (f"Gradual ({prune['gradual_epochs']} epochs) does not beat fine-tune ({prune['finetune_epochs']} epochs) "
            f"here**: below it for {WORDS[len(below)]} methods (global magnitude "
            f"{versus(ALL, GM, 'gradual', 'fine-tune')}, LAMP {versus(ALL, LAMP, 'gradual', 'fine-tune')}, layer-wise "
            f"gradient {versus(ALL, LG, 'gradual', 'fine-tune')}, global and layer-wise random too), equal for "
            f"layer-wise magnitude, ahead only for ERK ({versus(ALL, ERK, 'gradual', 'fine-tune')}, std "
            f"{cell(ALL, ERK, 'fine-tune', 'std')}) and the global gradient score "
            f"({versus(ALL, GG, 'gradual', 'fine-tune')})") in prose()


def test_tickets_against_their_reinitialisation_are_the_every_method_run():
    gap = {name: 100 * (sparsity(ALL, name, "lottery-ticket") - sparsity(ALL, name, "lottery-reinit"))
           for name in methods(ALL)}
    assert all(round(abs(gap[name]), 1) <= 0.1 for name in WEIGHT_MASKS)
    both = sorted(sparsity(ALL, name, regime) for name in WEIGHT_MASKS for regime in TICKETS)
    (points,) = {round(gap[name]) for name in (GR, LR)}
    assert all(gap[name] < 100 * max(sparsity(ALL, name, regime, "std") for regime in TICKETS)
               for name in (GR, LR))  # "within about one std"

    def spread_of(name, regime):
        return f"{cell(ALL, name, regime)} % ± {cell(ALL, name, regime, 'std')}"

    assert (f"for the {WORDS[len(WEIGHT_MASKS)]} non-random methods the two agree within 0.1 point of sparsity "
            f"({printed(both[0])}–{printed(both[-1])} % each); for global and layer-wise random masks the rewound "
            f"ticket is ahead by about {points} points (global random {spread_of(GR, 'lottery-ticket')} against "
            f"{spread_of(GR, 'lottery-reinit')}, layer-wise random {spread_of(LR, 'lottery-ticket')} against "
            f"{spread_of(LR, 'lottery-reinit')}; ERK {cell(ALL, ERK, 'lottery-ticket')} against "
            f"{cell(ALL, ERK, 'lottery-reinit')} %), within about one std") in prose()


def test_global_against_layer_wise_in_every_regime_is_the_every_method_run():
    regimes = list(summary(ALL)[GM])
    assert all(sparsity(ALL, LAMP, regime) >= sparsity(ALL, GM, regime) for regime in regimes)
    shown = ("one-shot", "fine-tune", "gradual", "lottery-one-shot")
    pairs = [(ranked, layerwise, regime) for ranked, layerwise in ((LAMP, LW), (GG, LG)) for regime in shown]
    ties = [(ranked, regime) for ranked, layerwise, regime in pairs
            if cell(ALL, ranked, regime) == cell(ALL, layerwise, regime)]
    assert ties == [(GG, "lottery-one-shot")]  # "the gradient scores' one-shot tickets tie", as the table prints them
    assert all(sparsity(ALL, ranked, regime) > sparsity(ALL, layerwise, regime)
               for ranked, layerwise, regime in pairs if (ranked, regime) not in ties)

    def across(name):
        return " / ".join(cell(ALL, name, regime) for regime in shown)

    def against(regime):
        return f"{cell(ALL, LAMP, regime)} against {cell(ALL, GM, regime)} %"

    for quoted in (f"LAMP is at or above global magnitude under every regime (one-shot {against('one-shot')}, gradual "
                   f"{against('gradual')}, the one-shot ticket {against('lottery-one-shot')})",
                   f"(LAMP against layer-wise magnitude: {across(LAMP)} % against {across(LW)} % one-shot, fine-tune, "
                   f"gradual, one-shot ticket; global against layer-wise gradient: {across(GG)} % against "
                   f"{across(LG)} %)"):
        assert quoted in prose()


def test_erk_in_the_rounds_is_the_every_method_run_and_its_earlier_results_the_commit_named():
    """Today's figures from the kept run; the earlier ones from the run's files at the commit the page names."""
    import subprocess
    old = json.loads(subprocess.run(["git", "show", f"d496cf0:docs/results/{ALL}/prune.json"], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout)

    def before(regime):
        return printed(old[ERK][regime]["max_sparsity_within_tolerance_mean"])

    assert sparsity(ALL, ERK, "iterative") > old[ERK]["iterative"]["max_sparsity_within_tolerance_mean"]
    for regime in ("one-shot", "fine-tune", "gradual"):
        assert cell(ALL, ERK, regime) == before(regime)
    assert (f"ERK reaches {cell(ALL, ERK, 'iterative')} % iterative and {cell(ALL, ERK, 'lr-rewind')} % with lr-rewind "
            f"({before('iterative')} % and {before('lr-rewind')} % before, in this table at commit d496cf0) and "
            f"{cell(ALL, ERK, 'lottery-ticket')} % as a ticket ({before('lottery-ticket')} %); gradual stays at "
            f"{cell(ALL, ERK, 'gradual')} % and one-shot and fine-tune did not change") in prose()


def test_every_gain_over_the_dense_control_is_the_every_method_run():
    rounds, result = in_rounds(ALL), summary(ALL)
    gains = {regime: [100 * result[name][regime]["gain_over_dense_budget_mean"] for name in methods(ALL)]
             for regime in result[GM] if "gain_over_dense_budget_mean" in result[GM][regime]}
    without = [gain for regime, values in gains.items() if regime not in rounds for gain in values]
    within = [gain for regime in rounds for gain in gains[regime]]
    assert min(without + within) > 0
    assert (f"every gain in brackets is positive (+{min(without):.1f} to +{max(without):.1f} points for the regimes "
            f"without rounds, +{min(within):.1f} to +{max(within):.1f} for the rounds)") in prose()
