"""Progress bars for long loops, on stderr, quiet where nobody watches.

A bar shows only when stderr is a terminal and CI is unset: DVC's logs, pipes and CI stay
clean, and a bar never touches an artifact.
"""
import os
import sys

from tqdm import tqdm


def watched():
    return sys.stderr.isatty() and not os.environ.get("CI")


def bar(total, description, unit="step"):
    """A tqdm bar of `total` units (thread-safe: workers update one bar), disabled when unwatched."""
    return tqdm(total=total, desc=description, unit=unit, disable=not watched(), leave=False,
                dynamic_ncols=True, mininterval=0.5)


def progress(items, description, unit):
    """The items, with a bar over them (see bar)."""
    items = list(items)
    with bar(len(items), description, unit) as shown:
        for item in items:
            yield item
            shown.update(1)
