"""tests/missing.py: a skip naming a missing component fails with CI set and skips otherwise; other skips stay skips."""
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.missing import ci

CASES = '''
import pytest
from tests.missing import missing

@pytest.fixture
def browser():
    missing("chromium", "apt-get install chromium")

def test_a_fixture_naming_what_is_missing(browser):
    pass

def test_a_call_naming_what_is_missing():
    missing("a Slurm cluster")

@pytest.mark.skipif(True, reason="missing: munge")
def test_a_marker_naming_what_is_missing():
    pass

@pytest.mark.skipif(True, reason="no CUDA GPU on this machine")
def test_an_ordinary_skip():
    pass
'''


def run_cases(tmp_path, environ):
    (tmp_path / "conftest.py").write_text("from tests.missing import pytest_runtest_makereport  # noqa: F401\n")
    (tmp_path / "test_cases.py").write_text(CASES)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "test_cases.py"],
                          cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT), **environ},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("value, expected", [("", False), ("0", False), ("false", False), ("No", False),
                                             ("true", True), ("1", True), ("yes", True)])
def test_ci_is_any_value_but_empty_or_false(value, expected):
    assert ci({"CI": value}) is expected
    assert ci({}) is False


def test_outside_ci_a_missing_component_skips_naming_it(tmp_path):
    result = run_cases(tmp_path, {})
    assert result.returncode == 0, result.stdout
    assert "4 skipped" in result.stdout
    for reason in ("missing: chromium (apt-get install chromium)", "missing: a Slurm cluster", "missing: munge"):
        assert "SKIPPED [1] test_cases.py" in result.stdout and reason in result.stdout


def test_with_ci_set_a_missing_component_fails_with_the_reason(tmp_path):
    result = run_cases(tmp_path, {"CI": "true"})
    assert result.returncode == 1, result.stdout
    # A skip in a fixture or a marker happens at setup: pytest reports the failure as an error.
    assert "1 failed, 1 skipped, 2 errors" in result.stdout, result.stdout
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert sorted(line.split("::")[1].split()[0] for line in failed) == [
        "test_a_call_naming_what_is_missing", "test_a_fixture_naming_what_is_missing",
        "test_a_marker_naming_what_is_missing"]
    assert "but missing: chromium (apt-get install chromium)" in result.stdout
    assert "SKIPPED [1] test_cases.py" in result.stdout and "no CUDA GPU on this machine" in result.stdout
