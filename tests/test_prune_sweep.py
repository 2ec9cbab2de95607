"""Stage prune-sweep: global magnitude pruning, honest parameter counts, the summary."""
import json
from pathlib import Path

import numpy as np

import pytest
import torch
from torch.nn.utils import prune

from stages import UserError, generate_data, prune_sweep, train
from stages.model import Net
from stages.pruning import global_magnitude, size_report


def hand_made_model():
    model = Net(2, 3)
    with torch.no_grad():
        model.fc1.weight.copy_(torch.tensor([[0.1, -0.5], [2.0, 0.05], [-0.3, 1.0]]))
        model.fc1.bias.copy_(torch.tensor([0.0, 0.7, -1.0]))  # one bias is exactly zero
        model.fc2.weight.copy_(torch.tensor([[0.2, -4.0, 0.01]]))
        model.fc2.bias.copy_(torch.tensor([0.5]))
    return model


def test_nonzero_count_equals_a_hand_count():
    model = global_magnitude(hand_made_model(), 1 / 3)  # round(9/3) = 3 weights: 0.01, 0.05, 0.1
    report = size_report(model)
    assert report["total_params"] == 13
    assert report["nonzero_params"] == 6 + 2 + 1  # surviving weights, nonzero biases
    assert report["fc1_nonzero_weights"] == 4 and report["fc2_nonzero_weights"] == 2
    assert report["fc1_sparsity"] == pytest.approx(2 / 6) and report["fc2_sparsity"] == pytest.approx(1 / 3)
    assert report["sparsity"] == pytest.approx(4 / 13)
    assert model.fc1.weight[0, 0] == 0 and model.fc1.weight[1, 1] == 0 and model.fc2.weight[0, 2] == 0
    # What the seed counted: parameters() keeps every entry, so it never moves.
    assert sum(p.numel() for p in model.parameters()) == 13


@pytest.mark.parametrize("amount", [0.0, 0.01, 0.035789473684210524, 0.25, 0.5, 0.9, 0.99])
def test_amount_removes_round_a_times_n_weights(amount):
    torch.manual_seed(0)
    model = global_magnitude(Net(25, 256), amount)
    zeros = sum(int((getattr(model, layer).weight == 0).sum()) for layer in ("fc1", "fc2"))
    assert zeros == round(amount * (25 * 256 + 256))


def test_pruned_entries_are_the_smallest_magnitudes():
    torch.manual_seed(1)
    model = global_magnitude(Net(4, 8), 0.4)
    weights = torch.cat([model.fc1.weight_orig.flatten(), model.fc2.weight_orig.flatten()]).abs()
    masks = torch.cat([model.fc1.weight_mask.flatten(), model.fc2.weight_mask.flatten()])
    assert weights[masks == 0].max() <= weights[masks == 1].min()


@pytest.fixture
def trained(workdir):
    generate_data.main()
    train.main()
    return workdir


def sweep_rows():
    lines = Path("metrics/prune_sweep.csv").read_text().splitlines()
    return [dict(zip(lines[0].split(","), map(float, line.split(",")))) for line in lines[1:]]


def test_sweep_rows_rise_in_sparsity_and_start_dense(trained):
    prune_sweep.main()
    rows = sweep_rows()
    assert len(rows) == 21 and rows[0]["amount"] == 0 and rows[0]["sparsity"] == 0
    sparsities = [row["sparsity"] for row in rows]
    assert sparsities == sorted(sparsities) and sparsities[-1] > sparsities[1]
    counts = [row["nonzero_params"] for row in rows]
    assert counts == sorted(counts, reverse=True) and counts[-1] < counts[0] == rows[0]["total_params"]
    for row in rows:
        assert row["compression"] == pytest.approx(row["total_params"] / row["nonzero_params"], rel=1e-5)


def test_sweep_row_matches_torch_prune_by_hand(trained):
    prune_sweep.main()
    last = sweep_rows()[-1]
    model = Net(6, 16)
    model.load_state_dict(torch.load("data/model.pt", weights_only=True))
    prune.global_unstructured([(model.fc1, "weight"), (model.fc2, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    fc1, fc2 = int((model.fc1.weight != 0).sum()), int((model.fc2.weight != 0).sum())
    biases = int((model.fc1.bias != 0).sum() + (model.fc2.bias != 0).sum())
    assert (last["fc1_nonzero_weights"], last["fc2_nonzero_weights"]) == (fc1, fc2)
    assert last["nonzero_params"] == fc1 + fc2 + biases
    assert last["fc1_sparsity"] == round(1 - fc1 / 96, 6) and last["fc2_sparsity"] == round(1 - fc2 / 16, 6)
    with np.load("data/test.npz") as test:
        x, y = torch.tensor(test["x"], dtype=torch.float32), torch.tensor(test["y"], dtype=torch.float32)
    with torch.no_grad():
        correct = int(((model(x).view(-1) > 0.5).float() == y).sum())
    assert last["accuracy"] == round(correct / len(y), 6)


def test_summary_scalars():
    rows = [{"amount": a, "sparsity": s, "compression": 1 / (1 - s), "accuracy": acc}
            for a, s, acc in [(0.0, 0.0, 0.90), (0.2, 0.19, 0.895), (0.4, 0.38, 0.89),
                              (0.6, 0.57, 0.80), (0.8, 0.76, 0.60)]]
    summary = prune_sweep.summarise(rows, tolerance=0.01)
    assert summary["dense_accuracy"] == 0.90
    assert summary["max_sparsity_within_tolerance"] == 0.38  # 0.89 is exactly one point down
    assert summary["amount_within_tolerance"] == 0.4
    assert summary["accuracy_at_max_amount"] == 0.60 and summary["max_amount"] == 0.8
    assert prune_sweep.summarise(rows, tolerance=0.0)["max_sparsity_within_tolerance"] == 0.0


def test_prune_json_agrees_with_the_sweep(trained):
    prune_sweep.main()
    summary = json.loads(Path("metrics/prune.json").read_text())
    rows = sweep_rows()
    assert summary["dense_accuracy"] == rows[0]["accuracy"]
    assert (summary["max_amount"], summary["accuracy_at_max_amount"]) == (0.5, rows[-1]["accuracy"])
    within = [row for row in rows if row["accuracy"] >= rows[0]["accuracy"] - 0.01 - 1e-9]
    best = max(within, key=lambda row: row["sparsity"])
    assert summary["max_sparsity_within_tolerance"] == best["sparsity"]
    assert summary["compression_within_tolerance"] == best["compression"]
    assert summary["amount_within_tolerance"] == best["amount"]


def test_a_truncated_checkpoint_is_a_one_line_error(trained):
    with open("data/model.pt", "r+b") as handle:
        handle.truncate(100)
    with pytest.raises(UserError, match="^data/model.pt: unreadable"):
        prune_sweep.main()
    assert not (trained / "metrics/prune_sweep.csv").exists()
