"""study/experiments.py and the command line: the exp show parser and table, user errors,
and a real queue of two tiny experiments end to end (which draws the figures too)."""
import json
import re
import sys

import pytest
import yaml

from study import experiments
from stages import paths
from study.declared import Point, Study
from tests.conftest import BIN, dvc, sh
from tests.study.conftest import tiny_clone

BASELINE = "b" * 40


def exp(name, rev, n_features, dense, sparsity, state="success"):
    """One experiment as `dvc exp show --json` lists it under its baseline (the parts read)."""
    prune = {"dense_accuracy_mean": dense, "dense_accuracy_std": 0.01, "tolerance": 0.01,
             "global-magnitude": {"one-shot": {"max_sparsity_within_tolerance_mean": sparsity,
                                               "max_sparsity_within_tolerance_std": 0.02}}}
    data = {"rev": rev, "params": {"params.yaml": {"data": {"data": {"n_features": n_features}}}},
            "metrics": {paths.PRUNE_METRICS: {"data": prune}} if state == "success" else {}}
    return {"name": name, "revs": [{"rev": rev, "name": name, "data": data, "error": None}],
            "executor": {"state": state, "name": "dvc-task"}}


SHOWN = [
    {"rev": "workspace", "name": None, "data": {}, "experiments": None},
    {"rev": BASELINE, "name": "main", "data": {}, "experiments": [
        exp("features-20", "2" * 40, 20, 0.9, 0.5), exp("features-10", "1" * 40, 10, 0.8, 0.4),
        exp("features-30", "3" * 40, 30, 0.7, 0.0, state="failed")]},
    {"rev": "a" * 40, "name": "old", "data": {}, "experiments": [exp("features-40", "4" * 40, 40, 0.6, 0.3)]},
]


def test_experiments_reads_state_rev_params_and_metrics_of_one_baseline():
    found = experiments.experiments(SHOWN, BASELINE)
    assert sorted(found) == ["features-10", "features-20", "features-30"]  # not the other baseline's
    state, rev, params, metrics = found["features-10"]
    assert (state, rev, experiments.param(params, "data.n_features")) == ("success", "1" * 40, 10)
    assert metrics["dense_accuracy_mean"] == 0.8
    assert found["features-30"][0] == "failed" and found["features-30"][3] is None


def test_compare_lists_finished_experiments_in_the_studys_order(monkeypatch):
    found = experiments.experiments(SHOWN, BASELINE)
    features = Study("features", [Point(f"features-{v}", {"data.n_features": v}) for v in (10, 20, 30)])
    monkeypatch.setattr(experiments, "study_experiments", lambda study: {
        point.name: found.get(point.name) for point in study.points})
    assert experiments.compare(features).splitlines() == [
        "| experiment | data.n_features | dense accuracy | method | one-shot |",
        "|---|---|---|---|---|",
        "| features-10 | 10 | 0.800 ± 0.010 | global-magnitude | 40.0% ± 2.0% |",
        "| features-20 | 20 | 0.900 ± 0.010 | global-magnitude | 50.0% ± 2.0% |",
    ]


def test_elapsed_reads_as_hours_minutes_seconds():
    assert [experiments.elapsed(s) for s in (12.7, 192, 3605)] == ["12 s", "3 min 12 s", "1 h 0 min 5 s"]


def test_scalar_reads_one_hidden_layer_as_its_width():
    assert experiments.scalar([16]) == experiments.scalar(16) == 16
    assert experiments.scalar([300, 100]) == [300, 100]


