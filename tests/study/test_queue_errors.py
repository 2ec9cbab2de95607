"""The study tool's error paths on a real DVC queue: a wait that times out, and experiments that
fail, then run again: each a one-line error, and a failed experiment is requeued, not reused."""
import re
import sys

import pytest

from tests.conftest import dvc, sh
from tests.study.conftest import tiny_clone


@pytest.fixture
def tiny(committed, tmp_path):
    """A clone of the committed tree with tiny params, committed (only committed files reach a queued experiment)."""
    repo = tiny_clone(committed, tmp_path / "repo")
    yield repo
    dvc(repo, "queue", "stop", "--kill", check=False)


def study(repo, *args, env=None):
    return sh(repo, sys.executable, "-m", "study", *args, check=False, env=env)


def one_line_error(result):
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_wait_past_the_timeout_is_one_line_naming_the_experiments(tiny):
    result = study(tiny, "run", "features", "--values", "6", "8", "--timeout", "0")
    assert "features: 2 queued, 0 reused" in result.stderr
    # Each point with its state: queued, running if a worker took it already, or unfinished where
    # `dvc exp show` could not say (it fails while a worker makes an experiment's copy).
    state = "(queued|running|unfinished)"
    assert re.fullmatch(rf"error: not all finished after 0 s: features-6 {state}, features-8 {state} "
                        r"\(see `dvc queue status` and `dvc queue logs NAME`; a task that stays Queued means the "
                        r"workers found no `dvc` on PATH\)", one_line_error(result))


def test_failed_experiments_are_named_then_requeued_on_the_next_run(tiny):
    # The queue's workers inherit the environment: a bad PRUNELAB_WORKERS fails stage train.
    failed = study(tiny, "run", "features", "--values", "6", env={"PRUNELAB_WORKERS": "none"})
    assert one_line_error(failed) == "error: experiments failed: features-6 (see `dvc queue logs features-6`)"
    assert "\nfeatures: features-6 failed (1 of 1, " in failed.stderr  # reported as it ended
    logs = dvc(tiny, "queue", "logs", "features-6", check=False)
    assert "PRUNELAB_WORKERS='none': expected an integer >= 1" in logs.stdout + logs.stderr
    dvc(tiny, "queue", "stop", check=False)  # the next run starts workers of its own, with its environment

    again = study(tiny, "run", "features", "--values", "6")
    assert again.returncode == 0, again.stderr
    assert "features: 1 queued, 0 reused" in again.stderr  # the failed one is not reused
    assert "| features-6 | 6 | " in again.stdout
