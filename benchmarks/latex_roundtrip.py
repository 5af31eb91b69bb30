"""Typed LaTeX -> tree -> LaTeX on every truth expression of the CROHME 2014 training set.

    INKMATH_DATA=/work/shared/data python benchmarks/latex_roundtrip.py [--limit N]

For each InkML truth (`iter_inkml` on crohme2014_train_inkml.tar.xz): `parse_latex(truth)`; if the parser refuses
it, the reason (its message without the position) is counted; else `to_latex(tree)` must equal the truth after
`normalize_latex` (the CROHME comparison). Writes benchmarks/results/latex_roundtrip.json.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ARCHIVE = "crohme/crohme2014_train_inkml.tar.xz"
_POSITION = re.compile(r" at (the end \()?position \d+\)?")


def reason_of(message: str) -> str:
    """The refusal without its position and the quoted symbol (so that messages group by kind)."""
    text = _POSITION.sub("", message).split(";")[0]
    text = re.sub(r"unexpected character '.*'", "unexpected character", text)
    return re.sub(r"\\(overline|underline|hat|bar|vec|dot|ddot|tilde|widehat|overrightarrow)", r"\\accent", text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="stop after N expressions (0: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "latex_roundtrip.json")
    args = ap.parse_args()

    from inkmath import InkmathError
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.core.latex_parse import parse_latex
    from inkmath.equation.core.metrics import normalize_latex

    from inkmath.evaluation.results import machine_name, source_commit

    commit = source_commit()  # the code measured: taken before the run
    data = Path(os.environ.get("INKMATH_DATA", "/work/shared/data")) / ARCHIVE
    refused: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    mismatches: list[dict[str, str]] = []
    total = represented = same = no_truth = 0
    start = time.perf_counter()
    for expr in iter_inkml(data):
        if not expr.latex_truth:
            no_truth += 1
            continue
        total += 1
        truth = expr.latex_truth.strip().strip("$").strip()
        try:
            tree = parse_latex(truth)
        except InkmathError as exc:
            why = reason_of(str(exc))
            refused[why] += 1
            examples.setdefault(why, truth)
        else:
            represented += 1
            back = to_latex(tree)
            if normalize_latex(back) == normalize_latex(truth):
                same += 1
            elif len(mismatches) < 20:
                mismatches.append({"truth": truth, "round_trip": back})
        if args.limit and total >= args.limit:
            break
    elapsed = time.perf_counter() - start
    cpu = machine_name()
    rows = [{"case": "truth expressions", "count": total},
            {"case": "represented by the tree (parsed)", "count": represented},
            {"case": "round trip equal after normalize_latex", "count": same},
            {"case": "represented but round trip differs", "count": represented - same}]
    rows += [{"case": f"not represented: {why}", "count": n, "example": examples[why]}
             for why, n in refused.most_common()]
    result = {
        "table": "latex_roundtrip", "title": "Typed LaTeX -> tree -> LaTeX on the CROHME 2014 training truths",
        "command": "INKMATH_DATA=/work/shared/data python benchmarks/latex_roundtrip.py",
        "machine": cpu, "commit": commit, "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "how": ("Every InkML file of crohme2014_train_inkml.tar.xz with a LaTeX truth: parse_latex (the typed-input "
                "parser), then to_latex, compared with the truth after metrics.normalize_latex. Truths the parser "
                "refuses are counted by the parser's reason. "
                f"{no_truth} files had no truth; {elapsed:.0f} s."),
        "rows": rows, "mismatch_examples": mismatches,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(args.out)
    print(json.dumps(rows, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
