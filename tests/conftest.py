"""Shared fixtures: tiny data sets in the real file formats, written by the tests themselves."""

from __future__ import annotations

import gzip
import io
import os
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_DATA = Path(os.environ.get("INKMATH_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # every test session gets its own cache unless INKMATH_CACHE is set by the caller
    if "INKMATH_TEST_SHARED_CACHE" not in os.environ:
        monkeypatch.setenv("INKMATH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(autouse=True)
def _no_resident_solver(monkeypatch):
    # `inkmath solve` in a test solves in its own process and never reaches the user's resident solver; the tests
    # of the resident solver (test_solver_resident.py) switch it on with a temporary runtime folder of their own
    monkeypatch.setenv("INKMATH_SOLVER", "inline")
    monkeypatch.setenv("INKMATH_RUNTIME_DIR", "/nonexistent/inkmath-tests-must-set-their-own")


def shapes(n_per_class: int, size: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four drawable classes (vertical bar, horizontal bar, ring, cross) with jitter: white ink on black."""
    import cv2

    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    for c in range(4):
        for _ in range(n_per_class):
            im = np.zeros((size, size), np.uint8)
            j = rng.integers(-3, 4, 4)
            t = int(rng.integers(1, 4))
            m = size // 2
            if c == 0:
                cv2.line(im, (m + j[0], 4 + j[1]), (m + j[2], size - 5 + j[3]), 255, t)
            elif c == 1:
                cv2.line(im, (4 + j[0], m + j[1]), (size - 5 + j[2], m + j[3]), 255, t)
            elif c == 2:
                cv2.circle(im, (m + j[0], m + j[1]), size // 3 + j[2] // 2, 255, t)
            else:
                cv2.line(im, (5 + j[0], 5 + j[1]), (size - 6, size - 6 + j[2]), 255, t)
                cv2.line(im, (size - 6 + j[3], 5), (5, size - 6 + j[0]), 255, t)
            imgs.append(im)
            labels.append(c)
    return np.stack(imgs), np.array(labels)


def write_idx(path: Path, arr: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    """A data dir holding mnist/*.gz in the official IDX format (four shape classes as 'digits' 0-3)."""
    d = tmp_path / "data" / "mnist"
    d.mkdir(parents=True)
    for split, n in (("train", 30), ("t10k", 10)):
        x, y = shapes(n, seed=1 if split == "train" else 2)
        write_idx(d / f"{split}-images-idx3-ubyte.gz", x)
        write_idx(d / f"{split}-labels-idx1-ubyte.gz", y)
    return tmp_path / "data"


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    """A folder-per-class PNG set: black ink on white, like scanned symbols."""
    root = tmp_path / "symbols"
    x, y = shapes(25, size=40, seed=3)
    names = ["bar", "minus", "o", "times"]
    for i, (im, c) in enumerate(zip(x, y)):
        (root / names[c]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - im).save(root / names[c] / f"{i:04d}.png")
    return root


@pytest.fixture
def tiny_hasy(tmp_path) -> Path:
    """A HASYv2.tar.bz2 with the official layout: hasy-data/*.png, the labels csv and fold csvs."""
    x, y = shapes(6, size=32, seed=4)
    latex = ["|", "-", "o", "\\times"]
    ids = [101, 102, 103, 104]
    rows = ["path,symbol_id,latex,user_id"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        def add(name: str, data: bytes):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for i, (im, c) in enumerate(zip(x, y)):
            png = io.BytesIO()
            Image.fromarray(np.stack([255 - im] * 3, -1)).save(png, "PNG")
            add(f"hasy-data/v2-{i:05d}.png", png.getvalue())
            rows.append(f"hasy-data/v2-{i:05d}.png,{ids[c]},{latex[c]},{i % 3}")
        add("hasy-data-labels.csv", ("\n".join(rows) + "\n").encode())
        for fold in (1, 2):
            test_idx = [i for i in range(len(y)) if i % 3 == fold - 1]
            for split, idx in (("train", [i for i in range(len(y)) if i not in test_idx]), ("test", test_idx)):
                lines = ["path,symbol_id,latex,user_id"] + [
                    "../../" + rows[i + 1].split(",", 1)[0] + "," + rows[i + 1].split(",", 1)[1] for i in idx]
                add(f"classification-task/fold-{fold}/{split}.csv", ("\n".join(lines) + "\n").encode())
    d = tmp_path / "data" / "hasyv2"
    d.mkdir(parents=True)
    (d / "HASYv2.tar.bz2").write_bytes(buf.getvalue())
    return tmp_path / "data"


@pytest.fixture(scope="module")
def predictor():
    """The expression reader's shipped symbol classifier; the test is skipped where it is not shipped."""
    from inkmath import InkmathError
    from inkmath.equation.recognize import get_predictor

    try:
        return get_predictor()
    except InkmathError as e:
        pytest.skip(f"no shipped expression weights: {e}")


def has_shared(*parts: str) -> bool:
    return (SHARED_DATA.joinpath(*parts)).exists()


@pytest.fixture
def write_traced_pages():
    """write(folders, truth, row, pages=40, rows=4): cached page traces as ``page_traces.trace_pages`` leaves them,
    ``pages`` per folder, each with ``rows`` rows ``row(rng)`` (seeded) and the given truth; each folder marked done."""
    import json

    def write(folders, truth, row, pages: int = 40, rows: int = 4) -> None:
        rng = np.random.default_rng(0)
        for folder in folders:
            folder.mkdir(parents=True)
            for p in range(pages):
                trace = [row(rng) for _ in range(rows)]
                (folder / f"page_{p:04d}.json").write_text(json.dumps({"trace": trace, "truth": truth}))
            (folder / "done").write_text("")

    return write
