"""Artifact I/O: whole-file replacement and load errors that name the file."""
import numpy as np
import pytest

from stages import UserError
from stages.artifacts import load_split, read_csv, save_arrays, write_bytes, write_figure


def test_write_replaces_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "out.json"
    write_bytes(path, b"old")
    write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]


def test_a_failed_render_leaves_the_old_file(tmp_path):
    class Broken:
        def savefig(self, *args, **kwargs):
            raise RuntimeError("killed mid-render")

    path = tmp_path / "figure.png"
    path.write_bytes(b"old figure")
    with pytest.raises(RuntimeError):
        write_figure(path, Broken(), dpi=100)
    assert path.read_bytes() == b"old figure"


@pytest.mark.parametrize("arrays, problem", [
    ({"x": np.zeros((4, 2))}, "no array y"),
    ({"x": np.zeros(4), "y": np.zeros(4)}, "x has shape (4,) (float64) and y (4,)"),
    ({"x": np.zeros((4, 2)), "y": np.zeros(3)}, "x has shape (4, 2) (float64) and y (3,)"),
    ({"x": np.full((4, 2), "a"), "y": np.zeros(4)}, "x has shape (4, 2) (<U1) and y (4,)"),
    ({"x": np.zeros((4, 2)), "y": np.array([0, 1, -1, 1])}, "y holds labels that are not class numbers"),
    ({"x": np.zeros((4, 2)), "y": np.array([0, 0.5, 1, 1])}, "y holds labels that are not class numbers"),
])
def test_a_malformed_split_is_named(tmp_path, arrays, problem):
    path = tmp_path / "train.npz"
    save_arrays(path, **arrays)
    with pytest.raises(UserError) as raised:
        load_split(path)
    assert str(raised.value).startswith(f"{path}: {problem}")


def test_a_truncated_or_missing_split_is_named(tmp_path):
    path = tmp_path / "test.npz"
    save_arrays(path, x=np.zeros((4, 2)), y=np.zeros(4))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(UserError, match=f"^{path}: unreadable"):
        load_split(path)
    with pytest.raises(UserError, match="missing"):
        load_split(tmp_path / "absent.npz")


def test_read_csv_errors(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,x\n")
    with pytest.raises(UserError, match="a value is not a number"):
        read_csv(path, "a", "b")
    assert read_csv(path, "a")["a"].tolist() == [1.0]
