"""Write the plots page's colours, order and sparsity axis into the vega templates in
.dvc/plots/ (methods.json, layers.json, train_curve.json) from prunelab/palette.py and
prunelab/figures.py, the definitions the matplotlib figures use, so that the page and the
images agree. Rerun after adding a method or regime:
    python tools/build_chart_templates.py
Only the keys below are written; the rest of each template is kept as it is.
(tests/test_chart_templates.py checks that the committed templates are this tool's output.)
"""
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script
from prunelab.figures import SPARSITY_TICKS  # noqa: E402
from prunelab.palette import METHODS  # noqa: E402  (the registry's names, in order)
from prunelab.palette import METHOD_COLOURS, REGIME_ORDER, SPLIT_COLOURS, SPLITS  # noqa: E402
from stages import run  # noqa: E402
from stages.artifacts import write_bytes  # noqa: E402

TEMPLATES = ROOT / ".dvc" / "plots"
X = "<DVC_METRIC_X>"  # DVC replaces it with the plot's x column, in expressions too
SCALED = "x_scaled"  # the x column on -log10(1 - s), what the axis draws
# -log10(1 - s), s clipped below 1 as prunelab.figures.high_level_scale clips it.
SCALE = f"-log(1 - min(datum['{X}'], 1 - 1e-6)) / LN10"
SCALE_AXIS = {"values": [round(-math.log10(1 - tick), 6) + 0.0 for tick in SPARSITY_TICKS],
              "labelExpr": "format(1 - pow(10, -datum.value), '.2~f')"}
# Per colour field, its names and their colours as the scale's domain and range: a name has
# its colour whichever others are in the data. (The legend therefore lists every name: the
# one key of the page. vega-lite 5.2's per-row "field" range would list only those present,
# but pairs names with the wrong colours under a custom sort and fails in a facet.)
COLOUR_SCALES = {"method": {"domain": list(METHODS), "range": [METHOD_COLOURS[m] for m in METHODS]},
                 "split": {"domain": list(SPLITS), "range": [SPLIT_COLOURS[s] for s in SPLITS]}}


def _views(template: dict) -> list:
    """The single views of a template: its facet's spec, each of its hconcat, or itself."""
    if "spec" in template:
        return [template["spec"]]
    return template.get("hconcat", [template])


def _add_step(view: dict, name: str, expression: str) -> None:
    """Append (or replace) the transform step that computes column `name`."""
    steps = [step for step in view.get("transform", []) if step.get("as") != name]
    view["transform"] = steps + [{"calculate": expression, "as": name}]


def with_palette(template: dict) -> dict:
    """`template` with the palette's colour scale on each colour channel it knows, the regimes'
    order on a facet by regime, and an x column of fractions drawn on -log10(1 - s)."""
    template = json.loads(json.dumps(template))
    for view in _views(template):
        encoding = view["encoding"]
        if (scale := COLOUR_SCALES.get(encoding["color"]["field"])) is not None:
            encoding["color"]["scale"] = scale
        else:  # layers: matplotlib's default cycle (tab10) is vega's category10
            encoding["color"]["scale"] = {"scheme": "category10"}
        # Hollow points: a filled point mark makes vega-lite draw the strokeDash legend's
        # symbols with a transparent stroke, so `dvc plots diff` showed no line to tell revisions by.
        view["mark"]["point"] = {"size": 12, "filled": False}
        if encoding["x"]["field"] in (X, SCALED):
            encoding["x"].update(field=SCALED, axis=SCALE_AXIS)
            _add_step(template, SCALED, SCALE)
    if template.get("facet", {}).get("column", {}).get("field") == "regime":
        template["facet"]["column"]["sort"] = list(REGIME_ORDER)
    return template


def written(template: dict) -> bytes:
    return (json.dumps(template, indent=2) + "\n").encode()


def main():
    for name in ("methods.json", "layers.json", "train_curve.json"):
        path = TEMPLATES / name
        write_bytes(path, written(with_palette(json.loads(path.read_text()))))
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    run(main)
