"""The README's experiment blocks (<!-- walkthrough:... -->) run on the real dvc and git in a
clone: a failed `dvc exp run -S` leaves its bad value in params.yaml and the next example fails
on it; the documented way back restores params.yaml, after which the next example runs
(docs/walkthrough.md), and its reset to the commit undoes an applied experiment."""
import re
import shlex

import yaml

from tests.conftest import dvc, sh
from tests.test_readme import block


def commands(text):
    """The commands of a block: every line, or only the `$ ` lines where it shows a session; comments dropped."""
    lines = text.splitlines()
    if any(line.startswith("$ ") for line in lines):
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    return [shlex.split(part, comments=True) for line in lines if line.strip() for part in line.split(" && ")]


def run(repo, words):
    assert words[0] in ("dvc", "git"), words
    return dvc(repo, *words[1:], check=False) if words[0] == "dvc" else sh(repo, *words, check=False)


def test_a_failed_exp_run_leaves_its_value_and_the_way_back_lets_the_next_example_run(repo):
    failing, way_back = commands(block("walkthrough:bad-value"))
    expected = [line for line in block("walkthrough:bad-value").splitlines() if line.startswith("error: ")]
    examples = commands(block("walkthrough:experiments"))
    key, value = failing[failing.index("-S") + 1].split("=")
    section, name = key.split(".")
    committed = (repo / "params.yaml").read_text()

    result = run(repo, failing)
    assert result.returncode != 0
    assert expected and all(line in result.stderr for line in expected), result.stderr
    assert yaml.safe_load((repo / "params.yaml").read_text())[section][name] == yaml.safe_load(value)

    # The next example, of another key, fails on the value left behind.
    result = run(repo, examples[0])
    assert result.returncode != 0 and expected[0] in result.stderr, result.stdout + result.stderr

    assert run(repo, way_back).returncode == 0
    assert (repo / "params.yaml").read_text() == committed
    assert "up to date" in dvc(repo, "status").stdout

    result = run(repo, examples[0])
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.findall(r"Running stage '([^']+)'", result.stdout) == ["check-params", "prune-sweep"]
    assert sh(repo, "git", "status", "--porcelain").stdout == ""  # --temp: the workspace as it was

    # The narrow view names real columns: the varied param is there, with its value.
    show = [words for words in examples if words[:3] == ["dvc", "exp", "show"]][0]
    table = run(repo, show).stdout
    header = [cell.strip() for cell in table.splitlines()[0].strip("|").split("|")]
    assert {"Experiment", "prune.tolerance", "prune.methods", "prune.regimes", "train.repeats"} == set(header), header
    assert "0.02" in table

    # docs/walkthrough.md: an experiment brought into the workspace, then the reset to the commit.
    name = dvc(repo, "exp", "list", "--name-only").stdout.split()[0]
    dvc(repo, "exp", "apply", name)
    assert "tolerance: 0.02" in (repo / "params.yaml").read_text()
    for words in commands(block("walkthrough:reset")):
        assert run(repo, words).returncode == 0
    assert sh(repo, "git", "status", "--porcelain").stdout == ""
    assert "up to date" in dvc(repo, "status").stdout


