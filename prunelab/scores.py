"""Scores of the pruning methods: per layer, a tensor shaped like what is pruned (its weights,
or its neurons); the lowest scores go first.

Each function takes (state, rng, gradient, alive): a plain state_dict of Net, a numpy Generator
(used by the random scores only), for the gradient scores the gradient of the training loss at
`state` (same keys), and in the regimes that recompute masks the survivors of the last update
(per layer, a flat bool tensor; None: all alive). Only ERK reads `alive`: its allocation is
shared among the survivors, not among all of a layer's weights. Random scores are drawn layer by
layer, input to output.
"""
import math
from typing import Optional

import numpy as np
import torch

from prunelab.masks import rank
from prunelab.model import layer_names


def weights(state: dict) -> dict:
    return {layer: state[f"{layer}.weight"] for layer in layer_names(state)}


def magnitude(state: dict, rng: Optional[np.random.Generator], gradient: Optional[dict] = None, alive: Optional[dict] = None) -> dict:
    return {layer: weight.abs() for layer, weight in weights(state).items()}


def uniform(state: dict, rng: np.random.Generator, gradient: Optional[dict] = None, alive: Optional[dict] = None) -> dict:
    # The seed's two layers draw what they always drew: one rng.random per layer, in order.
    return {layer: torch.from_numpy(rng.random(tuple(weight.shape))) for layer, weight in weights(state).items()}


def lamp(state: dict, rng: Optional[np.random.Generator] = None, gradient: Optional[dict] = None, alive: Optional[dict] = None) -> dict:
    """Lee et al. 2021: w_u^2 / sum of w_v^2 over the weights v of u's layer with w_v^2 >= w_u^2
    (ties: those after u in a stable ascending sort). In float64, so that ranking across layers
    is not decided by float32 rounding of the suffix sums; a layer all zero scores 0."""
    scores = {}
    for layer, weight in weights(state).items():
        squares = weight.double().reshape(-1).square()
        order = torch.argsort(squares, stable=True)
        ascending = squares[order]
        suffix = ascending.flip(0).cumsum(0).flip(0)
        score = torch.zeros_like(squares)
        score[order] = torch.where(suffix > 0, ascending / suffix.clamp(min=torch.finfo(torch.float64).tiny), 0.0)
        scores[layer] = score.reshape(weight.shape)
    return scores


def saliency(state: dict, rng: Optional[np.random.Generator], gradient: dict, alive: Optional[dict] = None) -> dict:
    """|w * dL/dw| (ShrinkBench's gradient magnitude), the loss gradient at the trained weights."""
    return {layer: (weight * gradient[f"{layer}.weight"]).abs() for layer, weight in weights(state).items()}


def erk(state: dict, rng: np.random.Generator, gradient: Optional[dict] = None, alive: Optional[dict] = None) -> dict:
    """Random weights, each layer kept in proportion to the sum of its weight's dimensions, n_in +
    n_out for a linear layer (RigL's Erdos-Renyi: density ~ (n_in + n_out) / (n_in n_out)),
    c_out + c_in + k_h + k_w for a conv kernel (RigL's ERK-kernel), for a pooled ranking.

    The survivor of random rank r (0 first) among its layer's survivors scores
    sum(shape) / (r + 1). Keeping every score >= t keeps min(survivors, floor(sum(shape) / t))
    of the layer: ERK's densities with its cap at dense, for the one t that the pooled count sets.
    Ranking among the survivors (not among all of the layer's weights) is what makes an update
    of a recomputing regime allocate its new total by ERK again: ranks among all weights would
    multiply each layer's density by its ERK factor once more every update. Masks nest across
    levels and the total is met exactly, which per-layer rounded counts do not promise."""
    scores = {}
    for layer, weight in weights(state).items():
        factor = sum(weight.shape)
        # One permutation of all the layer's weights (the same draw whatever survives), then the
        # survivors' places in it: with every weight alive, the permutation itself.
        order = torch.from_numpy(rng.permutation(weight.numel()).astype(np.float64))
        if alive is not None:
            order = rank(torch.where(alive[layer], order, torch.inf)).double()
        scores[layer] = (factor / (order + 1)).reshape(weight.shape)
    return scores


def erk_densities(shapes: list, density: float) -> list:
    """RigL's ERK densities (reference for `erk`): d_l = min(1, eps sum(shape) / prod(shape)), eps
    set so the kept weights total density * all weights; layers that would pass 1 are dense. A
    linear layer's (n_out, n_in) gives (n_in + n_out) / (n_in n_out); a conv kernel's (c_out, c_in,
    k_h, k_w) RigL's "ERK-kernel", (c_in + c_out + k_h + k_w) / (c_in c_out k_h k_w)."""
    sizes = [math.prod(shape) for shape in shapes]
    raw = [sum(shape) / math.prod(shape) for shape in shapes]
    dense = set()
    while True:
        budget = density * sum(sizes) - sum(sizes[index] for index in dense)
        eps = budget / sum(raw[index] * sizes[index] for index in range(len(sizes)) if index not in dense)
        over = {index for index in range(len(sizes)) if index not in dense and eps * raw[index] > 1}
        if not over:
            return [1.0 if index in dense else eps * raw[index] for index in range(len(sizes))]
        dense |= over


def _incoming(weight: torch.Tensor) -> torch.Tensor:
    """Per unit (output channel or neuron), the sum of squares of its incoming weights."""
    return weight.square().sum(dim=1) if weight.dim() == 2 else weight.square().reshape(len(weight), -1).sum(dim=1)


def _outgoing(weight: torch.Tensor, units: int) -> torch.Tensor:
    """Per unit of the layer before, the sum of squares of the weights of `weight` (the next
    layer's) that read it: its input column, its input channel's kernels (a conv), or its
    h * w columns after a flatten (a conv before a linear layer)."""
    per_input = weight.square().sum(dim=0)  # over the next layer's outputs
    return per_input if per_input.shape == (units,) else per_input.reshape(units, -1).sum(dim=1)


def neuron_norms(state: dict, rng: Optional[np.random.Generator] = None, gradient: Optional[dict] = None, alive: Optional[dict] = None) -> dict:
    """Per layer but the output, each unit's (a hidden neuron, a conv filter) L2 norm of its
    incoming and outgoing weights together."""
    names = layer_names(state)
    # numpy's sqrt: torch's is MKL's vector math, whose rounding (and so the ties) follows the CPU.
    return {layer: torch.from_numpy(np.sqrt((_incoming(state[f"{layer}.weight"]) + _outgoing(
        state[f"{following}.weight"], len(state[f"{layer}.weight"]))).numpy()))
            for layer, following in zip(names, names[1:])}
