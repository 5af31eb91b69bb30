"""How often the image reader groups an expression's parts exactly into its truth symbols, on the WAP-like validation
renderings (``wap_val.py``, same seed, same images): the merge rules of ``segment_image`` against the learned
grouping (``image_grouping``, the ``image-merge`` model) at several thresholds.

A grouping is right when every symbol matches one truth symbol by pixels (``wap_breakdown.seg_stage``: at least 80 %
of its labelled pixels are that symbol's and it holds at least 80 % of them) and every truth symbol has one. The
slow part (the parts, the classifier's readings of the parts and of every candidate pair, the pixels each part
shares with each truth symbol) is cached once (``--cache``); any model and threshold is then scored in seconds.

    INKMATH_DATA=../shared/data python benchmarks/image_grouping_val.py --stride 3 [--weights W.safetensors ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def stage(inter: np.ndarray, sizes: np.ndarray) -> str:
    """``wap_breakdown.seg_stage`` from the pixels each symbol shares with each truth symbol: right, merged, split."""
    from wap_breakdown import COVER, PURE

    owners, merged, split = [], False, False
    for row in inter:
        lab = row.sum()
        if int((row >= 0.5 * sizes).sum()) >= 2:
            merged = True
        j = int(row.argmax()) if lab else -1
        owners.append(j if lab and row[j] >= PURE * lab and row[j] >= COVER * sizes[j] else None)
    for j in range(len(sizes)):
        if int((inter[:, j] >= 0.2 * sizes[j]).sum()) >= 2 or inter[:, j].max(initial=0) < COVER * sizes[j]:
            split = True
    took = [o for o in owners if o is not None]
    if len(took) == len(sizes) == len(inter) and len(set(took)) == len(took):
        return "right"
    return "merged" if merged else "split"


def build(stride: int, limit: int | None, out: Path, classifier: str | None = None) -> None:
    """Cache one JSON line per rendering read: the rules' stage, the units (parts as ``learned_groupings`` starts
    from) with their boxes and readings, the candidate pairs' raw rows, and the pixel intersections."""
    import cv2

    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.image import segmentation as iseg
    from inkmath.equation.image.grouping import TOP, score_pairs
    from inkmath.equation.recognize import get_predictor
    from wap_breakdown import hyp_masks, render_with_labels, seg_stage

    pred = get_predictor(classifier)
    rng = np.random.default_rng(0)
    n = done = 0
    t0 = time.time()
    with open(out, "w") as f:
        for expr in iter_inkml(data_dir() / "crohme" / "crohme2011-2013_test_inkml.tar.xz"):
            if not expr.latex_truth or not any(len(s) for s in expr.strokes):
                continue
            img, gmasks = render_with_labels(expr, rng)  # always, so the random sizes stay in step with wap_val
            n += 1
            if (n - 1) % stride:
                continue
            if limit is not None and done >= limit:
                break
            done += 1
            trace: dict = {}
            hyps = iseg.segment_image(img, pred, observe=trace.update)
            rules = seg_stage(hyp_masks(hyps, trace, img.shape), gmasks)[0]
            p = iseg.image_parts(img, pred, TOP)
            named = {c for run, _, _ in p.names for c in run}
            groups = [list(r) for r, _, _ in p.names] + [[c] for c in range(len(p.comps)) if c not in named]
            gpred = [pr for _, _, pr in p.names] + [p.preds[c] for c in range(len(p.comps)) if c not in named]
            gbox = [b for _, b, _ in p.names] + [p.comps[c][0] for c in range(len(p.comps)) if c not in named]
            pairs, _, raw, _ = score_pairs(p.img, p.comps, groups, gbox, gpred, p.unit, pred)
            inter = []
            for g in groups:
                m = np.zeros(p.comps[0][1].shape, np.uint8)
                for c in g:
                    m |= p.comps[c][1].astype(np.uint8)
                if p.back != 1.0:
                    m = cv2.resize(m, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST)
                m = m.astype(bool)[:img.shape[0], :img.shape[1]]
                inter.append([int((m & gm).sum()) for _, gm in gmasks])
            f.write(json.dumps({
                "id": expr.id, "rules": rules, "unit": p.unit, "groups": groups,
                "boxes": [b.as_list() for b in gbox],
                "preds": [[[q.label, q.latex, q.prob] for q in pr[:TOP]] for pr in gpred],
                "pairs": pairs, "raw": raw.round(5).tolist(), "inter": inter,
                "sizes": [max(int(gm.sum()), 1) for _, gm in gmasks]}) + "\n")
            if done % 50 == 0:
                print(f"{done} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)


def score(rows: list[dict], weights: list[Path | None], thresholds=THRESHOLDS) -> dict:
    """Expressions grouped right: by the rules, and by each model at each threshold."""
    from inkmath.equation.image import grouping as ig
    from inkmath.equation.image import segmentation as iseg
    from inkmath.equation.core.tree import Box
    from inkmath.predict import Prediction

    out = {"expressions": len(rows), "rules": sum(r["rules"] == "right" for r in rows)}
    for w in weights:
        model = ig.load_image_merge_model(str(w) if w else None)
        right = dict.fromkeys(thresholds, 0)
        for r in rows:
            gbox = [Box(*b) for b in r["boxes"]]
            gpred = [[Prediction(*q) for q in pr] for pr in r["preds"]]
            raw = np.asarray(r["raw"], np.float32).reshape(-1, ig.RAW_LEN)
            probs = model.prob(ig.model_features(model, raw)) if len(raw) else np.zeros(0)
            pairs = [tuple(p) for p in r["pairs"]]
            inter, sizes = np.asarray(r["inter"], float), np.asarray(r["sizes"], float)
            for t in thresholds:
                js = ig._join(len(r["groups"]), pairs, probs, set(), set(), t)
                # dots joined to names as the reader does (``_symbols``): units of a symbol summed
                gg = [list(j) for j in js]
                hy = iseg._symbols(gg, [ig._union([gbox[i] for i in j]) for j in js], [gpred[j[0]] for j in js],
                                   r["unit"], 0.0, 1.0)
                m = np.stack([inter[h.strokes].sum(0) for h in hy])
                right[t] += stage(m, sizes) == "right"
        out[str(w or "shipped")] = {str(t): v for t, v in right.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stride", type=int, default=3, help="only every N-th validation rendering")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--cache", type=Path, default=None, help="the cached rows (built when missing)")
    ap.add_argument("--classifier", default=None,
                    help="the symbol classifier that reads the parts (default: the reader's)")
    ap.add_argument("--weights", type=Path, nargs="*", default=[None], help="image-merge weights to score")
    args = ap.parse_args(argv)
    from inkmath.equation.recognize import DEFAULT_WEIGHTS

    # by default the parts are read as the reader reads images: with its classifier
    classifier = args.classifier or DEFAULT_WEIGHTS
    cache = args.cache or Path.home() / ".cache" / "inkmath" / "image-merge" / f"val-s{args.stride}-{classifier}.jsonl"
    if not cache.is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".part")
        build(args.stride, args.limit, tmp, classifier)
        tmp.replace(cache)
    rows = [json.loads(line) for line in open(cache)]
    print(json.dumps(score(rows, args.weights)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
