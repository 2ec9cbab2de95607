"""Every unstructured method on a conv net (LeNet-5: conv kernels and linear weights alike)
against the paper's definition in tests/prunelab/paper_reference.py, on trained weights with
ties: one-shot at three levels, then two Frankle & Carbin rounds from the last one-shot mask.
Gradients by autograd through the plain torch module. The random methods: ERK's per-layer
counts against RigL's ERK-kernel allocation, the others' counts."""
import numpy as np
import pytest
import torch
from torch import nn

from prunelab import autograd_fit
from prunelab.architectures import ARCHITECTURES
from prunelab.pruning import METHODS
from tests.prunelab import paper_reference as ref

SHAPE, CLASSES, AMOUNTS, RATE, OUTPUT_RATE = (1, 16, 16), 10, [0.5, 0.8, 0.95], 0.2, 0.1
LAYERS = ("conv1", "conv2", "fc1", "fc2")
DEFINITIONS = {"global-magnitude": ("magnitude", True), "layerwise-magnitude": ("magnitude", False),
               "lamp": ("lamp", True), "global-gradient": ("saliency", True),
               "layerwise-gradient": ("saliency", False)}


@pytest.fixture(scope="module")
def trained():
    """LeNet-5 trained one epoch, its weights on a 1/32 grid (never 0), the data, and the mean
    loss gradient at those weights by loss.backward() through the plain module, full batch."""
    torch.manual_seed(0)
    module = ARCHITECTURES["lenet5"].build(SHAPE, CLASSES)
    generator = torch.Generator().manual_seed(2)
    x, y = torch.randn(96, *SHAPE, generator=generator), torch.randint(0, CLASSES, (96, 1), generator=generator).float()
    state = autograd_fit.train(module, x, y, 1, 0.01, batch_size=32).weights
    state = {key: torch.sign(value) * torch.ceil(value.abs() * 32) / 32 for key, value in state.items()}
    module.load_state_dict(state)
    nn.functional.cross_entropy(module(x), y.view(-1).long()).backward()
    gradient = {name: value.grad.detach().clone() for name, value in module.named_parameters()}
    return state, gradient


def test_the_weights_hold_ties(trained):
    state, _ = trained
    magnitudes = torch.cat([state[f"{layer}.weight"].abs().reshape(-1) for layer in LAYERS])
    assert len(torch.unique(magnitudes)) < len(magnitudes) / 10 and bool((magnitudes > 0).all())


def expected(name, state, gradient, counts, alive=None):
    kind, pooled = DEFINITIONS[name]
    scores = ref.saliency(state, gradient) if kind == "saliency" else getattr(ref, kind)(state)
    removed = ref.pooled_removed(scores, counts, alive) if pooled else ref.layer_removed(scores, counts, alive)
    return ref.masks_from_removed(state, removed)


def sizes(state):
    return {layer: state[f"{layer}.weight"].numel() for layer in LAYERS}


def assert_weight_masks(actual, wanted, where):
    for key, value in wanted.items():
        assert torch.equal(actual[key], value), (where, key, int((actual[key] != value).sum()))


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_one_shot_and_each_round_are_the_papers(trained, name):
    state, gradient = trained
    method, pooled = METHODS[name], DEFINITIONS[name][1]
    masks = method(state, AMOUNTS, None, gradient)
    for level, amount in enumerate(AMOUNTS):
        counts = round(amount * sum(sizes(state).values())) if pooled else \
            {layer: round(amount * size) for layer, size in sizes(state).items()}
        assert_weight_masks({key: value[level] for key, value in masks.items()},
                            expected(name, state, gradient, counts), amount)
    keep = {key: value[0] for key, value in masks.items()}  # rounds from the 50 % mask
    for number in (1, 2):
        alive = {layer: [bool(v) for v in ref.flat(keep[f"{layer}.weight"])] for layer in LAYERS}
        dead = {layer: values.count(False) for layer, values in alive.items()}
        live = {layer: values.count(True) for layer, values in alive.items()}
        counts = sum(dead.values()) + round(RATE * sum(live.values())) if pooled else \
            {layer: dead[layer] + round((OUTPUT_RATE if layer == "fc2" else RATE) * live[layer]) for layer in LAYERS}
        got = method.masks(state, [method.round_counts(state, keep, RATE, OUTPUT_RATE)], None, gradient, keep)
        keep = {key: value[0] for key, value in got.items()}
        assert_weight_masks(keep, expected(name, state, gradient, counts, alive), f"round {number}")


