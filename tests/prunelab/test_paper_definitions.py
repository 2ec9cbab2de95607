"""Every method in every regime against the paper's definition, written in the test
(tests/prunelab/paper_reference.py, which imports nothing of prunelab's scoring or mask code),
on trained weights with exact ties put in: one-shot, each round of iterative and lottery-ticket,
each update of gradual. The random methods' masks need the same draws, so for those ERK's
per-layer counts are checked against RigL's allocation instead."""
import dataclasses

import pytest
import torch

from prunelab import fit, stacks
from prunelab.pruning import METHODS
from prunelab.regimes import REGIMES
from prunelab.sweep_setup import Gradual, Rounds, SweepSetup, Training
from tests.prunelab import paper_reference as ref

FEATURES, HIDDEN, AMOUNTS = 8, [20, 10], [0.0, 0.5, 0.8]
LAYERS = ("fc1", "fc2", "fc3")
SIZES = {"fc1": 160, "fc2": 200, "fc3": 10}
SHAPES = [(20, 8), (10, 20), (1, 10)]
RATE, OUTPUT_RATE = 0.3, 0.15
# Each method by its paper: the score, and whether it ranks all layers pooled.
DEFINITIONS = {"global-magnitude": ("magnitude", True), "layerwise-magnitude": ("magnitude", False),
               "lamp": ("lamp", True), "global-gradient": ("saliency", True),
               "layerwise-gradient": ("saliency", False), "structured": ("neurons", False)}


def tied(state):
    """The trained weights on a grid of 1/32 (never 0: |w| rounded up), and each hidden layer's
    neuron 1 a copy of neuron 0 (incoming, bias, outgoing): ties within and across layers, for
    weights and for neurons."""
    state = {key: (torch.sign(value) * torch.ceil(value.abs() * 32) / 32) for key, value in state.items()}
    for layer, following in zip(LAYERS, LAYERS[1:]):
        state[f"{layer}.weight"][1] = state[f"{layer}.weight"][0]
        state[f"{layer}.bias"][1] = state[f"{layer}.bias"][0]
        state[f"{following}.weight"][:, 1] = state[f"{following}.weight"][:, 0]
    return state


@pytest.fixture(scope="module")
def setup():
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(160, FEATURES, generator=generator)
    y = ((x[:, 0] - x[:, 1] * x[:, 2] + 0.3 * torch.randn(160, generator=generator)) > 0).float().view(-1, 1)
    trained = fit.train(stacks.init_stack([0], FEATURES, HIDDEN), x, y, 15, 0.01, order_seeds=[0])
    trained = stacks.stack([tied(stacks.unstack(trained, 0))])
    return SweepSetup(trained, [0], [list(AMOUNTS)], x, y, finetune=Training(2, 0.01), retrain=Training(4, 0.01),
                      random_seed=4, rounds=Rounds(RATE, OUTPUT_RATE, 0), gradual=Gradual(4, 1))


def test_the_trained_weights_hold_ties(setup):
    state = stacks.unstack(setup.trained, 0)
    magnitudes = torch.cat([state[f"{layer}.weight"].abs().reshape(-1) for layer in LAYERS])
    assert len(torch.unique(magnitudes)) < len(magnitudes) / 4 and bool((magnitudes > 0).all())
    norms = ref.neuron_scores(state)
    assert norms["fc1"][0] == norms["fc1"][1] and norms["fc2"][0] == norms["fc2"][1]


def expected_masks(name, state, x, y, counts, alive=None):
    """The paper's masks: `counts` is the pooled total or {layer: count}; `alive` the survivors."""
    kind, pooled = DEFINITIONS[name]
    if kind == "neurons":
        return ref.neuron_masks(state, ref.layer_removed(ref.neuron_scores(state), counts, alive))
    if kind == "saliency":
        scores = ref.saliency(state, ref.autograd_gradient(state, x, y))
    else:
        scores = getattr(ref, kind)(state)
    removed = ref.pooled_removed(scores, counts, alive) if pooled else ref.layer_removed(scores, counts, alive)
    return ref.masks_from_removed(state, removed)


