"""Figures quoted in the prose of README.md and docs/, each tied to the committed file it comes
from: the sentence is rebuilt from the file and must appear as written. Outputs quoted under a
`<!-- command:NAME -->` block sit in an `<!-- output:NAME -->` block; the command is rerun here.
The study tables are checked against the committed default run they share rows with, and
against the experiments' own outputs where this repository holds them (`make study-features`,
`make study-width`; `make check-results` reruns the studies in a clone and compares them all).
"""
import csv
import json
import re
import subprocess
import sys

import pytest

from stages import paths
from tests.conftest import ROOT, sh
from tests.test_readme import DOCS, block


def text(path):
    """A markdown file with every run of whitespace (line breaks included) one space."""
    return re.sub(r"\s+", " ", path.read_text())


def aggregate_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def spread(mean, std, digits=3):
    return f"{float(mean):.{digits}f} ± {float(std):.{digits}f}"


def test_readme_accuracies_at_80_percent_fine_tuned_are_the_aggregates():
    rows = {row["method"]: row for row in aggregate_rows(ROOT / paths.PRUNE_AGGREGATE)
            if (row["regime"], row["level_by"], float(row["level"])) == ("fine-tune", "amount", 0.8)}
    quoted = (f"fine-tuned at 80 % removed it scores "
              f"{spread(rows['layerwise-magnitude']['accuracy_mean'], rows['layerwise-magnitude']['accuracy_std'])}, "
              f"random {spread(rows['global-random']['accuracy_mean'], rows['global-random']['accuracy_std'])}, "
              f"global magnitude {spread(rows['global-magnitude']['accuracy_mean'], rows['global-magnitude']['accuracy_std'])}")
    assert quoted in text(ROOT / "README.md")


def test_readme_sparsity_figures_are_the_summaries():
    summary = json.loads((ROOT / paths.PRUNE_METRICS).read_text())
    within = {(method, regime): 100 * summary[method][regime][f"max_sparsity_within_tolerance_{stat}"]
              for method in ("global-magnitude", "layerwise-magnitude", "global-random")
              for regime in ("one-shot", "fine-tune") for stat in ("mean",)}
    std = 100 * summary["global-random"]["one-shot"]["max_sparsity_within_tolerance_std"]
    magnitude = sorted(within[(method, "one-shot")] for method in ("global-magnitude", "layerwise-magnitude"))
    gains = sorted(within[(method, "fine-tune")] - within[(method, "one-shot")]
                   for method in ("global-magnitude", "layerwise-magnitude", "global-random"))
    readme = text(ROOT / "README.md")
    assert (f"magnitude {round(magnitude[0])}–{round(magnitude[-1])} %, random "
            f"{round(within[('global-random', 'one-shot')])} % ± {round(std)}") in readme
    assert f"adds {round(gains[0])} to {round(gains[-1])} points of sparsity within tolerance" in readme


def test_reference_sensitivity_figures_are_the_aggregates():
    rows = {(row["layer"], float(row["amount"])): spread(row["accuracy_mean"], row["accuracy_std"])
            for row in aggregate_rows(ROOT / paths.SENSITIVITY_AGGREGATE)}
    quoted = (f"with 80 % of a layer removed, accuracy is {rows[('fc2', 0.8)]} when it is fc2 and "
              f"{rows[('fc1', 0.8)]} when it is fc1. Past 95 % fc1 collapses ({rows[('fc1', 0.98)]} at 98 %) "
              f"while fc2 keeps {rows[('fc2', 0.98)]}")
    assert quoted in text(ROOT / "docs" / "reference.md")


def quoted_commands():
    names = re.findall(r"<!-- command:([\w-]+) -->", "\n".join(path.read_text() for path in DOCS))
    assert len(names) == len(set(names)), names
    return names


def test_readme_latency_figures_are_the_kept_latency_run():
    """One thread, each method's top level: CSR at batch 256 against dense, the `speedup`
    column there, and structured pruning's shrunk net at batch 256 and the whole test split."""
    rows = aggregate_rows(ROOT / "docs/results/latency-default/latency.csv")
    top = {row["method"]: max(float(other["level"]) for other in rows if other["method"] == row["method"]) for row in rows}
    rows = [row for row in rows if row["threads"] == "1" and float(row["level"]) == top[row["method"]]]

    def span(values, digits):
        return f"{min(values):.{digits}f}–{max(values):.{digits}f}×"

    csr = span([float(row["measured_speedup"]) for row in rows if row["batch"] == "256" and row["form"].endswith("-csr")], 1)
    theory = span([float(row["theoretical_speedup"]) for row in rows], 0)
    shrunk = span([float(row["measured_speedup"]) for row in rows
                   if row["method"] == "structured" and row["form"] == "shrunk" and row["batch"] != "1"], 1)
    quoted = (f"CSR ran {csr} faster than dense where `speedup` says {theory}; at batch 1 unstructured sparsity "
              f"barely pays; structured pruning's narrower net gained {shrunk}")
    assert quoted in text(ROOT / "README.md")


