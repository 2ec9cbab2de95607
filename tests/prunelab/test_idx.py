"""prunelab/idx.py: the IDX reader on files the tests write (every bad-file case), its
stratified subsets, and the system's Fashion-MNIST where it is installed."""
import gzip

import numpy as np
import pytest

from prunelab import InputError
from prunelab.idx import from_idx, read_images, read_labels, stratified
from tests.idx_files import MISSING_FASHION_MNIST, SYSTEM_FASHION_MNIST, idx_bytes, write, write_set
from tests.missing import missing


@pytest.mark.parametrize("packed", [True, False])
def test_reads_the_sets_own_split_scaled_and_flattened(tmp_path, packed):
    parts = write_set(tmp_path, packed=packed)
    x_train, x_test, y_train, y_test = from_idx(0, tmp_path)
    for x, y, (images, labels) in ((x_train, y_train, parts["train"]), (x_test, y_test, parts["test"])):
        assert x.dtype == np.float64 and x.shape == (len(images), 6)
        assert np.array_equal(x, images.reshape(len(images), -1) / 255.0)
        assert np.array_equal(y, labels) and y.dtype == np.int64


def test_reads_in_chunks_the_same_as_at_once(tmp_path, monkeypatch):
    parts = write_set(tmp_path, train=37)
    whole = read_images(tmp_path / "train-images-idx3-ubyte.gz")
    monkeypatch.setattr("prunelab.idx.CHUNK_IMAGES", 5)  # 37 images: seven full chunks and a short one
    assert np.array_equal(read_images(tmp_path / "train-images-idx3-ubyte.gz"), whole)
    assert np.array_equal(whole, parts["train"][0].reshape(37, -1) / 255.0)


def test_a_raw_file_is_read_when_both_are_there(tmp_path):
    write_set(tmp_path, packed=True, seed=1)
    raw = write_set(tmp_path, packed=False, seed=2)
    assert np.array_equal(from_idx(0, tmp_path)[2], raw["train"][1])


def replace(folder, name, content):
    """Overwrite one file of a packed set with content (packed again)."""
    (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))


def images(count, rows=3, columns=2):
    return idx_bytes(0x803, np.zeros((count, rows, columns), dtype=np.uint8))


@pytest.mark.parametrize("name, content, message", [
    ("train-images-idx3-ubyte", idx_bytes(0x801, np.zeros(40)), "train-images-idx3-ubyte.gz: magic number 0x00000801; "
     "expected 0x00000803 (IDX images)"),
    ("t10k-labels-idx1-ubyte", idx_bytes(0x803, np.zeros((20, 1, 1))), "t10k-labels-idx1-ubyte.gz: magic number "
     "0x00000803; expected 0x00000801 (IDX labels)"),
    ("train-images-idx3-ubyte", images(40)[:-7], "train-images-idx3-ubyte.gz: truncated: 233 of the 240 bytes of 40 "
     "images of 3 x 2"),
    ("train-labels-idx1-ubyte", idx_bytes(0x801, np.zeros(40))[:6], "train-labels-idx1-ubyte.gz: truncated: 6 of the "
     "8 bytes of the header"),
    ("t10k-labels-idx1-ubyte", idx_bytes(0x801, np.zeros(20))[:-1], "t10k-labels-idx1-ubyte.gz: truncated: 19 of the "
     "20 bytes of 20 labels"),
    ("train-images-idx3-ubyte", images(40) + b"\0", "train-images-idx3-ubyte.gz: bytes after the 40 items its header "
     "counts; expected the file to end there"),
    ("train-images-idx3-ubyte", images(39), "train-labels-idx1-ubyte.gz: 40 labels; expected one per image of "
     "{folder}/train-images-idx3-ubyte.gz (39)"),
    ("t10k-images-idx3-ubyte", images(20, 2, 2), "t10k-images-idx3-ubyte.gz: images of 4 pixels; expected 6 as in "
     "{folder}/train-images-idx3-ubyte.gz"),
    ("t10k-labels-idx1-ubyte", idx_bytes(0x801, np.arange(20) % 5), "t10k-labels-idx1-ubyte.gz: label 4; expected "
     "the training labels' classes 0 .. 3"),
    ("train-labels-idx1-ubyte", idx_bytes(0x801, np.arange(40) % 4 * (np.arange(40) % 4 != 2)),
     "train-labels-idx1-ubyte.gz: no image of class 2; expected every class 0 .. 3 (the largest label) in the "
     "training labels"),
])
def test_a_bad_file_is_one_line_naming_it(tmp_path, name, content, message):
    write_set(tmp_path)
    replace(tmp_path, name, content)
    with pytest.raises(InputError) as error:
        from_idx(0, tmp_path)
    assert str(error.value) == f"{tmp_path}/{message.format(folder=tmp_path)}"


