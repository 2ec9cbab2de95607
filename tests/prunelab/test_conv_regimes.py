"""Every regime on a conv net (LeNet-5 on 1x16x16), through prunelab.sweep_setup's `build`:
training, gradients and fresh initialisations by prunelab.net_stacks. Each result holds its
masks, removes what its method and level ask, and gives the same bytes on 1 and 2 workers."""
import pytest
import torch

from prunelab import compute, controls, net_stacks, stacks
from prunelab.architectures import ARCHITECTURES
from prunelab.pruning import METHODS
from prunelab.regimes import REGIMES
from prunelab.rounds import RoundRows
from prunelab.sweep_setup import Gradual, Rounds, SweepSetup, Training

SHAPE, CLASSES, SEEDS, AMOUNTS = (1, 16, 16), 3, [0, 1], [0.0, 0.5, 0.8]
LAYERS = ("conv1", "conv2", "fc1", "fc2")


def build():
    return ARCHITECTURES["lenet5"].build(SHAPE, CLASSES)


@pytest.fixture(scope="module")
def setup():
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(48, *SHAPE, generator=generator)
    y = torch.randint(0, CLASSES, (48, 1), generator=generator).float()
    template, initial = net_stacks.init(ARCHITECTURES["lenet5"], SEEDS, SHAPE, CLASSES)
    trained = net_stacks.train(template, initial, x, y, 2, 0.01, order_seeds=SEEDS, batch_size=16)
    return SweepSetup(trained, SEEDS, [list(AMOUNTS)] * 2, x, y, finetune=Training(1, 0.01), retrain=Training(2, 0.01),
                      random_seed=3, batch_size=16, rounds=Rounds(0.5, 0.25), gradual=Gradual(2, 1), build=build)


def weights(state):
    return sum(state[f"{layer}.weight"].numel() for layer in LAYERS)


def zeros(state):
    return sum(int((state[f"{layer}.weight"] == 0).sum()) for layer in LAYERS)


@pytest.mark.parametrize("method", ["global-magnitude", "lamp", "global-gradient", "erk-random"])
@pytest.mark.parametrize("regime", ["one-shot", "fine-tune", "gradual", "lottery-one-shot"])
def test_each_level_removes_its_weights_and_keeps_them_removed(setup, regime, method):
    results = REGIMES[regime](setup, METHODS[method])
    masks = setup.one_shot(METHODS[method])
    for name, stack in results.items():
        assert stacks.size(stack) == len(SEEDS) * len(AMOUNTS), name
        for index in range(stacks.size(stack)):
            state = stacks.unstack(stack, index)
            amount = AMOUNTS[index % len(AMOUNTS)]
            assert all(torch.isfinite(value).all() for value in state.values())
            # Every removed weight stays 0; a kept one may be 0 only by chance, so at least the count.
            assert zeros(state) >= round(amount * weights(state)), (name, index)
            if regime != "gradual":  # gradual's masks are its own, not the one-shot's
                held = {key: value[index] for key, value in masks.items()}
                assert all(torch.all(state[key][held[key] == 0] == 0) for key in held), (name, index)
            else:
                assert zeros(state) == round(amount * weights(state)), (name, index)


@pytest.mark.parametrize("regime", ["iterative", "lottery-ticket", "lr-rewind"])
@pytest.mark.parametrize("method", ["layerwise-magnitude", "structured"])
def test_rounds_remove_more_each_round_and_hold_what_they_removed(setup, regime, method):
    rows = REGIMES[regime](setup, METHODS[method])
    assert isinstance(rows[regime], RoundRows) and rows[regime].count >= 3
    removed = rows[regime].removed
    assert removed[0] == 0 and all(later > earlier for earlier, later in zip(removed, removed[1:]))
    per_seed = rows[regime].count
    for seed in range(len(SEEDS)):
        states = [stacks.unstack(rows[regime].weights, seed * per_seed + number) for number in range(per_seed)]
        for earlier, later in zip(states, states[1:]):
            for layer in LAYERS:  # masks nest: what a round removed stays 0 in every later round
                assert torch.all(later[f"{layer}.weight"][earlier[f"{layer}.weight"] == 0] == 0), layer
    if regime == "lottery-ticket":
        assert stacks.size(rows["lottery-reinit"].weights) == len(SEEDS) * per_seed


def test_the_dense_control_trains_the_trained_nets_on(setup):
    control = controls.dense_control(setup, setup.finetune, [0, 1, 2])
    assert stacks.size(control) == 6
    assert torch.equal(control["fc1.weight"][0], setup.trained["fc1.weight"][0])
    assert not torch.equal(control["fc1.weight"][1], control["fc1.weight"][2])


def test_a_fresh_initialisation_is_the_plain_build_of_its_seed(setup):
    fresh = setup.initial([7])
    torch.manual_seed(7)
    assert all(torch.equal(fresh[key][0], value) for key, value in build().state_dict().items())


def test_regimes_on_a_conv_net_give_the_same_bytes_on_one_worker_and_two(setup):
    found = []
    for count in (1, 2):
        compute.set_workers(count)
        try:
            gradual = REGIMES["gradual"](setup, METHODS["global-gradient"])["gradual"]
            rounds = REGIMES["iterative"](setup, METHODS["lamp"])["iterative"].weights
        finally:
            compute.set_workers(compute.workers_from_environment())
        found.append([value.numpy().tobytes() for stack in (gradual, rounds) for value in stack.values()])
    assert found[0] == found[1]


def test_rounds_at_per_kind_rates_report_the_fraction_their_masks_remove(setup):
    """Frankle & Carbin's per-kind rates (conv layers at their own rate): each round's reported
    fraction removed is what its masks removed (the schedule once took the linear rate for conv
    layers too, so the rows' amounts disagreed with their masks)."""
    import dataclasses
    per_kind = dataclasses.replace(setup, rounds=Rounds(0.5, 0.25, conv_rate=0.1))
    rows = REGIMES["iterative"](per_kind, METHODS["layerwise-magnitude"])["iterative"]
    assert rows.count >= 3
    for number, fraction in enumerate(rows.removed):
        state = stacks.unstack(rows.weights, number)  # the first seed's rounds lead the stack
        assert zeros(state) == round(fraction * weights(state)), number
    conv = sum(stacks.unstack(rows.weights, 1)[f"{layer}.weight"].numel() for layer in ("conv1", "conv2"))
    conv_zeros = sum(int((stacks.unstack(rows.weights, 1)[f"{layer}.weight"] == 0).sum()) for layer in ("conv1", "conv2"))
    assert abs(conv_zeros / conv - 0.1) < 0.01  # round 1: the conv layers at their own rate
