"""Per-call latency of `inkmath.equation.solve.answer.answer`: fork per call (a git revision's solve.py) vs. the worker
pool with its in-process fast path, side by side in one run so both see the same machine load.

    INKMATH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_solve.py --calls 20 \
        --out benchmarks/results/solve.md

Columns: "before" = fork per call (solve.py at --before, default the first commit, run in a separate baseline
process), "after" = the current module as shipped, "worker only" = the current module with the fast path switched
off (every call is a worker round trip). Calls are interleaved (before, after, worker only, next case, ...) and
each case is called once before timing (warm SymPy caches and lazy imports everywhere).

Coverage: every problem of the seeded school corpus (`inkmath.equation.synth.problems.school_problems(0)`), typed LaTeX
parsed and answered as shipped; per kind, how many get an answer (kind other than "none"), how many the fast path
takes, and the median (p90) wall time of the call.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from inkmath import InkmathError
from inkmath.equation.solve import answer as solve
from inkmath.equation.solve import fast as solve_fast
from inkmath.equation.core.tree import Frac, Lines, Row, Sup, Symbol

ROOT = Path(__file__).resolve().parents[1]


def row(text: str, *extra: Any) -> Row:
    return Row([Symbol(t) for t in text.split()] + list(extra))


CASES = {
    "3x+5=11": row("3 x + 5 = 1 1"),
    "x^2-5x+6=0": Row([Sup(Symbol("x"), row("2")), *row("- 5 x + 6 = 0").items]),
    "\\frac{1}{2}+\\frac{1}{3}": Row([Frac(row("1"), row("2")), Symbol("+"), Frac(row("1"), row("3"))]),
    "x+y=3, x-y=1 (2 lines)": Lines([row("x + y = 3"), row("x - y = 1")]),
    "\\sin(x)=\\frac{1}{2}": Row([*row("\\sin ( x ) =").items, Frac(row("1"), row("2"))]),
}


def load_before(rev: str) -> Any:
    """solve.py as it was at `rev`, imported as its own module (it uses the current tosympy/latex/tree)."""
    text = subprocess.run(["git", "show", f"{rev}:src/inkmath/equation/solve/answer.py"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "solve_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("inkmath_solve_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve_before(rev: str) -> int:
    """Baseline process: time the fork-per-call solver on request (one JSON object per line on stdin/stdout).

    It runs apart from the measuring process because every fork write-protects the forking process's memory:
    "after" calls in the same process would pay thousands of copy-on-write faults that production never sees.
    """
    before = load_before(rev)
    for line in sys.stdin:
        request = json.loads(line)
        if "case" in request:
            ms, result = timed(lambda: before.answer(CASES[request["case"]]))
            reply: dict[str, Any] = {"ms": ms, "text": result["text"]}
        else:
            reply = {"latencies": concurrent(before.answer, *request["concurrent"])}
        print(json.dumps(reply), flush=True)
    return 0


class Baseline:
    """The measuring side of `serve_before`."""

    def __init__(self, rev: str) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve-before", rev], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def timed(fn: Callable[[], dict]) -> tuple[float, dict]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def timed_cpu(fn: Callable[[], dict]) -> tuple[float, float]:
    """(wall ms, CPU ms of the calling thread): on a loaded machine an in-process call of 3 ms CPU can wait tens
    of ms for a core, so the CPU figure says what the call costs on an idle one."""
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


def worker_only(tree: Row) -> dict:
    return solve.answer(tree, config=solve.SolveConfig(fast_path=False))


def concurrent(fn: Callable[[Row], dict], clients: int, calls: int) -> list[float]:
    """Latencies (ms) of `clients` threads each making `calls` calls over the cases, all at once."""
    trees = list(CASES.values())
    out: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(k: int) -> None:
        barrier.wait()
        for i in range(calls):
            ms, _ = timed(lambda: fn(trees[(k + i) % len(trees)]))
            with lock:
                out.append(ms)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def coverage() -> list[str]:
    """Markdown rows: per kind of the school corpus, problems, answered, by the fast path, median (p90) ms."""
    from inkmath.equation.core.latex_parse import parse_latex
    from inkmath.equation.synth.problems import school_problems

    by_kind: dict[str, list[tuple[bool, bool, float]]] = {}
    for problem in school_problems(0):
        tree = parse_latex(problem.latex)
        try:
            fast = solve_fast.is_cheap(solve.to_sympy_lines(tree))
        except InkmathError:  # answered "none" with the reason
            fast = False
        ms, result = timed(lambda: solve.answer(tree))
        by_kind.setdefault(problem.kind, []).append((result["kind"] != "none", fast, ms))
    by_kind["all"] = [r for rows in list(by_kind.values()) for r in rows]
    lines = []
    for kind, rows in by_kind.items():
        ms = [r[2] for r in rows]
        lines.append(f"| {kind} | {len(rows)} | {sum(r[0] for r in rows)} | {sum(r[1] for r in rows)} | "
                     f"{statistics.median(ms):.1f} ({pct(ms, 0.9):.1f}) |")
    return lines


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--before", default="517f882", help="git revision whose solve.py forks per call")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--concurrent-calls", type=int, default=5, help="calls per client in the concurrency run")
    ap.add_argument("--out", type=Path, default=None, help="write the Markdown table here (atomically)")
    ap.add_argument("--serve-before", metavar="REV", help=argparse.SUPPRESS)  # internal: the baseline process
    args = ap.parse_args()
    if args.serve_before:
        return serve_before(args.serve_before)

    baseline = Baseline(args.before)
    start = time.perf_counter()
    solve.start_workers(solve.SOLVE_WORKERS)  # as a server does at start-up: the timed calls find them warm
    cold_ms = (time.perf_counter() - start) * 1000
    runners = {"after": solve.answer, "worker only": worker_only}
    columns = ("before", *runners)
    times: dict[str, dict[str, list[float]]] = {name: {r: [] for r in columns} for name in CASES}
    cpu_after: dict[str, list[float]] = {name: [] for name in CASES}
    cpu_work: dict[str, list[float]] = {name: [] for name in CASES}
    for name, tree in CASES.items():  # warm-up, and check that both give the same answer
        answers = {r: fn(tree)["text"] for r, fn in runners.items()}
        answers["before"] = baseline.ask({"case": name})["text"]
        if len(set(answers.values())) != 1:
            raise SystemExit(f"answers differ for {name}: {answers}")
    for _ in range(args.calls):
        for name, tree in CASES.items():
            times[name]["before"].append(baseline.ask({"case": name})["ms"])
            for r, fn in runners.items():
                wall_ms, cpu_ms = timed_cpu(lambda: fn(tree))
                times[name][r].append(wall_ms)
                if r == "after":
                    cpu_after[name].append(cpu_ms)
            cpu_work[name].append(timed_cpu(lambda: solve.answer(tree, timeout=None))[1])
    # What the call after a timeout pays: no live worker, so it starts one (then solves).
    solve.stop_workers()
    restart_ms, _ = timed(lambda: worker_only(CASES["\\sin(x)=\\frac{1}{2}"]))
    solve.start_workers(solve.SOLVE_WORKERS)
    conc = {"before (fork)": baseline.ask({"concurrent": [args.clients, args.concurrent_calls]})["latencies"],
            "after": concurrent(solve.answer, args.clients, args.concurrent_calls)}
    baseline.close()
    covered = coverage()

    cpu = next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True,
                text=True).stdout.splitlines() if line.startswith("Model name")), "unknown")
    load = os.getloadavg()
    lines = [
        "# Solver latency: fork per call vs. worker pool + fast path",
        "",
        f"Command: `INKMATH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_solve.py --calls {args.calls}"
        f" --out benchmarks/results/solve.md`",
        "",
        f"Machine: {cpu}, {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(shared with training runs), Python " + sys.version.split()[0] + ".",
        "",
        f"Median (p90) wall time per `answer(tree)` call in ms, {args.calls} interleaved calls per cell, after one"
        " warm-up call. before = fork per call (`solve.py` at " + args.before + "); after = as shipped (cheap input"
        " in-process, the rest in the persistent worker); worker only = the fast path switched off. The baseline"
        " runs in its own process, so its forks do not slow the measuring process (copy-on-write faults). CPU"
        " columns (medians): the calling thread's CPU time in \"after\" (the fast path's whole cost; for the worker"
        " path, the parent's share: conversion, pickling, waiting) and the CPU time of the same work done"
        " in-process (`answer(tree, timeout=None)`), i.e. what SymPy itself needs. Wall times include waiting for"
        " a core on this shared machine.",
        "",
        "| input | path taken | before (fork) | after | worker only | before / after | after: caller CPU ms | "
        "SymPy CPU ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, tree in CASES.items():
        path = "fast path" if solve_fast.is_cheap(solve.to_sympy_lines(tree)) else "worker"
        cells = [f"{statistics.median(times[name][r]):.1f} ({pct(times[name][r], 0.9):.1f})" for r in columns]
        cells.append(f"{statistics.median(times[name]['before']) / statistics.median(times[name]['after']):.1f}x")
        cells.append(f"{statistics.median(cpu_after[name]):.2f}")
        cells.append(f"{statistics.median(cpu_work[name]):.2f}")
        lines.append(f"| `{name}` | {path} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Start-up of the {solve.SOLVE_WORKERS} workers in parallel (`start_workers()`; each a fresh interpreter"
        f" importing SymPy): {cold_ms:.0f} ms. A worker call with no live worker (the first call without"
        f" `start_workers()`, or the call after a timeout killed the worker): {restart_ms:.0f} ms.",
        "",
        f"Concurrency: {args.clients} threads at once, {args.concurrent_calls} calls each over the five inputs "
        f"({args.clients * args.concurrent_calls} calls):",
        "",
        "| solver | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for r, values in conc.items():
        lines.append(f"| {r} | {pct(values, 0.5):.1f} | {pct(values, 0.99):.1f} | {max(values):.1f} |")
    lines += [
        "",
        "Coverage: every problem of the seeded school corpus (`school_problems(0)`), typed LaTeX answered as shipped"
        " (workers warm); wall time per call in ms:",
        "",
        "| kind | problems | answered | fast path | median (p90) ms |",
        "|---|---:|---:|---:|---:|",
        *covered,
        "",
        "Reading the tables: the fast path's wall time is its CPU time whenever the process gets a core, and it",
        "needs no other process to be scheduled. A worker call costs the SymPy CPU time plus two process wake-ups;",
        "on a machine with a load average far above its core count each wake-up waits for a core, which is most of",
        "the worker path's wall time here (compare \"worker only\" with the SymPy CPU column). The concurrency",
        "p99 is the worker-path calls queued behind each other on the two workers under that load.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from common import write_json_results

        print(*write_json_results(args.out, f"python benchmarks/bench_solve.py --calls {args.calls} --out {args.out}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
