"""Training any nn.Module (a record of prunelab.architectures built) through torch's autograd,
with the semantics of the MLP path (prunelab/fit.py):

- Adam is fit.adam_step itself: torch.optim.Adam's update (betas (0.9, 0.999), eps 1e-8, no
  weight decay, bias corrections included), its square root fit.correctly_rounded_sqrt's;
- minibatches are fit.batches: numpy's Generator seeded [order_seed, epoch] shuffles every
  epoch (a model's torch seed is its order seed in the pipeline), the last batch the remainder;
  batch_size 0 (or at least the samples) is the full batch;
- the loss is the mean BCE of the module's sigmoid output (one output: every net here ends in
  prunelab.model.Net's sigmoid) or the cross-entropy of its logits (more outputs; y holds the
  class numbers as a float column, as prunelab.model.as_tensors gives them);
- masks (state names -> 0/1 tensors; names not given are unmasked) zero the masked weights on
  entry and after every step, so a masked weight's gradient never moves it;
- hook(step, weights), called after every `every`-th step, may return new masks, held from then
  on; where a new mask is 0 both Adam moments are zeroed with the weight (fit.train_stack's
  stated choice: a weight unmasked again restarts from zero moments, the step count goes on);
- every call starts Adam afresh (zero moments, step 0), as fit.train does: fine-tuning after
  pruning (prunelab/sweep_setup.py's SweepSetup.train) starts from fresh moments, not the
  trained model's.

Parameters, gradients, moments and masks each live in one flat buffer in the module's
named_parameters order, as fit.train_stack lays a one-model stack out, so Adam is the same
kernels on the same positions. One model per `train` call; `train_seeds` trains several at
once, one per worker thread (a seed's pieces shared with a worker left idle).

The products are prunelab.compute's (the module is trained as prunelab.pinned_layers' copy), so
the bytes are the same on every machine and core count. What is not the MLP path: the products'
order and the bias sums differ from fit.train's, so an `mlp` trained here equals fit.train to
float rounding, not bit for bit (docs/architectures.md, "Training a non-MLP architecture").
"""
from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from torch import nn
from torch.func import functional_call

from prunelab import compute, fit
from prunelab.pinned_layers import pinned

State = dict[str, torch.Tensor]


@dataclass
class Trained:
    weights: State                 # the trained parameters, name -> tensor, on the CPU
    moments: tuple[State, State]   # Adam's first and second moments after the last step, same names
    steps: int                     # Adam steps taken


def loss(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The MLP path's loss: mean BCE of a sigmoid output (one output), else mean cross-entropy
    of logits against the class numbers in target (a float column)."""
    if outputs.shape[-1] == 1:
        return nn.functional.binary_cross_entropy(outputs, target)
    return nn.functional.cross_entropy(outputs, target.reshape(-1).long())


def full_masks(names_shapes: Mapping[str, torch.Size], masks: Mapping[str, torch.Tensor] | None,
               device: str | torch.device) -> State:
    """Masks for every parameter: the given ones (any float 0/1), ones where none is given."""
    unknown = set(masks or {}) - set(names_shapes)
    if unknown:
        raise ValueError(f"masks for {sorted(unknown)}: not parameters of the module")
    return {name: (masks[name].to(device, torch.float32).reshape(shape) if masks and name in masks
                   else torch.ones(shape, device=device)) for name, shape in names_shapes.items()}


def train(module: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
          masks: Mapping[str, torch.Tensor] | None = None, batch_size: int = 0, order_seed: int = 0,
          after_epoch: Callable[[int, State], None] | None = None, every: int = 0,
          hook: Callable[[int, State], Mapping[str, torch.Tensor] | None] | None = None,
          device: str | torch.device = "cpu") -> Trained:
    """Adam on the module's loss (see `loss`) from its current parameters; returns the trained
    parameters and Adam's moments. The module itself is left as it was. x: samples x one
    sample's input shape; y: samples x 1. hook and after_epoch see the live weights (views:
    read, do not write). Buffers (none in these nets) are the module's own, not trained."""
    if hook is not None and every < 1:
        raise ValueError(f"every = {every!r}: a hook needs every >= 1 (it runs after every `every`-th step)")
    module = pinned(module).to(device)  # a copy whose products are prunelab.compute's
    x, y = x.to(device), y.to(device)
    named = {name: value.detach() for name, value in module.named_parameters()}
    shapes = {name: value.shape for name, value in named.items()}
    # Parameters, gradients, moments and masks each in one flat buffer (the dicts hold views).
    flat, weights = fit.flat_copy(named, device)
    flat_grads = torch.empty_like(flat)
    first, second = torch.zeros_like(flat), torch.zeros_like(flat)
    held = fit.flat_copy(full_masks(shapes, masks, device), device)[0] if masks else None
    if held is not None:
        flat.mul_(held)
    bounds, offset = [], 0
    for shape in shapes.values():
        bounds.append((offset, offset + shape.numel(), shape))
        offset += shape.numel()
    step = 0
    for epoch in range(1, epochs + 1):
        for rows in fit.batches(len(x), batch_size, [order_seed], epoch, device):
            inputs, target = (x, y) if rows is None else (x.index_select(0, rows[0]), y.index_select(0, rows[0]))
            leaf = flat.detach().requires_grad_()  # the same storage: a fresh graph every step
            views = [leaf[start:stop].view(shape) for start, stop, shape in bounds]
            outputs = functional_call(module, dict(zip(shapes, views)), (inputs,))
            grads = torch.autograd.grad(loss(outputs, target), views)
            torch.cat([grad.reshape(-1) for grad in grads], out=flat_grads)
            step += 1
            fit.adam_step([flat], [flat_grads], ([first], [second]), step, lr)
            if held is not None:
                flat.mul_(held)
            if hook is not None and step % every == 0:
                new = hook(step, weights)
                if new is not None:
                    held = fit.flat_copy(full_masks(shapes, new, device), device)[0]
                    for tensor in (flat, first, second):
                        tensor.mul_(held)
        if after_epoch:
            after_epoch(epoch, weights)

    def unflat(buffer):
        return {name: buffer[start:stop].view(shape).clone().cpu() for name, (start, stop, shape) in zip(shapes, bounds)}

    return Trained(unflat(flat), (unflat(first), unflat(second)), step)


def train_seeds(modules: list[nn.Module], x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float,
                order_seeds: list[int], masks: list | None = None, **options) -> list[Trained]:
    """`train` for each module (one per seed) with its own order seed (and masks), spread over
    prunelab.compute's workers, one model each: a model's pieces then run in its worker (and in
    any worker left idle), the same calls as alone, so each result is its solo `train`'s, bit
    for bit.
    options: train's other arguments, the same for every model."""
    if len(order_seeds) != len(modules) or (masks is not None and len(masks) != len(modules)):
        raise ValueError(f"{len(modules)} modules, {len(order_seeds)} order seeds"
                         f"{'' if masks is None else f', {len(masks)} masks'}: expected one each")
    return compute.parallel_map(
        lambda index: train(modules[index], x, y, epochs, lr, None if masks is None else masks[index],
                            order_seed=order_seeds[index], **options), range(len(modules)))
