"""The regimes that prune in rounds (iterative, lottery-ticket as IMP with its control,
lr-rewind) and gradual pruning: each round's or update's removals, each round equal to the
training it stands for, and every new method and regime stacked = solo, 1 worker = 2."""
import dataclasses

import pytest
import torch
from torch.ao.pruning.scheduler.cubic_scheduler import CubicSL

from prunelab import compute, fit, stacks
from prunelab.pruning import METHODS
from prunelab.regimes import REGIMES
from prunelab.rounds import RoundRows
from prunelab.sweep_setup import Gradual, Rounds, SweepSetup, Training
from tests.prunelab import paper_reference as ref

SEEDS, AMOUNTS, FEATURES, HIDDEN = [0, 1, 2], [0.0, 0.5, 0.8], 6, [16]
WEIGHTS = ("fc1.weight", "fc2.weight")
NEW_METHODS = ["lamp", "global-gradient", "layerwise-gradient", "erk-random"]
ROUND_REGIMES = ["iterative", "lottery-ticket", "lr-rewind"]


def make_setup(seeds=SEEDS, **options):
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(200, FEATURES, generator=generator)
    y = ((x[:, 0] - x[:, 1] * x[:, 2] + 0.3 * torch.randn(200, generator=generator)) > 0).float().view(-1, 1)
    trained = fit.train(stacks.init_stack(seeds, FEATURES, HIDDEN), x, y, 12, 0.01, order_seeds=seeds)
    values = dict(finetune=Training(2, 0.01), retrain=Training(12, 0.01), random_seed=4,
                  rounds=Rounds(0.3, 0.15, 0), gradual=Gradual(3, 1), batch_size=0)
    values.update(options)
    return SweepSetup(trained, list(seeds), [list(AMOUNTS) for _ in seeds], x, y, **values)


@pytest.fixture(scope="module")
def setup():
    return make_setup()


def model(result, seed_index, index):
    count = result.count if isinstance(result, RoundRows) else len(AMOUNTS)
    weights = result.weights if isinstance(result, RoundRows) else result
    return stacks.unstack(weights, seed_index * count + index)


def masks_of(state):
    return {key: (value != 0).float() for key, value in state.items()}


def removed(state, keys=WEIGHTS):
    return {key: int((state[key] == 0).sum()) for key in keys}


# Frankle & Carbin's rounds written out (rate 0.3, the output layer at 0.15, until 80 % is gone),
# each round removing round(rate * survivors), Python's round (halves to even: 0.3 * 55 = 16.5 -> 16):
# pooled, 112 -> 112 - round(33.6) = 78 -> 55 -> 39 -> 27 -> 19 (93/112 >= 0.8);
# per layer, fc1 96 -> 96 - round(28.8) = 67 -> 47 -> 33 -> 23 -> 16 -> 11 and
# fc2 16 -> 16 - round(2.4) = 14 -> 12 -> 10 -> 10 - round(1.5) = 8 -> 7 -> 6 (95/112 >= 0.8).
POOLED_LEFT = [[112], [78], [55], [39], [27], [19]]
LAYER_LEFT = [[96, 16], [67, 14], [47, 12], [33, 10], [23, 8], [16, 7], [11, 6]]
SHAPES = [(16, FEATURES), (1, 16)]


def test_the_written_out_rounds_are_the_papers_rule():
    assert ref.frankle_carbin_left([112], [0.3], 0.8) == POOLED_LEFT
    assert ref.frankle_carbin_left([96, 16], [0.3, 0.15], 0.8) == LAYER_LEFT


@pytest.mark.parametrize("name", ["global-magnitude", "layerwise-magnitude", "lamp", "layerwise-gradient",
                                  "erk-random"])
def test_iterative_rounds_remove_the_rate_of_the_survivors_and_nest(setup, name):
    result = REGIMES["iterative"](setup, METHODS[name])["iterative"]
    pooled = name not in ("layerwise-magnitude", "layerwise-gradient")
    left = POOLED_LEFT if pooled else LAYER_LEFT
    assert result.count == len(left) and result.removed[-1] >= max(AMOUNTS) > result.removed[-2]
    for index in range(len(SEEDS)):
        previous = None
        for number in range(result.count):
            state = model(result, index, number)
            gone = removed(state)
            kept = [96 - gone["fc1.weight"], 16 - gone["fc2.weight"]]
            if pooled:
                assert sum(kept) == left[number][0], (index, number)
            else:  # 30 % of each layer's survivors, 15 % of the output layer's
                assert kept == left[number], (index, number)
            if name == "erk-random":  # each round's survivors shared out by RigL's ERK, to one weight
                expected = ref.erk_counts(SHAPES, sum(kept))
                assert all(abs(got - want) <= 1 for got, want in zip(kept, expected)), (index, number, kept, expected)
            if previous is not None:
                assert all(torch.all((state[key] == 0)[previous[key] == 0]) for key in WEIGHTS)
            previous = state
    assert result.removed == [(112 - sum(counts)) / 112 for counts in left]


