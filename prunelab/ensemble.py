"""Many copies of the seed's Net as one batched model: stacked weights, one forward for all.

A stack is a dict of the Net's parameter names to tensors with a leading model dimension
(fc1.weight: models x hidden x features), for any depth and any number of outputs. The loss
is the sum of the models' own losses, so each model's gradient is its own; Adam is
element-wise, so each model follows its own trajectory, as if it were trained alone. Masks (same shapes, 0/1) hold pruned weights at zero.
"""
import torch
from torch import nn

from prunelab.model import Net, layer_names


def init_stack(seeds, input_size, hidden_sizes, output_size=1):
    """The initial weights of Net for each torch seed, exactly as a solo run builds them."""
    states = []
    for seed in seeds:
        torch.manual_seed(seed)
        states.append(Net(input_size, hidden_sizes, output_size).state_dict())
    return stack(states)


def stack(states):
    return {key: torch.stack([state[key] for state in states]) for key in states[0]}


def architecture(weights):
    """(input size, hidden sizes, outputs) of a stack's models."""
    shapes = [weights[f"{name}.weight"].shape for name in layer_names(weights)]
    return shapes[0][2], [shape[1] for shape in shapes[:-1]], shapes[-1][1]


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
    """Outputs of every model on x: models x samples x outputs (a sigmoid for one output, else logits)."""
    names = layer_names(weights)
    out = x
    for index, name in enumerate(names):
        out = torch.matmul(out, weights[f"{name}.weight"].transpose(1, 2)) + weights[f"{name}.bias"][:, None, :]
        if index < len(names) - 1:
            out = torch.relu(out)
    return torch.sigmoid(out) if out.shape[-1] == 1 else out


def model_losses(outputs, y):
    """Each model's own loss, reduced as nn.BCELoss (one output) or nn.CrossEntropyLoss reduces
    it: a batched mean over both dims rounds differently, and Adam amplifies that where
    gradients are near zero."""
    if outputs.shape[-1] == 1:
        return [nn.functional.binary_cross_entropy(output, y) for output in outputs]
    target = y.view(-1).long()
    return [nn.functional.cross_entropy(output, target) for output in outputs]


@torch.no_grad()
def evaluate(weights, x, y, chunk=256):
    """(accuracies, losses: BCE or cross-entropy) of every model, as float64 numpy arrays, chunked to bound memory."""
    accuracies, losses = [], []
    for start in range(0, size(weights), chunk):
        part = {key: value[start:start + chunk] for key, value in weights.items()}
        outputs = forward(part, x)
        if outputs.shape[-1] == 1:
            target = y.expand_as(outputs)
            correct = ((outputs > 0.5).float() == target).sum(dim=(1, 2))
            loss = nn.functional.binary_cross_entropy(outputs, target, reduction="none").mean(dim=(1, 2))
        else:
            target = y.view(-1).long()
            correct = (outputs.argmax(dim=2) == target).sum(dim=1)
            loss = torch.stack([nn.functional.cross_entropy(output, target) for output in outputs])
        # Count, then divide in float64: a float32 mean turns 693/750 into 0.92400002.
        accuracies.append(correct.double() / len(y))
        losses.append(loss)
    return torch.cat(accuracies).numpy(), torch.cat(losses).double().numpy()


# Floats of hidden activations one batch may hold. Measured on a 2-core CPU, one thread
# (bench/batched_seeds.py): past the cache, stacking more models costs more than it saves;
# 15 default-size models (1750 x 256 activations each) trained 2x slower stacked than one by one.
ACTIVATION_BUDGET = 2**19


def models_per_batch(samples, hidden):
    """hidden: the hidden neurons of one model, over all its hidden layers."""
    return max(1, ACTIVATION_BUDGET // (samples * hidden))


def train_in_batches(weights, x, y, epochs, lr, masks=None, after_epoch=None):
    """train() over as many models at a time as fit ACTIVATION_BUDGET; each model's result is its
    own either way. after_epoch sees the first batch only."""
    step = models_per_batch(len(x), sum(architecture(weights)[1]))
    parts = []
    for start in range(0, size(weights), step):
        part = {key: value[start:start + step] for key, value in weights.items()}
        part_masks = {key: value[start:start + step] for key, value in masks.items()} if masks else None
        parts.append(train(part, x, y, epochs, lr, part_masks, after_epoch if start == 0 else None))
    return {key: torch.cat([part[key] for part in parts]) for key in weights}


def train(weights, x, y, epochs, lr, masks=None, after_epoch=None):
    """Full-batch Adam on BCE (one output) or cross-entropy, every model at once; returns the trained stack.

    With masks, pruned weights are zero in the forward pass (so their gradient is zero) and
    are zeroed again after each step, so Adam cannot regrow them.
    """
    params = {key: value.detach().clone().requires_grad_(True) for key, value in weights.items()}
    optimizer = torch.optim.Adam(params.values(), lr=lr)
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()
        outputs = forward(apply(params, masks) if masks else params, x)
        sum(model_losses(outputs, y)).backward()
        optimizer.step()
        if masks:
            with torch.no_grad():
                for key, value in params.items():
                    value.mul_(masks[key])
        if after_epoch:
            after_epoch(epoch, {key: value.detach() for key, value in params.items()})
    return {key: value.detach() for key, value in params.items()}
