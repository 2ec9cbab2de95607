"""The README quotes commands' output; these tests rerun the commands and compare."""
import re
import subprocess
import sys

import pytest

from stages.schema import markdown_table
from tests.conftest import ROOT, dvc, sh


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def block(name):
    """A quoted block, from the README or the docs/ pages it links to."""
    text = "\n".join(path.read_text() for path in DOCS)
    match = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->", text, re.S)
    assert match, f"README and docs/ have no <!-- {name} --> block"
    return match.group(1).strip().removeprefix("```").removesuffix("```").strip()


def test_params_table_is_the_schemas():
    assert block("params") == markdown_table()


def test_train_metrics_table_is_what_dvc_shows(committed):
    assert block("metrics:train") == dvc(committed, "metrics", "show", "--md", "metrics/train.json").stdout.strip()


def test_results_table_is_what_aggregate_prints(committed):
    assert block("results") == sh(committed, sys.executable, "-m", "stages.results").stdout.strip()


def test_costs_block_is_the_committed_csv(committed):
    rows = sh(committed, "awk", "-F,", 'NR == 1 || ($1 == "global-magnitude" && $2 == "one-shot" && $3 == 0 && $6 >= 0.5)',
              "metrics/prune_sweep.csv").stdout
    cut = subprocess.run(["cut", "-d,", "-f6,8,9,11,14,17,18,19,21,22,23,25"], input=rows, capture_output=True,
                         text=True, check=True).stdout
    assert block("costs") == cut.strip()


def test_the_costs_command_is_the_one_the_readme_names():
    assert ("`awk -F, 'NR == 1 || ($1 == \"global-magnitude\" && $2 == \"one-shot\" && $3 == 0 && $6 >= 0.5)' "
            "metrics/prune_sweep.csv | cut -d, -f6,8,9,11,14,17,18,19,21,22,23,25`") in "\n".join(p.read_text() for p in DOCS)


@pytest.mark.parametrize("name, pattern", [("bench", r"defaults / single-seed one-shot: \d+\.\d+x"),
                                           ("bench:seeds", r"15 seeds batched / 1 seed: \d+\.\d+x"),
                                           ("bench:pinned", r"pinned / unpinned: \d+\.\d+x"),
                                           ("bench:scale", r"hidden 1024, batch 1024 / two-core GEMM \| \d+\.\d+ \|")])
def test_bench_blocks_hold_a_measurement(name, pattern):
    assert re.search(pattern, block(name))
