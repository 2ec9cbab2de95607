"""Across seeds: mean and std per group of sweep rows, and the study's summaries.

std is the sample standard deviation (ddof=1, as pandas computes it); with one seed it is
0.0, not undefined.
"""
from typing import Any, Iterable, Mapping, Sequence

import numpy as np


# Accuracies are ratios of counts; this absorbs float error in `dense - tolerance`.
EPS = 1e-9
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
    within = max((row for row in rows if row["accuracy"] >= dense - tolerance - EPS),
                 key=lambda row: row["sparsity"], default=None)
    by_sparsity = sorted(rows, key=lambda row: row["sparsity"])
    highest = max(rows, key=lambda row: row["amount"])
    return {
        "max_sparsity_within_tolerance": within["sparsity"] if within else 0.0,
        "compression_within_tolerance": within["compression"] if within else 1.0,
        # Area under accuracy over sparsity (0 to the highest level's sparsity).
        "auc": float(np.trapezoid([row["accuracy"] for row in by_sparsity], [row["sparsity"] for row in by_sparsity])),
        "accuracy_at_max_level": highest["accuracy"],
    }


def summary(rows: Sequence[dict[str, Any]], dense_by_seed: Mapping[int, float], tolerance: float) -> dict[str, Any]:
    """metrics/prune.json: per method and regime, mean and std over seeds of each summary."""
    dense_mean, dense_std = mean_std(list(dense_by_seed.values()))
    result = {"tolerance": tolerance, "seeds": len(dense_by_seed),
              "dense_accuracy_mean": dense_mean, "dense_accuracy_std": dense_std,
              "max_amount": max(row["amount"] for row in rows)}
    for (method, regime), members in group(rows, ("method", "regime")).items():
        per_seed = [seed_summary(curve, dense_by_seed[seed], tolerance)
                    for (seed,), curve in group(members, ("seed",)).items()]
        entry = result.setdefault(method, {}).setdefault(regime, {})
        for name in SUMMARIES:
            entry[f"{name}_mean"], entry[f"{name}_std"] = mean_std([one[name] for one in per_seed])
    return result


def summary_table(entries: Sequence[tuple[Sequence[str], dict[str, Any]]], lead_columns: Sequence[str] = ()) -> str:
    """A markdown table of the largest sparsity within tolerance, mean ± std over seeds, a
    column per regime and a row per method of each entry.

    entries: (lead cells, summary) pairs, a summary as `summary` returns it (prune.json); the
    lead cells (one per lead column) head each entry's first row and are blank on the rest.
    Regimes are the union over the entries, in order of first appearance."""
    def methods(metrics):
        return {method: entry for method, entry in metrics.items() if isinstance(entry, dict)}

    regimes = list(dict.fromkeys(regime for _, metrics in entries for entry in methods(metrics).values()
                                 for regime in entry))
    name = SUMMARIES[0]
    lines = [f"| {' | '.join((*lead_columns, 'method', *regimes))} |", "|" + "---|" * (len(lead_columns) + 1 + len(regimes))]
    for lead, metrics in entries:
        for method, entry in methods(metrics).items():
            cells = [f"{entry[r][f'{name}_mean']:.1%} ± {entry[r][f'{name}_std']:.1%}" if r in entry else ""
                     for r in regimes]
            lines.append(f"| {' | '.join((*lead, method, *cells))} |")
            lead = [""] * len(lead)
    return "\n".join(lines)
