"""Many copies of the seed's Net as one stack: stacked weights, one forward pass for all.

A stack is a dict of the Net's parameter names to tensors with a leading model dimension
(fc1.weight: models x hidden x features), for any depth and any number of outputs. Masks
(same shapes, 0/1) hold pruned weights at zero. Training a stack is prunelab/fit.py.
"""
import threading
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from prunelab.compute import parallel_map, product
from prunelab.model import Net, layer_names

# Samples one evaluation task takes at a time, so memory does not grow with the test set; and
# the floats of hidden activations it may hold (as many models as fit).
SAMPLES = 4096
EVALUATION_BUDGET = 2**22
Stack = dict[str, torch.Tensor]  # parameter name -> models x ... (see above)


def init_stack(seeds: Sequence[int], input_size: int, hidden_sizes: Sequence[int], output_size: int = 1) -> Stack:
    """The initial weights of Net for each torch seed, exactly as a solo run builds them."""
    states = []
    for seed in seeds:
        torch.manual_seed(seed)
        states.append(Net(input_size, hidden_sizes, output_size).state_dict())
    return stack(states)


def stack(states: Sequence[dict[str, torch.Tensor]]) -> Stack:
    return {key: torch.stack([state[key] for state in states]) for key in states[0]}


def architecture(weights: Stack) -> tuple[int, list[int], int]:
    """(input size, hidden sizes, outputs) of a stack's models."""
    shapes = [weights[f"{name}.weight"].shape for name in layer_names(weights)]
    return shapes[0][2], [shape[1] for shape in shapes[:-1]], shapes[-1][1]


def unstack(weights: Stack, index: int) -> dict[str, torch.Tensor]:
    """The plain state_dict of one model of the stack."""
    return {key: value[index].clone() for key, value in weights.items()}


def size(weights: Stack) -> int:
    """The models of a stack (of any architecture's)."""
    return len(next(iter(weights.values())))


def part(weights: Stack, start: int, stop: int) -> Stack:
    """Models start .. stop - 1 of a stack (views)."""
    return {key: value[start:stop] for key, value in weights.items()}


def repeat(weights: Stack, times: int) -> Stack:
    """Each model `times` times in a row: model i becomes models i*times ... i*times+times-1."""
    return {key: value.repeat_interleave(times, dim=0) for key, value in weights.items()}


def apply(weights: Stack, masks: Stack) -> Stack:
    return {key: value * masks[key] for key, value in weights.items()}


def linear(weights: Stack, layer: str, x: torch.Tensor, out: torch.Tensor | None = None,
           relu: bool = False) -> torch.Tensor:
    """x @ W.T + b for every model (then ReLU, when asked): models x samples x outputs (x is
    shared, or per model), into out when given."""
    weight, bias = weights[f"{layer}.weight"], weights[f"{layer}.bias"]
    if out is None:
        out = torch.empty(len(weight), x.shape[-2], weight.shape[1], device=weight.device)

    def finish(model, start, stop):
        rows = out[model, start:stop].add_(bias[model].unsqueeze(-2))
        if relu:
            rows.relu_()

    return product(x, weight.mT, out, then=finish)


def logits(weights: Stack, x: torch.Tensor, buffers: dict | None = None) -> torch.Tensor:
    """The last layer's outputs of every model, before the sigmoid (or softmax). buffers: a dict
    that keeps the hidden activations' tensors for the next call of the same shape."""
    names = layer_names(weights)
    out = x
    for name in names[:-1]:
        key = (name, size(weights), x.shape[-2])
        if buffers is not None and key not in buffers:
            buffers[key] = torch.empty(size(weights), x.shape[-2], weights[f"{name}.weight"].shape[1], device=x.device)
        out = linear(weights, name, out, buffers[key] if buffers is not None else None, relu=True)
    return linear(weights, names[-1], out)


def per_model(function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], out: torch.Tensor,
              target: torch.Tensor) -> torch.Tensor:
    """function(outputs, target) of each model in turn, stacked. torch's vectorised
    transcendentals (exp, log) round differently in the scalar loop that finishes a tensor, so
    applied to the whole stack a model's result would depend on its position; one model at a
    time, it is the result the model gets alone. target: shared (1 x ...) or one per model."""
    return torch.stack([function(out[model], target[model if len(target) > 1 else 0]) for model in range(len(out))])


def forward(weights: Stack, x: torch.Tensor, buffers: dict | None = None) -> torch.Tensor:
    """Outputs of every model on x: models x samples x outputs (a sigmoid for one output, else logits)."""
    out = logits(weights, x, buffers)
    return per_model(lambda output, _: torch.sigmoid(output), out, out) if out.shape[-1] == 1 else out


def models_per_task(samples: int, hidden: int, budget: int) -> int:
    """hidden: the hidden neurons of one model, over all its hidden layers."""
    return max(1, budget // (samples * max(hidden, 1)))


@torch.no_grad()
def evaluate(weights: Stack, x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(accuracies, losses: BCE or cross-entropy) of every model, as float64 numpy arrays.

    Over chunks of models and of SAMPLES samples, spread over the workers; per-chunk counts and
    float64 loss sums add up in a fixed order, so the result does not depend on the workers."""
    step = models_per_task(min(SAMPLES, len(x)), sum(architecture(weights)[1]), EVALUATION_BUDGET)
    tasks = [(start, first) for start in range(0, size(weights), step) for first in range(0, len(x), SAMPLES)]
    buffers = {}  # per thread: each task reuses its thread's activations instead of allocating anew

    def task(bounds):
        start, first = bounds
        mine = buffers.setdefault(threading.get_ident(), {})
        outputs = forward(part(weights, start, start + step), x[first:first + SAMPLES], mine)
        target = y[first:first + SAMPLES]
        if outputs.shape[-1] == 1:
            correct = ((outputs > 0.5).float() == target).sum(dim=(1, 2))
            loss = per_model(lambda output, labels: nn.functional.binary_cross_entropy(
                output, labels, reduction="none").double().sum(), outputs, target[None])
        else:
            correct = (outputs.argmax(dim=2) == target.reshape(-1).long()).sum(dim=1)
            loss = per_model(lambda output, labels: nn.functional.cross_entropy(
                output, labels.reshape(-1).long(), reduction="none").double().sum(), outputs, target[None])
        return correct.cpu(), loss.cpu()

    correct = torch.zeros(size(weights), dtype=torch.int64)
    loss = torch.zeros(size(weights), dtype=torch.float64)
    for (start, _), (counts, sums) in zip(tasks, parallel_map(task, tasks)):
        correct[start:start + step] += counts
        loss[start:start + step] += sums
    # Count, then divide in float64: a float32 mean turns 693/750 into 0.92400002.
    return (correct.double() / len(y)).numpy(), (loss / len(y)).numpy()
