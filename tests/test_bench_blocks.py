"""The benchmark blocks in docs/ (`make bench`'s output, pasted): each block's ratios follow from
its own medians and measurements, and each median is the median of the rounds it lists.

A figure printed with d decimals stands for any value within half a unit of its last place, so
a ratio follows from its operands when it lies in the range their roundings allow (widened by
its own rounding). The operands are the block's own numbers: these tests rerun nothing.
"""
import re
import statistics

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_readme import block


def bounds(text):
    """(low, high): the values a figure printed as `text` may have been rounded from."""
    number = text.strip().rstrip("x").strip()
    half = 0.5 * 10 ** -len(number.partition(".")[2])
    value = float(number)
    return value - half, value + half


def follows(ratio, numerator, denominator):
    """Whether the printed ratio can be numerator / denominator, all three as printed."""
    (low_n, high_n), (low_d, high_d), (low_r, high_r) = bounds(numerator), bounds(denominator), bounds(ratio)
    return low_n / high_d <= high_r and low_r <= high_n / low_d


def sections(text):
    """The block's parts between blank lines, each a list of lines."""
    return [part.splitlines() for part in re.split(r"\n\s*\n", text.strip())]


def table(lines, index=0):
    """The `index`th markdown table in lines: {first cell: {column name: cell}}."""
    tables, current = [], None
    for line in lines:
        if not line.startswith("|"):
            current = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if current is None:
            current = (cells, {})
            tables.append(current)
        elif not set(line) <= set("|-: "):
            current[1][cells[0]] = dict(zip(current[0], cells))
    return tables[index][1]


def ratios(lines):
    """{label: ratio text} of the block's `LABEL: 1.23x` lines."""
    return dict(re.findall(r"^([^|\n][^:\n]*): (\d+\.\d+)x$", "\n".join(lines), re.M))


def test_the_helpers_catch_a_ratio_that_does_not_follow():
    assert follows("1.69", "31.24", "18.52") and not follows("1.72", "31.24", "18.52")
    assert follows("13.98", "0.930", "0.067")  # 0.930 / 0.0665: the medians' own rounding
    assert not follows("14.50", "0.930", "0.067")


# Each docs block and the file its benchmark wrote when it printed it (bench/record.py).
RESULT_FILES = {"bench": "cold_repro", "bench:front-door": "cold_repro-before", "bench:seeds": "batched_seeds",
                "bench:pinned": "pinned_numerics", "bench:latency": "sparse_latency", "bench:scale": "scale",
                "bench:real-images": "real_images", "bench:csv": "csv_read",
                "bench:conv": "conv", "bench:conv-memory": "conv_memory"}


@pytest.mark.parametrize("name", sorted(RESULT_FILES))
def test_each_bench_block_is_what_its_benchmark_last_wrote(name):
    stored = (ROOT / "bench" / "results" / f"{RESULT_FILES[name]}.txt").read_text().strip()
    assert block(name) == stored, f"docs block <!-- {name} --> differs from bench/results/{RESULT_FILES[name]}.txt"


MEDIAN_BLOCKS = ["bench", "bench:front-door", "bench:seeds", "bench:csv", "bench:conv"]


@pytest.mark.parametrize("name", MEDIAN_BLOCKS)
def test_each_median_is_the_median_of_its_rounds(name):
    checked = 0
    for lines in sections(block(name)):
        if not any("| median s | all rounds s |" in line for line in lines):
            continue
        for row, cells in table(lines).items():
            rounds = [value.strip() for value in cells["all rounds s"].split(",")]
            median = statistics.median(float(value) for value in rounds)
            low, high = bounds(cells["median s"])
            # An even count's median is a mean of two rounded values: half a unit more either way.
            slack = 0 if len(rounds) % 2 else high - low
            assert low - slack <= median <= high + slack, (name, row, cells)
            checked += 1
    assert checked >= 3