@pytest.mark.parametrize("regime, start, training", [("iterative", "previous", "finetune"),
                                                      ("lr-rewind", "previous", "retrain"),
                                                      ("lottery-ticket", "initial", "retrain")])
def test_each_round_is_the_training_it_stands_for(setup, regime, start, training):
    """Round r of a seed, trained alone from what the regime starts from under round r's mask."""
    result = REGIMES[regime](setup, METHODS["global-magnitude"])[regime]
    initial = stacks.init_stack(SEEDS, FEATURES, HIDDEN)
    for index, seed in enumerate(SEEDS):
        for number in (1, result.count - 1):
            mask = masks_of(model(result, index, number))
            # Round 0 of iterative and lr-rewind is the trained model itself.
            origin = stacks.unstack(initial, index) if start == "initial" else model(result, index, number - 1)
            schedule_of = getattr(setup, training)
            alone = fit.train(stacks.apply(stacks.stack([origin]), stacks.stack([mask])), setup.x_train, setup.y_train,
                              schedule_of.epochs, schedule_of.lr, stacks.stack([mask]), order_seeds=[seed])
            for key in WEIGHTS:
                assert torch.equal(alone[key][0], model(result, index, number)[key]), (seed, number, key)


def test_imp_round_zero_is_the_dense_retrain_and_the_control_shares_every_mask(setup):
    result = REGIMES["lottery-ticket"](setup, METHODS["global-magnitude"])
    assert sorted(result) == ["lottery-reinit", "lottery-ticket"]
    ticket, control = result["lottery-ticket"], result["lottery-reinit"]
    assert ticket.removed == control.removed
    for index in range(len(SEEDS)):
        assert all(torch.equal(value, model(REGIMES["iterative"](setup, METHODS["global-magnitude"])["iterative"],
                                            index, 0)[key]) for key, value in stacks.unstack(setup.trained, index).items())
        dense = model(ticket, index, 0)
        for key, value in stacks.unstack(setup.trained, index).items():
            assert torch.allclose(dense[key], value, atol=1e-5), key  # retrained from its init, as train did
        for number in range(ticket.count):
            mine, theirs = masks_of(model(ticket, index, number)), masks_of(model(control, index, number))
            assert all(torch.equal(mine[key], theirs[key]) for key in WEIGHTS), number
        assert not torch.allclose(model(ticket, index, 2)["fc1.weight"], model(control, index, 2)["fc1.weight"], atol=1e-3)


def test_imp_rewinds_to_the_weights_after_rewind_epoch_epochs():
    setup = make_setup(rounds=Rounds(0.3, 0.15, 3))
    result = REGIMES["lottery-ticket"](setup, METHODS["layerwise-magnitude"])["lottery-ticket"]
    early = fit.train(stacks.init_stack(SEEDS, FEATURES, HIDDEN), setup.x_train, setup.y_train, 3, 0.01,
                      order_seeds=SEEDS)
    index, number = 1, 2
    mask = stacks.stack([masks_of(model(result, index, number))])
    alone = fit.train(stacks.apply(stacks.part(early, index, index + 1), mask), setup.x_train, setup.y_train, 12, 0.01,
                      mask, order_seeds=[SEEDS[index]])
    for key in WEIGHTS:
        assert torch.equal(alone[key][0], model(result, index, number)[key]), key


def spy_on_gradual(setup, method):
    """Run gradual, recording every update's masks: (step, model index) -> {weight key: True where removed}."""
    seen = {}
    original = SweepSetup.train

    def train(self, weights, masks, schedule_of, description, every=0, hook=None):
        def spy(step, params, first):
            new = hook(step, params, first)
            for offset in range(stacks.size(params)):
                seen[step, first + offset] = {key: (new[key][offset] == 0).cpu() for key in WEIGHTS}
            return new
        return original(self, weights, masks, schedule_of, description, every=every, hook=spy)

    patched = dataclasses.replace(setup)
    patched.train = train.__get__(patched)
    return patched, seen


