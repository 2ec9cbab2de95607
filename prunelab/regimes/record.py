"""The Regime record: what a regime runs, the prune options it reads, what it puts in the
setup, when it cannot run, and the extra training its equal-budget control must match.

Records load without torch (a regime's code imports the numeric modules when it runs): the
params check (stage check-params) reads them, and no stage that only checks params loads torch.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass(frozen=True)
class Control:
    """A result's extra training over the trained model, which the dense control repeats:
    `schedule(setup)` (a prunelab.sweep_setup.Training) once at every level, or once per round
    (round r: r of them)."""
    schedule: Callable
    per_round: bool = False


@dataclass(frozen=True)
class Regime:
    name: str
    run: Callable                      # run(setup, method) -> {result name: stack, or rounds.RoundRows}
    about: str                         # what it does, with its paper, for the params table
    options: dict = field(default_factory=dict)    # prune.NAME -> prunelab.options.Option: the keys it reads
    settings: Optional[Callable] = None  # settings(prune) -> {SweepSetup field: value} from its options' values
    fits: Optional[Callable] = None    # fits(prune, steps_per_epoch) -> an error message, or None: it can run
    controls: dict = field(default_factory=dict)   # result name -> Control (none: no extra training, no control)

    def __call__(self, setup, method) -> dict:
        return self.run(setup, method)