def test_erk_keeps_ripls_erk_kernel_counts_one_shot_and_in_rounds(trained):
    state, _ = trained
    method, shapes = METHODS["erk-random"], [tuple(state[f"{layer}.weight"].shape) for layer in LAYERS]
    total = sum(sizes(state).values())
    masks = method(state, AMOUNTS, np.random.default_rng(0))
    for level, amount in enumerate(AMOUNTS):
        kept = [int(masks[f"{layer}.weight"][level].sum()) for layer in LAYERS]
        wanted = ref.erk_kernel_counts(shapes, total - round(amount * total))
        assert sum(kept) == total - round(amount * total)
        assert all(abs(k - w) <= 1 for k, w in zip(kept, wanted)), (amount, kept, wanted)
    keep = {key: value[0] for key, value in masks.items()}  # rounds from the 50 % mask
    for number in (1, 2):
        count = method.round_counts(state, keep, RATE, OUTPUT_RATE)
        assert count == total - sum(int(keep[f"{layer}.weight"].sum()) for layer in LAYERS) + \
            round(RATE * sum(int(keep[f"{layer}.weight"].sum()) for layer in LAYERS))
        got = method.masks(state, [count], np.random.default_rng(number), None, keep)
        assert all(torch.all(got[f"{layer}.weight"][0] <= keep[f"{layer}.weight"]) for layer in LAYERS)  # nested
        keep = {key: value[0] for key, value in got.items()}
        kept = [int(keep[f"{layer}.weight"].sum()) for layer in LAYERS]
        wanted = ref.erk_kernel_counts(shapes, total - count)
        assert sum(kept) == total - count and all(abs(k - w) <= 1 for k, w in zip(kept, wanted)), (number, kept, wanted)


@pytest.mark.parametrize("name, pooled", [("global-random", True), ("layerwise-random", False)])
def test_the_random_methods_remove_the_counts_of_their_definition(trained, name, pooled):
    state, _ = trained
    masks = METHODS[name](state, AMOUNTS, np.random.default_rng(1))
    for level, amount in enumerate(AMOUNTS):
        removed = {layer: int((masks[f"{layer}.weight"][level] == 0).sum()) for layer in LAYERS}
        if pooled:
            assert sum(removed.values()) == round(amount * sum(sizes(state).values()))
        else:
            assert removed == {layer: round(amount * size) for layer, size in sizes(state).items()}


def test_frankle_and_carbins_per_kind_rates_prune_conv_linear_and_output_layers_apart(trained):
    """Conv layers at 15 % a round (their Conv-6), linear at 20 %, the output at 10 %: each
    layer's survivors lose their kind's share, the lowest magnitudes first."""
    state, gradient = trained
    method = METHODS["layerwise-magnitude"]
    keep = {key: torch.ones_like(value) for key, value in state.items()}
    rates = {"conv1": 0.15, "conv2": 0.15, "fc1": 0.2, "fc2": 0.1}
    for number in (1, 2, 3):
        alive = {layer: [bool(v) for v in ref.flat(keep[f"{layer}.weight"])] for layer in LAYERS}
        counts = {layer: values.count(False) + round(rates[layer] * values.count(True)) for layer, values in alive.items()}
        got = method.round_counts(state, keep, 0.2, 0.1, conv_rate=0.15)
        assert got == counts
        keep = {key: value[0] for key, value in method.masks(state, [got], None, None, keep).items()}
        assert_weight_masks(keep, expected("layerwise-magnitude", state, gradient, counts, alive), f"round {number}")
    assert int(keep["conv2.weight"].sum()) == 25_000 - 3750 - 3188 - 2709  # 15 % of 25,000, then of the rest
