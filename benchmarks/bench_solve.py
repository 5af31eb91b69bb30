"""Per-call latency of `inkmath.equation.solve.answer`: fork per call (a git revision's solve.py) vs. the worker
pool with its in-process fast path, side by side in one run so both see the same machine load.

    INKMATH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_solve.py --calls 20 \
        --out benchmarks/results/solve.md

Columns: "before" = fork per call (solve.py at --before, default the first commit), "after" = the current module
as shipped, "worker only" = the current module with the fast path switched off (every call is a worker round
trip). Calls are interleaved (before, after, worker only, next case, ...) and each case is called once before
timing (warm SymPy caches and lazy imports in both processes).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from inkmath.equation import solve
from inkmath.equation.tree import Frac, Lines, Row, Sup, Symbol

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
    text = subprocess.run(["git", "show", f"{rev}:src/inkmath/equation/solve.py"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "solve_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("inkmath_solve_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(fn: Callable[[], dict]) -> tuple[float, dict]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def worker_only(tree: Row) -> dict:
    solve.FAST_PATH = False
    try:
        return solve.answer(tree)
    finally:
        solve.FAST_PATH = True


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
    args = ap.parse_args()

    before = load_before(args.before)
    start = time.perf_counter()
    solve.start_workers(solve.SOLVE_WORKERS)  # as a server does at start-up: the timed calls find them warm
    cold_ms = (time.perf_counter() - start) * 1000
    runners = {"before": before.answer, "after": solve.answer, "worker only": worker_only}
    times: dict[str, dict[str, list[float]]] = {name: {r: [] for r in runners} for name in CASES}
    for name, tree in CASES.items():  # warm-up, and check that both give the same answer
        answers = {r: fn(tree)["text"] for r, fn in runners.items()}
        if len(set(answers.values())) != 1:
            raise SystemExit(f"answers differ for {name}: {answers}")
    for _ in range(args.calls):
        for name, tree in CASES.items():
            for r, fn in runners.items():
                times[name][r].append(timed(lambda: fn(tree))[0])
    # What the call after a timeout pays: no live worker, so it starts one (then solves).
    solve.stop_workers()
    restart_ms, _ = timed(lambda: worker_only(CASES["\\sin(x)=\\frac{1}{2}"]))
    solve.start_workers(solve.SOLVE_WORKERS)
    conc = {r: concurrent(runners[r], args.clients, args.concurrent_calls) for r in ("before", "after")}

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
        " in-process, the rest in the persistent worker); worker only = the fast path switched off.",
        "",
        "| input | path taken | before (fork) | after | worker only |",
        "|---|---|---:|---:|---:|",
    ]
    for name, tree in CASES.items():
        path = "fast path" if solve._is_cheap(solve.to_sympy_lines(tree)) else "worker"
        cells = [f"{statistics.median(times[name][r]):.1f} ({pct(times[name][r], 0.9):.1f})" for r in runners]
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
        "| | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for r, values in conc.items():
        lines.append(f"| {r} | {pct(values, 0.5):.1f} | {pct(values, 0.99):.1f} | {max(values):.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
