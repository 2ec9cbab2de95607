"""Every params key changes what it should and nothing else.

One small pipeline (every stage but check-params) runs once; then, for each key of the schema,
a copy of it gets another value of that key and its stages run as `dvc repro` would run them:
a stage reruns when a params section it declares in dvc.yaml changed or one of its deps did,
and is skipped otherwise. The files that then differ from the baseline must be exactly the
outputs of the stages the key is expected to move (at least one file of each), and no other.
A key whose stage silently ignores it, or that moves a stage it should not, fails here.

Keys of the other data sources (csv, idx) and of conv nets (model.arch, model.module,
model.conv_relu, prune.iterative_conv_rate) are covered by their own tests, named below and checked to exist; `train.device` is covered by the CUDA tests (none here: no GPU).
"""
import ast
import functools
import re
import shutil
from pathlib import Path

import pytest
import yaml

from stages import generate_data, paths, plot, prune_sweep, schema, sensitivity, train
from tests.conftest import ROOT, SMALL

RUN = {"generate-data": generate_data.main, "train": train.main, "prune-sweep": prune_sweep.main,
       "sensitivity": sensitivity.main, "plot": plot.main}
# A sweep in which every prune key has something to act on: a random method (prune.seed), a
# layer-wise one (iterative_output_rate), every kind of training regime, two levels.
PRUNE = {"methods": ["layerwise-magnitude", "global-random"],
         "regimes": ["one-shot", "fine-tune", "iterative", "lottery-ticket", "gradual"],
         "amounts": [0.3, 0.5], "thresholds": [], "finetune_epochs": 2, "gradual_epochs": 2}
# Two seeds, and make_classification at one cluster per class so that 3 classes are allowed.
BASELINE = {"train.repeats": 2, "data.n_clusters_per_class": 1, "sensitivity.amounts": [0.5, 0.9]}
SWEEP, LAYERS, DATA, MODEL, FIGURES = ("prune-sweep",), ("sensitivity", "plot"), ("generate-data",), ("train",), ("plot",)
AFTER_DATA = DATA + MODEL + SWEEP + LAYERS
AFTER_MODEL = MODEL + SWEEP + LAYERS

# key -> (another value, the stages whose outputs it moves). A value of None removes the key.
CHANGES = {
    "data.random_state": (7, AFTER_DATA),
    "data.test_size": (0.4, AFTER_DATA),
    "data.standardize": (True, AFTER_DATA),
    "data.n_samples": (240, AFTER_DATA),
    "data.n_features": (8, AFTER_DATA),
    "data.n_classes": (3, AFTER_DATA),
    "data.n_clusters_per_class": (2, AFTER_DATA),
    "model.hidden_sizes": ([12], AFTER_MODEL),
    "train.seed": (5, AFTER_MODEL),
    "train.epochs": (6, AFTER_MODEL),
    "train.lr": (0.02, AFTER_MODEL),
    "train.repeats": (3, AFTER_MODEL),
    "train.batch_size": (64, AFTER_MODEL),
    # The sweep's levels and methods, and so the figures drawn from its table.
    "prune.amounts": ([0.3, 0.6], SWEEP + FIGURES),
    "prune.thresholds": ([0.05], SWEEP + FIGURES),
    "prune.methods": (["global-random"], SWEEP + FIGURES),
    "prune.regimes": (["one-shot", "gradual"], SWEEP + FIGURES),
    "prune.finetune_epochs": (3, SWEEP + FIGURES),
    "prune.finetune_lr": (0.003, SWEEP + FIGURES),
    "prune.seed": (7, SWEEP + FIGURES),
    # Only which rows count as unharmed: prune.json, not the tables the figures are drawn from.
    "prune.tolerance": (0.05, SWEEP),
    "prune.compressions": ([4], SWEEP + FIGURES),
    "prune.speedups": ([4], SWEEP + FIGURES),
    "prune.dense_budget": (True, SWEEP + FIGURES),
    "prune.max_output_sparsity": (0.3, SWEEP + FIGURES),
    "prune.iterative_rate": (0.3, SWEEP + FIGURES),
    "prune.iterative_output_rate": (0.05, SWEEP + FIGURES),
    "prune.rewind_epoch": (1, SWEEP + FIGURES),
    "prune.gradual_epochs": (3, SWEEP + FIGURES),
    "prune.gradual_every": (2, SWEEP + FIGURES),
    "sensitivity.amounts": ([0.3, 0.6], LAYERS),
    "plot.width": (5.0, FIGURES),
    "plot.height": (3.0, FIGURES),
    "plot.dpi": (72, FIGURES),
    "plot.format": ("svg", FIGURES),
}
# A change of source also drops the default source's own keys (a key of another source is an error).
SOURCE_CHANGE = {"data.source": "iris", "data.n_samples": None, "data.n_features": None, "data.n_classes": None,
                 "data.n_clusters_per_class": None}
