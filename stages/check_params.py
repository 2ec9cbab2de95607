"""Stage check-params: validate the whole params.yaml, and the dataset it names, before any
other stage runs.

DVC deletes a stale stage's outputs right before running it, so a stage that found a bad
value itself would already have lost its old artifacts. This stage runs first (every other
stage depends on its output), exits non-zero on the first bad key or a bad data file (a CSV
with a missing column, ...), and otherwise rewrites the same constant file, so a params
change reruns nothing else through it. It loads no torch: the records it reads (sources,
methods, regimes, architectures) load without it.
"""
from prunelab.data import SOURCES, load_split, split_sizes
from prunelab.shapes import outputs_for
from stages import UserError, paths, run
from stages.artifacts import write_bytes
from stages.params_file import PARAMS_FILE
from stages.rules import arch_fits_the_data, budget_fits, regimes_fit
from stages.schema import read_params, validate


def main():
    params = validate(read_params())
    data = params["data"]
    # A file or bundled set is loaded and split, as generate-data will, to find what is wrong
    # with it. Synthetic data follows from params the schema has checked (split sizes and
    # classes included); building it here would only hold it in memory (2.4 GB at 1,000,000 x 100).
    record = SOURCES[data["source"]]
    if record.synthetic:
        samples, features, classes = record.shape(data)
        train_samples = split_sizes(samples, data["test_size"])[0]
    else:
        x_train, x_test, y_train, y_test = load_split(data)
        train_samples, features = len(x_train), x_train.shape[1]
        classes = int(max(y_train.max(), y_test.max())) + 1
    model = params["model"]
    # The weight counts of another architecture follow from its build (torch): prune-sweep checks its budgets.
    budget = (budget_fits(params["prune"], features, model["hidden_sizes"], outputs_for(classes))
              if model["arch"] == "mlp" else None)
    for message in (arch_fits_the_data(model, data["source"]),
                    regimes_fit(params["prune"], params["train"]["batch_size"], train_samples), budget):
        if message:
            raise UserError(f"{PARAMS_FILE}: {message}")
    write_bytes(paths.PARAMS_OK, b"params.yaml passed stages/schema.py\n")


if __name__ == "__main__":
    run(main)
