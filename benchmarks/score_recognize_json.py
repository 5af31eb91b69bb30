"""ExpRate of ``inkmath recognize --json`` output against a CROHME archive's truths: the user's path, scored.

    tar -xJf $INKMATH_DATA/crohme/crohme2014_test_inkml.tar.xz -C /tmp/raw2014
    inkmath recognize --json /tmp/raw2014/*/*/*.inkml > /tmp/rec.jsonl
    INKMATH_DATA=../shared/data python benchmarks/score_recognize_json.py /tmp/rec.jsonl test

Each JSON line's top-1 ``latex`` is compared with the truth of the expression of the same id (the file's name
without ``.inkml``) on normalised tokens, as ``inkmath crohme-eval`` does. A line with an ``error`` counts as read
wrong; an expression of the archive with no line is reported as missing and counts as read wrong too.
``--result FILE`` also writes the results page's row (the expressions table).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from inkmath.data.crohme import iter_inkml
    from inkmath.evaluation.crohme import resolve_source
    from inkmath.equation.core.metrics import edit_distance, normalize_latex

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lines", type=Path, help="the JSON lines `inkmath recognize --json` printed")
    ap.add_argument("set", help="the archive the files came from: test, val or a path")
    ap.add_argument("--result", type=Path, default=None, help="also write a result file for the results page")
    args = ap.parse_args(argv)
    if not args.lines.is_file():
        raise SystemExit(f"{args.lines}: no such file; write it with inkmath recognize --json FILE... > it")
    truth = {e.id: normalize_latex(e.latex_truth) for e in iter_inkml(resolve_source(args.set, None)) if e.latex_truth}
    read: dict[str, list[str] | None] = {}
    for line in args.lines.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            read[Path(row["file"]).stem] = None if "error" in row else normalize_latex(row.get("latex", ""))
    scored = [k for k in truth if k in read]
    # a missing expression or one read with an error counts as wrong: every expression of the archive is scored
    dist = [edit_distance(read[k] or [], truth[k]) if read.get(k) is not None else 10 ** 6 for k in truth]
    n = len(truth)
    out = {"set": args.set, "expressions": n, "read": len(scored), "missing": n - len(scored),
           "errors": sum(read[k] is None for k in scored), "right": sum(d == 0 for d in dist),
           "exprate": round(sum(d == 0 for d in dist) / max(n, 1), 4),
           "within1": round(sum(d <= 1 for d in dist) / max(n, 1), 4),
           "within2": round(sum(d <= 2 for d in dist) / max(n, 1), 4)}
    print(json.dumps(out))
    if args.result:
        write_row(args.result, args.set, out)
    return 0


def write_row(path: Path, set_name: str, out: dict) -> None:
    from inkmath.equation.recognize import DEFAULT_WEIGHTS
    from inkmath.evaluation.results import SETS, write_result

    title = SETS.get(set_name, (set_name, ""))[0]
    row = {"test set": title, "input": "strokes, `inkmath recognize --json` on the raw files",
           "classifier": DEFAULT_WEIGHTS, "expressions": out["expressions"], "ExpRate": out["exprate"],
           "within 1": out["within1"], "within 2": out["within2"], "read right": out["right"],
           "errors": out["errors"], "missing": out["missing"]}
    archive = {"test": "crohme2014_test_inkml.tar.xz", "val": "crohme2011-2013_test_inkml.tar.xz"}.get(
        set_name, set_name)
    command = (f"tar -xJf $INKMATH_DATA/crohme/{archive} -C /tmp/raw; inkmath recognize --json --no-solve "
               f"/tmp/raw/**/*.inkml > rec.jsonl; python benchmarks/score_recognize_json.py rec.jsonl {set_name} "
               f"--result {path}")
    how = ("The user's path: `inkmath recognize --json` on the raw CROHME InkML files in one process, each line's "
           "top-1 `latex` scored against the truth of the same id on normalised tokens, as `inkmath crohme-eval` "
           "does (benchmarks/score_recognize_json.py); a file with no line or an error counts wrong. Reported "
           "only; nothing was chosen on it.")
    write_result(path, "expressions", "Expression recognition", command, how, [row])


if __name__ == "__main__":
    sys.exit(main())
