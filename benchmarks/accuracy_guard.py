"""The readings of this tree against an earlier commit's: validation strokes, WAP-like validation images, 2014 test.

    INKMATH_DATA=../shared/data python benchmarks/accuracy_guard.py --base-tree /tmp/base --base-label 48bda56 \
        [--jobs 2] [--result benchmarks/results/accuracy-guard.json]

A speed change must not lose readings (issue 77: validation strokes and WAP-like images within 0.3 points of the
commit before, and the 2014 test unchanged within 0.3 points). ``--base-tree`` is the earlier commit's tree (``git
archive COMMIT | tar -x -C DIR``); each tree reads with its own source first on the path:

- ``inkmath crohme-eval val``: the CROHME 2011-2013 test ink (validation), from strokes;
- ``benchmarks/wap_val.py``: the same ink drawn like the WAP bitmaps (the image path's validation);
- ``inkmath crohme-eval test``: the CROHME 2014 test ink, from strokes (reported, never tuned on).

Each writes its per-expression rows (``--details``); reported per set and side: expressions read right, and how many
readings and confidences differ between the two trees. ``--jobs 2`` runs the two trees side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import add_base_tree, checked_base_tree, write_rows

ROOT = Path(__file__).resolve().parents[1]
SETS = {  # name: (what it is, the command in the tree read)
    "val": ("CROHME 2011-2013 test (validation), strokes", ["-m", "inkmath", "crohme-eval", "val", "--json"]),
    "wap-val": ("CROHME 2011-2013 test drawn WAP-like (validation), images", ["benchmarks/wap_val.py", "--json"]),
    "test": ("CROHME 2014 test, strokes", ["-m", "inkmath", "crohme-eval", "test", "--json"]),
}


def read_set(tree: Path, name: str, folder: Path) -> dict[str, dict]:
    """Per-expression rows (by id) of one set read by ``tree``."""
    details = folder / f"{name}-{abs(hash(str(tree)))}.jsonl"
    env = dict(os.environ, PYTHONPATH=str(tree / "src"), OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, *SETS[name][1], "--details", str(details)], cwd=tree, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0 or not details.is_file():
        raise SystemExit(f"{tree}: {name} failed: {run.stderr.strip()[-500:]}")
    return {r["id"]: r for r in map(json.loads, details.read_text().splitlines())}


def read_tree(tree: Path, folder: Path) -> dict[str, dict[str, dict]]:
    return {name: read_set(tree, name, folder) for name in SETS}


def compare(base: dict[str, dict], head: dict[str, dict]) -> dict:
    right = lambda rows: sum(r["distance"] == 0 for r in rows.values())  # noqa: E731
    n = len(base)
    return {"expressions": n, "right before": right(base), "right now": right(head),
            "points": round(100 * (right(head) - right(base)) / max(1, n), 2),
            "readings that differ": sum(base[k]["pred"] != head.get(k, {}).get("pred") for k in base),
            "confidences that differ": sum(base[k]["confidence"] != head.get(k, {}).get("confidence") for k in base),
            "differing ids": ", ".join([k for k in base if base[k]["pred"] != head.get(k, {}).get("pred")][:10])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_base_tree(ap)
    ap.add_argument("--jobs", type=int, default=1, choices=(1, 2), help="2: the two trees read side by side")
    ap.add_argument("--result", type=Path, default=None, help="write the comparison as a results file")
    args = ap.parse_args(argv)
    checked_base_tree(args.base_tree)
    with tempfile.TemporaryDirectory(prefix="accuracy-guard-") as tmp:
        folder = Path(tmp)
        with ThreadPoolExecutor(args.jobs) as pool:
            base, head = pool.map(lambda tree: read_tree(tree, folder), [args.base_tree, ROOT])
    rows = [{"test set": SETS[name][0], "before": args.base_label, **compare(base[name], head[name])} for name in SETS]
    for row in rows:
        print(json.dumps(row))
    if args.result:
        write_rows(args.result, "accuracy_guard.py", argv, "expressions",
                   f"Readings against {args.base_label}: the accuracy guard of a speed change",
                   "benchmarks/accuracy_guard.py: each tree reads the three sets with its own source (crohme-eval val, "
                   "wap_val.py, crohme-eval test, --details); expressions read right (token distance 0) on each side, "
                   "the change in points, and the readings and confidences that differ between the two trees, "
                   "expression by expression.", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
