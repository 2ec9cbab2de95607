"""End to end: the real dvc binary on real git repositories, each test in its own copy."""
import ast
import csv
import io
import json
import re

import pytest
import yaml

from stages import paths
from tests.conftest import (ROOT, artifact_files, commit_all, dvc, imported_stage_files, pipeline, repro, set_param,
                            sh)
from tests.idx_files import write_set

STAGES = ["check-params", "generate-data", "train", "prune-sweep", "sensitivity", "plot"]
AFTER_TRAIN = ["prune-sweep", "sensitivity", "plot"]
ARTIFACTS = [paths.PARAMS_OK, paths.TRAIN_SPLIT, paths.TEST_SPLIT, paths.MODEL, paths.MODELS,
             f"{paths.STRUCTURED_DIR}/index.json", paths.DATA_METRICS, paths.TRAIN_METRICS, paths.TRAIN_CURVE,
             paths.PRUNE_SWEEP, paths.PRUNE_AGGREGATE,
             paths.PRUNE_METRICS, paths.SENSITIVITY, paths.SENSITIVITY_AGGREGATE,
             *(f"{paths.PLOTS_DIR}/{name}.png" for name in ("accuracy_vs_sparsity", "regimes_compared",
                                                          "nonzero_params_vs_level", "layer_sparsity_vs_level",
                                                          "sensitivity", "train_curve"))]


def test_repro_from_scratch_writes_every_artifact(committed, tmp_path):
    repo = tmp_path / "scratch"
    sh(tmp_path, "git", "clone", "-q", str(committed), str(repo))
    for name in ARTIFACTS + ["dvc.lock"]:
        (repo / name).unlink(missing_ok=True)
    ran, _ = repro(repo)
    assert ran == STAGES
    missing = [name for name in ARTIFACTS if not (repo / name).is_file()]
    assert missing == []
    assert dvc(repo, "status", "--json").stdout.strip() == "{}"


def test_fresh_clone_reproduces_the_committed_lock_and_metrics(committed, tmp_path):
    repo = tmp_path / "clone"
    sh(tmp_path, "git", "clone", "-q", str(committed), str(repo))
    assert "prune.json" in dvc(repo, "metrics", "show").stdout  # before any repro: metrics are in git
    ran, _ = repro(repo)
    # Only the cached artifacts are missing: data, models and the structured checkpoints.
    # They come back byte-identical to the lock, so the committed metrics and figures, which
    # prune-sweep rewrites identical, do not make sensitivity or plot rerun.
    assert ran == ["check-params", "generate-data", "train", "prune-sweep"]
    assert dvc(repo, "status", "--json").stdout.strip() == "{}"
    # The committed lock and metrics match the committed code and params, byte for byte.
    assert sh(repo, "git", "status", "--porcelain").stdout == ""
    assert "check-params" in dvc(repo, "dag").stdout


@pytest.mark.parametrize("section, key, value, expected", [
    ("data", "random_state", 7, STAGES),
    ("train", "seed", 1, ["check-params", "train", *AFTER_TRAIN]),
    ("model", "hidden_sizes", "[64]", ["check-params", "train", *AFTER_TRAIN]),
    # The sweep's rows do not depend on the tolerance, so its CSVs and the figures stay as they are.
    ("prune", "tolerance", 0.02, ["check-params", "prune-sweep"]),
    ("plot", "dpi", 80, ["check-params", "plot"]),
])
def test_a_param_change_reruns_exactly_its_stage_and_downstream(repo, section, key, value, expected):
    set_param(repo, section, key, value)
    ran, _ = repro(repo)
    assert ran == expected
    assert repro(repo)[0] == []


def test_a_new_pruning_level_reruns_sweep_and_plot(repo):
    path = repo / "params.yaml"
    path.write_text(path.read_text().replace("  - 0.5\n", "  - 0.5\n  - 0.55\n", 1))
    ran, _ = repro(repo)
    assert ran == ["check-params", "prune-sweep", "plot"]
    assert ",amount,0.55," in (repo / paths.PRUNE_AGGREGATE).read_text()


