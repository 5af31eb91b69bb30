"""How reading time grows with the drawing: `recognize_strokes(solve=False)` on drawings of 50 to 400 strokes.

    INKMATH_DATA=../shared/data python benchmarks/bench_growth.py --runs 3 [--engine onnx] \
        [--baseline-src DIR --baseline-label 'main at abc1234'] [--result benchmarks/results/growth.json]

Two kinds of drawing (``growth_drawings``): real validation expressions laid out in rows on a canvas, and the issue's
random strokes of 10 points, both seeded. Each size of each kind is read ``--runs`` times in one warm process (the
classifier loaded first on ``--engine``, torch by default as in the Python API; one thread for it, BLAS and OpenCV,
as `inkmath recognize` reads); medians of wall time
and process CPU. With ``--baseline-src`` (the ``src`` of another checkout, e.g. a `git worktree` of the commit before
a change), a second process runs the same drawings with that code, call by call in turn with this one, so the
machine's load falls on both alike; the ratio of the CPU medians is reported.

The growth is the slope of log(time) against log(strokes), least squares over the sizes: n log n has a slope of 1.2
between 50 and 400 strokes (``NLOGN_SLOPE``), n^2 of 2. Written: ``--result`` (the times), its ``-2`` file (the slopes)
and a PNG of CPU time against strokes beside them (``growth.png``) with an n log n curve through the last point.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from inkmath.cli.common import limit_blas_threads  # imports neither NumPy nor OpenCV

limit_blas_threads()
sys.path.insert(0, str(Path(__file__).resolve().parent))

SIZES = (50, 100, 200, 300, 400)
KINDS = ("real expressions in rows", "random strokes of 10 points")
TARGET_SECONDS = 1.5  # issue 77: a 400-stroke drawing read in at most 1.5 s
NLOGN_SLOPE = math.log(400 * math.log(400) / (50 * math.log(50))) / math.log(400 / 50)  # 1.205


def drawing(kind: str, n: int, seed: int = 0) -> list:
    from growth_drawings import random_drawing, realistic_drawing

    return (realistic_drawing if kind == KINDS[0] else random_drawing)(n, seed)


def predictor(engine: str):
    """The shipped classifier on ``engine`` and one thread (torch: the Python API's default)."""
    from inkmath.equation.core.defaults import DEFAULT_WEIGHTS
    from inkmath.predict import load_predictor

    return load_predictor(DEFAULT_WEIGHTS, engine, 1)


def read_once(kind: str, n: int, engine: str) -> dict:
    """Wall and CPU seconds of one read of the ``kind`` drawing of ``n`` strokes, its LaTeX's length and its parts."""
    from inkmath.equation.recognize import recognize_strokes

    strokes = drawing(kind, n)
    cpu, wall = time.process_time(), time.perf_counter()
    rec = recognize_strokes(strokes, predictor(engine), solve=False)
    out = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "latex_chars": len(rec.latex)}
    try:
        from inkmath.equation.strokes.parts import cut_parts
    except ImportError:  # code from before the parts
        return out
    return dict(out, parts=sum(len(line) for line in cut_parts(strokes)))


def warm(engine: str) -> None:
    """The models loaded and used once, then the heap frozen as `inkmath serve` and `--jobs` processes freeze it
    (``gcutil``: else a full collection over the models' objects lands on whichever read triggers it, 0.3-0.4 s)."""
    from inkmath.equation.recognize import recognize_strokes
    from inkmath.gcutil import freeze_startup_heap

    recognize_strokes(drawing(KINDS[1], 12), predictor(engine), solve=False)
    recognize_strokes(drawing(KINDS[0], 12), predictor(engine), solve=False)
    freeze_startup_heap()


def worker(engine: str) -> int:
    """Read requests ``[kind, n]`` a line from stdin and answer each with ``read_once``'s JSON (``--baseline-src``)."""
    warm(engine)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        kind, n = json.loads(line)
        print(json.dumps(read_once(kind, n, engine)), flush=True)
    return 0


