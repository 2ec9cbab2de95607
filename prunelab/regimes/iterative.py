"""iterative (Han et al. 2015): rounds of pruning prune.iterative_rate of the survivors, each
then fine-tuned (prunelab/rounds.py). The round options here are lottery-ticket's and
lr-rewind's too."""
from prunelab.options import Option
from prunelab.regimes import fine_tune
from prunelab.regimes.record import Control, Regime

ROUND_OPTIONS = {
    "iterative_rate": Option(0.2, lambda v: 0 < v < 1, "a number in (0, 1)",
                             "each round removes this fraction of each layer's remaining weights (of all remaining "
                             "weights for global methods)", kind=float),
    "iterative_output_rate": Option(0.0, lambda v: 0 <= v < 1, "0 (half of prune.iterative_rate) or a number in (0, 1)",
                                    "the output layer's rate per round, for layer-wise methods (Frankle & Carbin: 0.1)",
                                    kind=float, shown="0 (half of prune.iterative_rate)"),
    "iterative_conv_rate": Option(0.0, lambda v: 0 <= v < 1, "0 (prune.iterative_rate) or a number in (0, 1)",
                                  "conv layers' rate per round, for layer-wise methods (Frankle & Carbin: 0.1, "
                                  "Conv-6 0.15; linear layers take prune.iterative_rate)",
                                  kind=float, shown="0 (prune.iterative_rate)"),
}
REWIND_EPOCH = Option(0, lambda v: 0 <= v <= 10**5, "an integer in [0, 10**5]",
                      "tickets rewind survivors to their weights after this many epochs of train's run "
                      "(0: the initial weights)")


def settings(prune) -> dict:
    """The rounds' record (prunelab.sweep_setup.Rounds); lottery-ticket and lr-rewind share it."""
    from prunelab.sweep_setup import Rounds
    return {"rounds": Rounds(prune["iterative_rate"], prune["iterative_output_rate"] or prune["iterative_rate"] / 2,
                             prune["rewind_epoch"], prune["iterative_conv_rate"] or None)}


def run(setup, method) -> dict:
    from prunelab.rounds import iterative
    return iterative(setup, method)


REGIME = Regime("iterative", run, "Han et al. 2015: rounds of pruning, each fine-tuned",
                options={"finetune_epochs": fine_tune.EPOCHS, "finetune_lr": fine_tune.LR, **ROUND_OPTIONS},
                settings=settings, controls={"iterative": Control(lambda setup: setup.finetune, per_round=True)})
