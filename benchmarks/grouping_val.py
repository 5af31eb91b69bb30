"""How often the stroke segmenter offers the truth's stroke grouping, on validation (the CROHME 2011-2013 test ink):
share of expressions whose truth grouping (traceGroups) is among the ``k`` groupings ``segment_strokes_nbest``
gives the decoder, and share of truth symbols that are a group of the first grouping / of any of the ``k``.

The slow part, the classifier's reading of every run of up to ``segment.MAX_GROUP`` consecutive strokes, is cached
once (``--build``, one JSON line per expression); any stroke-merge model is then scored in seconds, because the
groupings depend only on the merge probabilities and these readings (``segment.k_best_groups``).

    INKMATH_DATA=../shared/data python benchmarks/grouping_val.py --build [--stride 3]
    INKMATH_DATA=../shared/data python benchmarks/grouping_val.py [--weights W.safetensors ...] [--stride 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE = Path.home() / ".cache" / "inkmath" / "grouping-val" / "spans.jsonl"


@dataclass
class Read:
    prob: float


def truth_spans(groups, keep: list[int]) -> list[tuple[int, int]] | None:
    """The truth's grouping as consecutive ranges [i, j) of the non-empty strokes, or None when a truth symbol is not
    such a run of at most ``MAX_GROUP`` strokes (no grouping of the segmenter can equal it)."""
    from inkmath.equation.strokes.segment import MAX_GROUP

    pos = {k: p for p, k in enumerate(keep)}
    spans, seen = [], set()
    for g in groups:
        ids = sorted(pos[s] for s in g.stroke_ids if s in pos)
        if not ids:
            continue
        if ids != list(range(ids[0], ids[-1] + 1)) or len(ids) > MAX_GROUP:
            return None
        spans.append((ids[0], ids[-1] + 1))
        seen.update(ids)
    if len(seen) != len(keep):  # a stroke in no truth symbol (or in two)
        return None
    return sorted(spans)


def val_expressions():
    """(id, non-empty strokes, keep, truth spans or None) of every validation expression with a truth, in order."""
    from inkmath import ink
    from inkmath.evaluation.crohme import _load_items, resolve_source

    items, _ = _load_items(resolve_source("val", None), "inkml", None)
    for it in items:
        all_strokes = ink.as_strokes(it.data)
        keep = [k for k, s in enumerate(all_strokes) if len(s)]
        ss = ink.as_strokes([all_strokes[k] for k in keep])
        yield it.id, ss, keep, truth_spans(it.groups or [], keep)


def build(out: Path, stride: int) -> None:
    from inkmath import ink
    from inkmath.equation.recognize import get_predictor
    from inkmath.equation.strokes.segment import candidate_spans

    pred = get_predictor(None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    t0 = time.time()
    with open(tmp, "w") as f:
        for n, (eid, ss, keep, truth) in enumerate(val_expressions()):
            if n % stride:
                continue
            m = len(ss)
            spans = candidate_spans(np.ones(max(m - 1, 0)), m)  # every run of up to MAX_GROUP strokes
            crops = ink.render_symbols(ss, spans, scale=ink.normalization_scale(ss))
            preds, _ = pred.predict_with_logits(crops, ink="white", top=5)
            f.write(json.dumps({"n": n, "id": eid, "strokes": m, "truth": truth, "spans": spans,
                                "top": [[[p.label, round(float(p.prob), 6)] for p in ps] for ps in preds]}) + "\n")
            if n % 150 == 0:
                print(f"{n} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    tmp.replace(out)


def load(path: Path, stride: int = 1) -> list[dict]:
    rows = [json.loads(line) for line in open(path)]
    for r in rows:
        r["spans"] = [tuple(s) for s in r["spans"]]
        r["truth"] = [tuple(s) for s in r["truth"]] if r["truth"] is not None else None
    return [r for r in rows if r["n"] % stride == 0]


def groupings(row: dict, pm: np.ndarray, k: int, cls_weight: float | None = None) -> list[list[tuple[int, int]]]:
    """The ``k`` groupings ``segment_strokes_nbest`` gives for merge probabilities ``pm`` (before clipping)."""
    from inkmath.equation.strokes import segment

    n = row["strokes"]
    pm = np.clip(pm, 1e-4, 1 - 1e-4) if n > 1 else np.zeros(0)
    allowed = set(segment.candidate_spans(pm, n))
    by_span = {s: [Read(t[0][1])] for s, t in zip(row["spans"], row["top"]) if s in allowed}
    w = segment.CLS_WEIGHT if cls_weight is None else cls_weight
    return [g for g, _ in segment.k_best_groups(n, pm, by_span, k, w)]


def score(rows: list[dict], probs: list[np.ndarray], k: int = 3, cls_weight: float | None = None) -> dict:
    """Recall of the truth grouping among the first and the ``k`` groupings, and of truth symbols."""
    first = among = reach = sym_first = sym_any = n_sym = 0
    for row, pm in zip(rows, probs):
        truth = row["truth"]
        if truth is None:
            continue
        reach += 1
        gs = groupings(row, pm, k, cls_weight)
        first += gs[0] == truth
        among += truth in gs
        t = set(truth)
        n_sym += len(t)
        sym_first += len(t & set(gs[0]))
        sym_any += len(t & set().union(*map(set, gs)))
    n = len(rows)
    return {"expressions": n, "reachable": reach, "first": first, f"among{k}": among,
            "first_pct": round(100 * first / n, 2), f"among{k}_pct": round(100 * among / n, 2),
            "symbols_first_pct": round(100 * sym_first / max(n_sym, 1), 2),
            "symbols_any_pct": round(100 * sym_any / max(n_sym, 1), 2)}


def pair_features(rows: list[dict]) -> list[np.ndarray]:
    """``segment.drawing_pair_features`` of each cached expression's strokes ((0, 29) for one stroke)."""
    from inkmath.equation.strokes.segment import PAIR_FEATURES, drawing_pair_features

    strokes = {eid: ss for eid, ss, _, _ in val_expressions()}
    return [drawing_pair_features(strokes[r["id"]]) if r["strokes"] > 1 else np.zeros((0, PAIR_FEATURES), np.float32)
            for r in rows]


