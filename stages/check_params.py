"""Stage check-params: validate the whole params.yaml, and the dataset it names, before any
other stage runs.

DVC deletes a stale stage's outputs right before running it, so a stage that found a bad
value itself would already have lost its old artifacts. This stage runs first (every other
stage depends on its output), exits non-zero on the first bad key or a bad data file (a CSV
with a missing column, ...), and otherwise rewrites the same constant file, so a params
change reruns nothing else through it.
"""
from prunelab.model import outputs_for
from stages import UserError, run
from stages.artifacts import write_bytes
from stages.generate_data import split_dataset
from stages.params_file import PARAMS_FILE
from stages.schema import SYNTHETIC, budget_fits, gradual_fits, read_params, synthetic_train_samples, validate

CHECKED = "data/params.ok"


def main():
    params = validate(read_params())
    # A file or bundled set is loaded and split, as generate-data will, to find what is wrong
    # with it. Synthetic data follows from params the schema has checked (split sizes and
    # classes included); building it here would only hold it in memory (2.4 GB at 1,000,000 x 100).
    data = params["data"]
    if data["source"] not in SYNTHETIC:
        x_train, x_test, y_train, y_test = split_dataset(data)
        train_samples, features = len(x_train), x_train.shape[1]
        classes = int(max(y_train.max(), y_test.max())) + 1
    else:
        train_samples, features, classes = synthetic_train_samples(data), data["n_features"], data["n_classes"]
    for message in (gradual_fits(params["prune"], params["train"]["batch_size"], train_samples),
                    budget_fits(params["prune"], features, params["model"]["hidden_sizes"], outputs_for(classes))):
        if message:
            raise UserError(f"{PARAMS_FILE}: {message}")
    write_bytes(CHECKED, b"params.yaml passed stages/schema.py\n")


if __name__ == "__main__":
    run(main)
