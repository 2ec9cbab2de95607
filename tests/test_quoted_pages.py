"""Figures quoted in the prose of docs/scale.md, docs/reference.md, docs/reproducibility.md,
docs/cluster.md and docs/studies-and-results.md, each rebuilt from what it comes from: a bench
block of the same page (its figures as the block prints them, rounded as the prose rounds
them), a committed metrics file or docs/results/ folder, or the model's shape in params.yaml.
Each test names its page; every sentence must appear as written (whitespace collapsed).
"""
import ast
import json
import re

import yaml

from prunelab.fit import ACTIVATION_BUDGET
from prunelab.schedules import geometric_rounds
from prunelab.stacks import models_per_task
from stages import paths
from tests.conftest import ROOT
from tests.prunelab.test_schedules import remaining_percent
from tests.test_bench_blocks import follows
from tests.test_quoted_figures import aggregate_rows, text
from tests.test_readme import block

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def page(name):
    return text(ROOT / "docs" / name)


def cells(name):
    """{first cell: [the other cells]} of every markdown table row in a block."""
    return {row[0].strip(): [cell.strip() for cell in row[1:]]
            for row in (line.strip("|").split("|") for line in re.findall(r"^\|.+\|$", block(name), re.M))}


def one(value):
    """A figure to one decimal, as the prose shortens a block's two."""
    return f"{float(value):.1f}"


def test_scale_prose_is_its_bench_block():
    rows, changed = cells("bench:scale"), ast.literal_eval(re.search(r"params changed from params.yaml: (\{.*\})",
                                                                     block("bench:scale")).group(1))
    accuracy, sparsity = re.search(r"test accuracy ([\d.]+); .* up to sparsity ([\d.]+)", block("bench:scale")).groups()
    dataset_gib = re.search(r"\+ 3 x ([\d.]+) GiB", block("bench:scale")).group(1)
    samples, features = changed["data"]["n_samples"], changed["data"]["n_features"]
    assert f"{samples * features * 8 / 2**30:.2f}" == dataset_gib  # float64 x: the bench's dataset bytes
    megabytes = f"{samples * features * 8 / 1e6:.0f} MB"
    stages = {stage: [float(value) for value in values] for stage, values in rows.items()
              if stage in ("check-params", "generate-data", "train", "prune-sweep", "sensitivity", "plot")}
    peak = max(stages, key=lambda stage: stages[stage][1])
    rest = max(stages[stage][1] for stage in ("train", "prune-sweep", "sensitivity"))
    base = yaml.safe_load((ROOT / "bench" / "results" / "scale.params.yaml").read_text())  # what the run changed from
    levels = len(changed["prune"]["amounts"]) + 1
    methods = len(base["prune"]["methods"])
    words = {1: "one", 3: "three", 6: "six", 18: "eighteen"}
    train = round(samples * (1 - base["data"]["test_size"]))
    train_1m = rows["training FLOP/s at 1,000,000 x 100, hidden 1024, batch 1024 / two-core GEMM"][0]
    rss = rows["peak RSS of any stage at that size / (torch import RSS + 3 x dataset bytes)"][0]
    sweep = rows["prune-sweep FLOP/s, every method and regime, 5 seeds / two-core GEMM"][0]
    for quoted in (f"One million samples of 100 features ({megabytes} as npz)",
                   f"Training at 1,000,000 × 100, hidden 1024, batches of 1024: {train_1m} of the GEMM rate",
                   f"Peak RSS at that size: {rss} of torch's import plus three copies of the dataset",
                   f"The peak is `{peak}`'s: scikit-learn's `make_classification` holds about three copies of the "
                   f"{megabytes} dataset",
                   f"Training, the sweep and sensitivity hold about {round(rest)} GiB or less",
                   f"Default size, 15 seeds: {rows['training FLOP/s, default size, 15 seeds / two-core GEMM'][0]}; "
                   f"every method and regime: {sweep}",
                   f"test accuracy {float(accuracy):.3f}, and global magnitude with "
                   f"{words[changed['prune']['finetune_epochs']]} epoch of fine-tuning keeps it within one point up to "
                   f"{round(100 * float(sparsity))} % sparsity",
                   f"{words[methods * levels * changed['prune']['finetune_epochs']]} fine-tuning epochs over {train:,} "
                   f"samples ({words[methods]} methods × {words[levels]} levels, the dense one included)"):
        assert quoted in page("scale.md")