def unit_sizes(name):
    return {"fc1": 20, "fc2": 10} if name == "structured" else dict(SIZES)


def alive_of(name, mask):
    """Per group, which units survive a mask: weights, or hidden neurons (their bias)."""
    if name == "structured":
        return {layer: [bool(v) for v in ref.flat(mask[f"{layer}.bias"])] for layer in ("fc1", "fc2")}
    return {layer: [bool(v) for v in ref.flat(mask[f"{layer}.weight"])] for layer in LAYERS}


def fraction_counts(name, amount):
    """round(a * n): of all weights pooled, or of each group."""
    if DEFINITIONS[name][1]:
        return round(amount * sum(SIZES.values()))
    return {layer: round(amount * size) for layer, size in unit_sizes(name).items()}


def round_counts(name, alive):
    """Frankle & Carbin: the dead stay dead, and p% of the survivors go (the output layer at its own rate)."""
    dead = {layer: values.count(False) for layer, values in alive.items()}
    live = {layer: values.count(True) for layer, values in alive.items()}
    if DEFINITIONS[name][1]:
        return sum(dead.values()) + round(RATE * sum(live.values()))
    return {layer: dead[layer] + round((OUTPUT_RATE if layer == "fc3" else RATE) * live[layer]) for layer in alive}


def assert_masks(actual, expected, where):
    for key, value in expected.items():
        if key.endswith("weight") or "bias" in key and not torch.all(value == 1):
            assert torch.equal(actual[key], value), (where, key, int((actual[key] != value).sum()))


def mask_of(state):
    return {key: (value != 0).float() for key, value in state.items()}


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_one_shot_masks_are_the_papers(setup, name):
    state = stacks.unstack(setup.trained, 0)
    actual = setup.one_shot(METHODS[name])
    for level, amount in enumerate(AMOUNTS):
        expected = expected_masks(name, state, setup.x_train, setup.y_train, fraction_counts(name, amount))
        assert_masks({key: value[level] for key, value in actual.items()}, expected, amount)


def round_rows(setup, regime, name):
    rows = REGIMES[regime](setup, METHODS[name])[regime]
    return [stacks.unstack(rows.weights, number) for number in range(rows.count)], rows.removed


@pytest.mark.parametrize("regime", ["iterative", "lottery-ticket"])
@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_each_round_prunes_the_papers_survivors_of_the_last_rounds_weights(setup, regime, name):
    states, removed = round_rows(setup, regime, name)
    pooled = DEFINITIONS[name][1]
    sizes = unit_sizes(name)
    groups = [sum(sizes.values())] if pooled else list(sizes.values())
    rates = [RATE] if pooled else [OUTPUT_RATE if layer == "fc3" else RATE for layer in sizes]
    left = ref.frankle_carbin_left(groups, rates, max(AMOUNTS))
    assert len(states) == len(left) >= 4
    mask = {key: torch.ones_like(value) for key, value in states[0].items()}
    for number in range(1, len(states)):
        # Round r's mask: the paper's, scored at round r-1's weights, from round r-1's survivors.
        expected = expected_masks(name, states[number - 1], setup.x_train, setup.y_train,
                                  round_counts(name, alive_of(name, mask)), alive_of(name, mask))
        mask = mask_of(states[number])
        assert_masks(mask, expected, number)
        kept = [sum(values) for values in alive_of(name, mask).values()]
        assert (kept if not pooled else [sum(kept)]) == left[number], number
    if name != "structured":
        assert removed == [(370 - sum(counts)) / 370 for counts in left]


def spy_gradual(setup, method):
    """Gradual with every update recorded: (step, model, the weights it scored, the masks it gave)."""
    seen = []
    original = SweepSetup.train

    def train(self, weights, masks, schedule_of, description, every=0, hook=None):
        def spy(step, params, first):
            before = {key: value.clone() for key, value in params.items()}
            new = hook(step, params, first)
            for offset in range(stacks.size(params)):
                seen.append((step, first + offset, stacks.unstack(before, offset),
                             {key: value[offset].clone() for key, value in new.items()}))
            return new
        return original(self, weights, masks, schedule_of, description, every=every, hook=spy)

    patched = dataclasses.replace(setup)
    patched.train = train.__get__(patched)
    return REGIMES["gradual"](patched, method)["gradual"], seen


