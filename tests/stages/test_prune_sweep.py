"""Stage prune-sweep: one row per method, regime, seed and level, with honest counts and costs."""
import csv
import json
from pathlib import Path

import pytest
import torch
import yaml
from torch.nn.utils import prune

from prunelab.model import Net, as_tensors
from stages import UserError, generate_data, paths, prune_sweep, train
from stages.artifacts import load_split
from tests.conftest import evaluate


def set_prune(**values):
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["prune"].update(values)
    Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture
def trained(workdir):
    generate_data.main()
    train.main()
    return workdir


def rows(path=paths.PRUNE_SWEEP):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_levels_start_dense_then_amounts_then_thresholds():
    levels = prune_sweep.levels_of({"amounts": [0.5, 0.0, 0.1], "thresholds": [0.3, 0.05]})
    assert levels == [("amount", 0.0), ("amount", 0.1), ("amount", 0.5), ("threshold", 0.05), ("threshold", 0.3)]


def test_one_row_per_method_regime_seed_and_level(trained):
    set_prune(amounts=[0.5, 0.9], finetune_epochs=2)
    prune_sweep.main()
    table = rows()
    keys = [(row["method"], row["regime"], row["seed"], row["level"]) for row in table]
    expected = [(method, regime, str(seed), level)
                for method in ("global-magnitude", "layerwise-magnitude", "global-random")
                for regime in ("one-shot", "fine-tune") for seed in (0, 1, 2) for level in ("0.0", "0.5", "0.9")]
    assert keys == expected
    for row in table:
        if row["level"] == "0.0":
            assert float(row["sparsity"]) == 0 and row["nonzero_params"] == row["total_params"]
        assert float(row["compression"]) == pytest.approx(int(row["total_params"]) / int(row["nonzero_params"]),
                                                          rel=1e-5)