ELSEWHERE = {
    "data.path": "tests/stages/test_generate_data.py::test_a_csv_source_reads_the_file_under_datasets",
    "data.target": "tests/stages/test_generate_data.py::test_a_csv_source_reads_the_file_under_datasets",
    "data.limit_train": "tests/stages/test_generate_data.py::test_an_idx_source_keeps_the_sets_own_split",
    "data.limit_test": "tests/prunelab/test_idx.py::test_limits_keep_a_seeded_class_stratified_subset",
    "train.device": "tests/prunelab/test_fit.py::test_cuda_trains_as_the_cpu_does_to_float_rounding",
    # A conv net needs images (the baseline's rows of features refuse it): tiny IDX images there.
    "model.arch": "tests/stages/test_conv_pipeline.py::test_lenet5_runs_every_stage_on_images_of_its_shape",
    "model.module": "tests/stages/test_conv_pipeline.py::"
                    "test_a_seed_trained_in_a_stack_is_its_solo_run_and_the_conv_rate_moves_only_conv_layers",
    "model.conv_relu": "tests/stages/test_conv_pipeline.py::"
                       "test_model_conv_relu_builds_lenet5_with_a_relu_after_each_conv_in_every_stage",
    "prune.iterative_conv_rate": "tests/stages/test_conv_pipeline.py::"
                                 "test_a_seed_trained_in_a_stack_is_its_solo_run_and_the_conv_rate_moves_only_conv_layers",
}


@functools.cache
def stages():
    """dvc.yaml's stages in run order: name -> (params sections, deps, outputs), paths resolved."""
    text = (ROOT / "dvc.yaml").read_text()
    variables = {name: getattr(paths, name) for name in dir(paths) if name.isupper()}
    declared = yaml.safe_load(re.sub(r"\$\{(\w+)\}", lambda match: variables[match.group(1)], text))["stages"]

    def names(entries):
        return [next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries or []]

    found = {name: (names(stage.get("params")), names(stage.get("deps")),
                    names(stage.get("outs")) + names(stage.get("metrics")) + names(stage.get("plots")))
             for name, stage in declared.items() if name in RUN}
    # In the order DVC runs them (each after the stages whose outputs it reads), not the file's:
    # dvc.yaml writes train after sensitivity for the plots page's order.
    ordered = {}
    while len(ordered) < len(found):
        ready = next(name for name, (_, deps, _) in found.items() if name not in ordered and all(
            other in ordered for other, (_, _, outs) in found.items() if other != name and set(outs) & set(deps)))
        ordered[ready] = found[ready]
    return ordered


def files(folder, path):
    """path's files (or the file itself) under folder: relative path -> bytes."""
    target = folder / path
    found = sorted(target.rglob("*")) if target.is_dir() else [target] if target.exists() else []
    return {str(item.relative_to(folder)): item.read_bytes() for item in found if item.is_file()}


def edited(params, changes):
    params = {section: dict(values) for section, values in params.items()}
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        if value is None:
            params[section].pop(key, None)
        else:
            params[section][key] = value
    return params


def repro(folder, before, after):
    """Run, in folder, each stage whose declared params or deps changed; return the stages run."""
    ran, moved = [], set()
    for name, (sections, deps, outs) in stages().items():
        params_moved = any(before.get(section) != after.get(section) for section in sections)
        if params_moved or any(path in moved or any(out.startswith(path + "/") for out in moved) for path in deps):
            old = {path: files(folder, path) for path in outs}
            RUN[name]()
            ran.append(name)
            moved |= {path for path in outs if files(folder, path) != old[path]}
    return ran


def outputs(folder):
    return {name: {path: files(folder, path) for path in outs} for name, (_, _, outs) in stages().items()}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every-key")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = edited(params, {f"{section}.{key}": value for section, values in SMALL.items() for key, value in values.items()})
    params = edited(params, {f"prune.{key}": value for key, value in PRUNE.items()} | BASELINE)
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in RUN:
            RUN[name]()
    return folder, params, outputs(folder)


def run_change(baseline, tmp_path, monkeypatch, changes):
    folder, params, before = baseline
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    monkeypatch.chdir(copy)
    new = edited(params, changes)
    (copy / "params.yaml").write_text(yaml.safe_dump(new, sort_keys=False))
    schema.validate(new)
    repro(copy, params, new)
    after = outputs(copy)
    return {name for name in before if after[name] != before[name]}, before, after


@pytest.mark.parametrize("dotted", sorted(CHANGES))
def test_a_key_moves_exactly_its_stages(baseline, tmp_path, monkeypatch, dotted):
    value, expected = CHANGES[dotted]
    section, key = dotted.split(".")
    assert baseline[1][section][key] != value, f"{dotted}: the change must differ from the baseline"
    moved, _, _ = run_change(baseline, tmp_path, monkeypatch, {dotted: value})
    assert moved == set(expected), f"{dotted} moved {sorted(moved)}"


def test_the_source_moves_everything_from_the_data_on(baseline, tmp_path, monkeypatch):
    moved, before, after = run_change(baseline, tmp_path, monkeypatch, SOURCE_CHANGE)
    assert moved == set(AFTER_DATA)
    # Iris: 4 features, 3 classes, whatever make_classification's keys said.
    assert '"features": 4' in after["generate-data"][paths.DATA_METRICS][paths.DATA_METRICS].decode()


def test_the_tolerance_moves_prune_json_alone(baseline, tmp_path, monkeypatch):
    _, before, after = run_change(baseline, tmp_path, monkeypatch, {"prune.tolerance": 0.05})
    sweep_before, sweep_after = before["prune-sweep"], after["prune-sweep"]
    assert [path for path in sweep_before if sweep_before[path] != sweep_after[path]] == [paths.PRUNE_METRICS]


def test_every_key_of_the_schema_has_its_test():
    every = {f"{section}.{key}" for section in schema.SCHEMA for key in schema.section_keys(section)}
    assert every == set(CHANGES) | set(ELSEWHERE) | {"data.source"}
    for key, where in ELSEWHERE.items():
        path, name = where.split("::")
        tree = ast.parse(Path(ROOT / path).read_text())
        assert name in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}, f"{key}: {where}"
