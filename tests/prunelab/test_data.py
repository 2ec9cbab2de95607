"""prunelab/data.py: each source's arrays, the CSV reader, the split and its standardization."""
import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split

from prunelab import InputError
from prunelab.data import SOURCES, from_csv, split


@pytest.mark.parametrize("name, shape, classes", [("breast_cancer", (569, 30), 2), ("digits", (1797, 64), 10),
                                                  ("wine", (178, 13), 3), ("iris", (150, 4), 3)])
def test_bundled_sets_come_from_the_wheel(name, shape, classes):
    x, y = SOURCES[name].load(random_state=0)
    expected_x, expected_y = getattr(datasets, f"load_{name}")(return_X_y=True)
    assert x.shape == shape and x.dtype == np.float64 and np.array_equal(x, expected_x)
    assert y.dtype == np.int64 and np.array_equal(y, expected_y)
    assert sorted(set(y.tolist())) == list(range(classes))


def test_make_classification_is_the_seeds_call():
    x, y = SOURCES["make_classification"].load(random_state=42, n_samples=300, n_features=6, n_classes=3,
                                          n_clusters_per_class=1)
    expected_x, expected_y = datasets.make_classification(n_samples=300, n_features=6, n_classes=3,
                                                          n_clusters_per_class=1, random_state=42)
    assert np.array_equal(x, expected_x) and np.array_equal(y, expected_y)


def test_csv_reads_features_and_maps_labels_in_order(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text("f1,label,f2\n1.5,10,-2\n0,2,3e2\n7,10,0.25\n1,9,1\n")
    x, y = from_csv(0, path, "label")
    assert np.array_equal(x, [[1.5, -2], [0, 300], [7, 0.25], [1, 1]])
    assert y.tolist() == [2, 0, 2, 1]  # 2 < 9 < 10 numerically, not as strings


def test_csv_names_as_labels_sort_alphabetically(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("a,kind\n1,dog\n2,cat\n3,dog\n")
    assert from_csv(0, path, "kind")[1].tolist() == [1, 0, 1]


def test_the_example_csv_is_iris(tmp_path):
    from tests.conftest import ROOT
    x, y = from_csv(0, ROOT / "datasets/iris.csv", "species")
    expected_x, expected_y = datasets.load_iris(return_X_y=True)
    assert np.allclose(x, expected_x) and np.array_equal(y, expected_y)


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n", "no column 'label' (data.target); columns: a, b"),
    ("label\nx\ny\n", "only the target column"),
    ("a,label\ninf,x\n2,y\n", "line 2, column 'a' = 'inf'; expected a finite number"),
    ("a,label\n1,x\n", "column 'label' holds 1 class"),
])
def test_bad_csv_files_are_input_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        from_csv(0, path, "label")
    assert str(raised.value).startswith(f"{path}: {message}")


def test_split_is_train_test_split_and_standardizes_by_the_train_split():
    x, y = SOURCES["wine"].load(random_state=0)
    x_train, x_test, y_train, y_test = split(x, y, 0.3, 42)
    expected = train_test_split(x, y, test_size=0.3, random_state=42)
    assert all(np.array_equal(a, b) for a, b in zip((x_train, x_test, y_train, y_test), expected))
    scaled_train, scaled_test, _, _ = split(x, y, 0.3, 42, standardize=True)
    assert np.allclose(scaled_train.mean(axis=0), 0) and np.allclose(scaled_train.std(axis=0), 1)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    assert np.allclose(scaled_test, (x_test - mean) / std)
    assert not np.allclose(scaled_test.mean(axis=0), 0, atol=1e-3)  # the test split's own mean is not used


def test_a_constant_feature_stays_finite_when_standardized():
    x = np.column_stack([np.ones(10), np.arange(10.0)])
    x_train, x_test, _, _ = split(x, np.arange(10) % 2, 0.3, 0, standardize=True)
    assert np.isfinite(x_train).all() and (x_train[:, 0] == 0).all()


def test_a_split_with_an_empty_side_is_an_input_error():
    with pytest.raises(InputError, match="the data: 3 rows give 3 test and 0 train rows at test_size 0.9"):
        split(np.zeros((3, 2)), np.array([0, 1, 0]), 0.9, 0)


@pytest.mark.parametrize("content, message", [
    (b"a,label\n1,x\n\xff,y\n", "unreadable (UnicodeDecodeError); expected a CSV file with a header row"),
    (b"", "empty; expected a CSV file with a header row"),
    (b"a,label\n1,x\n2\n", "line 3 has 1 fields; expected 2 as in the header"),
    (b"a,label\n1,2\n2,10\n3,cat\n4,NA\n", "column 'label' mixes numbers (2, 10) and names (NA, cat); "
                                           "expected class labels that are all numbers or all names"),
])
def test_undecodable_short_and_mixed_csv_files_are_one_line_input_errors(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        from_csv(0, path, "label")
    assert str(raised.value) == f"{path}: {message}"
    with pytest.raises(InputError, match="missing; expected a CSV file"):
        from_csv(0, tmp_path / "absent.csv", "label")