# Each ratio line: where its operands are, as (sections after the line's own, table index in that
# section, (numerator row, column), (denominator row, column)).
MEDIAN = "median s"
RATIOS = {
    "bench": {"defaults / single-seed one-shot":
              (0, 0, ("dvc repro, defaults", MEDIAN), ("dvc repro, single-seed one-shot", MEDIAN))},
    "bench:front-door": {
        "defaults / single-seed one-shot":
            (0, 0, ("dvc repro, defaults", MEDIAN), ("dvc repro, single-seed one-shot", MEDIAN)),
        "cold dvc repro, this commit / 8dcb0a4":
            (0, 0, ("dvc repro, defaults", MEDIAN), ("dvc repro, defaults at 8dcb0a4", MEDIAN)),
        "check-params alone, this commit / 8dcb0a4":
            (1, 0, ("check-params", "defaults"), ("check-params", "defaults at 8dcb0a4")),
    },
    "bench:conv": {
        "plain torch loop, 1 thread / autograd_fit, pinned, 1 worker":
            (0, 0, ("plain torch loop, 1 thread", MEDIAN), ("autograd_fit, pinned, 1 worker", MEDIAN)),
        "plain torch loop, 2 threads / autograd_fit, pinned, 2 workers":
            (0, 0, ("plain torch loop, 2 threads", MEDIAN), ("autograd_fit, pinned, 2 workers", MEDIAN)),
        "plain torch loop, 3 seeds one by one, 2 threads / autograd_fit, 3 seeds together, 2 workers":
            (0, 0, ("plain torch loop, 3 seeds one by one, 2 threads", MEDIAN),
             ("autograd_fit, 3 seeds together, 2 workers", MEDIAN)),
    },
    "bench:csv": {"prunelab from_csv / pandas.read_csv":
                  (0, 0, ("prunelab from_csv", MEDIAN), ("pandas.read_csv", MEDIAN))},
    "bench:seeds": {
        "15 seeds batched / 1 seed": (0, 0, ("15 seeds batched", MEDIAN), ("1 seed", MEDIAN)),
        "15 seeds one by one / 15 batched": (0, 0, ("15 seeds one by one", MEDIAN), ("15 seeds batched", MEDIAN)),
        "15 seeds as stage train runs them (stacks of N) / 1 seed":
            (0, 0, ("15 seeds as stage train runs them", MEDIAN), ("1 seed", MEDIAN)),
    },
}


@pytest.mark.parametrize("name", sorted(RATIOS))
def test_each_ratio_line_follows_from_the_medians_it_names(name):
    parts, checked = sections(block(name)), 0
    for position, lines in enumerate(parts):
        for label, value in ratios(lines).items():
            label = re.sub(r"\(stacks of \d+\)", "(stacks of N)", label)
            assert label in RATIOS[name], f"{name}: a ratio this test does not know: {label}"
            offset, index, (row_n, column_n), (row_d, column_d) = RATIOS[name][label]
            cells = table(parts[position + offset], index)
            assert follows(value, cells[row_n][column_n], cells[row_d][column_d]), (name, label, value)
            checked += 1
    assert checked >= len(RATIOS[name])


def test_pinned_ratios_are_pinned_over_unpinned():
    lines = block("bench:pinned").splitlines()
    rows = table(lines)
    for stage, cells in rows.items():
        assert follows(cells["pinned / unpinned"], cells["pinned s"], cells["unpinned s"]), (stage, cells)
    assert ratios(lines)["pinned / unpinned"] == rows["all three"]["pinned / unpinned"].rstrip("x")
    assert set(rows) == {"train", "prune-sweep", "sensitivity", "all three"}


def test_latency_ratios_are_the_sparse_time_over_the_dense_time():
    rows = [cells for cells in re.findall(r"^\|(.+)\|$", block("bench:latency"), re.M)]
    header = [cell.strip() for cell in rows[0].split("|")]
    checked = 0
    for line in rows[2:]:
        cells = dict(zip(header, (cell.strip() for cell in line.split("|"))))
        assert follows(cells["fastest sparse / dense"], cells["its µs"], cells["dense µs"]), cells
        checked += 1
    assert checked == 4


