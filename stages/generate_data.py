"""Stage generate-data: the seed's make_classification data, split into train and test."""
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from stages import run, schema
from stages.artifacts import rounded, save_arrays, write_json


def split_summary(y):
    return rounded({"samples": len(y), "class_0": int((y == 0).sum()), "class_1": int((y == 1).sum()),
                    "class_1_fraction": float(np.mean(y == 1))})


def main():
    data = schema.load("data")["data"]
    x, y = make_classification(
        n_samples=data["n_samples"],
        n_features=data["n_features"],
        n_classes=data["n_classes"],
        n_clusters_per_class=data["n_clusters_per_class"],
        random_state=data["random_state"],
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=data["test_size"], random_state=data["random_state"])
    save_arrays("data/train.npz", x=x_train, y=y_train)
    save_arrays("data/test.npz", x=x_test, y=y_test)
    write_json("metrics/data.json", {"features": data["n_features"],
                                     "train": split_summary(y_train), "test": split_summary(y_test)})


if __name__ == "__main__":
    run(main)
