"""The equal-budget dense control: the dense trained model, trained on for the extra epochs a
regime adds at each level, so that a regime's gain can be told from the extra training's.

The extra training of a result is its regime record's Control: fine-tune and gradual add their
epochs once at every level; the rounds of iterative, lr-rewind and IMP add one schedule per
round (round r: r of them); a one-shot ticket adds one retraining. The control trains with
the regime's learning rate and a fresh Adam, as the regime does, and one run gives every
round's control (training is the same whatever its length, so round r's control is that
run's weights after r schedules).
"""
from typing import Optional

from prunelab import regimes, stacks
from prunelab.sweep_setup import SweepSetup, Training


def extra_training(setup: SweepSetup, name: str) -> Optional[tuple[Training, bool]]:
    """(the schedule one unit of a result's extra training is, whether it adds one per round),
    from its regime's record (prunelab/regimes/); None for a result that adds no training."""
    control = regimes.control(name)
    return (control.schedule(setup), control.per_round) if control else None


def dense_control(setup: SweepSetup, schedule: Training, multiples: list) -> dict:
    """Seed-major stack: per seed, the trained model after multiples[i] * schedule.epochs epochs
    more (fresh Adam at schedule.lr, no masks), in the order of `multiples`."""
    longest = max(multiples)
    if longest == 0:
        return stacks.repeat(setup.trained, len(multiples))
    every = setup.steps_per_epoch * schedule.epochs
    snapshots = {}

    def hook(step, params, first):
        for offset in range(stacks.size(params)):
            snapshots[first + offset, step // every] = {key: value[offset].cpu().clone() for key, value in params.items()}
        return None

    setup.train(setup.trained, None, Training(longest * schedule.epochs, schedule.lr),
                f"dense budget {longest} x {schedule.epochs} epochs", every=every, hook=hook)
    models = []
    for index in range(len(setup.seeds)):
        for multiple in multiples:
            models.append(stacks.unstack(setup.trained, index) if multiple == 0 else snapshots[index, multiple])
    return stacks.stack(models)
