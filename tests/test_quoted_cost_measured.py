"""docs/cost-measured.md quotes three kept latency runs (docs/results/latency-*/): each table
block is its folder's one-thread summary (and summary.md is what crossover.csv and machine.json
give), and every figure of the prose is rebuilt from those files, to two significant digits
(`sig`) unless the prose gives a cell's own rounding, and must appear as written.
"""
import csv
import json
import math

import pytest

from tests.conftest import ROOT
from tests.test_quoted_figures import text
from tests.test_readme import block

RESULTS = ROOT / "docs" / "results"
PAGE = ROOT / "docs" / "cost-measured.md"
BLOCKS = {"default": "latency-default", "digits": "latency-digits-300-100", "regimes": "latency-regimes"}


def read(folder, name):
    with open(RESULTS / folder / name, newline="") as handle:
        return list(csv.DictReader(handle))


def where(rows, **match):
    """The rows whose columns hold the given values (compared as text)."""
    return [row for row in rows if all(row[key] == str(value) for key, value in match.items())]


def sig(value, digits=2):
    """Two significant digits, whole numbers from 100 up: 0.20, 1.9, 56, 109."""
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def span(values, scale=1.0, decimals=None):
    """min–max, to two significant digits or to `decimals` places."""
    def form(value):
        return sig(value * scale) if decimals is None else f"{value * scale:.{decimals}f}"
    return f"{form(min(values))}–{form(max(values))}"


def column(rows, name, scale=1.0):
    return [float(row[name]) * scale for row in rows]


def percents(values):
    return f"{min(values) * 100:.0f}–{max(values) * 100:.0f} %"


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_each_latency_block_is_its_runs_one_thread_summary(name):
    from latency.__main__ import CROSSOVER_TEXT, summary
    from stages.artifacts import read_json, read_rows

    folder = RESULTS / BLOCKS[name]
    crossing = [{**row, "batch": int(row["batch"]), "threads": int(row["threads"])}
                for row in read_rows(f"{folder}/crossover.csv", ("batch", "threads"), text=CROSSOVER_TEXT)]
    written = (folder / "summary.md").read_text()
    assert written == summary(crossing, read_json(f"{folder}/machine.json", "command"))
    one_thread = written.split("1 thread: ")[1].split("\n\n")[1].strip()
    assert block(f"latency:{name}") == one_thread


def machine(folder):
    return json.loads((RESULTS / folder / "machine.json").read_text())


def test_the_default_runs_prose_is_its_files():
    rows = where(read("latency-default", "latency.csv"), threads=1)
    info = machine("latency-default")
    dense = {batch: column(where(rows, amount=0.0, form="dense", batch=batch), "min_s") for batch in (1, 256, 750)}
    full = where(rows, form="shrunk", hidden_width=256)
    levels = {method: [(row["sparsity"], int(row["hidden_width"])) for row in where(rows, method=method, form="dense", batch=1)]
              for method in ("layerwise-magnitude", "global-magnitude")}
    live = {round(100 * float(sparsity)): width for sparsity, width in levels["layerwise-magnitude"]}
    emptied = min(float(sparsity) for sparsity, width in levels["global-magnitude"] if width == 0)
    for quoted in (f"(an {info['cpu']} with {info['usable_cores']} usable cores, torch {info['torch'].split('+')[0]} with "
                   f"{info['torch_blas'].upper()}, scipy {info['scipy']}, numpy {info['numpy']}, pinned;",
                   f"the load average was {info['load_average_1_5_15min'][0]:.1f} when it started and "
                   f"{info['load_average_after'][0]:.1f} when it ended, on {info['usable_cores']} cores",
                   f"its dense form's fastest repeat, one thread, was {span(dense[1], 1e6)} µs at batch 1, "
                   f"{span(dense[256], 1e3)} ms at batch 256 and {span(dense[750], 1e3)} ms for the 750 test samples",
                   f"one measurement is good to a factor of {max(dense[1]) / min(dense[1]):.0f} to "
                   f"{max(dense[256]) / min(dense[256]):.0f}",
                   f"in {len(full) // 3} rows (each method's unpruned level, and global magnitude's first) the shrunk net "
                   f"keeps all 256 neurons",
                   f"its measured speedup there ranged {span(column(where(full, batch=1), 'measured_speedup'), decimals=2)} at "
                   f"batch 1, {span(column(where(full, batch=256), 'measured_speedup'), decimals=2)} at batch 256 and "
                   f"{span(column(where(full, batch=750), 'measured_speedup'), decimals=2)} at batch 750",
                   f"layer-wise magnitude keeps {live[48]} live neurons at 48 % sparsity, {live[87]} at 87 % "
                   f"and {live[95]} at 95 %; global magnitude empties fc2 from {100 * emptied:.0f} % (0 live neurons"):
        assert quoted in text(PAGE)
    assert len(full) == 3 * (len(where(full, batch=1))) and all(len(times) == 4 for times in dense.values())


