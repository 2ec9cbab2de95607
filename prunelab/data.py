"""Data sources: each a record (Source) in SOURCES that says what it loads, which params it
takes (with their types, defaults and ranges) and whether it is synthetic. A loader returns
features x (samples x features, float64) and labels y (samples, integers 0 .. classes - 1).
A new dataset is one loader and one record; the pipeline's params schema derives its
`data.*` keys and their checks from the records.

scikit-learn's bundled sets ship inside its wheel: no network. `csv` reads a user's file;
what is wrong with a file is an InputError that names it. scikit-learn is imported only
when a loader runs: checking params needs the records, not the numeric code.
"""
import csv
import locale
import math
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from prunelab import InputError
from prunelab.idx import from_idx, image_size
from prunelab.options import Option


@dataclass(frozen=True)
class Source:
    load: Callable[..., tuple]       # load(random_state, **options) -> (x, y)
    about: str                       # what it is, for the params table
    options: dict = field(default_factory=dict)  # name -> Option, in the order the params table shows them
    synthetic: bool = False          # built from its options alone: nothing to read, nothing to check but params
    shape: Callable[[dict], tuple] = None  # synthetic: (samples, features, classes) from its options
    rules: tuple = ()                # checks across its options: each maps the values to an error message or None
    named_by: str = ""               # the option that names its input (a file), for error messages
    presplit: bool = False           # its own train/test split: load returns (x_train, x_test, y_train, y_test)
    image: Callable[[dict], tuple] = None  # images: (channels, height, width) of a sample, from its options

    def label(self, name: str, values: dict) -> str:
        """How errors name this source's data: its file, or `data.source NAME`."""
        return str(values[self.named_by]) if self.named_by else f"data.source {name}"


def make_classification(random_state: int, n_samples: int, n_features: int, n_classes: int,
                        n_clusters_per_class: int) -> tuple:
    """The seed's synthetic task (2 informative and 2 redundant features, the rest noise)."""
    from sklearn import datasets
    return datasets.make_classification(n_samples=n_samples, n_features=n_features, n_classes=n_classes,
                                        n_clusters_per_class=n_clusters_per_class, random_state=random_state)


def _bundled(name):
    """A scikit-learn dataset that ships with the wheel; random_state is unused (fixed data)."""
    def load(random_state):
        from sklearn import datasets
        x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        return x.astype(np.float64), y.astype(np.int64)
    load.__doc__ = f"scikit-learn's {name} (bundled, fixed)"
    return load


def from_csv(random_state: int, path: str | os.PathLike, target: str) -> tuple:
    """A CSV file with a header row: numeric feature columns and a `target` column of class
    labels (numbers or names, mapped to 0 .. classes - 1 in sorted order), every row labelled,
    every class in at least 2 rows (one row can never be in both the train and the test split).

    pandas reads the file; where it cannot vouch for it (a cell that is not a finite number, an
    empty label, a row with the wrong number of fields, an unreadable file ...), the row-by-row
    reader reads it again, to name the file, line and column, or to accept what Python's float()
    accepts and pandas does not (e.g. "1_000"). Both give the same floats: float() of the text."""
    parsed = _read_with_pandas(path, target)
    x, labels = parsed if parsed is not None else _read_rows(path, target)
    return x, _class_indices(path, target, labels)


