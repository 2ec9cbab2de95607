"""Stage generate-data: the dataset data.source names, split into train and test (and
standardized by the train split's statistics when data.standardize is set)."""
import numpy as np

from prunelab.data import SOURCES, class_counts, split
from stages import run, schema
from stages.artifacts import rounded, save_arrays, write_json


def split_dataset(data):
    """(x_train, x_test, y_train, y_test) of the data section's dataset; a bad file is an InputError."""
    x, y = SOURCES[data["source"]](**schema.source_options(data))
    name = data["path"] if data["source"] == "csv" else f"data.source {data['source']}"
    return split(x, y, data["test_size"], data["random_state"], data["standardize"], name=name)


def split_summary(y, classes):
    counts = class_counts(y, classes)
    summary = {"samples": len(y), **{f"class_{label}": count for label, count in enumerate(counts)}}
    if classes == 2:
        summary["class_1_fraction"] = float(np.mean(y == 1))
    else:  # the accuracy of always answering the largest class
        summary["largest_class_fraction"] = max(counts) / len(y)
    return rounded(summary)


def main():
    data = schema.load("data")["data"]
    x_train, x_test, y_train, y_test = split_dataset(data)
    classes = int(max(y_train.max(), y_test.max())) + 1
    save_arrays("data/train.npz", x=x_train, y=y_train)
    save_arrays("data/test.npz", x=x_test, y=y_test)
    write_json("metrics/data.json", {"features": x_train.shape[1], "train": split_summary(y_train, classes),
                                     "test": split_summary(y_test, classes)})


if __name__ == "__main__":
    run(main)
