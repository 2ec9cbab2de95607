"""Stage generate-data: the seed's dataset, split and summarised."""
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from stages import UserError, generate_data, paths
from stages.artifacts import load_sample_shape
from tests.conftest import imported_modules
from tests.idx_files import write_set


def test_writes_the_seeds_split_and_its_summary(workdir):
    generate_data.main()
    x, y = make_classification(n_samples=300, n_features=6, n_classes=2, n_clusters_per_class=2,
                               random_state=42)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=42)
    with np.load(paths.TRAIN_SPLIT) as train, np.load(paths.TEST_SPLIT) as test:
        assert np.array_equal(train["x"], x_train) and np.array_equal(train["y"], y_train)
        assert np.array_equal(test["x"], x_test) and np.array_equal(test["y"], y_test)
    summary = json.loads(Path(paths.DATA_METRICS).read_text())
    assert summary["features"] == 6
    assert summary["test"] == {"samples": 90, "class_0": int((y_test == 0).sum()),
                               "class_1": int((y_test == 1).sum()),
                               "class_1_fraction": round(float(y_test.mean()), 6)}
    assert summary["train"]["samples"] == 210


def test_same_params_give_identical_bytes(workdir):
    generate_data.main()
    first = Path(paths.TRAIN_SPLIT).read_bytes()
    generate_data.main()
    assert Path(paths.TRAIN_SPLIT).read_bytes() == first


def test_does_not_import_torch():
    loaded = imported_modules("stages.generate_data")
    assert "prunelab" in loaded and "numpy" in loaded and "torch" not in loaded


def set_data(**values):
    params = yaml.safe_load(Path("params.yaml").read_text())
    for key in ("n_samples", "n_features", "n_classes", "n_clusters_per_class"):
        params["data"].pop(key)
    params["data"].update(values)
    Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.parametrize("source, features, classes", [("breast_cancer", 30, 2), ("digits", 64, 10), ("wine", 13, 3),
                                                       ("iris", 4, 3)])
def test_a_bundled_source_is_split_and_summarised(workdir, source, features, classes):
    set_data(source=source, standardize=True)
    generate_data.main()
    with np.load(paths.TRAIN_SPLIT) as train, np.load(paths.TEST_SPLIT) as test:
        assert train["x"].shape[1] == test["x"].shape[1] == features
        assert set(np.concatenate([train["y"], test["y"]]).tolist()) == set(range(classes))
        assert np.allclose(train["x"].mean(axis=0), 0)
    summary = json.loads(Path(paths.DATA_METRICS).read_text())
    assert summary["features"] == features
    assert sum(summary["train"][f"class_{label}"] for label in range(classes)) == summary["train"]["samples"]
    assert ("class_1_fraction" in summary["test"]) == (classes == 2)
    # Only digits are images (8x8): their splits say so; rows of features hold no shape.
    with np.load(paths.TRAIN_SPLIT) as train:
        assert (train["shape"].tolist() if "shape" in train.files else None) == ([1, 8, 8] if source == "digits" else None)


def test_a_csv_source_reads_the_file_under_datasets(workdir):
    (workdir / "datasets").mkdir()
    (workdir / "datasets/mine.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{'yes' if i % 2 else 'no'}\n"
                                                                   for i in range(20)))
    set_data(source="csv", path="datasets/mine.csv", target="y")
    generate_data.main()
    with np.load(paths.TRAIN_SPLIT) as train, np.load(paths.TEST_SPLIT) as test:
        assert len(train["y"]) == 14 and len(test["y"]) == 6
        assert set(train["x"][:, 1].tolist()) <= {0, 1, 2}
    assert json.loads(Path(paths.DATA_METRICS).read_text())["train"]["samples"] == 14


def test_an_idx_source_keeps_the_sets_own_split(workdir):
    parts = write_set(workdir / "datasets/images", train=60, test=30, classes=3)
    set_data(source="idx", path="datasets/images", limit_train=30)
    params = yaml.safe_load(Path("params.yaml").read_text())
    del params["data"]["test_size"]
    Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    generate_data.main()
    with np.load(paths.TRAIN_SPLIT) as train, np.load(paths.TEST_SPLIT) as test:
        assert np.array_equal(test["x"], parts["test"][0].reshape(30, -1) / 255.0)
        assert np.array_equal(test["y"], parts["test"][1])
        assert train["x"].shape == (30, 6) and np.bincount(train["y"]).tolist() == [10, 10, 10]
    summary = json.loads(Path(paths.DATA_METRICS).read_text())
    assert (summary["features"], summary["train"]["samples"], summary["test"]["samples"]) == (6, 30, 30)
    # One image's shape from the files' header (3 rows of 2 pixels), in both splits.
    for split in (paths.TRAIN_SPLIT, paths.TEST_SPLIT):
        assert load_sample_shape(split, 6) == (1, 3, 2)
    with pytest.raises(UserError, match=r"shape \(1, 3, 2\) does not hold 7 features"):
        load_sample_shape(paths.TEST_SPLIT, 7)
