"""Masks from counts: which entries go when a count of the lowest scores is removed, pooled
over layers or within each, and the output guard's redistribution. Ties go to the earlier
entry (a stable sort), so a mask is a function of the scores alone."""
import math
from typing import Optional, Sequence

import torch


def removed_count(amount: float, n: int) -> int:
    # torch.nn.utils.prune's own rounding of a fractional amount.
    return round(amount * n)


def keep_highest(scores: torch.Tensor, amounts: Sequence[float]) -> torch.Tensor:
    """Masks (levels x scores.shape) that drop the round(a*n) lowest scores at each level a."""
    flat = scores.reshape(-1)
    counts = torch.tensor([removed_count(amount, len(flat)) for amount in amounts])
    return (rank(flat)[None, :] >= counts[:, None]).float().reshape(len(amounts), *scores.shape)


def rank(flat: torch.Tensor) -> torch.Tensor:
    """Each score's place in a stable ascending sort (0: removed first)."""
    rank = torch.empty(len(flat), dtype=torch.long)
    rank[torch.argsort(flat, stable=True)] = torch.arange(len(flat))
    return rank


def _prefix_counts(layer_ids, layers):
    """(n + 1) x layers: how many of the first c entries of a pooled order fall in each layer."""
    counts = torch.zeros(len(layer_ids) + 1, layers, dtype=torch.long)
    counts[1:] = torch.nn.functional.one_hot(layer_ids, layers).cumsum(0)
    return counts


def pooled_split(flat_scores: dict, totals: list, cap: Optional[int] = None) -> list:
    """Per level, each layer's removals when the `totals[level]` lowest scores pooled go: the
    layers' shares of a stable sort of all scores. With `cap`, the last layer gives at most cap
    and the rest come from the other layers in the same pooled order."""
    layers = list(flat_scores)
    pooled = torch.cat([flat_scores[layer] for layer in layers])
    ids = torch.cat([torch.full((len(flat_scores[layer]),), index) for index, layer in enumerate(layers)])
    order = ids[torch.argsort(pooled, stable=True)]
    prefix = _prefix_counts(order, len(layers))
    others = _prefix_counts(order[order != len(layers) - 1], len(layers)) if cap is not None else None
    split = []
    for total in totals:
        counts = prefix[total]
        if cap is not None and counts[-1] > cap:
            # Past what the other layers hold, the last layer gives the rest after all.
            last = max(cap, total - (len(others) - 1))
            counts = others[total - last].clone()
            counts[-1] = last
        split.append(dict(zip(layers, counts.tolist())))
    return split


def guard_layers(counts: dict, sizes: dict, cap: int) -> dict:
    """Per-layer counts with the last layer's capped; its excess spread over the other layers in
    proportion to what each has left (floors, then one more each by the largest remainder). Per
    level: unlike the pooled guard's, these counts need not nest across levels."""
    layers = list(counts)
    last = layers[-1]
    excess = counts[last] - cap
    if excess <= 0:
        return dict(counts)
    room = {layer: sizes[layer] - counts[layer] for layer in layers[:-1]}
    cap += max(0, excess - sum(room.values()))  # past what the other layers hold, the last gives the rest
    excess = counts[last] - cap
    shares = {layer: excess * room[layer] / max(sum(room.values()), 1) for layer in room}
    extra = {layer: math.floor(share) for layer, share in shares.items()}
    for layer in sorted(room, key=lambda name: extra[name] - shares[name])[:excess - sum(extra.values())]:
        extra[layer] += 1
    return {**{layer: counts[layer] + extra[layer] for layer in room}, last: cap}


def apportion(total: int, sizes: dict) -> dict:
    """`total` removals shared over the groups in proportion to their sizes: floors, then one
    more each by the largest remainder (ties: the earlier group)."""
    whole = sum(sizes.values())
    shares = {name: total * size / whole for name, size in sizes.items()}
    counts = {name: math.floor(share) for name, share in shares.items()}
    for name in sorted(shares, key=lambda name: counts[name] - shares[name])[:total - sum(counts.values())]:
        counts[name] += 1
    return counts
