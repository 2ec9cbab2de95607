"""Faults a long study meets, on the real dvc and git: a full disk (a real, small tmpfs), a
stage interrupted mid-write (SIGINT, SIGTERM), a dvc.lock cut short by a killed write, a stale
lock; each recovered by the commands docs/troubleshooting.md gives. Tiny params throughout."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest
import yaml

from stages import paths
from stages.artifacts import temporary
from tests.conftest import (BIN, ENV, ROOT, SMALL, artifact_files, commit_all, dvc, fill, mount_tmpfs, pipeline,
                            repro, set_param, sh, temporaries, unmount)

STAGES = ["check-params", "generate-data", "train", "prune-sweep", "sensitivity", "plot"]
CACHED = "is cached - skipping run"
# conftest's small params, with two pruning and sensitivity levels and small figures.
TINY = {**SMALL, "prune": {**SMALL["prune"], "amounts": [0.5, 0.9]}, "sensitivity": {"amounts": [0.5, 0.9]},
        "plot": {"dpi": 40}}
HOOKS = ROOT / "tests" / "hooks"  # sitecustomize.py: PRUNELAB_PAUSE_WRITE pauses a stage's first write


@pytest.fixture(scope="module")
def tiny(committed, tmp_path_factory):
    """A clone of `committed` at small params, reproduced and committed: the artifacts every
    recovery must give back."""
    repo = tmp_path_factory.mktemp("tiny") / "repo"
    sh(committed.parent, "git", "clone", "-q", str(committed), str(repo))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for section, values in TINY.items():
        params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    repro(repo)
    commit_all(repo, "small params")
    return repo


def copy_of(tiny, where):
    shutil.copytree(tiny, where, symlinks=True)
    return where


def error_lines(result):
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error:")]


def test_a_full_disk_is_one_line_and_the_documented_commands_restore_the_outputs(tiny, tmp_path):
    disk = mount_tmpfs(tmp_path / "disk", 48 * 2**20)
    try:
        repo = copy_of(tiny, disk / "repo")
        before = artifact_files(repo)
        set_param(repo, "data", "n_samples", 50_000)  # a 2.0 MB train split
        filler = fill(disk, 2**20)
        ran, result = repro(repo, check=False)
        assert result.returncode != 0 and ran == ["check-params", "generate-data"]
        assert error_lines(result) == [
            f"error: {paths.TRAIN_SPLIT}: no space left on device (writing 2.0 MB); "
            "docs/troubleshooting.md says how to get the previous outputs back"]
        assert "Traceback" not in result.stdout + result.stderr
        assert temporaries(repo) == []
        # What DVC removed before running the stage (docs/troubleshooting.md): its outputs, the
        # DVC-cached datasets and the git-tracked metrics file alike.
        assert not (repo / paths.TRAIN_SPLIT).exists() and not (repo / paths.DATA_METRICS).exists()
        # The recipe: git's files back from git, DVC's from its cache.
        sh(repo, "git", "checkout", "--", "dvc.lock", "metrics")
        dvc(repo, "checkout")
        assert artifact_files(repo) == before
        # Space freed, the same run goes through.
        filler.unlink()
        ran, result = repro(repo, "generate-data")
        assert ran == ["check-params", "generate-data"] and temporaries(repo) == []
        summary = json.loads((repo / paths.DATA_METRICS).read_text())
        assert summary["train"]["samples"] + summary["test"]["samples"] == 50_000
        assert "generate-data" not in json.loads(dvc(repo, "status", "generate-data", "--json").stdout)
    finally:
        unmount(disk)


def interrupted(repo, stage, name, marker):
    """`dvc repro --force -s STAGE` with the stage's first write paused, then signal `name` sent
    to the stage's process: (the completed dvc process, the temporary file that existed)."""
    env = {**ENV, "PYTHONPATH": str(HOOKS), "PRUNELAB_PAUSE_WRITE": str(marker)}
    process = subprocess.Popen([str(BIN / "dvc"), "repro", "--force", "--single-item", stage], cwd=repo, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() or not marker.read_text().endswith("\n"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{stage} never reached a write:\n{process.communicate()}")
            time.sleep(0.05)
        pid, tmp = marker.read_text().split()
        assert (repo / tmp).is_file()
        os.kill(int(pid), signal.Signals[name])
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), tmp


# Each stage once, the two signals in turn (tests/stages/test_run.py sends both to one stage;
# generate-data has its own test below, with both): the suite's time, not coverage, sets this.
@pytest.mark.parametrize("stage, name", [("check-params", "SIGINT"), ("train", "SIGTERM"), ("prune-sweep", "SIGINT"),
                                         ("sensitivity", "SIGTERM"), ("plot", "SIGINT")])
def test_a_signal_mid_write_leaves_nothing_half_written_and_the_next_repro_finishes(tiny, tmp_path, stage, name):
    repo = copy_of(tiny, tmp_path / "repo")
    result, tmp = interrupted(repo, stage, name, tmp_path / "paused")
    assert result.returncode != 0
    assert error_lines(result) == [f"error: interrupted by {name}: stopped, no half-written file left; "
                                   "run it again to finish"]
    assert f"exited with {128 + signal.Signals[name]}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert temporaries(repo) == [] and not (repo / tmp).exists()
    repro(repo)
    assert artifact_files(repo) == artifact_files(tiny)


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_during_a_large_real_write_of_generate_data(tiny, tmp_path, name):
    """No hook: a dataset large enough that its write is seen under way (a 16 MB train split)."""
    repo = copy_of(tiny, tmp_path / "repo")
    set_param(repo, "data", "n_samples", 400_000)
    repro(repo, "generate-data")  # uninterrupted: what the next run must give back
    uninterrupted = artifact_files(repo)
    process = subprocess.Popen([str(BIN / "dvc"), "repro", "--force", "--single-item", "generate-data"], cwd=repo,
                               env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        splits = [repo / temporary(path) for path in (paths.TRAIN_SPLIT, paths.TEST_SPLIT)]
        while not any(tmp.exists() for tmp in splits):
            assert process.poll() is None, f"generate-data ended before a write was seen: {process.communicate()}"
            time.sleep(0.001)
        stage = next(child for child in psutil.Process(process.pid).children(recursive=True)
                     if child.cmdline()[1:3] == ["-m", "stages.generate_data"])
        stage.send_signal(signal.Signals[name])
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0 and "Traceback" not in stdout + stderr
    assert f"exited with {128 + signal.Signals[name]}" in stderr
    assert error_lines(subprocess.CompletedProcess([], 1, stdout, stderr)) == [
        f"error: interrupted by {name}: stopped, no half-written file left; run it again to finish"]
    assert temporaries(repo) == []
    repro(repo, "generate-data")
    assert artifact_files(repo) == uninterrupted


def test_a_lock_cut_short_by_a_killed_write_comes_back_from_git_and_the_run_cache(tiny, tmp_path):
    repo = copy_of(tiny, tmp_path / "repo")
    set_param(repo, "plot", "dpi", 50)
    repro(repo)  # a run that redraws the figures, uninterrupted: what the recovery must give
    after = artifact_files(repo)
    # dvc 3.67 writes dvc.lock in place (open "w+", then the YAML in buffered pieces): a kill
    # leaves it empty, which DVC refuses, or holding its first buffer's worth (8 KiB) of the
    # new text, which DVC may read as a lock with stages missing or refuse, by where it ends.
    outputs = {name: data for name, data in after.items() if name != "dvc.lock"}
    (repo / "dvc.lock").write_bytes(b"")
    failed = dvc(repo, "status", check=False)
    assert failed.returncode != 0 and "dvc.lock' validation failed" in failed.stderr
    assert {name: data for name, data in artifact_files(repo).items() if name != "dvc.lock"} == outputs
    sh(repo, "git", "checkout", "--", "dvc.lock")  # the recipe: the committed lock ...
    ran, result = repro(repo)                        # ... and the run cache restores the rest
    assert "plot" not in ran and f"Stage 'plot' {CACHED}" in result.stdout + result.stderr
    assert artifact_files(repo) == after
    # The first 8 KiB, fed to DVC as they are: the cut falls inside some stage's entry (which one
    # follows from the lock's length: train's, since the stages list the architectures' code).
    cut = after["dvc.lock"][:8192]
    (repo / "dvc.lock").write_bytes(cut)
    entries = re.findall(r"^  ([\w-]+):$", cut.decode(), re.MULTILINE)
    stale = sorted(set(pipeline(repo)["stages"]) - set(entries[:-1]))  # the cut entry and those after it
    assert len(entries) >= 2 and entries[-1] in stale and "check-params" not in stale
    # DVC reads it without an error: the cut entry and the stages after it count as changed ...
    status = dvc(repo, "status", "--json")
    assert sorted(json.loads(status.stdout)) == stale
    assert {name: data for name, data in artifact_files(repo).items() if name != "dvc.lock"} == outputs
    # ... and repro reruns none of them: the run cache gives their outputs back, the lock is whole again.
    ran, result = repro(repo)
    assert ran == [] and all(f"Stage '{stage}' {CACHED}" in result.stdout + result.stderr for stage in stale)
    now = artifact_files(repo)
    assert {name: data for name, data in now.items() if name != "dvc.lock"} == outputs
    assert yaml.safe_load(now["dvc.lock"]) == yaml.safe_load(after["dvc.lock"])  # the same entries, reordered


def test_a_stale_rwlock_entry_is_named_and_removing_it_unblocks_dvc(tiny, tmp_path):
    repo = copy_of(tiny, tmp_path / "repo")
    # A live process that is not dvc holds the entry (a pid reused after dvc was killed).
    holder = subprocess.Popen(["sleep", "600"])
    try:
        target = str((repo / paths.TRAIN_SPLIT).resolve())
        rwlock = repo / ".dvc" / "tmp" / "rwlock"
        rwlock.write_text(json.dumps({"write": {target: {"pid": holder.pid, "cmd": "dvc repro"}}, "read": {}}))
        ran, blocked = repro(repo, "--force", "--single-item", "generate-data", check=False)
        assert blocked.returncode != 0 and ran == []
        assert f"(PID {holder.pid}): dvc repro" in blocked.stderr and "is busy" in blocked.stderr
        rwlock.unlink()  # the recipe, once no dvc runs
        assert repro(repo, "--force", "--single-item", "generate-data")[0] == ["generate-data"]
    finally:
        holder.kill()
    assert artifact_files(repo) == artifact_files(tiny)


def test_a_stale_queue_is_cleared_by_queue_remove(tiny, tmp_path):
    repo = copy_of(tiny, tmp_path / "repo")
    dvc(repo, "exp", "run", "--queue", "-S", "train.seed=2")
    assert "Queued" in dvc(repo, "queue", "status").stdout
    dvc(repo, "queue", "remove", "--all")
    assert "Queued" not in dvc(repo, "queue", "status").stdout


def test_the_repo_lock_ends_with_the_process_that_held_it(tiny, tmp_path):
    repo = copy_of(tiny, tmp_path / "repo")
    lock = repo / ".dvc" / "tmp" / "lock"
    hold = ("import sys, time, zc.lockfile; held = zc.lockfile.LockFile(sys.argv[1]); print('held', flush=True); "
            "time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        ran, blocked = repro(repo, check=False)
        assert blocked.returncode != 0 and "Unable to acquire lock" in blocked.stderr
    finally:
        holder.kill()  # as a killed dvc: its lock file stays, its lock does not
        holder.wait()
    assert lock.exists()
    assert repro(repo)[0] == []
