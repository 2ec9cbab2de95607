"""Regimes: what happens around pruning. Each is a record (prunelab/regimes/record.py) in
REGIMES, in pipeline order; calling one maps (setup, method) to {result name: result}.

A result is a stack holding one model per (seed, level), seed-major, in the order of
`setup.seeds` and of each torch seed's `setup.amounts`, ready to evaluate; or, for the regimes that
prune in rounds (prunelab/rounds.py), a `RoundRows` whose levels are its rounds. A record
also owns the prune options it reads (the pipeline's schema makes them params keys), what it
sets in the SweepSetup from them, when it cannot run, and the extra training of each result
(prunelab/controls.py's equal-budget control). A new regime is one file here, with its record,
and its line below.
"""
from prunelab.regimes import fine_tune, gradual, iterative, lottery_one_shot, lottery_ticket, lr_rewind, one_shot
from prunelab.regimes.record import Control, Regime

REGIMES = {record.name: record for record in (
    one_shot.REGIME, fine_tune.REGIME, iterative.REGIME, lottery_ticket.REGIME, gradual.REGIME, lr_rewind.REGIME,
    lottery_one_shot.REGIME)}


def options() -> dict:
    """prune.NAME -> (its Option, the regimes that read it), in the records' order."""
    found = {}
    for regime in REGIMES.values():
        for name, option in regime.options.items():
            known, readers = found.setdefault(name, (option, []))
            assert known is option, f"prune.{name}: two regimes define it; one must import the other's"
            readers.append(regime.name)
    return found


def settings(prune: dict) -> dict:
    """The SweepSetup fields that the regimes' options set, from typed prune values."""
    fields = {}
    for regime in REGIMES.values():
        if regime.settings:
            fields.update(regime.settings(prune))
    return fields


def control(name: str):
    """The Control of a result (a regime's, or its own control's, e.g. lottery-reinit), or None."""
    for regime in REGIMES.values():
        if name in regime.controls:
            return regime.controls[name]
    return None


__all__ = ["REGIMES", "Control", "Regime", "control", "options", "settings"]
