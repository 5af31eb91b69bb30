"""The reader's speed against an earlier commit, in one run: per-expression latency, pages a minute, the web load.

    INKMATH_DATA=../shared/data python benchmarks/speed_report.py --base-tree /tmp/base --base-label 48bda56 \
        [--rounds 3] [--page-runs 2] [--web-pairs 1] [--seconds 30] [--result benchmarks/results/speed-report.json]

``--base-tree`` is the earlier commit's tree (``git archive COMMIT | tar -x -C DIR``). Each figure is measured with
the two trees side by side, so that the machine's load falls on both:

- per-expression latency from strokes at canvas scale and from WAP-like images (``stroke_latency.py --old``: 40
  validation expressions, the two trees' resident readers asked in alternation): p50, p90, max wall ms;
- pages a minute: ``bench_page.py --speed --pages 0`` in each tree in turn (3 generated worksheet photos of 8
  expressions, read end to end), 60 / the median seconds a page;
- the web load test: ``bench_web_ab.py`` (8 closed-loop clients on ``inkmath serve --engine onnx --pool 2``): requests
  a second, p50 and p99 ms, errors.

Rows: one a figure, with the earlier commit's value, this tree's and their ratio (this / earlier).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import add_base_tree, checked_base_tree, write_rows

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], tree: Path = ROOT) -> str:
    """stdout of ``python ARGS`` in ``tree`` with its own source first on the path; a failure ends the report."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    done = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: python {' '.join(args)} failed: {done.stderr.strip()[-600:]}")
    return done.stdout


def latency(base: Path, label: str, rounds: int, images: bool) -> list[dict]:
    flags = ["--images"] if images else []
    out = run(["benchmarks/stroke_latency.py", "--old", str(base), "--old-label", label, "--rounds", str(rounds),
               *flags])
    figures = ast.literal_eval(next(ln for ln in out.splitlines() if ln.startswith("{")))
    kind = "WAP-like images" if images else "strokes at canvas scale"
    return [{"figure": f"{kind}, {key} ms (40 validation expressions)", "before": figures[f"old {key} ms"],
             "now": figures[f"new {key} ms"]} for key in ("p50", "p90", "max")]


def pages(base: Path, runs: int) -> list[dict]:
    seconds = {}
    for name, tree in (("before", base), ("now", ROOT)):
        out = run(["benchmarks/bench_page.py", "--speed", "--pages", "0", "--runs", str(runs), "--json"], tree)
        seconds[name] = json.loads(next(ln for ln in reversed(out.splitlines()) if ln.startswith("{")))["page8_p50_s"]
    return [{"figure": "worksheet photos of 8 expressions a minute", "before": round(60 / seconds["before"], 2),
             "now": round(60 / seconds["now"], 2)}]


def web(base: Path, label: str, pairs: int, seconds: float) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="speed-report-") as tmp:
        path = Path(tmp) / "web.json"
        run(["benchmarks/bench_web_ab.py", "--base-tree", str(base), "--base-label", label, "--pairs", str(pairs),
             "--seconds", str(seconds), "--result", str(path)])
        rows = json.loads(path.read_text())["rows"]
    medians = {r["commit"]: r for r in rows if r.get("run") == "median"}
    before, now = medians.pop(label), next(iter(medians.values()))
    return [{"figure": f"web load test, {key}", "before": before[key], "now": now[key]}
            for key in ("requests/s", "p50 ms", "p99 ms", "errors")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_base_tree(ap)
    ap.add_argument("--rounds", type=int, default=3, help="reads of each expression for the latency")
    ap.add_argument("--page-runs", type=int, default=2, help="reads of each page photo")
    ap.add_argument("--web-pairs", type=int, default=1, help="load tests a side (0: none)")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of each load test")
    ap.add_argument("--result", type=Path, default=None, help="write the report as a results file")
    args = ap.parse_args(argv)
    checked_base_tree(args.base_tree)
    rows = (latency(args.base_tree, args.base_label, args.rounds, False)
            + latency(args.base_tree, args.base_label, args.rounds, True)
            + pages(args.base_tree, args.page_runs)
            + (web(args.base_tree, args.base_label, args.web_pairs, args.seconds) if args.web_pairs else []))
    for row in rows:
        row["before commit"] = args.base_label
        row["ratio"] = round(row["now"] / row["before"], 3) if row["before"] else None
        print(json.dumps(row))
    if args.result:
        write_rows(args.result, "speed_report.py", argv, "speed",
                   f"Speed against {args.base_label}, side by side in one run",
                   "benchmarks/speed_report.py: stroke_latency.py --old (strokes, then --images), bench_page.py "
                   "--speed --pages 0 in each tree in turn, bench_web_ab.py; each figure with the earlier commit's "
                   "value, this tree's and their ratio (now / before; for requests a second and pages a minute "
                   "higher is faster, for ms lower).", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
