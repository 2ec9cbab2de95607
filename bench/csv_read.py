"""prunelab's CSV reader (prunelab.data.from_csv, source csv) against pandas.read_csv on the
same file, in the same run: the block in docs/reference.md (Data sources and depth).

Writes a synthetic CSV to a temporary directory: 250,000 rows of 20 float features (Python's
repr, up to 17 significant digits; 99 MB) and a label column of 4 names. After one untimed call
of each (which also checks that both give the same features), each round times, in
this order, `pandas.read_csv(path)` with its defaults and `from_csv(0, path, "label")` (which
reads through pandas, checks every cell and maps the labels); the report gives the medians and
their ratio. The row-by-row reader (the one from_csv falls back to, to name a bad line; the
only reader before) is timed once, for scale.

Usage: python bench/csv_read.py [--rounds N]
"""
import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

import pandas as pd  # noqa: E402

from prunelab.data import _read_rows, from_csv  # noqa: E402

ROWS, FEATURES, NAMES = 250_000, 20, ("bird", "cat", "dog", "fish")


def write_csv(path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((ROWS, FEATURES)), columns=[f"f{i}" for i in range(FEATURES)])
    frame["label"] = np.array(NAMES)[rng.integers(0, len(NAMES), ROWS)]
    frame.to_csv(path, index=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "synthetic.csv"
        write_csv(path)
        size = path.stat().st_size
        x, y = from_csv(0, path, "label")
        assert x.shape == (ROWS, FEATURES) and np.array_equal(x, pd.read_csv(path).drop(columns="label").to_numpy())
        times = {"pandas.read_csv": [], "prunelab from_csv": []}
        for _ in range(rounds):
            times["pandas.read_csv"].append(record.seconds(lambda: pd.read_csv(path)))
            times["prunelab from_csv"].append(record.seconds(lambda: from_csv(0, path, "label")))
        times["row-by-row reader, once"] = [record.seconds(lambda: _read_rows(path, "label"))]
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"CSV read, median of {rounds} rounds, {len(os.sched_getaffinity(0))} cores; {size / 1e6:.1f} MB: "
          f"{ROWS:,} rows x {FEATURES} float features (repr, up to 17 digits) + a label column of {len(NAMES)} names; pandas {pd.__version__}")
    print("| reader | median s | all rounds s |")
    print("|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {medians[name]:.3f} | {', '.join(f'{value:.3f}' for value in values)} |")
    print(f"prunelab from_csv / pandas.read_csv: {medians['prunelab from_csv'] / medians['pandas.read_csv']:.2f}x")


if __name__ == "__main__":
    with record.printed("csv_read"):
        main()
