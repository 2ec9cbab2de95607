"""Write .dvc/plots/page.html: the HTML page template of `dvc plots show` / `dvc plots diff`
with vega, vega-lite and vega-embed inlined, so that the page draws with the network off.

DVC's default page loads these three scripts from a CDN (its {scripts} placeholder); this
template has no {scripts}, so DVC adds no CDN tag, and carries the very versions that DVC's
tags name. The tarballs come from the npm registry with `npm pack`, which, unlike
`npm install`, fetches a package without resolving its peers. Rerun to rebuild the page:
    python tools/build_plots_template.py
It also writes tools/plots_template_versions.md (versions, integrity, licences).
"""
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: stages.artifacts, the one way prunelab writes a file
from stages import run  # noqa: E402
from stages.artifacts import write_bytes  # noqa: E402

PAGE = ROOT / ".dvc" / "plots" / "page.html"
RECORD = ROOT / "tools" / "plots_template_versions.md"
# Loaded in this order: vega-embed's UMD bundle reads the globals `vega` and `vegaLite`.
PACKAGES = {"vega": "5.20.2", "vega-lite": "5.2.0", "vega-embed": "6.18.2"}
LICENSE = "BSD-3-Clause"
PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")

HEAD = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
{refresh_tag}
<title>prunelab plots</title>
<style>
  body { font-family: sans-serif; margin: 1.5em; color: #222; }
  body > div { margin-bottom: 2.5em; }
  table { border-spacing: 15px; }
  /* Figures, one per revision side by side in `dvc plots diff`: shrunk to the page's width. */
  div:has(> div > img) { white-space: normal !important; }
  div:has(> div > img) > div { max-width: calc(100% - 16px); box-sizing: border-box; }
  div:has(> div + div > img) > div { max-width: calc(50% - 16px); }
  div > div > img { max-width: 100%; height: auto; }
</style>
"""
# DVC calls vegaEmbed('#id', spec) with no options. Draw as SVG, so that a chart's marks are
# DOM nodes (sharp when zoomed, and visible to tests/test_plots_page.py), and show a failed
# chart's error in its div instead of leaving it blank (vega-embed only rejects a promise).
WRAPPER = """<script>
const embedOriginal = window.vegaEmbed;
window.vegaEmbed = Object.assign((el, spec, opt) =>
  embedOriginal(el, spec, { renderer: "svg", ...opt }).catch((error) => {
    const div = typeof el === "string" ? document.querySelector(el) : el;
    div.insertAdjacentHTML("beforeend", '<pre class="chart-error"></pre>');
    div.lastChild.textContent = "chart failed to render: " + error;
    throw error;
  }), embedOriginal);
</script>
"""
TAIL = """</head>
<body>
<h1>prunelab plots</h1>
{plot_divs}
</body>
</html>
"""


def fetch(workdir):
    """npm pack each package into workdir; return npm's report for each, in PACKAGES order."""
    specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
    out = subprocess.run(["npm", "pack", *specs, "--json", "--pack-destination", str(workdir)],
                         cwd=workdir, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def read_package(workdir, report):
    """(minified bundle text, package.json) of one tarball, after checking its integrity."""
    tarball = workdir / report["filename"]
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != report["integrity"]:
        raise SystemExit(f"{tarball.name}: sha512 {digest} != npm's {report['integrity']}")
    with tarfile.open(tarball) as tar:
        meta = json.load(tar.extractfile("package/package.json"))
        script = tar.extractfile(f"package/build/{report['name']}.min.js").read().decode()
    # The .map files are not shipped: drop the comment that sends devtools looking for them.
    script = "\n".join(line for line in script.splitlines() if not line.startswith("//# sourceMappingURL="))
    if (meta["name"], meta["version"]) != (report["name"], PACKAGES[report["name"]]):
        raise SystemExit(f"{tarball.name}: package.json says {meta['name']}@{meta['version']}")
    if meta["license"] != LICENSE:
        raise SystemExit(f"{tarball.name}: licence {meta['license']}, expected {LICENSE}")
    # Inlined, "</script" would end the tag early, and a placeholder would be filled by DVC.
    for text in ("</script", *PLACEHOLDERS):
        if text in script:
            raise SystemExit(f"{tarball.name}: bundle contains {text!r}; cannot inline it as is")
    return script, meta


def main():
    if shutil.which("npm") is None:
        raise SystemExit("npm not found: apt-get install npm")
    with tempfile.TemporaryDirectory() as tmp:
        reports = fetch(Path(tmp))
        packages = [(report, *read_package(Path(tmp), report)) for report in reports]
    scripts = "".join(f"<!-- {meta['name']} {meta['version']}, {meta['license']} -->\n<script>{script}</script>\n"
                      for _, script, meta in packages)
    page = HEAD + scripts + WRAPPER + TAIL
    assert page.count("{plot_divs}") == 1 and "{scripts}" not in page
    write_bytes(PAGE, page.encode("utf8"))
    rows = "".join(f"| {meta['name']} | {meta['version']} | {meta['license']} | `build/{meta['name']}.min.js` "
                   f"| `{report['integrity']}` |\n" for report, _, meta in packages)
    write_bytes(RECORD, (
        "# Scripts inlined in .dvc/plots/page.html\n\n"
        "Written by `tools/build_plots_template.py` from `npm pack NAME@VERSION`; each tarball's sha512\n"
        "was checked against the integrity npm reported, each licence read from its package.json.\n"
        "These are the versions that DVC's default page loads from cdn.jsdelivr.net.\n\n"
        "| package | version | licence | file | tarball integrity |\n|---|---|---|---|---|\n" + rows).encode())
    print(f"wrote {PAGE.relative_to(ROOT)}: {PAGE.stat().st_size} bytes")


if __name__ == "__main__":
    run(main)
