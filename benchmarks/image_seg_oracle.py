"""Is the image path's segmentation loss one of generation or of choice? Each WAP-like validation rendering
(``wap_val.py``'s images, same seed) is segmented into its ``--k`` groupings (``segment_image_nbest``), and each
grouping is checked against the truth segmentation pixel by pixel (``wap_breakdown.seg_stage``). Then the shipped
image decoder reads the first ``--read`` groupings (the reader's own: ``IMAGE_SEGMENTATIONS``), and each expression
is put in one class:

- ``right``: read right;
- ``choice``: read wrong, but a pixel-right grouping is among the groupings the decoder read;
- ``ranked_out``: no pixel-right grouping among those read, but one among the ``--k`` generated;
- ``not_generated``: no pixel-right grouping among the ``--k``; ``merged`` or ``split`` by the first grouping's stage.

    python benchmarks/image_seg_oracle.py [--stride 3] [--k 12] [--read 3] [--out rows.jsonl] [--json]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    from wap_breakdown import hyp_masks, keep_row, seg_stage, wap_val_renderings

    from inkmath.equation.image import segmentation as image_segmentation
    from inkmath.equation.reader.decode import Segmentation
    from inkmath.equation.core.metrics import normalize_latex
    from inkmath.equation.recognize import default_decoder, get_predictor

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stride", type=int, default=3, help="only every N-th expression")
    ap.add_argument("--offset", type=int, default=0, help="start at this expression (of the stride's)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--k", type=int, default=12, help="groupings generated")
    ap.add_argument("--read", type=int, default=image_segmentation.IMAGE_SEGMENTATIONS,
                    help="groupings the decoder reads (the first of the --k)")
    ap.add_argument("--engine", default="onnx", help="the classifier's engine (onnx or torch)")
    ap.add_argument("--out", type=Path, help="per-expression rows (JSON lines)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    if args.engine == "torch":
        predictor = get_predictor()
    else:
        from inkmath.equation.recognize import DEFAULT_WEIGHTS
        from inkmath.predict import Predictor

        predictor = Predictor.load(DEFAULT_WEIGHTS, args.engine)
    decoder = default_decoder("image")
    rows = []
    sink = open(args.out, "w") if args.out else None
    for key, expr, img, gmasks in wap_val_renderings(args.stride, args.offset):
        if args.limit and len(rows) >= args.limit:
            break
        truth = normalize_latex(expr.latex_truth)
        trace: dict = {}
        found = image_segmentation.segment_image_nbest(img, predictor, args.k, observe=trace.update)
        stages = [seg_stage(hyp_masks(h, trace, img.shape), gmasks)[0] for h, _ in found]
        rank = next((i for i, s in enumerate(stages) if s == "right"), None)
        readings = decoder([Segmentation(h, sc) for h, sc in found[:args.read]])
        right = list(readings[0].norm) == truth
        chosen = readings[0].segmentation
        if right:
            cls = "right"
        elif rank is not None and rank < args.read:
            cls = "choice"
        elif rank is not None:
            cls = "ranked_out"
        else:
            cls = "not_generated_" + stages[0]
        row = {"id": key, "truth": " ".join(truth), "pred": " ".join(readings[0].norm), "right": right,
               "class": cls, "truth_rank": rank, "stages": stages, "chosen": chosen,
               "chosen_stage": stages[chosen], "scores": [round(sc, 3) for _, sc in found],
               "symbols": [len(h) for h, _ in found], "truth_symbols": len(gmasks)}
        keep_row(row, rows, sink)
    print(json.dumps(summary(rows, args.read), indent=None if args.json else 1))
    return 0


def summary(rows: list[dict], read: int) -> dict:
    ranks = collections.Counter(r["truth_rank"] for r in rows)
    return {
        "expressions": len(rows),
        "right": sum(r["right"] for r in rows),
        "classes": dict(collections.Counter(r["class"] for r in rows)),
        "pixel_right_grouping_at_rank": {str(k): v for k, v in sorted(ranks.items(), key=lambda kv: (kv[0] is None,
                                                                                                    kv[0] or 0))},
        "pixel_right_among_read": sum(r["truth_rank"] is not None and r["truth_rank"] < read for r in rows),
        "pixel_right_among_all": sum(r["truth_rank"] is not None for r in rows),
        "wrong_with_right_grouping_chosen": sum(not r["right"] and r["chosen_stage"] == "right" for r in rows),
        "wrong_right_grouping_read_not_chosen": sum(
            not r["right"] and r["chosen_stage"] != "right" and r["truth_rank"] is not None
            and r["truth_rank"] < read for r in rows),
    }


if __name__ == "__main__":
    raise SystemExit(main())
