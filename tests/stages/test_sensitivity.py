"""Stage sensitivity: one layer pruned at a time, the other dense."""
import csv

import pytest
import torch
from torch.nn.utils import prune

from prunelab.model import Net, as_tensors
from stages import generate_data, paths, sensitivity, train
from stages.artifacts import load_split
from tests.conftest import evaluate


@pytest.fixture
def rows(workdir):
    generate_data.main()
    train.main()
    sensitivity.main()
    with open(paths.SENSITIVITY, newline="") as handle:
        return list(csv.DictReader(handle))


def test_one_row_per_layer_seed_and_level(rows):
    amounts = ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "0.98", "0.99"]
    assert [(row["layer"], row["seed"], row["amount"]) for row in rows] == [
        (layer, str(seed), amount) for layer in ("fc1", "fc2") for seed in (0, 1, 2) for amount in amounts]
    sizes = {"fc1": 6 * 16, "fc2": 16}
    for row in rows:
        size = sizes[row["layer"]]
        assert float(row["layer_sparsity"]) == round(round(float(row["amount"]) * size) / size, 6)


@pytest.mark.parametrize("layer", ["fc1", "fc2"])
def test_accuracy_equals_torch_pruning_that_layer_alone(rows, layer):
    x, y = as_tensors(*load_split(paths.TEST_SPLIT))
    model = Net(6, 16)
    model.load_state_dict(torch.load(paths.MODEL, weights_only=True))
    dense, _ = evaluate(model, x, y)
    prune.l1_unstructured(getattr(model, layer), "weight", amount=0.8)
    pruned, _ = evaluate(model, x, y)
    by_amount = {row["amount"]: float(row["accuracy"]) for row in rows if row["layer"] == layer and row["seed"] == "0"}
    assert by_amount["0.0"] == round(dense, 6)
    assert by_amount["0.8"] == round(pruned, 6)


def test_the_aggregate_is_the_mean_over_seeds(rows):
    with open(paths.SENSITIVITY_AGGREGATE, newline="") as handle:
        table = list(csv.DictReader(handle))
    fc2 = [float(row["accuracy"]) for row in rows if row["layer"] == "fc2" and row["amount"] == "0.5"]
    entry = next(row for row in table if row["layer"] == "fc2" and row["amount"] == "0.5")
    assert float(entry["accuracy_mean"]) == pytest.approx(sum(fc2) / 3, abs=1e-6)
    assert int(entry["n"]) == 3
