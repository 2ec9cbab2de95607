"""The README and docs/ quote commands' output; these tests rerun the commands and compare.

They also keep the front door small (README.md at most 12,000 characters), every relative link and
#anchor between README.md, CHANGELOG.md and docs/*.md pointing at something that exists, and the
README's Layout block naming only paths the tree holds.
"""
import re
import subprocess
import sys

import pytest

from stages.schema import markdown_table
from stages import paths
from tests.conftest import ROOT, dvc, sh


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def block(name):
    """A quoted block, from the README or the docs/ pages it links to."""
    text = "\n".join(path.read_text() for path in DOCS)
    match = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->", text, re.S)
    assert match, f"README and docs/ have no <!-- {name} --> block"
    return match.group(1).strip().removeprefix("```").removesuffix("```").strip()


def test_params_table_is_the_schemas():
    assert block("params") == markdown_table()


def test_train_metrics_table_is_what_dvc_shows(committed):
    assert block("metrics:train") == dvc(committed, "metrics", "show", "--md", paths.TRAIN_METRICS).stdout.strip()


def test_results_table_is_what_aggregate_prints(committed):
    assert block("results") == sh(committed, sys.executable, "-m", "stages.results").stdout.strip()


def test_costs_block_is_the_committed_csv(committed):
    rows = sh(committed, "awk", "-F,", 'NR == 1 || ($1 == "global-magnitude" && $2 == "one-shot" && $3 == 0 && $6 >= 0.5)',
              paths.PRUNE_SWEEP).stdout
    cut = subprocess.run(["cut", "-d,", "-f6,8,9,11,14,17,18,19,21,22,23,25"], input=rows, capture_output=True,
                         text=True, check=True).stdout
    assert block("costs") == cut.strip()


def test_the_costs_command_is_the_one_the_readme_names():
    assert ("`awk -F, 'NR == 1 || ($1 == \"global-magnitude\" && $2 == \"one-shot\" && $3 == 0 && $6 >= 0.5)' "
            "metrics/prune_sweep.csv | cut -d, -f6,8,9,11,14,17,18,19,21,22,23,25`") in "\n".join(p.read_text() for p in DOCS)


@pytest.mark.parametrize("name, pattern", [("bench", r"defaults / single-seed one-shot: \d+\.\d+x"),
                                           ("bench:seeds", r"15 seeds batched / 1 seed: \d+\.\d+x"),
                                           ("bench:pinned", r"pinned / unpinned: \d+\.\d+x"),
                                           ("bench:scale", r"hidden 1024, batch 1024 / two-core GEMM \| \d+\.\d+ \|"),
                                           ("bench:real-images", r"batch 256, 3 seeds / two-core GEMM \| \d+\.\d+ \|"),
                                           ("bench:front-door", r"check-params alone, this commit / \w+: \d+\.\d+x"),
                                           ("bench:latency", r"\| 256 \| \d+\.\d \| (scipy|torch)-csr \| \d+\.\d \| \d+\.\d\d \|")])
def test_bench_blocks_hold_a_measurement(name, pattern):
    assert re.search(pattern, block(name))


README = ROOT / "README.md"
LINKED = [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose(text):
    """The text outside fenced code blocks, with inline code spans blanked: what GitHub renders as links and headings."""
    lines, fence = [], None
    for line in text.splitlines():
        opener = re.match(r" {0,3}(`{3,}|~{3,})", line)
        if fence is None and opener:
            fence = opener.group(1)
        elif fence is not None and re.fullmatch(rf" {{0,3}}{fence[0]}{{{len(fence)},}}\s*", line):
            fence = None
        elif fence is None:
            lines.append(re.sub(r"`[^`]*`", lambda m: m.group(0).replace("[", " ").replace("]", " "), line))
    return "\n".join(lines)


def slug(heading):
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    """Every heading anchor of a markdown file, repeated headings numbered -1, -2, ... as GitHub does."""
    seen, found = {}, set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose(path.read_text()), re.M):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def test_readme_is_at_most_12000_characters():
    assert len(README.read_text()) <= 12_000


def test_relative_links_and_anchors_exist():
    broken = []
    for path in LINKED:
        for target in LINK.findall(prose(path.read_text())):
            if re.match(r"[a-z][a-z0-9+.-]*:|//", target, re.I):
                continue  # https:, mailto: ...
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            where = f"{path.relative_to(ROOT)}: ({target})"
            if not linked.exists():
                broken.append(f"{where}: no file {file}")
            elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
                broken.append(f"{where}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


def layout_names():
    """The paths the README's Layout block names.

    The block is the first fenced block under `## Layout`. On each line, the names come before the
    first run of two or more spaces (the rest is a description) and are separated by commas. An
    unindented name is relative to the repository root; an indented one to the last unindented
    line that names one folder (ending in `/`). A name ending in `/` is a folder.
    """
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", README.read_text(), re.S | re.M)
    assert section, "README.md has no ## Layout section"
    block = re.search(r"^```[^\n]*\n(.*?)^```", section.group(1), re.S | re.M)
    assert block, "README.md's ## Layout section has no fenced block"
    names, folder = [], None
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        indented = line[0].isspace()
        entry = re.split(r" {2,}", line.strip(), maxsplit=1)[0]
        parts = [name.strip() for name in entry.split(",") if name.strip()]
        if indented:
            assert folder, f"Layout: an indented line under no folder line: {line!r}"
            names += [folder + name for name in parts]
        else:
            names += parts
            folder = parts[0] if len(parts) == 1 and parts[0].endswith("/") else None
    return names


def test_layout_names_what_the_tree_holds():
    names = layout_names()
    assert {"dvc.yaml", "params.yaml", "prunelab/", "prunelab/numerics.py", "stages/train.py",
            "Makefile", ".ci/run"} <= set(names), names
    missing = [name for name in names
               if not ((ROOT / name).is_dir() if name.endswith("/") else (ROOT / name).is_file())]
    assert not missing, f"README's Layout names what the tree lacks: {missing}"


@pytest.mark.parametrize("name, folder", [("results:protocols", "protocols-global-magnitude"),
                                          ("results:protocols-methods", "protocols-methods"),
                                          ("results:protocols-guard", "protocols-guard"),
                                          ("results:protocols-all", "protocols-all"),
                                          ("results:protocols-digits", "protocols-digits-300-100")])
def test_kept_results_tables_are_what_stages_results_prints_of_their_files(name, folder):
    from stages.results import markdown_table as results_table
    assert block(name) == results_table(ROOT / "docs" / "results" / folder / "prune.json")
