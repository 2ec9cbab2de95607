"""Schedules: how much is pruned when. Plain functions of counts and steps, no tensors.

`cubic` is Zhu & Gupta's gradual (AGP) schedule, the formula of torch.ao.pruning's
`CubicSL.sparsity_compute_fn` (tested against it). `geometric_rounds` is iterative pruning's
rule (Han et al. 2015, Frankle & Carbin 2019): each round removes a fixed fraction of what is
left, per layer or of all layers pooled.
"""


def cubic(s_0: float, s_f: float, t: float, t_0: float, dt: float, n: int) -> float:
    """s_t = s_f + (s_0 - s_f)(1 - (t - t_0)/(n dt))^3, clamped between s_0 and s_f."""
    s_t = s_f + (s_0 - s_f) * (1.0 - (t - t_0) / (dt * n)) ** 3
    low, high = min(s_0, s_f), max(s_0, s_f)
    return min(max(s_t, low), high)


def round_removal(remaining: int, rate: float) -> int:
    """Weights one round removes of `remaining`: torch.nn.utils.prune's rounding of a fraction."""
    return round(rate * remaining)


def geometric_rounds(sizes: list, rates: list, target: float) -> list:
    """Remaining counts per group after each round, round 0 (all of `sizes`) first.

    sizes: the weights of each group (one group per layer, or one pooled group); rates: each
    group's fraction of its remaining weights removed per round. Rounds go on until the fraction
    removed of all weights reaches `target`, or until a round removes nothing (the rates round
    to zero on what is left)."""
    total = sum(sizes)
    rounds = [list(sizes)]
    while (total - sum(rounds[-1])) / total < target:
        removed = [round_removal(left, rate) for left, rate in zip(rounds[-1], rates)]
        if not any(removed):
            break
        rounds.append([left - gone for left, gone in zip(rounds[-1], removed)])
    return rounds
