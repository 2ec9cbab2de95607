"""prunelab/regimes/: one-shot, fine-tune and the one-shot ticket stacks on a small setup; every regime's determinism."""

import numpy as np
import pytest
import torch

from prunelab import fit, stacks
from prunelab.pruning import METHODS
from prunelab.regimes import REGIMES
from prunelab.rounds import RoundRows
from prunelab.sweep_setup import SweepSetup, Training

one_shot, fine_tune, lottery_one_shot = (REGIMES[name] for name in ("one-shot", "fine-tune", "lottery-one-shot"))

SEEDS, AMOUNTS, FEATURES, HIDDEN = [0, 1, 2], [0.0, 0.5, 0.9], 6, 16
TRAIN_EPOCHS, TRAIN_LR, RANDOM_SEED = 15, 0.01, 4
WEIGHTS = ("fc1.weight", "fc2.weight")


def make_study():
    """A fresh setup: nothing cached (SweepSetup keeps each method's one-shot masks once computed)."""
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(200, FEATURES, generator=generator)
    y = ((x[:, 0] - x[:, 1] * x[:, 2] + 0.3 * torch.randn(200, generator=generator)) > 0).float().view(-1, 1)
    trained = fit.train(stacks.init_stack(SEEDS, FEATURES, HIDDEN), x, y, TRAIN_EPOCHS, TRAIN_LR)
    return SweepSetup(trained, SEEDS, [list(AMOUNTS) for _ in SEEDS], x, y, finetune=Training(3, 0.01),
                      retrain=Training(TRAIN_EPOCHS, TRAIN_LR), random_seed=RANDOM_SEED)


@pytest.fixture(scope="module")
def study():
    return make_study()


def model(weights, seed_index, level):
    """The plain state_dict of (seed, level) in a seed-major stack."""
    return stacks.unstack(weights, seed_index * len(AMOUNTS) + level)


def method_masks(study, name, seed_index):
    """The method's masks for one seed, called directly with the generator of that torch seed and method."""
    rng = np.random.default_rng([RANDOM_SEED, SEEDS[seed_index], METHODS[name].stream])
    return METHODS[name](stacks.unstack(study.trained, seed_index), AMOUNTS, rng)


def zeros(state):
    return {key: value == 0 for key, value in state.items()}


def removed_fraction(state):
    pruned = sum(int((state[key] == 0).sum()) for key in WEIGHTS)
    return pruned / sum(state[key].numel() for key in WEIGHTS)


@pytest.mark.parametrize("name", ["global-magnitude", "layerwise-random", "structured"])
def test_one_shot_is_trained_weights_times_masks_seed_major(study, name):
    result = one_shot(study, METHODS[name])
    assert list(result) == ["one-shot"]
    pruned = result["one-shot"]
    assert stacks.size(pruned) == len(SEEDS) * len(AMOUNTS)
    for index in range(len(SEEDS)):
        masks = method_masks(study, name, index)
        trained = stacks.unstack(study.trained, index)
        for level in range(len(AMOUNTS)):
            got = model(pruned, index, level)
            for key, value in trained.items():
                assert torch.equal(got[key], value * masks[key][level]), (index, level, key)


def test_one_shot_global_magnitude_drops_the_smallest_round_a_n_weights(study):
    pruned = one_shot(study, METHODS["global-magnitude"])["one-shot"]
    for index in range(len(SEEDS)):
        trained = stacks.unstack(study.trained, index)
        magnitudes = torch.cat([trained[key].abs().reshape(-1) for key in WEIGHTS])
        for level, amount in enumerate(AMOUNTS):
            got = model(pruned, index, level)
            kept = torch.cat([got[key].reshape(-1) != 0 for key in WEIGHTS])
            assert int((~kept).sum()) == round(amount * len(magnitudes))
            if 0 < amount:
                assert magnitudes[~kept].max() <= magnitudes[kept].min()
            assert torch.equal(got["fc1.bias"], trained["fc1.bias"])


@pytest.mark.parametrize("name", ["global-magnitude", "global-random"])
def test_fine_tune_keeps_pruned_weights_at_zero_and_moves_the_rest(study, name):
    shot = one_shot(study, METHODS[name])["one-shot"]
    tuned = fine_tune(study, METHODS[name])["fine-tune"]
    assert stacks.size(tuned) == stacks.size(shot)
    for key in WEIGHTS:
        # Survivors move, except where no gradient reaches (fc1 rows of a neuron whose fc2 weight is gone).
        kept = shot[key] != 0
        assert (tuned[key][kept] != shot[key][kept]).float().mean() > 0.5, key
    for index in range(stacks.size(shot)):
        before, after = stacks.unstack(shot, index), stacks.unstack(tuned, index)
        for key in WEIGHTS:
            assert torch.equal(after[key] == 0, before[key] == 0), (index, key)
        assert not torch.equal(after["fc2.bias"], before["fc2.bias"]), index  # every model was tuned
        total = sum(value.numel() for value in before.values())
        assert (sum(int(mask.sum()) for mask in zeros(after).values()) / total
                == sum(int(mask.sum()) for mask in zeros(before).values()) / total)


def test_one_shot_ticket_and_control_share_the_masks(study):
    result = lottery_one_shot(study, METHODS["global-magnitude"])
    assert sorted(result) == ["lottery-one-shot", "lottery-one-shot-reinit"]
    shot = one_shot(study, METHODS["global-magnitude"])["one-shot"]
    ticket, control = result["lottery-one-shot"], result["lottery-one-shot-reinit"]
    for index in range(stacks.size(shot)):
        expected = zeros(stacks.unstack(shot, index))
        for key in WEIGHTS:
            assert torch.equal(zeros(stacks.unstack(ticket, index))[key], expected[key]), (index, key)
            assert torch.equal(zeros(stacks.unstack(control, index))[key], expected[key]), (index, key)
    assert not torch.allclose(ticket["fc1.weight"], control["fc1.weight"], atol=1e-3)


def test_one_shot_ticket_at_amount_zero_is_the_plain_retrain(study):
    ticket = lottery_one_shot(study, METHODS["global-random"])["lottery-one-shot"]
    for index, seed in enumerate(SEEDS):
        dense = model(ticket, index, AMOUNTS.index(0.0))
        # Retrained from the initial weights of its torch seed as train did: the trained model (the study's training here).
        for key, value in stacks.unstack(study.trained, index).items():
            assert torch.allclose(dense[key], value, atol=1e-5), (seed, key)
        # And it is not the init: training happened.
        init = stacks.init_stack([seed], FEATURES, HIDDEN)
        assert not torch.allclose(dense["fc1.weight"], init["fc1.weight"][0], atol=1e-3)
        pruned = model(ticket, index, AMOUNTS.index(0.9))
        assert not torch.allclose(pruned["fc2.weight"], dense["fc2.weight"], atol=1e-3)


@pytest.mark.parametrize("regime", sorted(REGIMES))
def test_regimes_are_deterministic(regime):
    # Two fresh setups: on one, the second call would reuse the first's cached one-shot masks.
    first = REGIMES[regime](make_study(), METHODS["global-random"])
    second = REGIMES[regime](make_study(), METHODS["global-random"])
    assert list(first) == list(second)
    for name in first:
        one, two = (result.weights if isinstance(result, RoundRows) else result for result in (first[name], second[name]))
        for key in one:
            assert torch.equal(one[key], two[key]), (name, key)
