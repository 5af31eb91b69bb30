"""Answer a recognised expression tree: solve its equation(s), or simplify and evaluate its expression.

`answer(node)` returns a JSON-serialisable dict (see `answer`). The tree becomes SymPy objects through
`inkmath.equation.tosympy` (no text is ever evaluated); this module decides what to do with them.

Time limit: SymPy can run for hours on innocent-looking input (`x^{99999}+x=1`, a huge sum), so anything but cheap
input runs in a persistent worker process that the caller kills after `timeout` seconds (default `SOLVE_TIMEOUT` =
5 s); the next call starts a fresh one. Workers are fresh interpreters (fork+exec), never a bare fork of the caller,
which may be a multi-threaded web server with torch loaded. They start lazily (or through
`start_workers()`), are reused, at most `SOLVE_WORKERS` run at once, and `stop_workers()` (also at exit) reaps
them. Each job also lowers the worker's OS CPU-time limit, so a worker cannot outlive a crashed parent by more than
a few seconds of work. A job that times out comes back as kind "none" with a message that says so.

Fast path: cheap input (`_is_cheap`: arithmetic, a linear or quadratic equation in one unknown, a small linear
system) is answered in the caller's process in 0.1-3 ms, as a worker round trip would only add latency. Cheap
checks refuse obviously hopeless work before SymPy starts: numbers over ~30,000 digits (in tosympy) and
polynomials of degree above `MAX_DEGREE`.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import sympy as sp
from sympy.core.relational import Relational
from sympy.printing.str import StrPrinter

from inkmath import InkmathError
from inkmath.equation.answer_extras import fill_extras, preload_plotting, with_extras
from inkmath.equation.latex import to_latex
from inkmath.equation.tosympy import PLUS_MINUS, expand_plus_minus, to_sympy, to_sympy_lines
from inkmath.equation.tree import Node

__all__ = ["SOLVE_TIMEOUT", "SOLVE_WORKERS", "MAX_DEGREE", "PLUS_MINUS", "answer", "expand_plus_minus", "start_workers",
           "stop_workers", "to_sympy", "to_sympy_lines", "worker_pids"]

SOLVE_TIMEOUT = 5.0  # seconds of wall time for one answer; the web server's worst case per request
MAX_DEGREE = 40  # polynomials above this degree are not solved exactly (roots of x^99999 would never finish)
_PREFERRED = ("x", "y", "z", "t")  # the unknown a student expects, in order; otherwise alphabetical


class _CannotSolve(Exception):
    """Raised inside the solver for a reason the user should read (becomes kind "none")."""


class _Printer(StrPrinter):
    """Plain text for people: i, π, e, ∞ (and ^ for powers, in `_text`)."""

    def _print_ImaginaryUnit(self, expr: sp.Basic) -> str:
        return "i"

    def _print_Pi(self, expr: sp.Basic) -> str:
        return "π"

    def _print_Exp1(self, expr: sp.Basic) -> str:
        return "e"

    def _print_Infinity(self, expr: sp.Basic) -> str:
        return "∞"

    def _print_NegativeInfinity(self, expr: sp.Basic) -> str:
        return "-∞"


def _latex(expr: sp.Basic) -> str:
    return sp.latex(expr, inv_trig_style="full", ln_notation=True)  # \arcsin and \ln, as in school


def _text(expr: sp.Basic) -> str:
    return _Printer().doprint(expr).replace("**", "^")


def answer(node: Node, timeout: float | None = SOLVE_TIMEOUT, *, steps: bool = False,
           plot: bool = False) -> dict[str, Any]:
    """Solve or evaluate a tree. Never raises for bad input: problems come back as kind "none" with a reason.

    Fields (always present): `kind` ("equation" | "inequality" | "system" | "expression" | "none"),
    `input_latex`, `text` (one line for people), `latex` (LaTeX of the answer), `variables` (names solved for),
    `solutions` (list of {name: {"text", "latex", "decimal", "general"}}, one dict per solution; `general` marks a
    family such as 2kπ + π/6 with k any integer), `value` / `values` (expressions: {"text", "latex", "decimal"}),
    `notes` (list of remarks, e.g. which unknown was chosen), `reason` (why nothing could be done, kind "none"),
    `holds` (an equation without unknowns: whether it is true), `elapsed_s`.
    Each solution and value also carries `sympy` (SymPy's `srepr` of it, for checking).
    `steps=True` adds `steps` (a worked solution: [{"latex", "reason", "sympy", "mathml"}], empty when there is
    none), `steps_reason` (why there are no steps, else "") and, with steps, `steps_kind` ("linear", "quadratic",
    "inequality", "system", "arithmetic", "simplify", "trig"); `plot=True` adds `plot` (SVG text or None) and
    `plot_reason`; see `inkmath.equation.steps` and `inkmath.equation.plot`. They share the answer's time limit.
    `timeout=None` runs in-process without a time limit (for callers that bound time themselves). Otherwise
    cheap input (see `_is_cheap`) is answered in-process and the rest by a worker process killed at `timeout`;
    a plot is always drawn in the worker (matplotlib is not thread-safe, and the caller may be a web server).
    Thread-safe: the web server calls this from several threads at once.
    """
    start = time.perf_counter()
    input_latex = ""
    try:
        input_latex = to_latex(node)
        items = to_sympy_lines(node)
    except InkmathError as exc:
        result = _result("none", reason=str(exc), text=f"cannot evaluate: {exc}")
    else:
        extras = {"steps": steps, "plot": plot}
        if timeout is None or (FAST_PATH and not plot and _is_cheap(items)):
            result = with_extras(_solve_safely(items), node, items, extras)
        else:
            result = _run_in_worker(node, timeout, extras)
    fill_extras(result, steps, plot)
    result["input_latex"] = input_latex
    result["elapsed_s"] = round(time.perf_counter() - start, 4)
    return result


# ---------------------------------------------------------------- the fast path

FAST_PATH = True  # answer cheap input in-process; False sends every call to a worker (benchmarks compare both)
FAST_MAX_NODES = 60  # size of the SymPy tree, all lines together
FAST_MAX_NUMBER = 10**6  # numerators and denominators; bigger ones make sqrt() of a discriminant factor integers
_FAST_TYPES = (sp.Symbol, sp.Rational, sp.Add, sp.Mul, sp.Pow, sp.Eq)


def _is_cheap(items: list[sp.Basic]) -> bool:
    """True if SymPy answers these items in a few milliseconds, so a worker round trip would only add latency.

    Cheap means: numbers, letters, + - * and small integer powers only (no functions, constants, roots, big
    operators or inequalities), small numbers, and either arithmetic without letters, one polynomial equation of
    degree <= 2 in one unknown, or a linear system of <= 2 equations in at most as many unknowns. Measured on this
    machine, these take 0.1-3 ms; the next cheapest kinds (an inequality, a letter in a denominator, a parameter,
    simplifying an expression with letters) take 70-250 ms in SymPy and would hold the GIL that long, so they go
    to the worker. Nothing here may call code that uses mpmath's global precision (nroots, findroot), because the
    fast path runs in the caller's thread while other threads may be solving too.
    """
    if not 1 <= len(items) <= 2:
        return False
    unknowns: set[sp.Symbol] = set()
    nodes = 0
    for item in items:
        for sub in sp.preorder_traversal(item):
            nodes += 1
            if nodes > FAST_MAX_NODES or not isinstance(sub, _FAST_TYPES):
                return False
            if isinstance(sub, sp.Symbol):
                if sub != PLUS_MINUS:
                    unknowns.add(sub)
            elif isinstance(sub, sp.Rational):
                if abs(sub.p) > FAST_MAX_NUMBER or sub.q > FAST_MAX_NUMBER:
                    return False
            elif isinstance(sub, sp.Pow):
                lettered = bool(sub.base.free_symbols - {PLUS_MINUS})
                if not sub.exp.is_Integer or not (1 <= sub.exp <= 2 if lettered else abs(sub.exp) <= 4):
                    return False  # a negative power of a letter is a denominator: solveset, ~200 ms
    if not unknowns:
        return True  # arithmetic, or an equation between numbers (checked by simplify on numbers)
    if not all(isinstance(item, sp.Eq) for item in items) or len(unknowns) > len(items):
        return False  # an expression to simplify, or a parameter: SymPy's general routines, ~100 ms
    limit = 2 if len(items) == 1 else 1
    gens = sorted(unknowns, key=lambda s: s.name)
    try:
        return all(sp.Poly(item.lhs - item.rhs, *gens).total_degree() <= limit for item in items)
    except sp.PolynomialError:
        return False


# ---------------------------------------------------------------- running with a time limit


def _solve_safely(items: list[sp.Basic]) -> dict[str, Any]:
    try:
        return _answer_items(items)
    except (_CannotSolve, InkmathError) as exc:
        return _result("none", reason=str(exc), text=f"cannot solve: {exc}")
    # The solver boundary: SymPy signals unsupported input with NotImplementedError, ValueError, TypeError,
    # PolynomialError, RecursionError, ... Any of them means "SymPy cannot do this", which the user must read
    # rather than a crashed web request.
    except Exception as exc:  # noqa: BLE001
        return _result("none", reason=f"SymPy could not handle this ({type(exc).__name__}: {exc})",
                       text="cannot solve: SymPy could not handle this expression")


# The worker pool. A persistent worker answers in ~1 ms of IPC instead of the 55-300 ms a fork per call cost here,
# and it is a fresh interpreter: forking the web server itself (threads, torch) is unsafe.
# Workers are started lazily, reused, killed at the deadline and replaced on the next call.

SOLVE_WORKERS = 2  # worker processes at most (the target machine has 2 cores; most calls take the fast path)
WORKER_START_TIMEOUT = 60.0  # seconds a new worker may take to import SymPy (not counted in `timeout`)
_STOP_GRACE = 1.0  # seconds a worker gets to exit after "stop" before it is killed
_SIGXCPU = getattr(signal, "SIGXCPU", None)  # RLIMIT_CPU's signal; Popen reports death by signal N as exit -N


class _WorkerError(Exception):
    """A worker could not be started (becomes kind "none" with the reason)."""


def _limit_cpu(timeout: float) -> None:
    """Safety net: let the kernel end this worker once it spends `timeout` (+2 s) more CPU seconds.

    RLIMIT_CPU counts the process's total CPU time, so the soft limit is moved to "used so far + timeout" before
    each job. It matters only if the parent dies mid-job (a live parent kills the worker at the deadline itself).
    """
    try:
        import resource
    except ImportError:  # Windows has no `resource`: the parent-side kill still applies
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    wanted = int(usage.ru_utime + usage.ru_stime + timeout) + 2
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))
    except (ValueError, OSError):
        pass  # some sandboxes refuse; the parent-side kill still applies


def _worker_main(conn: Any) -> None:
    """Worker loop: receive (tree, timeout), answer, repeat; exit on None or when the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is for the parent, which stops us
    from inkmath.gcutil import freeze_startup_heap

    preload_plotting()
    freeze_startup_heap()  # SymPy's objects: full collections skip them (see inkmath.gcutil)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # parent closed the pipe or died
            return
        if job is None:
            return
        tree, timeout, extras = job
        deadline = time.monotonic() + timeout
        _limit_cpu(timeout)
        try:
            items = to_sympy_lines(tree)  # the tree, not SymPy objects: unpickling would evaluate Eq(2, 2) to True
        except InkmathError as exc:
            result = _result("none", reason=str(exc), text=f"cannot evaluate: {exc}")
        else:
            result = with_extras(_solve_safely(items), tree, items, extras, deadline)
        conn.send(result)


def worker_entry(fd: int) -> None:
    """Entry point of a worker started by `_launch` (`python -c ...`): serve on the inherited socket `fd`."""
    from multiprocessing.connection import Connection

    _worker_main(Connection(fd))


class _SpawnedProcess:
    """The few Popen methods `_Worker` uses, over a multiprocessing Process (the non-POSIX fallback)."""

    def __init__(self, proc: Any) -> None:
        self.proc, self.pid = proc, proc.pid

    def poll(self) -> int | None:
        return self.proc.exitcode

    def kill(self) -> None:
        self.proc.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        self.proc.join(timeout)
        if self.proc.exitcode is None:
            raise subprocess.TimeoutExpired("inkmath-solve", timeout or 0.0)
        return self.proc.exitcode


def _launch() -> tuple[Any, Any]:
    """A new worker process and the parent's end of its pipe.

    POSIX: a fresh interpreter (`subprocess`, i.e. fork+exec, safe beside threads) that imports this module and
    talks over an inherited socket. Not multiprocessing's spawn/forkserver: those re-run the caller's `__main__`
    script in the child (a script without a `__main__` guard would run twice; `python - < script` fails outright).
    Elsewhere: multiprocessing's spawn context, with that caveat.
    """
    if os.name != "posix":
        ctx = multiprocessing.get_context("spawn")
        conn, child_conn = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_worker_main, args=(child_conn,), name="inkmath-solve", daemon=True)
        proc.start()
        child_conn.close()
        return _SpawnedProcess(proc), conn
    from multiprocessing.connection import Connection

    ours, theirs = socket.socketpair()
    env = dict(os.environ)
    # The worker must import this very inkmath, even when the caller found it through sys.path rather than pip.
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    code = f"from inkmath.equation.solve import worker_entry; worker_entry({theirs.fileno()})"
    try:
        proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=[theirs.fileno()], env=env,
                                stdin=subprocess.DEVNULL, close_fds=True, start_new_session=True)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return proc, Connection(ours.detach())


