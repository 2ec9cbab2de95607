"""The regimes that prune in rounds: each round removes a fixed fraction of the survivors
(prunelab/schedules.py's geometric rounds) and then trains; each round is a row.

- `iterative` (Han et al. 2015): prune the fine-tuned survivors, fine-tune
  (prune.finetune_epochs at prune.finetune_lr).
- `lottery-ticket` (IMP, Frankle & Carbin 2019): prune the last round's trained ticket, rewind
  the survivors to their initial weights (or to their weights after prune.rewind_epoch epochs
  of train's run, Frankle et al. 2020) and retrain as train did; `lottery-reinit`, the control:
  each round's mask on a fresh initialisation, trained the same way.
- `lr-rewind` (Renda et al. 2020): prune the last round's retrained weights, retrain them with
  the original schedule (train.epochs at train.lr).

Rounds go on until the fraction removed reaches the largest level asked for (for every torch seed's model).
Round 0 is the dense start: the trained model (the dense ticket, retrained, for tickets).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from prunelab import stacks
from prunelab.pruning import layer_rates
from prunelab.schedules import geometric_rounds
from prunelab.sweep_setup import SweepSetup, Training

if TYPE_CHECKING:
    from prunelab.pruning import Method


@dataclass
class RoundRows:
    weights: dict     # seed-major stack: each torch seed's rounds 0, 1, ... in order
    removed: list     # per round, the fraction removed (of the method's unit: weights or neurons)

    @property
    def count(self) -> int:
        return len(self.removed)


def schedule(setup: SweepSetup, method: Method) -> list:
    """Remaining counts per group after each round (geometric_rounds on the method's groups)."""
    state = stacks.unstack(setup.trained, 0)
    sizes = method.sizes(state)
    target = max(max(amounts) for amounts in setup.amounts)
    if method.pooled:
        return geometric_rounds([sum(sizes.values())], [setup.rounds.rate], target)
    rates = layer_rates(state, setup.rounds.rate, setup.rounds.output_rate, setup.rounds.conv_rate)
    return geometric_rounds(list(sizes.values()), [rates[layer] for layer in sizes], target)


def _interleave(per_round: list) -> dict:
    """Stacks of one model per seed, one per round -> one seed-major stack, rounds inner."""
    return {key: torch.stack([weights[key] for weights in per_round], dim=1).flatten(0, 1) for key in per_round[0]}


def _run(setup: SweepSetup, method, name: str, start, schedule_of, first: dict):
    """Rounds from `first` (round 0): prune the last round's weights, train start(pruned, masks)."""
    remaining = schedule(setup, method)
    keep = {key: torch.ones_like(value) for key, value in first.items()}
    current, per_round, masks = first, [first], [keep]
    for number in range(1, len(remaining)):
        keep = setup.round_masks(method, current, keep, number)
        current = setup.train(stacks.apply(start(current), keep), keep, schedule_of,
                              f"{name} {method.name} round {number}/{len(remaining) - 1}")
        per_round.append(current)
        masks.append(keep)
    total = sum(remaining[0])
    return per_round, masks, [(total - sum(left)) / total for left in remaining]


def iterative(setup: SweepSetup, method: Method) -> dict:
    per_round, _, removed = _run(setup, method, "iterative", lambda current: current, setup.finetune, setup.trained)
    return {"iterative": RoundRows(_interleave(per_round), removed)}


def lr_rewind(setup: SweepSetup, method: Method) -> dict:
    per_round, _, removed = _run(setup, method, "lr-rewind", lambda current: current, setup.retrain, setup.trained)
    return {"lr-rewind": RoundRows(_interleave(per_round), removed)}


def rewound(setup: SweepSetup) -> dict:
    """The weights tickets rewind to: the initial ones, or after rewind_epoch epochs of train's run."""
    initial = setup.initial(setup.seeds)
    if not setup.rounds.rewind_epoch:
        return initial
    return setup.train(initial, None, Training(setup.rounds.rewind_epoch, setup.retrain.lr), "rewind point")


def imp(setup: SweepSetup, method: Method) -> dict:
    """Iterative magnitude pruning with rewinding; round 0 is the dense net retrained from the
    rewind point, and each round's mask also trains from a fresh initialisation (the control)."""
    start = rewound(setup)
    dense = setup.train(start, None, setup.retrain, f"lottery-ticket {method.name} round 0")
    per_round, masks, removed = _run(setup, method, "lottery-ticket", lambda current: start, setup.retrain, dense)
    # The controls are independent of each other: all rounds train as one stack.
    every = _interleave(masks)
    control = stacks.apply(stacks.repeat(setup.control_init(), len(masks)), every)
    reinit = setup.train(control, every, setup.retrain, f"lottery-reinit {method.name}")
    return {"lottery-ticket": RoundRows(_interleave(per_round), removed), "lottery-reinit": RoundRows(reinit, removed)}
