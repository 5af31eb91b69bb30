"""Validation for the image path: the 2011-2013 CROHME test ink rendered like the WAP offline bitmaps, then read.

The 2014 WAP bitmaps are the reported test set, so the image recogniser's thresholds are chosen on these renderings
instead. What makes a rendering WAP-like was measured on the WAP bitmaps themselves (``inkmath.equation.core.wap_like``).

Each expression is drawn with ``ink.rasterize`` at the scale giving its mean truth-symbol height a size drawn
around 30 px with that spread (a fixed seed: every run renders the same images), at a pen of 2 px, and thresholded.
The renderings and their captions are written as a WAP-format folder, and ``crohme_eval.evaluate_crohme`` reads
and scores it exactly as it scores the real WAP set.

    INKMATH_DATA=../shared/data python benchmarks/wap_val.py [--limit N] [--details rows.jsonl] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from inkmath.equation.core.wap_like import (  # noqa: E402,F401 - the renderings' settings, for the other benchmarks
    INK_LEVEL, PADDING, PEN, SYMBOL_HEIGHT, SYMBOL_HEIGHT_SPREAD, mean_symbol_height, render_wap_like)


def write_wap_folder(archive: Path, out: Path, limit: int | None = None, subset: str | None = None,
                     folders: dict[str, str] | None = None) -> int:
    """Render every expression with a LaTeX truth into ``out`` as ``off_image/<id>_0.bmp`` + ``val_caption.txt``;
    ``folders`` receives each rendering's name -> the folder its InkML file lies in (the year's test set)."""
    import cv2

    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.core.metrics import normalize_latex

    rng = np.random.default_rng(0)
    (out / "off_image").mkdir(parents=True, exist_ok=True)
    lines = []
    seen: set[str] = set()
    for expr in iter_inkml(archive, subset=subset):
        if limit is not None and len(lines) >= limit:
            break
        if not expr.latex_truth or not any(len(s) for s in expr.strokes):
            continue
        key = expr.id if expr.id not in seen else f"{expr.id}-2"  # three names recur across the years
        seen.add(key)
        if folders is not None:
            folders[key] = expr.folder
        cv2.imwrite(str(out / "off_image" / f"{key}_0.bmp"), render_wap_like(expr, rng))
        lines.append(f"{key}\t{' '.join(normalize_latex(expr.latex_truth))}\n")
    (out / "val_caption.txt").write_text("".join(lines), encoding="utf-8")
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    from inkmath.data import data_dir
    from inkmath.evaluation.crohme import by_folder, evaluate_crohme
    from inkmath.equation.recognize import get_predictor

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--archive", default=None, help="InkML archive (default: $INKMATH_DATA/crohme/"
                                                    "crohme2011-2013_test_inkml.tar.xz)")
    ap.add_argument("--subset", default=None, help="only files under this folder, e.g. TestINKMLGT (2013)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N expressions")
    ap.add_argument("--out", default=None, help="keep the renderings in this folder (default: a temporary one)")
    ap.add_argument("--details", default=None, metavar="FILE", help="write per-expression rows (JSON lines)")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    ap.add_argument("--image-merge", default=None, metavar="WEIGHTS",
                    help="group with these image-merge weights instead of the shipped ones")
    ap.add_argument("--result", default=None, metavar="FILE", help="also write a result file for the results page")
    args = ap.parse_args(argv)
    read = None  # the image reader as shipped (evaluate_crohme's)
    if args.image_merge:
        import functools

        from inkmath.equation.recognize import recognize_image

        read = functools.partial(recognize_image, solve=False, image_merge=args.image_merge)

    archive = Path(args.archive) if args.archive else data_dir() / "crohme" / "crohme2011-2013_test_inkml.tar.xz"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        folders: dict[str, str] = {}
        n = write_wap_folder(archive, out, args.limit, args.subset, folders)
        res = evaluate_crohme(out, read, predictor=get_predictor(), details=True)
    res["source"] = f"{archive} rendered WAP-like ({n} expressions)"
    rows = res.pop("details")
    for r in rows:
        if folders.get(r["id"]):
            r["folder"] = folders[r["id"]]
    per_folder = by_folder([folders.get(r["id"], "") for r in rows], [r["distance"] for r in rows])
    if per_folder:
        res["by_folder"] = per_folder
    if args.details:
        Path(args.details).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if args.result:
        from inkmath.evaluation.results import HOW_EXPRESSIONS, expressions_row, folder_rows, write_result

        command = "python benchmarks/wap_val.py" + "".join(
            f" {flag} {v}" for flag, v in (("--archive", args.archive), ("--subset", args.subset),
                                           ("--limit", args.limit)) if v is not None)
        key = "wap_val" if not (args.archive or args.subset) else res["source"]
        write_result(args.result, "expressions", "Expression recognition", command, HOW_EXPRESSIONS,
                     [expressions_row(res, key)] + folder_rows(res, key))
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{res['source']}: ExpRate {res['exprate']:.4f}, within-1 {res['within1']:.4f}, "
              f"within-2 {res['within2']:.4f} ({res['seconds']} s)")
        for f in res.get("by_folder", []):
            print(f"  {f['folder']}: {f['read_right']} of {f['expressions']} right, ExpRate {f['exprate']:.4f}, "
                  f"within-1 {f['within1']:.4f}, within-2 {f['within2']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
