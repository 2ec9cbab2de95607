"""study/slurm.py and study/job.py on a real one-node Slurm cluster (2 CPUs), with a bare git
repository as the team's git remote and a local folder as its DVC remote: a grid goes
through Slurm and comes back with `collect`; local and Slurm give the same bytes; a failed
and a scancel'ed point are reported and submitted again alone. The checks before submitting
need no cluster."""
import json
import re
import subprocess
import sys
import time

import pytest
import torch
import yaml

from study import experiments
from tests.conftest import commit_all, dvc, sh
from tests.study.conftest import tiny_clone

# 4 grid points and one that fails after submission: the schema takes cuda, stage train finds no GPU.
STUDIES = {"tiny": {"grid": {"data.n_features": [6, 8], "train.seed": [0, 1]}, "points": [{"train.device": "cuda"}]}}
GRID = ["tiny-6-0", "tiny-6-1", "tiny-8-0", "tiny-8-1"]
FAILING = "tiny-cuda"


def team(committed, tmp_path):
    """A tiny-params clone whose origin is a bare repo and whose DVC remote (committed) is a folder."""
    repo = tiny_clone(committed, tmp_path / "repo")
    (repo / "studies.yaml").write_text(yaml.safe_dump(STUDIES, sort_keys=False))
    origin = tmp_path / "origin.git"
    sh(tmp_path, "git", "init", "-q", "--bare", str(origin))
    sh(repo, "git", "remote", "set-url", "origin", str(origin))
    dvc(repo, "remote", "add", "-d", "team", str(tmp_path / "dvc-remote"))
    commit_all(repo, "the tiny study and the team's remotes")
    sh(repo, "git", "push", "-q", "origin", "HEAD:main")
    return repo


@pytest.fixture(scope="module")
def submitted(cluster, committed, tmp_path_factory):
    """The team's repo after `run tiny --on slurm --no-wait`, polled until no job is left;
    (repo, most jobs seen running at once, the run's output, a runner of `python -m study`)."""
    if torch.cuda.is_available():
        pytest.skip("the failing point is train.device: cuda on a machine without a GPU; this one has one")
    repo = team(committed, tmp_path_factory.mktemp("team"))
    study = lambda *args: sh(repo, sys.executable, "-m", "study", *args, env=cluster.env, check=False)
    ran = study("run", "tiny", "--on", "slurm", "--cpus", "1", "--no-wait")
    assert ran.returncode == 0, ran.stderr
    most, deadline = 0, time.monotonic() + 600
    while time.monotonic() < deadline:
        states = [line.split("\t")[1] for line in study("status", "tiny").stdout.splitlines()]
        most = max(most, states.count("running"))
        if not {"pending", "running"} & set(states):
            break
        time.sleep(2)
    return repo, most, ran, study


def test_a_grid_runs_on_slurm_and_comes_back_with_collect(submitted):
    repo, most, ran, study = submitted
    assert "tiny: 5 submitted, 0 done or in the queue" in ran.stderr
    assert most == 2  # one CPU per job, two on the node
    status = dict(line.split("\t", 1) for line in study("status", "tiny").stdout.splitlines())
    assert {name: status[name] for name in GRID} == dict.fromkeys(GRID, "done")
    state, err, out = status[FAILING].split("\t")
    assert state == "failed" and "train.device: cuda, but torch finds no CUDA GPU" in open(err).read()
    assert "+ git clone" in open(out).read() and "s: checkout" in open(out).read()  # the job's steps

    assert "tiny: 4 pulled, 4 of 5 done" in study("collect", "tiny").stderr
    head = sh(repo, "git", "rev-parse", "HEAD").stdout.strip()
    found = experiments.experiments(json.loads(dvc(repo, "exp", "show", "--json").stdout), head)
    assert sorted(found) == GRID
    for name, (state, rev, params, metrics) in found.items():
        _, features, seed = name.split("-")
        assert (state, params["data"]["n_features"], params["train"]["seed"]) == ("success", int(features), int(seed))
        assert metrics["dense_accuracy_mean"] > 0
    assert len({json.dumps(exp[3]) for exp in found.values()}) == 4  # each point its own metrics
    compared = study("compare", "tiny")
    assert compared.returncode == 0 and all(f"| {name} | " in compared.stdout for name in GRID)
    # The outputs came back too: the experiment's plots render from the local cache.
    assert dvc(repo, "plots", "diff", found["tiny-6-0"][1], "-o", str(repo.parent / "plots")).returncode == 0

    again = study("run", "tiny", "--on", "slurm", "--cpus", "1", "--timeout", "300")
    assert "tiny: 1 submitted, 4 done or in the queue" in again.stderr  # the failed point alone
    assert again.returncode == 1 and again.stderr.splitlines()[-1].startswith(f"error: experiments failed: {FAILING} (")
    assert again.stderr.splitlines()[1].startswith(f"tiny: {FAILING} failed (1 of 1, ")  # as it left the queue
    assert again.stderr.count("\n") == 4  # what was submitted, the point's end, what was pulled, the error