def test_scale_ratios_follow_from_their_measurements():
    """FLOPs count 6 x samples x weights per training epoch (docs/scale.md); the reference is
    the block's own two-core GEMM rate."""
    text = block("bench:scale")
    gemm = re.search(r"torch\.mm 2048\^2 float32: (\d+) GFLOP/s on two threads", text).group(1)
    rows = {cells[0].strip(): [cell.strip() for cell in cells[1:]]
            for cells in (line.strip("|").split("|") for line in re.findall(r"^\|.+\|$", text, re.M))}

    ratio, seconds, flops = re.fullmatch(r"([\d.]+) \| ([\d.]+) s for ([\d.]+) TFLOP", " | ".join(
        rows["prune-sweep FLOP/s, every method and regime, 5 seeds / two-core GEMM"])).groups()
    assert follows(ratio, str(float(flops) * 1000), f"{float(seconds) * float(gemm):.{len(seconds.split('.')[1])}f}")

    params = yaml.safe_load((ROOT / "bench" / "results" / "scale.params.yaml").read_text())  # the run's
    features, (hidden,) = params["data"]["n_features"], params["model"]["hidden_sizes"]
    train = round(params["data"]["n_samples"] * (1 - params["data"]["test_size"]))
    flops = 6 * train * (features * hidden + hidden) * params["train"]["epochs"] * 15
    ratio, seconds = re.fullmatch(r"([\d.]+) \| ([\d.]+) s", " | ".join(
        rows["training FLOP/s, default size, 15 seeds / two-core GEMM"])).groups()
    low, high = bounds(seconds)
    low_g, high_g = bounds(gemm)
    low_r, high_r = bounds(ratio)
    assert flops / high / high_g / 1e9 <= high_r and low_r <= flops / low / low_g / 1e9

    ratio, seconds = re.fullmatch(r"([\d.]+) \| one epoch, ([\d.]+) s", " | ".join(
        rows["training FLOP/s at 1,000,000 x 100, hidden 1024, batch 1024 / two-core GEMM"])).groups()
    flops = 6 * round(1_000_000 * (1 - params["data"]["test_size"])) * (100 * 1024 + 1024)
    low, high = bounds(seconds)
    low_r, high_r = bounds(ratio)
    assert flops / high / high_g / 1e9 <= high_r and low_r <= flops / low / low_g / 1e9

    ratio, rss, torch_rss, dataset = re.fullmatch(
        r"([\d.]+) \| ([\d.]+) GiB / \(([\d.]+) \+ 3 x ([\d.]+) GiB\)",
        " | ".join(rows["peak RSS of any stage at that size / (torch import RSS + 3 x dataset bytes)"])).groups()
    low_t, high_t = bounds(torch_rss)
    low_d, high_d = bounds(dataset)
    low, high = bounds(rss)
    low_r, high_r = bounds(ratio)
    assert low / (high_t + 3 * high_d) <= high_r and low_r <= high / (low_t + 3 * low_d)


def test_conv_rates_against_the_gemm_reference_follow_from_the_medians():
    """Each row's share of the two-core GEMM rate: seeds x 6 x samples x LeNet-5's multiply-adds
    a sample (2,293,000, tests/prunelab/test_architectures.py's hand count) / median / reference."""
    lines = block("bench:conv").splitlines()
    samples = int(re.search(r"one epoch of ([\d,]+) ", lines[0]).group(1).replace(",", ""))
    reference = float(re.search(r"two-core GEMM reference ([\d.]+) GFLOP/s", lines[0]).group(1)) * 1e9
    rows = table(lines)
    assert len(rows) == 6
    for name, cells in rows.items():
        seeds = 3 if "3 seeds" in name else 1
        expected = seeds * 6 * samples * 2_293_000 / float(cells[MEDIAN]) / reference
        assert abs(float(cells["of two-core GEMM"]) - expected) <= 0.01 * expected + 0.0005, (name, cells)


def test_the_conv_memory_ratios_follow_from_the_peaks():
    rows = [line.split() for line in block("bench:conv-memory").splitlines()[2:]]
    assert [row[0] for row in rows] == ["check_params", "generate_data", "train", "prune_sweep", "sensitivity"]
    for stage, _, peak, ratio in rows:
        assert follows(ratio, peak, "2000"), stage  # peak MB of the 2 GB (10**9 bytes each) goal


def test_the_conv_prose_quotes_the_blocks_ratios_and_spans():
    """The paragraph under the conv block, and the open items of docs/architectures.md, quote
    the block's own ratios (each `N.NNx`) and the span of each three-seed row's rounds."""
    text = (ROOT / "docs" / "architectures.md").read_text()
    lines = block("bench:conv").splitlines()
    found = set(ratios(lines).values())
    prose = text[text.index("<!-- /bench:conv -->"):text.index("Peak memory of a Fashion-MNIST LeNet-5 run")]
    open_items = text[text.index("Not yet: the conv benchmark"):]
    open_items = open_items.partition("\n\n")[0]
    quoted = re.findall(r"(\d+\.\d+)x", prose) + re.findall(r"(\d+\.\d+)x", open_items)
    assert len(quoted) >= 5 and set(quoted) <= found | {"1.5"}, (quoted, found)
    spans = re.search(r"three-seed rounds above\s+span (\d+\.\d) to (\d+\.\d) s\s+pinned and\s+"
                      r"(\d+\.\d) to (\d+\.\d) s\s+plain", prose).groups()
    found_spans = ()
    for row in ("autograd_fit, 3 seeds together, 2 workers", "plain torch loop, 3 seeds one by one, 2 threads"):
        rounds = [float(value) for value in table(lines)[row]["all rounds s"].split(",")]
        found_spans += (f"{min(rounds):.1f}", f"{max(rounds):.1f}")
    assert spans == found_spans
