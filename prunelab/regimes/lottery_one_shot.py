"""lottery-one-shot: Frankle & Carbin's one-shot ticket: each level's one-shot mask on the
initial weights, retrained as train did; lottery-one-shot-reinit, the control: the same mask
on a fresh random initialisation (prune.seed's stream)."""
from prunelab.regimes.one_shot import pruned
from prunelab.regimes.record import Control, Regime


def run(setup, method) -> dict:
    from prunelab import stacks
    _, masks = pruned(setup, method)
    initial = setup.initial(setup.seeds)
    result = {}
    for name, start in (("lottery-one-shot", initial), ("lottery-one-shot-reinit", setup.control_init())):
        weights = stacks.apply(stacks.repeat(start, setup.n_levels), masks)
        result[name] = setup.train(weights, masks, setup.retrain, f"{name} {method.name}")
    return result


_RETRAIN = Control(lambda setup: setup.retrain)
REGIME = Regime("lottery-one-shot", run, "Frankle & Carbin's one-shot ticket: one mask, rewound, retrained",
                controls={"lottery-one-shot": _RETRAIN, "lottery-one-shot-reinit": _RETRAIN})
