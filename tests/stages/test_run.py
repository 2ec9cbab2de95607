"""stages.run (stages/__init__.py): SIGINT and SIGTERM stop a stage at once, with one line, the
temporary file gone and the exit status 128 + the signal, worker threads or not."""
import signal
import subprocess
import sys

import pytest

from tests.conftest import ENV, ROOT

# A stage whose main is mid-write when the signal comes: the temporary file exists, the old file too.
MID_WRITE = """
import os, signal, sys
from stages import run
from stages.artifacts import replacing
def main():
    with replacing("out.bin") as handle:
        handle.write(b"half")
        os.kill(os.getpid(), signal.{name})
        signal.pause()
run(main)
"""
# Main waits on worker threads that would take an hour: the exit must not wait for them.
BUSY_WORKERS = """
import os, signal, threading, time
from stages import run
from prunelab import compute
def main():
    compute.set_workers(2)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.{name})).start()
    compute.parallel_map(lambda _: time.sleep(3600), range(4))
run(main)
"""


def stage(tmp_path, code, name):
    (tmp_path / "out.bin").write_bytes(b"old")
    return subprocess.run([sys.executable, "-c", code.format(name=name)], cwd=tmp_path, capture_output=True,
                          text=True, env={**ENV, "PYTHONPATH": str(ROOT)}, timeout=120)


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_mid_write_removes_the_temporary_and_says_so(tmp_path, name):
    result = stage(tmp_path, MID_WRITE, name)
    assert result.returncode == 128 + signal.Signals[name]
    assert result.stderr.splitlines() == [f"error: interrupted by {name}: stopped, no half-written file left; "
                                          "run it again to finish"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.bin"]
    assert (tmp_path / "out.bin").read_bytes() == b"old"


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_worker_threads_do_not_hold_up_the_exit(tmp_path, name):
    # The workers sleep for an hour; a hang would run into the 120 s timeout and fail.
    result = stage(tmp_path, BUSY_WORKERS, name)
    assert result.returncode == 128 + signal.Signals[name]
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
