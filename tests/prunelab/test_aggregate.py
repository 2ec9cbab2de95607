"""prunelab/aggregate.py: group statistics against pandas, the sweep's aggregate files, seed summaries."""
import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from prunelab import aggregate
from prunelab.model import Net, as_tensors
from stages import generate_data, paths, prune_sweep, train
from stages.artifacts import load_split
from tests.conftest import evaluate

KEYS = ["method", "regime", "level_by", "level"]
COLUMNS = ["accuracy", "sparsity", "nonzero_params"]


def test_group_stats_equals_pandas_groupby_in_order_of_first_appearance():
    rng = np.random.default_rng(0)
    # Groups first appear in an order that is not sorted: (b, 0.5), (a, 0.9), (a, 0.1).
    keys = [("b", 0.5), ("a", 0.9), ("a", 0.1), ("b", 0.5), ("a", 0.1), ("a", 0.9), ("b", 0.5), ("a", 0.1)]
    rows = [{"method": m, "level": lv, "x": float(rng.normal()), "y": float(rng.uniform()), "z": int(rng.integers(9))}
            for m, lv in keys]
    table = aggregate.group_stats(rows, ("method", "level"), ("x", "y", "z"))
    expected = pd.DataFrame(rows).groupby(["method", "level"], sort=False)[["x", "y", "z"]].agg(["mean", "std"])
    assert [(row["method"], row["level"]) for row in table] == [("b", 0.5), ("a", 0.9), ("a", 0.1)]
    assert [(row["method"], row["level"]) for row in table] == list(expected.index)
    assert [row["n"] for row in table] == [3, 2, 3]
    assert list(table[0]) == ["method", "level", "n", "x_mean", "x_std", "y_mean", "y_std", "z_mean", "z_std"]
    for row, (_, want) in zip(table, expected.iterrows()):
        for column in ("x", "y", "z"):
            assert row[f"{column}_mean"] == pytest.approx(want[(column, "mean")], rel=1e-12, abs=1e-15)
            assert row[f"{column}_std"] == pytest.approx(want[(column, "std")], rel=1e-12)


def test_group_stats_with_one_row_per_group_has_std_zero():
    rows = [{"k": "p", "v": 0.25}, {"k": "q", "v": 3.0}]
    table = aggregate.group_stats(rows, ("k",), ("v",))
    assert table == [{"k": "p", "n": 1, "v_mean": 0.25, "v_std": 0.0}, {"k": "q", "n": 1, "v_mean": 3.0, "v_std": 0.0}]


