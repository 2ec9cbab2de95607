"""Any depth, any class count, across prunelab: a three-layer hand-made model pruned by every
method, global magnitude against torch on a deeper net, softmax stacks against solo runs,
costs and shrinking of a deeper net."""
import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from prunelab import costs, fit, pruning, stacks
from prunelab.model import Net, layer_names
from tests.conftest import SeedNet

T = torch.tensor


def three_layers():
    """Net(2, [3, 2], 2): 16 weights of distinct magnitudes; sorted: 0.04 (fc2) 0.06 (fc3) 0.1 (fc1)
    0.2 (fc2) 0.3 (fc1) 0.5 (fc1) 0.6 (fc2) 0.7 (fc2) 0.8 (fc3) 0.9 (fc1) 1.0 1.1 1.2 1.4 1.5 1.6."""
    return {"fc1.weight": T([[0.1, -1.2], [0.5, 0.9], [-1.6, 0.3]]), "fc1.bias": T([0.1, -0.2, 0.3]),
            "fc2.weight": T([[0.2, -0.7, 1.0], [1.4, 0.04, -0.6]]), "fc2.bias": T([0.0, 0.5]),
            "fc3.weight": T([[-0.8, 1.1], [0.06, -1.5]]), "fc3.bias": T([0.2, -0.1])}


EXPECTED = {  # weight masks of fc1, fc2, fc3 at levels 0.25 and 0.5
    "global-magnitude": [  # 0.04 0.06 0.1 0.2 | then 0.3 0.5 0.6 0.7
        (T([[0, 1], [1, 1], [1, 1]]), T([[0, 1, 1], [1, 0, 1]]), T([[1, 1], [0, 1]])),
        (T([[0, 1], [0, 1], [1, 0]]), T([[0, 0, 1], [1, 0, 0]]), T([[1, 1], [0, 1]]))],
    "layerwise-magnitude": [  # per layer round(a * n): fc1 2 | 3, fc2 2 | 3, fc3 1 | 2
        (T([[0, 1], [1, 1], [1, 0]]), T([[0, 1, 1], [1, 0, 1]]), T([[1, 1], [0, 1]])),
        (T([[0, 1], [0, 1], [1, 0]]), T([[0, 1, 1], [1, 0, 0]]), T([[0, 1], [0, 1]]))],
}


@pytest.mark.parametrize("method", list(EXPECTED))
def test_magnitude_methods_on_three_layers_remove_the_hand_picked_weights(method):
    masks = pruning.METHODS[method](three_layers(), [0.25, 0.5], np.random.default_rng(0))
    for level, expected in enumerate(EXPECTED[method]):
        for layer, mask in zip(("fc1", "fc2", "fc3"), expected):
            assert torch.equal(masks[f"{layer}.weight"][level], mask.float()), (level, layer)
            assert torch.equal(masks[f"{layer}.bias"][level], torch.ones_like(three_layers()[f"{layer}.bias"]))


@pytest.mark.parametrize("method, pooled", [("global-random", True), ("layerwise-random", False)])
def test_random_methods_on_three_layers_remove_the_lowest_draws(method, pooled):
    """The draws, layer by layer from input to output, ranked pooled or within each layer."""
    masks = pruning.METHODS[method](three_layers(), [0.25, 0.5], np.random.default_rng(7))
    rng = np.random.default_rng(7)
    draws = {layer: rng.random(three_layers()[f"{layer}.weight"].shape) for layer in ("fc1", "fc2", "fc3")}
    for level, amount in enumerate([0.25, 0.5]):
        groups = [list(draws)] if pooled else [[layer] for layer in draws]
        for group in groups:
            pooled_draws = np.concatenate([draws[layer].ravel() for layer in group])
            cut = np.sort(pooled_draws)[round(amount * len(pooled_draws))]
            for layer in group:
                expected = torch.from_numpy((draws[layer] >= cut).astype(np.float32))
                assert torch.equal(masks[f"{layer}.weight"][level], expected), (level, layer)


def test_structured_removes_the_neurons_of_every_hidden_layer():
    # fc1's neurons, squared norms of row + column in fc2: n0 3.45, n1 1.5516, n2 4.01;
    # fc2's, row + column in fc3: m0 2.1736, m1 5.7816. Level 0.34 removes n1 and m0; 0.5 also n0.
    masks = pruning.structured(three_layers(), [0.34, 0.5], None)
    for level, (first, second) in enumerate([([1, 0, 1], [0, 1]), ([0, 0, 1], [0, 1])]):
        first, second = T(first, dtype=torch.float32), T(second, dtype=torch.float32)
        assert torch.equal(masks["fc1.weight"][level], first[:, None].expand(3, 2))
        assert torch.equal(masks["fc1.bias"][level], first)
        assert torch.equal(masks["fc2.weight"][level], second[:, None] * first[None, :])
        assert torch.equal(masks["fc2.bias"][level], second)
        assert torch.equal(masks["fc3.weight"][level], second[None, :].expand(2, 2))
        assert torch.equal(masks["fc3.bias"][level], torch.ones(2))


def deep_distinct(seed=0, widths=(10, 20, 15, 8, 3)):
    """Net(10, [20, 15, 8], 3) with every weight magnitude distinct (k / n, signs kept)."""
    torch.manual_seed(seed)
    state = {key: value.detach().clone() for key, value in Net(widths[0], list(widths[1:-1]), widths[-1]).state_dict().items()}
    total = sum(state[f"{layer}.weight"].numel() for layer in layer_names(state))
    magnitudes, start = (torch.randperm(total) + 1).float() / total, 0
    for layer in layer_names(state):
        weight = state[f"{layer}.weight"]
        state[f"{layer}.weight"] = weight.sign() * magnitudes[start:start + weight.numel()].reshape(weight.shape)
        start += weight.numel()
    return state