def test_a_new_sensitivity_level_reruns_sensitivity_and_plot(repo):
    path = repo / "params.yaml"
    text = path.read_text()
    head, tail = text.split("sensitivity:\n")
    path.write_text(head + "sensitivity:\n" + tail.replace("  - 0.5\n", "  - 0.5\n  - 0.55\n"))
    ran, _ = repro(repo)
    assert ran == ["check-params", "sensitivity", "plot"]
    assert ",0.55," in (repo / paths.SENSITIVITY_AGGREGATE).read_text()


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_depends_on_exactly_the_code_it_imports(stage):
    spec = pipeline()["stages"][stage]
    module = spec["cmd"].removeprefix("python -m ")
    declared = {dep for dep in spec["deps"] if dep.startswith(("stages/", "prunelab/"))}
    sections = [name.split(".")[0] for name in spec["params"]] if "params" in spec else None
    assert declared == imported_stage_files(module, sections)


def test_no_stage_imports_another_stage():
    # A stage's shared pieces live in stages/ (schema, artifacts, ...) or the library, so a
    # stage's code dependencies are its own module plus those, never another stage's module.
    modules = {spec["cmd"].removeprefix("python -m ") for spec in pipeline()["stages"].values()}
    for module in modules:
        tree = ast.parse((ROOT / f"{module.replace('.', '/')}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     for alias in node.names}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert imported & (modules - {module}) == set(), module


def test_editing_plot_code_reruns_only_plot(repo):
    with open(repo / "stages/plot.py", "a") as handle:
        handle.write("\n# an edit\n")
    assert repro(repo)[0] == ["plot"]


def test_metrics_and_params_diff_between_branches(repo):
    sh(repo, "git", "checkout", "-q", "-b", "other-seed")
    set_param(repo, "train", "seed", 3)
    repro(repo)
    commit_all(repo, "train seed 3")
    old = json.loads(sh(repo, "git", "show", f"main:{paths.TRAIN_METRICS}").stdout)["test_accuracy"]
    new = json.loads((repo / paths.TRAIN_METRICS).read_text())["test_accuracy"]
    assert old != new
    diff = json.loads(dvc(repo, "metrics", "diff", "main", "other-seed", "--json").stdout)
    assert diff[paths.TRAIN_METRICS]["test_accuracy"]["old"] == old
    assert diff[paths.TRAIN_METRICS]["test_accuracy"]["new"] == new
    assert "dense_accuracy_mean" in diff[paths.PRUNE_METRICS]
    assert "global-magnitude.one-shot.max_sparsity_within_tolerance_mean" in diff[paths.PRUNE_METRICS]
    params = dvc(repo, "params", "diff", "main", "other-seed").stdout
    assert re.search(r"train.seed\s+0\s+3", params)
    dvc(repo, "plots", "diff", "main", "other-seed", "-o", "diff")
    html = (repo / "diff/index.html").read_text()
    assert '"rev": "main"' in html and '"rev": "other-seed"' in html


def declared_charts(repo):
    """(titles of vega charts, image folders) that dvc.yaml declares: its top-level plots and
    every output under a stage's `plots:`, which DVC draws as a chart of its own."""
    spec = pipeline(repo)
    entries = [next(iter(entry.items())) if isinstance(entry, dict) else (entry, None) for entry in spec.get("plots", [])]
    for stage in spec["stages"].values():
        entries += [next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
                    for entry in stage.get("plots", [])]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    titles = [re.sub(r"\$\{(\w+)\.(\w+)\}", lambda key: str(params[key[1]][key[2]]), props["title"])
              for name, props in entries if not (repo / name).is_dir()]  # ${train.seed}: DVC fills in params
    folders = [name for name, props in entries if (repo / name).is_dir()]
    return titles, folders


def test_plots_show_renders_every_declared_plot_once(repo, tmp_path):
    out = tmp_path / "plots"
    dvc(repo, "plots", "show", "-o", str(out))
    html = (out / "index.html").read_text()
    titles, folders = declared_charts(repo)
    assert len(titles) == len(set(titles)) >= 5
    for title in titles:
        assert html.count(f'"text": {json.dumps(title)}') == 1, title
    # No chart beyond those: an output under a stage's plots: adds one automatically.
    assert html.count('"$schema"') == len(titles)
    for folder in folders:
        for image in sorted((repo / folder).iterdir()):
            assert html.count(f"{image.name}") >= 1, image


def test_repro_force_leaves_the_lock_unchanged(repo):
    before = artifact_files(repo)
    ran, _ = repro(repo, "--force")
    assert ran == STAGES
    assert artifact_files(repo) == before


@pytest.mark.parametrize("section, key, value, message", [
    ("data", "n_samples", 0, "data.n_samples = 0: expected an integer in [2, 10**6]"),
    ("data", "test_size", 1.5, "data.test_size = 1.5: expected a number in (0, 1)"),
    ("model", "hidden_sizes", -3, "model.hidden_sizes = -3: expected a non-empty list of integers in [1, 10**5]"),
    ("train", "lr", "fast", "train.lr = 'fast': expected a number > 0"),
    ("train", "epochs", 2.5, "train.epochs = 2.5: expected an integer in [1, 10**5]"),
    ("prune", "tolerance", -1, "prune.tolerance = -1: expected a number in [0, 1]"),
    ("plot", "format", "pdf", "plot.format = 'pdf': expected png or svg"),
])
def test_bad_params_fail_in_one_line_and_touch_no_artifact(repo, section, key, value, message):
    before = artifact_files(repo)
    set_param(repo, section, key, value)
    ran, result = repro(repo, check=False)
    assert result.returncode != 0
    assert ran == ["check-params"]
    ours = [line for line in result.stderr.splitlines() if line.startswith("error: params.yaml")]
    assert ours == [f"error: params.yaml: {message}"]
    assert "Traceback" not in result.stdout + result.stderr
    assert artifact_files(repo) == before


def test_bad_amount_fails_before_any_retraining(repo):
    before = artifact_files(repo)
    set_param(repo, "train", "seed", 5)  # valid, would retrain
    text = (repo / "params.yaml").read_text().replace("  - 0.5\n", "  - 1.5\n", 1)
    (repo / "params.yaml").write_text(text)
    ran, result = repro(repo, check=False)
    assert ran == ["check-params"]
    assert "error: params.yaml: prune.amounts[19] = 1.5: expected a fraction in [0, 1)" in result.stderr
    assert artifact_files(repo) == before


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace("  seed: 0\n", "  seed: 0\n  sead: 1\n"), "unknown key train.sead"),
    (lambda text: text.replace("plot:\n", "plots:\n"), "unknown section 'plots'"),
    (lambda text: text.split("prune:\n")[0] + "plot:\n" + text.split("plot:\n")[1],
     "missing section 'prune'"),
])
def test_unknown_keys_and_missing_sections_are_one_line_errors(repo, edit, message):
    before = artifact_files(repo)
    path = repo / "params.yaml"
    path.write_text(edit(path.read_text()))
    ran, result = repro(repo, check=False)
    assert result.returncode != 0
    assert "check-params" in ran and "train" not in ran
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert artifact_files(repo) == before


