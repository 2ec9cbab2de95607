"""one-shot: prune the trained model, evaluate (the seed's regime)."""
from prunelab.regimes.record import Regime


def pruned(setup, method):
    """Every (seed, level)'s one-shot masks applied to the trained models, and the masks."""
    from prunelab import stacks
    masks = setup.one_shot(method)
    return stacks.apply(stacks.repeat(setup.trained, setup.n_levels), masks), masks


def run(setup, method) -> dict:
    return {"one-shot": pruned(setup, method)[0]}


REGIME = Regime("one-shot", run, "prune the trained model once, no training after")
