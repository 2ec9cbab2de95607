"""Progress bars for long loops, on stderr, quiet where nobody watches.

A bar shows only when stderr is a terminal and CI is unset: DVC's logs, pipes and CI stay
clean, and a bar never touches an artifact.
"""
import os
import sys
import threading
from typing import Iterable, Iterator, TypeVar

from tqdm import tqdm

_Item = TypeVar("_Item")


def watched() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


class Bar(tqdm):
    """tqdm whose update takes a lock: the workers update one bar, and tqdm's own count is a
    plain `n += ...`."""
    lock = threading.Lock()

    def update(self, n: float = 1) -> bool | None:
        with self.lock:
            return super().update(n)


def bar(total: int, description: str, unit: str = "step") -> Bar:
    """A bar of `total` units, disabled when unwatched."""
    return Bar(total=total, desc=description, unit=unit, disable=not watched(), leave=False,
               dynamic_ncols=True, mininterval=0.5)


def progress(items: Iterable[_Item], description: str, unit: str) -> Iterator[_Item]:
    """The items, with a bar over them (see bar)."""
    items = list(items)
    with bar(len(items), description, unit) as shown:
        for item in items:
            yield item
            shown.update(1)
