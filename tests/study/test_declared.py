"""study/declared.py: studies as data. Grids, explicit points, their names, and every bad
declaration refused in one line before anything runs (the params schema checks each point)."""
import sys

import pytest
import yaml

from stages import UserError
from study import declared
from tests.conftest import ROOT, sh


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A folder holding the repo's params.yaml, made the current directory; write_studies(dict)."""
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    return lambda studies: (tmp_path / "studies.yaml").write_text(yaml.safe_dump(studies, sort_keys=False))


def test_the_repos_studies_are_features_and_width_with_their_names(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert [p.name for p in declared.study("features").points] == ["features-10", "features-20", "features-30"]
    width = declared.study("width")
    assert [(p.name, p.sets) for p in width.points][:2] == [
        ("width-16", {"model.hidden_sizes": [16]}), ("width-64", {"model.hidden_sizes": [64]})]
    assert width.points[0].flags() == ["-S", "model.hidden_sizes=[16]"]
    assert [p.name for p in declared.study("features", values=[6, 8]).points] == ["features-6", "features-8"]


def test_a_grid_is_a_product_and_explicit_points_follow_it(here):
    here({"mix": {"grid": {"data.n_features": [10, 20], "train.seed": [0, 1]},
                  "points": [{"model.hidden_sizes": [300, 100], "prune.methods": ["structured"]}],
                  "slurm": {"cpus": 2, "time_min": 30}}})
    mix = declared.study("mix")
    assert [p.name for p in mix.points] == ["mix-10-0", "mix-10-1", "mix-20-0", "mix-20-1", "mix-300_100-structured"]
    assert mix.points[1].sets == {"data.n_features": 10, "train.seed": 1}
    assert mix.keys() == ["data.n_features", "train.seed", "model.hidden_sizes", "prune.methods"]
    assert mix.slurm == {"cpus": 2, "time_min": 30}
    # --grid replaces the file's points, keeps its job options.
    given = declared.study("mix", ["model.hidden_sizes=[16],[64]", "prune.tolerance=0.01,0.02"])
    assert [p.name for p in given.points] == ["mix-16-0.01", "mix-16-0.02", "mix-64-0.01", "mix-64-0.02"]
    assert given.slurm == {"cpus": 2, "time_min": 30}


@pytest.mark.parametrize("studies, args, message", [
    ({"s": {"grid": {"data.n_feature": [10]}}}, (), "study s, point s-10: unknown key data.n_feature; did you mean data.n_features? known keys: "),
    ({"s": {"grid": {"data.n_features": [10, 0]}}}, (), "study s, point s-0: data.n_features = 0: expected an integer"),
    ({"s": {"grid": {"data.n_features": []}}}, (), "studies.yaml: study s: the study has no points"),
    ({"s": {}}, (), "studies.yaml: study s: the study has no points"),
    ({"s": {"grid": {"train.seed": [0]}, "points": [{"train.seed": 0}]}}, (),
     "study s: two points are named s-0: {'train.seed': 0} and {'train.seed': 0}"),
    ({"s": {"grid": {"seed": [0]}}}, (), "study s: seed: expected a params key SECTION.KEY"),
    ({"s": {"grids": {}}}, (), "studies.yaml: study s: unknown field grids; expected grid, points, slurm, about"),
    ({"s": {"grid": {"train.seed": [0]}, "slurm": {"cpus": "two"}}}, (), "studies.yaml: study s: slurm.cpus = 'two'"),
    ({"s": {"grid": {"train.seed": [0]}}}, ("t",), "unknown study 't': expected one of s (studies.yaml), or --grid"),
    ({"s": {"grid": {"train.seed": [0]}}}, ("s", "--grid", "train.seed"), "--grid 'train.seed': expected KEY=VALUE"),
    ({"s": {"grid": {"train.seed": [0], "data.n_features": [10]}}}, ("s", "--values", "1"),
     "--values: study s is not a grid of one key"),
])
def test_bad_declarations_are_one_line_before_anything_runs(here, studies, args, message):
    here(studies)
    result = sh(".", sys.executable, "-m", "study", "run", *(args or ("s",)), "--on", "slurm", check=False,
                env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1


def test_names_are_valid_git_refs_whatever_the_values():
    assert declared.point_name("s", {"a.b": "x y/../z", "c.d": [1.5, 2]}) == "s-x_y_._z-1.5_2"
    with pytest.raises(UserError, match="not a valid git ref"):
        declared.check(declared.Study("s", [declared.Point("s-a..b", {})]))
