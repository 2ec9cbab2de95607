"""Stage generate-data: the seed's dataset, split and summarised."""
import json
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from stages import generate_data
from tests.conftest import imported_modules


def test_writes_the_seeds_split_and_its_summary(workdir):
    generate_data.main()
    x, y = make_classification(n_samples=300, n_features=6, n_classes=2, n_clusters_per_class=2,
                               random_state=42)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=42)
    with np.load("data/train.npz") as train, np.load("data/test.npz") as test:
        assert np.array_equal(train["x"], x_train) and np.array_equal(train["y"], y_train)
        assert np.array_equal(test["x"], x_test) and np.array_equal(test["y"], y_test)
    summary = json.loads(Path("metrics/data.json").read_text())
    assert summary["features"] == 6
    assert summary["test"] == {"samples": 90, "class_0": int((y_test == 0).sum()),
                               "class_1": int((y_test == 1).sum()),
                               "class_1_fraction": round(float(y_test.mean()), 6)}
    assert summary["train"]["samples"] == 210


def test_same_params_give_identical_bytes(workdir):
    generate_data.main()
    first = Path("data/train.npz").read_bytes()
    generate_data.main()
    assert Path("data/train.npz").read_bytes() == first


def test_does_not_import_torch():
    loaded = imported_modules("stages.generate_data")
    assert "sklearn" in loaded and "torch" not in loaded