def test_every_quoted_command_has_its_output_block():
    names = quoted_commands()
    assert {"digits-layers", "protocols-rounds"} <= set(names)
    for name in names:
        block(f"output:{name}")


@pytest.mark.parametrize("name", quoted_commands())
def test_a_quoted_commands_output_is_what_it_prints(committed, name):
    """Run from the root of a copy of this tree (the commands read committed files only)."""
    assert sh(committed, "bash", "-c", block(f"command:{name}")).stdout.strip() == block(f"output:{name}")


def results_rows(table):
    """{method: (one-shot, fine-tune)} of a results table's rows (a study table's too)."""
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[-3]] = tuple(cells[-2:])
    return rows


def test_the_width_studys_default_rows_are_the_committed_default_run():
    """width-256 is the default model: its rows are the README's results table, its dense accuracy train's."""
    table = block("study:width")
    lines = table.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("| width-256 |"))
    rows = results_rows("\n".join(["", "", *lines[start:start + 3]]))
    assert rows == results_rows(block("results"))
    train = json.loads((ROOT / paths.TRAIN_METRICS).read_text())
    assert f"| width-256 | [256] | {spread(train['test_accuracy_mean'], train['test_accuracy_std'])} |" in lines[start]


def test_the_exp_show_views_baseline_row_is_the_committed_default_run():
    summary = json.loads((ROOT / paths.PRUNE_METRICS).read_text())
    train = json.loads((ROOT / paths.TRAIN_METRICS).read_text())
    main = next(line for line in block("study:exp-show").splitlines() if line.startswith("| main "))
    cells = [cell.strip() for cell in main.strip("|").split("|")]
    # dvc exp show prints 5 significant digits.
    assert cells[1:] == [f"{summary['dense_accuracy_mean']:.5g}",
                         f"{summary['global-magnitude']['one-shot']['max_sparsity_within_tolerance_mean']:.5g}",
                         f"{summary['layerwise-magnitude']['fine-tune']['max_sparsity_within_tolerance_mean']:.5g}",
                         str(25), "[256]"]
    assert summary["dense_accuracy_mean"] == train["test_accuracy_mean"]


