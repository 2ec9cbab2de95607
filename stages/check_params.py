"""Stage check-params: validate the whole params.yaml, and the dataset it names, before any
other stage runs.

DVC deletes a stale stage's outputs right before running it, so a stage that found a bad
value itself would already have lost its old artifacts. This stage runs first (every other
stage depends on its output), exits non-zero on the first bad key or a bad data file (a CSV
with a missing column, ...), and otherwise rewrites the same constant file, so a params
change reruns nothing else through it. It loads no torch: the schema knows the names of the
methods and regimes from prunelab/names.py.
"""
from prunelab.data import SOURCES, load_split
from stages import paths, run
from stages.artifacts import write_bytes
from stages.schema import read_params, validate


def main():
    data = validate(read_params())["data"]
    # A file or bundled set is loaded and split, as generate-data will, to find what is wrong
    # with it. Synthetic data follows from params the schema has checked (split sizes and
    # classes included); building it here would only hold it in memory (2.4 GB at 1,000,000 x 100).
    if not SOURCES[data["source"]].synthetic:
        load_split(data)
    write_bytes(paths.PARAMS_OK, b"params.yaml passed stages/schema.py\n")


if __name__ == "__main__":
    run(main)
