"""latency/figure.py: the README's figure takes, per method and level, the fastest deployable form at one thread."""
from latency.figure import best_forms, deployable_figure
from prunelab.palette import colour


def rows():
    base = {"method": "lamp", "regime": "one-shot", "level_by": "amount", "level": 0.9, "sparsity": 0.9,
            "theoretical_speedup": 10.0, "batch": 1}
    speeds = {("dense", 1): 1.0, ("scipy-csr", 1): 1.5, ("torch-csr", 1): 0.7, ("shrunk", 1): 1.2,
              ("dense", 2): 1.0, ("scipy-csr", 2): 9.0, ("torch-csr", 2): 0.5, ("shrunk", 2): 0.4}
    return [{**base, "form": form, "threads": threads, "measured_speedup": speed}
            for (form, threads), speed in speeds.items()]


def test_the_fastest_form_but_dense_at_one_thread_is_taken():
    best = best_forms(rows())
    assert [(row["form"], row["measured_speedup"]) for row in best] == [("scipy-csr", 1.5)]
    # Dense never counts, even where it is the fastest; two threads are left out.
    slow = [{**row, "measured_speedup": 0.1} if row["form"] != "dense" else row for row in rows()]
    assert [row["form"] for row in best_forms(slow)] == ["scipy-csr"]  # the first of the equals
    assert best_forms(rows(), threads=2)[0]["measured_speedup"] == 9.0


def test_the_figure_draws_the_measured_and_theoretical_speedup_in_the_methods_colour():
    figure = deployable_figure(rows(), "machine")
    lines = [line for line in figure.axes[0].get_lines() if len(line.get_xdata())]
    measured, theoretical = lines[0], lines[1]
    assert list(measured.get_ydata()) == [1.5] and list(theoretical.get_ydata()) == [10.0]
    assert measured.get_color() == theoretical.get_color() == colour("lamp")
    assert theoretical.get_linestyle() == "--"
