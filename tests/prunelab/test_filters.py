"""prunelab/filters.py on real small nets (conv2 on 1x8x8, lenet5 on 1x16x16 and 1x20x20): the
scores are Li et al. 2017's L1 of each filter's kernel weights, computed here from the paper's
definition without the library; the filters removed are the lowest-scoring (ties: the lower
index first); the masks zero a removed filter's weights, its bias and the next layer's input
channels (conv -> conv and conv -> linear), written out by hand here; and the shrunk net gives
the masked net's outputs."""
import math

import pytest
import torch

from prunelab.architectures import ARCHITECTURES, shrink
from prunelab.filters import filter_masks, filter_scores, removed_units

# name, input shape, prunable layers input to output (the last is the output layer), and the
# columns of the next layer that one unit of each non-output layer feeds (conv -> linear: h * w).
NETS = {
    "conv2-8": ("conv2", (1, 8, 8), ["conv1", "conv2", "fc1", "fc2", "fc3"], [1, 16, 1, 1]),    # 8 -> pool -> 4x4
    "lenet5-16": ("lenet5", (1, 16, 16), ["conv1", "conv2", "fc1", "fc2"], [1, 1, 1]),          # 16-12-6-2-1
    "lenet5-20": ("lenet5", (1, 20, 20), ["conv1", "conv2", "fc1", "fc2"], [1, 4, 1]),          # 20-16-8-4-2
}


def built(case, seed=0):
    name, shape, _, _ = NETS[case]
    torch.manual_seed(seed)
    net = ARCHITECTURES[name].build(shape, 10)
    return net, {key: value.clone() for key, value in net.state_dict().items()}


def paper_scores(state, names):
    """Li et al.: s_j = sum |F_j|, the filter's kernel weights (c_in x k_h x k_w), bias not
    included; a hidden linear layer's neuron: its incoming row. One exact float sum per unit."""
    return {layer: torch.tensor([math.fsum(abs(v) for v in state[f"{layer}.weight"][j].reshape(-1).tolist())
                                 for j in range(state[f"{layer}.weight"].shape[0])], dtype=torch.float64)
            for layer in names[:-1]}


def lowest(scores, count):
    """The `count` lowest of a layer's scores, ties by the lower index: a sort by (score, index)."""
    return set(sorted(range(len(scores)), key=lambda j: (scores[j].item(), j))[:count])


def with_boundary_ties(state, names, fraction):
    """Each non-output layer's last unit removed at `fraction` gets the weights of its first unit
    kept (a copy): the two tie exactly at the cut. Returns the pairs (removed, kept) before."""
    pairs = {}
    scores = paper_scores(state, names)
    for layer in names[:-1]:
        weight = state[f"{layer}.weight"]
        count = removed_units(weight.shape[0], fraction)
        order = sorted(range(weight.shape[0]), key=lambda j: (scores[layer][j].item(), j))
        a, b = order[count - 1], order[count]
        weight[a] = weight[b].clone()
        pairs[layer] = (a, b)
    return pairs


def hand_masks(state, names, spans, removed):
    """The masks written out: a removed unit's row (filter) and bias, and the next layer's input
    columns it fed (span columns per unit, channel-major after a flatten), are 0."""
    masks = {key: torch.ones_like(value) for key, value in state.items()}
    for index, layer in enumerate(names[:-1]):
        following, span = names[index + 1], spans[index]
        for j in removed[layer]:
            masks[f"{layer}.weight"][j] = 0
            masks[f"{layer}.bias"][j] = 0
            masks[f"{following}.weight"][:, j * span:(j + 1) * span] = 0
    return masks


@pytest.mark.parametrize("case", list(NETS))
def test_scores_are_the_l1_of_each_filters_kernel_weights(case):
    net, state = built(case)
    names = NETS[case][2]
    with_boundary_ties(state, names, 0.5)
    scores = filter_scores(net, state)
    assert list(scores) == names[:-1]
    for layer, expected in paper_scores(state, names).items():
        weight = state[f"{layer}.weight"]
        dims = (1, 2, 3) if weight.dim() == 4 else (1,)
        assert scores[layer].dtype == torch.float64 and scores[layer].shape == (weight.shape[0],)
        # torch's own float64 sum over the kernel dims: the same bits; the exact sum: to float64 rounding.
        assert torch.equal(scores[layer], weight.double().abs().sum(dim=dims))
        torch.testing.assert_close(scores[layer], expected, rtol=1e-13, atol=0)
        # and to float32 rounding, torch's plain float32 abs().sum
        torch.testing.assert_close(scores[layer], weight.abs().sum(dim=dims).double(), rtol=1e-5, atol=0)
    # The bias and the next layer's weights do not count: changing them changes no score.
    state["conv1.bias"] += 10
    state["conv2.weight"][:, 0] += 10
    assert torch.equal(filter_scores(net, state)["conv1"], scores["conv1"])