def sweep_rows():
    """The default sweep's rows of torch seed 0, global magnitude, one-shot (the costs block's)."""
    return [row for row in aggregate_rows(ROOT / paths.PRUNE_SWEEP)
            if (row["method"], row["regime"], row["seed"]) == ("global-magnitude", "one-shot", "0")]


def test_weight_counts_and_bytes_are_the_sweeps_and_the_models_shape():
    """docs/reference.md and docs/studies-and-results.md lean on the default net's counts and bytes."""
    rows = sweep_rows()
    (hidden,) = PARAMS["model"]["hidden_sizes"]
    weights = PARAMS["data"]["n_features"] * hidden + hidden
    total = int(rows[0]["total_params"])
    assert total == weights + hidden + 1 == json.loads((ROOT / paths.TRAIN_METRICS).read_text())["parameters"]
    half = next(row for row in rows if float(row["amount"]) == 0.5)
    reference = page("reference.md")
    for quoted in (f"`round(a · n)` of the n = {weights} fc1 and fc2 weights go, or of the {hidden} hidden neurons",
                   f"`sum(p.numel() for p in model.parameters())` stays {total} at every level",
                   f"`sparsity` is 1 − nonzero / {total} over all parameters, so half the weights removed is about "
                   f"{round(100 * float(half['sparsity']))} % sparsity and a {float(half['compression']):.2f}× compression",
                   f"(the dense float32 arrays are 4 × {total} = {4 * total} bytes)"):
        assert quoted in reference

    # CSR: 8 bytes per kept weight (value, column index) plus what does not depend on the count.
    fixed = {int(row["csr_bytes"]) - 8 * (int(row["nonzero_params"]) - hidden - 1) for row in rows}
    (fixed,) = fixed
    crossing = (weights - (4 * total - fixed) / 8) / weights
    empty = next(row for row in rows if row["fc2_empty"] == "1")
    (checkpoint,) = {row["checkpoint_bytes"] for row in rows}
    test = json.loads((ROOT / paths.DATA_METRICS).read_text())["test"]
    assert f"{test['class_0'] / test['samples']:.3f}" == f"{float(empty['accuracy']):.3f}"
    for quoted in (f"on this model fc2's {hidden} weights are among the smallest, so by "
                   f"{round(100 * float(empty['amount']))} % it has removed all of them (`fc2_empty` = 1)",
                   f"the accuracy falls to the share of one class ({float(empty['accuracy']):.3f})",
                   f"the dense checkpoint stays {checkpoint} bytes at every level",
                   f"beats the dense float32 arrays ({4 * total} bytes) only once about {round(100 * crossing)} % "
                   f"of the weights are gone"):
        assert quoted in page("studies-and-results.md")


