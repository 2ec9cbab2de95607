"""Small IDX sets the tests write themselves: the format of MNIST and Fashion-MNIST (big-endian
uint32 magic and counts, then uint8 data), each file raw or gzip."""
import gzip
from pathlib import Path

import numpy as np

SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
MISSING_FASHION_MNIST = ("the Debian package dataset-fashion-mnist (no /usr/share/datasets/fashion-mnist)",
                         "`make system` installs it")  # tests.missing.missing's what and how


def idx_bytes(magic: int, data: np.ndarray) -> bytes:
    header = np.array([magic, *data.shape], dtype=">u4").tobytes()
    return header + data.astype(np.uint8).tobytes()


def write(path: Path, content: bytes, packed: bool) -> Path:
    path = path.with_name(path.name + ".gz") if packed else path
    path.write_bytes(gzip.compress(content, mtime=0) if packed else content)
    return path


def write_set(folder: Path, train=40, test=20, classes=4, rows=3, columns=2, packed=True, seed=0) -> dict:
    """Four IDX files of random images in folder; returns each part's (images uint8, labels)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    parts = {}
    for part, prefix, count in (("train", "train", train), ("test", "t10k", test)):
        images = rng.integers(0, 256, (count, rows, columns), dtype=np.uint8)
        labels = np.arange(count) % classes  # every class in every part
        rng.shuffle(labels)
        write(folder / f"{prefix}-images-idx3-ubyte", idx_bytes(0x803, images), packed)
        write(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(0x801, labels), packed)
        parts[part] = (images, labels)
    return parts
