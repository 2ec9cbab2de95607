"""What a pruning method (a record of prunelab/methods.py, in METHODS) does: map one model's
weights and a list of levels to one mask per level; and the budgets, thresholds and the
shrunk MLP the sweep needs.

A level is a count of removals: `round(a * n)` of the pooled weights, or per layer
(torch.nn.utils.prune's rounding). One sort of the scores gives every level's mask. `masks`
have the state's keys, each a 0/1 float tensor with a leading level dimension.

The output guard (`max_output_sparsity`, LAMP's "Unif+" at 0.8) caps the last layer's removals
at floor(m * its weights); the removals it refuses come from the other layers, so the level's
total count is still met.
"""
import math
from typing import Optional

import numpy as np
import torch

from prunelab import methods, scores
from prunelab.masks import apportion, guard_layers, pooled_split, rank, removed_count
from prunelab.methods import Method
from prunelab.model import layer_names


def group_sizes(method: Method, state: dict) -> dict:
    """What each group (layer) has to prune: its weights, or its neurons."""
    if method.unit == "neurons":
        names = layer_names(state)
        return {layer: state[f"{layer}.weight"].shape[0] for layer in names[:-1]}
    return {layer: state[f"{layer}.weight"].numel() for layer in layer_names(state)}


def level_counts(method: Method, state: dict, amount: float, exact: bool = False) -> int | dict[str, int]:
    """Removals at a fraction `amount`: one pooled count, or one per layer. `exact` (a budget's
    level): per layer too, the total is round(amount * all weights), shared in proportion to
    the layers' sizes (largest remainders), not each layer's own rounding."""
    sizes = group_sizes(method, state)
    total = removed_count(amount, sum(sizes.values()))
    if method.pooled:
        return total
    if exact:
        return apportion(total, sizes)
    return {layer: removed_count(amount, size) for layer, size in sizes.items()}


def round_counts(method: Method, state: dict, keep: dict, rate: float, output_rate: float,
                 conv_rate: Optional[float] = None) -> int | dict[str, int]:
    """Removals after one iterative round from the masks `keep`: `rate` of the survivors
    (pooled), or of each layer's: the last layer at `output_rate`, a conv layer (a 4-d
    weight) at `conv_rate` (None: `rate`), Frankle & Carbin's per-kind rates."""
    removed = {layer: size - int(_alive(method, keep, layer).sum()) for layer, size in group_sizes(method, state).items()}
    sizes = group_sizes(method, state)
    if method.pooled:
        return sum(removed.values()) + round(rate * (sum(sizes.values()) - sum(removed.values())))
    rates = layer_rates(state, rate, output_rate, conv_rate)
    return {layer: removed[layer] + round(rates[layer] * (sizes[layer] - removed[layer])) for layer in sizes}


def _alive(method: Method, keep, layer):
    return (keep[f"{layer}.bias"] if method.unit == "neurons" else keep[f"{layer}.weight"]).reshape(-1) != 0


def masks_for(method: Method, state: dict, counts: list, rng: Optional[np.random.Generator], gradient: Optional[dict] = None,
          keep: Optional[dict] = None, max_output_sparsity: float = 1.0) -> dict:
    """One mask per level from each level's counts (level_counts or round_counts). With
    `keep`, what it removed stays removed (its scores go below all others)."""
    alive = {layer: _alive(method, keep, layer) for layer in group_sizes(method, state)} if keep is not None else None
    flat = {layer: value.reshape(-1) for layer, value in method.score(state, rng, gradient, alive).items()}
    if keep is not None:
        flat = {layer: torch.where(alive[layer], value, -math.inf) for layer, value in flat.items()}
    sizes = group_sizes(method, state)
    last = layer_names(state)[-1]
    cap = math.floor(max_output_sparsity * sizes[last]) if method.unit == "weights" and max_output_sparsity < 1 else None
    if cap is not None and keep is not None:
        cap = max(cap, sizes[last] - int(_alive(method, keep, last).sum()))
    if method.pooled:
        split = pooled_split(flat, counts, cap)
    else:
        split = [guard_layers(level, sizes, cap) if cap is not None else level for level in counts]
    masks = {key: torch.ones(len(counts), *value.shape) for key, value in state.items()}
    for layer, values in flat.items():
        removed = torch.tensor([level[layer] for level in split])
        kept = (rank(values)[None, :] >= removed[:, None]).float()
        if method.unit == "neurons":
            following = layer_names(state)[layer_names(state).index(layer) + 1]
            _keep_units(masks, layer, following, kept)
        else:
            masks[f"{layer}.weight"] = kept.reshape(len(counts), *state[f"{layer}.weight"].shape)
    return masks


