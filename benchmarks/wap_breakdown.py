"""Where the image path loses against strokes: each WAP-like validation rendering (``wap_val.py``, same seed, same
images) is read again with its truth segmentation known pixel by pixel (each traceGroup drawn alone with the
expression's transform), and every expression read wrong is put in one stage:

- ``merged``: one symbol of ``segment_image`` holds most of the ink of two truth symbols or more;
- ``split``: a truth symbol's ink is shared out among two of its symbols or more (or part of it dropped);
- ``symbol``: the segmentation is right and at least one symbol is read as another;
- ``layout``: segmentation and symbols right, the layout wrong.

It also reads each rendering from its truth segmentation (the truth symbols' pixels, classified, then the shipped
image decoder): what the image path would read if it segmented like the truth. With the per-expression rows of
``wap_val.py --details`` and ``inkmath crohme-eval val --details`` it reports the stages of the expressions read
right from strokes and wrong from images.

    python benchmarks/wap_breakdown.py --image-details img.jsonl --stroke-details strokes.jsonl [--stride 3] \\
        [--out rows.jsonl] [--json]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inkmath.equation.synth.image_truth import COVER, PURE, hyp_masks, seg_stage, truth_symbols  # noqa: E402,F401


def render_with_labels(expr, rng):
    """The WAP-like rendering (as ``wap_val.render_wap_like``, drawing the same random size) and per truth group
    its pixel mask in that image, for the groups with ink: (image, [(group index, mask)])."""
    from inkmath.equation.core.wap_like import render_labelled

    return render_labelled(expr, rng)


def keep_row(row: dict, rows: list[dict], sink) -> None:
    """Add a row to ``rows`` and to ``sink`` (a JSON-lines file, flushed: a partial run can be summarised); the
    count every 50 rows on stderr."""
    rows.append(row)
    if sink:
        sink.write(json.dumps(row) + "\n")
        sink.flush()
    if len(rows) % 50 == 0:
        print(len(rows), file=sys.stderr, flush=True)


def wap_val_renderings(stride: int = 1, offset: int = 0):
    """The WAP-like renderings of the 2011-2013 validation ink as ``wap_val.py`` makes them (same seed and order):
    ``(key, expr, image, truth masks)`` of every ``stride``-th expression from ``offset``. Every expression is
    rendered, so the random sizes stay in step with wap_val."""
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml

    archive = data_dir() / "crohme" / "crohme2011-2013_test_inkml.tar.xz"
    rng = np.random.default_rng(0)
    seen: set[str] = set()
    n = 0
    for expr in iter_inkml(archive):
        if not expr.latex_truth or not any(len(s) for s in expr.strokes):
            continue
        key = expr.id if expr.id not in seen else f"{expr.id}-2"
        seen.add(key)
        img, gmasks = render_with_labels(expr, rng)
        n += 1
        if (n - 1) % stride == offset:
            yield key, expr, img, gmasks


def main(argv=None) -> int:
    from inkmath.equation.reader.decode import Segmentation
    from inkmath.equation.image.segmentation import segment_image
    from inkmath.equation.core.metrics import canonical_symbol, normalize_latex
    from inkmath.equation.recognize import default_decoder, get_predictor

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image-details", type=Path, help="wap_val.py --details rows (to check the readings agree)")
    ap.add_argument("--rows", type=Path, help="summarise these rows of an earlier run (joined with --stroke-details)")
    ap.add_argument("--stroke-details", type=Path, required=True, help="inkmath crohme-eval val --details rows")
    ap.add_argument("--stride", type=int, default=1, help="only every N-th expression")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, help="per-expression rows (JSON lines)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    img_rows = {r["id"]: r for r in map(json.loads, open(args.image_details))} if args.image_details else {}
    stroke_rows = {}
    for r in map(json.loads, open(args.stroke_details)):
        stroke_rows[r["id"] if r["id"] not in stroke_rows else r["id"] + "-2"] = r
    if args.rows:
        rows = [json.loads(line) for line in open(args.rows)]
        for r in rows:
            r["stroke_right"] = stroke_rows.get(r["id"], {}).get("distance") == 0
        print(json.dumps(summary(rows), indent=None if args.json else 1))
        return 0
    predictor = get_predictor()  # the truth symbols read as the reader reads image crops
    decoder = default_decoder("image")
    rows = []
    sink = open(args.out, "w") if args.out else None  # rows as they come: a partial run can be summarised
    for key, expr, img, gmasks in wap_val_renderings(args.stride):
        if args.limit and len(rows) >= args.limit:
            break
        truth = normalize_latex(expr.latex_truth)
        trace: dict = {}
        hyps = segment_image(img, predictor, observe=trace.update)
        stage, owner = seg_stage(hyp_masks(hyps, trace, img.shape), gmasks)
        reading = decoder([Segmentation(hyps, 0.0)])[0]
        right = list(reading.norm) == truth
        if not right and stage == "right":
            labels = {k: expr.groups[k].label for k, _ in gmasks}
            wrong = [(labels[o], t) for o, t in zip(owner, reading.tokens)
                     if canonical_symbol(t) != canonical_symbol(labels[o])]
            stage = "symbol" if wrong else "layout"
        else:
            wrong = []
        tseg = truth_symbols(trace, gmasks, predictor)
        tread = decoder([Segmentation(tseg, 0.0)])[0]
        row = {"id": key, "truth": " ".join(truth), "pred": " ".join(reading.norm), "right": right,
               "stage": "correct" if right else stage, "seg_right": right or stage in ("right", "symbol", "layout"),
               "symbols": len(hyps), "truth_symbols": len(gmasks), "wrong_symbols": wrong,
               "truth_seg_pred": " ".join(tread.norm), "truth_seg_right": list(tread.norm) == truth,
               "recorded_image_right": img_rows.get(key, {}).get("distance") == 0,
               "stroke_right": stroke_rows.get(key, {}).get("distance") == 0}
        keep_row(row, rows, sink)
    print(json.dumps(summary(rows), indent=None if args.json else 1))
    return 0


def summary(rows: list[dict]) -> dict:
    lost = [r for r in rows if r["stroke_right"] and not r["right"]]
    return {
        "expressions": len(rows),
        "image_right": sum(r["right"] for r in rows),
        "recorded_image_right": sum(r["recorded_image_right"] for r in rows),
        "stroke_right": sum(r["stroke_right"] for r in rows),
        "image_truth_segmentation_right": sum(r["truth_seg_right"] for r in rows),
        "image_segmentation_right": sum(r["right"] or r["stage"] in ("symbol", "layout") for r in rows),
        "stages_all_wrong": dict(collections.Counter(r["stage"] for r in rows if not r["right"])),
        "stroke_right_image_wrong": len(lost),
        "stages_stroke_right_image_wrong": dict(collections.Counter(r["stage"] for r in lost)),
        "of_those_right_from_truth_segmentation": sum(r["truth_seg_right"] for r in lost),
        "symbol_confusions": collections.Counter(
            f"{a}->{b}" for r in lost for a, b in r["wrong_symbols"]).most_common(25),
        "truth_segmentation_right_image_wrong_by_stage": dict(collections.Counter(
            r["stage"] for r in rows if r["truth_seg_right"] and not r["right"])),
    }


if __name__ == "__main__":
    raise SystemExit(main())
