"""Artifact I/O: whole-file replacement, one-line write errors (a real full disk), load errors
that name the file."""
import errno
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from stages import Interrupted, UserError
from stages.artifacts import (amount, load_split, read_csv, replacing, save_arrays, temporary, write_bytes,
                              write_error, write_figure)
from tests.conftest import fill, temporaries


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


def test_a_full_disk_is_one_line_naming_the_file_and_size_and_leaves_the_old_file(small_disk):
    path = small_disk / "data" / "train.npz"
    save_arrays(path, x=np.zeros((4, 2)), y=np.zeros(4))
    old = path.read_bytes()
    fill(small_disk, 64 * 1024)
    with pytest.raises(UserError) as raised:
        save_arrays(path, x=np.zeros((50_000, 6)), y=np.zeros(50_000))  # 2.8 MB
    assert str(raised.value).startswith(f"{path}: no space left on device (writing 2.8 MB); ")
    assert "docs/troubleshooting.md" in str(raised.value) and "\n" not in str(raised.value)
    assert path.read_bytes() == old
    assert temporaries(small_disk) == []
    with pytest.raises(UserError, match=f"^{small_disk / 'out.json'}: no space left on device \\(writing 200 KB\\)"):
        write_bytes(small_disk / "out.json", b"1" * 200_000)
    assert temporaries(small_disk) == [] and not (small_disk / "out.json").exists()


def test_any_os_error_names_the_file_and_the_step(tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(UserError, match=f"^{tmp_path / 'plain' / 'out.csv'}: file exists \\(creating its folder\\)$"):
        write_bytes(tmp_path / "plain" / "out.csv", b"a\n")
    quota = OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
    assert write_error(Path("data/train.npz"), quota, "writing", 44_000_000).startswith(
        "data/train.npz: disk quota exceeded (writing 44 MB); ")
    assert write_error(Path("x"), OSError(errno.EIO, "Input/output error"), "renaming into place", 10) == \
        "x: input/output error (renaming into place)"


@pytest.mark.parametrize("size, shown", [(512, "512 bytes"), (9_500, "9.5 KB"), (44_000_000, "44 MB"),
                                         (1_234_000_000, "1.2 GB")])
def test_amounts_read_as_people_write_them(size, shown):
    assert amount(size) == shown


def test_an_interrupt_mid_write_removes_the_temporary_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"old")
    with pytest.raises(Interrupted):
        with replacing(path) as handle:
            handle.write(b"half of it")
            assert temporary(path).exists()
            raise Interrupted(signal.SIGTERM)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
