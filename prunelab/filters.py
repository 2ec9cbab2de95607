"""Filter pruning after Li et al. 2017, "Pruning Filters for Efficient ConvNets", for any net of
prunelab.architectures: per layer, the fraction of its structured units (conv filters, hidden
neurons) with the lowest L1 norms goes, with everything each feeds.

Library only: no pipeline stage, param or method record uses it yet. The units are
prunelab.architectures' `units(module)`: unit j of a layer is its output channel (or neuron) j,
its bias j, and the following prunable layer's input columns that channel feeds (one input
channel of a conv, or after a flatten the h * w columns of that channel's positions), so
removing a filter also removes the next layer's input channel, as the paper does. The output
layer's units are the classes and are never pruned.
"""
import torch
from torch import nn

from prunelab.architectures import layers, units
from prunelab.masks import rank, removed_count


def filter_scores(module: nn.Module, state: dict) -> dict[str, torch.Tensor]:
    """Per prunable layer but the output layer (in `units` order), one score per unit: the sum
    of the absolute values of its incoming weights, in float64.

    A conv layer: Li et al. 2017's score of a filter, sum |F_j| over its kernel weights
    (c_in x k_h x k_w), the filter's own weights only (incoming): not its bias, not the next
    layer's weights that read its channel. A hidden linear layer: the same L1 of the neuron's
    incoming weights (its row of the weight matrix), chosen here so that one rule covers every
    layer of a conv net's dense head; the paper scores conv filters only. prunelab's MLP
    `structured` method (scores.neuron_norms) is a different norm: the L2 of a neuron's incoming
    and outgoing weights together.

    The scores are read from `state` as given (zeros already in it count as zeros); every layer
    is scored from the same state, without first removing what the layer before loses (the
    paper's "independent" multi-layer strategy as recalled here, not its "greedy" one). Sums
    run in float64, as scores.lamp's do, so that a ranking is not decided by float32 rounding.
    """
    scores = {}
    for group in units(module):
        weight = state[f"{group.layer}.weight"]
        if weight.shape[0] != group.count:
            raise ValueError(f"{group.layer}.weight has {weight.shape[0]} units; the module has {group.count}")
        scores[group.layer] = weight.double().abs().sum(dim=tuple(range(1, weight.dim())))
    return scores


def removed_units(count: int, fraction: float) -> int:
    """How many of a layer's `count` units go at `fraction`: round(fraction * count) (Python's
    round, half to even, as masks.removed_count and torch.nn.utils.prune), at most count - 1:
    a layer always keeps one unit, so the net stays connected."""
    return min(removed_count(fraction, count), count - 1)


def filter_masks(module: nn.Module, state: dict, fraction: float) -> tuple[dict, dict]:
    """(masks, keep): per layer but the output, the removed_units(count, fraction) units with
    the lowest filter_scores go (ties: the lower index goes first, a stable ascending sort, as
    prunelab.masks.rank everywhere).

    masks: every prunable layer's NAME.weight and NAME.bias (the output layer's too), 0/1
    float32 tensors shaped like them, made by Units.keep: a removed unit's filter (or row), its
    bias, and the next layer's input columns it fed are 0. keep: layer -> booleans (count,) of
    the units kept, what architectures.shrink takes; keep[layer].nonzero() are their indices.
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction {fraction!r}: expected 0 <= fraction <= 1")
    masks = {}
    for layer in layers(module):
        for key in (f"{layer.name}.weight", f"{layer.name}.bias"):
            masks[key] = torch.ones(state[key].shape, dtype=torch.float32)
    scores, keep = filter_scores(module, state), {}
    for group in units(module):
        keep[group.layer] = rank(scores[group.layer]) >= removed_units(group.count, fraction)
        masks = group.keep(masks, keep[group.layer])
    return masks, keep
