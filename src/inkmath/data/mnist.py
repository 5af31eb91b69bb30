"""MNIST from the four official IDX ``.gz`` files (magic 2051 images, 2049 labels, big-endian sizes)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data.sets import SymbolDataset, cached_arrays, register_reader, require_file
from inkmath.vocab import Vocabulary

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path: Path) -> np.ndarray:
    """Decode an IDX file (gzipped or not) into an array of its declared shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise InkmathError(f"Cannot read {path}: {e}. Download it again with `inkmath download mnist`.") from None
    if len(data) < 8 or data[0] != 0 or data[1] != 0:
        raise InkmathError(f"{path} is not an IDX file (bad magic number)")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise InkmathError(f"{path}: only unsigned-byte IDX files are supported (type code {dtype_code:#x})")
    dims = np.frombuffer(data, ">u4", count=ndim, offset=4).astype(np.int64)
    offset = 4 + 4 * ndim
    n = int(np.prod(dims))
    if len(data) - offset != n:
        raise InkmathError(f"{path} is truncated or damaged: {len(data) - offset} bytes of data for shape {tuple(dims)}")
    return np.frombuffer(data, np.uint8, count=n, offset=offset).reshape(dims)


@register_reader("mnist", "mnist:train | mnist:test (the official IDX .gz files in DATA/mnist/)")
def load_mnist(split: str = "train", *, data_dir: Path) -> SymbolDataset:
    if split not in FILES:
        raise InkmathError(f"Unknown MNIST split {split!r}; choose train or test")
    folder = data_dir / "mnist" if (data_dir / "mnist").is_dir() else data_dir
    hint = "Run `inkmath download mnist` or set INKMATH_DATA / --data-dir to the folder holding mnist/."
    paths = [require_file(folder / f, "MNIST file", hint) for f in FILES[split]]

    def build():
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise InkmathError(f"MNIST files disagree: images {images.shape}, labels {labels.shape}")
        return {"images": images, "labels": labels.astype(np.int64)}

    arr = cached_arrays(f"mnist-{split}", paths, "v1", build)
    vocab = Vocabulary.from_names([str(d) for d in range(10)])
    return SymbolDataset(arr["images"], arr["labels"], vocab, ink="white")
