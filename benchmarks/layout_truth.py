"""The layout parser alone: CROHME expressions read from their *true* symbols (the traceGroups' boxes and labels).

    INKMATH_DATA=/work/shared/data python benchmarks/layout_truth.py [val|test|train|ARCHIVE] [--rules] [--json]

Segmentation and classification are taken from the truth, so every expression read wrong is a layout mistake (or a
label the parser reads otherwise, such as '\\cdot' for '.'). ``--rules`` reads with the geometric rules alone, without
the learnt relation model. Prints the share of expressions whose normalised LaTeX equals the truth.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ARCHIVES = {"val": "crohme2011-2013_test_inkml.tar.xz", "test": "crohme2014_test_inkml.tar.xz",
            "train": "crohme2014_train_inkml.tar.xz"}


def main(argv: list[str] | None = None) -> int:
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation import parse as P
    from inkmath.equation.latex import to_latex
    from inkmath.equation.metrics import normalize_latex
    from inkmath.equation.train_layout import true_symbols

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", nargs="?", default="val", help="val, test, train or an InkML archive (default: val)")
    ap.add_argument("--rules", action="store_true", help="the geometric rules alone, without the learnt model")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args(argv)
    archive = Path(data_dir()) / "crohme" / ARCHIVES[args.set] if args.set in ARCHIVES else Path(args.set)
    if args.rules:
        P.relation = P.rule_relation
    right = total = 0
    for expr in iter_inkml(archive):
        if not expr.latex_truth or not expr.groups:
            continue
        hyps, _ = true_symbols(expr)
        if not hyps:
            continue
        total += 1
        right += normalize_latex(to_latex(P.parse(hyps, [h.candidates[0].token for h in hyps]))) == \
            normalize_latex(expr.latex_truth)
    res = {"source": str(archive), "layout": "rules" if args.rules else "rules + learnt relation model",
           "expressions": total, "right": right, "rate": right / max(total, 1)}
    print(json.dumps(res) if args.json else f"{archive.name} ({res['layout']}): {right} of {total} right, "
                                             f"{100 * res['rate']:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
