"""The README's results table from metrics/prune.json: `python -m stages.results`."""
from prunelab.aggregate import summary_table
from stages import paths, run
from stages.artifacts import read_json


def markdown_table(path=paths.PRUNE_METRICS):
    """Largest sparsity within tolerance of dense, per method and regime, as mean ± std; with an
    equal-budget dense control (prune.dense_budget), the gain over it after the cell."""
    return summary_table([((), read_json(path, "dense_accuracy_mean"))])


if __name__ == "__main__":
    run(lambda: print(markdown_table()))
