"""prunelab's DVC stages: one thin module per stage, plus the pipeline's shared pieces (params, artifact I/O)."""
import sys

from prunelab.numerics import pin

pin()  # before any stage imports numpy or torch: see prunelab/numerics.py


class UserError(Exception):
    """A mistake in params or input files: reported as one line, never a traceback."""


def run(main):
    """Run a stage's main(); a UserError becomes one line on stderr and exit status 1."""
    try:
        main()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
