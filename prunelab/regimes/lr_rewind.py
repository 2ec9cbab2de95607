"""lr-rewind (Renda et al. 2020): rounds of pruning the last round's retrained weights, each
retrained with the original schedule (train.epochs at train.lr)."""
from prunelab.regimes import iterative
from prunelab.regimes.record import Control, Regime


def run(setup, method) -> dict:
    from prunelab.rounds import lr_rewind
    return lr_rewind(setup, method)


REGIME = Regime("lr-rewind", run, "Renda et al. 2020: rounds of pruning, each retrained with train's schedule",
                options=dict(iterative.ROUND_OPTIONS), settings=iterative.settings,
                controls={"lr-rewind": Control(lambda setup: setup.retrain, per_round=True)})
