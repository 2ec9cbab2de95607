"""prunelab/controls.py: the equal-budget dense control is the plain training run of its length."""
import pytest
import torch

from prunelab import fit, stacks
from prunelab.controls import dense_control, extra_training
from prunelab.sweep_setup import Gradual, Training
from tests.prunelab.test_rounds import SEEDS, make_setup


@pytest.mark.parametrize("batch_size", [0, 64])
def test_each_control_is_a_plain_training_run_of_its_length(batch_size):
    setup = make_setup(batch_size=batch_size)
    schedule = Training(2, 0.02)
    multiples = [0, 1, 3, 1]
    control = dense_control(setup, schedule, multiples)
    assert stacks.size(control) == len(SEEDS) * len(multiples)
    for index, seed in enumerate(SEEDS):
        trained = stacks.part(setup.trained, index, index + 1)
        for position, multiple in enumerate(multiples):
            got = stacks.unstack(control, index * len(multiples) + position)
            expected = (stacks.unstack(trained, 0) if multiple == 0 else stacks.unstack(fit.train(
                trained, setup.x_train, setup.y_train, multiple * schedule.epochs, schedule.lr,
                batch_size=batch_size, order_seeds=[seed]), 0))
            for key, value in expected.items():
                assert torch.equal(got[key], value), (seed, multiple, key)
    assert not torch.equal(stacks.unstack(control, 1)["fc1.weight"], stacks.unstack(control, 2)["fc1.weight"])


def test_extra_training_per_regime():
    setup = make_setup(gradual=Gradual(7, 1))
    assert extra_training(setup, "one-shot") is None
    assert extra_training(setup, "fine-tune") == (setup.finetune, False)
    assert extra_training(setup, "gradual") == (Training(7, setup.finetune.lr), False)
    assert extra_training(setup, "iterative") == (setup.finetune, True)
    for name in ("lottery-ticket", "lottery-reinit", "lr-rewind"):
        assert extra_training(setup, name) == (setup.retrain, True)
    assert extra_training(setup, "lottery-one-shot") == (setup.retrain, False)