@pytest.mark.parametrize("case", list(NETS))
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.72])
def test_the_lowest_go_with_ties_to_the_lower_index_and_the_masks_are_the_filters_and_what_they_feed(case, fraction):
    net, state = built(case, seed=1)
    _, _, names, spans = NETS[case]
    pairs = with_boundary_ties(state, names, fraction)
    original = {key: value.clone() for key, value in state.items()}
    masks, keep = filter_masks(net, state, fraction)
    assert all(torch.equal(state[key], original[key]) for key in state)  # the state is not changed
    scores = paper_scores(state, names)
    removed = {}
    for layer in names[:-1]:
        count = len(scores[layer])
        removed[layer] = lowest(scores[layer], round(fraction * count))
        assert keep[layer].dtype == torch.bool and keep[layer].shape == (count,)
        assert set((~keep[layer]).nonzero().reshape(-1).tolist()) == removed[layer]
        a, b = pairs[layer]
        assert scores[layer][a] == scores[layer][b]  # the tie is exact
        assert (min(a, b) in removed[layer]) and (max(a, b) not in removed[layer])
    assert set(masks) == set(state)
    expected = hand_masks(state, names, spans, removed)
    for key in state:
        assert masks[key].dtype == torch.float32
        assert torch.equal(masks[key], expected[key]), key
    # Both boundaries: conv1 -> conv2 (an input channel) and conv2 -> fc1 (span columns each).
    j = min(removed["conv2"])
    span = spans[1]
    assert not masks["fc1.weight"][:, j * span:(j + 1) * span].any()
    assert not masks["conv2.weight"][:, min(removed["conv1"])].any()


@pytest.mark.parametrize("case", list(NETS))
@pytest.mark.parametrize("fraction", [0.25, 0.6, 1.0])
def test_the_shrunk_net_gives_the_masked_nets_outputs(case, fraction):
    net, state = built(case, seed=2)
    _, shape, names, _ = NETS[case]
    with_boundary_ties(state, names, 0.5)
    masks, keep = filter_masks(net, state, fraction)
    masked = {key: value * masks[key] for key, value in state.items()}
    small, small_state = shrink(net, state, keep)
    # Shrinking the masked state gives the same tensors: what the masks zero is what shrink cuts.
    _, from_masked = shrink(net, masked, keep)
    assert all(torch.equal(small_state[key], from_masked[key]) for key in small_state)
    assert [small.get_submodule(layer).weight.shape[0] for layer in names[:-1]] == [int(k.sum()) for k in keep.values()]
    net.load_state_dict(masked)
    x = torch.randn(16, *shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full, out = net(x), small(x)
    assert full.abs().max() > 0
    # Not bit for bit in general: the smaller convs and GEMMs sum the same nonzero terms in
    # another order (a removed unit adds exact zeros). Seen (torch 2.13.0 CPU, 2 threads): max
    # differences 6e-9 to 1e-7 on outputs up to 0.07 to 0.24 at 0.25 and 0.6; exact at 1.0.
    torch.testing.assert_close(out, full, rtol=1e-5, atol=1e-6)
    # In float64 the same comparison holds to float64 rounding: only the order of the sums differs.
    with torch.no_grad():
        torch.testing.assert_close(small.double()(x.double()), net.double()(x.double()), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", list(NETS))
def test_fraction_zero_keeps_everything_and_one_keeps_one_per_layer(case):
    net, state = built(case, seed=3)
    names = NETS[case][2]
    masks, keep = filter_masks(net, state, 0.0)
    assert all(bool(k.all()) for k in keep.values())
    assert all(bool((mask == 1).all()) for mask in masks.values())
    small, _ = shrink(net, state, keep)
    assert all(torch.equal(small.state_dict()[key], value) for key, value in state.items())
    with_boundary_ties(state, names, 0.5)
    scores = paper_scores(state, names)
    for fraction in (0.999, 1.0):
        masks, keep = filter_masks(net, state, fraction)
        for layer in names[:-1]:
            # the one kept is the highest score (of a tie, the higher index: the last in stable order)
            best = max(range(len(scores[layer])), key=lambda j: (scores[layer][j].item(), j))
            assert (keep[layer]).nonzero().reshape(-1).tolist() == [best]
            assert int(masks[f"{layer}.bias"].sum()) == 1
        assert bool((masks[f"{names[-1]}.bias"] == 1).all())  # the output layer's units are never pruned


def test_removed_units_rounds_half_to_even_and_keeps_one():
    assert [removed_units(10, f) for f in (0.0, 0.04, 0.05, 0.15, 0.25, 0.5, 0.95, 0.96, 1.0)] == \
        [0, 0, 0, 2, 2, 5, 9, 9, 9]
    assert removed_units(1, 1.0) == 0
    assert removed_units(64, 0.5) == 32 and removed_units(20, 0.125) == 2  # 2.5 -> 2


def test_a_fraction_outside_zero_to_one_is_refused():
    net, state = built("lenet5-16")
    for fraction in (-0.1, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            filter_masks(net, state, fraction)
