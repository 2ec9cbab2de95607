"""prunelab's DVC stages: one thin module per stage, plus the pipeline's shared pieces (params, artifact I/O)."""
import sys

from prunelab.numerics import pin

pin()  # before any stage imports numpy or torch: see prunelab/numerics.py

from prunelab import InputError  # noqa: E402  (prunelab/__init__.py loads no numeric library)


class UserError(Exception):
    """A mistake in params or input files: reported as one line, never a traceback."""


def run(main):
    """Run a stage's main(); a UserError (or the library's InputError about a data file) becomes
    one line on stderr and exit status 1."""
    try:
        main()
    except (UserError, InputError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
