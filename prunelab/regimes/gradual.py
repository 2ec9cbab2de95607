"""gradual (Zhu & Gupta 2017): from the trained model, prune.gradual_epochs epochs of Adam
(prune.finetune_lr) during which every level's masks are raised every prune.gradual_every
steps along the cubic schedule from 0 to that level (prunelab/schedules.py). The masks are
recomputed from the weights as they are at that step; what was removed stays removed.

Every (seed, level) trains in one seed-major stack, as fine-tune does; the hook (fit.train's)
finds each model's own target, so a model's masks do not depend on its stack.
"""
from prunelab.options import Option
from prunelab.regimes import fine_tune
from prunelab.regimes.record import Control, Regime

OPTIONS = {
    "gradual_epochs": Option(10, lambda v: 1 <= v <= 10**5, "an integer in [1, 10**5]",
                             "epochs of Adam (prune.finetune_lr) from the trained model while masks rise"),
    "finetune_lr": fine_tune.LR,
    "gradual_every": Option(1, lambda v: 1 <= v <= 10**7, "an integer in [1, 10**7] (at most the gradual steps)",
                            "steps between mask updates along the cubic schedule (0 to each level)"),
}


def settings(prune) -> dict:
    from prunelab.sweep_setup import Gradual
    return {"gradual": Gradual(prune["gradual_epochs"], prune["gradual_every"])}


def fits(prune, steps_per_epoch: int):
    """An error message when the masks would never be updated, else None."""
    steps = prune["gradual_epochs"] * steps_per_epoch
    if prune["gradual_every"] > steps:
        return (f"prune.gradual_every = {prune['gradual_every']}: expected at most the {steps} steps of gradual "
                "training (prune.gradual_epochs x minibatches per epoch)")
    return None


def schedule(setup):
    """Its training: prune.gradual_epochs at fine-tuning's learning rate."""
    return type(setup.finetune)(setup.gradual.epochs, setup.finetune.lr)


def updates(setup) -> tuple:
    """(steps of the gradual training, mask updates along the schedule)."""
    steps = setup.gradual.epochs * setup.steps_per_epoch
    return steps, steps // setup.gradual.every


def run(setup, method) -> dict:
    from prunelab import stacks
    from prunelab.schedules import cubic
    steps, n = updates(setup)
    if n < 1:
        raise ValueError(f"gradual_every {setup.gradual.every} exceeds the gradual training's {steps} steps")
    levels = setup.n_levels
    start = stacks.repeat(setup.trained, levels)
    order = setup.order(start)
    held = {}  # model index -> its masks (plain dict of one model), written only by its own sub-stack

    def hook(step, params, first):
        models = stacks.size(params)
        gradient = None
        device = next(iter(params.values())).device
        if method.needs == "gradient":  # at the weights as they are at this step
            gradient = setup.gradient(params, order[first:first + models])
        out = []
        for offset in range(models):
            index = first + offset
            seed_index, level = divmod(index, levels)
            state = {key: value.cpu() for key, value in stacks.unstack(params, offset).items()}
            target = cubic(0.0, setup.amounts[seed_index][level], step, 0, setup.gradual.every, n)
            keep = held.get(index)
            rng = setup.rng(setup.seeds[seed_index], method.stream, level, step)
            counts = [method.level_counts(state, target, level in setup.exact_levels)]
            own = {key: value[offset].cpu() for key, value in gradient.items()} if gradient else None
            masks = method.masks(state, counts, rng, own, keep, setup.max_output_sparsity)
            held[index] = {key: value[0] for key, value in masks.items()}
            out.append(held[index])
        return {key: stacks.stack(out)[key].to(device) for key in params}

    return {"gradual": setup.train(start, None, schedule(setup), f"gradual {method.name}", every=setup.gradual.every,
                                   hook=hook)}


REGIME = Regime("gradual", run, "Zhu & Gupta 2017: masks raised along a cubic schedule while training",
                options=OPTIONS, settings=settings, fits=fits, controls={"gradual": Control(schedule)})
