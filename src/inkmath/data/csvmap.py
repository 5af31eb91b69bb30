"""``path,label`` CSV maps (like the seeds' competition data): paths relative to the CSV or to ``root=``."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data.sets import SymbolDataset, apply_split, cached_arrays, register_reader
from inkmath.data.images import decode_image
from inkmath.preprocess import prepare_uint8
from inkmath.vocab import Vocabulary


def read_csv_map(path: Path, root: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if rows and rows[0][0].strip().lower() in ("path", "file", "filename", "image", "id"):
        rows = rows[1:]
    if not rows:
        raise InkmathError(f"{path} has no rows; expected lines 'path,label'")
    short = [i + 1 for i, r in enumerate(rows) if len(r) < 2]
    if short:
        raise InkmathError(f"{path}: line(s) {short[:5]} have no label; expected 'path,label'")
    classes = sorted({r[1].strip() for r in rows}, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))
    class_of = {c: i for i, c in enumerate(classes)}
    images, labels, ids, bad = [], [], [], []
    for r in rows:
        f = (root / r[0].strip())
        try:
            images.append(decode_image(f.read_bytes(), str(f)))
        except FileNotFoundError:
            bad.append(f"{f}: missing")
            continue
        except InkmathError as e:
            bad.append(str(e))
            continue
        labels.append(class_of[r[1].strip()])
        ids.append(r[0].strip())
    if bad:
        print(f"warning: skipped {len(bad)} of {len(rows)} rows of {path}; first: {bad[0]}")
    if not images:
        raise InkmathError(f"None of the images listed in {path} could be read (looked under {root})")
    return {"images": prepare_uint8(images, "symbol32", "auto"), "labels": np.array(labels, np.int64),
            "classes": np.array(classes), "ids": np.array(ids)}


@register_reader("csv", "csv:PATH[:root=DIR][:split=train|val|test] (lines 'path,label'; paths relative to the CSV)")
def load_csv(path: str, *, data_dir: Path, root: str | None = None, split: str = "all", seed: str = "0") -> SymbolDataset:
    p = Path(path).expanduser()
    if not p.is_file():
        raise InkmathError(f"No CSV file at {path!r}; expected lines 'path,label'")
    base = Path(root) if root else p.parent
    arr = cached_arrays(f"csv-{p.stem}", [p], f"v1|{base.resolve()}", lambda: read_csv_map(p, base))
    ds = SymbolDataset(arr["images"], arr["labels"], Vocabulary.from_names(arr["classes"].tolist()), ink="white",
                       ids=arr["ids"].tolist(), prepared="symbol32")
    return apply_split(ds, split, int(seed))
