"""The resident solver's client half: `inkmath solve LATEX...` asks a per-user solver process over a Unix socket
instead of starting Python's SymPy itself, and `inkmath solver status|start|stop` manage that process.

A new `inkmath solve` process spends 0.3-0.5 s importing SymPy before it can answer (docs/decisions/
solver-and-worked-solutions.md). The resident solver (`inkmath.cli.solver_daemon`) has SymPy loaded and its solver
workers warm, so a command that reaches it costs Python's start, these few imports and the solving itself
(docs/decisions/solver-and-worked-solutions.md has the figures). The same idea as dmypy or the Gradle daemon:

- One socket per user and installation: `solver-UID-HASH.sock` in `runtime_dir()` (``$INKMATH_RUNTIME_DIR``, else
  ``$XDG_RUNTIME_DIR/inkmath``, else ``~/.cache/inkmath/run``); the folder is 0700 and must belong to the user, the
  socket is 0600, and the client checks the peer's uid. HASH names the package folder and the interpreter, so two
  checkouts do not replace each other's solver.
- The request carries `code_fingerprint()` (version, interpreter, size and mtime of every .py file of the
  package). A solver started from other code answers "stale" and exits; the command then starts a new one.
- No solver: the command takes the lock file (flock), removes a stale socket file, starts one detached
  (`start_new_session`, output to `solver-UID-HASH.log`) and hands it the locked file: the lock is held exactly as
  long as a solver lives, so two racing commands start one. Then it waits for that solver's answer.
- While it solves, the solver sends a "busy" line every `HEARTBEAT`. A solver that does not take the request up
  within `ACK_TIMEOUT`, falls silent for `SILENCE_TIMEOUT`, or takes longer than its own time limits allow (the
  acknowledgement names them) is killed, and the command solves in its own process with a one-line note on stderr.
  So does any other failure.
- It exits after `IDLE_EXIT` seconds without a request (``$INKMATH_SOLVER_IDLE``), on `inkmath solver stop`, or
  when its socket file is removed or replaced.
- ``--no-daemon`` or ``INKMATH_SOLVER=inline`` bypass it.

This module imports only what a command that talks to the solver needs (no SymPy, NumPy, rich or subprocess on the
way to an answer); `python -X importtime` figures are in the decision note.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
from pathlib import Path

try:  # the C module: `socket` wraps it in enums and classes that took 3-13 ms to import here, for nothing we use
    import _socket as socket
except ImportError:
    import socket

from inkmath.errors import InkmathError, __version__

IDLE_EXIT = 15 * 60.0  # seconds without a request after which the resident solver exits
START_TIMEOUT = 60.0  # seconds a new solver may take to import SymPy and get ready (as WORKER_START_TIMEOUT)
ACK_TIMEOUT = 5.0  # seconds a running solver may take to take up a request (it acknowledges before solving)
HEARTBEAT = 1.0  # seconds between the solver's "busy" lines while it solves
SILENCE_TIMEOUT = 10.0  # seconds without any line from a solver that took the request: it is wedged
STOP_TIMEOUT = 30.0  # seconds a stopping solver may take to finish the requests in flight and exit
CONNECT_TIMEOUT = 2.0  # seconds for connect() itself
LOCK_POLL = 0.02  # seconds between attempts while another command starts the solver
MAX_REPLY = 64 * 1024 * 1024  # bytes: a reply larger than this is a broken solver, not an answer

ENV_MODE = "INKMATH_SOLVER"  # "inline": never use the resident solver; "resident" (default): use it
ENV_RUNTIME_DIR = "INKMATH_RUNTIME_DIR"  # where the socket, lock and log live (tests use a temporary folder)
ENV_IDLE = "INKMATH_SOLVER_IDLE"  # idle seconds before the solver exits (overrides IDLE_EXIT; tests use ~1)

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../inkmath


class ResidentError(Exception):
    """The resident solver could not be used (the reason goes into the one-line note; the command goes inline)."""


def wanted(no_daemon: bool = False) -> bool:
    """Whether `inkmath solve` should ask the resident solver (not with --no-daemon or INKMATH_SOLVER=inline)."""
    mode = os.environ.get(ENV_MODE, "resident").strip().lower()
    if mode not in ("resident", "inline", ""):
        raise InkmathError(f"{ENV_MODE}={mode!r} is not known; use 'resident' (the default) or 'inline'")
    return not no_daemon and mode != "inline" and os.name == "posix" and hasattr(socket, "AF_UNIX")


def idle_limit() -> float:
    text = os.environ.get(ENV_IDLE)
    if not text:
        return IDLE_EXIT
    try:
        value = float(text)
    except ValueError:
        raise InkmathError(f"{ENV_IDLE}={text!r} is not a number of seconds") from None
    if value <= 0:
        raise InkmathError(f"{ENV_IDLE}={text!r} must be more than 0 seconds")
    return value


def _blake2b(data: bytes = b"", digest_size: int = 12):
    try:  # the C module itself: hashlib would first load OpenSSL's _hashlib, 3-9 ms of a ~50 ms command
        from _blake2 import blake2b
    except ImportError:
        from hashlib import blake2b
    return blake2b(data, digest_size=digest_size)


def code_fingerprint() -> str:
    """Names the code a solver runs: inkmath's version, the interpreter, the package folder, and the size and
    modification time of each of its .py files (~1.5 ms for 112 files here). A solver with another one is stale."""
    h = _blake2b()
    h.update(f"{__version__}\0{sys.executable}\0{_PACKAGE_DIR}\0".encode())
    for root, dirs, files in os.walk(_PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                st = os.stat(path)
                h.update(f"{os.path.relpath(path, _PACKAGE_DIR)}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()


def runtime_dir() -> Path:
    """The user's private folder for the socket, lock and log, made 0700 if missing. Raises `ResidentError` if it
    belongs to someone else or others may read it (a socket there could be someone else's)."""
    base = os.environ.get(ENV_RUNTIME_DIR)
    if base:
        folder = Path(base)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "inkmath"
    else:
        folder = Path.home() / ".cache" / "inkmath" / "run"
    try:
        if not base:
            folder.parent.mkdir(parents=True, exist_ok=True)  # $INKMATH_RUNTIME_DIR: only the folder itself is made
        folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)
    except OSError as exc:
        raise ResidentError(f"cannot make its folder {folder} ({exc.strerror})") from None
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise ResidentError(f"its folder {folder} is not a private folder of this user (want mode 0700)")
    return folder


