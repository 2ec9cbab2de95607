"""Pruning methods: each a record (Method) in METHODS, which loads without torch (the params
check reads the records; prunelab/pruning.py makes the masks).

A method is its score (a function of prunelab/scores.py), whether the scores are ranked over
all layers pooled or within each layer, its unit (weights, or whole units: a hidden neuron, a
conv filter), what it needs (the weights alone, or the gradient of the training loss too) and
its random stream, a constant of the record so that renaming a function never changes a
result. A new method is its score and one line below (plus its test against the paper:
tests/prunelab/paper_reference.py).
"""
import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Score:
    """A score function of prunelab/scores.py by name, imported when first called (it needs torch):
    score(state, rng, gradient, alive) -> {layer: scores}."""
    function: str

    def __call__(self, *args):
        return getattr(importlib.import_module("prunelab.scores"), self.function)(*args)


def _pruning():
    return importlib.import_module("prunelab.pruning")


@dataclass(frozen=True)
class Method:
    name: str
    score: Callable          # (state, rng, gradient, alive) -> {layer: scores}: a Score, or any such function
    pooled: bool             # ranked over all layers (global) or within each layer
    stream: int              # its random stream: a constant, never derived from a name
    unit: str = "weights"    # "weights", or "neurons" (whole units with their bias: neurons, filters)
    needs: str = "weights"   # "weights", or "gradient" (the training loss's, at the weights)

    # What a method does, in prunelab/pruning.py (documented there).
    def sizes(self, state: dict) -> dict:
        return _pruning().group_sizes(self, state)

    def level_counts(self, state: dict, amount: float, exact: bool = False):
        return _pruning().level_counts(self, state, amount, exact)

    def round_counts(self, state: dict, keep: dict, rate: float, output_rate: float, conv_rate=None):
        return _pruning().round_counts(self, state, keep, rate, output_rate, conv_rate)

    def masks(self, state: dict, counts: list, rng, gradient=None, keep=None, max_output_sparsity: float = 1.0) -> dict:
        return _pruning().masks_for(self, state, counts, rng, gradient, keep, max_output_sparsity)

    def __call__(self, state: dict, amounts: list, rng, gradient=None, max_output_sparsity: float = 1.0,
                 exact=None) -> dict:
        return _pruning().masks_at_amounts(self, state, amounts, rng, gradient, max_output_sparsity, exact)


# Streams of the first five are zlib.crc32 of the function names they had (global_random, ...),
# so their random draws, and every result, stay as they were; the others' are crc32 of theirs.
METHODS = {method.name: method for method in [
    Method("global-magnitude", Score("magnitude"), pooled=True, stream=3917878936),
    Method("layerwise-magnitude", Score("magnitude"), pooled=False, stream=1578522784),
    Method("global-random", Score("uniform"), pooled=True, stream=4188721029),
    Method("layerwise-random", Score("uniform"), pooled=False, stream=3475204639),
    Method("structured", Score("neuron_norms"), pooled=False, stream=3631038621, unit="neurons"),
    Method("lamp", Score("lamp"), pooled=True, stream=2583122534),
    Method("global-gradient", Score("saliency"), pooled=True, stream=413380315, needs="gradient"),
    Method("layerwise-gradient", Score("saliency"), pooled=False, stream=900836773, needs="gradient"),
    Method("erk-random", Score("erk"), pooled=True, stream=4126413524),
]}
