"""The solver's worker processes: fresh interpreters that answer one job at a time and are killed at its deadline.

SymPy can run for hours on innocent-looking input, so `inkmath.equation.solve.answer.answer` sends anything but cheap input
to a worker that the caller kills after `timeout` seconds; the next call starts a fresh one. Workers are fresh
interpreters (fork+exec), never a bare fork of the caller, which may be a multi-threaded web server with torch
loaded. They start lazily (or through `start_workers()`, or `launch_workers()` without waiting), are reused, at most
`SOLVE_WORKERS` run at once, and `stop_workers()` (also at exit) reaps them. Each job also lowers the worker's OS
CPU-time limit, so a worker cannot outlive a crashed parent by more than a few seconds of work.

This module imports neither SymPy nor matplotlib, so a caller can launch a worker before its own imports, or
leave SymPy to the worker altogether (`answer_in_worker`, for a program that answers one problem and exits). A
worker imports matplotlib (0.6-5 s here) only when it is launched for graphs or before its first graph job;
neither import counts in a job's time limit.
"""

from __future__ import annotations

import atexit
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

SOLVE_TIMEOUT = 5.0  # seconds of wall time for one answer; the web server's worst case per request

# A persistent worker answers in ~1 ms of IPC instead of the 55-300 ms a fork per call cost here,
# and it is a fresh interpreter: forking the web server itself (threads, torch) is unsafe.
# Workers are started lazily, reused, killed at the deadline and replaced on the next call.

SOLVE_WORKERS = 2  # worker processes at most (the target machine has 2 cores; most calls take the fast path)
WORKER_START_TIMEOUT = 60.0  # seconds a new worker may take to import SymPy (not counted in `timeout`)
_STOP_GRACE = 1.0  # seconds a worker gets to exit after "stop" before it is killed
_SIGXCPU = getattr(signal, "SIGXCPU", None)  # RLIMIT_CPU's signal; Popen reports death by signal N as exit -N


class WorkerError(Exception):
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


