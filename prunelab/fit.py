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
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from prunelab.compute import parallel_map, product
from prunelab.model import layer_names
from prunelab.progress import bar
from prunelab.stacks import Stack, architecture, linear, models_per_task, part, per_model, size

BETAS, EPS = (0.9, 0.999), 1e-8
# Floats of hidden activations one stack may hold per step: past the cache, stacking more models
# costs more than it saves (bench/batched_seeds.py), so default-size models train one per stack.
ACTIVATION_BUDGET = 2**19
# On a GPU stacking is what pays: every model in one stack, up to a gigabyte of activations.
GPU_ACTIVATION_BUDGET = 2**28


def batches(samples: int, batch_size: int, order_seeds: Sequence[int], epoch: int,
            device: str | torch.device = "cpu") -> list[torch.Tensor | None]:
    """Row indices of each minibatch of one epoch, per model (models x rows), or None once for a
    full batch. Model i shuffles with numpy's Generator seeded [order_seeds[i], epoch]: its own
    order, whatever stack it is in."""
    if not batch_size or batch_size >= samples:
        return [None]
    orders = torch.from_numpy(np.stack([np.random.default_rng([seed, epoch]).permutation(samples)
                                        for seed in order_seeds])).to(device)
    return [orders[:, start:start + batch_size] for start in range(0, samples, batch_size)]