@pytest.mark.parametrize("args, message", [
    (["compare", "depth"], "error: unknown study 'depth': expected one of features, width"),
    (["compare", "width"], "error: no finished experiments of study width on this commit"),
])
def test_user_mistakes_are_one_line(committed, args, message):
    result = sh(committed, sys.executable, "-m", "study", *args, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_a_kept_table_prints_the_table_of_the_experiments_it_kept(monkeypatch, tmp_path):
    from study import kept
    found = experiments.experiments(SHOWN, BASELINE)
    features = Study("features", [Point(f"features-{v}", {"data.n_features": v}) for v in (10, 20, 30)])
    monkeypatch.setattr(experiments, "study_experiments", lambda study: {
        point.name: found.get(point.name) for point in study.points})
    path = kept.keep(features, tmp_path)
    table = kept.read_kept(path)
    assert list(table["experiments"]) == ["features-10", "features-20"]  # the failed one is not kept
    assert table["experiments"]["features-10"]["params"] == {"data.n_features": 10}
    assert experiments.table(table["keys"], {name: (entry["params"], entry["metrics"])
                                             for name, entry in table["experiments"].items()}) == \
        experiments.compare(features)


@pytest.mark.parametrize("content, message", [(None, "missing"), ("[1, 2]", "not a kept study table"),
                                              ('{"experiments": {}}', "not a kept study table")])
def test_a_file_that_is_not_a_kept_table_is_one_line(tmp_path, content, message):
    from stages import UserError
    from study import kept
    path = tmp_path / "features.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=f"^{re.escape(str(path))}: {message}; expected a file `python -m study keep` wrote$"):
        kept.read_kept(path)


def test_a_study_queues_runs_and_compares_real_experiments(committed, tmp_path):
    repo = tiny_clone(committed, tmp_path / "repo")

    # --timeout under the helper's 600 s: a queue that never finishes fails with its states.
    ran = sh(repo, sys.executable, "-m", "study", "run", "features", "--values", "6", "8", "--timeout", "540")
    assert "features: 2 queued, 0 reused" in ran.stderr
    # One line per point as it finishes, counted among the queued ones.
    ends = re.findall(r"^features: (features-\d+) done \((\d) of 2, (?:\d+ min )?\d+ s\)$", ran.stderr, re.M)
    assert sorted(name for name, _ in ends) == ["features-6", "features-8"] and [n for _, n in ends] == ["1", "2"]

    head = sh(repo, "git", "rev-parse", "HEAD").stdout.strip()
    shown = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    found = experiments.experiments(shown, head)
    assert {name: (state, experiments.param(params, "data.n_features")) for name, (state, _, params, _) in found.items()} \
        == {"features-6": ("success", 6), "features-8": ("success", 8)}
    assert found["features-6"][3] != found["features-8"][3]  # each its own prune.json
    for name in found:
        assert f"| {name} | {name.split('-')[1]} | " in ran.stdout

    again = sh(repo, sys.executable, "-m", "study", "compare", "features", "--values", "6", "8")
    assert again.stdout == ran.stdout
    kept = sh(repo, sys.executable, "-m", "study", "keep", "features", "--values", "6", "8", "-o", str(tmp_path))
    assert kept.stdout.strip() == str(tmp_path / "features.json")
    from_file = sh(repo, sys.executable, "-m", "study", "compare", "features", "--kept", str(tmp_path / "features.json"))
    assert from_file.stdout == ran.stdout
    drawn = sh(repo, sys.executable, "-m", "study", "figure", "features", "--values", "6", "8",
               "-o", str(tmp_path / "figures"))
    assert sorted(path.name for path in (tmp_path / "figures").iterdir()) == \
        ["features_curves.png", "features_sparsity.png"] and drawn.stdout.count("\n") == 2
    # A second run reuses what finished; nothing lands in the working tree.
    assert "features: 0 queued, 2 reused" in sh(repo, sys.executable, "-m", "study", "run", "features",
                                                 "--values", "6", "8").stderr
    assert sh(repo, "git", "status", "--porcelain").stdout == ""


def test_workers_gone_with_points_queued_are_started_again(committed, tmp_path, monkeypatch, capsys):
    """The state DVC's workers can leave (treeverse/dvc#10562): a task queued, no worker. Here
    made by queueing without `dvc queue start`; first a wait too short to see it, then one that does."""
    from stages import UserError
    repo = tiny_clone(committed, tmp_path / "repo")
    point = Point("features-6", {"data.n_features": 6})
    sh(repo, str(BIN / "dvc"), "exp", "run", "--queue", "-n", point.name, *point.flags())
    monkeypatch.chdir(repo)
    study = Study("features", [point])
    with pytest.raises(UserError, match=r"^not all finished after 1 s: features-6 queued \(see `dvc queue status`"):
        experiments.wait(study, {point.name}, {point.name}, timeout=1, jobs=1)
    experiments.wait(study, {point.name}, {point.name}, timeout=500, jobs=1)
    err = capsys.readouterr().err
    assert err.count("features: no worker running with 1 queued (features-6): starting the queue's workers again\n") == 1
    assert re.search(r"^features: features-6 done \(1 of 1, ", err, re.M)
    assert experiments.states(study) == {point.name: "success"}