def test_the_cubic_schedule_reaches_its_target_on_the_last_step():
    assert [ref.cubic(0.0, 0.8, t, 0, 4, 1) for t in (0, 2, 4, 5)] == [0.0, 0.8 - 0.8 * 0.125, 0.8, 0.8]


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_every_gradual_update_is_the_papers_mask_at_that_steps_weights(setup, name):
    _, seen = spy_gradual(setup, METHODS[name])
    updates = 4  # gradual_epochs 4, one full-batch step each, an update every step
    assert sorted({step for step, *_ in seen}) == [1, 2, 3, 4] and len(seen) == updates * len(AMOUNTS)
    held = {}
    for step, model, weights, actual in sorted(seen, key=lambda item: (item[1], item[0])):
        target = ref.cubic(0.0, AMOUNTS[model], step, 0, updates, 1)
        alive = alive_of(name, held[model]) if model in held else None
        expected = expected_masks(name, weights, setup.x_train, setup.y_train, fraction_counts(name, target), alive)
        assert_masks(actual, expected, (step, model))
        if model in held:  # masks only grow: what an update removed stays removed
            assert all(torch.all(actual[key][held[model][key] == 0] == 0) for key in actual)
        held[model] = actual


def erk_kept(mask):
    return [int(mask[f"{layer}.weight"].sum()) for layer in LAYERS]


def assert_erk(kept, where):
    """RigL's allocation at the same total, to the rounding of one weight per layer."""
    expected = ref.erk_counts(SHAPES, sum(kept))
    assert all(abs(got - want) <= 1 for got, want in zip(kept, expected)), (where, kept, [round(v, 2) for v in expected])


def test_erk_counts_are_rigls_one_shot_after_every_round_and_every_gradual_update(setup):
    method = METHODS["erk-random"]
    one_shot = setup.one_shot(method)
    for level, amount in enumerate(AMOUNTS):
        kept = erk_kept({key: value[level] for key, value in one_shot.items()})
        assert sum(kept) == 370 - round(amount * 370)
        assert_erk(kept, ("one-shot", amount))
    for regime in ("iterative", "lottery-ticket"):
        states, _ = round_rows(setup, regime, "erk-random")
        assert len(states) >= 4
        for number, state in enumerate(states):
            assert_erk(erk_kept(mask_of(state)), (regime, number))
    _, seen = spy_gradual(setup, method)
    for step, model, _, actual in seen:
        kept = erk_kept(actual)
        assert sum(kept) == 370 - round(ref.cubic(0.0, AMOUNTS[model], step, 0, 4, 1) * 370)
        assert_erk(kept, ("gradual", step, model))
    assert erk_kept(mask_of(stacks.unstack(REGIMES["one-shot"](setup, method)["one-shot"], 2)))[2] == 10  # fc3 dense


def test_erk_densities_of_conv_kernels_are_rigls_erk_kernel():
    """LeNet-5's tensors (conv kernels, then linear): prunelab's densities times each size are
    RigL's ERK-kernel counts."""
    from prunelab import scores
    shapes = [(20, 1, 5, 5), (50, 20, 5, 5), (500, 800), (10, 500)]
    sizes = [c_out * rest for c_out, *dims in shapes for rest in [__import__("math").prod(dims)]]
    for density in (0.5, 0.1, 0.03):
        kept = density * sum(sizes)
        got = [d * size for d, size in zip(scores.erk_densities(shapes, density), sizes)]
        assert got == pytest.approx(ref.erk_kernel_counts(shapes, kept), rel=1e-12)
    # At half the weights the small first conv and the output layer would pass 1: dense.
    assert [d == 1.0 for d in scores.erk_densities(shapes, 0.5)] == [True, False, False, True]
