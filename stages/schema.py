"""The params.yaml schema: every key, its type, range and default, and its validation.

`python -m stages.schema` prints the params table that the README carries.
"""
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from stages import UserError

PARAMS_FILE = Path("params.yaml")


@dataclass(frozen=True)
class Key:
    default: object          # its Python type is the key's type (int, float, str, list of floats)
    valid: Callable          # called with a value of the right type
    expected: str            # what `valid` accepts, for errors and the README
    meaning: str
    shown: str = ""          # the default as the README shows it, when repr is unreadable
    item_expected: str = ""  # for lists: what `valid` accepts of each item


SEED_AMOUNTS = [float(a) for a in np.linspace(0.01, 0.5, 20)]

SCHEMA = {
    "data": {
        "n_samples": Key(2500, lambda v: 2 <= v <= 10**6, "an integer in [2, 10**6]",
                         "make_classification n_samples"),
        "n_features": Key(25, lambda v: 4 <= v <= 10**4, "an integer in [4, 10**4] (2 informative + 2 redundant)",
                          "make_classification n_features"),
        "n_classes": Key(2, lambda v: v == 2, "2 (the model has one sigmoid output)", "binary task"),
        "n_clusters_per_class": Key(2, lambda v: v in (1, 2), "1 or 2 (n_classes * clusters <= 2**2 informative)",
                                    "make_classification n_clusters_per_class"),
        "random_state": Key(42, lambda v: 0 <= v < 2**32, "an integer in [0, 2**32)", "dataset and split seed"),
        "test_size": Key(0.3, lambda v: 0 < v < 1, "a number in (0, 1)", "fraction of samples held out for testing"),
    },
    "model": {
        "hidden_size": Key(256, lambda v: 1 <= v <= 10**5, "an integer in [1, 10**5]", "width of the hidden layer"),
    },
    "train": {
        "seed": Key(0, lambda v: 0 <= v < 2**63, "an integer in [0, 2**63)", "torch seed set before the model is built"),
        "epochs": Key(20, lambda v: 1 <= v <= 10**5, "an integer in [1, 10**5]", "full-batch Adam steps"),
        "lr": Key(0.01, lambda v: v > 0, "a number > 0", "Adam learning rate"),
    },
    "prune": {
        "amounts": Key(SEED_AMOUNTS, lambda v: 0 <= v < 1, "a non-empty list of distinct fractions in [0, 1)",
                       "fractions of fc1+fc2 weights removed (global magnitude)",
                       shown="the seed's linspace(0.01, 0.5, 20)", item_expected="a fraction in [0, 1)"),
        "tolerance": Key(0.01, lambda v: 0 <= v <= 1, "a number in [0, 1]",
                         "accuracy drop from dense (absolute) still counted as unharmed"),
    },
    "plot": {
        "width": Key(6.0, lambda v: 0 < v <= 50, "a number in (0, 50] (inches)", "figure width"),
        "height": Key(4.0, lambda v: 0 < v <= 50, "a number in (0, 50] (inches)", "figure height"),
        "dpi": Key(100, lambda v: 10 <= v <= 600, "an integer in [10, 600]", "figure resolution"),
        "format": Key("png", lambda v: v in ("png", "svg"), "png or svg", "figure file format"),
    },
}


def _split_sizes_nonempty(section):
    n_test = int(np.ceil(section["test_size"] * section["n_samples"]))
    if not 1 <= n_test < section["n_samples"]:
        return (f"data.test_size = {section['test_size']} with data.n_samples = {section['n_samples']} "
                f"gives {n_test} test samples; expected both splits to be non-empty")
    return None


# Rules that span keys of one section: each returns an error message or None.
SECTION_RULES = {"data": [_split_sizes_nonempty]}


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, where `1e-3` is a string; DVC (YAML 1.2) writes floats that way.

    It also keeps the last of two equal keys silently; a repeated key is an error here.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)$"),
    list("-+0123456789."),
)


def _typed(name, key, value):
    """Return value as the key's type, or raise UserError naming key, value and expectation."""
    def bad(shown_name=name, shown_value=value, expected=key.expected):
        return UserError(f"{PARAMS_FILE}: {shown_name} = {shown_value!r}: expected {expected}")

    kind = type(key.default)
    if kind is list:
        if not isinstance(value, list) or not value:
            raise bad()
        for index, item in enumerate(value):
            if not (_is_number(item) and key.valid(float(item))):
                raise bad(f"{name}[{index}]", item, key.item_expected)
            if value.index(item) != index:
                raise bad(f"{name}[{index}]", item, f"distinct values; it repeats {name}[{value.index(item)}]")
        return [float(item) for item in value]
    if kind is float and _is_number(value):
        typed = float(value)
    elif kind is int and isinstance(value, int) and not isinstance(value, bool):
        typed = value
    elif kind is str and isinstance(value, str):
        typed = value
    else:
        raise bad()
    if not key.valid(typed):
        raise bad()
    return typed


def _is_number(value):
    """A finite int or float that float() can hold (YAML ints are unbounded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= sys.float_info.max if isinstance(value, int) else math.isfinite(value)


def read_params(path=PARAMS_FILE):
    """Parse the params file; a missing or unparsable file is a UserError."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror}); expected the pipeline's params file") from None
    try:
        params = yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = f" ({err.problem})" if getattr(err, "problem", None) else ""
        raise UserError(f"{path}: not valid YAML{where}{problem}; expected a mapping of sections") from None
    if not isinstance(params, dict):
        raise UserError(f"{path}: expected a mapping with sections {', '.join(SCHEMA)}")
    return params


def validate_section(params, section):
    """Check one section of parsed params; return it typed, with defaults for absent keys."""
    keys = SCHEMA[section]
    given = params.get(section)
    if given is None:
        raise UserError(f"{PARAMS_FILE}: missing section '{section}'; expected keys {', '.join(keys)}")
    if not isinstance(given, dict):
        raise UserError(f"{PARAMS_FILE}: {section} = {given!r}: expected a mapping with keys {', '.join(keys)}")
    for name in given:
        if name not in keys:
            raise UserError(f"{PARAMS_FILE}: unknown key {section}.{name}; known keys: {', '.join(keys)}")
    values = {name: _typed(f"{section}.{name}", key, given.get(name, key.default))
              for name, key in keys.items()}
    for rule in SECTION_RULES.get(section, []):
        message = rule(values)
        if message:
            raise UserError(f"{PARAMS_FILE}: {message}")
    return values


def validate(params):
    """Check every section; unknown sections are errors too."""
    for section in params:
        if section not in SCHEMA:
            raise UserError(f"{PARAMS_FILE}: unknown section '{section}'; known sections: {', '.join(SCHEMA)}")
    return {section: validate_section(params, section) for section in SCHEMA}


def load(*sections):
    """The typed, validated values of the named sections of params.yaml, by section."""
    params = read_params()
    return {section: validate_section(params, section) for section in sections}


def markdown_table():
    rows = ["| key | default | expected | meaning |", "|---|---|---|---|"]
    for section, keys in SCHEMA.items():
        for name, key in keys.items():
            rows.append(f"| {section}.{name} | {key.shown or key.default} | {key.expected} | {key.meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
