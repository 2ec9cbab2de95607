"""The pages of `dvc plots show` and `dvc plots diff`, drawn by headless Chromium with the network
off: with the template of .dvc/config (.dvc/plots/page.html, scripts inlined) every chart draws.

Needs Debian's chromium (`make test` installs it as root) and `unshare -n`; skips without them, naming
what is missing (fails instead with CI set: tests/missing.py).
"""
import re
import shutil
import subprocess

import pytest
from dvc_render.html import PAGE_HTML

from tests.conftest import dvc, pipeline
from tests.missing import missing

IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".svg"}  # files DVC shows as <img>, not as vega charts
CHART = re.compile(r"vegaEmbed\('#([^']+)'")  # one call per vega chart in DVC's plot divs
IMG = re.compile(r'<img src="([^"]+)"')
# A drawn data mark (line, point, ...): axes, titles and legends carry this role as well.
MARK = re.compile(r'role="graphics-symbol" aria-roledescription="(?!axis"|title"|legend")')
ERROR = re.compile(r'<pre class="chart-error">([^<]+)')  # written by page.html when vega-embed fails


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """The command line that runs headless Chromium in a network namespace of its own. Session
    scope, listed before `reproduced`: a missing browser skips before the minute of `dvc repro`."""
    if shutil.which("chromium") is None:
        missing("chromium", "apt-get install chromium")
    # -n needs root; -rn (a user namespace) works unprivileged where the kernel allows it.
    for unshare in (["unshare", "-n"], ["unshare", "-rn"]):
        if shutil.which("unshare") and subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
            # --no-sandbox: Chromium's sandbox refuses to run as (namespace) root.
            return [*unshare, "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=30000",
                    f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]
    missing("`unshare -n` (permission for a network namespace)", "the browser runs with the network off")


def render(browser, page):
    """The DOM of `page` after its scripts ran (virtual time lets every chart finish)."""
    return subprocess.run([*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                          check=True, timeout=300).stdout


def drawn(dom, charts):
    """The charts (div ids) whose div in the rendered DOM holds an SVG with data marks."""
    starts = sorted((dom.index(f'<div id="{chart}"'), chart) for chart in charts)
    ends = [start for start, _ in starts[1:]] + [len(dom)]
    return {chart for (start, chart), end in zip(starts, ends)
            if "<svg" in dom[start:end] and MARK.search(dom[start:end])}


def declared(repo):
    """(vega charts, image files) in dvc.yaml: one per top-level plot and per stage output under
    `plots:`; a directory output stands for its files (metrics/plots: the figures)."""
    spec = pipeline(repo)
    entries = spec.get("plots", []) + [plot for stage in spec["stages"].values() for plot in stage.get("plots", [])]
    charts = images = 0
    for entry in entries:
        path = repo / (next(iter(entry)) if isinstance(entry, dict) else entry)
        files = [file for file in path.rglob("*") if file.is_file()] if path.is_dir() else [path]
        images += sum(file.suffix.lower() in IMAGES for file in files)
        charts += sum(file.suffix.lower() not in IMAGES for file in files)
    return charts, images


@pytest.mark.parametrize("command, revisions", [(["plots", "show"], 1), (["plots", "diff", "HEAD"], 2)],
                         ids=["show", "diff"])
def test_the_plots_page_draws_every_chart_with_the_network_off(browser, reproduced, tmp_path, command, revisions):
    out = tmp_path / "plots"
    dvc(reproduced, *command, "-o", str(out))  # the template comes from .dvc/config, as a user gets it
    page = (out / "index.html").read_text()
    assert not re.search(r"<script[^>]*\ssrc=", page), "the page loads a script from outside"
    body = page.split("<body>", 1)[1]  # the inlined vega-embed bundle holds an "<img src=" of its own
    charts, images = CHART.findall(body), IMG.findall(body)
    expected_charts, expected_images = declared(reproduced)
    assert len(charts) == expected_charts > 0
    assert len(images) == expected_images * revisions > 0  # one <img> per figure and revision
    assert [src for src in images if not (out / src).is_file()] == []

    dom = render(browser, out / "index.html")
    assert sorted(set(charts) - drawn(dom, charts)) == [], ERROR.findall(dom)


def test_dvc_default_page_draws_nothing_with_the_network_off(browser, reproduced, tmp_path):
    """Control: DVC's own page takes its scripts from a CDN, so offline no chart draws. This shows
    that the network really is off and that the check above tells a blank chart from a drawn one."""
    template, out = tmp_path / "default.html", tmp_path / "plots"
    template.write_text(PAGE_HTML)
    dvc(reproduced, "plots", "show", "--html-template", str(template), "-o", str(out))
    page = (out / "index.html").read_text()
    charts = CHART.findall(page)
    assert '<script src="https://cdn.jsdelivr.net/npm/vega@' in page and charts
    assert drawn(render(browser, out / "index.html"), charts) == set()


# A line mark's SVG path: its aria-label names the row's fields ("method: lamp; ..."), then its colour.
LINE = re.compile(r'<path[^>]*aria-label="([^"]*)"[^>]*aria-roledescription="line mark"[^>]*\sstroke="(#[0-9a-f]{6})"')


def test_the_page_opens_with_accuracy_and_draws_each_method_and_split_in_the_figures_colour(
        browser, reproduced, tmp_path):
    from prunelab.palette import colour
    out = tmp_path / "plots"
    dvc(reproduced, "plots", "show", "-o", str(out))
    body = (out / "index.html").read_text().split("<body>", 1)[1]
    charts = CHART.findall(body)
    # The order of the question: the stage outputs' charts as dvc.yaml writes them (train after
    # sensitivity), accuracy first; no top-level plot (those would come first); the images below.
    spec = pipeline(reproduced)
    assert "plots" not in spec
    outputs = [next(iter(entry)) for stage in spec["stages"].values() for entry in stage.get("plots", [])]
    assert charts == [re.sub(r"[/.]", "_", path) for path in outputs if not (reproduced / path).is_dir()]
    assert charts[:2] == ["metrics_prune_aggregate_csv", "metrics_prune_sweep_csv"]
    assert charts[-1] == "metrics_train_curve_csv"
    assert body.rindex("vegaEmbed(") < body.index('<img src="static/')
    drawn = {}
    for label, stroke in LINE.findall(render(browser, out / "index.html")):
        for field in ("method", "split"):
            if named := re.search(rf"\b{field}: ([\w-]+);", label):
                drawn.setdefault(named.group(1), set()).add(stroke)
    methods = {name for name in drawn if name not in ("train", "test")}
    assert len(methods) >= 3 and {"train", "test"} <= set(drawn)
    # One colour per method and split across every chart, the one the matplotlib figures use.
    assert drawn == {name: {colour(name)} for name in drawn}
