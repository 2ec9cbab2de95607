"""prunelab/palette.py: one colour per method, regime and split, and the registries' order."""
from prunelab.methods import METHODS as METHOD_RECORDS
from prunelab.regimes import REGIMES as REGIME_RECORDS

from prunelab.palette import COLOURS, colour, ordered

METHODS, REGIMES = tuple(METHOD_RECORDS), tuple(REGIME_RECORDS)


def test_every_method_and_every_regime_has_a_colour_of_its_own():
    assert len({colour(method) for method in METHODS}) == len(METHODS)
    assert len({colour(regime) for regime in REGIMES}) == len(REGIMES)
    assert {colour("train"), colour("test")} == set(COLOURS[:2])
    assert "#7f7f7f" not in COLOURS  # tab10's grey: the dense line's colour


def test_a_control_takes_its_regimes_colour_and_a_layer_none():
    assert colour("dense-budget-iterative") == colour("iterative") is not None
    assert colour("fc1") is None


def test_order_is_the_registries_whatever_the_order_given():
    assert ordered(["fine-tune", "dense-budget-one-shot", "one-shot", "mine"]) == \
        ["one-shot", "dense-budget-one-shot", "fine-tune", "mine"]
    assert ordered(["erk-random", "lamp", "global-magnitude"]) == ["global-magnitude", "lamp", "erk-random"]
