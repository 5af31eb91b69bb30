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
import dataclasses
import itertools
import json
import math
import sys
import tempfile
import time
from pathlib import Path

WIDE = dict(symbol=1.0, lm=1.0, segment=1.0, structure=1.0, temperature=1.0)


def symbol_model_named(name: str, image: bool = False):
    """The decoder's symbol model by name: ``context`` (the shipped symbol-context models, ``symbols.read_symbols``;
    ``image``: the image reader's) or ``classifier`` (no context). (The hand-written token rules it replaced are
    ``rules`` at commit a2b6209.)"""
    from inkmath.equation.reader.decode import classifier_candidates
    from inkmath.equation.recognize import image_model_candidates, model_candidates

    return {"context": image_model_candidates if image else model_candidates, "classifier": classifier_candidates}[name]


def dump(kind: str, out: Path, limit: int | None, beam: int, segmentations: int, stride: int = 1,
         split: str = "val", symbols: str = "context", image_merge: Path | None = None,
         merge_prob: float | None = None) -> None:
    """Write the decoder's readings of every expression (the module docstring); ``image_merge``, ``merge_prob``: the
    image groupings' image-merge weights and join probability (default the shipped ones)."""
    from inkmath.evaluation.crohme import _load_items, resolve_source as _resolve
    from inkmath.equation.reader.decode import Decoder, DecoderWeights, Segmentation, decode
    from inkmath.equation.image.segmentation import segment_image_nbest
    from inkmath.equation.reader.latex_lm import load_latex_lm
    from inkmath.equation.reader.parse import other_layout, parse_scored
    from inkmath.equation.recognize import get_predictor, reader_pen
    from inkmath.equation.strokes.segment import segment_strokes_nbest

    predictor = get_predictor(None)
    from inkmath.equation.recognize import DECODER_WEIGHTS, IMAGE_DECODER_WEIGHTS

    shipped_w = DECODER_WEIGHTS if kind == "strokes" else IMAGE_DECODER_WEIGHTS  # candidates per symbol as shipped
    dec = Decoder(structure=parse_scored, symbol_model=symbol_model_named(symbols, kind == "images"), lm=load_latex_lm(),
                  weights=DecoderWeights(**WIDE, beam=beam, per_symbol=shipped_w.per_symbol,
                                         min_ratio=shipped_w.min_ratio),
                  segmentations=segmentations, alternative_layout=other_layout)
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
                    segs = [Segmentation(s, sc) for s, sc in segment_strokes_nbest(it.data, predictor, segmentations,
                                                                                    pen=reader_pen(predictor))]
                else:
                    tr: dict = {}
                    segs = [Segmentation(h, sc) for h, sc in segment_image_nbest(
                        it.data, predictor, segmentations, observe=tr.update, image_merge=image_merge,
                        merge_prob=merge_prob)]
                trace: list = []
                decode(segs, symbol_model=dec.symbol_model, structure=dec.structure, lm=dec.lm, weights=dec.weights,
                       n_best=1, observe=trace.append, alternative_layout=dec.alternative_layout)
            except Exception as e:  # noqa: BLE001 - a failed expression is stored as read wrong
                f.write(json.dumps({"id": it.id, "truth": it.truth, "error": str(e), "readings": []}) + "\n")
                continue
            f.write(json.dumps({
                "id": it.id, "truth": it.truth,
                "segs": [{"symbols": len(s.symbols), "min_prob": min((h.prob for h in s.symbols), default=0.0),
                          **({"margin": tr["margins"][i]} if kind == "images" else {})} for i, s in enumerate(segs)],
                "readings": trace,
            }) + "\n")
            if n % 100 == 0:
                print(f"{n}/{len(items)} {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path)]


PARSED: list[int] = []  # readings parsed per expression in the last ``rank`` (after the beam and max_drop)


def _seg_term(row: dict, r: dict, w: dict) -> float:
    """A reading's segmentation term: as dumped, or for image groupings priced by ``w`` (``flip``, ``margin``:
    -(flip cost + margin weight * the call's margin), see ``image_alternatives.flip_score``)."""
    if "flip" in w and r["seg"] > 0:
        return -(w["flip"] + w.get("margin", 0.0) * max(row["segs"][r["seg"]]["margin"], 0.0))
    return r["segment"]


def _score(r: dict, w: dict, seg_term: float) -> float:
    """``decode``'s score of a dumped reading under the weights ``w`` (its segmentation term given)."""
    return (w["symbol"] * r["symbol"] + w["lm"] * r["lm"] + w["segment"] * seg_term + w["structure"] * r["structure"]
            + w.get("length", 0.0) * (len(r["norm"]) + 1) + w.get("long_range", 0.0) * r.get("long_range", 0.0))


def rank(rows: list[dict], w: dict) -> list[list[tuple[tuple, float, dict]]]:
    """Per expression: the distinct readings (norm, prob, best derivation's terms) by pooled probability."""
    from inkmath.equation.reader.decode import has_empty_group

    out = []
    PARSED.clear()
    for row in rows:
        pooled: dict[tuple, list[float]] = {}
        best: dict[tuple, tuple[float, dict]] = {}
        top_sym: dict[int, float] = {}
        for r in row["readings"]:
            top_sym[r["seg"]] = max(top_sym.get(r["seg"], -1e9), r["symbol"])
        drop = w.get("max_drop", float("inf"))
        beam = w.get("beam", 10 ** 6)
        taken: dict[int, int] = {}
        segs = w.get("segmentations", 10 ** 6)
        primaries = [(i, r) for i, r in enumerate(row["readings"]) if "alt_of" not in r]
        for i, r in sorted(primaries, key=lambda t: -t[1]["symbol"]):  # the decoder's order within a segmentation
            if r["seg"] >= segs:
                continue
            seg_term = _seg_term(row, r, w)
            if w["segment"] * seg_term < -drop or w["symbol"] * (r["symbol"] - top_sym[r["seg"]]) < -drop:
                continue
            taken[r["seg"]] = taken.get(r["seg"], 0) + 1
            if taken[r["seg"]] > (beam if r["seg"] == 0 else w.get("alt_beam") or max(1, beam // 2)):
                continue
            s = _score(r, w, seg_term)
            key = tuple(r["norm"])
            pooled.setdefault(key, []).append(s / w["temperature"])
            if key not in best or s > best[key][0]:
                best[key] = (s, r, i)
        # readings with an empty group count only when there is no other (``decode``; ``has_empty_group``)
        empty = {k for k in pooled if has_empty_group(k)}
        only_empty = len(empty) == len(pooled)
        if not only_empty:
            pooled = {k: v for k, v in pooled.items() if k not in empty}
            best = {k: v for k, v in best.items() if k not in empty}
        layouts = w.get("layouts", 0)
        if layouts and not only_empty:
            # the best readings' second layouts (``decode``'s alternative_layout)
            alts = {r["alt_of"]: r for r in row["readings"] if "alt_of" in r}
            for _, _, i in sorted(best.values(), key=lambda t: -t[0])[:layouts]:
                r = alts.get(i)
                if r is None:
                    continue
                s = _score(r, w, _seg_term(row, r, w))
                key = tuple(r["norm"])
                if has_empty_group(key):
                    continue
                pooled.setdefault(key, []).append(s / w["temperature"])
                if key not in best or s > best[key][0]:
                    best[key] = (s, r, None)
        PARSED.append(sum(min(c, beam if sg == 0 else w.get("alt_beam") or max(1, beam // 2))
                          for sg, c in taken.items()))
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


def offered(rows: list[dict], w: dict, ranked: list) -> list:
    """The alternatives the decoder returns: ``ranked`` (``rank(rows, w)``), or with ``offered_layouts`` the second
    layouts of the next best readings ranked in among the rest, the first reading first (``decode``)."""
    extra = w.get("offered_layouts", 0)
    if not extra:
        return ranked
    wider = rank(rows, dict(w, layouts=w.get("layouts", 0) + extra, offered_layouts=0))
    return [r[:1] + [x for x in o if x[0] != r[0][0]] if r else o for r, o in zip(ranked, wider)]


def evaluate(rows: list[dict], w: dict, top: int = 5) -> dict:
    ranked = rank(rows, w)
    right = [bool(r) and list(r[0][0]) == row["truth"] for r, row in zip(ranked, rows)]
    among = [any(list(k) == row["truth"] for k, _, _ in r[:top]) for r, row in zip(offered(rows, w, ranked), rows)]
    return {"exprate": sum(right) / len(rows), "among5": sum(among) / len(rows), "right": right, "ranked": ranked,
            "parsed": sum(PARSED) / max(len(PARSED), 1)}


def features_of(row: dict, ranked: list) -> dict:
    """``decode.features`` of a dumped expression's readings as ``rank`` ranks them."""
    from inkmath.equation.reader.decode import beam_features

    (k0, p0, r0) = ranked[0]
    seg = row["segs"][r0["seg"]]
    return beam_features(k0, p0, ranked[1][1] if len(ranked) > 1 else 0.0, r0, r0["seg"], len(ranked),
                         seg["symbols"], seg["min_prob"])


def old_path(row: dict) -> list[str] | None:
    """The reading of the pipeline before the decoder: the first segmentation, each symbol's context reading
    (the symbol model's first candidate), parsed: the first reading the decoder parses."""
    first = next((r for r in row["readings"] if r["seg"] == 0), None)
    return first["norm"] if first else None


def report(rows: list[dict], w: dict, coef: list[float] | None, image: bool = False) -> dict:
    """The old path's and the decoder's figures on the same expressions, with the calibration's reliability."""
    from inkmath.equation.reader.calibrate import (calibrated_confidence, expected_calibration_error, reliability,
                                            top_half_accuracy)
    from inkmath.equation.core.metrics import edit_distance

    e = evaluate(rows, w)
    m = len(rows)
    old = [edit_distance(old_path(r) or [], r["truth"]) for r in rows]
    new = [edit_distance(list(rk[0][0]) if rk else [], r["truth"]) for rk, r in zip(e["ranked"], rows)]
    conf = [calibrated_confidence(features_of(r, rk), coef, image) if rk else 0.0
            for rk, r in zip(e["ranked"], rows)]
    right = [d == 0 for d in new]
    among = [any(list(k) == r["truth"] for k, _, _ in rk[:5]) for rk, r in zip(offered(rows, w, e["ranked"]), rows)]
    parsed = [len(r["readings"]) for r in rows]
    return {
        "expressions": m,
        "old_exprate": sum(d == 0 for d in old) / m, "old_within1": sum(d <= 1 for d in old) / m,
        "old_within2": sum(d <= 2 for d in old) / m,
        "exprate": sum(right) / m, "within1": sum(d <= 1 for d in new) / m, "within2": sum(d <= 2 for d in new) / m,
        "alternatives_coverage": sum(among) / m, "top_half_accuracy": top_half_accuracy(conf, right),
        "calibration_error": expected_calibration_error(conf, right), "mean_confidence": sum(conf) / m,
        "reliability": reliability(conf, right), "readings_in_dump_per_expression": sum(parsed) / m,
    }


def shipped(image: bool) -> tuple[dict, tuple | None]:
    """The shipped decoder weights (as a dict for ``rank``) and calibration of the strokes or the image reader."""
    from inkmath.equation import recognize
    from inkmath.equation.reader import calibrate

    W = recognize.IMAGE_DECODER_WEIGHTS if image else recognize.DECODER_WEIGHTS
    # every field, so that a term added to DecoderWeights is weighed here too (the long-range term was not)
    w = dict(dataclasses.asdict(W), segmentations=recognize.STROKE_SEGMENTATIONS)
    if image:  # the groupings' prices of image_alternatives.flip_score, whatever the dump was made with
        from inkmath.equation.image import alternatives as image_alternatives
        from inkmath.equation.image import segmentation as image_segmentation

        w.update(flip=image_alternatives.FLIP_COST, margin=image_alternatives.MARGIN_WEIGHT,
                 segmentations=image_segmentation.IMAGE_SEGMENTATIONS)
    return w, calibrate.coefficients(image)


def write_results(out: Path, dumps: list[tuple[str, Path]], speed: Path | None, command: str) -> None:
    """benchmarks/results/decoder.json (the results page's format): per set, the old path and the decoder on the same
    expressions, coverage of the alternatives, calibration; the reliability tables; the speed rows if given."""
    from inkmath.evaluation.results import write_result

    rows = []
    for label, path in dumps:
        w, coef = shipped(label.startswith("image"))
        r = report(load(path), w, coef, label.startswith("image"))
        rows.append({"set": label, "expressions": r["expressions"],
                     **{k: round(r[k], 4) for k in ("old_exprate", "exprate", "old_within1", "within1", "old_within2",
                                                    "within2", "alternatives_coverage", "top_half_accuracy",
                                                    "mean_confidence", "calibration_error")},
                     "reliability": r["reliability"]})
    speed_load = "-"
    if speed is not None:
        speed_load = str(json.loads(speed.read_text()).get("load", ["-"])[0])
        for s in json.loads(speed.read_text())["rows"]:
            rows.append({"set": "speed: " + s["input"], **{k: v for k, v in s.items() if k != "input"}})
    how = ("Each set's expressions are read once (strokes: the segmenter's 3 best groupings; images: "
                   "the image reader's groupings, segment_image_nbest), every reading the decoder parses is stored with its unweighted terms, and the "
                   "shipped weights (recognize.DECODER_WEIGHTS, IMAGE_DECODER_WEIGHTS) and calibration "
                   "(weights/calibration, calibrate.coefficients) rank them "
                   "exactly as the decoder ranks them (checked against the live decoder). The shipped reader then "
                   "reads its first reading once more with the chosen layout (decode's final_layout), which these "
                   "figures leave out: inkmath crohme-eval gives the shipped reader's. old_* is the pipeline before "
                   "the decoder (first grouping, each symbol's first candidate, parse) on the same expressions. "
                   "A set's label names the subset read when it is not all of it (every n-th expression, for "
                   "machine time). Weights and calibration chosen on the 2011-2013 sets; "
                   "the 2014 rows were computed once, after. The dumps: decoder_val.py --dump strokes [--split test] "
                   "and --dump images [--split test] --beam 6 --segmentations 6 (the image reader's groupings and "
                   "beams are then taken as shipped), each with --out FILE [--stride N]. "
                   "Speed rows (one run; reader-speed.json has three): "
                   "benchmarks/bench_decoder.py (ONNX Runtime, old and new path alternately in one process, solve "
                   "off); quote the ratio: the absolute ms were taken at a load average of " + speed_load + " on 2 cores.")
    write_result(out, "expressions", "The decoder: whole readings scored, n best with a calibrated confidence", command,
                 how, rows)


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
    ap.add_argument("--symbols", choices=["context", "classifier"], default="context",
                    help="--dump: the symbol model the decoder reads candidates from")
    ap.add_argument("--grid", type=Path)
    ap.add_argument("--fit", type=Path)
    ap.add_argument("--flip-grid", type=Path, help="an --dump images dump: grid the price of the image groupings")
    for k in ("lm", "segment", "temperature", "structure"):
        ap.add_argument(f"--{k}", type=float, default=WIDE[k] if k in ("temperature", "structure") else 0.0)
    ap.add_argument("--max-drop", type=float, default=float("inf"))
    ap.add_argument("--length", type=float, default=0.0)
    ap.add_argument("--layouts", type=int, default=0, help="--fit: the best readings also read with the second layout")
    ap.add_argument("--grid-layouts", action="store_true", help="--grid: also search layouts (0-5) x structure")
    ap.add_argument("--image", action="store_true",
                    help="--report: with the image reader's weights and calibration; --fit: its groupings as shipped")
    ap.add_argument("--report", type=Path, help="a dump to report on with the shipped weights and calibration")
    ap.add_argument("--results", nargs="+", metavar="LABEL=DUMP",
                    help="write benchmarks/results/decoder.json from these dumps (shipped weights)")
    ap.add_argument("--speed", type=Path, help="bench_decoder.py --json output to add as rows")
    ap.add_argument("--image-merge", type=Path, metavar="WEIGHTS",
                    help="--dump images: group with these image-merge weights instead of the shipped ones")
    ap.add_argument("--merge-prob", type=float, default=None, help="--dump images: pairs join above this")
    args = ap.parse_args(argv)
    if args.dump:
        dump(args.dump, args.out, args.limit, args.beam, args.segmentations, args.stride, args.split, args.symbols,
             args.image_merge, args.merge_prob)
    if args.grid:
        rows = load(args.grid)
        base = evaluate(rows, dict(WIDE, structure=0.0, lm=0.0, segment=0.0))
        print(json.dumps({"structure": 0, "lm": 0, "segment": 0, "temperature": 1, "exprate": round(base["exprate"], 4),
                          "among5": round(base["among5"], 4)}))
        best = None
        for st, lm, seg, t, ln in itertools.product([0, 0.3, 0.5, 1.0], [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8],
                                                    [0, 0.3, 1.0, 2.0, 5.0, 100.0], [0.5, 1.0, 2.0],
                                                    [0.0, 0.1, 0.3, 0.6, 1.0]):
            e = evaluate(rows, dict(WIDE, structure=st, lm=lm, segment=seg, temperature=t, length=ln))
            line = {"structure": st, "lm": lm, "segment": seg, "temperature": t, "length": ln,
                    "exprate": round(e["exprate"], 4), "among5": round(e["among5"], 4)}
            print(json.dumps(line))
            if best is None or (line["exprate"], line["among5"]) > (best["exprate"], best["among5"]):
                best = line
        print("best", json.dumps(best))
        for segs, beam, drop in itertools.product([5, 3, 2, 1], [16, 12, 8, 6, 4, 2, 1], [float("inf"), 8.0, 5.0, 3.0]):
            e = evaluate(rows, dict(WIDE, structure=best["structure"], lm=best["lm"], segment=best["segment"],
                                    temperature=best["temperature"], length=best["length"], beam=beam, max_drop=drop,
                                    segmentations=segs))
            print(json.dumps({"segmentations": segs, "beam": beam, "max_drop": drop, "exprate": round(e["exprate"], 4),
                              "among5": round(e["among5"], 4), "parsed": round(e["parsed"], 2)}))
        if args.grid_layouts:  # the second layout of the best readings, at the best weights and the given search
            for layouts in (0, 1, 2, 3, 5):
                for st in (0.3, 0.5, 1.0):
                    e = evaluate(rows, dict(WIDE, structure=st, lm=best["lm"], segment=best["segment"],
                                            temperature=best["temperature"], length=best["length"], beam=args.beam,
                                            max_drop=args.max_drop, layouts=layouts))
                    print(json.dumps({"layouts": layouts, "structure": st, "beam": args.beam,
                                      "max_drop": args.max_drop, "exprate": round(e["exprate"], 4),
                                      "among5": round(e["among5"], 4)}))
    if args.flip_grid:
        # image groupings (segment_image_nbest): the price of an alternative grouping, -(flip + margin * margin of the
        # call), with the image reader's other weights around the shipped ones; the segment weight is 1
        rows = load(args.flip_grid)
        W, _ = shipped(True)
        best = None
        for lm, st, ln, t, flip, mw, segs in itertools.product(
                [0.1, 0.2, 0.3], [0.5], [0.1, 0.3, 0.6], [0.5], [0, 0.5, 1, 2, 3, 100], [0, 1], [1, 2, 3, 4, 6]):
            if (flip == 100 or segs == 1) and mw:
                continue
            w = dict(W, lm=lm, structure=st, length=ln, temperature=t, segment=1.0, flip=flip, margin=mw,
                     segmentations=segs)
            e = evaluate(rows, w)
            line = {"lm": lm, "structure": st, "length": ln, "temperature": t, "flip": flip, "margin": mw,
                    "segmentations": segs, "exprate": round(e["exprate"], 4), "among5": round(e["among5"], 4),
                    "parsed": round(e["parsed"], 2)}
            print(json.dumps(line))
            if best is None or (line["exprate"], line["among5"], -line["parsed"]) > (best["exprate"], best["among5"],
                                                                                     -best["parsed"]):
                best = line
        print("best", json.dumps(best))
        for beam, alt_beam, segs in itertools.product([4, 6], [1, 2, 3], [2, 3, 4]):
            w = dict(W, **{k: best[k] for k in ("lm", "structure", "length", "temperature", "flip", "margin")},
                     segment=1.0, segmentations=segs, beam=beam, alt_beam=alt_beam)
            e = evaluate(rows, w)
            print(json.dumps({"beam": beam, "alt_beam": alt_beam, "segmentations": segs,
                              "exprate": round(e["exprate"], 4), "among5": round(e["among5"], 4),
                              "parsed": round(e["parsed"], 2)}))
    if args.results:
        pairs = [tuple(x.split("=", 1)) for x in args.results]
        out = Path(__file__).resolve().parent / "results" / "decoder.json"
        write_results(out, [(a, Path(b)) for a, b in pairs], args.speed,
                      "python benchmarks/decoder_val.py " + " ".join(argv if argv is not None else sys.argv[1:]))
        print(f"wrote {out}")
    if args.report:
        w, coef = shipped(args.image)
        print(json.dumps(report(load(args.report), w, coef, args.image), indent=1))
    if args.fit:
        from inkmath.equation.reader.calibrate import (expected_calibration_error, fit_logistic, reliability,
                                                top_half_accuracy, calibrated_confidence)

        rows = load(args.fit)
        w = dict(WIDE, structure=args.structure, lm=args.lm, segment=args.segment, temperature=args.temperature,
                 max_drop=args.max_drop, length=args.length, beam=args.beam, layouts=args.layouts)
        if args.image:  # the image reader's groupings as shipped (their prices, how many, the beam after the first)
            w.update({k: v for k, v in shipped(True)[0].items() if k in ("flip", "margin", "segmentations",
                                                                         "alt_beam")})
        e = evaluate(rows, w)
        keep = [i for i, r in enumerate(e["ranked"]) if r]
        feats = [features_of(rows[i], e["ranked"][i]) for i in keep]
        right = [e["right"][i] for i in keep]
        from inkmath.equation.reader.calibrate import FEATURES, IMAGE_FEATURES

        coef = fit_logistic(feats, right, keys=IMAGE_FEATURES if args.image else FEATURES)
        conf = [calibrated_confidence(f, coef, args.image) for f in feats]
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
