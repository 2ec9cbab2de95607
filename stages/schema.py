"""The params.yaml schema: every key, its type, range and default, and its validation.

read_params (stages/params_file.py) parses the file; validate and load check it here.

`python -m stages.schema` prints the params table that the README carries.
"""
import importlib
import math
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

from stages import UserError
from stages.params_file import PARAMS_FILE, parse_params

@dataclass(frozen=True)
class Key:
    default: object          # its Python type is the key's type (int, float, str, list of floats)
    valid: Callable          # called with a value of the right type
    expected: str            # what `valid` accepts, for errors and the README
    meaning: str
    shown: str = ""          # the default as the README shows it, when repr is unreadable
    item_expected: object = ""  # for lists: what `valid` accepts of each item (str, or a function giving it)
    item_type: type = float  # for lists: the type of each item
    min_items: int = 1       # for lists
    distinct: bool = True    # for lists: a repeated item is an error (levels, names; not widths)
    sources: tuple = ()      # data keys: the data.source values it applies to (empty: all); an error when set otherwise


def registry(module, name):
    """The names of a registry (data SOURCES, pruning METHODS, REGIMES), imported only when checked:
    torch is slow to load."""
    return list(getattr(importlib.import_module(f"prunelab.{module}"), name))


SEED_AMOUNTS = [float(a) for a in np.linspace(0.01, 0.5, 20)]
# Levels past the seed's flat region: methods only separate above ~0.7 sparsity.
HIGH_AMOUNTS = [0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]
SYNTHETIC = ("make_classification",)
CSV_DIR = "datasets/"  # generate-data depends on this folder: editing a file in it reruns the stage

