"""Each benchmark's printed block, kept as bench/results/NAME.txt: the docs pages quote these
files, and tests/test_bench_blocks.py checks that every quoted block is its file, word for word,
so a paste that no longer matches the last run fails. Beside it, NAME.params.yaml: the
params.yaml the run read, which the prose built from a block is checked against (not today's)."""
import contextlib
import io
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, terminal):
        self.terminal, self.copy = terminal, io.StringIO()

    def write(self, text):
        self.copy.write(text)
        return self.terminal.write(text)

    def flush(self):
        self.terminal.flush()


@contextlib.contextmanager
def printed(name):
    """Everything printed inside goes to stdout as before and, if the run completes, to
    bench/results/NAME.txt, with NAME.params.yaml; a failed run leaves the last good files as they were."""
    tee = _Tee(sys.stdout)
    params = (RESULTS.parent.parent / "params.yaml").read_text()  # as the run starts: it reads this one
    with contextlib.redirect_stdout(tee):
        yield
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.txt").write_text(tee.copy.getvalue().strip() + "\n")
    (RESULTS / f"{name}.params.yaml").write_text(params)


def seconds(call) -> float:
    """Wall time of one call, in seconds."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start
