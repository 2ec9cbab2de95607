"""Option: one setting a record takes (a data source's, an architecture's, a regime's), with
its type, default and check. The pipeline's params schema (stages/schema.py) turns each into
a params key (data.NAME, model.NAME, prune.NAME); the library passes the values on."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Option:
    default: object                  # its Python type is the option's type; None: the user must set it
    valid: Callable[[object], bool]  # called with a value of the right type
    expected: str                    # what `valid` accepts, for errors and the params table
    meaning: str
    kind: type = int                 # the type, where there is no default to take it from
    suffix: str = ""                 # a file the user gives: the name must end so (the pipeline adds where it lies)
    folder: bool = False             # a folder the user gives (the pipeline adds where it lies)
    shown: str = ""                  # the default as the params table shows it, when its repr is unclear
    item_expected: str = ""          # a list (kind tuple): `valid` checks each item, what an item must be
    item_kind: type = int            # a list: each item's type

    def accepts(self, value) -> bool:
        """Whether a value of the option's type is valid: a list a non-empty one of valid items."""
        if self.item_expected:
            return len(value) >= 1 and all(self.valid(item) for item in value)
        return self.valid(value)
