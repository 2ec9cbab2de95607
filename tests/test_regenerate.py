"""Opt-in: `make check-results` (PRUNELAB_REGENERATE=1) reruns what docs/ quotes from runs too
slow for the suite, in clones of this tree, and compares: each `docs/results/NAME` made by
`tools/experiment.sh` against a rerun of its `command.txt`, and the features and width studies'
tables, their `dvc exp show` view and the commands quoted on their experiments. Without the
variable these tests are deselected, not skipped (tests/conftest.py). About two hours on two
cores. The latency folders are timings: `python -m latency` remeasures them, nothing compares.
"""
import re
import sys

import pytest

from tests.conftest import ROOT, sh
from tests.test_readme import DOCS, block

pytestmark = pytest.mark.regenerate

RESULTS = ROOT / "docs" / "results"
# tools/experiment.sh's command lines, EXPERIMENT_DATA=FOLDER first where a dataset is copied in.
EXPERIMENT = re.compile(r"(EXPERIMENT_DATA=\S+ )?tools/experiment\.sh ")
RERUNNABLE = sorted(folder.name for folder in RESULTS.iterdir()
                    if (folder / "command.txt").is_file() and EXPERIMENT.match((folder / "command.txt").read_text()))


def clone(committed, where):
    repo = where / "repo"
    sh(where, "git", "clone", "-q", str(committed), str(repo))
    return repo


def test_every_results_folder_but_the_timings_is_rerunnable():
    timed = {folder.name for folder in RESULTS.iterdir() if (folder / "machine.json").is_file()}
    assert set(RERUNNABLE) == {folder.name for folder in RESULTS.iterdir()} - timed


@pytest.mark.parametrize("name", RERUNNABLE)
def test_a_results_folder_is_a_rerun_of_its_command(committed, tmp_path, name):
    repo = clone(committed, tmp_path)
    command = (RESULTS / name / "command.txt").read_text().splitlines()[0]
    sh(repo, "bash", "-c", command, timeout=3600)
    for path in sorted((RESULTS / name).iterdir()):
        if path.name != "command.txt":
            assert (repo / "docs" / "results" / name / path.name).read_bytes() == path.read_bytes(), path.name


def rows(table):
    """A `dvc exp show --md` table's rows with the experiments' revisions and tree glyphs masked
    (they depend on the commit and the order the queue finished in), sorted."""
    return sorted(re.sub(r"[├└]── [0-9a-f]{7} ", "── REV ", line) for line in table.strip().splitlines())


@pytest.fixture(scope="module")
def studied(committed, tmp_path_factory):
    """A clone after `python -m study run features` and `width`: {study: its printed table}."""
    repo = clone(committed, tmp_path_factory.mktemp("studies"))
    tables = {study: sh(repo, sys.executable, "-m", "study", "run", study, timeout=7200).stdout.strip()
              for study in ("features", "width")}
    return repo, tables


@pytest.mark.parametrize("study", ["features", "width"])
def test_a_study_table_is_a_rerun_of_the_study(studied, study):
    assert studied[1][study] == block(f"study:{study}")
    # The kept inputs of the table (docs/studies/STUDY.json, which the docs test reads) too.
    sh(studied[0], sys.executable, "-m", "study", "keep", study, "-o", "kept")
    assert (studied[0] / "kept" / f"{study}.json").read_bytes() == (ROOT / "docs" / "studies" / f"{study}.json").read_bytes()


def test_the_exp_show_view_is_a_rerun(studied):
    command = block("study-command:exp-show")
    shown = sh(studied[0], "bash", "-c", f"{command} --md").stdout
    # The view the docs show is after the features study alone: the width study's rows go.
    assert [row for row in rows(shown) if "[width-" not in row] == rows(block("study:exp-show"))


@pytest.mark.parametrize("name", re.findall(r"<!-- study-command:([\w-]+)-layers -->",
                                            "\n".join(path.read_text() for path in DOCS)))
def test_a_command_quoted_on_the_experiments_prints_its_output(studied, name):
    assert sh(studied[0], "bash", "-c", block(f"study-command:{name}-layers")).stdout.strip() == \
        block(f"study-output:{name}-layers")
