"""Params whose defaults equal another key's (prune.finetune_lr = train.lr, prune.seed =
train.seed) or that no other test moves at stage level (train.batch_size): each set to another
value changes what it should, and nothing else, in the stages' real outputs."""
import csv
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from prunelab.model import as_tensors
from stages import generate_data, paths, prune_sweep, train
from stages.artifacts import load_split
from stages.checkpoints import load_stack
from tests.conftest import ROOT, SMALL

PRUNE = {"methods": ["global-magnitude", "global-random"], "regimes": ["one-shot", "fine-tune"],
         "amounts": [0.5, 0.9], "thresholds": []}


def outputs(folder):
    """Every file the stages wrote: path -> bytes."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for top in ("data", "metrics") for path in sorted((folder / top).rglob("*")) if path.is_file()}


def set_params(folder, section, **values):
    path = folder / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def sweep_rows(method=None, regime=None):
    with open(paths.PRUNE_SWEEP, newline="") as handle:
        return [row for row in csv.DictReader(handle)
                if method in (None, row["method"]) and regime in (None, row["regime"])]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """generate-data, train and prune-sweep run once on small params (files: path -> bytes)."""
    folder = tmp_path_factory.mktemp("baseline")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in {**SMALL, "prune": {**SMALL["prune"], **PRUNE}}.items():
        params[section].update(values)
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        generate_data.main()
        train.main()
        prune_sweep.main()
    return folder


@pytest.fixture
def run(baseline, tmp_path, monkeypatch):
    """A copy of the baseline, made the current directory, and its files before any change."""
    folder = tmp_path / "run"
    shutil.copytree(baseline, folder)
    monkeypatch.chdir(folder)
    return folder, outputs(baseline)


def changed(before, after):
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def test_train_batch_size_gives_minibatch_training_and_leaves_the_data(run):
    folder, before = run
    defaults = yaml.safe_load(Path("params.yaml").read_text())
    assert defaults["train"]["batch_size"] == 0
    set_params(folder, "train", batch_size=64)
    train.main()
    after = outputs(folder)
    assert set(changed(before, after)) == {paths.MODEL, paths.MODELS, paths.TRAIN_METRICS, paths.TRAIN_CURVE}
    # The stage trained with minibatches of 64: the weights are train()'s with batch_size 64.
    data = as_tensors(*load_split(paths.TRAIN_SPLIT)) + as_tensors(*load_split(paths.TEST_SPLIT))
    settings = defaults["train"]
    seeds = list(range(settings["seed"], settings["seed"] + settings["repeats"]))
    expected, _ = train.train(*data, defaults["model"]["hidden_sizes"], seeds, settings["epochs"], settings["lr"],
                              batch_size=64)
    stored, stored_seeds = load_stack(paths.MODELS, data[0].shape[1])
    assert stored_seeds == seeds and all(torch.equal(stored[key], expected[key]) for key in expected)
    # The sweep's fine-tuning takes minibatches too: with the trained models put back, one-shot
    # rows are the baseline's and the fine-tuned ones move.
    (folder / paths.MODELS).write_bytes(before[paths.MODELS])
    one_shot, fine_tune = sweep_rows(regime="one-shot"), sweep_rows(regime="fine-tune")
    prune_sweep.main()
    assert sweep_rows(regime="one-shot") == one_shot
    new = sweep_rows(regime="fine-tune")
    assert len(new) == len(fine_tune) and [row["amount"] for row in new] == [row["amount"] for row in fine_tune]
    pruned = [(old, row) for old, row in zip(fine_tune, new) if float(old["amount"]) > 0]
    assert len(pruned) == 2 * SMALL["train"]["repeats"] * len(PRUNE["amounts"])
    assert all(old["loss"] != row["loss"] for old, row in pruned)


def test_prune_finetune_lr_moves_only_the_fine_tuned_rows(run):
    folder, before = run
    one_shot, fine_tune = sweep_rows(regime="one-shot"), sweep_rows(regime="fine-tune")
    set_params(folder, "prune", finetune_lr=0.003)  # train.lr stays 0.01
    prune_sweep.main()
    after = outputs(folder)
    assert not [name for name in changed(before, after) if name.startswith("data/") or "train" in name]
    assert sweep_rows(regime="one-shot") == one_shot
    new = sweep_rows(regime="fine-tune")
    assert len(new) == len(fine_tune) and [row["amount"] for row in new] == [row["amount"] for row in fine_tune]
    # Every fine-tuned model trained at another rate: every pruned row's loss moved, its mask did not.
    pruned = [(old, row) for old, row in zip(fine_tune, new) if float(old["amount"]) > 0]
    assert len(pruned) == 2 * SMALL["train"]["repeats"] * len(PRUNE["amounts"])
    assert all(old["loss"] != row["loss"] and old["nonzero_params"] == row["nonzero_params"] for old, row in pruned)


def test_prune_seed_moves_only_the_random_method(run):
    folder, before = run
    magnitude, random = sweep_rows("global-magnitude"), sweep_rows("global-random")
    set_params(folder, "prune", seed=7)  # train.seed stays 0
    prune_sweep.main()
    after = outputs(folder)
    assert not [name for name in changed(before, after) if name.startswith("data/") or "train" in name]
    assert sweep_rows("global-magnitude") == magnitude
    new = sweep_rows("global-random")
    assert len(new) == len(random) and [row["amount"] for row in new] == [row["amount"] for row in random]
    pruned = [(old, row) for old, row in zip(random, new) if float(old["amount"]) > 0]
    # Other random masks of the same size: every pruned row's loss moved, its count of weights did not.
    assert len(pruned) == 2 * SMALL["train"]["repeats"] * len(PRUNE["amounts"])
    assert all(old["loss"] != row["loss"] and old["nonzero_params"] == row["nonzero_params"] for old, row in pruned)
