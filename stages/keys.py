"""What a params key is (Key), and the data keys derived from the sources' records.

stages/schema.py holds the table of keys and checks a params file against it; stages/rules.py
the checks across keys. Registries (data sources, method and regime names) are imported only
when a key that names one is checked: see registry().
"""
import functools
import importlib
from dataclasses import dataclass, replace
from typing import Callable

from stages import paths


@dataclass(frozen=True)
class Key:
    default: object          # its Python type is the key's type (int, float, str, list of floats)
    valid: Callable          # called with a value of the right type
    expected: str            # what `valid` accepts, for errors and the README
    meaning: str
    shown: str = ""          # the default as the README shows it, when repr is unreadable
    item_expected: object = ""  # for lists: what `valid` accepts of each item; for names: a function giving them
    item_type: type = float  # for lists: the type of each item
    min_items: int = 1       # for lists
    distinct: bool = True    # for lists: a repeated item is an error (levels, names; not widths)
    sources: tuple = ()      # data keys: the data.source values it applies to (empty: all); an error when set otherwise
    required: bool = False   # data keys: must be set when data.source is one of `sources`


def registry(module, name):
    """The names of a registry (prunelab.data's SOURCES, prunelab.methods' METHODS,
    prunelab.regimes' REGIMES, prunelab.architectures' NAMES), imported only when a key that
    names one is checked: a stage then depends on exactly the code that checking its own
    sections loads. The records load without torch."""
    return tuple(getattr(importlib.import_module(f"prunelab.{module}"), name))


def one_of(module, name):
    return lambda: f"one of {', '.join(registry(module, name))}"




def sources():
    """prunelab.data's SOURCES, the records of the data sources."""
    return importlib.import_module("prunelab.data").SOURCES  # only where data is checked: see registry()


def methods():
    """prunelab.methods' METHODS, the records of the pruning methods (no torch at import)."""
    return importlib.import_module("prunelab.methods").METHODS


def architectures():
    """prunelab.architectures' ARCHITECTURES, the built-ins' records (no torch at import)."""
    return importlib.import_module("prunelab.architectures").ARCHITECTURES


@functools.cache
def architecture_keys():
    """The model keys of the built-in architectures' options (prunelab/architectures/), in their
    order: one Key per option name, its meaning naming the architectures that take it (the
    others ignore it); a list option (mlp's hidden_sizes) a list key, checked item by item."""
    takers = {}
    for arch, record in architectures().items():
        for name, option in record.options.items():
            takers.setdefault(name, (option, []))[1].append(arch)
    return {name: Key(list(option.default) if option.item_expected else option.default, option.valid, option.expected,
                      f"{', '.join(names)}: {option.meaning}; the other architectures ignore it", shown=option.shown,
                      **(dict(item_type=option.item_kind, item_expected=option.item_expected, distinct=False)
                         if option.item_expected else {}))
            for name, (option, names) in takers.items()}


def regimes():
    """prunelab.regimes' REGIMES, the records of the regimes (no torch at import)."""
    return importlib.import_module("prunelab.regimes").REGIMES


@functools.cache
def regime_keys():
    """The prune keys of the regimes' options (prunelab/regimes/), in the records' order; a key
    several regimes read is one key, its meaning naming them all."""
    found = importlib.import_module("prunelab.regimes").options()
    return {name: Key(option.default, option.valid, option.expected, f"{', '.join(readers)}: {option.meaning}",
                      shown=option.shown) for name, (option, readers) in found.items()}


def _under_datasets(valid, path):
    return path.startswith(f"{paths.DATASETS_DIR}/") and ".." not in path.split("/") and valid(path)


def module_path(value):
    """model.module: "" (none) or FILE.py:CLASS with the file under the models folder (dvc.yaml's
    dep), a relative path that does not leave it, and CLASS a Python name."""
    if value == "":
        return True
    path, _, name = value.rpartition(":")
    return (path.startswith(f"{paths.MODULES_DIR}/") and path.endswith(".py") and ".." not in path.split("/")
            and "\\" not in path and name.isidentifier())


def _option_key(option, takers):
    valid, expected = option.valid, option.expected
    if option.suffix or option.folder:  # a file or folder of the user's: under the folder that dvc.yaml tracks for it
        valid = functools.partial(_under_datasets, option.valid)
        expected = (f"a folder under {paths.DATASETS_DIR}/" if option.folder else
                    f"a path under {paths.DATASETS_DIR}/ ending in {option.suffix}")
    required = option.default is None
    return Key(option.kind() if required else option.default, valid, expected, option.meaning,
               shown=f"none ({' or '.join(takers)} only)" if required else "", sources=takers, required=required)


@functools.cache
def source_keys():
    """The data keys of the sources' options (prunelab/data.py's records), in their order: per
    source its own Keys (what a value is checked with), and one Key per option name for the
    table and the section's key list; an option that several sources take applies to all."""
    takers = {}
    for source, record in sources().items():
        for name in record.options:
            takers.setdefault(name, []).append(source)
    own = {source: {name: _option_key(option, tuple(takers[name])) for name, option in record.options.items()}
           for source, record in sources().items()}
    shared = {}
    for name, names in takers.items():
        each = [own[source][name] for source in names]
        expected = dict.fromkeys(key.expected for key in each)
        shared[name] = replace(each[0], expected="; ".join(expected) if len(expected) == 1 else
                               "; ".join(f"{source}: {key.expected}" for source, key in zip(names, each)),
                               meaning="; ".join(dict.fromkeys(key.meaning for key in each)))
    return shared, own


def text(value):
    """A message part, or the function that makes it (registries are imported only when needed)."""
    return value() if callable(value) else value