SCHEMA = {
    "data": {
        "source": Key("make_classification", lambda v: v in registry("data", "SOURCES"),
                      "a name from SOURCES in prunelab/data.py",
                      "the dataset: make_classification (the seed's), scikit-learn's bundled breast_cancer, "
                      "digits, wine or iris, or csv (a file of yours)",
                      item_expected=lambda: f"one of {', '.join(registry('data', 'SOURCES'))}"),
        "n_samples": Key(2500, lambda v: 2 <= v <= 10**6, "an integer in [2, 10**6]",
                         "make_classification n_samples", sources=SYNTHETIC),
        "n_features": Key(25, lambda v: 4 <= v <= 10**4, "an integer in [4, 10**4] (2 informative + 2 redundant)",
                          "make_classification n_features", sources=SYNTHETIC),
        "n_classes": Key(2, lambda v: 2 <= v <= 4, "an integer in [2, 4] (n_classes * n_clusters_per_class <= 4)",
                         "make_classification classes (2: one sigmoid output; more: one output per class, softmax)",
                         sources=SYNTHETIC),
        "n_clusters_per_class": Key(2, lambda v: v in (1, 2), "1 or 2 (n_classes * clusters <= 2**2 informative)",
                                    "make_classification n_clusters_per_class", sources=SYNTHETIC),
        "random_state": Key(42, lambda v: 0 <= v < 2**32, "an integer in [0, 2**32)", "dataset and split seed"),
        "test_size": Key(0.3, lambda v: 0 < v < 1, "a number in (0, 1)", "fraction of samples held out for testing"),
        "standardize": Key(False, lambda v: True, "true or false",
                           "centre and scale every feature by the train split's mean and std (real features need it)"),
        "path": Key("", lambda v: v.startswith(CSV_DIR) and v.endswith(".csv") and ".." not in v.split("/"),
                    f"a path under {CSV_DIR} ending in .csv", "source csv: the file, relative to the repo root",
                    shown="none (csv only)", sources=("csv",)),
        "target": Key("", lambda v: v != "", "a column name", "source csv: the column of class labels",
                      shown="none (csv only)", sources=("csv",)),
    },
    "model": {
        "hidden_sizes": Key([256], lambda v: 1 <= v <= 10**5, "a non-empty list of integers in [1, 10**5]",
                            "widths of the hidden layers, input to output ([256]: the seed's Net; [300, 100]: "
                            "LeNet-300-100's shape)", shown="[256]", item_type=int,
                            item_expected="an integer in [1, 10**5]", distinct=False),
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
                       lambda v: v in registry("pruning", "METHODS"),
                       "a non-empty list of distinct names from METHODS in prunelab/pruning.py", "pruning methods to run",
                       item_type=str, item_expected=lambda: f"one of {', '.join(registry('pruning', 'METHODS'))}"),
        "regimes": Key(["one-shot", "fine-tune"], lambda v: v in registry("regimes", "REGIMES"),
                       "a non-empty list of distinct names from REGIMES in prunelab/regimes.py",
                       "what happens around pruning", item_type=str,
                       item_expected=lambda: f"one of {', '.join(registry('regimes', 'REGIMES'))}"),
        "finetune_epochs": Key(10, lambda v: 1 <= v <= 10**5, "an integer in [1, 10**5]",
                               "epochs of Adam after pruning, masks held (fine-tune, and each iterative round)"),
        "finetune_lr": Key(0.01, lambda v: v > 0, "a number > 0", "Adam learning rate of fine-tuning"),
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
        "iterative_rate": Key(0.2, lambda v: 0 < v < 1, "a number in (0, 1)",
                              "iterative, lottery-ticket and lr-rewind: each round removes this fraction of each "
                              "layer's remaining weights (of all remaining weights for global methods)"),
        "iterative_output_rate": Key(0.0, lambda v: 0 <= v < 1, "0 (half of prune.iterative_rate) or a number in (0, 1)",
                                     "the output layer's rate per round, for layer-wise methods (Frankle & Carbin: 0.1)",
                                     shown="0 (half of prune.iterative_rate)"),
        "rewind_epoch": Key(0, lambda v: 0 <= v <= 10**5, "an integer in [0, 10**5]",
                            "lottery-ticket rewinds survivors to their weights after this many epochs of train's run "
                            "(0: the initial weights)"),
        "gradual_epochs": Key(10, lambda v: 1 <= v <= 10**5, "an integer in [1, 10**5]",
                              "gradual: epochs of Adam (prune.finetune_lr) from the trained model while masks rise"),
        "gradual_every": Key(1, lambda v: 1 <= v <= 10**7, "an integer in [1, 10**7] (at most the gradual steps)",
                             "gradual: steps between mask updates along the cubic schedule (0 to each level)"),
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


def _keys_fit_the_source(section, given):
    for name in given:
        key = SCHEMA["data"][name]
        if key.sources and section["source"] not in key.sources:
            return (f"data.{name} is set, but it applies only to data.source {' or '.join(key.sources)} and "
                    f"data.source is {section['source']}; expected it removed")
    if section["source"] == "csv":
        for name in ("path", "target"):
            if name not in given:
                return f"data.source is csv but data.{name} is not set; expected {SCHEMA['data'][name].expected}"
    return None


def _classes_fit_informative_features(section, given):
    product = section["n_classes"] * section["n_clusters_per_class"]
    if section["source"] in SYNTHETIC and product > 4:
        return (f"data.n_classes * data.n_clusters_per_class = {product}; expected at most 4 "
                "(make_classification's 2 informative features hold 2**2 clusters)")
    return None


def _split_sizes_nonempty(section, given):
    if section["source"] not in SYNTHETIC:
        return None  # the row count is known once the data is loaded: check-params checks the split then
    n_test = int(np.ceil(section["test_size"] * section["n_samples"]))
    if not 1 <= n_test < section["n_samples"]:
        return (f"data.test_size = {section['test_size']} with data.n_samples = {section['n_samples']} "
                f"gives {n_test} test samples; expected both splits to be non-empty")
    return None


def _seeds_fit(section, given):
    last = section["seed"] + section["repeats"] - 1
    if last >= 2**63:
        return f"train.seed + train.repeats - 1 = {last}; expected torch seeds below 2**63"
    return None


def _some_level(section, given):
    if not any(section[name] for name in ("amounts", "thresholds", "compressions", "speedups")):
        return ("prune.amounts and prune.thresholds are both empty; expected at least one level (or a budget: "
                "prune.compressions, prune.speedups)")
    return None


def gradual_fits(prune, batch_size, train_samples):
    """An error message when gradual pruning would never update its masks, else None."""
    rows = min(batch_size or train_samples, train_samples)
    steps = prune["gradual_epochs"] * -(-train_samples // rows)
    if "gradual" in prune["regimes"] and prune["gradual_every"] > steps:
        return (f"prune.gradual_every = {prune['gradual_every']}: expected at most the {steps} steps of gradual "
                "training (prune.gradual_epochs x minibatches per epoch)")
    return None


def budget_fits(prune, features, hidden_sizes, outputs):
    """An error message when a budget level asks for more than a mask can give, else None: at
    least one weight stays (biases are never pruned by the weight methods)."""
    widths = [features, *hidden_sizes, outputs]
    weights = sum(a * b for a, b in zip(widths, widths[1:]))
    biases = sum(widths[1:])
    methods = importlib.import_module("prunelab.pruning").METHODS
    neurons = [name for name in prune["methods"] if methods[name].unit == "neurons"]
    if (prune["compressions"] or prune["speedups"]) and neurons:
        return (f"prune.methods lists {neurons[0]} (it prunes neurons) with budget levels (prune.compressions, "
                "prune.speedups); expected weight methods only: a neuron is many weights, no neuron count meets "
                "a budget within one weight")
    for index, value in enumerate(prune["compressions"]):
        if (weights + biases) / value - biases < 1:
            return (f"prune.compressions[{index}] = {value}: expected at most {(weights + biases) / (biases + 1):.6g} "
                    f"for {features}-{'-'.join(map(str, hidden_sizes))}-{outputs} (one weight and every bias left)")
    for index, value in enumerate(prune["speedups"]):
        if weights / value < 1:
            return (f"prune.speedups[{index}] = {value}: expected at most {weights} for "
                    f"{features}-{'-'.join(map(str, hidden_sizes))}-{outputs} (one weight left of {weights})")
    return None


def synthetic_train_samples(data):
    """The train split's size for synthetic data, known from params alone."""
    return data["n_samples"] - int(np.ceil(data["test_size"] * data["n_samples"]))


# Rules that span keys of one section: each returns an error message or None.
SECTION_RULES = {"data": [_keys_fit_the_source, _classes_fit_informative_features, _split_sizes_nonempty], "train": [_seeds_fit], "prune": [_some_level]}


def _typed(name, key, value):
    """Return value as the key's type, or raise UserError naming key, value and expectation."""
    def bad(shown_name=name, shown_value=value, expected=key.expected):
        return UserError(f"{PARAMS_FILE}: {shown_name} = {shown_value!r}: expected {expected}")

    kind = type(key.default)
    if kind is list:
        if not isinstance(value, list) or len(value) < key.min_items:
            raise bad()
        for index, item in enumerate(value):
            typed = float(item) if key.item_type is float and _is_number(item) else item
            if isinstance(typed, bool) or not (isinstance(typed, key.item_type) and key.valid(typed)):
                expected = key.item_expected() if callable(key.item_expected) else key.item_expected
                raise bad(f"{name}[{index}]", item, expected)
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
        raise bad(expected=key.item_expected() if callable(key.item_expected) else key.expected)
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
    # Defaults are valid by construction; only given values are checked (path's default "" is none).
    values = {name: _typed(f"{section}.{name}", key, given[name]) if name in given else key.default
              for name, key in keys.items()}
    for rule in SECTION_RULES.get(section, []):
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


def source_options(data):
    """The data keys that data.source's function takes (its own keys, and random_state)."""
    return {name: data[name] for name, key in SCHEMA["data"].items()
            if data["source"] in key.sources or name == "random_state"}


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