class _Worker:
    """One worker process and its pipe; started on first use, replaced after a timeout or a crash."""

    def __init__(self) -> None:
        self.proc: Any = None
        self.conn: Any = None
        self.ready = False  # the worker said "ready" (SymPy imported)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self) -> None:
        """Make sure the worker runs: no-op when it does, else launch one and wait until it has imported SymPy."""
        self.launch()
        self.await_ready()

    def launch(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.stop()
        try:
            self.proc, self.conn = _launch()
        except OSError as exc:
            raise _WorkerError(f"could not start the solver process ({exc})") from exc
        self.ready = False

    def await_ready(self) -> None:
        if self.ready:
            return
        try:
            self.ready = self.conn.poll(WORKER_START_TIMEOUT) and self.conn.recv()[0] == "ready"
        except (EOFError, OSError):
            pass
        if not self.ready:
            code = self.proc.poll()
            self.stop(graceful=False)
            raise _WorkerError(f"the solver process did not start (exit code {code}); is inkmath importable?")

    def run(self, tree: Node, timeout: float, extras: dict[str, bool]) -> dict[str, Any] | None:
        """The worker's answer, or None if it missed the deadline (it is then killed). Raises `_WorkerError` if it
        died on its own (out of memory, a crash); its CPU-time limit counts as missing the deadline."""
        proc, conn = self.proc, self.conn  # local: `stop_workers()` from another thread may clear the attributes
        if proc is None or conn is None:
            raise _WorkerError("the solver process was stopped")
        try:
            conn.send((tree, timeout, extras))
            if conn.poll(timeout):
                return conn.recv()
        except (EOFError, OSError):
            self.stop(graceful=False)
            code = proc.wait()
            if _SIGXCPU is None or code != -_SIGXCPU:
                raise _WorkerError(f"the solver process stopped unexpectedly (exit code {code})") from None
            return None
        self.stop(graceful=False)
        return None

    def stop(self, graceful: bool = True) -> None:
        proc, conn, self.proc, self.conn, self.ready = self.proc, self.conn, None, None, False
        if conn is not None:
            if graceful and proc is not None and proc.poll() is None:
                try:
                    conn.send(None)
                except OSError:
                    pass
            conn.close()
        if proc is None:
            return
        if graceful:
            try:
                proc.wait(_STOP_GRACE)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.kill()
        proc.wait()  # reaps it: no zombie


class _Pool:
    """At most `size` workers; a caller borrows an idle one (most recently used first, so a single caller keeps
    talking to the same warm process) and waits if all are busy."""

    def __init__(self, size: int) -> None:
        self.workers = [_Worker() for _ in range(size)]
        self.idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        for worker in reversed(self.workers):
            self.idle.put(worker)

    def acquire(self, wait: float) -> _Worker | None:
        try:
            return self.idle.get(timeout=max(wait, 0.0))
        except queue.Empty:
            return None

    def release(self, worker: _Worker) -> None:
        self.idle.put(worker)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool(SOLVE_WORKERS)
        return _pool


def _forget_pool_after_fork() -> None:
    # A forked child (e.g. a server forking workers) must not talk to or kill its parent's solver processes.
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


def start_workers(count: int = SOLVE_WORKERS) -> list[int]:
    """Start up to `count` idle workers now, in parallel, and wait until they are ready. A server calls this at
    start-up so that no request waits for SymPy to import (1-7 s here). Returns the pids of the live workers."""
    pool = _get_pool()
    taken = [w for w in (pool.acquire(0) for _ in range(min(count, len(pool.workers)))) if w is not None]
    try:
        for worker in taken:
            worker.launch()
        for worker in taken:
            worker.await_ready()
    finally:
        for worker in reversed(taken):
            pool.release(worker)
    return worker_pids()


def worker_pids() -> list[int]:
    """Pids of the live worker processes (for health checks and tests)."""
    pool = _pool
    if pool is None:
        return []
    return [pid for pid in (w.pid for w in pool.workers) if pid is not None]


def stop_workers() -> None:
    """Stop every worker and reap it (registered with atexit; meant for shutdown: a call in flight in another
    thread then comes back as kind "none"). Later calls start new workers."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.stop()


atexit.register(stop_workers)  # no worker outlives the program (they would also exit on EOF, but later)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _run_in_worker(tree: Node, timeout: float, extras: dict[str, bool]) -> dict[str, Any]:
    asked = time.monotonic()
    pool = _get_pool()
    worker = pool.acquire(timeout)  # waiting for a busy pool counts towards the time limit
    if worker is None:
        reason = f"the solver was busy with other requests for {timeout:g} s; try again"
        return _result("none", reason=reason, text=f"cannot solve: {reason}")
    waited = time.monotonic() - asked
    try:
        worker.start()  # no-op when warm; a cold start (importing SymPy) is not counted in the budget
        result = worker.run(tree, max(timeout - waited, 0.01), extras)
    except _WorkerError as exc:
        return _result("none", reason=str(exc), text=f"cannot solve: {exc}")
    finally:
        pool.release(worker)
    if result is None:
        reason = f"SymPy did not finish within {timeout:g} s; try a simpler expression"
        return _result("none", reason=reason, text=f"cannot solve: {reason}")
    return result


# ---------------------------------------------------------------- deciding what to do


def _result(kind: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "input_latex": "", "text": "", "latex": "", "variables": [],
                           "solutions": [], "value": None, "values": [], "notes": [], "reason": "", "holds": None}
    out.update(fields)
    return out


def _unknowns(exprs: list[sp.Basic]) -> list[sp.Symbol]:
    symbols: set[sp.Symbol] = set()
    for expr in exprs:
        symbols |= {s for s in expr.free_symbols if s != PLUS_MINUS}
    def key(s: sp.Symbol) -> tuple[int, str]:
        return (_PREFERRED.index(s.name) if s.name in _PREFERRED else len(_PREFERRED), s.name)
    return sorted(symbols, key=key)


def _doit(item: sp.Basic) -> sp.Basic:
    """Evaluate sums, integrals, limits and derivatives inside a relation before solving it."""
    if isinstance(item, Relational) and item.has(sp.Sum, sp.Product, sp.Integral, sp.Limit, sp.Derivative):
        return type(item)(item.lhs.doit(), item.rhs.doit(), evaluate=False)
    return item


def _answer_items(items: list[sp.Basic]) -> dict[str, Any]:
    items = [_doit(item) for item in items]
    if len(items) > 1:
        return _solve_system(items)
    item = items[0]
    if isinstance(item, sp.Eq):
        return _solve_equation(item)
    if isinstance(item, Relational):
        return _solve_inequality(item)
    return _evaluate(item)


def _entry(expr: sp.Basic, general: bool = False) -> dict[str, Any]:
    decimal = None
    if expr.is_number and not expr.is_Integer and expr.is_finite is not False:
        value = sp.N(expr, 15)
        re, im = (float(part) for part in value.as_real_imag())
        if abs(im) < 1e-13 * max(1.0, abs(re)):
            decimal = f"{re:.12g}"
        else:
            decimal = f"{re:.12g} {'-' if im < 0 else '+'} {abs(im):.12g}i"
    approximate = decimal is not None and expr.has(sp.CRootOf, sp.Float)  # numeric roots: show "a + bi"
    text = decimal if approximate else _text(expr)
    latex = decimal if approximate else _latex(expr)
    return {"text": text, "latex": latex, "decimal": decimal, "general": general, "sympy": sp.srepr(expr),
            "_expr": expr}


# ---------------------------------------------------------------- equations


def _solve_equation(eq: sp.Eq) -> dict[str, Any]:
    variants = expand_plus_minus(eq)
    unknowns = _unknowns(variants)
    if not unknowns:
        return _check_statement(variants)
    var, others = unknowns[0], unknowns[1:]
    notes = []
    if others:
        names = ", ".join(s.name for s in others)
        notes.append(f"solved for {var.name}; {names} treated as given")
    sets = [_solve_one(v.lhs - v.rhs, var, bool(others), notes) for v in variants]
    solution_set = sets[0] if len(sets) == 1 else sp.Union(*sets)
    result = _format_set(var, solution_set, notes)
    result.update(kind="equation", variables=[var.name], notes=list(dict.fromkeys(notes)))
    return result


def _check_statement(variants: list[sp.Eq]) -> dict[str, Any]:
    holds = all(sp.simplify(v.lhs - v.rhs) == 0 for v in variants)
    left, right = _text(sp.simplify(variants[0].lhs)), _text(sp.simplify(variants[0].rhs))
    text = f"true: both sides equal {left}" if holds else f"false: the left side is {left}, the right side {right}"
    latex = r"\text{true}" if holds else _latex(variants[0].lhs) + r" \neq " + _latex(variants[0].rhs)
    return _result("equation", text=text, latex=latex, holds=holds)


def _solve_one(f: sp.Basic, var: sp.Symbol, parametric: bool, notes: list[str]) -> sp.Set:
    f = sp.together(f)
    numerator = sp.fraction(f)[0]
    if f.is_polynomial(var):
        degree = sp.Poly(f, var).degree() if f != 0 else 0
        if degree > MAX_DEGREE:
            raise _CannotSolve(f"a polynomial of degree {degree} is too high to solve exactly (limit {MAX_DEGREE})")
        if degree <= 0:
            return sp.S.Reals if sp.simplify(f) == 0 else sp.S.EmptySet
        if parametric:  # solveset would answer with conditions on the other letters; solve() gives the formula
            return sp.FiniteSet(*sp.solve(f, var))
        # All roots, complex ones too (sorted real-first on output). Exact where SymPy finds a short form; the
        # cubic/quartic formulas and CRootOf objects are unreadable (and CRootOf takes seconds to evaluate), so
        # otherwise every root is a 15-digit numeric approximation.
        poly = sp.Poly(f, var)
        exact = sp.roots(poly, cubics=False, quartics=False)
        if sum(exact.values()) == degree:
            return sp.FiniteSet(*exact)
        notes.append("no short exact form for every root; the roots are numeric approximations")
        return sp.FiniteSet(*poly.nroots(n=15))
    if numerator.is_polynomial(var) and sp.degree(numerator, var) > MAX_DEGREE:
        raise _CannotSolve(f"a polynomial of degree {sp.degree(numerator, var)} is too high to solve exactly")
    if parametric:
        # With other letters around, solveset over the reals answers with conditions on them; solve() gives the
        # formula a student expects (and may list principal values only for periodic functions).
        if f.atoms(sp.functions.elementary.trigonometric.TrigonometricFunction):
            notes.append("periodic solutions are given by their principal values only")
        return sp.FiniteSet(*sp.solve(f, var))
    solution_set = sp.solveset(f, var, sp.S.Reals)
    if isinstance(solution_set, sp.ConditionSet):  # no closed form (cos x = x): look for roots numerically
        roots = _numeric_roots(f, var)
        if not roots:
            raise _CannotSolve(f"SymPy cannot solve this equation for {var.name}, exactly or numerically")
        notes.append("no exact form: numeric solutions found from a few starting points; there may be others")
        return sp.FiniteSet(*roots)
    return solution_set


_NUMERIC_STARTS = (-10.0, -3.0, -1.0, -0.3, 0.3, 1.0, 3.0, 10.0)


def _numeric_roots(f: sp.Basic, var: sp.Symbol) -> list[sp.Float]:
    """Real roots of f found by the secant method from a few starting points.

    f is evaluated with evalf at each step rather than compiled with lambdify, which would exec generated code.
    """
    import mpmath

    def value(t: Any) -> Any:
        v = f.evalf(15, subs={var: sp.Float(float(t))})
        if not v.is_real:  # outside the function's real domain (log of a negative number, ...)
            raise ValueError("not real here")
        return mpmath.mpf(float(v))

    found: dict[str, sp.Float] = {}
    for start in _NUMERIC_STARTS:
        try:
            root = float(mpmath.findroot(value, start, tol=1e-20, maxsteps=60))
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            continue
        if abs(float(value(root))) < 1e-9:
            found.setdefault(f"{root:.9g}", sp.Float(root, 15))
    return sorted(found.values())


def _format_set(var: sp.Symbol, s: sp.Set, notes: list[str]) -> dict[str, Any]:
    name, vtex = var.name, _latex(var)
    if isinstance(s, sp.ConditionSet):
        raise _CannotSolve(f"SymPy cannot solve this equation for {name} in closed form")
    if s == sp.S.EmptySet:
        return _result("equation", text="no solution", latex=r"\text{no solution}")
    if s == sp.S.Reals or s == sp.S.Complexes:
        return _result("equation", text=f"every value of {name} is a solution (an identity)",
                       latex=vtex + r" \in \mathbb{R}")
    parts = list(s.args) if isinstance(s, sp.Union) else [s]
    finite: list[sp.Basic] = []
    families: list[sp.Basic] = []
    k = sp.Symbol("n" if name == "k" else "k")
    for part in parts:
        if isinstance(part, sp.FiniteSet):
            finite.extend(part.args)
        elif isinstance(part, sp.ImageSet) and part.base_sets == (sp.S.Integers,) and len(part.lamda.variables) == 1:
            families.append(part.lamda.expr.xreplace({part.lamda.variables[0]: k}))
        else:  # intervals, complements, intersections: give the set itself
            return _result("equation", text=f"{name} ∈ {_set_text(s)}", latex=f"{vtex} \\in {_latex(s)}")
    finite = _real_first(list(dict.fromkeys(finite)))
    families.sort(key=lambda e: float(e.xreplace({k: 0})) if e.xreplace({k: 0}).is_number else 0.0)
    solutions = [{name: _entry(e)} for e in finite] + [{name: _entry(e, general=True)} for e in families]
    texts = [f"{name} = {sol[name]['text']}" for sol in solutions]
    latexes = [f"{vtex} = {sol[name]['latex']}" for sol in solutions]
    text = " or ".join(texts)
    latex = r" \quad\text{or}\quad ".join(latexes)
    if families:
        text += f", {k.name} any integer"
        latex += rf", \quad {k.name} \in \mathbb{{Z}}"
    if finite and not any(e.is_real for e in finite) and all(e.is_number for e in finite):
        notes.append("no real solution; the solutions are complex")
    return _result("equation", text=text, latex=latex, solutions=solutions)


def _real_first(values: list[sp.Basic]) -> list[sp.Basic]:
    def key(e: sp.Basic) -> tuple[int, float, float]:
        if not e.is_number:
            return (2, 0.0, 0.0)
        re, im = (float(v) for v in sp.N(e, 15).as_real_imag())
        return (0 if e.is_real else 1, re, im)
    return sorted(values, key=key)


def _set_text(s: sp.Set) -> str:
    if isinstance(s, sp.Interval):
        left = "(" if s.left_open or s.start == -sp.oo else "["
        right = ")" if s.right_open or s.end == sp.oo else "]"
        return f"{left}{_text(s.start)}, {_text(s.end)}{right}"
    if isinstance(s, sp.Union):
        return " ∪ ".join(_set_text(a) for a in s.args)
    if isinstance(s, sp.FiniteSet):
        return "{" + ", ".join(_text(a) for a in s.args) + "}"
    if isinstance(s, sp.Complement):
        return f"{_set_text(s.args[0])} \\ {_set_text(s.args[1])}"
    if s == sp.S.Reals:
        return "ℝ"
    return _text(s)


def _solve_inequality(rel: Relational) -> dict[str, Any]:
    unknowns = _unknowns([rel])
    if len(unknowns) != 1:
        raise _CannotSolve("only inequalities in exactly one unknown can be solved")
    if rel.has(PLUS_MINUS):
        raise _CannotSolve("an inequality with ± cannot be solved; write the two cases separately")
    var = unknowns[0]
    s = sp.solveset(rel, var, sp.S.Reals)
    if isinstance(s, sp.ConditionSet):
        raise _CannotSolve(f"SymPy cannot solve this inequality for {var.name}")
    if s == sp.S.EmptySet:
        return _result("inequality", text="no solution", latex=r"\text{no solution}", variables=[var.name])
    text, latex = f"{var.name} ∈ {_set_text(s)}", f"{_latex(var)} \\in {_latex(s)}"
    return _result("inequality", text=text, latex=latex, variables=[var.name])


# ---------------------------------------------------------------- systems


def _solve_system(items: list[sp.Basic]) -> dict[str, Any]:
    for number, item in enumerate(items, 1):
        if not isinstance(item, sp.Eq):
            raise _CannotSolve(f"a system needs an equation with '=' on every line; line {number} has none")
        if item.has(PLUS_MINUS):
            raise _CannotSolve("± inside a system cannot be solved; write the two cases separately")
    unknowns = _unknowns(items)
    if not unknowns:
        return _check_statement(items)
    chosen = unknowns[: len(items)] if len(unknowns) > len(items) else unknowns
    notes = []
    if len(chosen) < len(unknowns):
        notes.append(f"solved for {', '.join(s.name for s in chosen)}; "
                     f"{', '.join(s.name for s in unknowns[len(chosen):])} treated as given")
    for eq in items:
        if (eq.lhs - eq.rhs).is_polynomial(*chosen) and sp.Poly(eq.lhs - eq.rhs, *chosen).total_degree() > MAX_DEGREE:
            raise _CannotSolve(f"an equation of degree above {MAX_DEGREE} is too high to solve exactly")
    found = sp.solve([eq.lhs - eq.rhs for eq in items], chosen, dict=True)
    names = [s.name for s in chosen]
    if not found:
        return _result("system", text="the system has no solution", latex=r"\text{no solution}",
                       variables=names, notes=notes)
    solutions, texts, latexes = [], [], []
    for sol in found:
        entries = {s.name: _entry(sol[s]) for s in chosen if s in sol}
        free = [s.name for s in chosen if s not in sol]
        if free:
            notes.append(f"infinitely many solutions: {', '.join(free)} can be any value")
        solutions.append(entries)
        texts.append(", ".join(f"{n} = {e['text']}" for n, e in entries.items()))
        latexes.append(r",\; ".join(f"{_latex(sp.Symbol(n))} = {e['latex']}" for n, e in entries.items()))
    return _result("system", text=" or ".join(texts), latex=r" \quad\text{or}\quad ".join(latexes),
                   variables=names, solutions=solutions, notes=list(dict.fromkeys(notes)))


# ---------------------------------------------------------------- expressions


def _evaluate(expr: sp.Basic) -> dict[str, Any]:
    notes = []
    indefinite = any(len(i.limits[0]) == 1 for i in expr.atoms(sp.Integral))
    values = []
    for variant in expand_plus_minus(expr):
        done = variant.doit()  # evaluates Sum, Integral, Limit, Derivative
        if done.has(sp.Integral, sp.Sum, sp.Product, sp.Limit):
            notes.append("SymPy could not evaluate a sum, product, integral or limit in closed form")
        values.append(sp.simplify(done))
    if any(v.has(sp.zoo, sp.nan) for v in values):
        raise _CannotSolve("the expression is undefined (a division by zero)")
    entries = [_entry(v) for v in values]
    if indefinite:
        notes.append("indefinite integral: add any constant C")
        for e in entries:
            e["text"] += " + C"
            e["latex"] += " + C"
    pieces = [e["text"] + (f" ≈ {e['decimal']}" if e["decimal"] and e["decimal"] != e["text"] else "")
              for e in entries]
    text = " or ".join(pieces)
    latex = r" \quad\text{or}\quad ".join(e["latex"] for e in entries)
    return _result("expression", text=text, latex=latex, values=entries,
                   value=entries[0] if len(entries) == 1 else None, notes=notes,
                   variables=[s.name for s in _unknowns(values)])
