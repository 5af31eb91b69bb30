"""Layouts compared on recognised symbols: each CROHME validation expression is segmented and classified once (the
pipeline of ``inkmath crohme-eval``, strokes or WAP-like renderings as ``benchmarks/wap_val.py`` draws them), then
its symbols are read by each layout; an expression is right when its normalised LaTeX equals the truth.

    INKMATH_DATA=/work/shared/data python benchmarks/layout_ab.py [val|test|ARCHIVE] [--input strokes|wap-like]
        [--layout rules,default] [--stride N] [--json]

``--stride N`` reads every Nth expression only (a faster, smaller sample). Layout names as in ``layout_truth.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from layout_truth import ARCHIVES, make_layout  # noqa: E402
from wap_val import render_wap_like  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from inkmath import InkmathError
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.image.segmentation import segment_image
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.core.metrics import normalize_latex
    from inkmath.equation.reader.parse import parse
    from inkmath.equation.recognize import get_predictor
    from inkmath.equation.strokes.segment import segment_strokes
    from inkmath.equation.reader.symbols import choose_tokens

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", nargs="?", default="val")
    ap.add_argument("--input", choices=("strokes", "wap-like"), default="strokes")
    ap.add_argument("--layout", default="rules,default")
    ap.add_argument("--stride", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    archive = Path(data_dir()) / "crohme" / ARCHIVES[args.set] if args.set in ARCHIVES else Path(args.set)
    names = args.layout.split(",")
    layouts = [make_layout(n) for n in names]
    predictor = get_predictor()
    rng = np.random.default_rng(0)  # as wap_val.write_wap_folder: every expression drawn, in order
    right = [[] for _ in names]
    k = 0
    for expr in iter_inkml(archive):
        if not expr.latex_truth or not any(len(s) for s in expr.strokes):
            continue
        image = render_wap_like(expr, rng) if args.input == "wap-like" else None
        k += 1
        if (k - 1) % args.stride:
            continue
        truth = normalize_latex(expr.latex_truth)
        try:
            hyps = segment_image(image, predictor) if image is not None else segment_strokes(expr.strokes, predictor)
        except InkmathError:
            hyps = []
        tokens = choose_tokens(hyps) if hyps else []
        for j, layout in enumerate(layouts):
            latex = to_latex(parse(hyps, list(tokens), layout=layout)) if hyps else ""
            right[j].append(normalize_latex(latex) == truth)
    for j, name in enumerate(names):
        res = {"source": archive.name, "input": args.input, "stride": args.stride, "layout": name,
               "expressions": len(right[j]), "right": sum(right[j]), "rate": round(sum(right[j]) / max(len(right[j]), 1), 4)}
        if j:
            res["gained"] = sum(a and not b for a, b in zip(right[j], right[0]))
            res["lost"] = sum(b and not a for a, b in zip(right[j], right[0]))
        print(json.dumps(res) if args.json else f"{archive.name} {args.input} ({name}): {res['right']} of "
                                                 f"{res['expressions']} right, {100 * res['rate']:.2f} %" + (
            f" ({res['gained']} gained, {res['lost']} lost against {names[0]})" if j else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
