"""Many copies of the seed's Net as one batched model: stacked weights, one forward for all.

A stack is a dict of the Net's parameter names to tensors with a leading model dimension
(fc1.weight: models x hidden x features). The loss is the sum of the models' own losses, so
each model's gradient is its own; Adam is element-wise, so each model follows its own
trajectory, as if it were trained alone. Masks (same shapes, 0/1) hold pruned weights at zero.
"""
import torch
from torch import nn

from prunelab.model import CHECKPOINT_KEYS, Net


def init_stack(seeds, input_size, hidden_size):
    """The initial weights of Net for each torch seed, exactly as a solo run builds them."""
    states = []
    for seed in seeds:
        torch.manual_seed(seed)
        states.append(Net(input_size, hidden_size).state_dict())
    return stack(states)


def stack(states):
    return {key: torch.stack([state[key] for state in states]) for key in CHECKPOINT_KEYS}


def unstack(weights, index):
    """The plain state_dict of one model of the stack."""
    return {key: value[index].clone() for key, value in weights.items()}


def size(weights):
    return len(weights["fc1.weight"])


def repeat(weights, times):
    """Each model `times` times in a row: model i becomes models i*times ... i*times+times-1."""
    return {key: value.repeat_interleave(times, dim=0) for key, value in weights.items()}


def apply(weights, masks):
    return {key: value * masks[key] for key, value in weights.items()}


def forward(weights, x):
    """Outputs of every model on x: models x samples x 1."""
    hidden = torch.relu(torch.matmul(x, weights["fc1.weight"].transpose(1, 2)) + weights["fc1.bias"][:, None, :])
    return torch.sigmoid(torch.matmul(hidden, weights["fc2.weight"].transpose(1, 2)) + weights["fc2.bias"][:, None, :])


@torch.no_grad()
def evaluate(weights, x, y, chunk=256):
    """(accuracies, BCE losses) of every model, as float64 numpy arrays, chunked to bound memory."""
    accuracies, losses = [], []
    for start in range(0, size(weights), chunk):
        part = {key: value[start:start + chunk] for key, value in weights.items()}
        outputs = forward(part, x)
        target = y.expand_as(outputs)
        # Count, then divide in float64: a float32 mean turns 693/750 into 0.92400002.
        accuracies.append(((outputs > 0.5).float() == target).sum(dim=(1, 2)).double() / len(y))
        losses.append(nn.functional.binary_cross_entropy(outputs, target, reduction="none").mean(dim=(1, 2)))
    return torch.cat(accuracies).numpy(), torch.cat(losses).double().numpy()


# Floats of hidden activations one batch may hold. Measured on a 2-core CPU, one thread
# (bench/batched_seeds.py): past the cache, stacking more models costs more than it saves;
# 15 default-size models (1750 x 256 activations each) trained 2x slower stacked than one by one.
ACTIVATION_BUDGET = 2**19


def models_per_batch(samples, hidden):
    return max(1, ACTIVATION_BUDGET // (samples * hidden))


def train_in_batches(weights, x, y, epochs, lr, masks=None, after_epoch=None):
    """train() over as many models at a time as fit ACTIVATION_BUDGET; each model's result is its
    own either way. after_epoch sees the first batch only."""
    step = models_per_batch(len(x), weights["fc1.weight"].shape[1])
    parts = []
    for start in range(0, size(weights), step):
        part = {key: value[start:start + step] for key, value in weights.items()}
        part_masks = {key: value[start:start + step] for key, value in masks.items()} if masks else None
        parts.append(train(part, x, y, epochs, lr, part_masks, after_epoch if start == 0 else None))
    return {key: torch.cat([part[key] for part in parts]) for key in weights}


def train(weights, x, y, epochs, lr, masks=None, after_epoch=None):
    """Full-batch Adam on BCE, every model at once; returns the trained stack.

    With masks, pruned weights are zero in the forward pass (so their gradient is zero) and
    are zeroed again after each step, so Adam cannot regrow them.
    """
    params = {key: value.detach().clone().requires_grad_(True) for key, value in weights.items()}
    optimizer = torch.optim.Adam(params.values(), lr=lr)
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()
        outputs = forward(apply(params, masks) if masks else params, x)
        # One BCE per model, reduced as nn.BCELoss reduces it: a batched mean over both dims
        # rounds differently, and Adam amplifies that where gradients are near zero.
        sum(nn.functional.binary_cross_entropy(output, y) for output in outputs).backward()
        optimizer.step()
        if masks:
            with torch.no_grad():
                for key, value in params.items():
                    value.mul_(masks[key])
        if after_epoch:
            after_epoch(epoch, {key: value.detach() for key, value in params.items()})
    return {key: value.detach() for key, value in params.items()}