@pytest.fixture
def swept(workdir):
    """A real generate-data, train and prune-sweep run on workdir's small params, shrunk further."""
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["train"]["repeats"] = 3
    params["prune"].update({"amounts": [0.3, 0.6, 0.9], "thresholds": [0.1], "finetune_epochs": 2})
    (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    generate_data.main()
    train.main()
    prune_sweep.main()
    return workdir, params


def test_prune_aggregate_csv_equals_pandas_groupby_of_the_sweep(swept):
    path, params = swept
    rows = pd.read_csv(path / paths.PRUNE_SWEEP)
    table = pd.read_csv(path / paths.PRUNE_AGGREGATE)
    assert set(rows["regime"]) == set(params["prune"]["regimes"]) and set(rows["level_by"]) == {"amount", "threshold"}
    grouped = rows.groupby(KEYS, sort=False)
    expected = grouped[COLUMNS].agg(["mean", "std"])  # pandas' std is ddof=1
    assert list(table[KEYS].itertuples(index=False, name=None)) == list(expected.index)
    assert list(table["n"]) == list(grouped.size()) == [params["train"]["repeats"]] * len(table)
    for column in COLUMNS:
        assert np.allclose(table[f"{column}_mean"], expected[(column, "mean")], rtol=0, atol=2e-6), column
        assert np.allclose(table[f"{column}_std"], expected[(column, "std")], rtol=0, atol=2e-6), column
    # Not vacuous: seeds differ somewhere, and pruning lowers the nonzero count.
    assert table["accuracy_std"].max() > 0 and table["nonzero_params_mean"].nunique() > 1


def dense_accuracies(path, params):
    """The trained test accuracy of each torch seed's model, from data/models.pt through a plain Net."""
    state = torch.load(path / paths.MODELS, weights_only=True)
    x, y = as_tensors(*load_split(str(path / paths.TEST_SPLIT)))
    dense = {}
    for index, seed in enumerate(state.pop("seeds").tolist()):
        model = Net(x.shape[1], params["model"]["hidden_sizes"])
        model.load_state_dict({key: value[index] for key, value in state.items()})
        dense[seed] = evaluate(model, x, y)[0]
    return dense


def test_prune_json_summaries_match_a_pandas_recomputation(swept):
    path, params = swept
    rows = pd.read_csv(path / paths.PRUNE_SWEEP)
    summary = json.loads((path / paths.PRUNE_METRICS).read_text())
    tolerance = params["prune"]["tolerance"]
    dense = dense_accuracies(path, params)
    assert summary["seeds"] == len(dense) == 3
    assert summary["dense_accuracy_mean"] == pytest.approx(np.mean(list(dense.values())), abs=1e-6)
    checked = 0
    for (method, regime), members in rows.groupby(["method", "regime"]):
        best, at_max = [], []
        for seed, curve in members.groupby("seed"):
            within = curve[curve["accuracy"] >= dense[seed] - tolerance - 1e-9]
            best.append(within["sparsity"].max() if len(within) else 0.0)
            at_max.append(curve.loc[curve["amount"].idxmax(), "accuracy"])
        entry = summary[method][regime]
        assert entry["max_sparsity_within_tolerance_mean"] == pytest.approx(np.mean(best), abs=2e-6)
        assert entry["max_sparsity_within_tolerance_std"] == pytest.approx(np.std(best, ddof=1), abs=2e-6)
        assert entry["accuracy_at_max_level_mean"] == pytest.approx(np.mean(at_max), abs=2e-6)
        checked += 1
    assert checked == len(params["prune"]["methods"]) * len(params["prune"]["regimes"])


def row(amount, sparsity, accuracy):
    return {"amount": amount, "sparsity": sparsity, "accuracy": accuracy, "compression": 1 / (1 - sparsity)}


def test_seed_summary_on_hand_made_rows():
    rows = [row(0.99, 0.95, 0.50), row(0.0, 0.0, 0.90), row(0.7, 0.65, 0.88),
            row(0.9, 0.85, 0.89), row(0.5, 0.45, 0.895)]
    got = aggregate.seed_summary(rows, dense=0.90, tolerance=0.01)
    # Within 0.01 of 0.90: accuracies 0.90, 0.895 and 0.89 (on the edge); the sparsest is 0.85.
    assert got["max_sparsity_within_tolerance"] == 0.85
    assert got["compression_within_tolerance"] == pytest.approx(1 / 0.15)
    # Trapezoids over sparsity 0, 0.45, 0.65, 0.85, 0.95.
    auc = (0.45 * (0.90 + 0.895) + 0.20 * (0.895 + 0.88) + 0.20 * (0.88 + 0.89) + 0.10 * (0.89 + 0.50)) / 2
    assert got["auc"] == pytest.approx(auc, rel=1e-12)
    assert got["accuracy_at_max_level"] == 0.50


def test_seed_summary_with_nothing_within_tolerance():
    got = aggregate.seed_summary([row(0.0, 0.0, 0.7), row(0.5, 0.4, 0.6)], dense=0.9, tolerance=0.01)
    assert got["max_sparsity_within_tolerance"] == 0.0 and got["compression_within_tolerance"] == 1.0
    assert got["auc"] == pytest.approx(0.4 * (0.7 + 0.6) / 2) and got["accuracy_at_max_level"] == 0.6


def test_summary_table_has_a_column_per_regime_and_blank_lead_cells_after_an_entrys_first_row():
    def summary(**regimes):
        return {regime: {"max_sparsity_within_tolerance_mean": mean, "max_sparsity_within_tolerance_std": 0.01}
                for regime, mean in regimes.items()}
    first = {"dense_accuracy_mean": 0.9, "a": summary(one=0.5), "b": summary(one=0.25, two=0.75)}
    second = {"dense_accuracy_mean": 0.8, "a": summary(two=0.125)}
    assert aggregate.summary_table([(("x1", "1"), first), (("x2", "2"), second)], ("exp", "value")).splitlines() == [
        "| exp | value | method | one | two |",
        "|---|---|---|---|---|",
        "| x1 | 1 | a | 50.0% ± 1.0% |  |",
        "|  |  | b | 25.0% ± 1.0% | 75.0% ± 1.0% |",
        "| x2 | 2 | a |  | 12.5% ± 1.0% |",
    ]
    assert aggregate.summary_table([((), second)]).splitlines()[:2] == ["| method | two |", "|---|---|"]
