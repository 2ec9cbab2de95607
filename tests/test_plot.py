"""Stage plot: figures from the committed CSVs, in the format and size the params ask."""
import pytest
import yaml

from stages import UserError, plot
from tests.conftest import ROOT, imported_modules


@pytest.fixture
def sweep_and_curve(workdir):
    (workdir / "metrics").mkdir()
    for name in ("prune_sweep.csv", "train_curve.csv"):
        (workdir / "metrics" / name).write_text((ROOT / "metrics" / name).read_text())
    return workdir


def set_plot_params(workdir, **values):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["plot"].update(values)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def test_writes_each_figure_at_the_requested_size(sweep_and_curve):
    set_plot_params(sweep_and_curve, width=5.0, height=3.0, dpi=40)
    plot.main()
    names = sorted(path.name for path in (sweep_and_curve / "metrics/plots").iterdir())
    assert names == ["accuracy_vs_amount.png", "nonzero_params_vs_amount.png", "train_curve.png"]
    png = (sweep_and_curve / "metrics/plots/train_curve.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (200, 120)


def test_svg_output_is_byte_identical_across_runs(sweep_and_curve):
    set_plot_params(sweep_and_curve, format="svg")
    plot.main()
    first = (sweep_and_curve / "metrics/plots/accuracy_vs_amount.svg").read_bytes()
    plot.main()
    assert (sweep_and_curve / "metrics/plots/accuracy_vs_amount.svg").read_bytes() == first
    assert b"pruning level: fraction of fc1+fc2 weights removed" in first


def test_a_missing_column_is_a_one_line_error(sweep_and_curve):
    path = sweep_and_curve / "metrics/prune_sweep.csv"
    path.write_text(path.read_text().replace("nonzero_params", "params"))
    with pytest.raises(UserError, match="^metrics/prune_sweep.csv: no rows or a column is missing"):
        plot.main()


def test_does_not_import_torch():
    loaded = imported_modules("stages.plot")
    assert "matplotlib" in loaded and "torch" not in loaded
