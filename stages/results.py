"""The README's results table from metrics/prune.json: `python -m stages.results`."""
from stages import run
from stages.artifacts import read_json


def markdown_table(path="metrics/prune.json"):
    """Largest sparsity within tolerance of dense, per method and regime, as mean ± std; with an
    equal-budget dense control (prune.dense_budget), the gain over it at the highest level, in
    accuracy points, after the cell."""
    metrics = read_json(path, "dense_accuracy_mean")
    regimes = list(dict.fromkeys(regime for value in metrics.values() if isinstance(value, dict)
                                 for regime in value))
    lines = [f"| method | {' | '.join(regimes)} |", "|---|" + "---|" * len(regimes)]
    for method, value in metrics.items():
        if isinstance(value, dict):
            cells = []
            for regime in regimes:
                entry = value.get(regime)
                cell = (f"{entry['max_sparsity_within_tolerance_mean']:.1%} ± "
                        f"{entry['max_sparsity_within_tolerance_std']:.1%}" if entry else "")
                if entry and "gain_over_dense_budget_mean" in entry:
                    cell += (f" ({100 * entry['gain_over_dense_budget_mean']:+.1f} ± "
                             f"{100 * entry['gain_over_dense_budget_std']:.1f})")
                cells.append(cell)
            lines.append(f"| {method} | {' | '.join(cells)} |")
    return "\n".join(lines)



if __name__ == "__main__":
    run(lambda: print(markdown_table()))