def test_reference_speed_prose_is_its_bench_blocks():
    cold, front, seeds = cells("bench"), cells("bench:front-door"), block("bench:seeds")
    ratio = re.search(r"defaults / single-seed one-shot: ([\d.]+)x", block("bench")).group(1)
    ran = yaml.safe_load((ROOT / "bench" / "results" / "cold_repro.params.yaml").read_text())  # the run's params
    methods, levels = len(ran["prune"]["methods"]), len(ran["prune"]["amounts"]) + 1
    repeats, epochs = ran["train"]["repeats"], ran["prune"]["finetune_epochs"]
    others = [abs(float(front[stage][0]) - float(front[stage][2]))
              for stage in ("generate-data", "train", "prune-sweep", "sensitivity", "plot")]
    front_ratios = dict(re.findall(r"^(.+): ([\d.]+)x$", block("bench:front-door"), re.M))
    seed_ratios = re.findall(r"15 seeds one by one / 15 batched: ([\d.]+)x", seeds)
    samples, hidden = re.search(r"(\d+) train samples x \d+ features, hidden (\d+),", seeds).groups()
    stacks = re.findall(r"\(stacks of (\d+)\)", seeds)
    default = models_per_task(int(samples), int(hidden), ACTIVATION_BUDGET)
    narrow = models_per_task(int(samples), 16, ACTIVATION_BUDGET)
    assert stacks == [str(default), str(narrow)] and ACTIVATION_BUDGET == 2**19 and default == 1
    assert abs(float(seed_ratios[0]) - 1) < 0.10
    for quoted in (f"The defaults cost {one(ratio)} times the seed's study",
                   f"({one(cold['prune-sweep'][0])} s against {one(cold['prune-sweep'][1])} s), that is its fine-tuning: "
                   f"{methods * repeats * levels} models ({methods} methods × {repeats} seeds × {levels} levels) "
                   f"trained {epochs} epochs each",
                   f"`check-params` alone takes {front['check-params'][0]} s against {front['check-params'][2]} s before "
                   f"({front_ratios['check-params alone, this commit / 8dcb0a4']}×)",
                   f"A cold `dvc repro` of the defaults takes {one(front['dvc repro, defaults'][0])} s against "
                   f"{one(front['dvc repro, defaults at 8dcb0a4'][0])} s "
                   f"({front_ratios['cold dvc repro, this commit / 8dcb0a4']}×)",
                   f"their differences ({min(others):.1f}–{max(others):.1f} s) are run-to-run noise",
                   "15 seeds stacked and one by one within 10 % of each other",
                   f"({samples} × {hidden} floats, {int(samples) * int(hidden) * 4 / 1e6:.1f} MB)",
                   f"At width 16 stacking pays ({seed_ratios[1]}×)",
                   f"budget of 2¹⁹ activation floats (`prunelab/fit.py`, `ACTIVATION_BUDGET`): one at a time at the "
                   f"default size, {narrow} at width 16"):
        assert quoted in page("reference.md")


def test_reproducibility_pins_cost_is_its_bench_block():
    ratio = re.search(r"^pinned / unpinned: ([\d.]+)x$", block("bench:pinned"), re.M).group(1)
    assert f"the pinned stages take {ratio}× the unpinned time" in page("reproducibility.md")


def test_cluster_overheads_are_its_bench_blocks():
    def overhead(row):
        return sum(float(cell) for cell in row[2:])

    job = cells("bench:slurm-default")["one job"]
    grid = cells("bench:slurm-grid")
    one_slot, two_slots = grid["2 CPUs per job (one slot)"], grid["1 CPU per job (two slots)"]
    job_total = float(job[1]) + overhead(job)
    grid_total = float(one_slot[1]) + overhead(one_slot)
    for quoted in (f"The job's overhead (clone, checkout, both pushes) was {overhead(job):.1f} s of its "
                   f"{job_total:.1f} s ({100 * overhead(job) / job_total:.0f} %)",
                   f"two slots took {float(two_slots[0]) / float(one_slot[0]):.2f} of one slot's wall time (one slot / "
                   f"two slots: {float(one_slot[0]) / float(two_slots[0]):.2f}x)",
                   f"was {overhead(one_slot):.0f} s of {grid_total:.0f} s over the eight one-slot jobs "
                   f"({100 * overhead(one_slot) / grid_total:.0f} %)"):
        assert quoted in page("cluster.md")


