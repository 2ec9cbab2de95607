"""The params.yaml schema: every key, its type, range and default, and its validation.

read_params (stages/params_file.py) parses the file; validate and load check it here, with
the checks across keys in stages/rules.py. What a key is (Key), and the data keys that the
sources' records bring, are in stages/keys.py.

`python -m stages.schema` prints the params table that the README carries.
"""
import difflib
import math
import sys

import numpy as np

from stages import UserError, keys, paths, rules
from stages.keys import Key, one_of, registry
from stages.params_file import PARAMS_FILE, parse_params


SEED_AMOUNTS = [float(a) for a in np.linspace(0.01, 0.5, 20)]
# Levels past the seed's flat region: methods only separate above ~0.7 sparsity.
HIGH_AMOUNTS = [0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]


SCHEMA = {
    "data": {
        "source": Key("make_classification", lambda v: v in registry("data", "SOURCES"),
                      "a name from SOURCES in prunelab/data.py", lambda: "the dataset: " + ", ".join(
                          f"{name} ({record.about})" for name, record in keys.sources().items()),
                      item_expected=one_of("data", "SOURCES")),
        "random_state": Key(42, lambda v: 0 <= v < 2**32, "an integer in [0, 2**32)", "dataset and split seed"),
        "test_size": Key(0.3, lambda v: 0 < v < 1, "a number in (0, 1)", "fraction of samples held out for testing"),
        "standardize": Key(False, lambda v: True, "true or false",
                           "centre and scale every feature by the train split's mean and std (real features need it)"),
        # ... and each source's own options: section_keys("data").
    },
    "model": {
        "arch": Key("mlp", lambda v: v in registry("architectures", "NAMES"),
                    "a name from ARCHITECTURES in prunelab/architectures/, or module", "the network: mlp (model.hidden_sizes), lenet5 "
                    "(Han et al.'s LeNet-5), conv2, conv4, conv6 (Frankle & Carbin's), or module (model.module); "
                    "docs/architectures.md", item_expected=one_of("architectures", "NAMES")),
        "module": Key("", keys.module_path, f"none (\"\"), or {paths.MODULES_DIR}/FILE.py:CLASS",
                      f"model.arch module: your nn.Module class in a file under {paths.MODULES_DIR}/, built as "
                      "CLASS(input_shape, classes)", shown='"" (none)'),
        # ... and the architectures' own options: section_keys("model").
    },
    "train": {
        "seed": Key(0, lambda v: 0 <= v < 2**63, "an integer in [0, 2**63)", "torch seed set before the model is built"),
        "epochs": Key(20, lambda v: 1 <= v <= 10**5, "an integer in [1, 10**5]", "passes over the train split"),
        "lr": Key(0.01, lambda v: v > 0, "a number > 0", "Adam learning rate"),
        "repeats": Key(5, lambda v: 1 <= v <= 1000, "an integer in [1, 1000]",
                       "models trained together, torch seeds train.seed ... train.seed + repeats - 1"),
        "batch_size": Key(0, lambda v: 0 <= v <= 10**7, "an integer in [0, 10**7] (0: full batch)",
                          "samples per Adam step, reshuffled every epoch (seeded per model); 0, or at least the "
                          "train split's size: full batch, the seed's; fine-tuning and retraining use it too"),
        "device": Key("cpu", lambda v: v in ("cpu", "cuda"), "cpu or cuda",
                      "where training runs (train, and prune-sweep's fine-tuning); cuda differs from cpu in the last bits"),
    },
    "prune": {
        "amounts": Key(SEED_AMOUNTS + HIGH_AMOUNTS, lambda v: 0 <= v < 1, "a list of distinct fractions in [0, 1)",
                       "levels as fractions removed (of all layers' weights; of each hidden layer's neurons for structured)",
                       shown=f"the seed's linspace(0.01, 0.5, 20) and {', '.join(map(str, HIGH_AMOUNTS))}",
                       item_expected="a fraction in [0, 1)", min_items=0),
        "thresholds": Key([], lambda v: v >= 0, "a list of distinct numbers >= 0",
                          "levels as magnitude thresholds: every weight (any layer) of magnitude below t removed "
                          "(the fraction that is, for the other methods)", shown="[] (none)", item_expected="a number >= 0", min_items=0),
        "methods": Key(["global-magnitude", "layerwise-magnitude", "global-random"],
                       lambda v: v in registry("methods", "METHODS"),
                       "a non-empty list of distinct names from METHODS in prunelab/methods.py", "pruning methods to run",
                       item_type=str, item_expected=one_of("methods", "METHODS")),
        "regimes": Key(["one-shot", "fine-tune"], lambda v: v in registry("regimes", "REGIMES"),
                       "a non-empty list of distinct names from REGIMES in prunelab/regimes/",
                       lambda: "what happens around pruning: " + "; ".join(
                           f"{name} ({record.about})" for name, record in keys.regimes().items()),
                       item_type=str, item_expected=one_of("regimes", "REGIMES")),
        "seed": Key(0, lambda v: 0 <= v < 2**63, "an integer in [0, 2**63)",
                    "seed of the random methods and of the lottery control's re-initialisation"),
        "tolerance": Key(0.01, lambda v: 0 <= v <= 1, "a number in [0, 1]",
                         "accuracy drop from dense (absolute) still counted as unharmed"),
        "compressions": Key([], lambda v: v >= 1, "a list of distinct numbers >= 1",
                            "levels as budgets (Blalock et al.): total / nonzero parameters, all of them; each turned "
                            "per method and model into the removal that reaches it within one weight",
                            shown="[] (none)", item_expected="a number >= 1", min_items=0),
        "speedups": Key([], lambda v: v >= 1, "a list of distinct numbers >= 1",
                        "levels as budgets: dense / nonzero multiply-adds (the weights kept), within one weight",
                        shown="[] (none)", item_expected="a number >= 1", min_items=0),
        "dense_budget": Key(False, lambda v: True, "true or false",
                            "also train the dense model for the extra epochs each training regime adds at each level "
                            "(rows dense-budget-REGIME) and report gain_over_dense_budget"),
        "max_output_sparsity": Key(1.0, lambda v: 0 <= v <= 1, "a number in [0, 1]",
                                   "unstructured methods never make the output layer sparser than this; the "
                                   "removals it refuses come from the other layers (1.0: no guard; LAMP's Unif+: 0.8)"),
        # ... and the regimes' own options: section_keys("prune").
    },
    "sensitivity": {
        "amounts": Key([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99], lambda v: 0 <= v < 1,
                       "a non-empty list of distinct fractions in [0, 1)",
                       "fractions of ONE layer's weights removed (magnitude), the other layers dense",
                       shown="0.1, 0.2, ..., 0.9, 0.95, 0.98, 0.99", item_expected="a fraction in [0, 1)"),
    },
    "plot": {
        "width": Key(6.0, lambda v: 0 < v <= 50, "a number in (0, 50] (inches)", "figure width"),
        "height": Key(4.0, lambda v: 0 < v <= 50, "a number in (0, 50] (inches)", "figure height"),
        "dpi": Key(100, lambda v: 10 <= v <= 600, "an integer in [10, 600]", "figure resolution"),
        "format": Key("png", lambda v: v in ("png", "svg"), "png or svg", "figure file format"),
    },
}


