"""Regimes: what happens around pruning. Each maps (setup, method) to {regime name: result}.

A result is a stack holding one model per (seed, level), seed-major, in the order of
`setup.seeds` and of each torch seed's `setup.amounts`, ready to evaluate; or, for the regimes that
prune in rounds (prunelab/rounds.py), a `RoundRows` whose levels are its rounds. A new regime
is one function and one line in REGIMES.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from prunelab import stacks
from prunelab.gradual import gradual
from prunelab.rounds import imp, iterative, lr_rewind
from prunelab.sweep_setup import SweepSetup

if TYPE_CHECKING:
    from prunelab.pruning import Method


def _pruned(setup: SweepSetup, method):
    masks = setup.one_shot(method)
    return stacks.apply(stacks.repeat(setup.trained, setup.n_levels), masks), masks


def one_shot(setup: SweepSetup, method: Method) -> dict:
    """The seed's regime: prune the trained model, evaluate."""
    return {"one-shot": _pruned(setup, method)[0]}


def fine_tune(setup: SweepSetup, method: Method) -> dict:
    """Prune, then prune.finetune_epochs of Adam with the masks held."""
    weights, masks = _pruned(setup, method)
    return {"fine-tune": setup.train(weights, masks, setup.finetune, f"fine-tune {method.name}")}


def lottery_one_shot(setup: SweepSetup, method: Method) -> dict:
    """Frankle & Carbin's one-shot ticket: each level's one-shot mask on the initial weights,
    retrained as train did; control: the same mask on a fresh random initialisation."""
    _, masks = _pruned(setup, method)
    initial = setup.initial(setup.seeds)
    result = {}
    for name, start in (("lottery-one-shot", initial), ("lottery-one-shot-reinit", setup.control_init())):
        weights = stacks.apply(stacks.repeat(start, setup.n_levels), masks)
        result[name] = setup.train(weights, masks, setup.retrain, f"{name} {method.name}")
    return result


REGIMES = {
    "one-shot": one_shot,
    "fine-tune": fine_tune,
    "iterative": iterative,
    "lottery-ticket": imp,
    "gradual": gradual,
    "lr-rewind": lr_rewind,
    "lottery-one-shot": lottery_one_shot,
}
