"""Speed of worked solutions and graphs over the seeded corpus of school problems.

    INKMATH_DATA=/work/shared/data python benchmarks/bench_steps.py [--commands 20] [--plots 180]

Three figures, each a median over problems of the corpus (`inkmath.equation.synth.problems.school_problems(0)`):
- in-process: `solve_latex(latex, steps=True)` in a warm process (solver workers started), per problem: what a
  web request or a Python caller pays;
- whole command: `inkmath solve LATEX --steps --json` as a new process, on a sample: interpreter start and imports
  included, which is what a person at a terminal waits;
- plot: `solve_latex(latex, plot=True)` in a warm process (the graph is drawn in the solver's worker), on a sample.
Writes benchmarks/results/steps.json (and prints it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TARGET_STEPS_MS = 100.0  # the target for `inkmath solve --steps`, p50
TARGET_PLOT_MS = 300.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=20, help="problems timed as a whole `inkmath solve` command")
    ap.add_argument("--plots", type=int, default=180, help="problems timed with a graph")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "steps.json")
    args = ap.parse_args()

    from inkmath.equation.synth.problems import school_problems
    from inkmath.equation.solve.answer import start_workers, stop_workers
    from inkmath.equation.solve.typed import solve_latex

    problems = school_problems(seed=0)
    from inkmath.evaluation.results import machine_name, source_commit

    commit = source_commit()  # the code measured: taken before, not after, the run
    load_start = os.getloadavg()[0]
    start_workers()
    solve_latex("2x+1=7", steps=True, plot=True)  # warm-up: imports, caches
    per_kind: dict[str, list[float]] = {}
    times, with_steps = [], 0
    for p in problems:
        t0 = time.perf_counter()
        result = solve_latex(p.latex, steps=True)
        ms = (time.perf_counter() - t0) * 1000
        times.append(ms)
        per_kind.setdefault(p.kind, []).append(ms)
        with_steps += bool(result["answer"]["steps"])
    stride = max(1, len(problems) // max(args.plots, 1))
    plot_times, plotted = [], 0
    for p in problems[::stride][: args.plots]:
        t0 = time.perf_counter()
        result = solve_latex(p.latex, plot=True)
        plot_times.append((time.perf_counter() - t0) * 1000)
        plotted += result["answer"].get("plot") is not None
    stop_workers()
    from inkmath.equation.core.latex_parse import parse_latex
    from inkmath.equation.solve.plot import NoPlot, plot_svg, preload
    from inkmath.equation.solve.solver import solve_items as _solve_safely
    from inkmath.equation.solve.tosympy import to_sympy_lines

    preload()
    draw_cpu = []  # CPU of drawing alone, in this thread: what a graph costs when the machine is not shared
    for p in problems[::stride][: args.plots]:
        items = to_sympy_lines(parse_latex(p.latex))
        result = _solve_safely(items)  # the solver's answer with its SymPy values, which the plot marks
        t0 = time.thread_time()
        try:
            plot_svg(items, result)
        except NoPlot:
            continue
        draw_cpu.append((time.thread_time() - t0) * 1000)
    exe = shutil.which("inkmath") or str(Path(sys.executable).with_name("inkmath"))
    command_times = []
    stride = max(1, len(problems) // max(args.commands, 1))
    for p in problems[::stride][: args.commands]:
        t0 = time.perf_counter()
        done = subprocess.run([exe, "solve", "--steps", "--json", "--", p.latex], capture_output=True, text=True,
                              timeout=120)
        command_times.append((time.perf_counter() - t0) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"inkmath solve failed on {p.latex!r}: {done.stderr[-500:]}")
    cpu = machine_name()
    rows = [
        {"measure": "solve_latex(steps=True), in-process, warm", "problems": len(times),
         "p50_ms": round(statistics.median(times), 1), "p90_ms": round(_pct(times, 0.9), 1),
         "target_ms": TARGET_STEPS_MS},
        *[{"measure": f"  of which {kind}", "problems": len(v), "p50_ms": round(statistics.median(v), 1),
           "p90_ms": round(_pct(v, 0.9), 1)} for kind, v in per_kind.items()],
        {"measure": "inkmath solve --steps --json, whole command (new process)", "problems": len(command_times),
         "p50_ms": round(statistics.median(command_times), 1), "p90_ms": round(_pct(command_times, 0.9), 1),
         "target_ms": TARGET_STEPS_MS},
        {"measure": "solve_latex(plot=True), warm (graph drawn in the solver worker)", "problems": len(plot_times),
         "p50_ms": round(statistics.median(plot_times), 1), "p90_ms": round(_pct(plot_times, 0.9), 1),
         "target_ms": TARGET_PLOT_MS, "with_graph": plotted},
        {"measure": "plot_svg CPU time in-process (drawing alone, thread CPU)", "problems": len(draw_cpu),
         "p50_ms": round(statistics.median(draw_cpu), 1), "p90_ms": round(_pct(draw_cpu, 0.9), 1),
         "target_ms": TARGET_PLOT_MS},
        {"measure": "share of problems with steps", "problems": len(problems),
         "value": round(with_steps / len(problems), 4)},
    ]
    result = {
        "table": "steps", "title": "Worked solutions and graphs: time per problem of the school corpus",
        "command": "INKMATH_DATA=/work/shared/data python benchmarks/bench_steps.py",
        "machine": cpu, "commit": commit, "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "how": (f"Seeded corpus school_problems(0), {len(problems)} problems in {len(per_kind)} kinds. In-process: "
                "wall time of solve_latex(latex, steps=True) per problem in one warm process (solver workers started, "
                "one warm-up call); cheap input is answered in-process, the rest in the worker. Whole command: a new "
                "`inkmath solve LATEX --steps --json` process per problem (interpreter start, imports of SymPy, "
                "the answer), on an evenly spaced sample. Plot: solve_latex(latex, plot=True), drawn in the worker "
                f"process; plot CPU: thread CPU time of plot_svg alone in this process, which the load inflates much less "
                f"than wall time. The machine has 2 cores and may be shared: load average {load_start:.1f} at the "
                f"start, {os.getloadavg()[0]:.1f} at the end; above 2, times are inflated."),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
