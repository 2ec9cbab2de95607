"""Stage generate-data: the dataset data.source names, split into train and test (and
standardized by the train split's statistics when data.standardize is set). An image
source's splits also hold `shape`, one sample's (channels, height, width): its rows are the
pixels, channel-major, row by row, as torch reshapes them."""
import numpy as np

from prunelab.data import class_counts, load_split, sample_shape
from stages import paths, run, schema
from stages.artifacts import rounded, save_arrays, write_json


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
    x_train, x_test, y_train, y_test = load_split(data)
    classes = int(max(y_train.max(), y_test.max())) + 1
    shape = sample_shape(data["source"], data, x_train.shape[1])
    images = {"shape": np.array(shape, dtype=np.int64)} if len(shape) > 1 else {}
    save_arrays(paths.TRAIN_SPLIT, x=x_train, y=y_train, **images)
    save_arrays(paths.TEST_SPLIT, x=x_test, y=y_test, **images)
    write_json(paths.DATA_METRICS, {"features": x_train.shape[1], "train": split_summary(y_train, classes),
                                     "test": split_summary(y_test, classes)})


if __name__ == "__main__":
    run(main)
