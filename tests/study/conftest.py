"""The study tests' shared pieces: a real one-node Slurm cluster (tests/slurm.py) for the
whole session, and the tiny params every real experiment of these tests runs with."""
import pytest
import yaml

from tests.conftest import commit_all, sh
from tests.missing import missing
from tests.slurm import Cluster, absent_parts

TINY = {"data": {"n_samples": 200}, "model": {"hidden_sizes": [8]}, "train": {"epochs": 3, "repeats": 2},
        "prune": {"amounts": [0.5, 0.9], "finetune_epochs": 2}, "sensitivity": {"amounts": [0.5]}}


def tiny_clone(committed, repo, **sections):
    """A clone of `committed` at `repo` whose params are TINY (updated by `sections`), committed."""
    sh(committed.parent, "git", "clone", "-q", str(committed), str(repo))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for section, values in {**TINY, **sections}.items():
        params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit_all(repo, "tiny params")  # only committed files reach a queued experiment or a job
    return repo


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A running one-node Slurm cluster (2 CPUs) and its environment (SLURM_CONF); skips,
    naming what is missing, where it cannot start."""
    absent = absent_parts()
    if absent:
        missing("a Slurm cluster", absent)
    started = Cluster(tmp_path_factory.mktemp("slurm"), cpus=2)
    try:
        started.start()
    except RuntimeError as err:
        started.stop()
        missing("a running Slurm cluster", str(err))
    yield started
    started.stop()
