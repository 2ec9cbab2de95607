"""Checks that span keys: of one section (SECTION_RULES, run by stages/schema.py's
validate_section), and of params against the data's shape (regimes_fit, budget_fits, run by
check-params once it knows the data, and by prune-sweep). Each returns an error message or None."""
import os

from stages import keys, paths


def keys_fit_the_source(section, given):
    """A source's options only with that source; its required ones set."""
    shared = keys.source_keys()[0]
    for name in given:
        takers = shared[name].sources if name in shared else ()  # the common keys apply to all
        if takers and section["source"] not in takers:
            return (f"data.{name} is set, but it applies only to data.source {' or '.join(takers)} and "
                    f"data.source is {section['source']}; expected it removed")
    for name, key in keys.source_keys()[1][section["source"]].items():
        if key.required and name not in given:
            return f"data.source is {section['source']} but data.{name} is not set; expected {key.expected}"
    return None


def split_fits_the_source(section, given):
    """A source with its own train/test split (IDX) takes no data.test_size."""
    if "test_size" in given and keys.sources()[section["source"]].presplit:
        return (f"data.test_size is set, but data.source {section['source']} keeps the dataset's own train/test "
                "split; expected it removed")
    return None


def the_sources_own_rules(section, given):
    """A source's checks across its options (prunelab/data.py), for a synthetic source the split
    sizes too; a file's rows are known once it is read: check-params checks the split then."""
    for rule in keys.sources()[section["source"]].rules:
        message = rule(section)
        if message:
            return message
    return None


def module_fits_the_arch(section, given):
    """model.module names the user's class exactly when model.arch is module."""
    if section["arch"] == "module" and not section["module"]:
        return f"model.arch is module but model.module is not set; expected {paths.MODULES_DIR}/FILE.py:CLASS"
    if section["arch"] != "module" and section["module"]:
        return (f"model.module is set, but it applies only to model.arch module and model.arch is {section['arch']}; "
                "expected it removed (\"\") or model.arch module")
    return None


def arch_fits_the_data(model, source):
    """An image architecture on a source of images only; the user's file there. (The module
    itself is built, and checked, by train: the first stage that loads torch.)"""
    arch = model["arch"]
    path = model["module"].rpartition(":")[0]
    if arch == "module" and not os.path.isfile(path):
        return f"model.module = {model['module']!r}: no file {path}; expected a Python file under {paths.MODULES_DIR}/"
    if arch != "module" and keys.architectures()[arch].image and keys.sources()[source].image is None:
        return (f"model.arch is {arch}, which takes images (channels x height x width), but data.source {source} "
                "gives rows of features; expected an image source (digits, idx) or model.arch mlp or module")
    return None


def seeds_fit(section, given):
    last = section["seed"] + section["repeats"] - 1
    if last >= 2**63:
        return f"train.seed + train.repeats - 1 = {last}; expected torch seeds below 2**63"
    return None


def some_level(section, given):
    if not any(section[name] for name in ("amounts", "thresholds", "compressions", "speedups")):
        return ("prune.amounts and prune.thresholds are both empty; expected at least one level (or a budget: "
                "prune.compressions, prune.speedups)")
    return None


def regimes_fit(prune, batch_size, train_samples):
    """An error message when a listed regime cannot run on this data (its record's `fits`: gradual
    pruning that would never update its masks), else None."""
    rows = min(batch_size or train_samples, train_samples)
    steps_per_epoch = -(-train_samples // rows)
    for name in prune["regimes"]:
        fits = keys.regimes()[name].fits
        message = fits(prune, steps_per_epoch) if fits else None
        if message:
            return message
    return None


def budget_fits(prune, features, hidden_sizes, outputs):
    """An error message when a budget level asks for more than a mask can give, else None: at
    least one weight stays (biases are never pruned by the weight methods). For the MLP
    features-hidden_sizes-outputs."""
    from prunelab.shapes import weight_count  # here: only the stages that check budgets depend on it
    weights, biases = weight_count([features, *hidden_sizes, outputs])
    return counts_fit_budgets(prune, weights, biases, f"{features}-{'-'.join(map(str, hidden_sizes))}-{outputs}")


def net_fits_budgets(prune, arch, weights, biases, conv):
    """budget_fits for another architecture (its weight and bias counts; conv: whether it has a
    conv layer). A speedup counts multiply-adds as weights kept, which a conv layer's are not
    (each weight works at every output position): refused there."""
    if prune["speedups"] and conv:
        return (f"prune.speedups is set, but model.arch {arch} has conv layers, whose weights cost their output "
                "positions each; expected prune.speedups [] (prune.compressions, or amounts, apply)")
    return counts_fit_budgets(prune, weights, biases, arch)


def counts_fit_budgets(prune, weights, biases, label):
    neurons = [name for name in prune["methods"] if keys.methods()[name].unit == "neurons"]
    if (prune["compressions"] or prune["speedups"]) and neurons:
        return (f"prune.methods lists {neurons[0]} (it prunes neurons) with budget levels (prune.compressions, "
                "prune.speedups); expected weight methods only: a neuron is many weights, no neuron count meets "
                "a budget within one weight")
    for index, value in enumerate(prune["compressions"]):
        if (weights + biases) / value - biases < 1:
            return (f"prune.compressions[{index}] = {value}: expected at most {(weights + biases) / (biases + 1):.6g} "
                    f"for {label} (one weight and every bias left)")
    for index, value in enumerate(prune["speedups"]):
        if weights / value < 1:
            return (f"prune.speedups[{index}] = {value}: expected at most {weights} for "
                    f"{label} (one weight left of {weights})")
    return None


# Rules that span keys of one section: each returns an error message or None.
SECTION_RULES = {"data": [keys_fit_the_source, split_fits_the_source, the_sources_own_rules],
                 "model": [module_fits_the_arch], "train": [seeds_fit], "prune": [some_level]}
