"""The method records and the methods added with them: LAMP against a hand computation and the
official code's formula, |w * dL/dw| against autograd, ERK's densities, the output guard, and
the random streams that no function name decides."""
import dataclasses
import zlib

import numpy as np
import pytest
import torch
from torch import nn

from prunelab import fit, scores, stacks
from prunelab.model import Net
from prunelab.pruning import METHODS
from prunelab.sweep_setup import loss_gradient
from tests.prunelab.test_pruning import SWEEP, hand_state, trained_like

WEIGHTS = ("fc1.weight", "fc2.weight")


def lamp_official(weight):
    """jaeho-lee/layer-adaptive-sparsity, tools/pruners.py `_normalize_scores`, transcribed:
    squares sorted ascending, each divided by the sum of itself and all after it."""
    sorted_scores, sorted_idx = weight.view(-1).pow(2).sort(descending=False)
    scores_cumsum_temp = sorted_scores.cumsum(dim=0)
    scores_cumsum = torch.zeros(scores_cumsum_temp.shape, dtype=weight.dtype)
    scores_cumsum[1:] = scores_cumsum_temp[:len(scores_cumsum_temp) - 1]
    sorted_scores /= (weight.pow(2).sum() - scores_cumsum)
    new_scores = torch.zeros(scores_cumsum.shape, dtype=weight.dtype)
    new_scores[sorted_idx] = sorted_scores
    return new_scores.view(weight.shape)


def keep_highest(scores, amounts):
    """The test's own threshold, not prunelab's masks.rank / removed_count: at each level a the
    round(a * n) lowest scores go, ties to the earlier entry (numpy's stable argsort)."""
    flat = scores.detach().reshape(-1).numpy()
    order = np.argsort(flat, kind="stable")
    out = np.ones((len(amounts), len(flat)), dtype=np.float32)
    for level, amount in enumerate(amounts):
        out[level, order[:round(amount * len(flat))]] = 0.0
    return torch.from_numpy(out).reshape(len(amounts), *scores.shape)


def test_lamp_scores_by_hand():
    # fc2 = [0.25, -0.02, 0.08, -1.6]: squares 0.0625 0.0004 0.0064 2.56, ascending sums from each on:
    # 2.6293, 2.6289, 2.6225, 2.56.
    got = scores.lamp(hand_state())["fc2"]
    expected = torch.tensor([[0.0625 / 2.6225, 0.0004 / 2.6293, 0.0064 / 2.6289, 1.0]], dtype=torch.float64)
    assert torch.allclose(got, expected, rtol=1e-6, atol=0)  # the weights are float32


@pytest.mark.parametrize("state", [hand_state(), trained_like()], ids=["hand", "net-25-256"])
def test_lamp_scores_are_the_official_codes(state):
    got = scores.lamp(state)
    for layer in ("fc1", "fc2"):
        assert torch.allclose(got[layer], lamp_official(state[f"{layer}.weight"].double()), rtol=1e-10, atol=0)
        assert got[layer].max() == 1.0  # the largest weight of every layer scores 1


def test_lamp_ranks_the_official_scores_globally_and_keeps_every_layers_largest():
    state = trained_like()
    masks = METHODS["lamp"](state, SWEEP, None)
    official = torch.cat([lamp_official(state[key].double()).reshape(-1) for key in WEIGHTS])
    expected = keep_highest(official, SWEEP)
    assert torch.equal(torch.cat([masks[key].flatten(1) for key in WEIGHTS], dim=1), expected)
    extreme = METHODS["lamp"](state, [6654 / 6656], None)  # two weights left
    assert [int(extreme[key].sum()) for key in WEIGHTS] == [1, 1]
    # Global magnitude keeps the two largest |w| pooled; in trained_like both are fc1's, so fc2 keeps none.
    pooled = np.concatenate([state[key].abs().reshape(-1).numpy() for key in WEIGHTS])
    largest = np.argsort(pooled, kind="stable")[-2:]
    assert int((largest >= 6400).sum()) == 0
    assert int(METHODS["global-magnitude"](state, [6654 / 6656], None)["fc2.weight"].sum()) == 0


