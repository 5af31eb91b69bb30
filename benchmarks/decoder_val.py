"""Choose the decoder's weights and fit its calibration on validation (the CROHME 2011-2013 test sets).

1. ``--dump``: read every validation expression once (strokes: the segmenter's k best groupings; images: the
   WAP-like renderings of ``wap_val.py``), decode with every term switched on and a wide n-best, and store each
   reading's unweighted terms (symbol, lm, segment, structure log scores) and canonical tokens with the truth.
2. ``--grid``: rescore the stored readings under each weighting (no model runs again) and report ExpRate, truth
   among the 5 alternatives, for each; the best by ExpRate (then coverage) is printed.
3. ``--fit``: with the chosen weights, fit the logistic calibration (``calibrate.py``) and print its coefficients
   and the reliability table.

    INKMATH_DATA=../shared/data python benchmarks/decoder_val.py --dump strokes --out /tmp/val-strokes.jsonl
    python benchmarks/decoder_val.py --grid /tmp/val-strokes.jsonl
    python benchmarks/decoder_val.py --fit /tmp/val-strokes.jsonl --lm 0.3 --segment 0.3 --temperature 1
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
import time
from pathlib import Path

WIDE = dict(symbol=1.0, lm=1.0, segment=1.0, structure=1.0, temperature=1.0)


def dump(kind: str, out: Path, limit: int | None, beam: int, segmentations: int, stride: int = 1,
         split: str = "val") -> None:
    from inkmath.equation.crohme_eval import _load_items, _resolve
    from inkmath.equation.decode import Decoder, DecoderWeights, Segmentation, decode
    from inkmath.equation.latex_lm import load_latex_lm
    from inkmath.equation.parse import parse
    from inkmath.equation.recognize import context_candidates, get_predictor
    from inkmath.equation.segment import segment_image, segment_strokes_nbest

    predictor = get_predictor(None)
    dec = Decoder(structure=parse, symbol_model=context_candidates, lm=load_latex_lm(),
                  weights=DecoderWeights(**WIDE, beam=beam), segmentations=segmentations)
    if kind == "strokes":
        items, _ = _load_items(_resolve(split, None), "inkml", limit)
    elif split == "test":  # the 2014 WAP bitmaps: for the report only, once the weights are chosen
        items, _ = _load_items(_resolve("wap", None), "wap", limit)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from wap_val import write_wap_folder

        tmp = Path(tempfile.mkdtemp(prefix="decoder-wap-"))
        write_wap_folder(_resolve("val", None), tmp, limit)
        items, _ = _load_items(tmp, "wap", limit)
    items = items[::stride]  # every stride-th expression: the years and writers stay mixed
    t0 = time.perf_counter()
    with open(out, "w") as f:
        for n, it in enumerate(items, 1):
            try:
                if kind == "strokes":
                    segs = [Segmentation(s, sc) for s, sc in segment_strokes_nbest(it.data, predictor, segmentations)]
                else:
                    segs = [Segmentation(segment_image(it.data, predictor), 0.0)]
                trace: list = []
                decode(segs, symbol_model=dec.symbol_model, structure=dec.structure, lm=dec.lm, weights=dec.weights,
                       n_best=1, trace=trace)
            except Exception as e:  # noqa: BLE001 - a failed expression is stored as read wrong
                f.write(json.dumps({"id": it.id, "truth": it.truth, "error": str(e), "readings": []}) + "\n")
                continue
            f.write(json.dumps({
                "id": it.id, "truth": it.truth,
                "segs": [{"symbols": len(s.symbols), "min_prob": min((h.prob for h in s.symbols), default=0.0)}
                         for s in segs],
                "readings": trace,
            }) + "\n")
            if n % 100 == 0:
                print(f"{n}/{len(items)} {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path)]


def rank(rows: list[dict], w: dict) -> list[list[tuple[tuple, float, dict]]]:
    """Per expression: the distinct readings (norm, prob, best derivation's terms) by pooled probability."""
    out = []
    for row in rows:
        pooled: dict[tuple, list[float]] = {}
        best: dict[tuple, tuple[float, dict]] = {}
        top_sym: dict[int, float] = {}
        for r in row["readings"]:
            top_sym[r["seg"]] = max(top_sym.get(r["seg"], -1e9), r["symbol"])
        drop = w.get("max_drop", float("inf"))
        beam = w.get("beam", 10 ** 6)
        taken: dict[int, int] = {}
        for r in sorted(row["readings"], key=lambda r: -r["symbol"]):  # the decoder's order within a segmentation
            if w["segment"] * r["segment"] < -drop or w["symbol"] * (r["symbol"] - top_sym[r["seg"]]) < -drop:
                continue
            taken[r["seg"]] = taken.get(r["seg"], 0) + 1
            if taken[r["seg"]] > (beam if r["seg"] == 0 else max(1, beam // 2)):
                continue
            s = (w["symbol"] * r["symbol"] + w["lm"] * r["lm"] + w["segment"] * r["segment"]
                 + w["structure"] * r["structure"])
            key = tuple(r["norm"])
            pooled.setdefault(key, []).append(s / w["temperature"])
            if key not in best or s > best[key][0]:
                best[key] = (s, r)
        if not pooled:
            out.append([])
            continue
        lse = {k: _lse(v) for k, v in pooled.items()}
        z = _lse(list(lse.values()))
        ranked = sorted(((k, math.exp(v - z), best[k][1]) for k, v in lse.items()),
                        key=lambda t: (-t[1], -best[t[0]][0]))
        out.append(ranked)
    return out


def _lse(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def evaluate(rows: list[dict], w: dict, top: int = 5) -> dict:
    ranked = rank(rows, w)
    right = [bool(r) and list(r[0][0]) == row["truth"] for r, row in zip(ranked, rows)]
    among = [any(list(k) == row["truth"] for k, _, _ in r[:top]) for r, row in zip(ranked, rows)]
    return {"exprate": sum(right) / len(rows), "among5": sum(among) / len(rows), "right": right, "ranked": ranked}


def features_of(row: dict, ranked: list) -> dict:
    (k0, p0, r0) = ranked[0]
    p1 = ranked[1][1] if len(ranked) > 1 else 0.0
    seg = row["segs"][r0["seg"]]
    return {"prob": p0, "margin": p0 - p1, "symbol_logp": r0["symbol"], "lm_per_token": r0["lm"] / (len(k0) + 1),
            "symbols": seg["symbols"], "min_symbol_prob": seg["min_prob"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dump", choices=["strokes", "images"])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--stride", type=int, default=1, help="read every N-th validation expression")
    ap.add_argument("--split", choices=["val", "test"], default="val",
                    help="test: the 2014 test (InkML or WAP bitmaps), for the report once the weights are chosen")
    ap.add_argument("--segmentations", type=int, default=3)
    ap.add_argument("--grid", type=Path)
    ap.add_argument("--fit", type=Path)
    for k in ("lm", "segment", "temperature"):
        ap.add_argument(f"--{k}", type=float, default=WIDE[k] if k == "temperature" else 0.0)
    args = ap.parse_args(argv)
    if args.dump:
        dump(args.dump, args.out, args.limit, args.beam, args.segmentations, args.stride, args.split)
    if args.grid:
        rows = load(args.grid)
        base = evaluate(rows, dict(WIDE, lm=0.0, segment=0.0))
        print(json.dumps({"lm": 0, "segment": 0, "temperature": 1, "exprate": round(base["exprate"], 4),
                          "among5": round(base["among5"], 4)}))
        best = None
        for lm, seg, t in itertools.product([0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8], [0, 0.3, 1.0, 2.0, 5.0, 100.0],
                                            [0.5, 1.0, 2.0]):
            e = evaluate(rows, dict(WIDE, lm=lm, segment=seg, temperature=t))
            line = {"lm": lm, "segment": seg, "temperature": t, "exprate": round(e["exprate"], 4),
                    "among5": round(e["among5"], 4)}
            print(json.dumps(line))
            if best is None or (line["exprate"], line["among5"]) > (best["exprate"], best["among5"]):
                best = line
        print("best", json.dumps(best))
    if args.fit:
        from inkmath.equation.calibrate import (expected_calibration_error, fit_logistic, reliability,
                                                top_half_accuracy, calibrated_confidence)

        rows = load(args.fit)
        w = dict(WIDE, lm=args.lm, segment=args.segment, temperature=args.temperature)
        e = evaluate(rows, w)
        keep = [i for i, r in enumerate(e["ranked"]) if r]
        feats = [features_of(rows[i], e["ranked"][i]) for i in keep]
        right = [e["right"][i] for i in keep]
        coef = fit_logistic(feats, right)
        conf = [calibrated_confidence(f, coef) for f in feats]
        raw = [f["prob"] for f in feats]
        print(json.dumps({"coefficients": coef, "exprate": e["exprate"], "among5": e["among5"],
                          "ece_calibrated": expected_calibration_error(conf, right),
                          "ece_raw_prob": expected_calibration_error(raw, right),
                          "top_half_calibrated": top_half_accuracy(conf, right),
                          "top_half_raw_prob": top_half_accuracy(raw, right),
                          "reliability": reliability(conf, right)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
