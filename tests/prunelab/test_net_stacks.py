"""prunelab/net_stacks.py: stacks of any architecture's models, built, trained and evaluated
each as it is alone; the MLP's against its fast path (prunelab/stacks.py)."""
import numpy as np
import pytest
import torch
from torch import nn

from prunelab import autograd_fit, compute, net_stacks, stacks
from prunelab.sweep_setup import loss_gradient
from prunelab.architectures import ARCHITECTURES

SHAPE, CLASSES = (1, 16, 16), 3


@pytest.fixture
def workers():
    """Sets prunelab's worker count for a test; puts the environment's back after it."""
    yield compute.set_workers
    compute.set_workers(compute.workers_from_environment())


def images(samples=50, seed=7):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(samples, *SHAPE, generator=generator),
            torch.randint(0, CLASSES, (samples, 1), generator=generator).float())


def test_the_mlps_stack_is_stacks_init_stack():
    template, weights = net_stacks.init(ARCHITECTURES["mlp"], [3, 4], (12,), 2, hidden_sizes=(8, 5))
    expected = stacks.init_stack([3, 4], 12, [8, 5], 1)
    assert weights.keys() == expected.keys()
    assert all(torch.equal(value, expected[key]) for key, value in weights.items())
    assert isinstance(template, nn.Module)


def test_a_conv_stack_holds_each_seeds_plain_build():
    _, weights = net_stacks.init(ARCHITECTURES["lenet5"], [0, 5], SHAPE, CLASSES)
    for row, seed in enumerate([0, 5]):
        torch.manual_seed(seed)
        plain = ARCHITECTURES["lenet5"].build(SHAPE, CLASSES).state_dict()
        assert all(torch.equal(weights[key][row], value) for key, value in plain.items())
    assert not torch.equal(weights["conv1.weight"][0], weights["conv1.weight"][1])


def test_the_mlps_evaluation_is_stacks_evaluate_bit_for_bit():
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(5000, 12, generator=generator)  # two chunks of stacks.SAMPLES
    y = torch.randint(0, 3, (5000, 1), generator=generator).float()
    template, weights = net_stacks.init(ARCHITECTURES["mlp"], [0, 1, 2], (12,), 3, hidden_sizes=(16,))
    accuracy, loss = net_stacks.evaluate(template, weights, x, y)
    expected = stacks.evaluate(weights, x, y)
    assert accuracy.dtype == loss.dtype == np.float64
    assert np.array_equal(accuracy, expected[0]) and np.array_equal(loss, expected[1])


def test_a_conv_nets_evaluation_is_the_plain_modules_and_no_worker_count_moves_it(workers):
    x, y = images(samples=300)
    template, weights = net_stacks.init(ARCHITECTURES["conv2"], [0, 1], SHAPE, CLASSES)
    workers(1)
    accuracy, loss = net_stacks.evaluate(template, weights, x, y)
    workers(2)
    assert [value.tobytes() for value in net_stacks.evaluate(template, weights, x, y)] == [accuracy.tobytes(),
                                                                                          loss.tobytes()]
    alone = net_stacks.evaluate(template, stacks.part(weights, 1, 2), x, y)  # a model's bytes are its own
    assert alone[0][0] == accuracy[1] and alone[1][0] == loss[1]
    for row in range(2):
        plain = ARCHITECTURES["conv2"].build(SHAPE, CLASSES)
        plain.load_state_dict(stacks.unstack(weights, row))
        with torch.no_grad():
            outputs = plain(x)
        labels = y.view(-1).long()
        assert accuracy[row] == (outputs.argmax(dim=1) == labels).double().mean().item()
        assert loss[row] == pytest.approx(nn.functional.cross_entropy(outputs, labels).item(), rel=1e-5)


def test_a_stack_trains_each_model_as_it_trains_alone(workers):
    x, y = images()
    template, weights = net_stacks.init(ARCHITECTURES["lenet5"], [0, 1, 2], SHAPE, CLASSES)
    generator = torch.Generator().manual_seed(4)
    masks = {key: (torch.rand(value.shape, generator=generator) < 0.7).float() for key, value in weights.items()}
    workers(2)
    trained = net_stacks.train(template, weights, x, y, 1, 0.01, masks, order_seeds=[0, 1, 2], batch_size=16)
    workers(1)
    for row in range(3):
        module = ARCHITECTURES["lenet5"].build(SHAPE, CLASSES)
        module.load_state_dict(stacks.unstack(weights, row))
        solo = autograd_fit.train(module, x, y, 1, 0.01, stacks.unstack(masks, row), batch_size=16, order_seed=row)
        assert all(torch.equal(trained[key][row], value) for key, value in solo.weights.items())
    assert torch.all(trained["fc1.weight"][masks["fc1.weight"] == 0] == 0)
    assert not torch.equal(trained["fc1.weight"], weights["fc1.weight"] * masks["fc1.weight"])


@pytest.mark.parametrize("batch_size", [0, 64])
def test_the_mlps_loss_gradient_is_sweep_setups_to_rounding(batch_size):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(300, 12, generator=generator)
    y = torch.randint(0, 3, (300, 1), generator=generator).float()
    template, weights = net_stacks.init(ARCHITECTURES["mlp"], [0, 1], (12,), 3, hidden_sizes=(16,))
    got = net_stacks.loss_gradient(template, weights, x, y, batch_size, [0, 1])
    expected = loss_gradient(weights, x, y, batch_size, [0, 1])
    for key, value in got.items():
        assert torch.allclose(value, expected[key], rtol=1e-4, atol=1e-7), key
    assert not torch.allclose(got["fc1.weight"][0], got["fc1.weight"][1])


def test_a_conv_nets_loss_gradient_is_autograd_through_the_plain_module(workers):
    """Against torch.nn's own: the plain module, its own convolutions, loss.backward() per
    minibatch of epoch 0 in the model's order, the mean; and the same bytes on 1 and 2 workers."""
    from prunelab import fit
    x, y = images(samples=64)
    template, weights = net_stacks.init(ARCHITECTURES["lenet5"], [0, 1], SHAPE, CLASSES)
    workers(2)
    got = net_stacks.loss_gradient(template, weights, x, y, 16, [5, 6])
    workers(1)
    again = net_stacks.loss_gradient(template, weights, x, y, 16, [5, 6])
    assert all(torch.equal(value, again[key]) for key, value in got.items())
    for row, seed in enumerate([5, 6]):
        plain = ARCHITECTURES["lenet5"].build(SHAPE, CLASSES)
        plain.load_state_dict(stacks.unstack(weights, row))
        parts = fit.batches(64, 16, [seed], 0)
        for rows in parts:
            nn.functional.cross_entropy(plain(x[rows[0]]), y[rows[0]].view(-1).long()).backward()
        for name, value in plain.named_parameters():
            expected = value.grad / len(parts)
            assert torch.allclose(got[name][row], expected, rtol=1e-4, atol=1e-6 * expected.abs().max().item()), name
