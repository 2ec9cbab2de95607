"""prunelab/pruning.py: every method's masks against hand-written ones and torch's own pruning,
nesting and reproducibility, the amount <-> threshold conversion, and shrinking to a narrower Net."""
import numpy as np
import pytest
import torch
from torch.nn.utils import prune

from prunelab import pruning
from prunelab.model import Net
from stages.schema import HIGH_AMOUNTS, SEED_AMOUNTS

SWEEP = SEED_AMOUNTS + HIGH_AMOUNTS
UNSTRUCTURED = ["global-magnitude", "layerwise-magnitude", "global-random", "layerwise-random"]


def hand_state():
    """Net(3, 4) with 16 distinct weight magnitudes; sorted: 0.02 0.05 0.08 0.1 0.15 0.2 0.25 0.3
    0.4 0.5 0.7 0.9 1.1 1.3 1.6 1.7. Neuron 3 has a small row but a big outgoing weight."""
    return {"fc1.weight": torch.tensor([[0.1, -0.9, 1.3], [-0.2, 0.5, -1.7], [0.3, -0.05, 0.7], [-1.1, 0.15, 0.4]]),
            "fc1.bias": torch.tensor([0.1, -0.2, 0.3, 0.0]),
            "fc2.weight": torch.tensor([[0.25, -0.02, 0.08, -1.6]]),
            "fc2.bias": torch.tensor([0.5])}


def trained_like(seed=0):
    """Net(25, 256) from torch.manual_seed(seed), its 6656 weight magnitudes made distinct (the
    init's float32 draws tie a few times): a random permutation of k/6656, signs kept."""
    torch.manual_seed(seed)
    state = {key: value.detach().clone() for key, value in Net(25, 256).state_dict().items()}
    magnitudes = (torch.randperm(6656) + 1).float() / 6656
    state["fc1.weight"] = state["fc1.weight"].sign() * magnitudes[:6400].reshape(256, 25)
    state["fc2.weight"] = state["fc2.weight"].sign() * magnitudes[6400:].reshape(1, 256)
    return state


def masked(state, masks, level):
    return {key: value * masks[key][level] for key, value in state.items()}


def outputs(state, x):
    model = Net(x.shape[1], state["fc1.weight"].shape[0])
    model.load_state_dict(state)
    with torch.no_grad():
        return model(x)


T = torch.tensor
# Hand-derived weight masks at levels 0.25 (4 of 16 weights; 3 of fc1's 12 and 1 of fc2's 4 per layer)
# and 0.5 (8 of 16; 6 of fc1, 2 of fc2).
EXPECTED = {
    "global-magnitude": [  # 0.02 0.05 0.08 0.1 | then 0.15 0.2 0.25 0.3
        (T([[0, 1, 1], [1, 1, 1], [1, 0, 1], [1, 1, 1]]), T([[1, 0, 0, 1]])),
        (T([[0, 1, 1], [0, 1, 1], [0, 0, 1], [1, 0, 1]]), T([[0, 0, 0, 1]]))],
    "layerwise-magnitude": [  # fc1: 0.05 0.1 0.15 | 0.2 0.3 0.4; fc2: 0.02 | 0.08
        (T([[0, 1, 1], [1, 1, 1], [1, 0, 1], [1, 0, 1]]), T([[1, 0, 1, 1]])),
        (T([[0, 1, 1], [0, 1, 1], [0, 0, 1], [1, 0, 0]]), T([[1, 0, 0, 1]]))],
}


@pytest.mark.parametrize("method", list(EXPECTED))
def test_magnitude_methods_remove_the_hand_picked_weights(method):
    masks = pruning.METHODS[method](hand_state(), [0.25, 0.5], np.random.default_rng(0))
    for level, (fc1, fc2) in enumerate(EXPECTED[method]):
        assert torch.equal(masks["fc1.weight"][level], fc1.float())
        assert torch.equal(masks["fc2.weight"][level], fc2.float())
        assert torch.equal(masks["fc1.bias"][level], torch.ones(4))
        assert torch.equal(masks["fc2.bias"][level], torch.ones(1))