def test_the_digits_runs_prose_is_its_files():
    rows = where(read("latency-digits-300-100", "latency.csv"), threads=1)
    info = machine("latency-digits-300-100")
    dense = {batch: column(where(rows, amount=0.0, form="dense", batch=batch), "min_s") for batch in (1, 256, 540)}
    full = where(rows, form="shrunk", hidden_width=400)
    large = [row for row in full if row["batch"] != "1"]
    top = {row["method"]: int(row["hidden_width"]) for row in where(rows, form="dense", batch=1)}  # the last is the top
    (sparsity,) = {round(100 * float(row["sparsity"])) for row in where(rows, form="dense", batch=1)
                   if row["method"] != "structured" and float(row["amount"]) == 0.99}
    weights = 64 * 300 + 300 * 100 + 100 * 10
    default = 25 * 256 + 256
    for quoted in (f"hidden [300, 100]: {weights:,} weights against the default model's {default:,}",
                   f"load average {info['load_average_1_5_15min'][0]:.1f} at the start, "
                   f"{info['load_average_after'][0]:.1f} at the end",
                   f"took {span(dense[1], 1e6)} µs at batch 1, {span(dense[256], 1e3)} ms at batch 256 and "
                   f"{span(dense[540], 1e3)} ms for the 540 test samples",
                   f"measured {span(column(where(full, batch=1), 'measured_speedup'))}x at batch 1 and "
                   f"{span(column(large, 'measured_speedup'))}x at the large batches ({len(large) // 2} rows each)",
                   f"Live neurons at the top level ({sparsity} % sparsity): "
                   f"global magnitude {top['global-magnitude']} (a layer emptied), layer-wise magnitude "
                   f"{top['layerwise-magnitude']}, global random {top['global-random']} of 400; structured keeps "
                   f"{top['structured']}"):
        assert quoted in text(PAGE)
    assert len(large) == 2 * len(where(full, batch=1))