def at_commit(weights: str) -> str:
    """``weights`` itself, or for ``REV:PATH`` (a file as committed) a temporary copy of it."""
    import subprocess
    import tempfile

    if Path(weights).exists() or ":" not in weights:
        return weights
    data = subprocess.run(["git", "show", weights], capture_output=True, check=True,
                          cwd=Path(__file__).resolve().parent).stdout
    out = Path(tempfile.mkdtemp(prefix="grouping-val-")) / Path(weights.split(":", 1)[1]).name
    out.write_bytes(data)
    return str(out)


def model_probs(feats: list[np.ndarray], weights: str | None = None) -> list[np.ndarray]:
    """Merge probabilities of each expression with a ``MergeModel`` file (the shipped one by default)."""
    from inkmath.equation.strokes.segment import load_merge_model

    model = load_merge_model(at_commit(weights) if weights else None)
    return [model.pair_probs(f) if len(f) else np.zeros(0) for f in feats]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="store_true", help="read every span with the classifier into the cache")
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--stride", type=int, default=1, help="every N-th validation expression")
    ap.add_argument("--weights", nargs="*", default=[None],
                    help="stroke-merge model files (default: the shipped); REV:PATH reads the file at a git commit")
    ap.add_argument("-k", type=int, default=3,
                    help="groupings offered (default 3; the decoder reads recognize.STROKE_SEGMENTATIONS)")
    ap.add_argument("--cls-weight", type=float, nargs="*", default=[None],
                    help="the classifier's weight in the grouping score (default: segment.CLS_WEIGHT)")
    ap.add_argument("--result", type=Path, help="also write these figures as a result file (benchmarks/results/)")
    args = ap.parse_args(argv)
    if args.build:
        build(args.cache, 1)
        return 0
    rows = load(args.cache, args.stride)
    feats = pair_features(rows)
    out = []
    for w in args.weights:
        probs = model_probs(feats, w)
        for cw in args.cls_weight:
            line = {"merge model": w or "shipped", "classifier weight": cw or _cls_weight(),
                    **score(rows, probs, args.k, cw)}
            print(json.dumps(line), flush=True)
            out.append(line)
    if args.result:
        write_result(args.result, out, " ".join(["python", "benchmarks/grouping_val.py", *(argv or sys.argv[1:])]))
    return 0


def _cls_weight() -> float:
    from inkmath.equation.strokes.segment import CLS_WEIGHT

    return CLS_WEIGHT


def write_result(path: Path, rows: list[dict], command: str) -> None:
    from inkmath.evaluation.results import write_result as write_result_file

    write_result_file(
        path, "grouping", "Stroke grouping: is the truth's grouping among those the decoder reads?", command,
        "Validation (CROHME 2011-2013 test ink, 1,504 expressions). Each expression's groupings are those "
        "segment_strokes_nbest gives the decoder (its k best by the merge model and the classifier); "
        "'first' and 'among3' count the expressions whose truth grouping (traceGroups) is the first or "
        "one of the 3; 'reachable' those whose every truth symbol is a run of at most 4 consecutive "
        "strokes (the others no grouping can equal); the symbol shares count truth symbols that are a "
        "group of the first grouping or of any of the 3. The classifier's readings of every run of "
        "strokes are cached once (--build).", rows)

if __name__ == "__main__":
    raise SystemExit(main())