def masks_at_amounts(method: Method, state: dict, amounts: list, rng: Optional[np.random.Generator], gradient: Optional[dict] = None,
             max_output_sparsity: float = 1.0, exact: Optional[list] = None) -> dict:
    """One mask per fraction removed in `amounts` (exact: per level, whether it is a budget's)."""
    exact = exact or [False] * len(amounts)
    return masks_for(method, state, [level_counts(method, state, amount, flag) for amount, flag in zip(amounts, exact)],
                      rng, gradient, max_output_sparsity=max_output_sparsity)


def layer_rates(state: dict, rate: float, output_rate: float, conv_rate: Optional[float] = None) -> dict[str, float]:
    """Each layer's fraction of its survivors removed per round, by its kind: the output layer
    (the last) `output_rate`, a conv layer (a 4-d weight) `conv_rate` (None: `rate`), a linear
    one `rate`."""
    names = layer_names(state)
    return {layer: output_rate if layer == names[-1] else
            conv_rate if conv_rate is not None and state[f"{layer}.weight"].dim() == 4 else rate for layer in names}


def _keep_units(masks: dict, layer: str, following: str, kept: torch.Tensor) -> None:
    """Masks (levels first) times the units kept (levels x units): a unit is the layer's output
    channel or neuron with its bias, and the following layer's inputs it feeds: one column (a
    linear input, a conv's input channel), or after a flatten its h * w columns (channel-major)."""
    levels, units = kept.shape
    weight, after = masks[f"{layer}.weight"], masks[f"{following}.weight"]
    masks[f"{layer}.weight"] = weight * kept.view(levels, units, *[1] * (weight.dim() - 2))
    masks[f"{layer}.bias"] = masks[f"{layer}.bias"] * kept
    columns = kept.repeat_interleave(after.shape[2] // units, dim=1)
    masks[f"{following}.weight"] = after * columns.view(levels, 1, -1, *[1] * (after.dim() - 3))


METHODS = methods.METHODS  # the records (prunelab/methods.py), here too as before
global_magnitude, layerwise_magnitude, global_random, layerwise_random, structured = (
    METHODS[name] for name in ("global-magnitude", "layerwise-magnitude", "global-random", "layerwise-random",
                               "structured"))


def budget_amount(state: dict, kind: str, value: float) -> float:
    """The fraction of the weights whose removal meets a budget within one weight: a
    compression (total / nonzero over ALL parameters; biases stay) or a speedup (dense /
    nonzero multiply-adds, one per weight kept)."""
    weights = sum(state[f"{layer}.weight"].numel() for layer in layer_names(state))
    total = sum(value.numel() for value in state.values())
    kept = round(total / value - (total - weights)) if kind == "compression" else round(weights / value)
    return (weights - kept) / weights


def pooled_magnitudes(state: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([magnitude.reshape(-1) for magnitude in scores.magnitude(state, None).values()])


def amount_for_threshold(state: dict[str, torch.Tensor], threshold: float) -> float:
    """The fraction of all layers' weights with |w| < threshold."""
    magnitudes = pooled_magnitudes(state)
    return int((magnitudes < threshold).sum()) / len(magnitudes)


def threshold_for_amount(state: dict[str, torch.Tensor], amount: float) -> float:
    """The magnitude t for which removing every |w| < t removes the amount's weights (ties aside)."""
    magnitudes = torch.sort(pooled_magnitudes(state)).values
    count = removed_count(amount, len(magnitudes))
    if count == 0:
        return 0.0
    if count == len(magnitudes):
        # The next float32 above the largest: a float64 nextafter would round back down to it.
        return torch.nextafter(magnitudes[-1], torch.tensor(math.inf)).item()
    return magnitudes[count].item()


def live_neurons(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per hidden layer, its neurons that can change the output: a nonzero outgoing weight, and
    a nonzero input weight or positive bias (otherwise ReLU gives 0)."""
    names = layer_names(state)
    return {layer: ((state[f"{layer}.weight"] != 0).any(dim=1) | (state[f"{layer}.bias"] > 0))
            & (state[f"{following}.weight"] != 0).any(dim=0) for layer, following in zip(names, names[1:])}


def shrink(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A plain state_dict of a narrower Net without the neurons that cannot change the output.

    Its outputs equal the masked full net's: a dropped neuron contributed exactly zero. Removing
    a neuron can leave one of the next layer with no input, so it repeats until none is dead.
    """
    state = {key: value.clone() for key, value in state.items()}
    while True:
        keep = live_neurons(state)
        if all(bool(mask.all()) for mask in keep.values()):
            return state
        before = None
        for layer in layer_names(state):
            weight = state[f"{layer}.weight"]
            if before is not None:
                weight = weight[:, before]
            if layer in keep:
                weight, state[f"{layer}.bias"] = weight[keep[layer]], state[f"{layer}.bias"][keep[layer]]
            state[f"{layer}.weight"] = weight
            before = keep.get(layer)
