"""Regimes: what happens around pruning. Each maps (study, method) to {regime name: stack}.

Every stack returned holds one model per (seed, level), seed-major, in the order of
`study.seeds` and of each seed's `study.amounts`, ready to evaluate. A new regime is one function and one
line in REGIMES.
"""
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch

from prunelab import fit, stacks


@dataclass
class Study:
    trained: dict        # stack of the trained models, one per seed
    seeds: list          # their torch seeds
    amounts: list        # per seed, the fraction removed at each level
    x_train: torch.Tensor
    y_train: torch.Tensor
    finetune_epochs: int
    finetune_lr: float
    train_epochs: int
    train_lr: float
    random_seed: int
    batch_size: int = 0  # 0: full batch
    device: str = "cpu"
    # One-shot masks per method: one sort serves one-shot, fine-tune and the lottery ticket.
    one_shot_masks: dict = field(default_factory=dict, init=False, repr=False)

    def rng(self, seed, *stream):
        """The numpy Generator of a random method (or re-initialisation) for one model."""
        return np.random.default_rng([self.random_seed, seed, *stream])

    def masks(self, method, weights, level_indices=None):
        """Masks of every (seed, level) of a stack with one model per seed, seed-major."""
        per_seed = []
        for index, seed in enumerate(self.seeds):
            amounts = self.amounts[index]
            if level_indices is not None:
                amounts = [amounts[level] for level in level_indices]
            # Each method its own stream: global and layer-wise random draw different numbers.
            stream = zlib.crc32(method.__name__.encode())
            per_seed.append(method(stacks.unstack(weights, index), amounts, self.rng(seed, stream)))
        return {key: torch.cat([masks[key] for masks in per_seed]) for key in weights}

    def train(self, weights, masks, epochs, lr, description):
        """Train a seed-major stack with masks held; every model of a seed takes that seed's
        minibatch order, the order stage train gave it."""
        order = [seed for seed in self.seeds for _ in range(stacks.size(weights) // len(self.seeds))]
        return fit.train(weights, self.x_train, self.y_train, epochs, lr, masks, self.batch_size, order,
                         device=self.device, description=description)

    @property
    def n_levels(self):
        return len(self.amounts[0])


def _pruned(study, method):
    if method not in study.one_shot_masks:
        study.one_shot_masks[method] = study.masks(method, study.trained)
    masks = study.one_shot_masks[method]
    return stacks.apply(stacks.repeat(study.trained, study.n_levels), masks), masks


def one_shot(study, method):
    """The seed's regime: prune the trained model, evaluate."""
    return {"one-shot": _pruned(study, method)[0]}


def fine_tune(study, method):
    """Prune, then prune.finetune_epochs of Adam with the masks held."""
    weights, masks = _pruned(study, method)
    return {"fine-tune": study.train(weights, masks, study.finetune_epochs, study.finetune_lr,
                                     f"fine-tune {method.__name__}")}


def iterative(study, method):
    """Han et al. 2015: walk up the levels, pruning the fine-tuned survivors further at each step."""
    models = stacks.size(study.trained)
    levels = sorted(range(study.n_levels), key=lambda level: study.amounts[0][level])
    steps = {}
    current = study.trained
    keep = {key: torch.ones_like(value) for key, value in current.items()}
    for level in levels:
        masks = study.masks(method, current, [level])
        # Scores of pruned weights are 0 (magnitude) or fixed (random), so masks already nest;
        # the product makes it certain.
        keep = {key: keep[key] * masks[key] for key in keep}
        current = study.train(stacks.apply(current, keep), keep, study.finetune_epochs, study.finetune_lr,
                              f"iterative {method.__name__} level {level + 1}/{study.n_levels}")
        steps[level] = current
    stacked = {key: torch.stack([steps[level][key] for level in range(study.n_levels)], dim=1)
               for key in current}
    return {"iterative": {key: value.reshape(models * study.n_levels, *value.shape[2:])
                          for key, value in stacked.items()}}


def lottery_ticket(study, method):
    """Frankle & Carbin 2019: each level's mask on the initial weights, retrained as train did;
    control: the same mask on a fresh random initialisation."""
    _, masks = _pruned(study, method)
    shape = stacks.architecture(study.trained)
    initial = stacks.init_stack(study.seeds, *shape)
    control_seeds = [int(study.rng(seed, 1).integers(2**62)) for seed in study.seeds]
    control = stacks.init_stack(control_seeds, *shape)
    result = {}
    for name, start in (("lottery-ticket", initial), ("lottery-reinit", control)):
        weights = stacks.apply(stacks.repeat(start, study.n_levels), masks)
        result[name] = study.train(weights, masks, study.train_epochs, study.train_lr, f"{name} {method.__name__}")
    return result


REGIMES = {
    "one-shot": one_shot,
    "fine-tune": fine_tune,
    "iterative": iterative,
    "lottery-ticket": lottery_ticket,
}