@pytest.mark.parametrize("study", ["features", "width"])
def test_a_study_table_is_the_table_of_its_kept_experiments(study):
    """From docs/studies/STUDY.json (`python -m study keep`), on any clone; `make check-results`
    reruns the study and checks the file."""
    result = subprocess.run([sys.executable, "-m", "study", "compare", study, "--kept", f"docs/studies/{study}.json"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == block(f"study:{study}")


@pytest.mark.parametrize("name, shape", [("breast_cancer", "the seed's net (30-256-1, {parameters} parameters; dense test "
                                                          "accuracy {accuracy})"),
                                         ("digits-300-100", "(64-300-100-10, {parameters} parameters; dense {accuracy})")])
def test_other_datasets_tables_and_dense_accuracy_are_their_results_files(name, shape):
    """docs/studies-and-results.md quotes each docs/results/NAME: its results.md table and train.json's dense accuracy."""
    folder = ROOT / "docs" / "results" / name
    train = json.loads((folder / "train.json").read_text())
    page = text(ROOT / "docs" / "studies-and-results.md")
    assert re.sub(r"\s+", " ", (folder / "results.md").read_text().strip()) in page
    assert shape.format(parameters=train["parameters"],
                        accuracy=spread(train["test_accuracy_mean"], train["test_accuracy_std"])) in page


def test_digits_per_layer_prose_and_compression_are_its_files():
    folder = ROOT / "docs" / "results" / "digits-300-100"
    row = next(row for row in aggregate_rows(folder / "prune_aggregate.csv")
               if (row["method"], row["regime"], row["level_by"], float(row["level"])) ==
               ("global-magnitude", "fine-tune", "amount", 0.8))
    percent = {layer: round(100 * float(row[f"{layer}_sparsity_mean"])) for layer in ("fc1", "fc2", "fc3")}
    tuned = json.loads((folder / "prune.json").read_text())["global-magnitude"]["fine-tune"]
    page = text(ROOT / "docs" / "studies-and-results.md")
    assert (f"(fine-tuned mean accuracy {float(row['accuracy_mean']):.3f}, within a point of dense), global magnitude "
            f"leaves fc1 {percent['fc1']} % sparse, fc2 {percent['fc2']} % and fc3, the output layer, "
            f"{percent['fc3']} %") in page
    assert (f"up to {round(100 * tuned['max_sparsity_within_tolerance_mean'])} % ± "
            f"{round(100 * tuned['max_sparsity_within_tolerance_std'])} % sparsity, a compression of "
            f"{tuned['compression_within_tolerance_mean']:.1f}× ± {tuned['compression_within_tolerance_std']:.1f}×") in page


def study_table(name):
    """{experiment: (dense accuracy, {method: (one-shot, fine-tune)})} of a study block, the percent signs dropped."""
    table, current = {}, None
    for line in block(f"study:{name}").splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0]:
            current = cells[0]
            table[current] = (cells[2], {})
        table[current][1][cells[3]] = tuple(cell.split("%")[0] for cell in cells[4:6])
    return table


def study_lines(name):
    """The quoted output of a command run on a study's experiments, as lists of fields."""
    return [line.split() for line in block(f"study-output:{name}-layers").splitlines()]


def percent(value):
    return f"{100 * float(value):.0f} %"


def test_the_features_prose_is_its_table_and_command_output():
    table, page = study_table("features"), text(ROOT / "docs" / "studies-and-results.md")
    one_shot = {method: sorted(float(table[f"features-{n}"][1][method][0]) for n in (10, 20, 30))
                for method in ("global-magnitude", "global-random", "layerwise-magnitude")}
    tuned = {method: " → ".join(table[f"features-{n}"][1][method][1] for n in (10, 20, 30))
             for method in ("global-magnitude", "global-random", "layerwise-magnitude")}
    for quoted in (f"{table['features-10'][0]} at 10 features, {table['features-30'][0]} at 30",
                   f"{one_shot['global-magnitude'][0]:.1f}–{one_shot['global-magnitude'][-1]:.1f} % for global magnitude, "
                   f"{one_shot['global-random'][0]:.1f}–{one_shot['global-random'][-1]:.1f} % for random, "
                   f"{one_shot['layerwise-magnitude'][0]:.1f}–{one_shot['layerwise-magnitude'][-1]:.1f} % layer-wise",
                   f"global magnitude {tuned['global-magnitude']} %, random {tuned['global-random']} %, "
                   f"layer-wise {tuned['layerwise-magnitude']} %"):
        assert quoted in page
    rows = {(n, level): (fc2, accuracy) for n, level, fc2, accuracy in study_lines("features")}
    for quoted in (f"({float(rows[('10', '0.5')][1]):.3f} at half the weights removed, against "
                   f"{float(rows[('10', '0.0')][1]):.3f} dense",
                   f"keeps {float(rows[('10', '0.6')][1]):.3f} accuracy with 10 features against "
                   f"{float(rows[('20', '0.6')][1]):.3f} and {float(rows[('30', '0.6')][1]):.3f} with 20 and 30",
                   f"{percent(rows[('10', '0.6')][0])} of it at that level against {percent(rows[('20', '0.6')][0])} "
                   f"and {percent(rows[('30', '0.6')][0])}"):
        assert quoted in page


def test_the_width_prose_is_its_table_and_command_output():
    table, page = study_table("width"), text(ROOT / "docs" / "studies-and-results.md")
    widths = (16, 64, 256, 1024)
    tuned = {method: " → ".join(table[f"width-{w}"][1][method][1] for w in widths)
             for method in ("global-random", "layerwise-magnitude")}
    layerwise = sorted(float(table[f"width-{w}"][1]["layerwise-magnitude"][0]) for w in widths)
    rows = {width: (fc2, accuracy) for width, _, fc2, accuracy in study_lines("width")}
    for quoted in (f"keeps dense accuracy to {table['width-16'][1]['global-magnitude'][0]} % sparsity at width 16 "
                   f"and to {table['width-1024'][1]['global-magnitude'][0]} % at width 1024",
                   f"magnitude {tuned['layerwise-magnitude']} %, random {tuned['global-random']} %",
                   f"layer-wise stays at {layerwise[0]:.1f}–{layerwise[-1]:.1f} % at every width",
                   f"({table['width-1024'][0]} against {table['width-256'][0]} at 256)",
                   f"fc2 is {percent(rows['16'][0])} pruned at width 16 and {percent(rows['1024'][0])} at width 1024 "
                   f"(accuracy {float(rows['16'][1]):.3f} against {float(rows['1024'][1]):.3f}"):
        assert quoted in page
