"""`structured` on a conv net (prunelab/pruning.py, scores.neuron_norms): whole filters and
hidden neurons, each scored by the L2 norm of its incoming and outgoing weights, against an
implementation written here from that definition; and the shrunk net equals the masked one."""
import numpy as np
import torch

from prunelab import autograd_fit
from prunelab.architectures import ARCHITECTURES, shrink, units
from prunelab.pruning import METHODS

SHAPE = (1, 28, 28)  # conv2 leaves 4 x 4 positions a channel: 16 fc1 columns per filter


def trained_lenet_on_a_grid():
    """LeNet-5 trained a little, then every weight put on a 1/32 grid (so every sum of squares
    below is exact in float32 and float64 alike) and conv2's filter 7 made a copy of filter 3
    (a tie, which the lower index wins)."""
    torch.manual_seed(0)
    module = ARCHITECTURES["lenet5"].build(SHAPE, 10)
    generator = torch.Generator().manual_seed(1)
    x, y = torch.randn(64, *SHAPE, generator=generator), torch.randint(0, 10, (64, 1), generator=generator).float()
    state = autograd_fit.train(module, x, y, 1, 0.01, batch_size=16).weights
    state = {key: torch.round(value * 32) / 32 for key, value in state.items()}
    state["conv2.weight"][7], state["conv2.bias"][7] = state["conv2.weight"][3], state["conv2.bias"][3]
    state["fc1.weight"][:, 7 * 16:8 * 16] = state["fc1.weight"][:, 3 * 16:4 * 16]
    return module, state


def reference_masks(state, amount):
    """From the definition: per layer but the last, unit j's score is sqrt(sum of its incoming
    weights squared + sum of the next layer's weights that read it, squared); round(amount x
    units) of the lowest go (ties: the lower index first); a removed unit's weights, bias and
    the next layer's inputs from it are 0."""
    names = ["conv1", "conv2", "fc1", "fc2"]
    masks = {key: np.ones(value.shape) for key, value in state.items()}
    for layer, following in zip(names, names[1:]):
        weight = state[f"{layer}.weight"].double().numpy()
        after = state[f"{following}.weight"].double().numpy()
        count = weight.shape[0]
        span = after.shape[1] // count
        scores = [np.sqrt((weight[j] ** 2).sum() + (after[:, j * span:(j + 1) * span] ** 2).sum()) for j in range(count)]
        order = sorted(range(count), key=lambda j: (scores[j], j))
        for j in order[:round(amount * count)]:
            masks[f"{layer}.weight"][j] = 0
            masks[f"{layer}.bias"][j] = 0
            masks[f"{following}.weight"][:, j * span:(j + 1) * span] = 0
    return masks


def test_structured_removes_the_filters_and_neurons_the_definition_removes():
    _, state = trained_lenet_on_a_grid()
    amounts = [0.3, 0.5, 0.9]
    masks = METHODS["structured"](state, amounts, None)
    for level, amount in enumerate(amounts):
        expected = reference_masks(state, amount)
        for key, value in expected.items():
            assert np.array_equal(masks[key][level].numpy(), value), (amount, key)
    assert int(masks["conv2.bias"][0].sum()) == 35  # 15 of 50 filters go at 0.3
    from prunelab.scores import neuron_norms
    norms = neuron_norms(state)
    assert norms["conv2"][3] == norms["conv2"][7] and len(norms["conv2"].unique()) < 50  # ties (one made, one on the grid)


def test_the_shrunk_conv_net_equals_the_masked_one():
    module, state = trained_lenet_on_a_grid()
    masks = {key: value[0] for key, value in METHODS["structured"](state, [0.5], None).items()}
    masked = {key: value * masks[key] for key, value in state.items()}
    keep = {group.layer: masks[f"{group.layer}.bias"] != 0 for group in units(module)}
    small, small_state = shrink(module, masked, keep)
    assert small_state["conv1.weight"].shape[0] == 10 and small_state["conv2.weight"].shape[:2] == (25, 10)
    assert small_state["fc1.weight"].shape == (250, 25 * 16)
    module.load_state_dict(masked)
    x = torch.randn(9, *SHAPE, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(small(x), module(x), atol=1e-5)