def _read_with_pandas(path, target):
    """(x, raw labels) through pandas.read_csv, or None wherever the row-by-row reader must
    decide (any doubt, including every error: that reader builds the one-line message)."""
    try:
        with open(path, newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if header is None or target not in header or len(header) < 2:
        return None
    import warnings

    import pandas as pd
    column = header.index(target)
    names = list(range(len(header)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a ParserWarning (fields and names differ) is a doubt checked below
            # The features' types are inferred (quicker than naming float64) and must come out
            # int64 or float64: pandas >= 3.1 parses every float with one correctly rounded
            # converter (float_precision is deprecated), and int64 -> float64 rounds as float()
            # does, so both give float()'s bits; anything else (bool, text, uint64) is a doubt.
            frame = pd.read_csv(path, header=0, names=names, dtype={column: str}, keep_default_na=False,
                                na_filter=False, skip_blank_lines=False, encoding=locale.getpreferredencoding(False))
    except Exception:  # noqa: BLE001  (ParserError, ValueError, UnicodeDecodeError, ...: the row reader names it)
        return None
    # A row with one field more than the header turns the first column into an index.
    if not isinstance(frame.index, pd.RangeIndex) or frame.shape[1] != len(header):
        return None
    features = frame.drop(columns=column)
    if not all(dtype in (np.dtype(np.float64), np.dtype(np.int64)) for dtype in features.dtypes):
        return None
    x = features.to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        return None
    labels = frame[column].to_numpy(dtype=object)
    codes, uniques = pd.factorize(labels)
    if (codes < 0).any() or not all(isinstance(label, str) and label.strip() for label in uniques):
        return None
    return x, (codes, uniques)


def _read_rows(path, target):
    """(x, labels) read row by row with the csv module: the reader that names what is wrong."""
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
        values = row[:column] + row[column + 1:]
        for index, value in enumerate(values):
            try:
                x[line - 2, index] = float(value)
            except ValueError:
                x[line - 2, index] = math.nan
            if not math.isfinite(x[line - 2, index]):
                raise InputError(f"{path}: line {line}, column {features[index]!r} = {value!r}; "
                                 f"expected a finite number (every column but {target!r} is a feature)")
        labels.append(row[column].strip())
        if not labels[-1]:
            raise InputError(f"{path}: line {line}, column {target!r} = {row[column]!r}: an empty label; "
                             "expected a class label in every row")
    import pandas as pd
    return x, pd.factorize(np.array(labels, dtype=object))


def _class_indices(path, target, factorized) -> np.ndarray:
    """Labels (pandas.factorize's codes and uniques, unstripped) as 0 .. classes - 1 in
    _label_order; labels that differ only in surrounding spaces are one class."""
    codes, uniques = factorized
    stripped = [label.strip() for label in uniques]
    numbers = {label for label in stripped if _label_order(label)[0] == 0}
    if numbers and len(numbers) < len(set(stripped)):
        names = sorted(set(stripped) - numbers)
        raise InputError(f"{path}: column {target!r} mixes numbers ({', '.join(sorted(numbers, key=_label_order)[:3])}) "
                         f"and names ({', '.join(names[:3])}); expected class labels that are all numbers or all names")
    classes = sorted(set(stripped), key=_label_order)
    if len(classes) < 2:
        raise InputError(f"{path}: column {target!r} holds {len(classes)} class; expected at least 2")
    number = {label: place for place, label in enumerate(classes)}
    y = np.array([number[label] for label in stripped], dtype=np.int64)[codes]
    counts = np.bincount(y, minlength=len(classes))
    for place in np.flatnonzero(counts < 2):
        line = int(np.flatnonzero(y == place)[0]) + 2
        raise InputError(f"{path}: column {target!r} has class {classes[place]!r} in {counts[place]} row "
                         f"(line {line}); expected at least 2 rows per class, so that it can be in both the train "
                         "and the test split")
    return y


def _label_order(label: str) -> tuple:
    """Numeric labels in numeric order (2 before 10; nan last), names alphabetically (a column
    holds one kind); ties ("1" and "1.0", two classes) in the order of their text, so the order
    is total and does not depend on the order the labels come in."""
    try:
        value = float(label)
    except ValueError:
        return 1, False, 0.0, label
    return 0, math.isnan(value), 0.0 if math.isnan(value) else value, label


def _classes_fit_informative_features(values):
    product = values["n_classes"] * values["n_clusters_per_class"]
    if product > 4:
        return (f"data.n_classes * data.n_clusters_per_class = {product}; expected at most 4 "
                "(make_classification's 2 informative features hold 2**2 clusters)")
    return None


def _split_sizes_nonempty(values):
    n_test = split_sizes(values["n_samples"], values["test_size"])[1]
    if not 1 <= n_test < values["n_samples"]:
        return (f"data.test_size = {values['test_size']} with data.n_samples = {values['n_samples']} "
                f"gives {n_test} test samples; expected both splits to be non-empty")
    return None


_SYNTHETIC_OPTIONS = {
    "n_samples": Option(2500, lambda v: 2 <= v <= 10**6, "an integer in [2, 10**6]", "make_classification n_samples"),
    "n_features": Option(25, lambda v: 4 <= v <= 10**4, "an integer in [4, 10**4] (2 informative + 2 redundant)",
                         "make_classification n_features"),
    "n_classes": Option(2, lambda v: 2 <= v <= 4, "an integer in [2, 4] (n_classes * n_clusters_per_class <= 4)",
                        "make_classification classes (2: one sigmoid output; more: one output per class, softmax)"),
    "n_clusters_per_class": Option(2, lambda v: v in (1, 2), "1 or 2 (n_classes * clusters <= 2**2 informative)",
                                   "make_classification n_clusters_per_class"),
}
_CSV_OPTIONS = {
    "path": Option(None, lambda v: v.endswith(".csv"), "a path ending in .csv",
                   "source csv: the file, relative to the repo root", kind=str, suffix=".csv"),
    "target": Option(None, lambda v: v != "", "a column name", "source csv: the column of class labels", kind=str),
}

_IDX_OPTIONS = {
    "path": Option(None, lambda v: v != "", "a folder", "source idx: the folder of the four IDX files",
                   kind=str, folder=True),
    **{f"limit_{part}": Option(0, lambda v: 0 <= v <= 10**7, "0 (all) or an integer up to the part's images",
                               f"source idx: a seeded, class-stratified subset of the {part} images") for part in ("train", "test")},
}

SOURCES = {
    "make_classification": Source(make_classification, "the seed's synthetic task", _SYNTHETIC_OPTIONS,
                                  synthetic=True, rules=(_classes_fit_informative_features, _split_sizes_nonempty),
                                  shape=lambda v: (v["n_samples"], v["n_features"], v["n_classes"])),
    "breast_cancer": Source(_bundled("breast_cancer"), "bundled with scikit-learn, 569 x 30, 2 classes"),
    "digits": Source(_bundled("digits"), "bundled with scikit-learn, 1797 x 64, 10 classes",
                     image=lambda values: (1, 8, 8)),
    "wine": Source(_bundled("wine"), "bundled with scikit-learn, 178 x 13, 3 classes"),
    "iris": Source(_bundled("iris"), "bundled with scikit-learn, 150 x 4, 3 classes"),
    "csv": Source(from_csv, "a CSV file of yours under datasets/", _CSV_OPTIONS, named_by="path"),
    "idx": Source(from_idx, "IDX images of yours under datasets/, MNIST or Fashion-MNIST: their own split, pixels / 255",
                  _IDX_OPTIONS, named_by="path", presplit=True,
                  image=lambda values: (1, *image_size(values["path"]))),
}


def sample_shape(source: str, values: dict, features: int) -> tuple:
    """One sample's shape: (channels, height, width) for an image source, whose rows hold its
    pixels channel-major, row by row (as torch reshapes them), else (features,)."""
    record = SOURCES[source]
    if record.image is None:
        return (features,)
    shape = tuple(record.image(values))
    if math.prod(shape) != features:
        raise InputError(f"{record.label(source, values)}: images of {shape} = {math.prod(shape)} pixels; "
                         f"expected {features}, the features of its rows")
    return shape


def load(source: str, values: dict) -> tuple:
    """(x, y) of the source named `source`, with its options (and random_state) taken from `values`."""
    record = SOURCES[source]
    return record.load(values["random_state"], **{name: values[name] for name in record.options})


def load_split(data: dict) -> tuple:
    """(x_train, x_test, y_train, y_test) of a data section (source, its options, random_state,
    test_size, standardize); a bad file is an InputError that names it. A presplit source
    keeps its own split (test_size does not apply)."""
    if SOURCES[data["source"]].presplit:
        x_train, x_test, y_train, y_test = load(data["source"], data)
        return (*standardized(x_train, x_test, data["standardize"]), y_train, y_test)
    x, y = load(data["source"], data)
    return split(x, y, data["test_size"], data["random_state"], data["standardize"],
                 name=SOURCES[data["source"]].label(data["source"], data))


def split_sizes(samples: int, test_size: float) -> tuple[int, int]:
    """(train, test) rows that split() gives `samples` rows at test_size: train_test_split's rounding."""
    n_test = math.ceil(test_size * samples)
    return samples - n_test, n_test


def split(x: np.ndarray, y: np.ndarray, test_size: float, random_state: int, standardize: bool = False,
          name: str = "the data") -> tuple:
    """(x_train, x_test, y_train, y_test), as train_test_split draws them; with standardize,
    features are centred and scaled by the train split's mean and std (the test split's own
    statistics would leak into the model)."""
    n_test = split_sizes(len(y), test_size)[1]
    if not 1 <= n_test < len(y):
        raise InputError(f"{name}: {len(y)} rows give {n_test} test and {len(y) - n_test} train rows at "
                         f"test_size {test_size}; expected both splits to be non-empty")
    from sklearn.model_selection import train_test_split
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=random_state)
    return (*standardized(x_train, x_test, standardize), y_train, y_test)


def standardized(x_train: np.ndarray, x_test: np.ndarray, standardize: bool) -> tuple:
    """With standardize, both centred and scaled by the train split's mean and std."""
    if not standardize:
        return x_train, x_test
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0  # a constant feature stays constant (zero) rather than dividing by 0
    return (x_train - mean) / std, (x_test - mean) / std


def class_counts(y: np.ndarray, classes: int) -> list:
    return [int((y == label).sum()) for label in range(classes)]