def test_global_magnitude_row_matches_torch_prune_by_hand(trained):
    set_prune(amounts=[0.5], methods=["global-magnitude"], regimes=["one-shot"])
    prune_sweep.main()
    row = next(row for row in rows() if row["seed"] == "0" and row["level"] == "0.5")
    model = Net(6, 16)
    model.load_state_dict(torch.load(paths.MODEL, weights_only=True))
    prune.global_unstructured([(model.fc1, "weight"), (model.fc2, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    fc1, fc2 = int((model.fc1.weight != 0).sum()), int((model.fc2.weight != 0).sum())
    biases = int((model.fc1.bias != 0).sum() + (model.fc2.bias != 0).sum())
    assert (int(row["fc1_nonzero_weights"]), int(row["fc2_nonzero_weights"])) == (fc1, fc2)
    assert int(row["nonzero_params"]) == fc1 + fc2 + biases
    assert int(row["macs"]) == fc1 + fc2
    accuracy, _ = evaluate(model, *as_tensors(*load_split(paths.TEST_SPLIT)))
    assert float(row["accuracy"]) == round(accuracy, 6)
    # What the seed counted: parameters() keeps every entry, so it never moves.
    assert sum(p.numel() for p in model.parameters()) == int(row["total_params"])


def test_threshold_levels_record_the_fraction_they_remove(trained):
    set_prune(amounts=[0.3], thresholds=[0.1], methods=["global-magnitude"], regimes=["one-shot"])
    prune_sweep.main()
    table = rows()
    for seed in range(3):
        weights = torch.load(paths.MODELS, weights_only=True)
        pooled = torch.cat([weights["fc1.weight"][seed].flatten(), weights["fc2.weight"][seed].flatten()]).abs()
        by_threshold = next(row for row in table if row["seed"] == str(seed) and row["level_by"] == "threshold")
        assert float(by_threshold["threshold"]) == 0.1
        assert float(by_threshold["amount"]) == round(int((pooled < 0.1).sum()) / len(pooled), 6)
        assert int(by_threshold["fc1_nonzero_weights"]) + int(by_threshold["fc2_nonzero_weights"]) == int(
            (pooled >= 0.1).sum())
        by_amount = next(row for row in table if row["seed"] == str(seed) and row["level"] == "0.3")
        removed = int((pooled < float(by_amount["threshold"])).sum())
        assert abs(removed - round(0.3 * len(pooled))) <= 1  # the CSV rounds t to 6 decimals


def test_structured_writes_narrower_plain_checkpoints(trained):
    set_prune(amounts=[0.5], methods=["structured"], regimes=["one-shot"])
    prune_sweep.main()
    index = json.loads(Path(f"{paths.STRUCTURED_DIR}/index.json").read_text())["files"]
    assert [entry["level"] for entry in index] == [0.0, 0.5]
    assert [entry["hidden_size"] for entry in index] == [16, 8]
    x, y = as_tensors(*load_split(paths.TEST_SPLIT))
    half = next(row for row in rows() if row["seed"] == "0" and row["level"] == "0.5")
    model = Net(6, 8)
    model.load_state_dict(torch.load(Path(paths.STRUCTURED_DIR) / index[1]["file"], weights_only=True))
    assert round(evaluate(model, x, y)[0], 6) == float(half["accuracy"])
    assert int(half["hidden_width"]) == 8


def test_an_unknown_method_is_a_one_line_error_listing_the_known_ones(trained):
    set_prune(methods=["global-magnitude", "snip"])
    with pytest.raises(UserError, match=r"prune.methods\[1\] = 'snip': expected one of global-magnitude, "
                                        r"layerwise-magnitude, global-random, layerwise-random, structured, lamp, "
                                        r"global-gradient, layerwise-gradient, erk-random$"):
        prune_sweep.main()
    assert not Path(paths.PRUNE_SWEEP).exists()


def test_a_truncated_models_file_is_a_one_line_error(trained):
    with open(paths.MODELS, "r+b") as handle:
        handle.truncate(100)
    with pytest.raises(UserError, match="^data/models.pt: unreadable"):
        prune_sweep.main()
    assert not (trained / paths.PRUNE_SWEEP).exists()


def test_round_regimes_write_one_row_per_round(trained):
    set_prune(amounts=[0.5], methods=["layerwise-magnitude"], regimes=["one-shot", "iterative"], finetune_epochs=1,
              iterative_rate=0.3)
    prune_sweep.main()
    table = rows()
    shot = [row for row in table if row["regime"] == "one-shot"]
    rounds = [row for row in table if row["regime"] == "iterative" and row["seed"] == "0"]
    assert {row["round"] for row in shot} == {""} and {row["level_by"] for row in shot} == {"amount"}
    # 96 + 16 weights, 30 % of fc1's and 15 % of fc2's survivors a round: 47.3 % gone after round 2, 61.6 % after 3.
    assert [int(row["round"]) for row in rounds] == [0, 1, 2, 3]
    fc1, fc2 = [96], [16]
    for _ in range(3):
        fc1.append(fc1[-1] - round(0.3 * fc1[-1]))
        fc2.append(fc2[-1] - round(0.15 * fc2[-1]))
    for row, kept1, kept2 in zip(rounds, fc1, fc2):
        assert (int(row["fc1_nonzero_weights"]), int(row["fc2_nonzero_weights"])) == (kept1, kept2)
        assert float(row["level"]) == float(row["amount"]) == round(1 - (kept1 + kept2) / 112, 6)
        assert row["level_by"] == "round"
    aggregate = rows(paths.PRUNE_AGGREGATE)
    assert [row["round"] for row in aggregate if row["regime"] == "iterative"] == ["0", "1", "2", "3"]


def test_the_default_sweep_has_no_round_column(trained):
    set_prune(amounts=[0.5], methods=["global-magnitude"], regimes=["one-shot"])
    prune_sweep.main()
    assert "round" not in rows()[0] and "round" not in rows(paths.PRUNE_AGGREGATE)[0]


def test_gradual_every_past_its_steps_is_a_one_line_error_before_anything_is_written(trained):
    set_prune(regimes=["gradual"], gradual_epochs=2, gradual_every=3)  # full batch: 2 steps
    with pytest.raises(UserError, match=r"^params.yaml: prune.gradual_every = 3: expected at most the 2 steps"):
        prune_sweep.main()
    assert not Path(paths.PRUNE_SWEEP).exists()


def test_budget_levels_meet_their_compression_and_speedup_within_one_weight(trained):
    set_prune(amounts=[], compressions=[2, 5.5], speedups=[3, 40], methods=["global-magnitude", "layerwise-magnitude",
                                                                          "lamp", "erk-random"], regimes=["one-shot"])
    prune_sweep.main()
    table = [row for row in rows() if row["level_by"] != "amount"]
    assert len(table) == 4 * 3 * 4
    weights = 6 * 16 + 16  # Net(6, 16)
    for row in table:
        total, nonzero = int(row["total_params"]), int(row["nonzero_params"])
        kept = int(row["fc1_nonzero_weights"]) + int(row["fc2_nonzero_weights"])
        target = float(row["level"])
        if row["level_by"] == "compression":
            assert abs(nonzero - total / target) <= 1, row
            assert abs(float(row["compression"]) - target) <= target * 1.0 / nonzero + 1e-6
        else:
            assert row["level_by"] == "speedup" and abs(kept - weights / target) <= 1, row
        assert float(row["amount"]) == round((weights - kept) / weights, 6)  # the fraction it removed, recorded


@pytest.mark.parametrize("values, message", [
    ({"compressions": [0.5]}, r"prune.compressions\[0\] = 0.5: expected a number >= 1$"),
    ({"speedups": [2, 0]}, r"prune.speedups\[1\] = 0: expected a number >= 1$"),
    ({"compressions": [2, 1000]}, r"prune.compressions\[1\] = 1000.0: expected at most 7.16667 for 6-16-1 "
                                  r"\(one weight and every bias left\)$"),
    ({"speedups": [113]}, r"prune.speedups\[0\] = 113.0: expected at most 112 for 6-16-1 \(one weight left of 112\)$"),
    ({"speedups": [2], "methods": ["structured"]}, r"prune.methods lists structured \(it prunes neurons\) with budget levels"),
    ({"iterative_rate": 1.0}, r"prune.iterative_rate = 1.0: expected a number in \(0, 1\)$"),
])
def test_bad_budgets_and_rates_are_one_line_errors_before_anything_is_written(trained, values, message):
    set_prune(**values)
    with pytest.raises(UserError, match=rf"^params.yaml: {message}"):
        prune_sweep.main()
    assert not Path(paths.PRUNE_SWEEP).exists()


def test_the_dense_budget_control_rows_and_the_gain_over_them(trained):
    set_prune(amounts=[0.5, 0.9], methods=["global-magnitude"], regimes=["one-shot", "fine-tune", "iterative"],
              finetune_epochs=2, iterative_rate=0.5, dense_budget=True)
    prune_sweep.main()
    table = rows()
    assert sorted({row["regime"] for row in table}) == ["dense-budget-fine-tune", "dense-budget-iterative",
                                                        "fine-tune", "iterative", "one-shot"]
    for row in table:
        if row["regime"].startswith("dense-budget-"):
            assert float(row["sparsity"]) == 0.0
    control = [row for row in table if row["regime"] == "dense-budget-iterative" and row["seed"] == "0"]
    assert [row["round"] for row in control] == ["0", "1", "2", "3", "4"]  # 50 % a round: 93.75 % after 4
    assert len({row["accuracy"] + row["loss"] for row in control[1:]}) > 1  # more training each round
    summary = json.loads(Path(paths.PRUNE_METRICS).read_text())["global-magnitude"]
    assert "gain_over_dense_budget_mean" not in summary["one-shot"] and "dense-budget-fine-tune" not in summary
    trained_accuracy = {seed: float(row["accuracy"]) for seed in ("0", "1", "2") for row in table
                        if row["regime"] == "one-shot" and row["seed"] == seed and row["level"] == "0.0"}
    for regime in ("fine-tune", "iterative"):
        gains = []
        for seed in ("0", "1", "2"):
            mine = [row for row in table if row["regime"] == regime and row["seed"] == seed]
            within = [row for row in mine if float(row["accuracy"]) >= trained_accuracy[seed] - 0.01 - 1e-9]
            top = max(within or [min(mine, key=lambda row: float(row["sparsity"]))], key=lambda row: float(row["sparsity"]))
            same = next(row for row in table if row["regime"] == f"dense-budget-{regime}" and row["seed"] == seed
                        and row["level"] == top["level"])
            gains.append(float(top["accuracy"]) - float(same["accuracy"]))
        assert summary[regime]["gain_over_dense_budget_mean"] == pytest.approx(sum(gains) / 3, abs=1e-6)
