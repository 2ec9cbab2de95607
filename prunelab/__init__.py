"""prunelab, the library: data sources, the MLP, the batched stack, pruning methods, regimes,
costs and aggregation over seeds. Plain functions on arrays and tensors; it knows nothing of
DVC, params files or the pipeline's paths (the stages in stages/ do).

For bit-identical results across x86-64 CPUs, pin the numeric libraries before numpy or
torch load: `import prunelab.numerics; prunelab.numerics.pin()`. This file imports neither.
"""


class InputError(ValueError):
    """Input data the library cannot use (a CSV with one class only, ...): a one-line message."""