def autograd_gradient(state, x, y, rows_list):
    model = Net(x.shape[1], state["fc1.weight"].shape[0])
    model.load_state_dict(state)
    total = {name: torch.zeros_like(value) for name, value in model.named_parameters()}
    for rows in rows_list:
        model.zero_grad()
        nn.functional.binary_cross_entropy(model(x[rows]), y[rows]).backward()
        for name, value in model.named_parameters():
            total[name] += value.grad
    return {name: value / len(rows_list) for name, value in total.items()}


@pytest.mark.parametrize("batch_size", [0, 7])
def test_loss_gradient_is_autograds(batch_size):
    state = hand_state()
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(30, 3, generator=generator)
    y = (x[:, :1] > 0).float()
    got = loss_gradient(stacks.stack([state]), x, y, batch_size, [11])
    if batch_size:  # the mean over the minibatches of an epoch 0 in the model's order
        rows_list = [rows[0] for rows in fit.batches(30, batch_size, [11], 0)]
    else:
        rows_list = [slice(None)]
    reference = autograd_gradient(state, x, y, rows_list)
    for key, value in reference.items():
        assert torch.allclose(got[key][0], value, rtol=0, atol=1e-6), key
    assert float(reference["fc1.weight"].abs().sum()) > 0.01


@pytest.mark.parametrize("name, pooled", [("global-gradient", True), ("layerwise-gradient", False)])
def test_gradient_methods_rank_w_times_g(name, pooled):
    state = trained_like()
    gradient = {key: torch.randn(value.shape, generator=torch.Generator().manual_seed(4)) for key, value in state.items()}
    saliency = {key: (state[key] * gradient[key]).abs() for key in WEIGHTS}
    masks = METHODS[name](state, [0.3, 0.9], None, gradient)
    if pooled:
        expected = keep_highest(torch.cat([saliency[key].reshape(-1) for key in WEIGHTS]), [0.3, 0.9])
        assert torch.equal(torch.cat([masks[key].flatten(1) for key in WEIGHTS], dim=1), expected)
    else:
        for key in WEIGHTS:
            assert torch.equal(masks[key], keep_highest(saliency[key], [0.3, 0.9]))
    assert METHODS[name].needs == "gradient"


def lenet_state():
    torch.manual_seed(0)
    return {key: value.detach() for key, value in Net(784, [300, 100], 10).state_dict().items()}


def test_erk_densities_follow_rigl():
    shapes = [(300, 784), (100, 300), (10, 100)]
    densities = scores.erk_densities(shapes, 0.5)
    sizes = [a * b for a, b in shapes]
    assert sum(d * n for d, n in zip(densities, sizes)) == pytest.approx(0.5 * sum(sizes))
    assert densities[1:] == [1.0, 1.0]  # (n_in + n_out) / (n_in n_out) is largest for the small layers: capped
    low = scores.erk_densities(shapes, 0.01)
    raw = [(a + b) / (a * b) for a, b in shapes]
    assert low[0] / raw[0] == pytest.approx(low[1] / raw[1]) == pytest.approx(low[2] / raw[2])  # none capped


@pytest.mark.parametrize("amount", [0.5, 0.9, 0.99])
def test_erk_random_keeps_each_layer_at_its_erk_density_and_the_total_exactly(amount):
    state = lenet_state()
    masks = METHODS["erk-random"](state, [amount], np.random.default_rng(0))
    keys = ["fc1.weight", "fc2.weight", "fc3.weight"]
    kept = [int(masks[key].sum()) for key in keys]
    total = sum(state[key].numel() for key in keys)
    assert total - sum(kept) == round(amount * total)
    densities = scores.erk_densities([tuple(state[key].shape) for key in keys], 1 - round(amount * total) / total)
    for key, count, density in zip(keys, kept, densities):
        assert abs(count - density * state[key].numel()) <= 1, (key, count, density)
    assert bool((masks["fc1.bias"] == 1).all())


def test_erk_random_draws_from_its_generator():
    state = trained_like()
    first = METHODS["erk-random"](state, [0.5], np.random.default_rng(1))
    again = METHODS["erk-random"](state, [0.5], np.random.default_rng(1))
    other = METHODS["erk-random"](state, [0.5], np.random.default_rng(2))
    assert torch.equal(first["fc1.weight"], again["fc1.weight"])
    assert not torch.equal(first["fc1.weight"], other["fc1.weight"])
    assert int(first["fc1.weight"].sum()) == int(other["fc1.weight"].sum())  # the counts are ERK's, not drawn