def test_a_damaged_gzip_stream_names_the_file(tmp_path):
    write_set(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    packed = path.read_bytes()
    path.write_bytes(packed[:12] + bytes(b ^ 0xFF for b in packed[12:40]) + packed[40:])
    with pytest.raises(InputError, match=f"^{path}: unreadable .*expected an IDX file, gzip or raw$"):
        from_idx(0, tmp_path)


def test_a_missing_file_or_folder_names_what_is_expected(tmp_path):
    with pytest.raises(InputError, match=f"^{tmp_path}/none: missing; expected a folder holding the four IDX files "
                                         r"\(train-images-idx3-ubyte, .*each raw or .gz\)$"):
        from_idx(0, tmp_path / "none")
    write_set(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(InputError, match=rf"^{tmp_path}/t10k-labels-idx1-ubyte\(.gz\): missing; expected the IDX "
                                         f"file t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz in {tmp_path}$"):
        from_idx(0, tmp_path)


def test_limits_keep_a_seeded_class_stratified_subset(tmp_path):
    parts = write_set(tmp_path, train=400, test=100, classes=4)
    x_train, x_test, y_train, y_test = from_idx(7, tmp_path, limit_train=40, limit_test=12)
    assert np.bincount(y_train).tolist() == [10] * 4 and np.bincount(y_test).tolist() == [3] * 4
    flat = parts["train"][0].reshape(400, -1) / 255.0
    rows = [int(np.flatnonzero((flat == row).all(axis=1))[0]) for row in x_train]
    assert rows == sorted(rows) and len(set(rows)) == 40  # the file's order, no repeats
    again = from_idx(7, tmp_path, limit_train=40, limit_test=12)
    assert all(np.array_equal(a, b) for a, b in zip(again, (x_train, x_test, y_train, y_test)))
    assert not np.array_equal(from_idx(8, tmp_path, limit_train=40)[0], x_train)


def test_stratified_keeps_proportions_by_largest_remainder():
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    keep = stratified(y, 15, 0)  # quotas 7.5, 4.5, 3: one remainder left, to the lower class
    assert np.bincount(y[keep]).tolist() == [8, 4, 3]
    assert len(np.unique(keep)) == 15 and np.all(np.diff(keep) > 0)


@pytest.mark.parametrize("limit", [3, 41])
def test_a_limit_outside_the_part_is_an_error(tmp_path, limit):
    write_set(tmp_path, classes=4)
    with pytest.raises(InputError, match=f"^{tmp_path}/train-labels-idx1-ubyte.gz: data.limit_train = {limit}; "
                                         r"expected 0 \(all\) or at most its 40 images and at least one per class \(4\)$"):
        from_idx(0, tmp_path, limit_train=limit)


def test_labels_read_alone(tmp_path):
    path = write(tmp_path / "labels", idx_bytes(0x801, np.array([3, 1, 2])), packed=False)
    assert read_labels(path).tolist() == [3, 1, 2]


def test_the_systems_fashion_mnist():
    if not SYSTEM_FASHION_MNIST.is_dir():
        missing(*MISSING_FASHION_MNIST)
    x_train, x_test, y_train, y_test = from_idx(0, SYSTEM_FASHION_MNIST, limit_test=1000)
    assert x_train.shape == (60000, 784) and x_test.shape == (1000, 784)
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [100] * 10
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    # The published file's first labels: an ankle boot (9), then two T-shirts (0).
    assert y_train[:3].tolist() == [9, 0, 0]
