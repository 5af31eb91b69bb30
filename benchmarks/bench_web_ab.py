"""The web load test at two commits side by side: ``bench_web.py`` on a baseline tree and on this one, alternating.

    INKMATH_DATA=../shared/data python benchmarks/bench_web_ab.py --base-tree /tmp/base --base-label b250f87 [--pairs 3]

``--base-tree`` is a checkout of the baseline commit (``git worktree add --detach /tmp/base b250f87``). Each pair
runs the baseline's own ``bench_web.py`` with its own source first on the path, then this tree's, each
``--engines onnx --workers pool2`` for ``--seconds``, so the machine's load drifts alike on both. Writes
``benchmarks/results/web.json``: every run, then the medians of each side and their ratios.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("requests/s", "p50 ms", "p95 ms", "p99 ms", "max ms")


def one_run(tree: Path, seconds: float) -> dict:
    """One ``bench_web.py`` run of ``tree`` (its source first on the path): the onnx pool2 line's figures."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)  # as a user starts the server: the tree decides its threads
    out = subprocess.run([sys.executable, "benchmarks/bench_web.py", "--engines", "onnx", "--workers", "pool2",
                          "--seconds", str(seconds), "--out", os.devnull], cwd=tree, env=env, capture_output=True,
                         text=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("onnx pool2 ")), None)
    if line is None:
        raise SystemExit(f"{tree}: bench_web.py printed no result; stderr ends: {out.stderr[-500:]}")
    figures, cpu = re.match(r"onnx pool2 (\{.*?\}) (\{.*\})$", line).groups()
    r, c = ast.literal_eval(figures), ast.literal_eval(cpu)
    return {"engine": "onnx", "workers": "pool2", "requests": r["requests"], "errors": r["errors"],
            "requests/s": r["rps"], "p50 ms": r["p50"], "p95 ms": r["p95"], "p99 ms": r["p99"], "max ms": r["max"],
            "CPU ms a request": round(sum(c.values()), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-tree", type=Path, required=True)
    ap.add_argument("--base-label", required=True)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--result", type=Path, default=ROOT / "benchmarks" / "results" / "web.json",
                    help="the results file (default: web.json, against the commit before the learned reader)")
    ap.add_argument("--title", default="Web API under load, side by side with the commit before the learned reader")
    args = ap.parse_args(argv)
    if not (args.base_tree / "benchmarks" / "bench_web.py").is_file():
        raise SystemExit(f"{args.base_tree}: not a checkout with benchmarks/bench_web.py; make one with "
                         f"git worktree add --detach DIR COMMIT")
    from inkmath.evaluation.results import source_commit

    commit = source_commit()
    sides = {args.base_label: args.base_tree, commit: ROOT}
    runs: list[dict] = []
    for k in range(args.pairs):
        for label, tree in sides.items():
            load = os.getloadavg()[0]
            r = one_run(tree, args.seconds)
            runs.append({"commit": label, "run": k + 1, "load before": round(load, 2), **r})
            print(json.dumps(runs[-1]), flush=True)
    rows = list(runs)
    med = {}
    for label in sides:
        mine = [r for r in runs if r["commit"] == label]
        med[label] = {key: round(statistics.median(r[key] for r in mine), 1) for key in KEYS + ("CPU ms a request",)}
        rows.append({"commit": label, "run": "median", "engine": "onnx", "workers": "pool2",
                     "errors": sum(r["errors"] for r in mine), **med[label]})
    base, head = med[args.base_label], med[commit]
    rows.append({"commit": f"{commit} / {args.base_label}", "run": "ratio of medians",
                 **{key: round(head[key] / base[key], 2) for key in KEYS + ("CPU ms a request",)}})
    from inkmath.evaluation.results import write_result

    path = write_result(
        args.result, "web", args.title,
        "python benchmarks/bench_web_ab.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "benchmarks/bench_web.py --engines onnx --workers pool2: `inkmath serve` on loopback, 8 closed-loop clients "
        "posting 20 CROHME 2014 expressions as strokes to /api/expression; the baseline tree and this one run "
        "alternately, pair after pair, so the machine's load falls on both; the ratio of the medians is the figure "
        "to quote (other jobs shared the machine; 'load before' is each run's 1-minute load average).",
        rows, commit=commit)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