class Paths:
    """The socket, lock and log files of this user's solver for this installation."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or runtime_dir()
        where = _blake2b(f"{_PACKAGE_DIR}\0{sys.executable}".encode(), digest_size=5).hexdigest()
        stem = folder / f"solver-{os.getuid()}-{where}"
        self.socket, self.lock, self.log = (Path(f"{stem}.sock"), Path(f"{stem}.lock"), Path(f"{stem}.log"))
        if len(os.fsencode(self.socket)) > 100:  # sun_path holds 108 bytes on Linux, 104 on macOS
            raise ResidentError(f"its socket path {self.socket} is too long for a Unix socket; set {ENV_RUNTIME_DIR} "
                                "to a shorter folder")


# ---------------------------------------------------------------- talking to a solver

class _Connection:
    """One request: connect, send a JSON line, read JSON lines back (each with its own deadline)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.buffer = b""
        self.peer_pid = None
        self.sock.settimeout(CONNECT_TIMEOUT)
        try:
            self.sock.connect(os.fspath(path))
        except BaseException:
            self.sock.close()
            raise
        if hasattr(socket, "SO_PEERCRED"):  # Linux: who is at the other end
            creds = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            self.peer_pid, uid, _ = struct.unpack("3i", creds)
            if uid != os.getuid():
                self.close()
                raise ResidentError(f"its socket {path} belongs to another user (uid {uid})")

    def send(self, message: dict) -> None:
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def receive(self, timeout: float, total: float | None = None) -> dict:
        """The next line other than a "busy" one, each line within `timeout` and all within `total` seconds."""
        end = time.monotonic() + (total if total is not None else timeout)
        while True:
            message = self._line(min(timeout, end - time.monotonic()))
            if not message.get("busy"):
                return message

    def _line(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ResidentError("it closed the connection without an answer")
            self.buffer += chunk
            if len(self.buffer) > MAX_REPLY:
                raise ResidentError("its answer was too large")
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        self.sock.close()


def _connect(paths: Paths) -> _Connection | None:
    """A connection to the running solver, or None when there is none (no socket file, or nobody listening)."""
    try:
        return _Connection(paths.socket)
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    except OSError as exc:
        raise ResidentError(f"cannot connect to {paths.socket} ({exc.strerror or exc})") from None


def _kill(pid: int | None) -> None:
    """End a solver that stopped answering (its workers exit on their own: their pipe closes)."""
    import signal

    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _spawn(paths: Paths, lock_fd: int) -> None:
    """Start a solver detached from this command (own session, output to the log) that inherits the held lock.

    Through ``sh -c '"$@" &'``, which exits at once: the solver is then no child of this process (a caller that
    lives on, such as a test, keeps no zombie of it) but of init, as with a double fork."""
    import subprocess

    env = dict(os.environ)
    package_root = str(_PACKAGE_DIR.parent)  # the solver imports this very inkmath
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    with open(paths.log, "ab") as log:
        if log.tell() > 1 << 20:  # keep the log small: a new solver starts it afresh past 1 MB
            log.truncate(0)
        os.chmod(paths.log, 0o600)
        command = [sys.executable, "-m", "inkmath.cli.solver_daemon", "--socket", str(paths.socket),
                   "--lock-fd", str(lock_fd)]
        try:
            subprocess.run(["/bin/sh", "-c", '"$@" &', "inkmath-solver", *command], stdin=subprocess.DEVNULL,
                           stdout=log, stderr=log, pass_fds=[lock_fd], close_fds=True, start_new_session=True,
                           cwd="/", env=env, check=True, timeout=CONNECT_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ResidentError(f"it could not be started ({exc})") from None


def _try_lock(paths: Paths) -> int | None:
    """The lock file's descriptor, locked, if no solver holds it (none runs or starts); else None."""
    import fcntl

    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _running_or_start(paths: Paths, timeout: float = START_TIMEOUT) -> tuple[_Connection, bool]:
    """A connection to a solver, starting one if none runs: (connection, whether this call started it)."""
    deadline = time.monotonic() + timeout
    started = False
    while True:
        conn = _connect(paths)
        if conn is not None:
            return conn, started
        fd = _try_lock(paths)
        if fd is not None and started:  # the solver we started holds the lock no more: it died at start
            os.close(fd)
            raise ResidentError(f"it exited as it started (see {paths.log})")
        if fd is not None:  # no solver lives: whatever socket file is left is stale
            try:
                try:
                    os.unlink(paths.socket)
                except FileNotFoundError:
                    pass
                _spawn(paths, fd)
                started = True
            finally:
                os.close(fd)  # the solver holds the lock now
        if time.monotonic() > deadline:
            raise ResidentError(f"it did not start within {timeout:g} s (see {paths.log})")
        time.sleep(LOCK_POLL)


def _wait_gone(paths: Paths, timeout: float) -> None:
    """Wait until no solver holds the lock (a stale one is exiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fd = _try_lock(paths)
        if fd is not None:
            os.close(fd)
            return
        time.sleep(LOCK_POLL)
    raise ResidentError(f"a solver that was stopping did not exit within {timeout:g} s")


def solve_resident(latexes: list[str], *, steps: bool, plot: str | None, as_json: bool) -> list[dict]:
    """The resident solver's replies, one per problem: `{"result"}` (plus pre-rendered `text` and `note` for
    people) or `{"error"}`. Starts the solver if none runs, replaces one running other code. Raises
    `ResidentError` with the reason when it cannot be used (the caller then solves in its own process). The
    solver's acknowledgement names its time limits per problem (solving, and starting a worker in its place)."""
    paths = Paths()
    request = {"op": "solve", "fingerprint": code_fingerprint(), "latex": latexes, "steps": steps, "plot": plot,
               "json": as_json}
    for attempt in range(3):
        conn, started = _running_or_start(paths)
        try:
            try:
                conn.send(request)
                ack = conn.receive(START_TIMEOUT if started else ACK_TIMEOUT)
            except (ResidentError, ConnectionError):  # it closed as we came (idle exit, stop): ask the next one
                if attempt == 2:
                    raise ResidentError("it closed the connection before taking the request up") from None
                continue
            if ack.get("stale"):
                _wait_gone(paths, STOP_TIMEOUT)  # it exits once its current requests are done
                continue
            if not ack.get("ok"):
                raise ResidentError(ack.get("error") or f"it refused the request ({ack})")
            total = (len(latexes) * (float(ack["solve_timeout"]) + float(ack["start_timeout"]))
                     + (0 if ack.get("ready") else START_TIMEOUT))
            reply = conn.receive(SILENCE_TIMEOUT, total)
        except TimeoutError:
            _kill(conn.peer_pid)
            raise ResidentError("it did not answer in time and was stopped") from None
        except (OSError, ValueError, KeyError) as exc:
            raise ResidentError(f"the connection failed ({exc!r})") from None
        finally:
            conn.close()
        items = reply.get("items")
        if not isinstance(items, list) or len(items) != len(latexes):
            raise ResidentError(reply.get("error") or "its answer was malformed")
        return items
    raise ResidentError("it kept running other code or closing")


# ---------------------------------------------------------------- inkmath solver status|start|stop

def register(subparsers) -> None:
    p = subparsers.add_parser(
        "solver", help="manage the resident solver that makes `inkmath solve` fast",
        description="`inkmath solve LATEX` hands its problems to a resident solver process of this user, which\n"
                    "keeps SymPy loaded; the first command starts it, it exits after "
                    f"{IDLE_EXIT / 60:g} minutes without\nrequests ({ENV_IDLE} seconds), and a new one replaces it "
                    "when inkmath's code changes.\nBypass it with `inkmath solve --no-daemon` or "
                    f"{ENV_MODE}=inline. Its socket, lock and log live in\n${ENV_RUNTIME_DIR}, else "
                    "$XDG_RUNTIME_DIR/inkmath, else ~/.cache/inkmath/run.")
    p.add_argument("action", choices=["status", "start", "stop"],
                   help="status: is it running, since when, how busy; start: start it now (warm); stop: end it")
    p.add_argument("--json", action="store_true", help="print the status as one JSON object")
    p.set_defaults(func=run_solver)


def _ask(paths: Paths, op: str) -> dict | None:
    conn = _connect(paths)
    if conn is None:
        return None
    try:
        conn.send({"op": op})
        return conn.receive(STOP_TIMEOUT)
    except (TimeoutError, OSError, ValueError) as exc:
        raise InkmathError(f"the resident solver at {paths.socket} does not answer ({exc or 'timeout'}); "
                           "`inkmath solver stop` again, or remove that file if no solver process runs") from None
    finally:
        conn.close()


def run_solver(args) -> int:
    try:
        paths = Paths()
        if args.action == "start":
            conn, started = _running_or_start(paths)
            conn.close()
        status = _ask(paths, "status") if args.action != "stop" else _ask(paths, "stop")
        if args.action == "stop" and status is not None:
            _wait_gone(paths, STOP_TIMEOUT)
    except ResidentError as exc:
        raise InkmathError(f"resident solver: {exc}") from None
    if status is not None and args.action != "stop":
        status["current"] = status.get("fingerprint") == code_fingerprint()
    if args.json:
        print(json.dumps({"running": status is not None, "socket": str(paths.socket), **(status or {})}))
    elif status is None:
        print(f"not running (socket {paths.socket})")
    elif args.action == "stop":
        print(f"stopped (pid {status.get('pid')})")
    else:
        print(f"running: pid {status['pid']}, up {status['uptime_s']:.0f} s, {status['requests']} requests, idle "
              f"{status['idle_s']:.0f} s of {status['idle_limit_s']:g}, workers {status['workers']}, "
              f"{'current code' if status['current'] else 'OLDER CODE (the next solve replaces it)'}; "
              f"socket {paths.socket}, log {paths.log}")
    return 0
