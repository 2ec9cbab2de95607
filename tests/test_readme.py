"""The README quotes commands' output; these tests rerun the commands and compare."""
import re

import pytest

from stages.schema import markdown_table
from tests.conftest import ROOT, dvc, sh


def block(name):
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->", text, re.S)
    assert match, f"README has no <!-- {name} --> block"
    return match.group(1).strip().removeprefix("```").removesuffix("```").strip()


def test_params_table_is_the_schemas():
    assert block("params") == markdown_table()


@pytest.mark.parametrize("name, path", [("metrics:prune", "metrics/prune.json"),
                                        ("metrics:train", "metrics/train.json")])
def test_metrics_tables_are_what_dvc_shows(committed, name, path):
    assert block(name) == dvc(committed, "metrics", "show", "--md", path).stdout.strip()


def test_sweep_block_is_the_committed_csv(committed):
    assert block("sweep") == sh(committed, "cut", "-d,", "-f1-5,10", "metrics/prune_sweep.csv").stdout.strip()


def test_bench_block_holds_a_measurement():
    assert re.search(r"cold dvc repro / single process: \d+\.\d+x", block("bench"))
