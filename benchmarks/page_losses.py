"""Where the page reader loses readings: each true expression of a page benchmark run, read on the page and alone.

    python benchmarks/page_losses.py --details D.jsonl --alone DIR/alone.json [--vs OTHER.jsonl]

``--details``: the per-page rows of ``bench_page.py --details``; ``--alone``: that run's cache of the same
expressions read alone from clean WAP-like renderings (``alone.json`` in its ``--out`` folder). Prints, by the
photo's condition (blurred or sharp, ink, paper), the ExpRate on the page, alone and their ratio; then every
expression read wrong on the page and right alone, by what differs from the truth:

- not found: no box at IoU >= 0.5 (grouping, or a box off);
- fewer symbols: the reading has fewer symbols than the truth (symbols merged, or ink lost: a small mark gone);
- more symbols: it has more (a symbol broken into parts, a stray mark);
- symbol misread: as many symbols, not the same ones;
- layout: the same symbols in the same order, another structure.

A symbol is a token of the canonical LaTeX that is ink (a fraction bar and a root sign count; braces, scripts' marks
and a root's index brackets do not). ``--vs``: another run on the same pages (e.g. a variant); the expressions each
reads right and the other wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BLURRED = 0.6  # a photo blurred by a Gaussian over this sigma (px) counts as blurred (as in the pages notes)
STRUCTURE = {"{", "}", "_", "^", "\\\\"}
KINDS = ["not found", "fewer symbols", "more symbols", "symbol misread", "layout"]


def symbols(latex: str) -> list[str]:
    """The ink symbols of a LaTeX string in reading order (canonical tokens less structure)."""
    from inkmath.equation.core.metrics import normalize_latex

    try:
        toks = normalize_latex(latex)
    except Exception:  # noqa: BLE001 - an unparsable reading has no symbols to compare
        return []
    out, index_depth = [], []
    for i, t in enumerate(toks):
        if t == "[" and i and toks[i - 1] == "\\sqrt":
            index_depth.append(0)
            continue
        if index_depth:
            if t == "[":
                index_depth[-1] += 1
            elif t == "]":
                if index_depth[-1] == 0:
                    index_depth.pop()
                    continue
                index_depth[-1] -= 1
        if t not in STRUCTURE:
            out.append(t)
    return out


def loss_kind(pred: str | None, truth: str) -> str:
    """What differs between a wrong reading (None: not found) and the truth (one of ``KINDS``)."""
    if pred is None:
        return "not found"
    p, t = symbols(pred), symbols(truth)
    if len(p) < len(t):
        return "fewer symbols"
    if len(p) > len(t):
        return "more symbols"
    return "layout" if p == t else "symbol misread"


def expressions(rows: list[dict]) -> list[dict]:
    """One row per true expression: id, truth, its reading on the page (None when not found), right, the page's
    conditions."""
    from bench_page import match

    from inkmath.equation.core.metrics import same_expression

    out = []
    for r in rows:
        m = match([t["box"] for t in r["truth"]], [p["box"] for p in r["preds"]])
        for i, t in enumerate(r["truth"]):
            pred = r["preds"][m[i]]["latex"] if i in m else None
            out.append({"file": r["file"], "id": t["id"], "truth": t["latex"], "pred": pred,
                        "right": pred is not None and same_expression(pred, t["latex"]),
                        "blur": "blurred" if r["info"].get("blur", 0.0) > BLURRED else "sharp",
                        "ink": r["info"].get("ink"), "paper": r["info"].get("paper")})
    return out


def losses(rows: list[dict], alone: dict[str, str]) -> dict:
    """{"conditions": {name: {"expressions", "page", "alone", "ratio"}}, "lost": {kind: {"blurred", "sharp"}},
    "gained": n (right on the page, wrong alone)}."""
    from inkmath.equation.core.metrics import same_expression

    conds: dict[str, list[int]] = {}
    lost = {k: {"blurred": 0, "sharp": 0} for k in KINDS}
    gained = 0
    for e in expressions(rows):
        a = same_expression(alone.get(e["id"], ""), e["truth"])
        for name in ("all", e["blur"], f"{e['ink']} ink", f"{e['paper']} paper"):
            c = conds.setdefault(name, [0, 0, 0])
            c[0] += 1
            c[1] += e["right"]
            c[2] += a
        if a and not e["right"]:
            lost[loss_kind(e["pred"], e["truth"])][e["blur"]] += 1
        gained += e["right"] and not a
    return {"conditions": {k: {"expressions": n, "page": round(p / n, 4), "alone": round(a / n, 4),
                               "ratio": round(p / a, 4) if a else None} for k, (n, p, a) in conds.items()},
            "lost": lost, "gained": gained}


def versus(rows: list[dict], other: list[dict]) -> tuple[int, int]:
    """(expressions right in ``rows`` and wrong in ``other``, the reverse), on the pages both read."""
    mine = {(e["file"], e["id"]): e["right"] for e in expressions(rows)}
    theirs = {(e["file"], e["id"]): e["right"] for e in expressions(other)}
    both = mine.keys() & theirs.keys()
    return sum(mine[k] and not theirs[k] for k in both), sum(theirs[k] and not mine[k] for k in both)


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--details", required=True, help="bench_page.py --details rows (JSON lines)")
    ap.add_argument("--alone", required=True, help="the same run's alone.json (expressions read alone)")
    ap.add_argument("--vs", default=None, help="another run's details on the same pages")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = read_rows(Path(args.details))
    res = losses(rows, json.loads(Path(args.alone).read_text()))
    if args.vs:
        res["vs"] = dict(zip(("right_here_only", "right_there_only"), versus(rows, read_rows(Path(args.vs)))))
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"{'condition':<16} {'expressions':>11} {'page':>7} {'alone':>7} {'ratio':>7}")
    for name, c in res["conditions"].items():
        ratio = "-" if c["ratio"] is None else f"{c['ratio']:.3f}"
        print(f"{name:<16} {c['expressions']:>11} {c['page']:>7.3f} {c['alone']:>7.3f} {ratio:>7}")
    total = sum(v["blurred"] + v["sharp"] for v in res["lost"].values())
    print(f"\nwrong on the page, right alone: {total} (right on the page, wrong alone: {res['gained']})")
    for kind, v in res["lost"].items():
        print(f"  {kind:<15} {v['blurred'] + v['sharp']:>4}  (blurred {v['blurred']}, sharp {v['sharp']})")
    if "vs" in res:
        print(f"\nright here and wrong in --vs: {res['vs']['right_here_only']}; the reverse: "
              f"{res['vs']['right_there_only']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
