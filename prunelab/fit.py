"""Training a stack: Adam on full batches or seeded minibatches, forward and backward written out.

The seed's MLP is small enough that autograd's graph and Python's dispatch cost more than the
arithmetic, so the backward pass is the handful of products it is, into buffers reused every
step, and Adam is torch's own update (torch.optim.Adam's formulas, bias corrections included)
applied with foreach kernels. The loss is the sum of the models' own mean losses, so each
model's gradient is its own and every model follows the trajectory it would follow alone,
whatever stack it is in (tested).

Stacks are independent: they train in parallel on the workers (prunelab/compute.py); a lone
stack spreads its products' tiles over them instead. Either way the bytes are the same.
"""
import numpy as np
import torch

from prunelab.compute import parallel_map, product
from prunelab.model import layer_names
from prunelab.progress import bar
from prunelab.stacks import architecture, linear, models_per_task, part, per_model, size

BETAS, EPS = (0.9, 0.999), 1e-8
# Floats of hidden activations one stack may hold per step: past the cache, stacking more models
# costs more than it saves (bench/batched_seeds.py), so default-size models train one per stack.
ACTIVATION_BUDGET = 2**19


def batches(samples, batch_size, order_seeds, epoch):
    """Row indices of each minibatch of one epoch, per model (models x rows), or None once for a
    full batch. Model i shuffles with numpy's Generator seeded [order_seeds[i], epoch]: its own
    order, whatever stack it is in."""
    if not batch_size or batch_size >= samples:
        return [None]
    orders = torch.from_numpy(np.stack([np.random.default_rng([seed, epoch]).permutation(samples)
                                        for seed in order_seeds]))
    return [orders[:, start:start + batch_size] for start in range(0, samples, batch_size)]


def output_gradient(out, y):
    """d(mean loss)/d(logits) of every model: BCE after a sigmoid (one output), as autograd
    computes it through nn.BCELoss and Sigmoid (zero where the sigmoid saturates); else
    softmax cross-entropy. Model by model: see per_model."""
    rows = out.shape[-2]

    def one(logits, target):
        if logits.shape[-1] == 1:
            p = torch.sigmoid(logits)
            slope = (1 - p) * p
            return (p - target).div_(slope.clamp(min=1e-12)).mul_(slope).div_(rows)
        gradient = torch.softmax(logits, dim=-1)
        gradient.scatter_add_(-1, target.long(), torch.full_like(gradient[..., :1], -1.0))
        return gradient.div_(rows)

    return per_model(one, out, y)


def gradients(params, x, y, grads):
    """Fill grads with the gradient of every model's mean loss on (x, y); x is shared or per model."""
    names = layer_names(params)
    inputs = [x]
    for name in names[:-1]:
        inputs.append(linear(params, name, inputs[-1]).relu_())
    delta = output_gradient(linear(params, names[-1], inputs[-1]), y)
    for index in reversed(range(len(names))):
        name = names[index]
        product(delta.mT, inputs[index], grads[f"{name}.weight"])
        torch.sum(delta, dim=1, out=grads[f"{name}.bias"])
        if index:
            below = torch.empty_like(inputs[index])
            product(delta, params[f"{name}.weight"], below)
            # ReLU passes the gradient where its output was positive (one fused kernel).
            delta = torch.ops.aten.threshold_backward(below, inputs[index], 0)


def adam_step(params, grads, moments, step, lr):
    """torch.optim.Adam's update (no weight decay, no amsgrad), every tensor at once.

    In single IEEE operations only (no lerp, addcmul, addcdiv, add with alpha): torch's
    vectorised kernels fuse those into FMAs that round differently from the scalar loop that
    finishes a tensor, so an element's result would depend on its position in the stack."""
    first, second = moments
    torch._foreach_mul_(first, BETAS[0])
    torch._foreach_add_(first, torch._foreach_mul(grads, 1 - BETAS[0]))
    torch._foreach_mul_(second, BETAS[1])
    squares = torch._foreach_mul(grads, grads)
    torch._foreach_mul_(squares, 1 - BETAS[1])
    torch._foreach_add_(second, squares)
    correction1, correction2 = 1 - BETAS[0] ** step, 1 - BETAS[1] ** step
    denominators = torch._foreach_sqrt(second)
    torch._foreach_div_(denominators, correction2 ** 0.5)
    torch._foreach_add_(denominators, EPS)
    updates = torch._foreach_div(first, denominators)
    torch._foreach_mul_(updates, lr / correction1)
    torch._foreach_sub_(params, updates)


def train_stack(weights, x, y, epochs, lr, masks=None, batch_size=0, order_seeds=None, after_epoch=None,
                tick=lambda models: None):
    """Adam on BCE (one output) or cross-entropy for one stack; returns the trained weights.

    Masked weights are zero on entry and after every step, so pruned weights stay pruned and
    the forward pass sees the masked model."""
    keys = list(weights)
    params = {key: weights[key].detach().clone() for key in keys}
    values = [params[key] for key in keys]
    grads = {key: torch.empty_like(params[key]) for key in keys}
    moments = ([torch.zeros_like(value) for value in values], [torch.zeros_like(value) for value in values])
    held = [masks[key].to(values[0].device) for key in keys] if masks else None
    if held:
        torch._foreach_mul_(values, held)
    seeds = order_seeds if order_seeds is not None else [0] * size(params)
    step = 0
    for epoch in range(1, epochs + 1):
        for rows in batches(len(x), batch_size, seeds, epoch):
            rows = rows if rows is None else rows.to(x.device)
            gradients(params, x if rows is None else x[rows], y[None] if rows is None else y[rows], grads)
            step += 1
            adam_step(values, [grads[key] for key in keys], moments, step, lr)
            if held:
                torch._foreach_mul_(values, held)
            tick(size(params))
        if after_epoch:
            after_epoch(epoch, params)
    return params


def train(weights, x, y, epochs, lr, masks=None, batch_size=0, order_seeds=None, after_epoch=None,
          device="cpu", description="train"):
    """Train every model of a stack, as many per sub-stack as fit ACTIVATION_BUDGET, sub-stacks in
    parallel; on `device` (cpu or cuda), returned on the CPU. after_epoch sees the first
    sub-stack only. order_seeds: one per model, its minibatch order (default 0 for all)."""
    models, rows = size(weights), min(batch_size or len(x), len(x))
    step = models_per_task(rows, sum(architecture(weights)[1]), ACTIVATION_BUDGET)
    x, y = x.to(device), y.to(device)
    seeds = list(order_seeds) if order_seeds is not None else [0] * models
    per_epoch = -(-len(x) // rows)  # minibatches per epoch
    with bar(models * epochs * per_epoch, description, unit="model-step") as progress:
        def one(start):
            sub = {key: value.to(device) for key, value in part(weights, start, start + step).items()}
            sub_masks = {key: value.to(device) for key, value in part(masks, start, start + step).items()} if masks else None
            trained = train_stack(sub, x, y, epochs, lr, sub_masks, batch_size, seeds[start:start + step],
                                  after_epoch if start == 0 else None, progress.update)
            return {key: value.cpu() for key, value in trained.items()}

        parts = parallel_map(one, range(0, models, step))
    return {key: torch.cat([trained[key] for trained in parts]) for key in weights}