def _worker_main(conn: Any, plotting: bool) -> None:
    """Worker loop: receive (tree, timeout, extras), answer, repeat (extras["call"]: run that function on the
    payload instead, `_call`); "plotting" imports matplotlib; exit on None or when the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is for the parent, which stops us
    from inkmath.equation.solve.extras import preload_plotting
    from inkmath.equation.solve.solver import answer_job
    from inkmath.gcutil import freeze_startup_heap

    if plotting:
        preload_plotting()
    conn.send(("ready", os.getpid()))
    frozen = False
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # parent closed the pipe or died
            return
        if job is None:
            return
        if job == "plotting":
            preload_plotting()
            conn.send(("ready", os.getpid()))
            continue
        tree, timeout, extras = job
        _limit_cpu(timeout)
        target = extras.get("call")
        conn.send(_call(target, tree, timeout) if target else answer_job(tree, timeout, extras))
        if not frozen:  # after the first answer, which need not wait for it (a one-problem command has no other)
            freeze_startup_heap()  # SymPy's objects: full collections skip them (see inkmath.gcutil)
            frozen = True


CALL_PREFIX = "inkmath.equation.solve."  # the only modules whose functions a worker runs by name (`run_call_in_worker`)


def _call(target: str, payload: Any, timeout: float) -> tuple[str, Any]:
    """Run ``module:function`` (under `CALL_PREFIX`) on ``payload`` with ``timeout``: ("ok", its value) or ("error",
    why). The function is found by name, so this module imports nothing above it."""
    import importlib

    module, _, name = str(target).partition(":")
    if not module.startswith(CALL_PREFIX) or not name:
        return "error", f"a worker runs functions of {CALL_PREFIX}* only, not {target!r}"
    try:
        return "ok", getattr(importlib.import_module(module), name)(payload, timeout)
    # the worker's boundary: whatever the function raises comes back as its reason, the worker lives on
    except Exception as exc:  # noqa: BLE001
        return "error", f"{type(exc).__name__}: {exc}"


def worker_entry(fd: int, plotting: bool = True) -> None:
    """Entry point of a worker started by `_launch` (`python -c ...`): serve on the inherited socket `fd`."""
    from multiprocessing.connection import Connection

    _worker_main(Connection(fd), plotting)


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


def _launch(plotting: bool) -> tuple[Any, Any]:
    """A new worker process and the parent's end of its pipe; with `plotting` it imports matplotlib before it
    says it is ready.

    POSIX: a fresh interpreter (`subprocess`, i.e. fork+exec, safe beside threads) that imports this module and
    talks over an inherited socket. Not multiprocessing's spawn/forkserver: those re-run the caller's `__main__`
    script in the child (a script without a `__main__` guard would run twice; `python - < script` fails outright).
    Elsewhere: multiprocessing's spawn context, with that caveat.
    """
    if os.name != "posix":
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        conn, child_conn = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_worker_main, args=(child_conn, plotting), name="inkmath-solve", daemon=True)
        proc.start()
        child_conn.close()
        return _SpawnedProcess(proc), conn
    from multiprocessing.connection import Connection

    ours, theirs = socket.socketpair()
    env = dict(os.environ)
    # The worker must import this very inkmath, even when the caller found it through sys.path rather than pip.
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    code = f"from inkmath.equation.solve.pool import worker_entry; worker_entry({theirs.fileno()}, {plotting!r})"
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
        self.plotting = False  # the worker has imported matplotlib (or will have, when it says "ready")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self, plotting: bool = False) -> None:
        """Make sure the worker runs: no-op when it does, else launch one and wait until it has imported SymPy (and
        matplotlib, with `plotting`, also in a worker that runs without it)."""
        self.launch(plotting)
        self.await_ready()
        if plotting and not self.plotting:
            self.ready, self.plotting = False, True
            try:
                self.conn.send("plotting")
            except OSError:
                pass  # it died: await_ready reports it
            self.await_ready()

    def launch(self, plotting: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self.stop()
        try:
            self.proc, self.conn = _launch(plotting)
        except OSError as exc:
            raise WorkerError(f"could not start the solver process ({exc})") from exc
        self.ready, self.plotting = False, plotting

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
            raise WorkerError(f"the solver process did not start (exit code {code}); is inkmath importable?")

    def run(self, tree: Any, timeout: float, extras: dict[str, bool]) -> dict[str, Any] | None:
        """The worker's answer, or None if it missed the deadline (it is then killed). Raises `WorkerError` if it
        died on its own (out of memory, a crash); its CPU-time limit counts as missing the deadline."""
        proc, conn = self.proc, self.conn  # local: `stop_workers()` from another thread may clear the attributes
        if proc is None or conn is None:
            raise WorkerError("the solver process was stopped")
        try:
            conn.send((tree, timeout, extras))
            if conn.poll(timeout):
                return conn.recv()
        except (EOFError, OSError):
            self.stop(graceful=False)
            code = proc.wait()
            if _SIGXCPU is None or code != -_SIGXCPU:
                raise WorkerError(f"the solver process stopped unexpectedly (exit code {code})") from None
            return None
        self.stop(graceful=False)
        return None

    def stop(self, graceful: bool = True) -> None:
        """End the worker: ask an idle one to exit (killed after `_STOP_GRACE`); kill at once one that is not
        `graceful` or still starting (it holds nothing, and would first finish importing SymPy)."""
        graceful = graceful and self.ready
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
        self.plotting = False  # new workers import matplotlib before they are ready (set once graphs are asked for)
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

    def stop(self, graceful: bool = True) -> None:
        for worker in self.workers:
            worker.stop(graceful)


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


def start_workers(count: int = SOLVE_WORKERS, plotting: bool = True) -> list[int]:
    """Start up to `count` idle workers now, in parallel, and wait until they are ready. A server calls this at
    start-up so that no request waits for SymPy (1-7 s here) or, with `plotting`, matplotlib to import; workers
    that replace them later import matplotlib too. Returns the pids of the live workers."""
    return _start(count, plotting, wait=True)


def launch_workers(count: int = 1, plotting: bool = False) -> list[int]:
    """Start up to `count` idle workers and return at once (their pids): the first job that needs one waits only
    for what is left of its start. A program that is about to import SymPy itself calls this first, so that both
    imports run at the same time."""
    return _start(count, plotting, wait=False)


def _start(count: int, plotting: bool, wait: bool) -> list[int]:
    pool = _get_pool()
    pool.plotting |= plotting
    taken = [w for w in (pool.acquire(0) for _ in range(min(count, len(pool.workers)))) if w is not None]
    try:
        for worker in taken:
            worker.launch(plotting)
        for worker in taken if wait else []:
            worker.start(plotting)
    finally:
        for worker in reversed(taken):
            pool.release(worker)
    return worker_pids()


def run_in_worker(tree: Any, timeout: float, extras: dict[str, bool]) -> dict[str, Any]:
    """A worker's answer to one job (see `inkmath.equation.solve.solver.answer_job`) within `timeout` seconds, waiting
    for a busy pool included; a worker's own start is not counted. Raises `WorkerError` with the reason to show
    when the pool stayed busy, the worker could not start or died, or the deadline passed (the worker is killed)."""
    asked = time.monotonic()
    pool = _get_pool()
    worker = pool.acquire(timeout)  # waiting for a busy pool counts towards the time limit
    if worker is None:
        raise WorkerError(f"the solver was busy with other requests for {timeout:g} s; try again")
    waited = time.monotonic() - asked
    plotting = bool(extras.get("plot"))
    pool.plotting |= plotting
    try:
        worker.launch(plotting or pool.plotting)  # a new worker imports matplotlib once graphs have been asked for
        worker.start(plotting)  # no-op when warm; a cold start is not counted in the budget
        result = worker.run(tree, max(timeout - waited, 0.01), extras)
    finally:
        pool.release(worker)
    if result is None:
        raise WorkerError(f"SymPy did not finish within {timeout:g} s; try a simpler expression")
    return result


def run_call_in_worker(target: str, payload: Any, timeout: float) -> Any:
    """``function(payload, timeout)`` run by a worker, where ``target`` is ``"module:function"`` in a module under
    `CALL_PREFIX` (the answer-checker sends its whole check this way): its value, within ``timeout`` seconds as
    `run_in_worker`. Raises `WorkerError` as `run_in_worker` does, and with the reason when the function raised."""
    status, value = run_in_worker(payload, timeout, {"call": target})
    if status != "ok":
        raise WorkerError(f"the solver process could not do this ({value})")
    return value


def answer_in_worker(tree: Any, timeout: float = SOLVE_TIMEOUT, *, steps: bool = False,
                     plot: bool = False) -> dict[str, Any]:
    """`inkmath.equation.solve.answer.answer(tree, timeout, steps=..., plot=...)` with every input sent to a worker, so
    that this process never imports SymPy (it does only to word a worker failure). For a program that answers
    one problem and exits: its own imports then overlap the worker's instead of repeating them."""
    from inkmath.equation.solve.extras import add_step_mathml, finish_answer
    from inkmath.equation.solve.definitions import function_definition
    from inkmath.equation.core.latex import to_latex

    start = time.perf_counter()
    input_latex = to_latex(tree)
    definition = function_definition(tree)  # f(x) = body: the body is answered, as `answer` does
    try:
        result = run_in_worker(tree if definition is None else definition[2], timeout,
                               {"steps": steps, "plot": plot, "mathml": False})
    except WorkerError as exc:
        from inkmath.equation.solve.solver import make_result

        result = make_result("none", reason=str(exc), text=f"cannot solve: {exc}")
    add_step_mathml(result)  # here, where latex2mathml is loaded already (for the input's MathML)
    return finish_answer(result, steps, plot, definition, input_latex, start)


def worker_pids() -> list[int]:
    """Pids of the live worker processes (for health checks and tests)."""
    pool = _pool
    if pool is None:
        return []
    return [pid for pid in (w.pid for w in pool.workers) if pid is not None]


def stop_workers(graceful: bool = True) -> None:
    """Stop every worker and reap it (meant for shutdown: a call in flight in another thread then comes back as
    kind "none"). Later calls start new workers. `graceful`: an idle worker is asked to exit and given
    `_STOP_GRACE` to do so; otherwise it is killed at once (at the program's exit: a worker between jobs holds
    nothing, so there is nothing to wait for)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.stop(graceful)


atexit.register(stop_workers, graceful=False)  # no worker outlives the program (they would exit on EOF, but later)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


