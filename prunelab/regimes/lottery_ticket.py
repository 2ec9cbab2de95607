"""lottery-ticket (IMP, Frankle & Carbin 2019): rounds of pruning, the survivors rewound to their
initial weights (or to prune.rewind_epoch, Frankle et al. 2020) and retrained as train did;
lottery-reinit, the control, trains each round's mask from a fresh initialisation."""
from prunelab.regimes import iterative
from prunelab.regimes.record import Control, Regime


def run(setup, method) -> dict:
    from prunelab.rounds import imp
    return imp(setup, method)


_RETRAIN = Control(lambda setup: setup.retrain, per_round=True)
REGIME = Regime("lottery-ticket", run, "Frankle & Carbin 2019: rounds of pruning, rewinding and retraining",
                options={**iterative.ROUND_OPTIONS, "rewind_epoch": iterative.REWIND_EPOCH},
                settings=iterative.settings, controls={"lottery-ticket": _RETRAIN, "lottery-reinit": _RETRAIN})
