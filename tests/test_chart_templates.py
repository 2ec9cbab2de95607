"""The plots page's vega templates (.dvc/plots/) carry prunelab/palette.py's colours and order:
tools/build_chart_templates.py writes them, and the committed files are its output."""
import json

import pytest

from prunelab.palette import METHODS
from prunelab.palette import METHOD_COLOURS, REGIME_ORDER, SPLIT_COLOURS
from tools.build_chart_templates import TEMPLATES, with_palette, written

NAMES = ("methods.json", "layers.json", "train_curve.json")


@pytest.mark.parametrize("name", NAMES)
def test_each_template_is_the_tools_output(name):
    committed = (TEMPLATES / name).read_bytes()
    assert written(with_palette(json.loads(committed))) == committed, "rerun python tools/build_chart_templates.py"


def test_methods_have_the_figures_colours_and_regimes_the_pipelines_order():
    methods = json.loads((TEMPLATES / "methods.json").read_text())
    scale = methods["spec"]["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"])) == METHOD_COLOURS
    assert scale["domain"] == list(METHODS)
    assert methods["facet"]["column"]["sort"] == list(REGIME_ORDER)
    for view in json.loads((TEMPLATES / "train_curve.json").read_text())["hconcat"]:
        scale = view["encoding"]["color"]["scale"]
        assert dict(zip(scale["domain"], scale["range"])) == SPLIT_COLOURS


def test_a_stale_template_is_told_apart():
    """The check above can fail: a template from before a method was added differs."""
    methods = json.loads((TEMPLATES / "methods.json").read_text())
    methods["spec"]["encoding"]["color"]["scale"]["domain"].pop()
    assert written(methods) != written(with_palette(methods))


def test_sparsity_is_drawn_on_the_figures_scale():
    from prunelab.figures import SPARSITY_TICKS
    layers = json.loads((TEMPLATES / "layers.json").read_text())
    axis = layers["encoding"]["x"]["axis"]
    # -log10(1 - s) at the figures' ticks: 0, 0.30103 (s = 0.5), ..., 2 (s = 0.99)
    assert axis["values"][:2] == [0.0, 0.30103] and axis["values"][-1] == 2.0
    assert len(axis["values"]) == len(SPARSITY_TICKS)
    assert {"calculate": "-log(1 - min(datum['<DVC_METRIC_X>'], 1 - 1e-6)) / LN10", "as": "x_scaled"} in \
        layers["transform"]