def section_keys(section):
    """A section's keys; data's include every source's options (prunelab/data.py's records),
    model's every architecture's (prunelab/architectures/), prune's every regime's
    (prunelab/regimes/)."""
    if section == "data":
        return {**SCHEMA["data"], **keys.source_keys()[0]}
    if section == "model":
        return {**SCHEMA["model"], **keys.architecture_keys()}
    return {**SCHEMA["prune"], **keys.regime_keys()} if section == "prune" else SCHEMA[section]


def _typed(name, key, value):
    """Return value as the key's type, or raise UserError naming key, value and expectation."""
    def bad(shown_name=name, shown_value=value, expected=key.expected):
        return UserError(f"{PARAMS_FILE}: {shown_name} = {shown_value!r}: expected {expected}")

    kind = type(key.default)
    if kind is list:
        if not isinstance(value, list) or len(value) < key.min_items:
            if key.item_type is str:  # a registry's names: show the names and the [a, b] syntax
                raise bad(expected=f"a list such as [{', '.join(key.default[:2])}] of distinct names, "
                                   f"{keys.text(key.item_expected)}")
            raise bad()
        for index, item in enumerate(value):
            typed = float(item) if key.item_type is float and _is_number(item) else item
            if isinstance(typed, bool) or not (isinstance(typed, key.item_type) and key.valid(typed)):
                raise bad(f"{name}[{index}]", item, keys.text(key.item_expected))
            if key.distinct and value.index(item) != index:
                raise bad(f"{name}[{index}]", item, f"distinct values; it repeats {name}[{value.index(item)}]")
        return [key.item_type(item) for item in value]
    if kind is float and _is_number(value):
        typed = float(value)
    elif kind is int and isinstance(value, int) and not isinstance(value, bool):
        typed = value
    elif kind is bool and isinstance(value, bool):
        typed = value
    elif kind is str and isinstance(value, str):
        typed = value
    else:
        raise bad()
    if not key.valid(typed):
        # A name from a registry: list the names (as for list items) rather than point at the file.
        raise bad(expected=keys.text(key.item_expected) or key.expected)
    return typed


def _is_number(value):
    """A finite int or float that float() can hold (YAML ints are unbounded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= sys.float_info.max if isinstance(value, int) else math.isfinite(value)


def read_params(path=PARAMS_FILE):
    """The parsed params file, which must be a mapping of sections."""
    params = parse_params(path)
    if not isinstance(params, dict):
        raise UserError(f"{path}: expected a mapping with sections {', '.join(SCHEMA)}")
    return params


def _keys_to_check(section, given):
    """A section's keys; for data, the chosen source's own check of each of its options."""
    known = section_keys(section)
    if section == "data" and isinstance(given, dict):
        source = _typed("data.source", known["source"], given["source"]) if "source" in given else known["source"].default
        known = {**known, **keys.source_keys()[1][source]}
    return known


def validate_section(params, section):
    """Check one section of parsed params; return it typed, with defaults for absent keys."""
    given = params.get(section)
    known = _keys_to_check(section, given)
    if given is None:
        raise UserError(f"{PARAMS_FILE}: missing section '{section}'; expected keys {', '.join(known)}")
    if not isinstance(given, dict):
        raise UserError(f"{PARAMS_FILE}: {section} = {given!r}: expected a mapping with keys {', '.join(known)}")
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(str(name), list(known), n=1)
            hint = f"did you mean {section}.{close[0]}? " if close else ""
            raise UserError(f"{PARAMS_FILE}: unknown key {section}.{name}; {hint}known keys: {', '.join(known)}")
    # Defaults are valid by construction; only given values are checked (path's default "" is none).
    values = {name: _typed(f"{section}.{name}", key, given[name]) if name in given else key.default
              for name, key in known.items()}
    for rule in rules.SECTION_RULES.get(section, []):
        message = rule(values, given)
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
    for section in SCHEMA:
        for name, key in section_keys(section).items():
            rows.append(f"| {section}.{name} | {key.shown or key.default} | {key.expected} | {keys.text(key.meaning)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
