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

    INKMATH_DATA=/work/shared/data python benchmarks/bench_solve_speed.py --resident [--first 5] [--cold 30]
        [--plots 90]

`--resident` measures instead one `inkmath solve --steps --json -- LATEX` process per problem with the resident
solver (inkmath.cli.solver_client) in a private runtime folder, and writes benchmarks/results/steps-3.json:
- the floor: `python -c pass`, and Python's start plus the imports of the command's path to the solver;
- the first command, no solver running, `--first` times each way, in turn: it starts the solver and waits for
  its answer (what the command does), or it solves in its own process while a solver starts beside it (the
  other choice, measured as `inkmath solver start` and `inkmath solve --no-daemon` started together);
- warm: every problem of the corpus as its own process, then `--plot F` on the plot sample;
- side by side on the cold sample, in turn: a new process solving in-process (`--no-daemon`) and one asking the
  warm solver.
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
OUT_RESIDENT = ROOT / "benchmarks" / "results" / "steps-3.json"
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


_CPU: list[float] = []  # CPU ms (user + system) of each process `_timed` ran, in order


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _proc_cpu(pids: list[int]) -> float:
    """CPU ms (user + system) used so far by these processes (Linux /proc), 0 for one that is gone."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    return total


def _timed(argv: list[str], env: dict, check_answer: bool = True) -> float:
    """ms from starting `argv` to its exit; it must succeed, and (a solve) print answers without a fallback note.
    Its CPU time goes to `_CPU`."""
    cpu = _children_cpu()
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    ms = (time.perf_counter() - t0) * 1000
    _CPU.append(_children_cpu() - cpu)
    if done.returncode != 0 or "note:" in done.stderr:
        raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}; {done.stderr[-500:]}")
    if check_answer and "answer" not in json.loads(done.stdout.splitlines()[0]):
        raise SystemExit(f"{' '.join(argv)}: no answer: {done.stdout[:300]}")
    return ms


def _cpu_p50(count: int) -> float:
    """p50 of the CPU ms of the last `count` processes `_timed` ran."""
    return round(statistics.median(_CPU[-count:]), 1)


def resident(args: argparse.Namespace, exe: str, problems: list[str], plot_sample: list[str],
             cold_sample: list[str]) -> tuple[list[dict], str]:
    """The rows of `--resident` (see the module's docstring) and the paragraph that says how they were measured."""
    rows = []
    runtime = Path(tempfile.mkdtemp(prefix="ink-bench-", dir="/tmp"))  # short: a socket path holds ~100 bytes
    out_dir = Path(tempfile.mkdtemp(prefix="inkmath-bench-"))
    env = {**_env(ROOT / "src"), "INKMATH_RUNTIME_DIR": str(runtime), "INKMATH_SOLVER": "resident"}
    # as installed: Python reads its bytecode cache (an environment that turns it off compiles each module anew)
    shutil.copytree(ROOT / "src", runtime / "src", ignore=shutil.ignore_patterns("__pycache__"))
    no_cache = {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(runtime / "src")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    solve = [exe, "solve", "--steps", "--json", "--"]
    stop = [exe, "solver", "stop"]
    py = str(Path(exe).with_name("python"))
    loads = [os.getloadavg()[0]]
    try:
        # the floor: an interpreter, and an interpreter that imports what the command needs before it connects
        client = "import inkmath.cli, inkmath.cli.recognize, inkmath.cli.solver_client"
        _timed([py, "-c", client], env, check_answer=False)  # writes the bytecode cache of these modules
        for label, argv, environ in (
                ("python -c pass", [py, "-c", "pass"], env),
                ("python start + imports of the command's path to the solver", [py, "-c", client], env),
                ("the same, inkmath without bytecode cache (a copy without __pycache__, PYTHONDONTWRITEBYTECODE=1)",
                 [py, "-c", client],
                 no_cache)):
            times = [_timed(argv, environ, check_answer=False) for _ in range(20)]
            rows.append(_row("floor", label, times, TARGET_STEPS_MS, cpu_p50_ms=_cpu_p50(len(times))))

        # the first command: no solver runs (stopped before each), the two ways in turn
        waits, itself = [], []
        for k in range(args.first):
            latex = cold_sample[k % len(cold_sample)]
            subprocess.run(stop, env=env, capture_output=True, timeout=60)
            waits.append(_timed(solve + [latex], env))
            subprocess.run(stop, env=env, capture_output=True, timeout=60)
            starter = subprocess.Popen([exe, "solver", "start"], env=env, stdout=subprocess.DEVNULL)
            ms = _timed([exe, "solve", "--no-daemon", "--steps", "--json", "--", latex], env)
            itself.append(ms)
            starter.wait(120)
        rows.append(_row("steps", "first command, no solver running: it starts one and waits for its answer (kept)",
                         waits, TARGET_STEPS_MS))
        rows.append(_row("steps", "first command, no solver running: it answers itself while a solver starts "
                                  "(not kept; measured as solve --no-daemon beside solver start)", itself,
                         TARGET_STEPS_MS))

        # warm: wait for the solver's warm-up, then one process per problem over the corpus, then graphs
        subprocess.run([exe, "solver", "start"], env=env, capture_output=True, timeout=120, check=True)
        for _ in range(1200):
            status = json.loads(subprocess.run([exe, "solver", "status", "--json"], env=env, capture_output=True,
                                               text=True, timeout=60).stdout)
            if status.get("warm"):
                break
            time.sleep(0.1)
        loads.append(os.getloadavg()[0])
        solver_pids = [status["pid"], *status["workers"]]
        solver_cpu = _proc_cpu(solver_pids)
        times = [_timed(solve + [latex], env) for latex in problems]
        solver_cpu = _proc_cpu(solver_pids) - solver_cpu
        rows.append(_row("steps", "one process per problem, resident solver warm: start to exit", times,
                         TARGET_STEPS_MS, cpu_p50_ms=_cpu_p50(len(times)),
                         solver_cpu_mean_ms=round(solver_cpu / len(times), 1)))
        loads.append(os.getloadavg()[0])
        graph = str(out_dir / "g.svg")
        times = [_timed([exe, "solve", "--json", "--plot", graph, "--", latex], env) for latex in plot_sample]
        rows.append(_row("plot", "one process per problem with --plot, resident solver warm: start to exit", times,
                         TARGET_PLOT_MS, cpu_p50_ms=_cpu_p50(len(times))))

        # side by side, in turn: in-process (a new process, no solver) and resident
        inline, ours = [], []
        inline_cpu, ours_cpu = [], []
        for latex in cold_sample:
            inline.append(_timed([exe, "solve", "--no-daemon", "--steps", "--json", "--", latex], env))
            inline_cpu.append(_CPU[-1])
            ours.append(_timed(solve + [latex], env))
            ours_cpu.append(_CPU[-1])
        rows.append(_row("steps", "in turn with the next row: a new process solving in-process (--no-daemon)",
                         inline, TARGET_STEPS_MS, cpu_p50_ms=round(statistics.median(inline_cpu), 1)))
        rows.append(_row("steps", "in turn with the row above: a new process asking the warm resident solver",
                         ours, TARGET_STEPS_MS, ratio_p50=round(statistics.median(ours) / statistics.median(inline), 3),
                         cpu_p50_ms=round(statistics.median(ours_cpu), 1)))
        loads.append(os.getloadavg()[0])
    finally:
        subprocess.run(stop, env=env, capture_output=True, timeout=60)
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
    how = (f"Seeded corpus school_problems(0): {len(problems)} problems; graphs on every "
           f"{len(problems) // len(plot_sample)}-th ({len(plot_sample)}); side by side on every "
           f"{len(problems) // len(cold_sample)}-th ({len(cold_sample)}). Every figure is one new process, timed "
           "from its start to its exit by this script: `inkmath solve --steps --json -- LATEX` (graphs: `--json "
           "--plot F`), with the resident solver in a private runtime folder (INKMATH_RUNTIME_DIR), Python's "
           "bytecode cache on (as installed; one floor row shows it off). Floor: 20 runs each. First command: the "
           "solver stopped before each run, the two ways in turn, "
           f"{args.first} runs each. Warm rows: after the solver's warm-up problems. cpu_p50_ms: the command "
           "process's own CPU time (user + system; with --no-daemon it includes its solver worker); "
           "solver_cpu_mean_ms: the resident solver's and its workers' CPU time over the corpus, per problem. "
           "Shared 2-core machine, load "
           "average " + ", ".join(f"{x:.1f}" for x in loads) + " (start, before and after the corpus, end), "
           "so absolute times are inflated; compare rows of one run.")
    return rows, how


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=int, default=30, help="problems timed as one new process each")
    ap.add_argument("--plots", type=int, default=90, help="problems timed with a graph (the other ways)")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="a second source tree (its src/ folder) timed cold beside this one, e.g. the code before")
    ap.add_argument("--baseline-label", default="baseline", help="its name in the rows, e.g. 'main at 83fcb3c'")
    ap.add_argument("--problems", type=int, default=None, help="only the first N of the corpus (a quick trial)")
    ap.add_argument("--resident", action="store_true",
                    help="measure one process per problem with the resident solver instead (writes steps-3.json)")
    ap.add_argument("--first", type=int, default=5, help="with --resident: first commands timed each way")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from inkmath.equation.synth.problems import school_problems
    from inkmath.evaluation.results import source_commit, write_result

    src = ROOT / "src"
    commit = source_commit()  # the code measured: taken before, not after, the run
    problems = [p.latex for p in school_problems(seed=0)][: args.problems]
    plot_sample = problems[:: max(1, len(problems) // args.plots)][: args.plots]
    cold_sample = problems[:: max(1, len(problems) // args.cold)][: args.cold]
    exe = shutil.which("inkmath") or str(Path(sys.executable).with_name("inkmath"))
    if args.resident:
        rows, how = resident(args, exe, problems, plot_sample, cold_sample)
        command = "INKMATH_DATA=/work/shared/data python benchmarks/bench_solve_speed.py --resident" + (
            f" --first {args.first}" if args.first != 5 else "")
        path = write_result(args.out or OUT_RESIDENT, "steps", "inkmath solve as one process per problem, with "
                            "the resident solver", command, how, rows, commit=commit)
        print(path.read_text())
        return 0
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
    from inkmath.equation.solve.answer import start_workers, stop_workers
    from inkmath.equation.solve.typed import solve_latex

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
    path = write_result(args.out or OUT, "steps", "Worked solutions and graphs: inkmath solve measured four ways", command,
                        how, rows, commit=commit)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