def results_cells(table):
    """{method: {column: cell, the gain in brackets dropped}} of a results table's lines."""
    lines = [line for line in table.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return {cells[0]: dict(zip(header[1:], (cell.split(" (")[0] for cell in cells[1:])))
            for cells in ([cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:])}


def test_every_method_table_is_the_kept_protocols_run():
    kept = results_cells((ROOT / "docs" / "results" / "protocols-all" / "results.md").read_text())
    section = re.search(r"## Every method and regime\n(.*?)\n## ", (ROOT / "docs" / "studies-and-results.md").read_text(),
                        re.S).group(1)
    columns = ("lottery-one-shot", "lottery-one-shot-reinit")
    shown = results_cells(section)
    assert len(shown) == 4
    for method, row in shown.items():
        assert row == {column: kept[method][column] for column in row}, method
        ticket, control = ([float(value.rstrip("%")) for value in row[column].split(" ± ")] for column in columns)
        assert abs(ticket[0] - control[0]) < max(ticket[1], control[1]), method  # "less than one std"


def test_other_datasets_prose_is_their_results_files():
    def summary(name):
        return json.loads((ROOT / "docs" / "results" / name / "prune.json").read_text())

    digits, cancer = summary("digits-300-100"), summary("breast_cancer")

    def within(result, method, regime, stat="mean"):
        return round(100 * result[method][regime][f"max_sparsity_within_tolerance_{stat}"])

    tuned = sorted(within(digits, method, "fine-tune") for method in ("global-magnitude", "layerwise-magnitude"))
    data = json.loads((ROOT / "docs" / "results" / "digits-300-100" / "data.json").read_text())
    features, (first, second) = data["features"], (300, 100)
    lenet = 784 * first / (784 * first + first * second + second * 10)
    here = features * first / (features * first + first * second + second * 10)
    for quoted in (f"({within(digits, 'global-magnitude', 'one-shot')} % against "
                   f"{within(digits, 'global-random', 'one-shot')} % one-shot, {tuned[0]}–{tuned[1]} % against "
                   f"{within(digits, 'global-random', 'fine-tune')} % fine-tuned)",
                   f"random pruning one-shot is as good as magnitude within the noise "
                   f"({within(cancer, 'global-random', 'one-shot')} % ± "
                   f"{within(cancer, 'global-random', 'one-shot', 'std')} %)",
                   f"digits is 8×8 images, {data['train']['samples']} training samples, {features} inputs",
                   f"so fc1 holds {round(100 * lenet)} % of LeNet-300-100's weights and most of its redundancy; here the "
                   f"input layer holds {round(100 * here)} %"):
        assert quoted in page("studies-and-results.md")


def test_wall_time_ratios_follow_from_the_times():
    rows = {row[0]: row[1:] for row in ([cell.strip() for cell in line.strip("|").split("|")] for line in re.findall(
        r"^\| (?:features|width) \(.+\|$", (ROOT / "docs" / "studies-and-results.md").read_text(), re.M))}
    assert len(rows) == 2
    for study, (two, one_worker, ratio) in rows.items():
        assert follows(ratio, one_worker.removesuffix(" s"), two.removesuffix(" s")), study
    features = rows["features (3 experiments)"][2]
    # Three equal experiments on two workers: two rounds instead of three.
    assert f"{float(features):.1f}" == f"{3 / 2:.1f}"
    assert "took two rounds instead of three (at best 1.5×, reached)" in page("studies-and-results.md")


def test_reference_rounds_are_the_schedules_rule():
    """Frankle & Carbin's labels, from the rule at prune.iterative_rate and the output's default half rate."""
    rate = PARAMS["prune"]["iterative_rate"]
    percent = remaining_percent(geometric_rounds([784 * 300, 300 * 100, 100 * 10], [rate, rate, rate / 2], 0.985))
    labelled = (3, 6, 7, 12, 15, 16, 18)

    def listed(values):
        return ", ".join(map(str, values[:-1])) + f" and {values[-1]}"

    assert (f"On 784-300-100-10 the rule leaves {listed([percent[k] for k in labelled])} % of the weights after rounds "
            f"{listed(labelled)}: Frankle & Carbin's labels") in page("reference.md")


def test_reference_layer_that_breaks_first_is_the_sensitivity_aggregate():
    accuracy = {(row["layer"], float(row["amount"])): float(row["accuracy_mean"])
                for row in aggregate_rows(ROOT / paths.SENSITIVITY_AGGREGATE)}
    amounts = sorted({amount for _, amount in accuracy})
    first = [amount for amount in amounts if accuracy[("fc2", amount)] < accuracy[("fc1", amount)]]
    assert all(accuracy[("fc2", amount)] > accuracy[("fc1", amount)] for amount in amounts if amount > max(first))
    assert (f"On the default models that is fc2 up to {100 * max(first):.0f} % of its weights"
            in page("reference.md"))