def test_local_and_slurm_give_the_same_bytes(submitted):
    repo, _, _, study = submitted
    local = sh(repo, sys.executable, "-m", "study", "run", "same", "--grid", "data.n_features=6", "--grid", "train.seed=0")
    assert "same: 1 queued, 0 reused" in local.stderr
    head = sh(repo, "git", "rev-parse", "HEAD").stdout.strip()
    found = experiments.experiments(json.loads(dvc(repo, "exp", "show", "--json").stdout), head)
    for path in ("metrics/prune.json", "metrics/prune_sweep.csv"):
        on_slurm, here = (sh(repo, "git", "show", f"{found[name][1]}:{path}").stdout for name in ("tiny-6-0", "same-6-0"))
        assert on_slurm == here and len(here) > 100


def test_a_cancelled_job_pushes_nothing_and_runs_again(submitted, cluster):
    repo, _, _, study = submitted
    assert study("run", "cut", "--grid", "data.n_features=10", "--on", "slurm", "--no-wait").returncode == 0
    deadline = time.monotonic() + 120
    while "running" not in study("status", "cut").stdout and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(3)  # into its clone or its experiment
    job = json.loads((repo / ".dvc/tmp/study/cut/jobs.json").read_text())["cut-10"]["job"]
    subprocess.run(["scancel", job], env={**cluster.env, "PATH": "/usr/bin:/bin"}, check=True)
    while "\tfailed\t" not in study("status", "cut").stdout and time.monotonic() < deadline:
        time.sleep(1)
    assert study("status", "cut").stdout.startswith("cut-10\tfailed\t")  # its --grid remembered
    assert "cut-10" not in sh(repo, "git", "ls-remote", "origin").stdout  # no half-pushed experiment

    again = study("run", "cut", "--grid", "data.n_features=10", "--on", "slurm", "--timeout", "300")
    assert again.returncode == 0 and "cut: 1 submitted, 0 done" in again.stderr
    assert re.search(r"^cut: cut-10 done \(1 of 1, (\d+ min )?\d+ s\)$", again.stderr, re.M)
    assert "| cut-10 | 10 | " in again.stdout
    # --force takes the finished point off the remote and here, and submits it again.
    forced = study("run", "cut", "--on", "slurm", "--force", "--no-wait")
    assert "cut: 1 submitted, 0 done" in forced.stderr
    assert forced.stdout.split("\t")[:2] in (["cut-10", "pending"], ["cut-10", "running"])
    assert "cut-10" not in sh(repo, "git", "ls-remote", "origin").stdout + sh(repo, "git", "for-each-ref").stdout


@pytest.mark.parametrize("break_it, message", [
    (lambda repo: sh(repo, "git", "remote", "remove", "origin"), "error: no git remote origin: the jobs clone it"),
    (lambda repo: ((repo / "README.md").write_text("x"), commit_all(repo, "not pushed")),
     "error: commit "),
    (lambda repo: (dvc(repo, "remote", "default", "--unset"), commit_all(repo, "no remote"),
                   sh(repo, "git", "push", "-q", "origin", "HEAD:main")), "error: no default DVC remote in .dvc/config"),
    (lambda repo: (repo / "README.md").write_text("edited"), "error: uncommitted changes"),
])
def test_what_the_jobs_need_is_checked_before_submitting(committed, tmp_path, break_it, message):
    repo = team(committed, tmp_path)
    break_it(repo)
    result = sh(repo, sys.executable, "-m", "study", "run", "tiny", "--on", "slurm", check=False)
    assert result.returncode == 1 and result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert not (repo / ".dvc/tmp/study").exists()
