"""HASYv2 read straight from the official ``HASYv2.tar.bz2`` (369 LaTeX symbols, 32x32, 10 folds).

The archive is decompressed once; all 168,233 images are decoded into one uint8 array cached as ``.npz``; a fold's
split then just indexes it.
"""

from __future__ import annotations

import csv
import io
import posixpath
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from inkmath.errors import InkmathError
from inkmath.data.sets import SymbolDataset, cached_arrays, register_reader, require_file
from inkmath.vocab import Vocabulary

ARCHIVE = "HASYv2.tar.bz2"


def _read_all(archive: Path) -> dict[str, np.ndarray]:
    """One pass over the archive: every image, the labels file and all fold files."""
    images: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:bz2") as tar:
            for m in tar:
                if not m.isfile():
                    continue
                name = m.name.lstrip("./")
                if name.endswith(".png") and name.startswith("hasy-data/"):
                    data = tar.extractfile(m).read()
                    with Image.open(io.BytesIO(data)) as im:
                        images[name] = np.asarray(im.convert("L"))
                elif name.endswith(".csv"):
                    texts[name] = tar.extractfile(m).read().decode("utf-8")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise InkmathError(f"Cannot read {archive}: {e}. Download it again with `inkmath download hasy`.") from None
    if "hasy-data-labels.csv" not in texts:
        raise InkmathError(f"{archive} has no hasy-data-labels.csv: is it the HASYv2 archive?")
    rows = list(csv.DictReader(io.StringIO(texts["hasy-data-labels.csv"])))
    symbol_ids = sorted({int(r["symbol_id"]) for r in rows})
    latex_of = {int(r["symbol_id"]): r["latex"] for r in rows}
    index_of_path = {r["path"]: i for i, r in enumerate(rows)}
    missing = [r["path"] for r in rows if r["path"] not in images]
    if missing:
        raise InkmathError(f"{archive} lacks {len(missing)} images named in hasy-data-labels.csv (first: {missing[0]})")
    class_of = {s: i for i, s in enumerate(symbol_ids)}
    out = {
        "images": np.stack([images[r["path"]] for r in rows]),
        "labels": np.array([class_of[int(r["symbol_id"])] for r in rows], np.int64),
        "symbol_ids": np.array(symbol_ids, np.int64),
        "latex": np.array([latex_of[s] for s in symbol_ids]),
    }
    for name, text in texts.items():
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "classification-task" and parts[1].startswith("fold-"):
            fold, split = parts[1].split("-")[1], parts[2][:-4]
            base = posixpath.dirname(name)
            idx = [index_of_path[posixpath.normpath(posixpath.join(base, r["path"]))] for r in csv.DictReader(io.StringIO(text))]
            out[f"fold{fold}_{split}"] = np.array(idx, np.int64)
    return out


@register_reader("hasy", "hasy:fold=K:train|test (K = 1..10; the official HASYv2.tar.bz2 in DATA/hasyv2/), or hasy:all")
def load_hasy(split: str = "train", *, data_dir: Path, fold: str = "1") -> SymbolDataset:
    folder = data_dir / "hasyv2" if (data_dir / "hasyv2").is_dir() else data_dir
    archive = require_file(folder / ARCHIVE, "HASYv2 archive",
                           "Run `inkmath download hasy` or set INKMATH_DATA / --data-dir to the folder holding hasyv2/.")
    arr = cached_arrays("hasy", [archive], "v1", lambda: _read_all(archive))
    vocab = Vocabulary(tuple(str(s) for s in arr["latex"]), tuple(str(s) for s in arr["latex"]))
    if split == "all":
        return SymbolDataset(arr["images"], arr["labels"], vocab, ink="black")
    key = f"fold{fold}_{split}"
    if key not in arr:
        folds = sorted({k.split("_")[0][4:] for k in arr if k.startswith("fold")}, key=int)
        raise InkmathError(f"HASYv2 has no {split!r} split for fold {fold!r}; folds: {', '.join(folds)}; splits: train, test")
    idx = arr[key]
    return SymbolDataset(arr["images"][idx], arr["labels"][idx], vocab, ink="black")