class Baseline:
    """This script as ``worker()`` in a process of its own, on the source tree ``src``."""

    def __init__(self, src: Path, engine: str):
        env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", "--engine", engine],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self._answer()

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the baseline worker stopped (exit {self.proc.wait()}); run it alone to see why")
        return json.loads(line)

    def read(self, kind: str, n: int) -> dict:
        self.proc.stdin.write(json.dumps([kind, n]) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def measure(sizes: list[int], runs: int, baseline: Baseline | None, engine: str) -> dict:
    """{(kind, n): {"now": [read_once...], "before": [...], "load": [...]}}, the two codes in turn, the order swapped
    every run."""
    found: dict = {}
    for run in range(runs):
        for kind in KINDS:
            for n in sizes:
                cell = found.setdefault((kind, n), {"now": [], "before": [], "load": []})
                cell["load"].append(os.getloadavg()[0])
                order = ("now", "before") if run % 2 == 0 else ("before", "now")
                for who in order:
                    if who == "now":
                        cell["now"].append(read_once(kind, n, engine))
                    elif baseline is not None:
                        cell["before"].append(baseline.read(kind, n))
                last = cell["now"][-1]
                print(f"run {run + 1} {kind} {n}: {last['wall']:.2f} s wall, {last['cpu']:.2f} s CPU"
                      + (f"; before {cell['before'][-1]['cpu']:.2f} s CPU" if cell["before"] else ""),
                      file=sys.stderr, flush=True)
    return found


def slope(ns: list[int], ts: list[float]) -> float:
    """Least-squares slope of log(t) against log(n)."""
    xs, ys = [math.log(n) for n in ns], [math.log(max(t, 1e-9)) for t in ts]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def median_of(reads: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in reads)


def time_rows(found: dict, sizes: list[int], label: str) -> list[dict]:
    rows = []
    for kind in KINDS:
        for n in sizes:
            cell = found[(kind, n)]
            row = {"drawing": kind, "strokes": n, "parts": cell["now"][0].get("parts", 1),
                   "wall s (median)": round(median_of(cell["now"], "wall"), 3),
                   "CPU s (median)": round(median_of(cell["now"], "cpu"), 3), "runs": len(cell["now"])}
            if cell["before"]:
                before = median_of(cell["before"], "cpu")
                row.update({f"{label} CPU s (median)": round(before, 3),
                            "CPU now / before": round(row["CPU s (median)"] / before, 3)})
            row["load before"] = f"{min(cell['load']):.2f}-{max(cell['load']):.2f}"
            rows.append(row)
    return rows


def slope_rows(rows: list[dict], sizes: list[int], label: str) -> list[dict]:
    out = []
    for kind in KINDS:
        mine = [r for r in rows if r["drawing"] == kind]
        ns = [r["strokes"] for r in mine]
        for what, key in (("now, CPU", "CPU s (median)"), ("now, wall", "wall s (median)"),
                          (f"{label}, CPU", f"{label} CPU s (median)")):
            if not all(key in r for r in mine):
                continue
            ts = [r[key] for r in mine]
            row = {"drawing": kind, "code, time": what, f"slope {sizes[0]}-{sizes[-1]}": round(slope(ns, ts), 2)}
            if len(ns) > 2:
                row[f"slope {ns[1]}-{ns[-1]}"] = round(slope(ns[1:], ts[1:]), 2)
            row.update({"n log n slope": round(NLOGN_SLOPE, 2), f"s at {ns[-1]}": ts[-1],
                        f"within {TARGET_SECONDS} s": ts[-1] <= TARGET_SECONDS})
            out.append(row)
    return out


def plot(rows: list[dict], path: Path, label: str) -> None:
    """Time against strokes, each kind now (and before), with n log n through each kind's first point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for kind, colour in zip(KINDS, ("tab:blue", "tab:orange")):
        mine = [r for r in rows if r["drawing"] == kind]
        ns = [r["strokes"] for r in mine]
        now = [r["CPU s (median)"] for r in mine]
        ax.plot(ns, now, "o-", color=colour, label=f"{kind}, this code")
        if all(f"{label} CPU s (median)" in r for r in mine):
            ax.plot(ns, [r[f"{label} CPU s (median)"] for r in mine], "x--", color=colour, alpha=0.6,
                    label=f"{kind}, {label}")
        scale = now[-1] / (ns[-1] * math.log(ns[-1]))
        ax.plot(ns, [scale * n * math.log(n) for n in ns], ":", color=colour, alpha=0.8,
                label=f"n log n through the {ns[-1]}-stroke point")
    ax.axhline(TARGET_SECONDS, color="grey", lw=0.8)
    ax.text(ns[0], TARGET_SECONDS * 1.03, f"{TARGET_SECONDS} s (issue 77)", color="grey", fontsize=8)
    ax.set_xlabel("strokes in the drawing")
    ax.set_ylabel("CPU seconds a read (median)")
    ax.set_title("recognize_strokes(solve=False): time against the drawing's size")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def write(args: argparse.Namespace, rows: list[dict], slopes: list[dict]) -> None:
    from inkmath.evaluation.results import write_result

    command = (f"python benchmarks/bench_growth.py --runs {args.runs}" + (f" --engine {args.engine}"
                                                                          if args.engine != "torch" else "")
               + (f" --baseline-src {args.baseline_src} --baseline-label '{args.baseline_label}'"
                  if args.baseline_src else "") + f" --result {args.result}")
    how = ("`benchmarks/bench_growth.py`: `recognize_strokes(strokes, solve=False)` with the shipped reader (the "
           "classifier on torch, the API's default, or `--engine onnx`; one thread for it, BLAS and OpenCV), warm, "
           "on seeded drawings of each size "
           "(`benchmarks/growth_drawings.py`): CROHME 2011-2013 (validation) expressions rescaled to 40 px a symbol "
           "and laid side by side in rows 1,600 px wide, 3 symbol sizes apart, the rows 2.5 apart; and random walks "
           "of 10 points (steps of about a sixth of a symbol) started anywhere on a 1,600 x 1,000 canvas. Medians of "
           f"{args.runs} reads of each drawing; 'parts': what the reader cuts the drawing into "
           "(`strokes.parts.cut_parts`). The baseline columns: the same drawings read by another source tree in a "
           "second process, call by call in turn with this one. Slopes: least squares of log(time) against "
           f"log(strokes); n log n has {NLOGN_SLOPE:.2f} from 50 to 400 strokes, n^2 2. The machine (2 cores) was "
           "shared with other work: compare within a run (load average before each read in its rows). The plot: "
           "growth.png beside this file.")
    for row in rows + slopes:
        row["engine"] = args.engine
    write_result(args.result, "speed", "Reading time against the drawing's size (issue 77)", command, how, rows,
                 plot=args.result.with_suffix(".png").name)
    write_result(args.result.with_name(args.result.stem + "-2.json"), "speed",
                 "Growth of reading time with the drawing's size: log-log slopes (issue 77)", command, how, slopes)
    plot(rows, args.result.with_suffix(".png"), args.baseline_label)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="strokes in the drawings, comma-separated")
    ap.add_argument("--runs", type=int, default=3, help="reads of each drawing")
    ap.add_argument("--baseline-src", type=Path, default=None, help="another checkout's src, read in turn")
    ap.add_argument("--baseline-label", default="before", help="its name in the rows, e.g. 'main at abc1234'")
    ap.add_argument("--engine", default="torch", choices=("torch", "onnx"), help="the classifier's engine")
    ap.add_argument("--result", type=Path, default=None, help="write result files and the plot (growth.json)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.engine)
    sizes = sorted(int(v) for v in args.sizes.split(","))
    baseline = Baseline(args.baseline_src, args.engine) if args.baseline_src else None
    warm(args.engine)
    try:
        found = measure(sizes, args.runs, baseline, args.engine)
    finally:
        if baseline is not None:
            baseline.close()
    rows = time_rows(found, sizes, args.baseline_label)
    slopes = slope_rows(rows, sizes, args.baseline_label)
    print(json.dumps({"times": rows, "slopes": slopes}, indent=1))
    if args.result:
        write(args, rows, slopes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
