"""Progress bars for long loops, on stderr, quiet where nobody watches.

A bar shows only when stderr is a terminal and CI is unset: DVC's logs, pipes and CI stay
clean, and a bar never touches an artifact.
"""
import os
import sys
import threading

from tqdm import tqdm


def watched():
    return sys.stderr.isatty() and not os.environ.get("CI")


class Bar(tqdm):
    """tqdm whose update takes a lock: the workers update one bar, and tqdm's own count is a
    plain `n += ...`."""
    lock = threading.Lock()

    def update(self, n=1):
        with self.lock:
            return super().update(n)


def bar(total, description, unit="step"):
    """A bar of `total` units, disabled when unwatched."""
    return Bar(total=total, desc=description, unit=unit, disable=not watched(), leave=False,
               dynamic_ncols=True, mininterval=0.5)


def progress(items, description, unit):
    """The items, with a bar over them (see bar)."""
    items = list(items)
    with bar(len(items), description, unit) as shown:
        for item in items:
            yield item
            shown.update(1)
