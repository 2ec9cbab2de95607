"""Across seeds: mean and std per group of sweep rows, and the study's summaries.

std is the sample standard deviation (ddof=1, as pandas computes it); with one seed it is
0.0, not undefined.
"""
from typing import Any, Iterable, Mapping, Sequence

import numpy as np


# Accuracies are ratios of counts; this absorbs float error in `dense - tolerance`.
EPS = 1e-9
# Rows of a regime's equal-budget dense control (prunelab/controls.py) carry this before its name.
CONTROL_PREFIX = "dense-budget-"
SUMMARIES = ("max_sparsity_within_tolerance", "compression_within_tolerance", "auc", "accuracy_at_max_level")


def mean_std(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 1 or np.all(values == values[0]):  # also inf (no weight left): no spread, not nan
        return float(values[0]), 0.0
    return float(values.mean()), float(values.std(ddof=1))


def group(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> dict[tuple, list[dict[str, Any]]]:
    """Rows grouped by the values of `keys`, groups in order of first appearance."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in keys), []).append(row)
    return groups


def group_stats(rows: Iterable[dict[str, Any]], keys: Sequence[str], columns: Iterable[str]) -> list[dict[str, Any]]:
    """One row per group: the keys, the number of rows, and each column's mean and std."""
    table = []
    for values, members in group(rows, keys).items():
        out = {**dict(zip(keys, values)), "n": len(members)}
        for column in columns:
            out[f"{column}_mean"], out[f"{column}_std"] = mean_std([member[column] for member in members])
        table.append(out)
    return table


def seed_summary(rows: Sequence[dict[str, Any]], dense: float, tolerance: float) -> dict[str, float]:
    """The summaries of the curve of one torch seed's model (one method and regime); `dense` is its
    trained accuracy."""
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


def within_tolerance(rows: Iterable[dict[str, Any]], dense: float, tolerance: float) -> dict[str, Any] | None:
    """The sparsest row whose accuracy stays within tolerance of dense, or None."""
    return max((row for row in rows if row["accuracy"] >= dense - tolerance - EPS),
               key=lambda row: row["sparsity"], default=None)


def budget_gain(curve: Sequence[dict[str, Any]], control: Sequence[dict[str, Any]], dense: float,
                tolerance: float) -> tuple[float, float]:
    """At the sparsest level within tolerance of one torch seed's curve (its densest level when none is), (the
    dense control's accuracy there, the regime's accuracy minus it)."""
    level = within_tolerance(curve, dense, tolerance) or min(curve, key=lambda row: row["sparsity"])
    same = next(row for row in control if all(row[key] == level[key] for key in LEVEL_KEYS if key in row))
    return same["accuracy"], level["accuracy"] - same["accuracy"]


LEVEL_KEYS = ("level_by", "level", "round")


def summary(rows: Sequence[dict[str, Any]], dense_by_seed: Mapping[int, float], tolerance: float,
            control_prefix: str = CONTROL_PREFIX) -> dict[str, Any]:
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


def summary_table(entries: Sequence[tuple[Sequence[str], dict[str, Any]]], lead_columns: Sequence[str] = ()) -> str:
    """A markdown table of the largest sparsity within tolerance, mean ± std over seeds, a
    column per regime and a row per method of each entry.

    entries: (lead cells, summary) pairs, a summary as `summary` returns it (prune.json); the
    lead cells (one per lead column) head each entry's first row and are blank on the rest.
    Regimes are the union over the entries, in order of first appearance; see _cell."""
    def methods(metrics):
        return {method: entry for method, entry in metrics.items() if isinstance(entry, dict)}

    regimes = list(dict.fromkeys(regime for _, metrics in entries for entry in methods(metrics).values()
                                 for regime in entry))
    lines = [f"| {' | '.join((*lead_columns, 'method', *regimes))} |", "|" + "---|" * (len(lead_columns) + 1 + len(regimes))]
    for lead, metrics in entries:
        for method, entry in methods(metrics).items():
            lines.append(f"| {' | '.join((*lead, method, *(_cell(entry.get(r)) for r in regimes)))} |")
            lead = [""] * len(lead)
    return "\n".join(lines)


def _cell(entry):
    """mean ± std of the largest sparsity within tolerance; with an equal-budget dense control,
    the gain over it in accuracy points after it: `61.6% ± 5.3% (+0.4 ± 0.6)`."""
    if not entry:
        return ""
    name = SUMMARIES[0]
    cell = f"{entry[f'{name}_mean']:.1%} ± {entry[f'{name}_std']:.1%}"
    if "gain_over_dense_budget_mean" in entry:
        cell += f" ({100 * entry['gain_over_dense_budget_mean']:+.1f} ± {100 * entry['gain_over_dense_budget_std']:.1f})"
    return cell
