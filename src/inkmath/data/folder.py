"""Folder-per-class image sets, from a directory or straight from a ``.zip`` (e.g. the Kaggle symbols zip).

The class of an image is the name of the folder holding it; all class folders share one parent.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data.sets import SymbolDataset, apply_split, cached_arrays, register_reader
from inkmath.data.images import IMAGE_SUFFIXES, decode_image
from inkmath.preprocess import prepare_uint8
from inkmath.vocab import Vocabulary


def _list_entries(path: Path) -> tuple[list[tuple[str, str]], callable]:
    """(class, member) pairs and a function reading a member's bytes."""
    if path.is_dir():
        files = [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        return [(p.parent.name, str(p)) for p in files], lambda m: Path(m).read_bytes()
    if zipfile.is_zipfile(path):
        zf = zipfile.ZipFile(path)
        names = [n for n in zf.namelist() if not n.endswith("/") and PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES
                 and "__MACOSX" not in n]
        return [(PurePosixPath(n).parent.name, n) for n in sorted(names)], zf.read
    raise InkmathError(f"{path} is neither a folder nor a .zip archive")


def read_folder(path: Path, size: int = 32) -> dict[str, np.ndarray]:
    entries, read = _list_entries(path)
    if not entries:
        raise InkmathError(f"No images found under {path}; expected <class>/<image>.png|jpg folders")
    classes = sorted({c for c, _ in entries})
    class_of = {c: i for i, c in enumerate(classes)}
    images, labels, ids, bad = [], [], [], []
    for c, member in entries:
        try:
            images.append(decode_image(read(member), member))
        except InkmathError as e:
            bad.append(str(e))
            continue
        labels.append(class_of[c])
        ids.append(member)
    if bad:
        print(f"warning: skipped {len(bad)} unreadable image(s) under {path}; first: {bad[0]}")
    # sizes vary between files: store the preprocessed symbol, as every model sees it
    return {
        "images": prepare_uint8(images, "symbol32", "auto"),
        "labels": np.array(labels, np.int64),
        "classes": np.array(classes),
        "ids": np.array(ids),
    }


@register_reader("folder", "folder:PATH[:split=train|val|test][:seed=0] (a folder or .zip of <class>/<image> files)")
def load_folder(path: str, *, data_dir: Path, split: str = "all", seed: str = "0") -> SymbolDataset:
    p = Path(path).expanduser()
    if not p.exists() and (data_dir / path).exists():
        p = data_dir / path
    if not p.exists():
        raise InkmathError(f"No folder or zip at {path!r} (also looked in {data_dir})")
    sources = [p] if p.is_file() else [p]
    arr = cached_arrays(f"folder-{p.name}", sources, "v1", lambda: read_folder(p))
    ds = SymbolDataset(arr["images"], arr["labels"], Vocabulary.from_names(arr["classes"].tolist()), ink="white",
                       ids=arr["ids"].tolist(), prepared="symbol32")
    return apply_split(ds, split, int(seed))