def test_the_regimes_runs_prose_is_its_files():
    rows = where(read("latency-regimes", "latency.csv"), threads=1, form="dense", batch=1)
    crossing = read("latency-regimes", "crossover.csv")
    info = machine("latency-regimes")

    def width(method, regime, percent=None):
        """Live neurons at the top level (the regime's last row), or at a sparsity in percent, as the prose rounds it."""
        found = [row for row in where(rows, method=method, regime=regime)
                 if percent is None or f"{100 * float(row['sparsity']):.1f}" == percent]
        return int(found[-1]["hidden_width"])

    def top(method, regime, form, threads):
        return float(where(crossing, method=method, regime=regime, form=form, batch=750, threads=threads)[0]
                     ["top_measured_speedup"])

    rounds = ("iterative", "lottery-ticket", "lottery-reinit")
    gm, lw = "global-magnitude", "layerwise-magnitude"
    for method in (gm, lw):  # the ticket and its control share their masks, so their widths
        assert width(method, "lottery-ticket") == width(method, "lottery-reinit")
    near = f"{100 * float(where(rows, method=gm, regime='iterative', level_by='round', level=12)[0]['sparsity']):.1f}"
    shrunk = {threads: [top(method, regime, "shrunk", threads) for method in (gm, lw) for regime in rounds]
              for threads in (1, 2)}
    csr = {threads: [top(method, regime, form, threads) for method in (gm, lw) for regime in ("one-shot", "gradual", *rounds)
                     for form in ("scipy-csr", "torch-csr")] for threads in (1, 2)}
    cell = {(row["regime"], row["method"], row["form"], row["batch"], row["threads"]): float(row["top_measured_speedup"])
            for row in crossing}
    apart = max(abs(value - cell[("lottery-reinit", *key[1:])]) for key, value in cell.items() if key[0] == "lottery-ticket")
    for quoted in (f"load average {info['load_average_1_5_15min'][0]:.2f} before, {info['load_average_after'][0]:.1f} after",
                   f"at the top level global magnitude one-shot and gradual keep {width(gm, 'one-shot')} of 256",
                   f"its rounds at {100 * float(where(rows, method=gm, regime='iterative')[-1]['sparsity']):.1f} % keep "
                   f"{width(gm, 'iterative')} (iterative) and {width(gm, 'lottery-ticket')} (both tickets)",
                   f"near 90 % one-shot keeps {width(gm, 'one-shot', '91.5')} at 91.5 %, iterative "
                   f"{width(gm, 'iterative', near)} and the tickets {width(gm, 'lottery-ticket', near)} at {near} % (round 12)",
                   f"Layer-wise magnitude keeps {width(lw, 'one-shot')} at the top level in one-shot and gradual, "
                   f"{width(lw, 'iterative')} (iterative) and {width(lw, 'lottery-ticket')} (both tickets) in the rounds",
                   f"the rounds' shrunk nets measured {span(shrunk[1])}x, against {top(gm, 'one-shot', 'shrunk', 1):.1f}x and "
                   f"{top(lw, 'one-shot', 'shrunk', 1):.1f}x for one-shot and {top(gm, 'gradual', 'shrunk', 1):.1f}x and "
                   f"{top(lw, 'gradual', 'shrunk', 1):.1f}x for gradual",
                   f"on both cores {span(shrunk[2])}x against {top(gm, 'one-shot', 'shrunk', 2):.1f}x and "
                   f"{top(lw, 'one-shot', 'shrunk', 2):.1f}x (one-shot) and {top(gm, 'gradual', 'shrunk', 2):.1f}x and "
                   f"{top(lw, 'gradual', 'shrunk', 2):.1f}x (gradual)",
                   f"measured alike in every regime: {span(csr[1])}x at the test split, one thread, {span(csr[2])}x on both cores",
                   f"(up to {apart:.1f}x apart here"):
        assert quoted in text(PAGE)
    assert width(gm, "gradual") == width(gm, "one-shot") and width(lw, "gradual") == width(lw, "one-shot")


