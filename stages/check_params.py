"""Stage check-params: validate the whole params.yaml before any other stage runs.

DVC deletes a stale stage's outputs right before running it, so a stage that found a bad
value itself would already have lost its old artifacts. This stage runs first (every other
stage depends on its output), exits non-zero on the first bad key, and otherwise rewrites
the same constant file, so a params change reruns nothing else through it.
"""
from stages import run
from stages.artifacts import write_bytes
from stages.schema import read_params, validate

CHECKED = "data/params.ok"


def main():
    validate(read_params())
    write_bytes(CHECKED, b"params.yaml passed stages/schema.py\n")


if __name__ == "__main__":
    run(main)
