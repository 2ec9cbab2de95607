"""prunelab/figures.py: the shared band, panels, sparsity axis and reproducible figure bytes."""
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from prunelab.figures import band, figure_bytes, finish, high_level_scale, panels


def test_band_draws_the_mean_and_a_one_std_band_in_its_colour():
    figure, (axes,) = panels(1, (4, 3))
    band(axes, [0.0, 0.5, 0.9], [0.9, 0.8, 0.5], [0.01, 0.02, 0.1], "a")
    line, = axes.get_lines()
    assert line.get_label() == "a" and list(line.get_ydata()) == [0.9, 0.8, 0.5]
    (area,) = axes.collections
    low, high = area.get_paths()[0].vertices[:, 1].min(), area.get_paths()[0].vertices[:, 1].max()
    assert np.isclose(low, 0.4) and np.isclose(high, 0.91)
    assert np.allclose(area.get_facecolor()[0][:3], to_rgb(line.get_color()))


def test_panels_share_the_y_axis_side_by_side():
    figure, axes = panels(3, (4, 3))
    assert len(axes) == 3 and tuple(figure.get_size_inches()) == (12, 3)
    axes[0].set_ylim(0, 2)
    assert axes[2].get_ylim() == (0, 2)


def test_high_level_scale_spreads_the_last_levels():
    figure = Figure()
    axes = figure.add_subplot()
    high_level_scale(axes)
    forward = axes.xaxis.get_transform().transform
    # 0 -> 0.9 and 0.9 -> 0.99 take the same room: -log10(1 - s).
    assert np.isclose(forward(0.9) - forward(0.0), forward(0.99) - forward(0.9))


def test_figure_bytes_depend_on_the_figure_alone():
    def drawn():
        figure, (axes,) = panels(1, (4, 3))
        band(axes, [0, 1], [1, 2], [0.1, 0.1], "a")
        finish(axes, "t", "x", "y")
        return figure
    for file_format in ("png", "svg"):
        assert figure_bytes(drawn(), file_format, 50) == figure_bytes(drawn(), file_format, 50)
    svg = figure_bytes(drawn(), "svg", 50).decode()
    assert "<dc:date>" not in svg  # no date in the metadata
