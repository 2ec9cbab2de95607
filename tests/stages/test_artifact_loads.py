"""stages/artifacts.py's checked loads, error by error: each is one line naming the file, what
is wrong and what was expected (with how to rebuild it)."""
import numpy as np
import pytest

from stages import UserError
from stages.artifacts import REBUILD, load_split, read_json, read_rows, save_arrays


def message(call, *args):
    with pytest.raises(UserError) as raised:
        call(*args)
    text = str(raised.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("content, problem", [
    (None, "missing"),
    (b'{"a": 1,', "unreadable (JSONDecodeError)"),
    (b'{"a": "\xff"}', "unreadable (UnicodeDecodeError)"),
    (b'{"a": 1}', "a key is missing"),
    (b'[1, 2]', "a key is missing"),
])
def test_read_json_names_the_file_and_the_keys_it_expected(tmp_path, content, problem):
    path = tmp_path / "train.json"
    if content is not None:
        path.write_bytes(content)
    assert message(read_json, path, "a", "b") == f"{path}: {problem}; expected a JSON object with keys a, b; {REBUILD}"


def test_read_json_returns_the_object_when_every_key_is_there(tmp_path):
    path = tmp_path / "train.json"
    path.write_text('{"a": 1, "b": [2], "c": null}')
    assert read_json(path, "a", "b") == {"a": 1, "b": [2], "c": None}


@pytest.mark.parametrize("content, problem", [
    (None, "missing"),
    (b"level,accuracy\n0.5,\xff\n", "unreadable (UnicodeDecodeError)"),
    (b"level,accuracy\n", "no rows or a column is missing"),
    (b"", "no rows or a column is missing"),
    (b"level,loss\n0.5,0.1\n", "no rows or a column is missing"),
    (b"level,accuracy\n0.5,high\n", "a value is not a number"),
    (b"level,accuracy\n0.5\n", "a value is not a number"),  # a short row: accuracy is None
])
def test_read_rows_names_the_file_and_the_columns_it_expected(tmp_path, content, problem):
    path = tmp_path / "sweep.csv"
    if content is not None:
        path.write_bytes(content)
    assert message(read_rows, path, ["level", "accuracy"]) == (
        f"{path}: {problem}; expected a CSV file with columns level, accuracy; {REBUILD}")


def test_read_rows_reads_text_columns_as_strings_and_the_rest_as_numbers(tmp_path):
    path = tmp_path / "sweep.csv"
    path.write_text("method,level,accuracy\nlamp,0.5,0.9\n")
    assert read_rows(path, ["level", "accuracy"], ["method"]) == [{"method": "lamp", "level": 0.5, "accuracy": 0.9}]
    path.write_text("level,accuracy\n0.5,0.9\n")
    assert message(read_rows, path, ["level"], ["method"]).startswith(
        f"{path}: no rows or a column is missing; expected a CSV file with columns method, level;")


def test_a_split_with_no_samples_is_named(tmp_path):
    path = tmp_path / "train.npz"
    save_arrays(path, x=np.zeros((0, 3)), y=np.zeros(0, dtype=np.int64))
    assert message(load_split, path).startswith(f"{path}: x has shape (0, 3) (float64) and y (0,); expected an npz file")
