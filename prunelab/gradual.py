"""Gradual pruning (Zhu & Gupta 2017): from the trained model, prune.gradual_epochs epochs of
Adam (prune.finetune_lr) during which every level's masks are raised every prune.gradual_every
steps along the cubic schedule from 0 to that level (prunelab/schedules.py). The masks are
recomputed from the weights as they are at that step; what was removed stays removed.

Every (seed, level) trains in one seed-major stack, as fine-tune does; the hook (fit.train's)
finds each model's own target, so a model's masks do not depend on its stack.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from prunelab import stacks
from prunelab.schedules import cubic
from prunelab.sweep_setup import SweepSetup

if TYPE_CHECKING:
    from prunelab.pruning import Method


def updates(setup: SweepSetup) -> tuple:
    """(steps of the gradual training, mask updates along the schedule)."""
    steps = setup.gradual.epochs * setup.steps_per_epoch
    return steps, steps // setup.gradual.every


def gradual(setup: SweepSetup, method: Method) -> dict:
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

    schedule = type(setup.finetune)(setup.gradual.epochs, setup.finetune.lr)
    return {"gradual": setup.train(start, None, schedule, f"gradual {method.name}", every=setup.gradual.every, hook=hook)}
