"""Artifact I/O shared by the stages.

Every output is written whole to a temporary file beside it and renamed into place, so a
stage killed mid-write never leaves a half-written artifact. Every input is checked on
load: a missing or corrupt file is a UserError that names it.
"""
import csv
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from stages import UserError

REBUILD = "run `dvc repro` to rebuild it"


def write_bytes(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def rounded(values):
    """A dict's floats (nested dicts' too) to 6 decimals: metrics files that read and diff cleanly."""
    return {key: round(value, 6) if isinstance(value, float) else rounded(value) if isinstance(value, dict) else value
            for key, value in values.items()}


def write_json(path, values):
    write_bytes(path, (json.dumps(values, indent=2) + "\n").encode())


def write_csv(path, rows):
    """rows: a non-empty list of dicts with the same keys, in column order."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(path, text.getvalue().encode())


def write_figure(path, figure, dpi):
    """A matplotlib figure in the format its suffix names (the same figure, the same bytes)."""
    from prunelab.figures import figure_bytes  # matplotlib: only the stages that draw load it
    write_bytes(path, figure_bytes(figure, Path(path).suffix[1:], dpi))


def save_arrays(path, **arrays):
    """An npz file, streamed to its temporary file (not built in memory: a large split would
    be held twice) and renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(tmp, path)


def load_split(path):
    """Features x (samples x features) and class labels y (samples) of a data split."""
    expected = f"an npz file with arrays x (samples x features) and y (samples, integer labels 0, 1, ...); {REBUILD}"
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in ("x", "y") if name not in archive.files]
            if missing:
                raise UserError(f"{path}: no array {missing[0]}; expected {expected}")
            x, y = archive["x"], archive["y"]
    except FileNotFoundError:
        raise UserError(f"{path}: missing; expected {expected}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: unreadable ({type(err).__name__}); expected {expected}") from None
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y) or len(y) == 0 or x.dtype.kind not in "fiu":
        raise UserError(f"{path}: x has shape {x.shape} ({x.dtype}) and y {y.shape}; expected {expected}")
    if y.dtype.kind not in "iub" or (y < 0).any():
        raise UserError(f"{path}: y holds labels that are not class numbers 0, 1, ...; expected {expected}")
    return x, y


def read_json(path, *keys):
    """A JSON object that holds the named keys."""
    expected = f"a JSON object with keys {', '.join(keys)}; {REBUILD}"
    try:
        with open(path) as handle:
            values = json.load(handle)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; expected {expected}") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise UserError(f"{path}: unreadable ({type(err).__name__}); expected {expected}") from None
    if not isinstance(values, dict) or any(key not in values for key in keys):
        raise UserError(f"{path}: a key is missing; expected {expected}")
    return values


def read_csv(path, *columns):
    """The named numeric columns of a CSV file, as float arrays."""
    rows = read_rows(path, columns)
    return {column: np.array([row[column] for row in rows]) for column in columns}


def read_header(path):
    """The column names of a CSV file (a missing or unreadable file is reported by read_rows)."""
    try:
        with open(path, newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def read_rows(path, columns, text=()):
    """The rows of a CSV file as dicts of the named columns: floats, or strings for `text`."""
    expected = f"a CSV file with columns {', '.join((*text, *columns))}; {REBUILD}"
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise UserError(f"{path}: missing; expected {expected}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise UserError(f"{path}: unreadable ({type(err).__name__}); expected {expected}") from None
    if not rows or any(column not in rows[0] for column in (*text, *columns)):
        raise UserError(f"{path}: no rows or a column is missing; expected {expected}")
    try:
        return [{**{column: row[column] for column in text}, **{column: float(row[column]) for column in columns}}
                for row in rows]
    except (TypeError, ValueError):
        raise UserError(f"{path}: a value is not a number; expected {expected}") from None
