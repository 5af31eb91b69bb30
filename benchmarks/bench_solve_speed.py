"""Speed of `inkmath solve --steps` and of its graph over the seeded school corpus, measured four ways in one run.

    INKMATH_DATA=/work/shared/data python benchmarks/bench_solve_speed.py [--cold 30] [--plots 90]
        [--baseline-src DIR]

The issue asks "`inkmath solve --steps` p50 <= 100 ms for the corpus (the plot separately <= 300 ms)", which can be
read four ways; each gets its rows, steps and graph alike:
- whole command, once over the corpus: `inkmath solve --steps --json -` fed every problem on stdin; per problem,
  the time between its answer line and the one before (the first problem's line counts as the start-up row);
- cold: one new `inkmath solve --steps --json -- LATEX` process per problem, on an evenly spaced sample, timed from
  start to exit (with `--baseline-src`, the same problems with another source tree, e.g. the code before a change,
  run in turn with these: A B A B ...);
- in-process: `solve_latex(latex, steps=True)` in this warm process (solver workers started), per problem;
- HTTP: `POST /api/solve {"latex", "steps": true}` through FastAPI's TestClient (the app in this process, no socket).
Graphs: the same four ways with `--plot` / `plot=True` on every `len/--plots`-th problem (cold: on the cold sample).
Writes benchmarks/results/steps-2.json (the results page's "steps" table) and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "steps-2.json"
TARGET_STEPS_MS = 100.0  # the target for `inkmath solve --steps`, p50
TARGET_PLOT_MS = 300.0  # and for the graph


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(measure: str, way: str, values: list[float], target: float, **more) -> dict:
    return {"measure": measure, "way": way, "problems": len(values), "p50_ms": round(statistics.median(values), 1),
            "p90_ms": round(_pct(values, 0.9), 1), "target_ms": target, **more}


def _env(src: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


def whole_command(exe: str, latexes: list[str], extra: list[str], env: dict) -> tuple[float, list[float], float]:
    """One `inkmath solve --json EXTRA -` over all problems: (ms to the first answer, ms between answers, total)."""
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([exe, "solve", "--json", *extra, "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, text=True, env=env)
        proc.stdin.write("".join(f"{latex}\n" for latex in latexes))
        proc.stdin.close()
        arrivals = []
        for line in proc.stdout:
            arrivals.append(time.perf_counter())
            if "answer" not in json.loads(line):
                raise SystemExit(f"inkmath solve could not read a corpus problem: {line[:300]}")
        proc.wait()
        total = (time.perf_counter() - t0) * 1000
        err.seek(0)
        if proc.returncode != 0 or len(arrivals) != len(latexes):
            raise SystemExit(f"inkmath solve {' '.join(extra)} -: exit {proc.returncode}, {len(arrivals)} of "
                             f"{len(latexes)} answers; {err.read()[-500:]}")
    gaps = [(b - a) * 1000 for a, b in zip(arrivals, arrivals[1:])]
    return (arrivals[0] - t0) * 1000, gaps, total


def cold(exe: str, latex: str, extra: list[str], env: dict) -> float:
    """ms from starting `inkmath solve --json EXTRA -- LATEX` to its exit."""
    t0 = time.perf_counter()
    done = subprocess.run([exe, "solve", "--json", *extra, "--", latex], capture_output=True, text=True, env=env,
                          timeout=120)
    ms = (time.perf_counter() - t0) * 1000
    if done.returncode != 0 or "answer" not in json.loads(done.stdout.splitlines()[0]):
        raise SystemExit(f"inkmath solve failed on {latex!r}: {done.stderr[-500:]}")
    return ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=int, default=30, help="problems timed as one new process each")
    ap.add_argument("--plots", type=int, default=90, help="problems timed with a graph (the other ways)")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="a second source tree (its src/ folder) timed cold beside this one, e.g. the code before")
    ap.add_argument("--baseline-label", default="baseline", help="its name in the rows, e.g. 'main at 83fcb3c'")
    ap.add_argument("--problems", type=int, default=None, help="only the first N of the corpus (a quick trial)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    from inkmath.equation.problems import school_problems
    from inkmath.evaluation.results import source_commit, write_result

    src = ROOT / "src"
    commit = source_commit()  # the code measured: taken before, not after, the run
    problems = [p.latex for p in school_problems(seed=0)][: args.problems]
    plot_sample = problems[:: max(1, len(problems) // args.plots)][: args.plots]
    cold_sample = problems[:: max(1, len(problems) // args.cold)][: args.cold]
    exe = shutil.which("inkmath") or str(Path(sys.executable).with_name("inkmath"))
    load_start = os.getloadavg()[0]
    rows = []
    out_dir = Path(tempfile.mkdtemp(prefix="inkmath-bench-"))

    # 1. the whole command, once over the corpus (steps), once over the plot sample (graphs)
    first, gaps, total = whole_command(exe, problems, ["--steps"], _env(src))
    rows.append(_row("steps", "whole command over the corpus: between answers", gaps, TARGET_STEPS_MS))
    rows.append({"measure": "steps", "way": "whole command over the corpus: start-up (start to 1st answer)",
                 "problems": 1, "p50_ms": round(first, 1), "total_s": round(total / 1000, 2)})
    first_plot, plot_gaps, plot_total = whole_command(exe, plot_sample, ["--plot", str(out_dir / "g.svg")], _env(src))
    rows.append(_row("plot", "whole command over the plot sample: between answers", plot_gaps, TARGET_PLOT_MS))
    rows.append({"measure": "plot", "way": "whole command over the plot sample: start-up (start to 1st answer)",
                 "problems": 1, "p50_ms": round(first_plot, 1), "total_s": round(plot_total / 1000, 2)})

    # 2. cold: one process per problem, this code and (in turn) the baseline
    for measure, extra, target in (("steps", ["--steps"], TARGET_STEPS_MS),
                                   ("plot", ["--plot", str(out_dir / "c.svg")], TARGET_PLOT_MS)):
        ours, theirs = [], []
        for latex in cold_sample:
            ours.append(cold(exe, latex, extra, _env(src)))
            if args.baseline_src:
                theirs.append(cold(exe, latex, extra, _env(args.baseline_src)))
        rows.append(_row(measure, "cold: one new process per problem, start to exit", ours, target))
        if theirs:
            rows.append(_row(measure, f"cold, {args.baseline_label}, in turn with the above",
                             theirs, target, ratio_p50=round(statistics.median(ours) / statistics.median(theirs), 3)))

    # 3. in-process and 4. HTTP, in this warm process (the app runs here, on the same solver workers)
    from inkmath.equation.solve import start_workers, stop_workers
    from inkmath.equation.typed import solve_latex

    start_workers()
    solve_latex("2x+1=7", steps=True, plot=True)  # warm-up: imports, caches
    for measure, sample, flags, target in (("steps", problems, {"steps": True}, TARGET_STEPS_MS),
                                           ("plot", plot_sample, {"plot": True}, TARGET_PLOT_MS)):
        times = []
        for latex in sample:
            t0 = time.perf_counter()
            solve_latex(latex, **flags)
            times.append((time.perf_counter() - t0) * 1000)
        rows.append(_row(measure, "in-process: solve_latex(), warm workers", times, target))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from inkmath.web.app import create_app

    with TestClient(create_app()) as client:
        client.post("/api/solve", json={"latex": "2x+1=7", "steps": True, "plot": True})
        for measure, sample, flags, target in (("steps", problems, {"steps": True}, TARGET_STEPS_MS),
                                               ("plot", plot_sample, {"plot": True}, TARGET_PLOT_MS)):
            times = []
            for latex in sample:
                t0 = time.perf_counter()
                r = client.post("/api/solve", json={"latex": latex, **flags})
                times.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"POST /api/solve {latex!r}: {r.status_code} {r.text[:300]}")
            rows.append(_row(measure, "HTTP: POST /api/solve through TestClient (app in this process)", times, target))
    stop_workers()
    shutil.rmtree(out_dir, ignore_errors=True)

    how = (f"Seeded corpus school_problems(0): {len(problems)} problems; graphs on every "
           f"{len(problems) // len(plot_sample)}-th ({len(plot_sample)}), cold runs on every "
           f"{len(problems) // len(cold_sample)}-th ({len(cold_sample)}). Whole command: one `inkmath solve --json "
           "--steps -` (or `--plot F`) process fed the problems on stdin; a row's time is the gap between an answer "
           "line and the one before, read as the lines arrive; its first answer (interpreter start, imports, worker "
           "start, first problem) is the start-up row. Cold: a new `inkmath solve --json --steps -- LATEX` process "
           "per problem, start to exit" + (", alternating with the baseline source tree" if args.baseline_src else "")
           + ". In-process: solve_latex() in this process with the solver workers started and warmed. HTTP: POST "
           "/api/solve through FastAPI's TestClient (the app in this process, no network). All in one run, in "
           f"this order; shared 2-core machine, load average {load_start:.1f} at the start and "
           f"{os.getloadavg()[0]:.1f} at the end, so absolute times are inflated; compare rows of one run.")
    command = "INKMATH_DATA=/work/shared/data python benchmarks/bench_solve_speed.py" + (
        f" --baseline-src {args.baseline_src} --baseline-label '{args.baseline_label}'" if args.baseline_src else "")
    path = write_result(args.out, "steps", "Worked solutions and graphs: inkmath solve measured four ways", command,
                        how, rows, commit=commit)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