def test_what_it_means_is_the_one_thread_tables():
    """The bullets of "What it means for a user": ranges over both one-shot runs' crossover.csv, one thread."""
    runs = {name: where(read(folder, "crossover.csv"), threads=1)
            for name, folder in (("default", "latency-default"), ("digits", "latency-digits-300-100"))}
    test_split = {"default": "750", "digits": "540"}
    everything = runs["default"] + runs["digits"]
    dense_1 = [float(row["min_s"]) for folder in ("latency-default", "latency-digits-300-100")
               for row in where(read(folder, "latency.csv"), threads=1, amount=0.0, form="dense", batch=1)]

    def cells(rows, forms, batches, name="top_measured_speedup"):
        return [float(row[name]) for row in rows if row["form"] in forms and row["batch"] in batches and row[name]]

    csr = ("scipy-csr", "torch-csr")
    theory = [float(row["top_theoretical_speedup"]) for row in everything]
    crossings_1 = cells(everything, csr, ("1",), "crossover_sparsity")
    structured = {name: [row for row in rows if row["method"] == "structured"] for name, rows in runs.items()}
    two_threads = [float(row["top_measured_speedup"]) for folder in ("latency-default", "latency-digits-300-100")
                   for row in where(read(folder, "crossover.csv"), threads=2, form="torch-csr", batch=1)]
    slow = [value for value in two_threads if value < 0.1]
    for quoted in (f"At the highest levels it promises {min(theory):.0f}–{max(theory):.0f}x",
                   f"a sparse (CSR) form measured {span(cells(runs['default'], csr, ('256', '750')))}x there on the default "
                   f"model and {span(cells(runs['digits'], csr, ('256', '540')))}x on LeNet-300-100's shape",
                   f"A call costs {span(dense_1, 1e6)} µs whatever the sparsity",
                   f"not the {round(6656 / 1000)}k–{round(50200 / 1000)}k multiply-adds",
                   f"at the top level CSR measured {span(cells(everything, csr, ('1',)))}x",
                   f"the crossover lies anywhere from {100 * min(crossings_1):.1f} % to {100 * max(crossings_1):.1f} % "
                   f"sparsity",
                   f"the shrunk net gains nothing ({span(cells(everything, ('shrunk',), ('1',)))}x)",
                   f"torch's CSR beats dense from "
                   f"{percents(cells(runs['default'], ('torch-csr',), ('256',), 'crossover_sparsity'))} sparsity at batch 256 "
                   f"on the default model ({percents(cells(runs['default'], ('torch-csr',), ('750',), 'crossover_sparsity'))} "
                   f"at its test split) and from "
                   f"{percents(cells(runs['digits'], ('torch-csr',), ('540',), 'crossover_sparsity'))} at the test split of "
                   f"the larger one; scipy's from "
                   f"{percents(cells(runs['default'], ('scipy-csr',), ('750',), 'crossover_sparsity'))} and "
                   f"{percents(cells(runs['digits'], ('scipy-csr',), ('540',), 'crossover_sparsity'))} at the test split",
                   f"({span(cells(runs['default'], csr, ('750',)))}x against {span(cells(runs['digits'], csr, ('540',)))}x "
                   f"at the top level, test split)",
                   f"with structured pruning it beats dense from "
                   f"{percents(cells(structured['default'], ('shrunk',), ('256', '750'), 'crossover_sparsity'))} sparsity on "
                   f"the default model and "
                   f"{percents(cells(structured['digits'], ('shrunk',), ('256', '540'), 'crossover_sparsity'))} on the "
                   f"larger one at large batches, and gains "
                   f"{span(cells(structured['default'], ('shrunk',), ('256', '750')))}x and "
                   f"{span(cells(structured['digits'], ('shrunk',), ('256', '540')))}x at the top level",
                   f"was {sig(1 / max(slow))} to {sig(1 / min(slow))} times slower than dense at the top level in "
                   f"{len(slow)} of the {len(two_threads)} method cells ({span(slow)}x;"):
        assert quoted in text(PAGE)
    assert set(test_split.values()) == {row["batch"] for row in everything} - {"1", "256"}


def test_the_benchmark_prose_is_its_block():
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in block("bench:latency").splitlines()
            if line.startswith("| ") and "µs" not in line]
    ratio = {(row[0].split(" (")[0], row[1]): row[5] for row in rows}
    assert (f"the fastest sparse form takes {ratio[('default model', '1')]} and {ratio[('LeNet-300-100 shape', '1')]} of "
            f"the dense time at batch 1 (default model, LeNet shape) and {ratio[('default model', '256')]} and "
            f"{ratio[('LeNet-300-100 shape', '256')]} at batch 256") in text(PAGE)
