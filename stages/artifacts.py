"""Artifact I/O shared by the stages.

Every output is written whole to a temporary file beside it and renamed into place, so a
stage killed mid-write never leaves a half-written artifact. Every write goes through
replacing(): on any failure, an interrupt included, the temporary file goes, and an OS error
(a full disk, a quota, a read-only folder) is a UserError naming the file, what failed and how
much it was writing. Every input is checked on load: a missing or corrupt file is a UserError
that names it.
"""
import contextlib
import csv
import errno
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from stages import UserError

REBUILD = "run `dvc repro` to rebuild it"


RECOVERY = "docs/troubleshooting.md says how to get the previous outputs back"
# Reasons worded for the user; any other OS error gives its own (lower-cased) strerror.
REASONS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}


def temporary(path):
    """The temporary file beside `path` that its write goes to before the rename."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp")


@contextlib.contextmanager
def replacing(path, size=None):
    """A binary file handle on `path`'s temporary file, renamed onto `path` when the block ends.
    size: the bytes being written, where known, for the error message."""
    path, tmp, step = Path(path), temporary(path), "creating its folder"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        step = "writing"
        with open(tmp, "wb") as handle:
            yield handle
        step = "renaming into place"
        os.replace(tmp, path)
    except BaseException as err:  # an interrupt (stages.Interrupted, KeyboardInterrupt) too
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise UserError(write_error(path, err, step, size)) from None
        raise


def write_error(path, err, step, size=None):
    """One line: the file, the reason, what failed (with the size being written, where known)."""
    reason = REASONS.get(err.errno) or (err.strerror or type(err).__name__).lower()
    what = f"{step} {amount(size)}" if step == "writing" and size is not None else step
    hint = f"; {RECOVERY}" if err.errno in REASONS else ""
    return f"{path}: {reason} ({what}){hint}"


def amount(size):
    """A byte count as people read it: 512 bytes, 9.5 KB, 44 MB, 1.2 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"


def write_bytes(path, data):
    with replacing(path, len(data)) as handle:
        handle.write(data)


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
    size = sum(np.asarray(array).nbytes for array in arrays.values())
    with replacing(path, size) as handle:
        np.savez(handle, **arrays)


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


def load_sample_shape(path, features):
    """One sample's shape in a data split: its `shape` array (images: channels, height, width),
    or (features,) for rows of features."""
    with np.load(path, allow_pickle=False) as archive:
        if "shape" not in archive.files:
            return (features,)
        shape = tuple(int(size) for size in archive["shape"])
    if len(shape) != 3 or min(shape) < 1 or np.prod(shape) != features:
        raise UserError(f"{path}: shape {shape} does not hold {features} features; expected one image's "
                        f"(channels, height, width); {REBUILD}")
    return shape


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
