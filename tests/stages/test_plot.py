"""Stage plot: figures from the committed CSVs, in the format and size the params ask."""
import pytest
import yaml

from stages import UserError, paths, plot
from tests.conftest import ROOT, imported_modules


@pytest.fixture
def sweep_and_curve(workdir):
    (workdir / "metrics").mkdir()
    for name in ("data.json", "train.json", "prune_aggregate.csv", "sensitivity_aggregate.csv", "train_curve.csv"):
        (workdir / "metrics" / name).write_text((ROOT / "metrics" / name).read_text())
    return workdir


def set_plot_params(workdir, **values):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["plot"].update(values)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def test_writes_each_figure_at_the_requested_size(sweep_and_curve):
    set_plot_params(sweep_and_curve, width=5.0, height=3.0, dpi=40)
    plot.main()
    names = sorted(path.name for path in (sweep_and_curve / paths.PLOTS_DIR).iterdir())
    assert names == ["accuracy_vs_sparsity.png", "layer_sparsity_vs_level.png", "nonzero_params_vs_level.png",
                     "regimes_compared.png", "sensitivity.png", "train_curve.png"]
    png = (sweep_and_curve / f"{paths.PLOTS_DIR}/train_curve.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (200, 120)


def test_svg_output_is_byte_identical_across_runs(sweep_and_curve):
    set_plot_params(sweep_and_curve, format="svg")
    plot.main()
    first = (sweep_and_curve / f"{paths.PLOTS_DIR}/accuracy_vs_sparsity.svg").read_bytes()
    plot.main()
    assert (sweep_and_curve / f"{paths.PLOTS_DIR}/accuracy_vs_sparsity.svg").read_bytes() == first
    assert b"sparsity over all parameters" in first


def test_a_missing_column_is_a_one_line_error(sweep_and_curve):
    path = sweep_and_curve / paths.PRUNE_AGGREGATE
    path.write_text(path.read_text().replace("nonzero_params_mean", "params_mean"))
    with pytest.raises(UserError, match="^metrics/prune_aggregate.csv: no rows or a column is missing"):
        plot.main()


def test_one_panel_per_regime_and_a_band_per_method():
    sweep = [{"method": method, "regime": regime, "level_by": "amount", "level": level, "sparsity_mean": level,
              "sparsity_std": 0.0, "accuracy_mean": 0.9 - level / 2, "accuracy_std": 0.01}
             for method in ("a", "b") for regime in ("one-shot", "fine-tune", "iterative") for level in (0.0, 0.5, 0.9)]
    figure = plot.accuracy_figure(sweep, 0.9, (4.0, 3.0))
    assert [axes.get_title() for axes in figure.axes] == [
        f"Test accuracy vs sparsity: {regime}" for regime in ("one-shot", "fine-tune", "iterative")]
    for axes in figure.axes:
        assert [line.get_label() for line in axes.get_lines()] == ["dense (mean)", "a", "b"]
        assert len(axes.collections) == 2  # one std band per method
        assert axes.get_xscale() == "function"


def test_does_not_import_torch():
    loaded = imported_modules("stages.plot")
    assert "matplotlib" in loaded and "torch" not in loaded


def test_a_dense_control_is_placed_at_its_regimes_sparsity_in_its_panel():
    from stages.plot import CONTROL_LABEL, placed_controls
    row = {"method": "lamp", "level_by": "round", "level": 0.36, "accuracy_mean": 0.9}
    sweep = [{**row, "regime": "iterative", "sparsity_mean": 0.35},
             {**row, "regime": "dense-budget-iterative", "sparsity_mean": 0.0, "accuracy_mean": 0.95}]
    by_regime = placed_controls(sweep, "regime")
    assert by_regime[0] == sweep[0]
    assert by_regime[1] == {**sweep[1], "regime": "iterative", "method": f"lamp {CONTROL_LABEL}", "sparsity_mean": 0.35}
    by_method = placed_controls(sweep, "method")
    assert by_method[1] == {**sweep[1], "regime": f"iterative {CONTROL_LABEL}", "sparsity_mean": 0.35}


def test_the_lottery_figure_draws_rounds_against_weights_remaining_on_a_log_axis():
    rounds = [{"method": "layerwise-magnitude", "regime": regime, "level_by": "round", "level": float(level),
               "amount_mean": 1 - 0.8 ** level, "accuracy_mean": 0.9 - shift * level, "accuracy_std": 0.01}
              for regime, shift in (("lottery-ticket", 0.0), ("lottery-reinit", 0.01)) for level in range(13)]
    levels = [{**rounds[0], "regime": "one-shot", "level_by": "amount", "level": 0.5},
              {**rounds[0], "regime": "dense-budget-lottery-ticket"}]
    assert plot.lottery_figure(levels, 0.9, (4.0, 3.0)) is None  # no regime prunes in rounds
    figure = plot.lottery_figure(rounds + levels, 0.9, (4.0, 3.0))
    (axes,) = figure.axes
    assert [line.get_label() for line in axes.get_lines()] == ["dense (mean)", "lottery-ticket", "lottery-reinit"]
    assert axes.get_xscale() == "log" and axes.xaxis_inverted()
    ticket = axes.get_lines()[1].get_xdata()
    assert abs(ticket[0] - 100 * 0.8 ** 12) < 1e-9 and ticket[-1] == 100  # 6.9 % left at round 12
    assert [label.get_text() for label in axes.get_xticklabels()] == ["100", "51.3", "21.1", "7"]


def test_the_lottery_figure_is_written_only_for_a_sweep_with_rounds(sweep_and_curve):
    path = sweep_and_curve / paths.PRUNE_AGGREGATE
    header, *lines = path.read_text().splitlines()
    columns = header.split(",")
    first = dict(zip(columns, lines[0].split(",")))
    extra = [",".join({**first, "regime": "lottery-ticket", "level_by": "round", "level": str(level),
                       "round": str(level), "amount_mean": str(1 - 0.8 ** level)}[column] for column in columns)
             for level in range(3)]
    path.write_text("\n".join([header, *lines, *extra]) + "\n")
    plot.main()
    assert (sweep_and_curve / f"{paths.PLOTS_DIR}/lottery_ticket.png").exists()


def test_each_method_regime_and_split_has_the_palettes_colour_and_panels_the_pipelines_order():
    from prunelab.palette import colour
    from stages.plot import CONTROL_LABEL
    row = {"level_by": "amount", "sparsity_std": 0.0, "accuracy_std": 0.01, "total_params_mean": 10.0,
           "nonzero_params_mean": 5.0}
    # The CSV lists fine-tune first and lamp before global-magnitude: the figures do not follow it.
    sweep = [{**row, "method": method, "regime": regime, "level": level, "amount_mean": level,
              "sparsity_mean": level, "accuracy_mean": 0.9 - level / 2}
             for regime in ("fine-tune", "one-shot", "dense-budget-fine-tune") for method in ("lamp", "global-magnitude")
             for level in (0.0, 0.5, 0.9)]
    figure = plot.accuracy_figure(sweep, 0.9, (4.0, 3.0))
    assert [axes.get_title() for axes in figure.axes] == ["Test accuracy vs sparsity: one-shot",
                                                           "Test accuracy vs sparsity: fine-tune"]
    drawn = {line.get_label(): (line.get_color(), line.get_linestyle()) for line in figure.axes[1].get_lines()}
    assert list(drawn)[1:] == ["global-magnitude", f"global-magnitude {CONTROL_LABEL}", "lamp", f"lamp {CONTROL_LABEL}"]
    assert drawn["lamp"] == (colour("lamp"), "-") and drawn[f"lamp {CONTROL_LABEL}"] == (colour("lamp"), "--")
    assert colour("lamp") != colour("global-magnitude")
    by_method = plot.accuracy_figure(sweep, 0.9, (4.0, 3.0), "method", "regime")
    assert {line.get_label(): line.get_color() for line in by_method.axes[0].get_lines()[1:]} == {
        "one-shot": colour("one-shot"), "fine-tune": colour("fine-tune"),
        f"fine-tune {CONTROL_LABEL}": colour("fine-tune")}
    assert {line.get_label(): line.get_color() for line in plot.params_figure(sweep, (4.0, 3.0)).axes[0].get_lines()[1:]} \
        == {"global-magnitude": colour("global-magnitude"), "lamp": colour("lamp")}
    curve = {"epoch": [1, 2], "train_loss": [1, 0.5], "test_loss": [1, 0.6], "train_accuracy": [0.5, 0.8],
             "test_accuracy": [0.5, 0.7]}
    for axes in plot.curve_figure(curve, (4.0, 3.0)).axes:
        assert [(line.get_label(), line.get_color()) for line in axes.get_lines()] == [
            ("train", colour("train")), ("test", colour("test"))]
