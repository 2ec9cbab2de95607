"""Across seeds: mean and std per group of sweep rows, and the study's summaries.

std is the sample standard deviation (ddof=1, as pandas computes it); with one seed it is
0.0, not undefined.
"""
import numpy as np


# Accuracies are ratios of counts; this absorbs float error in `dense - tolerance`.
EPS = 1e-9
# Rows of a regime's equal-budget dense control (prunelab/controls.py) carry this before its name.
CONTROL_PREFIX = "dense-budget-"
SUMMARIES = ("max_sparsity_within_tolerance", "compression_within_tolerance", "auc", "accuracy_at_max_level")


def mean_std(values):
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 1 or np.all(values == values[0]):  # also inf (no weight left): no spread, not nan
        return float(values[0]), 0.0
    return float(values.mean()), float(values.std(ddof=1))


def group(rows, keys):
    """Rows grouped by the values of `keys`, groups in order of first appearance."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in keys), []).append(row)
    return groups


def group_stats(rows, keys, columns):
    """One row per group: the keys, the number of rows, and each column's mean and std."""
    table = []
    for values, members in group(rows, keys).items():
        out = {**dict(zip(keys, values)), "n": len(members)}
        for column in columns:
            out[f"{column}_mean"], out[f"{column}_std"] = mean_std([member[column] for member in members])
        table.append(out)
    return table


def seed_summary(rows, dense, tolerance):
    """The summaries of one seed's curve (one method and regime); `dense` is its trained accuracy."""
    within = within_tolerance(rows, dense, tolerance)
    by_sparsity = sorted(rows, key=lambda row: row["sparsity"])
    highest = max(rows, key=lambda row: row["amount"])
    return {
        "max_sparsity_within_tolerance": within["sparsity"] if within else 0.0,
        "compression_within_tolerance": within["compression"] if within else 1.0,
        # Area under accuracy over sparsity (0 to the highest level's sparsity).
        "auc": float(np.trapezoid([row["accuracy"] for row in by_sparsity], [row["sparsity"] for row in by_sparsity])),
        "accuracy_at_max_level": highest["accuracy"],
    }


def within_tolerance(rows, dense, tolerance):
    """The sparsest row whose accuracy stays within tolerance of dense, or None."""
    return max((row for row in rows if row["accuracy"] >= dense - tolerance - EPS),
               key=lambda row: row["sparsity"], default=None)


def budget_gain(curve, control, dense, tolerance):
    """At a seed's sparsest level within tolerance (its densest level when none is), (the
    dense control's accuracy there, the regime's accuracy minus it)."""
    level = within_tolerance(curve, dense, tolerance) or min(curve, key=lambda row: row["sparsity"])
    same = next(row for row in control if all(row[key] == level[key] for key in LEVEL_KEYS if key in row))
    return same["accuracy"], level["accuracy"] - same["accuracy"]


LEVEL_KEYS = ("level_by", "level", "round")


def summary(rows, dense_by_seed, tolerance, control_prefix=CONTROL_PREFIX):
    """metrics/prune.json: per method and regime, mean and std over seeds of each summary; with
    a regime's equal-budget dense control in the rows (regime control_prefix + name), also that
    control's accuracy and the regime's gain over it at the sparsest level within tolerance."""
    dense_mean, dense_std = mean_std(list(dense_by_seed.values()))
    result = {"tolerance": tolerance, "seeds": len(dense_by_seed),
              "dense_accuracy_mean": dense_mean, "dense_accuracy_std": dense_std,
              "max_amount": max(row["amount"] for row in rows)}
    groups = group(rows, ("method", "regime"))
    for (method, regime), members in groups.items():
        if regime.startswith(control_prefix):
            continue
        curves = group(members, ("seed",))
        per_seed = [seed_summary(curve, dense_by_seed[seed], tolerance) for (seed,), curve in curves.items()]
        entry = result.setdefault(method, {}).setdefault(regime, {})
        for name in SUMMARIES:
            entry[f"{name}_mean"], entry[f"{name}_std"] = mean_std([one[name] for one in per_seed])
        control = groups.get((method, control_prefix + regime))
        if control:
            by_seed = group(control, ("seed",))
            pairs = [budget_gain(curve, by_seed[seed], dense_by_seed[seed[0]], tolerance) for seed, curve in curves.items()]
            for index, name in enumerate(("dense_budget_accuracy", "gain_over_dense_budget")):
                entry[f"{name}_mean"], entry[f"{name}_std"] = mean_std([pair[index] for pair in pairs])
    return result
