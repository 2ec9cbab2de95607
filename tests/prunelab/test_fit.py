"""prunelab/fit.py: the written-out backward pass and Adam train as torch's autograd and
torch.optim.Adam do; minibatches are seeded per model; a stacked model is its solo run, bit for bit."""
import numpy as np
import pytest
import torch
from torch import nn

from prunelab import fit, stacks

FEATURES, SAMPLES = 25, 301  # 301 = 2 x 128 + 45: the last minibatch is short, rows fall off vector widths


def make_data(classes=1, samples=SAMPLES, features=FEATURES):
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(samples, features, generator=generator)
    score = x[:, :3] @ torch.tensor([1.0, -2.0, 0.5])[:features]
    y = (score > 0).float() if classes == 1 else torch.bucketize(score, torch.tensor([-1.0, 1.0])).float()
    return x, y.view(-1, 1)


def autograd_run(initial, x, y, epochs, lr, batch_size, order_seed):
    """One model with nn.Linear layers, autograd and torch.optim.Adam, minibatches in fit's order."""
    names = sorted({key.split(".")[0] for key in initial}, key=lambda name: int(name[2:]))
    layers = []
    for name in names:
        layer = nn.Linear(initial[f"{name}.weight"].shape[1], initial[f"{name}.weight"].shape[0])
        layer.weight.data.copy_(initial[f"{name}.weight"])
        layer.bias.data.copy_(initial[f"{name}.bias"])
        layers += [layer, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(1, epochs + 1):
        for rows in fit.batches(len(x), batch_size, [order_seed], epoch):
            rows = slice(None) if rows is None else rows[0]
            out = model(x[rows])
            loss = (nn.functional.binary_cross_entropy(torch.sigmoid(out), y[rows]) if out.shape[1] == 1
                    else nn.functional.cross_entropy(out, y[rows].view(-1).long()))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {f"{name}.{kind}": getattr(model[2 * index], kind).detach() for index, name in enumerate(names)
            for kind in ("weight", "bias")}


def test_batches_are_each_models_own_seeded_permutation_every_epoch():
    first = fit.batches(10, 4, [3, 8], 1)
    assert [tuple(rows.shape) for rows in first] == [(2, 4), (2, 4), (2, 2)]
    orders = torch.cat(first, dim=1)
    for model, seed in enumerate([3, 8]):
        assert sorted(orders[model].tolist()) == list(range(10))
        assert orders[model].tolist() == np.random.default_rng([seed, 1]).permutation(10).tolist()
    assert not torch.equal(orders[0], orders[1])
    assert not torch.equal(orders, torch.cat(fit.batches(10, 4, [3, 8], 2), dim=1))  # reshuffled
    assert torch.equal(orders, torch.cat(fit.batches(10, 4, [3, 8], 1), dim=1))  # seeded
    assert fit.batches(10, 0, [3], 1) == [None] and fit.batches(10, 10, [3], 1) == [None]


@pytest.mark.parametrize("hidden, classes, batch_size, features", [
    ([16], 1, 0, FEATURES), ([16], 1, 128, FEATURES), ([12, 7], 1, 64, FEATURES), ([10], 3, 0, FEATURES),
    ([10], 3, 128, FEATURES), ([8], 1, 64, 1)])  # one feature: as wide as the labels
def test_training_equals_autograd_and_torch_adam(hidden, classes, batch_size, features):
    x, y = make_data(classes, features=features)
    initial = stacks.init_stack([4], features, hidden, 1 if classes == 1 else 3)
    trained = fit.train(initial, x, y, 6, 0.01, batch_size=batch_size, order_seeds=[4])
    reference = autograd_run(stacks.unstack(initial, 0), x, y, 6, 0.01, batch_size, 4)
    for key, value in reference.items():
        assert torch.allclose(trained[key][0], value, rtol=0, atol=2e-6), key
    assert not torch.allclose(trained["fc1.weight"], initial["fc1.weight"])


@pytest.mark.parametrize("hidden, classes, batch_size", [([16], 1, 0), ([16], 1, 128), ([10, 7], 1, 64),
                                                         ([10], 3, 128)])
def test_a_stacked_model_is_its_solo_run_bit_for_bit(hidden, classes, batch_size):
    x, y = make_data(3 if classes == 3 else 1)
    seeds = [0, 1, 2, 3, 4, 5]
    initial = stacks.init_stack(seeds, FEATURES, hidden, classes)
    together = fit.train(initial, x, y, 12, 0.01, batch_size=batch_size, order_seeds=seeds)
    assert fit.models_per_task(min(batch_size or SAMPLES, SAMPLES), sum(hidden), fit.ACTIVATION_BUDGET) >= 6
    for index in (0, 3, 5):
        alone = fit.train(stacks.part(initial, index, index + 1), x, y, 12, 0.01, batch_size=batch_size,
                          order_seeds=[seeds[index]])
        for key in initial:
            assert torch.equal(together[key][index], alone[key][0]), (index, key)


def test_minibatches_are_not_the_full_batch_and_are_seeded():
    x, y = make_data()
    initial = stacks.init_stack([0], FEATURES, [16])
    full = fit.train(initial, x, y, 3, 0.01)
    mini = fit.train(initial, x, y, 3, 0.01, batch_size=64, order_seeds=[0])
    again = fit.train(initial, x, y, 3, 0.01, batch_size=64, order_seeds=[0])
    other = fit.train(initial, x, y, 3, 0.01, batch_size=64, order_seeds=[1])
    assert torch.equal(mini["fc1.weight"], again["fc1.weight"])
    assert not torch.equal(mini["fc1.weight"], full["fc1.weight"])
    assert not torch.equal(mini["fc1.weight"], other["fc1.weight"])


def test_minibatch_masks_hold_pruned_weights_at_zero():
    x, y = make_data()
    initial = stacks.init_stack([0, 1], FEATURES, [16])
    masks = {key: (torch.rand(value.shape, generator=torch.Generator().manual_seed(2)) > 0.4).float()
             for key, value in initial.items()}
    trained = fit.train(stacks.apply(initial, masks), x, y, 3, 0.01, masks=masks, batch_size=50, order_seeds=[0, 1])
    for key in initial:
        assert torch.all(trained[key][masks[key] == 0] == 0), key
        assert torch.any(trained[key][masks[key] == 1] != initial[key][masks[key] == 1]), key


def test_adam_step_is_torch_optim_adam():
    generator = torch.Generator().manual_seed(0)
    params = [torch.randn(7, 5, generator=generator), torch.randn(3, generator=generator)]
    reference = [value.clone().requires_grad_(True) for value in params]
    optimizer = torch.optim.Adam(reference, lr=0.01)
    moments = ([torch.zeros_like(v) for v in params], [torch.zeros_like(v) for v in params])
    for step in range(1, 6):
        grads = [torch.randn(value.shape, generator=generator) * 10 ** -step for value in params]
        fit.adam_step(params, grads, moments, step, 0.01)
        for value, grad in zip(reference, grads):
            value.grad = grad.clone()
        optimizer.step()
    for mine, theirs in zip(params, reference):
        assert torch.equal(mine, theirs.detach())
        assert not torch.equal(mine, torch.zeros_like(mine))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine; the cuda path is checked where one is")
@pytest.mark.parametrize("batch_size", [0, 64])
def test_cuda_trains_as_the_cpu_does_to_float_rounding(batch_size):
    x, y = make_data()
    initial = stacks.init_stack([0, 1, 2], FEATURES, [16])
    cpu = fit.train(initial, x, y, 6, 0.01, batch_size=batch_size, order_seeds=[0, 1, 2])
    gpu = fit.train(initial, x, y, 6, 0.01, batch_size=batch_size, order_seeds=[0, 1, 2], device="cuda")
    for key in initial:
        assert gpu[key].device.type == "cpu" and torch.allclose(gpu[key], cpu[key], rtol=0, atol=1e-4), key
    accuracy, _ = stacks.evaluate({key: value.cuda() for key, value in gpu.items()}, x.cuda(), y.cuda())
    assert list(accuracy) == list(stacks.evaluate(gpu, x, y)[0])


def hooked_reference(initial, x, y, lr, schedule, zero_moments):
    """autograd + torch.optim.Adam, masks changed after the steps in `schedule` (step -> mask);
    the masked weights, and (zero_moments) their Adam moments, set to zero there."""
    state = stacks.unstack(initial, 0)
    params = {key: value.clone().requires_grad_(True) for key, value in state.items()}
    optimizer = torch.optim.Adam(params.values(), lr=lr)
    mask = None
    for step in range(1, max(schedule) + 3):
        h = torch.relu(x @ params["fc1.weight"].T + params["fc1.bias"])
        loss = nn.functional.binary_cross_entropy(torch.sigmoid(h @ params["fc2.weight"].T + params["fc2.bias"]), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            # The step's held mask first, then the hook's new one.
            for current in ([mask] if mask is not None else []) + ([schedule[step]] if step in schedule else []):
                for key, value in params.items():
                    value.mul_(current[key])
            if step in schedule:
                mask = schedule[step]
                if zero_moments:
                    for key, value in params.items():
                        optimizer.state[value]["exp_avg"].mul_(mask[key])
                        optimizer.state[value]["exp_avg_sq"].mul_(mask[key])
    return {key: value.detach() for key, value in params.items()}, max(schedule) + 2


def test_a_hook_changes_masks_mid_training_and_zeroes_the_pruned_moments():
    x, y = make_data()
    initial = stacks.init_stack([3], FEATURES, [16])
    generator = torch.Generator().manual_seed(6)
    pruned = {key: (torch.rand(value.shape[1:], generator=generator) > 0.5).float() for key, value in initial.items()}
    whole = {key: torch.ones_like(value) for key, value in pruned.items()}
    schedule = {2: pruned, 4: whole}  # pruned after step 2, let back after step 4: the moments show
    calls = []

    def hook(step, params, first):
        calls.append((step, first))
        return {key: value[None] for key, value in schedule[step].items()} if step in schedule else None

    expected, steps = hooked_reference(initial, x, y, 0.01, schedule, zero_moments=True)
    got = fit.train(initial, x, y, steps, 0.01, every=2, hook=hook)
    assert calls == [(2, 0), (4, 0), (6, 0)]
    for key, value in expected.items():
        assert torch.allclose(got[key][0], value, rtol=0, atol=2e-6), key
    # Kept moments would have regrown the weights otherwise: the choice is visible.
    kept, _ = hooked_reference(initial, x, y, 0.01, schedule, zero_moments=False)
    assert not torch.allclose(got["fc1.weight"][0], kept["fc1.weight"], rtol=0, atol=1e-4)


def test_a_hooks_masks_hold_from_its_step_on():
    x, y = make_data()
    initial = stacks.init_stack([0, 1], FEATURES, [16])
    mask = {key: (torch.rand(value.shape, generator=torch.Generator().manual_seed(8)) > 0.3).float()
            for key, value in initial.items()}

    def hook(step, params, first):
        assert step == 3 and first == 0
        return mask

    trained = fit.train(initial, x, y, 5, 0.01, every=3, hook=hook)
    for key in initial:
        assert torch.all(trained[key][mask[key] == 0] == 0), key
        assert torch.all(trained[key][mask[key] == 1] != 0), key


def test_adams_square_root_is_the_correctly_rounded_one():
    """The same bits on every CPU: each root is the float64 root rounded to float32 (IEEE's
    correctly rounded sqrt), which MKL's vector sqrt behind torch.sqrt is not on every CPU."""
    values = torch.rand(1 << 16, generator=torch.Generator().manual_seed(3)) * 10
    tiny = torch.tensor([0.0, 1e-30, 1.0, 2.0, 3.4e38])
    roots = fit.correctly_rounded_sqrt([values, tiny])
    for value, root in zip([values, tiny], roots):
        expected = torch.from_numpy(np.sqrt(value.numpy().astype(np.float64)).astype(np.float32))
        assert root.dtype == torch.float32 and torch.equal(root, expected)
