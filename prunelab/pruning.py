"""Pruning methods: each maps one model's weights and a list of levels to one mask per level.

Interface: method(state, amounts, rng) -> masks. `state` is a plain state_dict of Net (any
depth: every Linear layer's weights are pruned), `amounts` the fractions to remove (of the
weights, or of each hidden layer's neurons for `structured`), `rng` a
numpy Generator for the random methods. `masks` has the state's keys, each a 0/1 float tensor
with a leading level dimension. One sort of the scores gives every level's mask. A new method
is one function and one line in METHODS.
"""
import math

import torch

from prunelab.model import layer_names


def removed_count(amount, n):
    # torch.nn.utils.prune's own rounding of a fractional amount.
    return round(amount * n)


def keep_highest(scores, amounts):
    """Masks (levels x scores.shape) that drop the round(a*n) lowest scores at each level a."""
    flat = scores.reshape(-1)
    rank = torch.empty(len(flat), dtype=torch.long)
    rank[torch.argsort(flat, stable=True)] = torch.arange(len(flat))
    counts = torch.tensor([removed_count(amount, len(flat)) for amount in amounts])
    return (rank[None, :] >= counts[:, None]).float().reshape(len(amounts), *scores.shape)


def _unstructured(state, scores, amounts, pooled):
    """Weight masks from per-layer scores, ranked across all layers or within each; biases kept."""
    layers = list(scores)
    if pooled:
        flat = keep_highest(torch.cat([scores[layer].reshape(-1) for layer in layers]), amounts)
        parts = dict(zip(layers, torch.split(flat, [scores[layer].numel() for layer in layers], dim=1)))
        layer_masks = {layer: parts[layer].reshape(len(amounts), *scores[layer].shape) for layer in layers}
    else:
        layer_masks = {layer: keep_highest(scores[layer], amounts) for layer in layers}
    masks = {key: torch.ones(len(amounts), *value.shape) for key, value in state.items()}
    masks.update({f"{layer}.weight": mask for layer, mask in layer_masks.items()})
    return masks


def _magnitudes(state):
    return {layer: state[f"{layer}.weight"].abs() for layer in layer_names(state)}


def _uniform(state, rng):
    # Drawn layer by layer, input to output: the seed's two layers draw what they always drew.
    return {layer: torch.from_numpy(rng.random(tuple(state[f"{layer}.weight"].shape))) for layer in layer_names(state)}


def global_magnitude(state, amounts, rng):
    """The seed's method: the smallest |w| pooled over every layer (torch's global L1)."""
    return _unstructured(state, _magnitudes(state), amounts, pooled=True)


def layerwise_magnitude(state, amounts, rng):
    """The smallest |w| of each layer, every layer to the same fraction."""
    return _unstructured(state, _magnitudes(state), amounts, pooled=False)


def global_random(state, amounts, rng):
    """Weights drawn at random from all layers pooled: the baseline."""
    return _unstructured(state, _uniform(state, rng), amounts, pooled=True)


def layerwise_random(state, amounts, rng):
    """Weights drawn at random within each layer, every layer to the same fraction."""
    return _unstructured(state, _uniform(state, rng), amounts, pooled=False)


def structured(state, amounts, rng):
    """Whole neurons of every hidden layer, each layer to the same fraction: those with the
    smallest L2 norm of their in- and outgoing weights (of the trained net), with their bias."""
    masks = {key: torch.ones(len(amounts), *value.shape) for key, value in state.items()}
    names = layer_names(state)
    for layer, following in zip(names, names[1:]):
        norms = (state[f"{layer}.weight"].square().sum(dim=1) + state[f"{following}.weight"].square().sum(dim=0)).sqrt()
        neurons = keep_highest(norms, amounts)  # levels x neurons of this layer
        masks[f"{layer}.weight"] *= neurons[:, :, None]
        masks[f"{layer}.bias"] *= neurons
        masks[f"{following}.weight"] *= neurons[:, None, :]
    return masks


METHODS = {
    "global-magnitude": global_magnitude,
    "layerwise-magnitude": layerwise_magnitude,
    "global-random": global_random,
    "layerwise-random": layerwise_random,
    "structured": structured,
}


def pooled_magnitudes(state):
    return torch.cat([magnitude.reshape(-1) for magnitude in _magnitudes(state).values()])


def amount_for_threshold(state, threshold):
    """The fraction of all layers' weights with |w| < threshold."""
    magnitudes = pooled_magnitudes(state)
    return int((magnitudes < threshold).sum()) / len(magnitudes)


def threshold_for_amount(state, amount):
    """The magnitude t for which removing every |w| < t removes the amount's weights (ties aside)."""
    magnitudes = torch.sort(pooled_magnitudes(state)).values
    count = removed_count(amount, len(magnitudes))
    if count == 0:
        return 0.0
    if count == len(magnitudes):
        # The next float32 above the largest: a float64 nextafter would round back down to it.
        return torch.nextafter(magnitudes[-1], torch.tensor(math.inf)).item()
    return magnitudes[count].item()


def live_neurons(state):
    """Per hidden layer, its neurons that can change the output: a nonzero outgoing weight, and
    a nonzero input weight or positive bias (otherwise ReLU gives 0)."""
    names = layer_names(state)
    return {layer: ((state[f"{layer}.weight"] != 0).any(dim=1) | (state[f"{layer}.bias"] > 0))
            & (state[f"{following}.weight"] != 0).any(dim=0) for layer, following in zip(names, names[1:])}


def shrink(state):
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