def small_output_state():
    state = trained_like()
    state["fc2.weight"] = state["fc2.weight"] * 1e-3  # global magnitude would empty the output layer first
    return state


@pytest.mark.parametrize("name", ["global-magnitude", "lamp", "global-random", "erk-random", "layerwise-magnitude",
                                  "layerwise-random"])
@pytest.mark.parametrize("guard", [0.8, 0.5])
def test_the_output_guard_caps_the_last_layer_and_meets_the_total(name, guard):
    state = small_output_state()
    amounts = [0.1, 0.5, 0.9, 0.99]
    method = METHODS[name]
    free = method(state, amounts, np.random.default_rng(0))
    guarded = method(state, amounts, np.random.default_rng(0), max_output_sparsity=guard)
    for level, amount in enumerate(amounts):
        removed = {key: int((guarded[key][level] == 0).sum()) for key in WEIGHTS}
        before = {key: int((free[key][level] == 0).sum()) for key in WEIGHTS}
        # Capped, unless fc1 has nothing left to give.
        assert removed["fc2.weight"] <= max(int(guard * 256), sum(before.values()) - 6400)
        assert removed["fc2.weight"] == int(guard * 256) or removed["fc1.weight"] == 6400 or before == removed
        assert sum(removed.values()) == sum(before.values())  # the level's count is still met
        if before["fc2.weight"] <= int(guard * 256):
            assert all(torch.equal(guarded[key][level], free[key][level]) for key in WEIGHTS)
    assert int((free["fc2.weight"][-1] == 0).sum()) > int(guard * 256)  # the guard did bind at 0.99


def test_the_guarded_global_magnitude_takes_the_smallest_of_the_other_layers():
    state = small_output_state()
    guarded = METHODS["global-magnitude"](state, [0.9], None, max_output_sparsity=0.8)
    assert int((guarded["fc2.weight"][0] == 0).sum()) == 204  # floor(0.8 * 256)
    fc1 = round(0.9 * 6656) - 204
    assert torch.equal(guarded["fc1.weight"][0], keep_highest(state["fc1.weight"].abs(), [fc1 / 6400])[0])


def test_a_guard_of_one_is_no_guard():
    state = small_output_state()
    for name in ("global-magnitude", "layerwise-magnitude"):
        free = METHODS[name](state, SWEEP, None)
        same = METHODS[name](state, SWEEP, None, max_output_sparsity=1.0)
        assert all(torch.equal(free[key], same[key]) for key in state)


OLD_FUNCTIONS = {"global-magnitude": "global_magnitude", "layerwise-magnitude": "layerwise_magnitude",
                 "global-random": "global_random", "layerwise-random": "layerwise_random", "structured": "structured"}


def test_the_first_methods_keep_the_streams_their_function_names_gave():
    for name, function in OLD_FUNCTIONS.items():
        assert METHODS[name].stream == zlib.crc32(function.encode())
    streams = [method.stream for method in METHODS.values()]
    assert len(set(streams)) == len(streams)


def test_a_renamed_method_draws_the_same_numbers():
    from prunelab.sweep_setup import SweepSetup, Training
    state = trained_like()
    setup = SweepSetup(stacks.stack([state]), [0], [[0.3, 0.6]], torch.zeros(1, 25), torch.zeros(1, 1),
                       Training(1, 0.01), Training(1, 0.01), random_seed=2)
    method = METHODS["global-random"]
    renamed = dataclasses.replace(method, name="another-name", score=lambda *args: scores.uniform(*args))
    assert torch.equal(setup.masks(method, setup.trained)["fc1.weight"],
                       setup.masks(renamed, setup.trained)["fc1.weight"])


def test_records_say_how_they_rank_and_what_they_need():
    assert [name for name, method in METHODS.items() if method.pooled] == [
        "global-magnitude", "global-random", "lamp", "global-gradient", "erk-random"]
    assert [name for name, method in METHODS.items() if method.unit == "neurons"] == ["structured"]
    assert [name for name, method in METHODS.items() if method.needs == "gradient"] == [
        "global-gradient", "layerwise-gradient"]
