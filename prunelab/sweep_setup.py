"""What every regime reads: the trained stack, its levels and data, and each concern's options.

`SweepSetup` is the trained models (one per seed) with the settings the regimes take from
params.yaml, each concern a small record of named fields. Its methods give a method's masks
for every (seed, level) or for one iterative round, and train a seed-major stack as stage
train did.

Its models are the MLP's (prunelab.model.Net, trained by prunelab/fit.py's fast path) unless
`build` is given: a function that builds one fresh module of another architecture (its
weights from torch's random stream, as prunelab.architectures' records build them). Then
training, gradients and fresh initialisations go through prunelab/net_stacks.py, one model
per worker, each as it trains alone; every regime and method reads only these methods.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np
import torch

from prunelab import fit, net_stacks, stacks

if TYPE_CHECKING:
    from prunelab.pruning import Method


def loss_gradient(weights: dict, x: torch.Tensor, y: torch.Tensor, batch_size: int = 0,
                  order_seeds: Optional[list] = None) -> dict:
    """The gradient of each model's mean training loss at its weights (a stack, same keys):
    full batch, or with a batch size the mean over one epoch's minibatches in the model's own
    order (the order of an epoch 0, which training never uses). For the gradient scores."""
    params = {key: value.contiguous() for key, value in weights.items()}
    seeds = order_seeds if order_seeds is not None else [0] * stacks.size(params)
    total = {key: torch.zeros_like(value) for key, value in params.items()}
    grads = {key: torch.empty_like(value) for key, value in params.items()}
    buffers = {}
    parts = fit.batches(len(x), batch_size, seeds, 0, x.device)
    for rows in parts:
        if rows is None:
            fit.gradients(params, x, y[None], grads, buffers)
        else:
            fit.gradients(params, fit.gather(x, rows, buffers, "x"), fit.gather(y, rows, buffers, "y"), grads, buffers)
        for key in total:
            total[key] += grads[key]
    return {key: value / len(parts) for key, value in total.items()}


@dataclass(frozen=True)
class Training:
    """One training schedule: Adam for `epochs` at `lr`."""
    epochs: int
    lr: float


@dataclass(frozen=True)
class Rounds:
    """Iterative pruning's rounds: each removes `rate` of the survivors (per layer, the output
    layer at `output_rate`, a conv layer at `conv_rate` (None: `rate`); pooled for global
    methods); tickets rewind to `rewind_epoch`."""
    rate: float = 0.2
    output_rate: float = 0.1
    rewind_epoch: int = 0
    conv_rate: Optional[float] = None


@dataclass(frozen=True)
class Gradual:
    """Zhu & Gupta's gradual pruning: `epochs` of training, masks raised every `every` steps."""
    epochs: int = 10
    every: int = 1