@pytest.mark.parametrize("name, every", [("global-magnitude", 1), ("lamp", 2), ("global-gradient", 1)])
def test_gradual_sparsity_after_each_update_is_torch_ao_cubic(name, every):
    setup = make_setup(gradual=Gradual(6, every))
    patched, seen = spy_on_gradual(setup, METHODS[name])
    result = REGIMES["gradual"](patched, METHODS[name])["gradual"]
    n = 6 // every
    assert sorted({step for step, _ in seen}) == [every * k for k in range(1, n + 1)]
    for (step, index), gone in seen.items():
        count = sum(int(value.sum()) for value in gone.values())
        amount = AMOUNTS[index % len(AMOUNTS)]
        assert count == round(CubicSL.sparsity_compute_fn(0.0, amount, step, 0, every, n) * 112), (step, index)
    for index in range(stacks.size(result)):
        assert sum(removed(stacks.unstack(result, index)).values()) == round(AMOUNTS[index % len(AMOUNTS)] * 112)


# Gradual(3, 1), full batch: updates at steps 1, 2, 3 to round(s_t * n), s_t = a - a (1 - t/3)^3
# (Zhu & Gupta): for a = 0.5, s_t = 0.352, 0.481, 0.5; for a = 0.8, 0.563, 0.770, 0.8. Per level,
# per update: [fc1 of 96, fc2 of 16] removed layer by layer, and of the 112 pooled.
GRADUAL_LAYERS = {0.0: [[0, 0], [0, 0], [0, 0]], 0.5: [[34, 6], [46, 8], [48, 8]], 0.8: [[54, 9], [74, 12], [77, 13]]}
GRADUAL_POOLED = {0.0: [0, 0, 0], 0.5: [39, 54, 56], 0.8: [63, 86, 90]}


@pytest.mark.parametrize("name", ["global-random", "layerwise-random"])
def test_gradual_masks_only_grow_and_the_weights_train(setup, name):
    patched, seen = spy_on_gradual(setup, METHODS[name])
    result = REGIMES["gradual"](patched, METHODS[name])["gradual"]
    assert sorted({step for step, _ in seen}) == [1, 2, 3]
    for index in range(stacks.size(result)):
        amount = AMOUNTS[index % len(AMOUNTS)]
        previous = None
        for update, step in enumerate((1, 2, 3)):
            gone = seen[step, index]
            counts = [int(gone[key].sum()) for key in WEIGHTS]
            if METHODS[name].pooled:
                assert sum(counts) == GRADUAL_POOLED[amount][update], (index, step, counts)
            else:
                assert counts == GRADUAL_LAYERS[amount][update], (index, step, counts)
            if previous is not None:  # this update's pruned set holds the last one's
                assert all(torch.all(gone[key][previous[key]]) for key in WEIGHTS), (index, step)
            previous = gone
        final = stacks.unstack(result, index)
        trained = stacks.unstack(setup.trained, index // len(AMOUNTS))  # seed-major, levels inner
        for key in WEIGHTS:
            assert torch.equal(final[key] == 0, previous[key]), (index, key)  # the last update's mask is the result's
            assert not torch.equal(final[key][~previous[key]], trained[key][~previous[key]]), (index, key)  # trained


def results_of(setup, regime, name):
    out = REGIMES[regime](setup, METHODS[name])
    return {key: (value.weights if isinstance(value, RoundRows) else value) for key, value in out.items()}


CASES = [(regime, name) for regime in ["gradual", *ROUND_REGIMES, "lottery-one-shot"]
         for name in ["global-magnitude", *NEW_METHODS]]


@pytest.mark.parametrize("regime, name", CASES)
def test_a_seed_in_the_batched_stack_is_its_solo_run(setup, regime, name):
    together = results_of(setup, regime, name)
    index = 2
    alone = results_of(make_setup(seeds=[SEEDS[index]]), regime, name)
    for result, weights in together.items():
        per_seed = stacks.size(weights) // len(SEEDS)
        for key in weights:
            assert torch.equal(weights[key][index * per_seed:(index + 1) * per_seed], alone[result][key]), (result, key)


@pytest.fixture
def restore_workers():
    before = compute.workers()
    yield
    compute.set_workers(before)


@pytest.mark.parametrize("regime", ["gradual", *ROUND_REGIMES])
def test_new_regimes_give_the_same_bytes_with_one_and_two_workers(setup, regime, restore_workers):
    runs = []
    for count in (1, 2):
        compute.set_workers(count)
        runs.append({name: results_of(setup, regime, name) for name in ("lamp", "global-gradient", "erk-random")})
    for name in runs[0]:
        for result in runs[0][name]:
            for key, value in runs[0][name][result].items():
                assert torch.equal(value, runs[1][name][result][key]), (name, result, key)
