"""Stacks of any architecture's models: prunelab/stacks.py's layout (parameter name -> tensor
with one leading row per model) for the nets of prunelab/architectures, built, trained and
evaluated through prunelab.pinned_layers' modules (prunelab/autograd_fit.py), so that every
model's bytes are what it gets alone, on any worker count.

The MLP keeps its own fast path (prunelab/stacks.py, prunelab/fit.py); this is the path of
every other architecture. A stack's template is a module of the architecture: its structure
(the layers, the shapes) is read from it, its parameter values are never used.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from prunelab import autograd_fit, compute, fit, stacks
from prunelab.pinned_layers import pinned

if TYPE_CHECKING:  # a stage that imports this one for the MLP's path loads no architecture
    from prunelab.architectures import Architecture

Stack = stacks.Stack
FORWARD = 256  # samples per forward pass of a conv net in evaluate (see there)


def init(architecture: Architecture, seeds: Sequence[int], input_shape: tuple, classes: int,
         **options) -> tuple[nn.Module, Stack]:
    """A template module and the stack of each torch seed's initial parameters: seed s's are
    torch.manual_seed(s) and then the build, as a solo run (or the plain torch module) gets them."""
    states = []
    for seed in seeds:
        torch.manual_seed(seed)
        module = architecture.build(input_shape, classes, **options)
        states.append({key: value.detach().clone() for key, value in module.named_parameters()})
    return module, stacks.stack(states)


def size(weights: Stack) -> int:
    return len(next(iter(weights.values())))


def train(template: nn.Module, weights: Stack, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
          masks: Stack | None = None, order_seeds: Sequence[int] = (), every: int = 0, hook=None,
          after_epoch=None, **options) -> Stack:
    """Every model of the stack trained by autograd_fit.train from its own row, with its order
    seed (and its row of masks), spread over the workers one model each (as train_seeds): a
    stack of the trained parameters. hook: fit.train's, hook(step, params, first) -> masks or
    None, called for each model alone (params a stack of that one model, first its index) after
    every `every`-th step. after_epoch(epoch, params): fit.train's, for the first model only
    (params a stack of that one model), as stage train records its curve. options:
    autograd_fit.train's others, shared by every model."""
    def one(index):
        first = None
        if after_epoch is not None and index == 0:
            def first(epoch, params):
                after_epoch(epoch, {key: value[None] for key, value in params.items()})
        return autograd_fit.train(_loaded(template, weights, index), x, y, epochs, lr,
                                  None if masks is None else stacks.unstack(masks, index), order_seed=order_seeds[index],
                                  every=every, hook=None if hook is None else _one_model_hook(hook, index),
                                  after_epoch=first, **options).weights

    if len(order_seeds) != size(weights):
        raise ValueError(f"{size(weights)} models, {len(order_seeds)} order seeds: expected one each")
    return stacks.stack(compute.parallel_map(one, range(size(weights))))


def _loaded(template: nn.Module, weights: Stack, index: int) -> nn.Module:
    """A pinned copy of the template holding model `index` of the stack."""
    module = pinned(template)
    with torch.no_grad():
        for name, value in module.named_parameters():
            value.copy_(weights[name][index])
    return module


def _one_model_hook(hook, index: int):
    """fit.train's stack hook as autograd_fit's for model `index`: it sees a stack of that one
    model (first = index) and its masks, if any, come back as the model's own."""
    def one(step, weights):
        masks = hook(step, {key: value[None] for key, value in weights.items()}, index)
        return None if masks is None else {key: value[0] for key, value in masks.items()}
    return one


@torch.no_grad()
def evaluate(template: nn.Module, weights: Stack, x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(accuracies, losses: BCE or cross-entropy) of every model, float64 numpy arrays, as
    stacks.evaluate gives them: per model and chunk of stacks.SAMPLES samples (spread over the
    workers), counts and float64 loss sums added in a fixed order, so no worker count moves a bit."""
    count = size(weights)
    # One module per thread: functional_call swaps a module's parameters while it runs, so two
    # threads sharing one would each compute with some of the other's.
    modules = {}
    step = FORWARD if any(isinstance(part, nn.Conv2d) for part in template.modules()) else stacks.SAMPLES
    tasks = [(model, first) for model in range(count) for first in range(0, len(x), stacks.SAMPLES)]
    def task(bounds):
        model, first = bounds
        inputs, target = x[first:first + stacks.SAMPLES], y[first:first + stacks.SAMPLES]
        state = {name: value[model] for name, value in weights.items()}
        thread = threading.get_ident()
        if thread not in modules:
            modules[thread] = pinned(template)
        # A conv net's forward in pieces of FORWARD samples: a whole chunk's activations took
        # about 0.5 GB per worker for LeNet-5 (a linear layer's products are cut by their size,
        # so the MLP keeps whole chunks: its bytes stay stacks.evaluate's).
        outputs = torch.cat([functional_call(modules[thread], state, (inputs[start:start + step],))
                             for start in range(0, len(inputs), step)])
        if outputs.shape[-1] == 1:
            correct = ((outputs > 0.5).float() == target).sum()
            loss = nn.functional.binary_cross_entropy(outputs, target, reduction="none").double().sum()
        else:
            labels = target.reshape(-1).long()
            correct = (outputs.argmax(dim=1) == labels).sum()
            loss = nn.functional.cross_entropy(outputs, labels, reduction="none").double().sum()
        return int(correct), loss.item()

    correct = np.zeros(count, dtype=np.int64)
    loss = np.zeros(count, dtype=np.float64)
    for (model, _), (counts, sums) in zip(tasks, compute.parallel_map(task, tasks)):
        correct[model] += counts
        loss[model] += sums
    # Count, then divide in float64, as stacks.evaluate does.
    return correct / len(y), loss / len(y)


def loss_gradient(template: nn.Module, weights: Stack, x: torch.Tensor, y: torch.Tensor, batch_size: int = 0,
                  order_seeds: Sequence[int] | None = None) -> Stack:
    """The gradient of each model's mean training loss at its weights, by autograd through its
    pinned module: full batch, or with a batch size the mean over one epoch's minibatches in the
    model's own order (epoch 0's, which training never uses), as prunelab.sweep_setup's
    loss_gradient gives the MLP's. For the gradient scores. One model per worker."""
    seeds = list(order_seeds) if order_seeds is not None else [0] * size(weights)
    modules = {}

    def one(model):
        thread = threading.get_ident()
        if thread not in modules:
            modules[thread] = pinned(template)
        leaves = {name: value[model].clone().requires_grad_() for name, value in weights.items()}
        total = {name: torch.zeros_like(value) for name, value in leaves.items()}
        parts = fit.batches(len(x), batch_size, [seeds[model]], 0)
        for rows in parts:
            inputs, target = (x, y) if rows is None else (x[rows[0]], y[rows[0]])
            outputs = functional_call(modules[thread], leaves, (inputs,))
            grads = torch.autograd.grad(autograd_fit.loss(outputs, target), list(leaves.values()))
            for name, grad in zip(leaves, grads):
                total[name] += grad
        return {name: value / len(parts) for name, value in total.items()}

    return stacks.stack(compute.parallel_map(one, range(size(weights))))
