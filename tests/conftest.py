"""Fixtures for tests that run the real dvc and git binaries in temporary repositories.

The template repository is built from this working tree (tracked and untracked, not ignored
files), so the tests see uncommitted changes too; it never writes into the working tree.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from tests.missing import missing, pytest_runtest_makereport  # noqa: F401 (the hook: CI fails such skips)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dvc.yaml runs `python -m ...`
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "prunelab tests", "GIT_AUTHOR_EMAIL": "tests@prunelab.invalid",
    "GIT_COMMITTER_NAME": "prunelab tests", "GIT_COMMITTER_EMAIL": "tests@prunelab.invalid",
}
RUNNING = re.compile(r"Running stage '([^']+)'")


def pytest_collection_modifyitems(config, items):
    """The `regenerate` tests (tests/test_regenerate.py, tens of minutes) run only with
    PRUNELAB_REGENERATE set (`make check-results`); otherwise they are deselected."""
    if os.environ.get("PRUNELAB_REGENERATE"):
        return
    slow = [item for item in items if item.get_closest_marker("regenerate")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("regenerate")]


def pipeline(repo=ROOT):
    """dvc.yaml as DVC reads it: each `${NAME}` replaced by that path of stages/paths.py."""
    from stages import paths
    text = re.sub(r"\$\{(\w+)\}", lambda match: getattr(paths, match.group(1)), (repo / "dvc.yaml").read_text())
    return yaml.safe_load(text)


def sh(repo, *args, check=True, timeout=600, env=None):
    """Run a command in repo (env: variables added to ENV); return the CompletedProcess (text output)."""
    result = subprocess.run(args, cwd=repo, env={**ENV, **(env or {})}, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def dvc(repo, *args, check=True, env=None):
    return sh(repo, str(BIN / "dvc"), *args, check=check, env=env)


def repro(repo, *args, check=True, env=None):
    """Run a real `dvc repro`; return (stages that ran, in order, and the process)."""
    result = dvc(repo, "repro", *args, check=check, env=env)
    return RUNNING.findall(result.stdout + result.stderr), result


def commit_all(repo, message):
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", message)


def artifact_files(repo):
    """Every pipeline artifact and the lock file: path -> bytes."""
    paths = [repo / "dvc.lock", *sorted((repo / "data").rglob("*")), *sorted((repo / "metrics").rglob("*"))]
    return {str(path.relative_to(repo)): path.read_bytes() for path in paths if path.is_file()}


def set_param(repo, section, key, value):
    """Rewrite one `key: value` line of params.yaml inside `section` (a block list under the key goes)."""
    path = repo / "params.yaml"
    lines, current = path.read_text().splitlines(), None
    for index, line in enumerate(lines):
        if not line.startswith((" ", "#")) and line.endswith(":"):
            current = line[:-1]
        elif current == section and line.strip().startswith(f"{key}:"):
            lines[index] = f"  {key}: {value}"
            while index + 1 < len(lines) and lines[index + 1].startswith("  - "):
                del lines[index + 1]
            path.write_text("\n".join(lines) + "\n")
            return
    raise KeyError(f"{section}.{key}")


@pytest.fixture(scope="session")
def committed(tmp_path_factory):
    """A git repository holding this working tree, committed on branch main, never reproduced."""
    repo = tmp_path_factory.mktemp("committed")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = [name for name in listed.split("\0") if name and (ROOT / name).is_file()]
    for name in names:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    sh(repo, "git", "init", "-q", "-b", "main")
    # -f: a file git tracks here must be tracked there too, even where .gitignore names it.
    sh(repo, "git", "add", "-f", "--", *names)
    sh(repo, "git", "commit", "-q", "-m", "prunelab under test")
    return repo


@pytest.fixture(scope="session")
def reproduced(committed, tmp_path_factory):
    """A clone of `committed` after a full `dvc repro`, with a clean `dvc status`."""
    repo = tmp_path_factory.mktemp("reproduced") / "repo"
    sh(committed.parent, "git", "clone", "-q", str(committed), str(repo))
    repro(repo)
    return repo


@pytest.fixture
def repo(reproduced, tmp_path):
    """A private copy of the reproduced repository (git history, DVC cache and all)."""
    copy = tmp_path / "repo"
    shutil.copytree(reproduced, copy, symlinks=True)
    return copy


def mount_tmpfs(where, size):
    """A tmpfs of `size` bytes at `where`, a real filesystem that fills up; skips, naming why,
    where none can be mounted (mounting needs root)."""
    where.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        missing("the mount command", "a full filesystem needs `mount -t tmpfs`")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        missing("a tmpfs mount (root)", f"a full filesystem needs `mount -t tmpfs`: {result.stderr.strip()}")
    return where


def unmount(where):
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk, leave):
    """A file `filler` on `disk` that leaves `leave` bytes free; returns its path."""
    stats = os.statvfs(disk)
    filler = Path(disk) / "filler"
    free = stats.f_bavail * stats.f_frsize + (filler.stat().st_size if filler.exists() else 0)
    filler.write_bytes(b"\0" * max(free - leave, 0))
    return filler


@pytest.fixture
def small_disk(tmp_path):
    """An empty 4 MB tmpfs, unmounted after the test."""
    disk = mount_tmpfs(tmp_path / "disk", 4 * 2**20)
    yield disk
    unmount(disk)


def temporaries(folder):
    """The temporary files (stages/artifacts.py) left anywhere under folder, outside .git and .dvc."""
    return sorted(str(path.relative_to(folder)) for path in Path(folder).rglob(".*.tmp")
                  if not {".git", ".dvc"} & set(path.relative_to(folder).parts))


SMALL = {"data": {"n_samples": 300, "n_features": 6}, "model": {"hidden_sizes": [16]}, "train": {"epochs": 8, "repeats": 3},
         "prune": {"finetune_epochs": 3}}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty directory holding a params.yaml of small values, made the current directory."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in SMALL.items():
        params[section].update(values)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def imported_modules(module):
    """The top-level packages that importing `module` loads (run from ROOT)."""
    code = f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return sh(ROOT, sys.executable, "-c", code).stdout.split()


def imported_stage_files(module, sections=None):
    """The files of the stages and prunelab packages that a stage runs, relative to ROOT: those importing
    `module` loads, and those that checking its params sections loads (the registries that
    prune.methods and prune.regimes name). sections=None: the whole params file."""
    load = f"schema.load(*{list(sections)!r})" if sections is not None else "schema.validate(schema.read_params())"
    code = (f"import sys, {module}; from stages import schema; {load}; "
            "print('\\n'.join(getattr(m, '__file__', None) or '' for m in list(sys.modules.values())))")
    files = sh(ROOT, sys.executable, "-c", code).stdout.split("\n")
    packages = (ROOT / "stages", ROOT / "prunelab")  # and their subpackages (prunelab/architectures)
    return {str(Path(f).relative_to(ROOT)) for f in files if any(Path(f).is_relative_to(top) for top in packages)}


@torch.no_grad()
def evaluate(model, x, y):
    """(accuracy, BCE loss) of one nn.Module: the reference that stacked evaluation must equal."""
    model.eval()
    outputs = model(x)
    accuracy = ((outputs > 0.5).float() == y).sum().item() / len(y)
    return accuracy, nn.functional.binary_cross_entropy(outputs, y).item()


class SeedNet(nn.Module):
    """The seed report's class, as a user's notebook has it."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_size, output_size)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc2(self.relu(self.fc1(x))))


@pytest.fixture
def tiny_images(tmp_path, monkeypatch):
    """The current directory: models/ (the example module) and datasets/tiny, 16x16 IDX images of
    4 classes, 48 train and 24 test (the conv net tests' data)."""
    from tests.idx_files import write_set
    shutil.copytree(ROOT / "models", tmp_path / "models")
    write_set(tmp_path / "datasets/tiny", train=48, test=24, classes=4, rows=16, columns=16)
    monkeypatch.chdir(tmp_path)
    return tmp_path
