"""prunelab/data.py: each source's arrays, the CSV reader, the split and its standardization."""
import re

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split

from prunelab import InputError
from prunelab.data import SOURCES, _class_indices, _label_order, _read_rows, _read_with_pandas, from_csv, split


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
    path.write_text("f1,label,f2\n1.5,10,-2\n0,2,3e2\n7,10,0.25\n1,9,1\n2,2,5\n3,9,6\n")
    x, y = from_csv(0, path, "label")
    assert np.array_equal(x, [[1.5, -2], [0, 300], [7, 0.25], [1, 1], [2, 5], [3, 6]])
    assert y.tolist() == [2, 0, 2, 1, 0, 1]  # 2 < 9 < 10 numerically, not as strings


def test_csv_names_as_labels_sort_alphabetically(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("a,kind\n1,dog\n2,cat\n3,dog\n4, cat \n")
    assert from_csv(0, path, "kind")[1].tolist() == [1, 0, 1, 0]  # labels are stripped


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
    # pandas would read these (an extra first-row field as an index, a short row padded, a blank line skipped)
    (b"a,b,label\n1,2,3,4\n5,6,7,8\n", "line 2 has 4 fields; expected 3 as in the header"),
    (b"a,b,label\n1,2,3\n5,6,7,8\n", "line 3 has 4 fields; expected 3 as in the header"),
    (b"a,b,label\n1,2,3\n5,6\n", "line 3 has 2 fields; expected 3 as in the header"),
    (b"a,b,label\n1,2,3\n\n5,6,7\n", "line 3 has 0 fields; expected 3 as in the header"),
    (b"a,label\n1,x\n", "column 'label' holds 1 class; expected at least 2"),
    (b"a,b,label\n1,2,x\n3,,y\n", "line 3, column 'b' = ''; expected a finite number (every column but 'label' "
                                   "is a feature)"),
    (b"a,b,label\n1,2,x\n3,nan,y\n", "line 3, column 'b' = 'nan'; expected a finite number (every column but "
                                      "'label' is a feature)"),
    (b"a,b,label\n1,True,x\n3,False,y\n", "line 2, column 'b' = 'True'; expected a finite number (every column "
                                            "but 'label' is a feature)"),
    (b"a,b,label\n1,2,x\n3,1e999,y\n", "line 3, column 'b' = '1e999'; expected a finite number (every column "
                                        "but 'label' is a feature)"),
    (b"a,b,label\n1,2,x\n3,4,\n5,6,y\n", "line 3, column 'label' = '': an empty label; "
                                          "expected a class label in every row"),
    (b"a,label,b\n1,x,2\n3,  ,4\n", "line 3, column 'label' = '  ': an empty label; expected a class label in every row"),
    (b"a,label\n1,1\n2,\n3,2\n", "line 3, column 'label' = '': an empty label; expected a class label in every row"),
    (b"a,label\n1,x\n2,y\n3,x\n4,z\n5,z\n", "column 'label' has class 'y' in 1 row (line 3); expected at least 2 "
                                             "rows per class, so that it can be in both the train and the test split"),
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


def test_pandas_reads_what_the_row_reader_reads_bit_for_bit(tmp_path):
    """Awkward decimals (17+ digits, subnormals, halfway cases near 2**53, signs, exponents, spaces,
    quotes, CRLF): pandas' floats are float() of the text, bit for bit, and the labels the same."""
    rng = np.random.default_rng(0)
    texts = ["0.1", "-0", "+1.5", ".5", "5.", "1E5", "1e-5", " 2.5", "3.5 ", '"4.25"', "2.2250738585072011e-308",
             "4.9406564584124654e-324", "2.4703282292062328e-324", "9007199254740993", "9007199254740993.0000001",
             "1.7976931348623157e308", "0.30000000000000004441", "123456789012345678901234567890e-30",
             "1." + "0" * 40 + "1", "1.00000000000000011102230246251565404236316680908203125",
             "1.00000000000000011102230246251565404236316680908203124"]
    texts += [repr(float(value)) for value in rng.standard_normal(200) * 10.0 ** rng.integers(-300, 300, 200)]
    texts += [f"{value:.{digits}f}" for value, digits in zip(rng.random(200), rng.integers(15, 30, 200))]
    # b: integers pandas reads as int64, c: integers past 2**53, rounded to the nearest double
    rows = [f"{text},{'yes' if i % 2 else 'no'},{len(texts) - i},{2**53 + 1 + 2 * i}" for i, text in enumerate(texts)]
    path = tmp_path / "awkward.csv"
    path.write_bytes(("a,label,b,c\r\n" + "\r\n".join(rows) + "\r\n").encode())
    assert _read_with_pandas(path, "label") is not None  # the pandas path, not the fallback
    x, y = from_csv(0, path, "label")
    expected = np.array([[float(text.strip('"')), len(texts) - i, float(str(2**53 + 1 + 2 * i))]
                         for i, text in enumerate(texts)])
    assert x.tobytes() == expected.tobytes()
    old_x, old_labels = _read_rows(path, "label")
    assert x.tobytes() == old_x.tobytes()
    assert np.array_equal(y, _class_indices(path, "label", old_labels)) and y.tolist() == [i % 2 for i in range(len(texts))]


@pytest.mark.parametrize("text", [
    "a,label\n1_000,x\n2,y\n3,x\n4,y\n",        # float() takes underscores, pandas does not: the row reader decides
    'a,"label"\n"1",x\n2,"y"\n3,"x, z"\n4,"x, z"\n5,y\n6,x\n',
    "a,b,label\n1,2,10\n3,4,2\n5,6,10\n7,8,2\n",
    "\ufeffa,label\n1,x\n2,y\n3,x\n4,y\n",      # a BOM stays part of the first column's name, as before
])
def test_both_readers_give_the_same_arrays(tmp_path, text):
    path = tmp_path / "fine.csv"
    path.write_text(text, encoding="utf-8")
    x, y = from_csv(0, path, "label")
    old_x, old_labels = _read_rows(path, "label")
    assert x.tobytes() == old_x.tobytes() and np.array_equal(y, _class_indices(path, "label", old_labels))


def test_label_order_is_total_whatever_order_the_labels_come_in(tmp_path):
    labels = ["1.0", "1", "nan", "10", "2", "01", "inf", "-1"]
    order = ["-1", "01", "1", "1.0", "2", "10", "inf", "nan"]  # equal values by their text; nan last
    assert sorted(labels, key=_label_order) == order and sorted(reversed(labels), key=_label_order) == order
    for body in ("1,1.0\n2,1\n3,1.0\n4,1\n", "1,1\n2,1.0\n3,1\n4,1.0\n"):
        path = tmp_path / "ties.csv"
        path.write_text("a,label\n" + body)
        labels = [row.split(",")[1] for row in body.split()]
        assert from_csv(0, path, "label")[1].tolist() == [order.index(label) - 2 for label in labels]


def test_a_sample_keeps_its_image_shape_and_tabular_rows_stay_flat(tmp_path):
    from sklearn.datasets import load_digits

    from prunelab.data import load, sample_shape
    from tests.idx_files import write_set
    assert sample_shape("make_classification", {"n_features": 9}, 9) == (9,)
    assert sample_shape("digits", {}, 64) == (1, 8, 8)
    x, _ = load("digits", {"random_state": 0})
    assert np.array_equal(x.reshape(-1, *sample_shape("digits", {}, 64))[:, 0], load_digits().images)
    write_set(tmp_path, rows=3, columns=2)
    assert sample_shape("idx", {"path": str(tmp_path)}, 6) == (1, 3, 2)
    with pytest.raises(InputError, match=rf"^{re.escape(str(tmp_path))}: images of \(1, 3, 2\) = 6 pixels; expected 7,"):
        sample_shape("idx", {"path": str(tmp_path)}, 7)
