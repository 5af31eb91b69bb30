"""What the page-other model keeps out of a page's expressions, and at what cost: real-looking photos of the validation
ink read once, each group recorded (``training.recipes.page_other.GroupRecorder``), then scored as
``benchmarks/real_photos.py read`` scores them, with every group reported as maths (the reader without the model)
and with the groups the model sets apart left out, for each threshold on its maths probability.

    INKMATH_DATA=../shared/data python benchmarks/page_other_val.py read DIR [--n 80] [--kind crop|page]
    INKMATH_DATA=../shared/data python benchmarks/page_other_val.py read-pages PAGES DIR   # bench_page.py's pages
    python benchmarks/page_other_val.py score DIR [--below 0.2,0.3,0.5] [--model PATH]

``read`` makes the photos ``benchmarks/real_photos.py make --split val`` makes (the 2011-2013 ink, seed 0, the same
glyph bank: photo k is that folder's ``k``) and caches each photo's groups as ``DIR/KIND-NNNN.json`` (resumable).
``read-pages`` reads the worksheet pages ``benchmarks/bench_page.py --out PAGES`` generated and read (maths alone:
every group set apart there is a loss). ``score`` needs no reading: it applies the model to the cached features. Thresholds are chosen here, never on the
2014 ink.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_photos import ARCHIVES, BANK_EXPRESSIONS, score  # noqa: E402


def read(out: Path, n: int, kind: str) -> None:
    import cv2
    import torch

    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.synth.real_ink import training_glyph_bank
    from inkmath.training.recipes.page_other import build

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    d = data_dir() / "crohme"
    bank = training_glyph_bank(BANK_EXPRESSIONS)
    build(list(iter_inkml(d / ARCHIVES["val"])), bank, out, n, 0, kind)


def read_pages(pages: Path, out: Path) -> None:
    import cv2
    import torch

    from inkmath.equation.page.read import read_page
    from inkmath.training.recipes.page_other import GroupRecorder

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    out.mkdir(parents=True, exist_ok=True)
    for line in (pages / "details.jsonl").read_text().splitlines():
        d = json.loads(line)
        f = out / f"{Path(d['file']).stem}.json"
        if f.is_file():
            continue
        rec = GroupRecorder()
        read_page(pages / d["file"], solve=False, kinds=rec)
        f.write_text(json.dumps({"groups": rec.rows, "truth": d["truth"], "other": []}))


def evaluate(folder: Path, below: list[float], model_path: str | None) -> list[dict]:
    from inkmath.equation.page.other import kinds_of, load_page_other_model

    model = load_page_other_model(model_path)
    photos = [json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))]
    out = []
    for t in [None] + below:
        tot: dict[str, float] = {}
        set_apart = 0
        for d in photos:
            rows = [r for r in d["groups"] if r["pred"] is not None]
            if t is None or not rows:
                keep = [True] * len(rows)
            else:
                kinds = kinds_of(model.probs(np.asarray([r["features"] for r in rows], np.float32)), t)
                keep = [k == "maths" for k in kinds]
            set_apart += keep.count(False)
            s = score(d["truth"], d["other"], [r["pred"] for r, k in zip(rows, keep) if k])
            for k, v in s.items():
                tot[k] = tot.get(k, 0) + v
        n = max(1, tot.get("lines", 0))
        out.append({"maths_below": t, "photos": len(photos), "lines": int(tot.get("lines", 0)),
                    "exact": round(tot.get("exact", 0) / n, 4), "within_one": round(tot.get("within1", 0) / n, 4),
                    "sure": int(tot.get("sure", 0)),
                    "sure_right": round(tot.get("sure_right", 0) / max(1, tot.get("sure", 0)), 4),
                    "text_items": int(tot.get("text_items", 0)),
                    "text_as_maths": round(tot.get("text_as_maths", 0) / max(1, tot.get("text_items", 0)), 4),
                    "expressions_per_line": round(tot.get("preds", 0) / n, 3), "set_apart": set_apart})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("read")
    r.add_argument("folder", type=Path)
    r.add_argument("--n", type=int, default=80)
    r.add_argument("--kind", choices=["crop", "page"], default="crop")
    p = sub.add_parser("read-pages")
    p.add_argument("pages", type=Path)
    p.add_argument("folder", type=Path)
    s = sub.add_parser("score")
    s.add_argument("folder", type=Path)
    s.add_argument("--below", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7")
    s.add_argument("--model", default=None, help="a page-other weights file (default: the shipped one)")
    a = ap.parse_args()
    if a.cmd == "read":
        read(a.folder, a.n, a.kind)
        return 0
    if a.cmd == "read-pages":
        read_pages(a.pages, a.folder)
        return 0
    for row in evaluate(a.folder, [float(v) for v in a.below.split(",")], a.model):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