def output_gradient(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
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


def gradients(params: Stack, x: torch.Tensor, y: torch.Tensor, grads: Stack, buffers: dict) -> None:
    """Fill grads with the gradient of every model's mean loss on (x, y); x is shared or per model.

    Activations live in `buffers` (a dict kept across steps): a fresh megabyte-sized tensor
    every step costs the kernel's page faults, about as much as the arithmetic at the default size."""
    names = layer_names(params)
    models, rows = size(params), x.shape[-2]

    def buffer(name, columns):
        key = (name, rows)
        if key not in buffers:
            buffers[key] = torch.empty(models, rows, columns, device=x.device)
        return buffers[key]

    inputs = [x]
    for name in names[:-1]:
        out = buffer(name, params[f"{name}.weight"].shape[1])
        inputs.append(linear(params, name, inputs[-1], out, relu=True))
    delta = output_gradient(linear(params, names[-1], inputs[-1]), y)
    for index in reversed(range(len(names))):
        name = names[index]
        product(delta.mT, inputs[index], grads[f"{name}.weight"], then=bias_gradient(delta, grads[f"{name}.bias"]))
        if index:
            below = buffer(f"{name} input gradient", inputs[index].shape[-1])
            product(delta, params[f"{name}.weight"], below, then=relu_gradient(below, inputs[index]))
            delta = below


def bias_gradient(delta: torch.Tensor, gradient: torch.Tensor) -> Callable[[int | slice, int, int], None]:
    """For product's then: a bias's gradient, the sum of delta over samples, once per model (in
    the task of its first tile) over all units: how numpy sums a block depends on its width (one
    column is summed pairwise, more in order), so never a tile's block. numpy's per-model sum
    equals its sum over the stack; torch's vectorised sum does not promise that."""
    def then(model, start, stop):
        if start:
            return
        if gradient.device.type == "cpu":
            np.sum(delta.numpy()[model], axis=-2, out=gradient.numpy()[model])
        else:
            gradient[model] = delta[model].sum(dim=-2)
    return then


def relu_gradient(gradient: torch.Tensor, outputs: torch.Tensor) -> Callable[[int | slice, int, int], None]:
    """For product's then: keep the gradient where the ReLU's output was positive, in place."""
    def then(model, start, stop):
        rows = gradient[model, start:stop]
        torch.ops.aten.threshold_backward.grad_input(rows, outputs[model, start:stop], 0, grad_input=rows)
    return then


def adam_step(params: list[torch.Tensor], grads: list[torch.Tensor],
              moments: tuple[list[torch.Tensor], list[torch.Tensor]], step: int, lr: float) -> None:
    """torch.optim.Adam's update (no weight decay, no amsgrad), its operations in its order,
    every tensor at once."""
    first, second = moments
    torch._foreach_lerp_(first, grads, 1 - BETAS[0])
    torch._foreach_mul_(second, BETAS[1])
    torch._foreach_addcmul_(second, grads, grads, 1 - BETAS[1])
    correction1, correction2 = 1 - BETAS[0] ** step, 1 - BETAS[1] ** step
    denominators = correctly_rounded_sqrt(second)
    torch._foreach_div_(denominators, correction2 ** 0.5)
    torch._foreach_add_(denominators, EPS)
    torch._foreach_addcdiv_(params, first, denominators, -lr / correction1)


def correctly_rounded_sqrt(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Square roots that are the same bits on every CPU. On the CPU torch's sqrt is MKL's vector
    math, whose rounding follows the CPU even in MKL's COMPATIBLE branch (measured: an Intel
    AVX-512 CPU agrees with the correctly rounded root for 85 % of float32 values, and trains
    other weights than an AMD one); numpy's sqrt is the IEEE instruction, correctly rounded on
    any x86-64 CPU. On a GPU, torch's own."""
    if not tensors or tensors[0].device.type != "cpu":
        return list(torch._foreach_sqrt(tensors))
    return [torch.from_numpy(np.sqrt(tensor.numpy())) for tensor in tensors]


def gather(data: torch.Tensor, rows: torch.Tensor, buffers: dict, role: str) -> torch.Tensor:
    """data[rows] (models x batch x columns) into a buffer kept across steps, one per role."""
    key = ("batch", role, rows.shape[-1])
    if key not in buffers:
        buffers[key] = torch.empty(*rows.shape, data.shape[-1], device=data.device)
    out = buffers[key]
    torch.index_select(data, 0, rows.reshape(-1), out=out.view(-1, data.shape[-1]))
    return out


def flat_copy(tensors: Mapping[str, torch.Tensor], device: str | torch.device,
              copy: bool = True) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(one contiguous buffer holding every tensor (a copy, or uninitialised), a dict of its views in their shapes)."""
    buffer = torch.empty(sum(value.numel() for value in tensors.values()), device=device)
    views, offset = {}, 0
    for key, value in tensors.items():
        views[key] = buffer[offset:offset + value.numel()].view(value.shape)
        if copy:
            views[key].copy_(value)
        offset += value.numel()
    return buffer, views


def train_stack(weights: Stack, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
                masks: Stack | None = None, batch_size: int = 0, order_seeds: Sequence[int] | None = None,
                after_epoch: Callable[[int, Stack], None] | None = None,
                tick: Callable[[int], None] = lambda models: None, every: int = 0,
                hook: Callable[[int, Stack], Stack | None] | None = None) -> Stack:
    """Adam on BCE (one output) or cross-entropy for one stack; returns the trained weights.

    Masked weights are zero on entry and after every step, so pruned weights stay pruned and
    the forward pass sees the masked model. hook(step, params), called after every `every`-th
    step, may return new masks (the stack's keys): from then on they are held. The stated
    choice for Adam: where a new mask is 0, both moments are zeroed with the weight, so a
    pruned weight carries no momentum; one ever unmasked again restarts from zero moments
    (the step count, and so the bias correction, goes on)."""
    device = x.device
    # Parameters, gradients, moments and masks each in one flat buffer (the dicts hold views):
    # Adam is then a few kernels on one tensor, not a few per layer.
    flat, params = flat_copy(weights, device)
    flat_grads, grads = flat_copy(weights, device, copy=False)
    moments = ([torch.zeros_like(flat)], [torch.zeros_like(flat)])
    held = flat_copy({key: masks[key] for key in weights}, device)[0] if masks else None
    first, second = moments[0][0], moments[1][0]
    if held is not None:
        flat.mul_(held)
    seeds = order_seeds if order_seeds is not None else [0] * size(params)
    buffers = {}
    step = 0
    for epoch in range(1, epochs + 1):
        for rows in batches(len(x), batch_size, seeds, epoch, x.device):
            if rows is None:
                gradients(params, x, y[None], grads, buffers)
            else:
                gradients(params, gather(x, rows, buffers, "x"), gather(y, rows, buffers, "y"), grads, buffers)
            step += 1
            adam_step([flat], [flat_grads], moments, step, lr)
            if held is not None:
                flat.mul_(held)
            if hook is not None and step % every == 0:
                new = hook(step, params)
                if new is not None:
                    held = flat_copy({key: new[key] for key in weights}, device)[0]
                    for tensor in (flat, first, second):
                        tensor.mul_(held)
            tick(size(params))
        if after_epoch:
            after_epoch(epoch, params)
    return params


def train(weights: Stack, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float, masks: Stack | None = None,
          batch_size: int = 0, order_seeds: Sequence[int] | None = None,
          after_epoch: Callable[[int, Stack], None] | None = None, device: str | torch.device = "cpu",
          description: str = "train", every: int = 0,
          hook: Callable[[int, Stack, int], Stack | None] | None = None) -> Stack:
    """Train every model of a stack, as many per sub-stack as fit ACTIVATION_BUDGET, sub-stacks in
    parallel; on `device` (cpu or cuda), returned on the CPU. after_epoch sees the first
    sub-stack only. order_seeds: one per model, its minibatch order (default 0 for all).
    hook(step, params, first): as train_stack's, told the index of its sub-stack's first model."""
    models, rows = size(weights), min(batch_size or len(x), len(x))
    budget = ACTIVATION_BUDGET if torch.device(device).type == "cpu" else GPU_ACTIVATION_BUDGET
    step = models_per_task(rows, sum(architecture(weights)[1]), budget)
    x, y = x.to(device), y.to(device)
    seeds = list(order_seeds) if order_seeds is not None else [0] * models
    per_epoch = -(-len(x) // rows)  # minibatches per epoch
    with bar(models * epochs * per_epoch, description, unit="model-step") as progress:
        def one(start):
            sub = {key: value.to(device) for key, value in part(weights, start, start + step).items()}
            sub_masks = {key: value.to(device) for key, value in part(masks, start, start + step).items()} if masks else None
            sub_hook = (lambda number, params: hook(number, params, start)) if hook is not None else None
            trained = train_stack(sub, x, y, epochs, lr, sub_masks, batch_size, seeds[start:start + step],
                                  after_epoch if start == 0 else None, progress.update, every, sub_hook)
            return {key: value.cpu() for key, value in trained.items()}

        parts = parallel_map(one, range(0, models, step))
    return {key: torch.cat([trained[key] for trained in parts]) for key in weights}

