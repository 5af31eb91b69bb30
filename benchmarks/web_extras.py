"""What the worked steps and the graph cost a reading, side by side: why the page asks for them after the reading.

    PYTHONPATH=src INKMATH_DATA=../shared/data python benchmarks/web_extras.py [--n 12] [--repeats 3]

For the first n CROHME 2013 test expressions (validation ink, 3-30 strokes) that the reader answers (an answer of
kind other than "none"), in one process with the app's TestClient, interleaved per expression: (a) POST
/api/expression alone, (b) POST /api/expression with "steps" and "plot", (c) (a) then POST /api/solve with the read
LaTeX, "steps" and "plot" (what the page does: the reading is on screen after (a)). Reports the median time of each
over expressions and repeats and the ratios to (a); writes benchmarks/results/web-extras.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def validation_strokes(n_max: int) -> list[list]:
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml

    out = []
    for expr in iter_inkml(data_dir() / "crohme" / "crohme2011-2013_test_inkml.tar.xz", subset="TestINKMLGT"):
        strokes = [np.asarray(s, float)[:, :2].round(2).tolist() for s in expr.strokes if len(s)]
        if 3 <= len(strokes) <= 30:
            out.append(strokes)
        if len(out) >= n_max:
            break
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12, help="expressions with an answer to time (default: 12)")
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds per expression (default: 3)")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from inkmath.web.app import create_app

    client = TestClient(create_app(None, None))
    timed: dict[str, list[float]] = {"reading": [], "reading_with_extras": [], "reading_then_solve": []}
    used = 0
    for strokes in validation_strokes(args.n * 6):
        first = client.post("/api/expression", json={"strokes": strokes}).json()
        if used >= args.n:
            break
        if first.get("answer", {}).get("kind", "none") == "none":
            continue
        used += 1
        for _ in range(args.repeats):
            t = time.perf_counter()
            read = client.post("/api/expression", json={"strokes": strokes}).json()
            timed["reading"].append(time.perf_counter() - t)
            t = time.perf_counter()
            client.post("/api/expression", json={"strokes": strokes, "steps": True, "plot": True})
            timed["reading_with_extras"].append(time.perf_counter() - t)
            t = time.perf_counter()
            read = client.post("/api/expression", json={"strokes": strokes}).json()
            client.post("/api/solve", json={"latex": read["latex"], "steps": True, "plot": True})
            timed["reading_then_solve"].append(time.perf_counter() - t)
    if not used:
        print("no validation expression with an answer was found", file=sys.stderr)
        return 1
    base = statistics.median(timed["reading"])
    rows = [{"request": k, "median_ms": round(statistics.median(v) * 1000, 1),
             "ratio_to_reading": round(statistics.median(v) / base, 2), "n": len(v)} for k, v in timed.items()]
    for r in rows:
        print(f"{r['request']:22s} {r['median_ms']:8.1f} ms  x{r['ratio_to_reading']:.2f}  (n={r['n']})")
    from inkmath.evaluation.results import machine_name, source_commit

    cpu, commit = machine_name(), source_commit()
    result = {
        "table": "web", "title": "The page's reading with and without the steps and the graph",
        "command": f"python benchmarks/web_extras.py --n {args.n} --repeats {args.repeats}",
        "machine": cpu, "commit": commit, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "how": (f"{used} CROHME 2013 test expressions (validation) that get an answer, {args.repeats} interleaved rounds "
                "in one process (TestClient, default weights): the reading alone, the reading asked with steps and "
                "plot, and the reading followed by POST /api/solve with steps and plot (what the page does); medians "
                "and their ratios to the reading alone. The machine is shared: only the ratios mean something."),
        "rows": rows,
    }
    out = ROOT / "benchmarks" / "results" / "web-extras.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