@pytest.mark.parametrize("amount", [0.1, 0.5, 0.8, 0.95, 0.99])
def test_global_magnitude_on_four_layers_is_torchs_global_unstructured(amount):
    state = deep_distinct()
    model = Net(10, [20, 15, 8], 3)
    model.load_state_dict(state)
    layers = [getattr(model, name) for name in layer_names(state)]
    prune.global_unstructured([(layer, "weight") for layer in layers], prune.L1Unstructured, amount=amount)
    masks = pruning.global_magnitude(state, [amount], None)
    for name, layer in zip(layer_names(state), layers):
        assert torch.equal(masks[f"{name}.weight"][0], layer.weight_mask), name


def test_layer_names_are_the_modules_layers_in_order_not_parsed_names():
    """Net's ten layers: fc10 after fc9 (by definition order; sorted text would put it after
    fc1); a conv net's and a nested module's: their record's layers, names as torch gives them."""
    from prunelab.architectures import ARCHITECTURES, layers
    assert layer_names(Net(3, [2] * 9, 1).state_dict()) == [f"fc{index}" for index in range(1, 11)]
    lenet = ARCHITECTURES["lenet5"].build((1, 28, 28), 10)
    assert layer_names(lenet.state_dict()) == [layer.name for layer in layers(lenet)] == ["conv1", "conv2", "fc1", "fc2"]
    nested = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU()), torch.nn.Flatten(),
                                 torch.nn.Linear(2, 2))
    assert layer_names(nested.state_dict()) == ["0.0", "2"]


def softmax_data(features=5, samples=150, classes=3):
    generator = torch.Generator().manual_seed(99)
    x = torch.randn(samples, features, generator=generator)
    y = (x @ torch.randn(features, classes, generator=generator)).argmax(dim=1).float().view(-1, 1)
    return x, y


def solo(x, y, seed, hidden, outputs, epochs=6, lr=0.01):
    """One Net trained alone by a plain loop: CrossEntropyLoss on logits, or BCELoss on the sigmoid."""
    torch.manual_seed(seed)
    model = Net(x.shape[1], hidden, outputs)
    criterion, target = (nn.BCELoss(), y) if outputs == 1 else (nn.CrossEntropyLoss(), y.view(-1).long())
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        criterion(model(x), target).backward()
        optimizer.step()
    return model


@pytest.mark.parametrize("hidden, outputs", [([12], 3), ([12, 7], 3), ([12, 7], 1), ([6, 5, 4], 3)])
def test_a_stack_of_any_depth_and_class_count_trains_as_each_seed_alone(hidden, outputs):
    x, y = softmax_data()
    if outputs == 1:
        y = (y > 0).float()
    seeds = [0, 3, 8]
    stack = fit.train(stacks.init_stack(seeds, x.shape[1], hidden, outputs), x, y, 6, 0.01)
    accuracies, losses = stacks.evaluate(stack, x, y)
    for index, seed in enumerate(seeds):
        model = solo(x, y, seed, hidden, outputs)
        for key, value in model.state_dict().items():
            assert torch.allclose(stack[key][index], value, rtol=0, atol=1e-6), key
        with torch.no_grad():
            out = model(x)
        if outputs == 1:
            accuracy = ((out > 0.5).float() == y).sum().item() / len(y)
        else:
            accuracy = (out.argmax(dim=1) == y.view(-1).long()).sum().item() / len(y)
            assert losses[index] == pytest.approx(nn.functional.cross_entropy(out, y.view(-1).long()).item(), abs=1e-6)
        assert accuracies[index] == pytest.approx(accuracy, abs=1e-9)
    assert stacks.architecture(stack) == (5, hidden, outputs)


def test_costs_and_shrink_cover_every_layer_of_a_deeper_net():
    state = three_layers()
    state["fc1.weight"] = state["fc1.weight"] * T([[1.0], [0.0], [1.0]])  # fc1 neuron 1: no inputs, bias -0.2
    state["fc3.weight"] = state["fc3.weight"] * T([[0.0, 1.0], [0.0, 1.0]])  # fc2 neuron 0: no outgoing weight
    row = costs.report(state)
    assert [row[f"fc{index}_nonzero_weights"] for index in (1, 2, 3)] == [4, 6, 2]
    assert row["fc3_empty"] == 0 and row["fc3_sparsity"] == 0.5
    assert row["macs"] == 12 and row["speedup"] == 16 / 12
    small = pruning.shrink(state)
    assert {key: tuple(value.shape) for key, value in small.items()} == {
        "fc1.weight": (2, 2), "fc1.bias": (2,), "fc2.weight": (1, 2), "fc2.bias": (1,),
        "fc3.weight": (2, 1), "fc3.bias": (2,)}
    assert row["hidden_width"] == 3
    x = torch.randn(9, 2)
    full, narrow = Net(2, [3, 2], 2), Net(2, [2, 1], 2)
    full.load_state_dict(state)
    narrow.load_state_dict(small)
    with torch.no_grad():
        assert torch.allclose(full(x), narrow(x), atol=1e-6)


def test_the_default_checkpoint_loads_into_the_seeds_net():
    torch.manual_seed(5)
    ours = Net(25, [256]).state_dict()
    torch.manual_seed(5)
    seeds = SeedNet(25, 256, 1).state_dict()
    assert list(ours) == list(seeds) and all(torch.equal(ours[key], seeds[key]) for key in seeds)
