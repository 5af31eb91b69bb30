"""Dump every reading the reader gives, in full, so that two trees can be compared byte for byte.

A behaviour-preserving change (a move of code, a rename, a config object in place of a switch) must leave every
reading the same: the chosen LaTeX, its tokens and confidence, every alternative, every symbol's box, candidates and
logits, and the tree. This writes one JSON line per input: its LaTeX, and the SHA-256 of all of it as JSON (floats
as ``repr``, arrays as lists), so that a single changed logit changes the line:

    INKMATH_DATA=../shared/data python benchmarks/reading_dump.py strokes --out strokes.jsonl [--limit N]
    INKMATH_DATA=../shared/data python benchmarks/reading_dump.py images --inputs DIR --out images.jsonl
    INKMATH_DATA=../shared/data python benchmarks/reading_dump.py pages --inputs DIR --out pages.jsonl
    cmp strokes-before.jsonl strokes-after.jsonl

``strokes`` reads the CROHME 2011-2013 test ink (validation). ``images`` reads every ``off_image/*.bmp`` of a
WAP-format folder (``benchmarks/wap_val.py --out DIR`` keeps the validation renderings), ``pages`` every
``page_*.jpg`` of a folder written by ``benchmarks/bench_page.py --split val --pages 30 --out DIR``. The inputs are
written once, by one tree, and read by both, so the comparison covers the reader and not the generators.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np


def plain(obj):
    """A JSON-ready copy of a reading: dataclasses as dicts (with their class name), floats as their repr."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {"__class__": type(obj).__name__}
        out.update({f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)})
        return out
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [plain(v) for v in obj.tolist()] if obj.ndim else plain(obj.item())
    if isinstance(obj, (float, np.floating)):
        return repr(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return repr(obj)


def _write(out: Path, rows) -> int:
    n = 0
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for key, reading in rows:
            full = json.dumps(plain(reading), ensure_ascii=False, sort_keys=True)
            latex = [getattr(r, "latex", None) for r in getattr(reading, "expressions", [reading])]
            f.write(json.dumps({"id": key, "latex": latex, "sha256": hashlib.sha256(full.encode()).hexdigest()},
                               ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(out)
    return n


def strokes(limit: int | None):
    import inkmath
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml

    archive = data_dir() / "crohme" / "crohme2011-2013_test_inkml.tar.xz"
    for k, expr in enumerate(iter_inkml(archive)):
        if limit is not None and k >= limit:
            break
        if not any(len(s) for s in expr.strokes):
            continue
        yield f"{expr.folder}/{expr.id}", inkmath.recognize([np.asarray(s) for s in expr.strokes], solve=False)


def images(folder: Path, limit: int | None):
    import inkmath

    for path in sorted((folder / "off_image").glob("*.bmp"))[:limit]:
        yield path.name, inkmath.recognize(path, solve=False)


def pages(folder: Path, limit: int | None):
    from inkmath.equation.page.read import read_page

    for path in sorted(folder.glob("page_*.jpg"))[:limit]:
        yield path.name, read_page(path, solve=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=("strokes", "images", "pages"))
    ap.add_argument("--inputs", type=Path, help="images: a WAP-format folder; pages: a folder of page_*.jpg")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args(argv)
    if a.kind != "strokes" and a.inputs is None:
        ap.error(f"{a.kind} needs --inputs DIR")
    rows = strokes(a.limit) if a.kind == "strokes" else (images if a.kind == "images" else pages)(a.inputs, a.limit)
    print(f"{_write(a.out, rows)} readings -> {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