@dataclass
class SweepSetup:
    trained: dict            # stack of the trained models, one per seed
    seeds: list              # their torch seeds
    amounts: list            # per seed, the fraction removed at each level
    x_train: torch.Tensor
    y_train: torch.Tensor
    finetune: Training       # prune.finetune_epochs, prune.finetune_lr (prunelab/regimes/fine_tune.py)
    retrain: Training        # train.epochs, train.lr: training as stage train did
    random_seed: int         # prune.seed
    batch_size: int = 0      # 0: full batch
    device: str = "cpu"
    max_output_sparsity: float = 1.0
    exact_levels: frozenset = frozenset()  # levels a budget asked for: their totals are met exactly
    rounds: Rounds = Rounds()      # prunelab/regimes/iterative.py's options
    gradual: Gradual = Gradual()   # prunelab/regimes/gradual.py's
    build: Optional[Callable[[], "torch.nn.Module"]] = None  # None: the MLP (see above)
    # One-shot masks per method name: one sort serves one-shot, fine-tune and the one-shot ticket.
    one_shot_masks: dict = field(default_factory=dict, init=False, repr=False)

    def rng(self, seed: int, *stream: int) -> np.random.Generator:
        """The numpy Generator of a random method (or re-initialisation) for one model."""
        return np.random.default_rng([self.random_seed, seed, *stream])

    @cached_property
    def template(self):
        """A module of the architecture (its structure; its values are never used)."""
        return self.build()

    def gradient(self, weights: dict, order: Optional[list] = None) -> Optional[dict]:
        """The training loss's gradient at every model of a stack (for the gradient scores)."""
        order = order if order is not None else self.order(weights)
        if self.build is not None:
            return net_stacks.loss_gradient(self.template, {key: value.cpu() for key, value in weights.items()},
                                            self.x_train.cpu(), self.y_train.cpu(), self.batch_size, order)
        device = next(iter(weights.values())).device  # the models' (a GPU's, in gradual's hook)
        return loss_gradient(weights, self.x_train.to(device), self.y_train.to(device), self.batch_size, order)

    def initial(self, seeds: list) -> dict:
        """A stack of fresh models, one per torch seed, as stage train initialises them."""
        if self.build is None:
            return stacks.init_stack(seeds, *stacks.architecture(self.trained))
        models = []
        for seed in seeds:
            torch.manual_seed(seed)
            models.append({key: value.detach().clone() for key, value in self.build().named_parameters()})
        return stacks.stack(models)

    def evaluate(self, weights: dict, x: torch.Tensor, y: torch.Tensor) -> tuple:
        """(accuracies, losses) of every model of a stack (x: samples of the architecture's shape)."""
        if self.build is None:
            return stacks.evaluate(weights, x, y)
        return net_stacks.evaluate(self.template, weights, x, y)

    def masks(self, method: Method, weights: dict, level_indices: Optional[list] = None) -> dict:
        """Masks of every (seed, level) of a stack with one model per seed, seed-major."""
        gradient = self.gradient(weights) if method.needs == "gradient" else None
        per_seed = []
        for index, seed in enumerate(self.seeds):
            levels = level_indices if level_indices is not None else range(self.n_levels)
            amounts = [self.amounts[index][level] for level in levels]
            per_seed.append(method(stacks.unstack(weights, index), amounts, self.rng(seed, method.stream),
                                   stacks.unstack(gradient, index) if gradient else None,
                                   self.max_output_sparsity, [level in self.exact_levels for level in levels]))
        return {key: torch.cat([masks[key] for masks in per_seed]) for key in weights}

    def round_masks(self, method: Method, weights: dict, keep: dict, number: int) -> dict:
        """Masks after iterative round `number` of a stack with one model per seed: `keep`
        (the last round's masks) less the round's removals, scored at `weights`."""
        gradient = self.gradient(weights) if method.needs == "gradient" else None
        per_seed = []
        for index, seed in enumerate(self.seeds):
            state, held = stacks.unstack(weights, index), stacks.unstack(keep, index)
            counts = method.round_counts(state, held, self.rounds.rate, self.rounds.output_rate, self.rounds.conv_rate)
            per_seed.append(method.masks(state, [counts], self.rng(seed, method.stream, number),
                                         stacks.unstack(gradient, index) if gradient else None, held,
                                         self.max_output_sparsity))
        return {key: torch.cat([masks[key] for masks in per_seed]) for key in weights}

    def order(self, weights: dict) -> list:
        """Each model's minibatch seed in a seed-major stack: its torch seed, the order train gave it."""
        return [seed for seed in self.seeds for _ in range(stacks.size(weights) // len(self.seeds))]

    def train(self, weights: dict, masks: Optional[dict], schedule: Training, description: str, **hook) -> dict:
        """Train a seed-major stack with masks held (hook: fit.train's `every` and `hook`,
        hook(step, params, first) on a stack of models first, first + 1, ...)."""
        if self.build is None:
            return fit.train(weights, self.x_train, self.y_train, schedule.epochs, schedule.lr, masks, self.batch_size,
                             self.order(weights), device=self.device, description=description, **hook)
        return net_stacks.train(self.template, weights, self.x_train, self.y_train, schedule.epochs, schedule.lr, masks,
                                order_seeds=self.order(weights), batch_size=self.batch_size, device=self.device,
                                **hook)

    def one_shot(self, method: Method) -> dict:
        if method.name not in self.one_shot_masks:
            self.one_shot_masks[method.name] = self.masks(method, self.trained)
        return self.one_shot_masks[method.name]

    def control_init(self) -> dict:
        """The lottery control's fresh initialisation, one per seed, from its own seeded stream."""
        control_seeds = [int(self.rng(seed, 1).integers(2**62)) for seed in self.seeds]
        return self.initial(control_seeds)

    @property
    def steps_per_epoch(self) -> int:
        """Adam steps in one epoch: one full batch, or the minibatches."""
        rows = min(self.batch_size or len(self.x_train), len(self.x_train))
        return -(-len(self.x_train) // rows)

    @property
    def n_levels(self) -> int:
        return len(self.amounts[0])
