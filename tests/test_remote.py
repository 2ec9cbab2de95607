"""A team's DVC remote and the run cache, on a real local remote in a temporary directory.

Each test starts from a private copy of the reproduced repository whose git origin is a bare
repository and whose default DVC remote (committed in .dvc/config) is an empty directory,
as a team would share them.
"""
import re
import sys

import pytest

from stages import paths
from tests.conftest import ROOT, commit_all, dvc, repro, set_param, sh

COMPUTING = ["generate-data", "train", "prune-sweep", "sensitivity", "plot"]
CACHED = re.compile(r"Stage '([^']+)' is cached - skipping run")


@pytest.fixture
def team(repo, tmp_path):
    """(repo, its bare git origin): repo's outputs not yet pushed."""
    origin = tmp_path / "origin.git"
    sh(tmp_path, "git", "clone", "-q", "--bare", str(repo), str(origin))
    sh(repo, "git", "remote", "set-url", "origin", str(origin))
    dvc(repo, "remote", "add", "-d", "team", str(tmp_path / "dvc-remote"))
    commit_all(repo, "the team's DVC remote")
    sh(repo, "git", "push", "-q", "origin", "main")
    return repo, origin


def clone(origin, path):
    sh(path.parent, "git", "clone", "-q", str(origin), str(path))
    return path


def test_a_fresh_clone_pulls_instead_of_retraining(team, tmp_path):
    repo, origin = team
    dvc(repo, "push")
    other = clone(origin, tmp_path / "other")
    dvc(other, "pull")
    assert dvc(other, "status", "--json").stdout.strip() == "{}"
    assert repro(other)[0] == []
    assert sh(other, "git", "status", "--porcelain").stdout == ""
    assert (other / paths.MODELS).read_bytes() == (repo / paths.MODELS).read_bytes()


def test_an_experiment_pushed_is_pulled_and_applied_in_another_clone(team, tmp_path):
    repo, origin = team
    dvc(repo, "push")
    dvc(repo, "exp", "run", "-n", "seed-one", "-S", "train.seed=1")
    dvc(repo, "exp", "push", "origin", "seed-one")
    other = clone(origin, tmp_path / "other")
    dvc(other, "exp", "pull", "origin", "seed-one")
    assert "seed-one" in dvc(other, "exp", "list", "--name-only").stdout
    dvc(other, "exp", "apply", "seed-one")
    assert "  seed: 1\n" in (other / "params.yaml").read_text()
    # The experiment's models came through the remote: nothing is stale, nothing retrains.
    assert dvc(other, "status", "--json").stdout.strip() == "{}"
    assert repro(other)[0] == []
    dvc(repo, "exp", "apply", "seed-one")
    assert (other / paths.MODELS).read_bytes() == (repo / paths.MODELS).read_bytes()
    assert (other / paths.PRUNE_METRICS).read_text() == (repo / paths.PRUNE_METRICS).read_text()


def test_the_run_cache_restores_an_earlier_params_set_here_and_through_the_remote(team, tmp_path):
    repo, origin = team
    set_param(repo, "data", "random_state", 7)
    ran, _ = repro(repo)
    assert ran == ["check-params", *COMPUTING]
    # Back to the committed params: the stages that ran at them here (the `reproduced` fixture's
    # repro, which found sensitivity and plot up to date) come from the run cache.
    sh(repo, "git", "checkout", "-q", "--", "params.yaml")
    ran, result = repro(repo)
    assert CACHED.findall(result.stdout) == ["generate-data", "train", "prune-sweep"]
    assert ran == ["check-params", "sensitivity", "plot"]
    assert sh(repo, "git", "status", "--porcelain").stdout == ""
    # And to random_state 7 again: every computing stage comes from the run cache.
    set_param(repo, "data", "random_state", 7)
    ran, result = repro(repo)
    assert ran == ["check-params"]
    assert CACHED.findall(result.stdout) == COMPUTING
    # Through the remote: `dvc push --run-cache` sends the entries but not the outputs they
    # restore, so a fresh clone that pulls them still reruns; tools/push_run_cache.py sends both.
    sh(repo, sys.executable, str(ROOT / "tools/push_run_cache.py"))
    second = clone(origin, tmp_path / "second")
    set_param(second, "data", "random_state", 7)
    ran, result = repro(second, "--pull")
    assert ran == ["check-params"]
    assert CACHED.findall(result.stdout) == COMPUTING
    for name in ("dvc.lock", paths.MODELS, paths.PRUNE_SWEEP, f"{paths.PLOTS_DIR}/accuracy_vs_sparsity.png"):
        assert (second / name).read_bytes() == (repo / name).read_bytes(), name
