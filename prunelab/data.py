"""Data sources: each returns features x (samples x features, float64) and labels y (samples,
integers 0 .. classes - 1). A new dataset is one function and one line in SOURCES.

scikit-learn's bundled sets ship inside its wheel: no network. `csv` reads a user's file;
what is wrong with a file is an InputError that names it.
"""
import csv
import math

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

from prunelab import InputError


def make_classification(random_state, n_samples, n_features, n_classes, n_clusters_per_class):
    """The seed's synthetic task (2 informative and 2 redundant features, the rest noise)."""
    return datasets.make_classification(n_samples=n_samples, n_features=n_features, n_classes=n_classes,
                                        n_clusters_per_class=n_clusters_per_class, random_state=random_state)


def _bundled(loader):
    """A scikit-learn dataset that ships with the wheel; random_state is unused (fixed data)."""
    def source(random_state):
        x, y = loader(return_X_y=True)
        return x.astype(np.float64), y.astype(np.int64)
    source.__doc__ = f"scikit-learn's {loader.__name__.removeprefix('load_')} (bundled, fixed)"
    return source


def from_csv(random_state, path, target):
    """A CSV file with a header row: numeric feature columns and a `target` column of class
    labels (numbers or names, mapped to 0 .. classes - 1 in sorted order)."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise InputError(f"{path}: missing; expected a CSV file with a header row") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"{path}: unreadable ({type(err).__name__}); expected a CSV file with a header row") from None
    if not rows:
        raise InputError(f"{path}: empty; expected a CSV file with a header row")
    header, body = rows[0], rows[1:]
    if target not in header:
        raise InputError(f"{path}: no column {target!r} (data.target); columns: {', '.join(header)}")
    if len(header) < 2:
        raise InputError(f"{path}: only the target column; expected at least one feature column")
    column = header.index(target)
    features = [name for index, name in enumerate(header) if index != column]
    x = np.empty((len(body), len(features)))
    labels = []
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise InputError(f"{path}: line {line} has {len(row)} fields; expected {len(header)} as in the header")
        labels.append(row[column].strip())
        values = row[:column] + row[column + 1:]
        for index, value in enumerate(values):
            try:
                x[line - 2, index] = float(value)
            except ValueError:
                x[line - 2, index] = math.nan
            if not math.isfinite(x[line - 2, index]):
                raise InputError(f"{path}: line {line}, column {features[index]!r} = {value!r}; "
                                 f"expected a finite number (every column but {target!r} is a feature)")
    classes = sorted(set(labels), key=_label_order)
    if len(classes) < 2:
        raise InputError(f"{path}: column {target!r} holds {len(classes)} class; expected at least 2")
    index = {label: number for number, label in enumerate(classes)}
    return x, np.array([index[label] for label in labels], dtype=np.int64)


def _label_order(label):
    """Numeric labels in numeric order (2 before 10), names alphabetically after them."""
    try:
        return 0, float(label), ""
    except ValueError:
        return 1, 0.0, label


SOURCES = {
    "make_classification": make_classification,
    "breast_cancer": _bundled(datasets.load_breast_cancer),
    "digits": _bundled(datasets.load_digits),
    "wine": _bundled(datasets.load_wine),
    "iris": _bundled(datasets.load_iris),
    "csv": from_csv,
}


def split(x, y, test_size, random_state, standardize=False, name="the data"):
    """(x_train, x_test, y_train, y_test), as train_test_split draws them; with standardize,
    features are centred and scaled by the train split's mean and std (the test split's own
    statistics would leak into the model)."""
    n_test = math.ceil(test_size * len(y))  # train_test_split's own rounding
    if not 1 <= n_test < len(y):
        raise InputError(f"{name}: {len(y)} rows give {n_test} test and {len(y) - n_test} train rows at "
                         f"test_size {test_size}; expected both splits to be non-empty")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=random_state)
    if standardize:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0  # a constant feature stays constant (zero) rather than dividing by 0
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return x_train, x_test, y_train, y_test


def class_counts(y, classes):
    return [int((y == label).sum()) for label in range(classes)]