def test_exp_run_with_set_param(repo):
    result = dvc(repo, "exp", "run", "-S", "prune.tolerance=0.05", "-n", "loose")
    assert "Running stage 'prune-sweep'" in result.stdout
    assert "Running stage 'train'" not in result.stdout
    header, *rows = csv.reader(io.StringIO(dvc(repo, "exp", "show", "--csv").stdout))
    loose = next(dict(zip(header, row)) for row in rows if row[0] == "loose")
    assert loose["prune.tolerance"] == "0.05"
    assert float(loose["global-magnitude.one-shot.max_sparsity_within_tolerance_mean"]) > 0


def use_csv(repo):
    """params.yaml on the example CSV (iris: three classes, labels as names) with two hidden layers."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"] = {"source": "csv", "path": "datasets/iris.csv", "target": "species", "random_state": 42,
                      "test_size": 0.3, "standardize": True}
    params["model"]["hidden_sizes"] = [8, 4]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_a_csv_dataset_runs_any_depth_and_editing_it_reruns_generate_data(repo):
    use_csv(repo)
    ran, _ = repro(repo)
    assert ran == STAGES
    header = (repo / paths.PRUNE_SWEEP).read_text().split("\n")[0].split(",")
    assert {"fc1_sparsity", "fc2_sparsity", "fc3_sparsity", "fc3_empty"} <= set(header)
    assert json.loads((repo / paths.DATA_METRICS).read_text())["features"] == 4
    assert "class_2" in json.loads((repo / paths.DATA_METRICS).read_text())["train"]
    assert {"fc1", "fc2", "fc3"} == {row.split(",")[0] for row in
                                     (repo / paths.SENSITIVITY_AGGREGATE).read_text().split("\n")[1:] if row}
    commit_all(repo, "iris csv")
    # Editing the file reruns what reads it; the split changes, so everything downstream reruns.
    csv_path = repo / "datasets/iris.csv"
    csv_path.write_text(csv_path.read_text().replace("5.1,3.5,1.4,0.2,setosa", "5.2,3.5,1.4,0.2,setosa", 1))
    ran, _ = repro(repo)
    assert ran[:3] == ["check-params", "generate-data", "train"]
    # A bad edit stops at check-params, before generate-data deletes anything.
    before = artifact_files(repo)
    csv_path.write_text(csv_path.read_text().replace("4.9,3,1.4,0.2,setosa", "4.9,n/a,1.4,0.2,setosa", 1))
    ran, result = repro(repo, check=False)
    assert result.returncode != 0 and ran == ["check-params"]
    ours = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert ours == ["error: datasets/iris.csv: line 3, column 'sepal_width' = 'n/a'; expected a finite number "
                    "(every column but 'species' is a feature)"]
    assert "Traceback" not in result.stdout + result.stderr
    assert artifact_files(repo) == before


def test_a_make_classification_key_with_another_source_touches_nothing(repo):
    before = artifact_files(repo)
    set_param(repo, "data", "source", "digits")
    ran, result = repro(repo, check=False)
    assert ran == ["check-params"] and result.returncode != 0
    assert ("error: params.yaml: data.n_samples is set, but it applies only to data.source make_classification "
            "and data.source is digits; expected it removed") in result.stderr
    assert artifact_files(repo) == before


# dvc.lock's output md5s since Adam's square root became numpy's IEEE one (prunelab/fit.py:
# torch's followed the CPU, which moved the weights' last bits; CHANGELOG.md says what changed). A refactor must keep
# these bytes; a change that moves them changes results, and says so there.
DEFAULT_OUTPUTS = {
    paths.TRAIN_SPLIT: "11f0875ae079bad0ea846b9b19136952",
    paths.TEST_SPLIT: "e264b39154a6fc0901f171ecfa9d431e",
    paths.MODEL: "ac770ab74aee21c16f6bd9b356d893cb",
    paths.MODELS: "902c506b4cab1850582e7d29a5a57471",
    paths.PRUNE_SWEEP: "adbcc00cdd03251cefbf94be16826185",
    paths.PRUNE_METRICS: "d9635d1fe4b28df3bccd094ce57fc7f1",
    paths.SENSITIVITY: "fa8068cbbd5744d3496d792ee925dff6",
    paths.TRAIN_METRICS: "72d9283e9d6fd0f2d7637d798bf46176",
    paths.DATA_METRICS: "523bd8dcfffa1633d91e6ec2a63b4b7a",
}


def test_the_default_outputs_are_the_recorded_ones():
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    md5s = {out["path"]: out["md5"] for stage in lock.values() for out in stage.get("outs", [])}
    assert {path: md5s[path] for path in DEFAULT_OUTPUTS} == DEFAULT_OUTPUTS


def test_a_users_module_runs_by_exp_run_and_editing_its_file_retrains(repo):
    """`dvc exp run -S model.arch=module`: the README's walkthrough form, on tiny IDX images;
    dvc.yaml's models/ dependency reruns train when the module's file changes."""
    write_set(repo / "datasets/tiny", train=32, test=16, classes=4, rows=8, columns=8)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"] = {"source": "idx", "path": "datasets/tiny", "random_state": 42, "standardize": False}
    params["train"].update({"epochs": 1, "repeats": 1, "batch_size": 16})
    params["prune"].update({"amounts": [0.5], "methods": ["global-magnitude"], "regimes": ["one-shot"]})
    params["sensitivity"]["amounts"] = [0.5]
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit_all(repo, "tiny images")
    result = dvc(repo, "exp", "run", "-S", "model.arch=module", "-S", "model.module=models/small_cnn.py:SmallCNN")
    assert "Running stage 'train'" in result.stdout and "Running stage 'prune-sweep'" in result.stdout
    header = (repo / paths.PRUNE_SWEEP).read_text().split("\n")[0].split(",")
    assert {"features.0_sparsity", "features.3_sparsity", "classifier_sparsity"} <= set(header)
    module = repo / "models/small_cnn.py"
    module.write_text(module.read_text().replace("nn.Conv2d(8, 16, 3", "nn.Conv2d(8, 16, 3, bias=True"))
    ran, _ = repro(repo)
    assert ran[:2] == ["check-params", "train"] and "prune-sweep" in ran
