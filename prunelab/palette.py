"""One colour per method, per regime and per split, and one order, for every chart: the
matplotlib figures (stages/plot.py, study/figures.py) and the plots page's vega templates
(.dvc/plots/, whose colour scales and regime order tools/build_chart_templates.py writes from
this file), so a method is the same colour on the page and in the images.

Colours are matplotlib's tab10 without its grey (grey is the dense line), given in the
registries' order; the order of panels and legends is the registries' too (regimes in pipeline
order, each equal-budget control after its regime), whatever order the params list them in.
"""
from itertools import cycle

from prunelab.aggregate import CONTROL_PREFIX
from prunelab.methods import METHODS as METHOD_RECORDS
from prunelab.regimes import REGIMES as REGIME_RECORDS

METHODS, REGIMES = tuple(METHOD_RECORDS), tuple(REGIME_RECORDS)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
SPLITS = ("train", "test")


def _assign(names):
    return dict(zip(names, cycle(COLOURS)))


METHOD_COLOURS = _assign(METHODS)
REGIME_COLOURS = _assign(REGIMES)
SPLIT_COLOURS = _assign(SPLITS)
# Each regime, then its control: the order of the plots page's panels and the figures' legends.
REGIME_ORDER = tuple(name for regime in REGIMES for name in (regime, CONTROL_PREFIX + regime))


def colour(name: str) -> str | None:
    """The colour of a method, a regime (a control takes its regime's) or a split; None for
    anything else (a layer, a study's value): matplotlib's own cycle then."""
    name = name.removeprefix(CONTROL_PREFIX)
    for colours in (METHOD_COLOURS, REGIME_COLOURS, SPLIT_COLOURS):
        if name in colours:
            return colours[name]
    return None


def ordered(names) -> list:
    """`names` (methods, regimes or controls) in the registries' order; unknown names last, as given."""
    known = {name: place for place, name in enumerate(METHODS + REGIME_ORDER)}
    return sorted(names, key=lambda name: known.get(name, len(known)))
