"""IDX image sets (MNIST, Fashion-MNIST, KMNIST share the format): four files in one folder,
train and t10k images and labels, each gzip or raw. The set's own train/test split is kept.

Reading is streamed: images go from the file, a chunk at a time, into the one float64 array
they end in (pixels / 255, each image flattened), so the peak is that array and a chunk, not
the file's bytes and their float copies too. Every check (magic number, counts, dimensions,
truncation, labels) is an InputError naming the file and what was expected.

The format (big-endian uint32): magic 0x00000803 then count, rows, columns for images,
0x00000801 then count for labels; then uint8 data.
"""
import gzip
import os
import zlib

import numpy as np

from prunelab import InputError

IMAGES, LABELS = 0x00000803, 0x00000801
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
CHUNK_IMAGES = 4096  # images converted per read: about 3 MB of uint8 at 28 x 28


def find(folder: str | os.PathLike, stem: str) -> str:
    """The file `stem` or `stem.gz` in folder (the raw one when both are there)."""
    for name in (stem, f"{stem}.gz"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise InputError(f"{os.path.join(folder, stem)}(.gz): missing; expected the IDX file {stem} or {stem}.gz "
                     f"in {folder}")


def _open(path: str):
    with open(path, "rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if packed else open(path, "rb")


def _read(handle, path: str, size: int, what: str) -> bytes:
    data = _bytes(handle, path, size)
    if len(data) < size:
        raise InputError(f"{path}: truncated: {len(data)} of the {size} bytes of {what}")
    return data


def _bytes(handle, path: str, size: int) -> bytes:
    try:
        return handle.read(size)
    except (OSError, EOFError, zlib.error) as err:  # a damaged gzip stream
        raise InputError(f"{path}: unreadable ({type(err).__name__}: {err}); expected an IDX file, gzip or raw") from None


def _header(handle, path: str, magic: int, dims: int) -> list[int]:
    fields = np.frombuffer(_read(handle, path, 4 * (1 + dims), "the header"), dtype=">u4")
    if int(fields[0]) != magic:
        raise InputError(f"{path}: magic number 0x{int(fields[0]):08x}; expected 0x{magic:08x} "
                         f"(IDX {'images' if magic == IMAGES else 'labels'})")
    return [int(value) for value in fields[1:]]


def _ends(handle, path: str, count: int) -> None:
    if _bytes(handle, path, 1):
        raise InputError(f"{path}: bytes after the {count} items its header counts; expected the file to end there")


def read_images(path: str) -> np.ndarray:
    """(count, rows * columns) float64 in [0, 1]."""
    with _open(path) as handle:
        count, rows, columns = _header(handle, path, IMAGES, 3)
        pixels = rows * columns
        out = np.empty((count, pixels))
        for start in range(0, count, CHUNK_IMAGES):
            stop = min(start + CHUNK_IMAGES, count)
            chunk = _read(handle, path, (stop - start) * pixels, f"{count} images of {rows} x {columns}")
            np.divide(np.frombuffer(chunk, dtype=np.uint8).reshape(stop - start, pixels), 255.0, out=out[start:stop])
        _ends(handle, path, count)
    return out


def image_size(folder: str | os.PathLike) -> tuple[int, int]:
    """(rows, columns) of the training images of an IDX folder, from the header alone."""
    path = find(folder, FILES["train"][0])
    with _open(path) as handle:
        _, rows, columns = _header(handle, path, IMAGES, 3)
    return rows, columns


def read_labels(path: str) -> np.ndarray:
    with _open(path) as handle:
        (count,) = _header(handle, path, LABELS, 1)
        labels = np.frombuffer(_read(handle, path, count, f"{count} labels"), dtype=np.uint8).astype(np.int64)
        _ends(handle, path, count)
    return labels


def stratified(y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of `limit` rows drawn without replacement, each class in proportion to
    its count (largest remainders round, ties to the lower class), seeded by numpy's Generator."""
    counts = np.bincount(y)
    quota = counts * limit / len(y)
    take = np.floor(quota).astype(np.int64)
    order = sorted(range(len(counts)), key=lambda label: (-(quota[label] - take[label]), label))
    for label in order[:limit - int(take.sum())]:
        take[label] += 1
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == label), take[label], replace=False) for label in range(len(counts))]
    return np.sort(np.concatenate(picks))


def _part(folder: str, part: str, limit: int, seed: int, limit_key: str) -> tuple:
    images_path, labels_path = (find(folder, stem) for stem in FILES[part])
    labels = read_labels(labels_path)
    if limit and not len(np.unique(labels)) <= limit <= len(labels):
        raise InputError(f"{labels_path}: data.{limit_key} = {limit}; expected 0 (all) or at most its {len(labels)} "
                         f"images and at least one per class ({len(np.unique(labels))})")
    images = read_images(images_path)
    if len(images) != len(labels):
        raise InputError(f"{labels_path}: {len(labels)} labels; expected one per image of {images_path} ({len(images)})")
    if limit and limit < len(labels):
        keep = stratified(labels, limit, seed)
        images, labels = images[keep], labels[keep]
    return images, labels, images_path, labels_path


def from_idx(random_state: int, path: str | os.PathLike, limit_train: int = 0, limit_test: int = 0) -> tuple:
    """(x_train, x_test, y_train, y_test) of the IDX folder `path`; limit_train / limit_test
    (0: all) keep a seeded (random_state), class-stratified subset of each part."""
    if not os.path.isdir(path):
        raise InputError(f"{path}: missing; expected a folder holding the four IDX files "
                         f"({', '.join(stem for pair in FILES.values() for stem in pair)}, each raw or .gz)")
    x_train, y_train, train_images, train_labels = _part(path, "train", limit_train, random_state, "limit_train")
    x_test, y_test, test_images, test_labels = _part(path, "test", limit_test, random_state + 1, "limit_test")
    if x_test.shape[1] != x_train.shape[1]:
        raise InputError(f"{test_images}: images of {x_test.shape[1]} pixels; expected {x_train.shape[1]} as in "
                         f"{train_images}")
    classes = int(y_train.max()) + 1
    missing = sorted(set(range(classes)) - set(np.unique(y_train).tolist()))
    if missing:
        raise InputError(f"{train_labels}: no image of class {missing[0]}; expected every class 0 .. {classes - 1} "
                         "(the largest label) in the training labels")
    if y_test.max() >= classes:
        raise InputError(f"{test_labels}: label {int(y_test.max())}; expected the training labels' classes "
                         f"0 .. {classes - 1}")
    return x_train, x_test, y_train, y_test
