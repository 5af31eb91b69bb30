"""The resident solver's process: `python -m inkmath.cli.solver_daemon --socket PATH --lock-fd N`, started by
`inkmath solve` (see `inkmath.cli.solver_client` for the protocol, files and lifetime).

It listens on the socket at once, then imports the solver (SymPy) and launches a solver worker, so a command that
connects meanwhile waits in the queue instead of starting a second solver. Each connection is one request on its
own thread: a JSON line in; an acknowledgement (`{"ok", "ready"}`, or `{"stale"}` when the request's code
fingerprint is not this process's, which then exits) and one JSON line with every problem's reply out. Problems
are solved by `inkmath.equation.solve.typed.solve_many` as in `inkmath solve -` (cheap input here, the rest in a solver
worker killed at `SOLVE_TIMEOUT`), so time limits and worker bounds are those of the command itself.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.cli.solver_client import ACK_TIMEOUT, HEARTBEAT, STOP_TIMEOUT, code_fingerprint, idle_limit
from inkmath.equation.solve.pool import SOLVE_TIMEOUT, WORKER_START_TIMEOUT

MAX_REQUEST = 1 << 20  # bytes of one request line
_TICK = 0.5  # seconds between checks of idleness and of the socket file


def _render(lines: list[str]) -> str:
    """What `rich.console.Console().print(line, markup=False, highlight=False, soft_wrap=True)` writes for each
    line, as `inkmath solve` prints it (soft wrap: no wrapping or cropping, so the terminal's width is moot)."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer)
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return buffer.getvalue()


def answer_request(request: dict) -> list[dict]:
    """Every problem's reply, in order: `{"result"}` (as `inkmath solve --json` prints it, before the graph is
    written), plus for people `text` (the lines `inkmath solve` prints) and `note` (the graph line it prints once
    the file is written); or `{"error"}` for a malformed problem."""
    from inkmath.cli.recognize import answer_lines, plot_note, plot_path
    from inkmath.equation.solve.typed import solve_many

    latexes = [str(latex) for latex in request["latex"]]
    plot = Path(request["plot"]) if request.get("plot") else None
    replies = []
    for item in solve_many(latexes, steps=bool(request.get("steps")), plot=plot is not None, in_process=True):
        if item.error is not None:
            replies.append({"error": item.error})
            continue
        reply = {"result": item.result}
        if not request.get("json"):
            reply["text"] = _render(answer_lines(item.result["answer"], item.result["latex"]))
            note = plot_note(item.result["answer"], plot_path(plot, item.index, len(latexes)) if plot else None)
            reply["note"] = _render([f"  {note}"]) if note else ""
        replies.append(reply)
    return replies


class Daemon:
    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path, self.lock_fd = path, lock_fd
        self.fingerprint = code_fingerprint()  # before importing the solver: the code about to be loaded
        self.idle_limit = idle_limit()
        self.started = self.last_request = time.time()
        self.requests = 0
        self.active = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()  # the solver is imported: requests are answered
        self.warmed = threading.Event()  # the warm-up problems are solved too
        self.stopping = threading.Event()
        self.listener = self._listen()
        self.inode = os.stat(path).st_ino

    def _listen(self) -> socket.socket:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket file is born 0600
        try:
            try:
                os.unlink(self.path)  # we hold the lock: a file left here belongs to a dead solver
            except FileNotFoundError:
                pass
            listener.bind(os.fspath(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        listener.listen(64)
        listener.settimeout(_TICK)
        return listener

    def warm(self) -> None:
        """Import the solver (the worker starts meanwhile), then solve a few problems so that SymPy's first-use
        imports are behind us before the next request."""
        from inkmath.equation.solve.pool import launch_workers

        launch_workers(1)
        try:
            import inkmath.cli.recognize  # noqa: F401  (the rendering helpers)
            import inkmath.equation.solve.answer  # noqa: F401
            import inkmath.equation.solve.steps.worked  # noqa: F401
            import inkmath.equation.solve.typed  # noqa: F401
            _render(["ready"])
        finally:
            self.ready.set()
        for latex in ("2x+1=7", "x^2-5x+6=0", "2x+1<7", r"\frac{x^2-1}{x-1}", r"\frac{1}{2}+\frac{1}{3}"):
            if self.stopping.is_set():
                return
            answer_request({"latex": [latex], "steps": True, "json": False})
        self.warmed.set()
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: warm after {time.time() - self.started:.2f} s",
              flush=True)

    def serve(self) -> None:
        threading.Thread(target=self.warm, name="warm", daemon=True).start()
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                self._check_idle()
                continue
            except OSError:
                break
            with self.lock:
                self.active += 1
                self.last_request = time.time()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        self.shutdown()

    def _check_idle(self) -> None:
        try:
            replaced = os.stat(self.path).st_ino != self.inode
        except OSError:
            replaced = True
        if replaced:
            self.stop("its socket file was removed or replaced", unlink=False)
        with self.lock:
            idle = self.active == 0 and time.time() - self.last_request > self.idle_limit
        if idle:
            self.stop(f"idle for {self.idle_limit:g} s")

    def stop(self, why: str, unlink: bool = True) -> None:
        if self.stopping.is_set():
            return
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: stopping: {why}", flush=True)
        if unlink:
            try:
                if os.stat(self.path).st_ino == self.inode:
                    os.unlink(self.path)  # new commands find no solver from now on
            except OSError:
                pass
        self.stopping.set()

    def shutdown(self) -> None:
        self.listener.close()
        deadline = time.monotonic() + STOP_TIMEOUT / 2  # requests in flight finish (their commands wait)
        while self.active and time.monotonic() < deadline:
            time.sleep(0.05)
        from inkmath.equation.solve.pool import stop_workers

        stop_workers(graceful=False)

    def _status(self) -> dict:
        from inkmath.errors import __version__
        from inkmath.equation.solve.pool import worker_pids

        now = time.time()
        return {"pid": os.getpid(), "version": __version__, "fingerprint": self.fingerprint, "python": sys.executable,
                "uptime_s": round(now - self.started, 1), "requests": self.requests, "active": self.active - 1,
                "idle_s": round(now - self.last_request, 1), "idle_limit_s": self.idle_limit,
                "ready": self.ready.is_set(), "warm": self.warmed.is_set(), "workers": worker_pids()}

    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn:
                if hasattr(socket, "SO_PEERCRED"):
                    uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                              struct.calcsize("3i")))[1]
                    if uid != os.getuid():
                        return
                conn.settimeout(ACK_TIMEOUT)
                reader = conn.makefile("rb")
                line = reader.readline(MAX_REQUEST + 1)
                if not line.endswith(b"\n"):
                    return
                request = json.loads(line)
                conn.settimeout(None)
                self._reply(conn, request)
        except (OSError, ValueError) as exc:
            print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} a request failed: {exc!r}", flush=True)
        finally:
            with self.lock:
                self.active -= 1
                self.last_request = time.time()

    @staticmethod
    def _beat(send, done: threading.Event) -> None:
        """Tell the command we are alive, every `HEARTBEAT` seconds until the answer is sent."""
        while not done.wait(HEARTBEAT):
            try:
                send({"busy": True})
            except OSError:
                return

    def _reply(self, conn: socket.socket, request: dict) -> None:
        sending = threading.Lock()

        def send(message: dict) -> None:
            with sending:
                conn.sendall(json.dumps(message).encode() + b"\n")

        op = request.get("op")
        if op == "status":
            send(self._status())
        elif op == "stop":
            send(self._status())
            self.stop("asked to stop")
        elif op == "solve":
            if request.get("fingerprint") != self.fingerprint:
                send({"stale": True, "fingerprint": self.fingerprint})
                self.stop("a command runs other code")
                return
            send({"ok": True, "ready": self.ready.is_set(), "solve_timeout": SOLVE_TIMEOUT,
                  "start_timeout": WORKER_START_TIMEOUT})
            with self.lock:
                self.requests += 1
            done = threading.Event()
            threading.Thread(target=self._beat, args=(send, done), daemon=True).start()
            try:
                self.ready.wait()
                items = answer_request(request)
            except Exception as exc:  # noqa: BLE001  (the command then solves in its own process)
                done.set()
                send({"error": f"it failed: {exc!r}"})
                raise
            done.set()
            send({"items": items})
        else:
            send({"error": f"unknown request {op!r}"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m inkmath.cli.solver_daemon", description=__doc__.splitlines()[0])
    ap.add_argument("--socket", type=Path, required=True)
    ap.add_argument("--lock-fd", type=int, required=True, help="the locked lock file, held for this process's life")
    args = ap.parse_args(argv)
    os.set_inheritable(args.lock_fd, False)  # workers must not keep the lock after this process is gone
    try:
        daemon = Daemon(args.socket, args.lock_fd)
    except (InkmathError, OSError) as exc:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: cannot start: {exc}", flush=True)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop("SIGTERM"))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: listening on {args.socket} (code "
          f"{daemon.fingerprint}, idle limit {daemon.idle_limit:g} s)", flush=True)
    daemon.serve()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
