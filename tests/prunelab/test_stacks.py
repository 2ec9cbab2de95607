"""prunelab/stacks.py: a stack of seeds trains, inits and evaluates as each model alone would."""
import pytest
import torch
from torch import nn

from prunelab import fit, stacks
from prunelab.model import Net
from tests.conftest import evaluate

FEATURES, HIDDEN, EPOCHS, LR = 6, 16, 6, 0.01
KEYS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


def make_data(features=FEATURES, samples=200):
    """Random features, labels from a noisy linear rule (float32, labels as a column)."""
    generator = torch.Generator().manual_seed(1234)
    x = torch.randn(samples, features, generator=generator)
    w = torch.randn(features, generator=generator)
    y = ((x @ w + 0.5 * torch.randn(samples, generator=generator)) > 0).float().view(-1, 1)
    return x, y


@pytest.fixture
def data():
    return make_data()


def seed_script_state(x, y, seed, hidden, epochs, lr):
    """The seed's loop (Linear -> ReLU -> Linear -> Sigmoid, BCELoss, full-batch Adam), as a state_dict."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid())
    criterion = nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    names = {"0.weight": "fc1.weight", "0.bias": "fc1.bias", "2.weight": "fc2.weight", "2.bias": "fc2.bias"}
    return {names[key]: value.detach() for key, value in model.state_dict().items()}


@pytest.mark.parametrize("features", [6, 25])
@pytest.mark.parametrize("seed", [0, 7])
def test_a_batch_of_one_trains_as_the_seed_script(seed, features):
    x, y = make_data(features)
    trained = fit.train(stacks.init_stack([seed], features, HIDDEN), x, y, EPOCHS, LR)
    reference = seed_script_state(x, y, seed, HIDDEN, EPOCHS, LR)
    for key in KEYS:
        assert trained[key].shape == (1, *reference[key].shape), key
        # Not bit for bit: with few input features (6 here, not 25) the batched matmul's weight
        # gradient rounds differently from nn.Linear's (an ulp at step one), so to float rounding.
        assert torch.allclose(trained[key][0], reference[key], rtol=0, atol=1e-6), key
    assert not torch.allclose(trained["fc1.weight"], stacks.init_stack([seed], features, HIDDEN)["fc1.weight"])


def test_each_model_of_a_batch_matches_its_seed_trained_alone(data):
    x, y = data
    seeds = [0, 1, 2, 5]
    batch = fit.train(stacks.init_stack(seeds, FEATURES, HIDDEN), x, y, EPOCHS, LR)
    for index, seed in enumerate(seeds):
        alone = seed_script_state(x, y, seed, HIDDEN, EPOCHS, LR)
        for key in KEYS:
            assert torch.allclose(batch[key][index], alone[key], atol=1e-5), (seed, key)
    # The models really are different: the batch is not one model repeated.
    assert not torch.allclose(batch["fc1.weight"][0], batch["fc1.weight"][1], atol=1e-3)


def test_init_stack_is_nets_init_after_manual_seed():
    seeds = [3, 0, 11]
    stack = stacks.init_stack(seeds, FEATURES, HIDDEN)
    assert list(stack) == list(KEYS)
    for index, seed in enumerate(seeds):
        torch.manual_seed(seed)
        state = Net(FEATURES, HIDDEN).state_dict()
        for key in KEYS:
            assert torch.equal(stack[key][index], state[key]), (seed, key)


def test_evaluate_equals_model_evaluate_of_each_net(data, monkeypatch):
    x, y = data
    seeds = [0, 1, 2]
    weights = fit.train(stacks.init_stack(seeds, FEATURES, HIDDEN), x, y, 3, LR)
    whole = stacks.evaluate(weights, x, y)
    # Chunks of 2 and 1 models, and of 64, 64, 64 and 8 samples: the same counts, the same sums.
    monkeypatch.setattr(stacks, "SAMPLES", 64)
    monkeypatch.setattr(stacks, "EVALUATION_BUDGET", 2 * 64 * HIDDEN)
    accuracies, losses = stacks.evaluate(weights, x, y)
    assert list(accuracies) == list(whole[0]) and losses == pytest.approx(whole[1], rel=1e-12)
    assert accuracies.dtype == losses.dtype == "float64" and len(accuracies) == len(losses) == 3
    for index in range(len(seeds)):
        model = Net(FEATURES, HIDDEN)
        model.load_state_dict(stacks.unstack(weights, index))
        accuracy, loss = evaluate(model, x, y)
        assert accuracies[index] == accuracy
        assert losses[index] == pytest.approx(loss, abs=1e-6)
    # A hand count for the first model: the accuracy is correct predictions / samples.
    model = Net(FEATURES, HIDDEN)
    model.load_state_dict(stacks.unstack(weights, 0))
    with torch.no_grad():
        correct = sum(int((p > 0.5) == (t == 1)) for p, t in zip(model(x).view(-1).tolist(), y.view(-1).tolist()))
    assert accuracies[0] == correct / len(y)


def test_masked_training_holds_pruned_weights_at_zero(data):
    x, y = data
    seeds = [0, 1]
    initial = stacks.init_stack(seeds, FEATURES, HIDDEN)
    generator = torch.Generator().manual_seed(99)
    masks = {key: torch.ones_like(value) for key, value in initial.items()}
    for key in ("fc1.weight", "fc2.weight"):
        masks[key] = (torch.rand(initial[key].shape, generator=generator) > 0.5).float()
    seen = []

    def check(epoch, weights):
        for key in KEYS:
            assert torch.all(weights[key][masks[key] == 0] == 0), (epoch, key)
        seen.append(epoch)

    final = fit.train(initial, x, y, EPOCHS, LR, masks=masks, after_epoch=check)
    assert seen == list(range(1, EPOCHS + 1))
    for key in ("fc1.weight", "fc2.weight"):
        pruned, kept = masks[key] == 0, masks[key] == 1
        assert pruned.any() and kept.any()
        assert torch.all(final[key][pruned] == 0), key
        # Initially nonzero at the pruned places, so the zeros above are the masks' doing.
        assert torch.all(initial[key][pruned] != 0), key
    # A surviving weight moves unless its gradient is zero throughout: fc1 weights and bias of
    # a hidden neuron whose outgoing weight is pruned get none. Every other surviving weight moved.
    live = masks["fc2.weight"][:, 0, :, None] == 1  # models x hidden x 1
    moved = final["fc1.weight"] != initial["fc1.weight"]
    kept = masks["fc1.weight"] == 1
    assert torch.all(moved[kept & live]) and not torch.any(moved[kept & ~live])
    assert torch.all(final["fc2.weight"][masks["fc2.weight"] == 1] != initial["fc2.weight"][masks["fc2.weight"] == 1])
    bias_moved = final["fc1.bias"] != initial["fc1.bias"]
    assert torch.all(bias_moved[live[..., 0]]) and not torch.any(bias_moved[~live[..., 0]])
    assert torch.all(final["fc2.bias"] != initial["fc2.bias"])