def test_structured_removes_neurons_by_joint_l2_norm():
    # Squared norms of row + column: n0 2.5725, n1 3.1804, n2 0.5889, n3 3.9525 -> order n2 n0 n1 n3.
    # (Incoming rows alone would rank n3 second; L1 norms would rank n1 second.)
    masks = pruning.structured(hand_state(), [0.25, 0.5, 0.75], None)
    for level, keep in enumerate([[1, 1, 0, 1], [0, 1, 0, 1], [0, 0, 0, 1]]):
        keep = torch.tensor(keep, dtype=torch.float32)
        assert torch.equal(masks["fc1.weight"][level], keep[:, None].expand(4, 3))
        assert torch.equal(masks["fc1.bias"][level], keep)
        assert torch.equal(masks["fc2.weight"][level], keep[None, :])
        assert torch.equal(masks["fc2.bias"][level], torch.ones(1))


@pytest.mark.parametrize("method", ["global-random", "layerwise-random"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_methods_remove_round_a_n_weights_and_no_bias(method, seed):
    amounts = [0.3, 0.6, 0.99]
    masks = pruning.METHODS[method](hand_state(), amounts, np.random.default_rng(seed))
    for level, amount in enumerate(amounts):
        removed = {layer: int((masks[f"{layer}.weight"][level] == 0).sum()) for layer in ("fc1", "fc2")}
        if method == "global-random":
            assert removed["fc1"] + removed["fc2"] == round(amount * 16)
        else:
            assert removed == {"fc1": round(amount * 12), "fc2": round(amount * 4)}
        assert bool((masks["fc1.bias"][level] == 1).all()) and bool((masks["fc2.bias"][level] == 1).all())


@pytest.mark.parametrize("method", UNSTRUCTURED)
def test_unstructured_masks_are_0_1_and_leave_biases_whole(method):
    state = trained_like()
    masks = pruning.METHODS[method](state, SWEEP, np.random.default_rng(0))
    for key in ("fc1.weight", "fc2.weight"):
        assert set(masks[key].unique().tolist()) <= {0.0, 1.0}
    assert bool((masks["fc1.bias"] == 1).all()) and bool((masks["fc2.bias"] == 1).all())


def test_global_magnitude_equals_torch_global_l1_at_every_sweep_level():
    state = trained_like()
    magnitudes = pruning.pooled_magnitudes(state)
    assert len(magnitudes.unique()) == len(magnitudes)  # no ties, so the mask is unique
    masks = pruning.global_magnitude(state, SWEEP, None)
    for level, amount in enumerate(SWEEP):
        model = Net(25, 256)
        model.load_state_dict(state)
        prune.global_unstructured([(model.fc1, "weight"), (model.fc2, "weight")],
                                  pruning_method=prune.L1Unstructured, amount=amount)
        assert torch.equal(masks["fc1.weight"][level], model.fc1.weight_mask), amount
        assert torch.equal(masks["fc2.weight"][level], model.fc2.weight_mask), amount


@pytest.mark.parametrize("method", ["global-random", "layerwise-random"])
def test_random_pruning_is_reproducible_from_its_seed(method):
    state, run = trained_like(), pruning.METHODS[method]
    first = run(state, SWEEP, np.random.default_rng(7))
    again = run(state, SWEEP, np.random.default_rng(7))
    other = run(state, SWEEP, np.random.default_rng(8))
    assert all(torch.equal(first[key], again[key]) for key in state)
    assert not torch.equal(first["fc1.weight"], other["fc1.weight"])


@pytest.mark.parametrize("method", list(pruning.METHODS))
def test_masks_nest_across_levels_one_per_level(method):
    state = trained_like()
    gradient = {key: torch.randn(value.shape, generator=torch.Generator().manual_seed(9)) for key, value in state.items()}
    masks = pruning.METHODS[method](state, SWEEP, np.random.default_rng(3), gradient)
    assert sorted(masks) == sorted(state)
    for key, value in state.items():
        assert masks[key].shape == (len(SWEEP), *value.shape)
        assert bool((masks[key][1:] <= masks[key][:-1]).all()), key  # SWEEP is ascending
    kept = [int(sum(masks[key][level].sum() for key in ("fc1.weight", "fc2.weight"))) for level in range(len(SWEEP))]
    assert kept[0] > kept[-1]  # the levels do differ


def test_amount_for_threshold_is_the_fraction_strictly_below():
    state = hand_state()
    assert pruning.amount_for_threshold(state, 0.0) == 0.0
    assert pruning.amount_for_threshold(state, 0.12) == 4 / 16  # 0.02 0.05 0.08 0.1
    assert pruning.amount_for_threshold(state, 0.1) == 3 / 16  # |w| = 0.1 itself is kept
    assert pruning.amount_for_threshold(state, 2.0) == 1.0


def test_threshold_for_amount_zero_is_zero():
    assert pruning.threshold_for_amount(hand_state(), 0.0) == 0.0
    assert pruning.threshold_for_amount(trained_like(), 0.0) == 0.0


@pytest.mark.parametrize("state", [hand_state(), trained_like()], ids=["hand", "net-25-256"])
def test_removing_below_threshold_for_amount_removes_round_a_n(state):
    magnitudes = pruning.pooled_magnitudes(state)
    for amount in SWEEP:
        threshold = pruning.threshold_for_amount(state, amount)
        assert int((magnitudes < threshold).sum()) == round(amount * len(magnitudes)), amount
        assert pruning.amount_for_threshold(state, threshold) == round(amount * len(magnitudes)) / len(magnitudes)


@pytest.mark.parametrize("amount", [0.25, 0.5, 0.75])
def test_shrink_after_structured_gives_a_narrower_equal_net(amount):
    state = trained_like()
    masks = pruning.structured(state, [amount], None)
    full = masked(state, masks, 0)
    small = pruning.shrink(full)
    width = 256 - round(amount * 256)
    assert small["fc1.weight"].shape == (width, 25) and small["fc2.weight"].shape == (1, width)
    x = torch.randn(64, 25, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(outputs(small, x), outputs(full, x), atol=1e-6)


def test_shrink_drops_neurons_with_zero_outgoing_weight_after_unstructured():
    state = hand_state()
    full = masked(state, pruning.global_magnitude(state, [0.5], None), 0)  # fc2 keeps only neuron 3
    small = pruning.shrink(full)
    assert torch.equal(small["fc1.weight"], full["fc1.weight"][3:4]) and small["fc2.weight"].shape == (1, 1)
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(outputs(small, x), outputs(full, x), atol=1e-6)

    big = trained_like()
    full = masked(big, pruning.global_magnitude(big, [0.9], None), 0)
    small = pruning.shrink(full)
    outgoing = int((full["fc2.weight"] != 0).sum())
    assert 0 < small["fc1.weight"].shape[0] <= outgoing < 256
    x = torch.randn(64, 25, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(outputs(small, x), outputs(full, x), atol=1e-6)


def test_shrink_keeps_a_neuron_fed_only_by_a_positive_bias():
    state = hand_state()
    state["fc1.weight"][0] = 0.0  # neuron 0: no input weights, bias 0.1 > 0: a constant relu(0.1) out
    state["fc1.weight"][1] = 0.0  # neuron 1: no input weights, bias -0.2: always 0, can go
    small = pruning.shrink(state)
    assert torch.equal(small["fc1.bias"], torch.tensor([0.1, 0.3, 0.0]))
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(4))
    assert torch.allclose(outputs(small, x), outputs(state, x), atol=1e-6)
