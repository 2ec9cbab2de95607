"""prunelab's DVC stages: one thin module per stage, plus the pipeline's shared pieces (params, artifact I/O)."""
import os
import signal
import sys

from prunelab.numerics import pin

pin()  # before any stage imports numpy or torch: see prunelab/numerics.py

from prunelab import InputError  # noqa: E402  (prunelab/__init__.py loads no numeric library)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class UserError(Exception):
    """A mistake in params or input files: reported as one line, never a traceback."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: raised in the main thread so that every write under way
    removes its temporary file (stages/artifacts.py) on the way out. A BaseException, as
    KeyboardInterrupt is, so that no `except Exception` swallows it."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum, frame):
    for stop in STOP_SIGNALS:  # a second Ctrl-C must not cut the clean-up short
        signal.signal(stop, signal.SIG_IGN)
    raise Interrupted(signum)


def run(main):
    """Run a stage's main(); a UserError (or the library's InputError about a data file) becomes
    one line on stderr and exit status 1. SIGINT or SIGTERM stops it at once: the temporary
    file being written goes, one line says so, and the exit status is 128 + the signal (130,
    143), without waiting for the worker threads (prunelab/compute.py) to finish their pieces."""
    for stop in STOP_SIGNALS:
        signal.signal(stop, _interrupt)
    try:
        main()
    except (UserError, InputError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except (Interrupted, KeyboardInterrupt) as err:
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"error: interrupted by {signal.Signals(signum).name}: stopped, no half-written file left; "
              "run it again to finish", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + signum)  # no join of the worker threads: they may be mid-product
