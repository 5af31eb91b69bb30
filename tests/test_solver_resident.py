"""The resident solver behind `inkmath solve LATEX` (inkmath.cli.solver_client / solver_daemon): the same output as
solving in-process, start and replacement, stale sockets, idle exit, bypass, hostile input and a hung solver.

Every test uses its own short runtime folder (INKMATH_RUNTIME_DIR), never the user's, and stops what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from inkmath.cli import main
from inkmath.cli import solver_client

PROBLEMS = ["2x+1=7", "x^2-5x+6=0", "2x+1<7", r"x+y=3 \\ x-y=1", r"\sin x = \frac{1}{2}"]


def _without_time(text: str) -> list[dict]:
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        line.get("answer", {}).pop("elapsed_s", None)
    return lines


@pytest.fixture(scope="module")
def runtime():
    folder = Path(tempfile.mkdtemp(prefix="ink-", dir="/tmp"))  # short: a socket path holds ~100 bytes
    yield folder
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INKMATH_RUNTIME_DIR", str(folder))
        _stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def resident(runtime, monkeypatch):
    monkeypatch.setenv("INKMATH_SOLVER", "resident")
    monkeypatch.setenv("INKMATH_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("INKMATH_SOLVER_IDLE", raising=False)
    return solver_client.Paths(runtime)


def _status() -> dict | None:
    return solver_client._ask(solver_client.Paths(), "status")


def _stop() -> None:
    status = _status()
    if status is not None:
        solver_client._ask(solver_client.Paths(), "stop")
        solver_client._wait_gone(solver_client.Paths(), 30)


def _start_warm(timeout: float = 120) -> dict:
    """Start the solver (if needed) and wait until its warm-up problems are solved: under load, a worker's first
    job can run out of time for its steps, in-process or resident alike, so comparisons wait for warm workers."""
    main(["solver", "start"])
    deadline = time.monotonic() + timeout
    while not (status := _status())["warm"] and time.monotonic() < deadline:
        time.sleep(0.1)
    return status


def _alive(pid: int, wait: float = 5.0) -> bool:
    """Whether `pid` still runs `wait` seconds from now (a process that exited may be a zombie for a moment)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_resident_output_equals_in_process_output(resident, tmp_path, capsys, monkeypatch):
    _start_warm()
    monkeypatch.setenv("INKMATH_SOLVER", "inline")
    _run(["solve", "--steps", "--", *PROBLEMS], capsys)  # this process's own solver workers, warm too
    monkeypatch.setenv("INKMATH_SOLVER", "resident")
    for flags in (["--steps", "--json"], ["--steps"]):
        for problems in ([PROBLEMS[2]], [*PROBLEMS, r"\frac{1}{"]):
            code, out, err = _run(["solve", *flags, "--", *problems], capsys)
            assert "note:" not in err, err  # the resident solver answered
            monkeypatch.setenv("INKMATH_SOLVER", "inline")
            inline = _run(["solve", *flags, "--", *problems], capsys)
            monkeypatch.setenv("INKMATH_SOLVER", "resident")
            assert (code, err) == inline[0::2]
            if "--json" in flags:
                assert _without_time(out) == _without_time(inline[1]) and out.count("\n") == len(problems)
            else:
                assert out == inline[1]  # byte for byte
    status = _status()
    assert status["requests"] >= 4 and status["fingerprint"] == solver_client.code_fingerprint()
    assert os.stat(resident.socket).st_mode & 0o777 == 0o600
    assert os.stat(resident.socket.parent).st_mode & 0o777 == 0o700

    # graphs: the files are written by the command (relative to its folder), the same bytes as in-process
    monkeypatch.chdir(tmp_path)
    for flags in (["--steps"], ["--json"]):
        for problems in ([PROBLEMS[0]], [PROBLEMS[0], "x^2=4", "1+1"]):
            runs = []
            for mode in ("resident", "inline"):
                monkeypatch.setenv("INKMATH_SOLVER", mode)
                code, out, err = _run(["solve", *flags, "--plot", f"{mode}.svg", "--", *problems], capsys)
                graphs = sorted(tmp_path.glob(f"{mode}*.svg"))
                runs.append((code, out.replace(mode, "MODE"), err, [g.read_bytes() for g in graphs]))
                for g in graphs:
                    g.unlink()
            (code, out, err, svgs), inline = runs
            assert (code, err, svgs) == (inline[0], inline[2], inline[3]) and "note:" not in err
            assert (_without_time(out) == _without_time(inline[1])) if "--json" in flags else out == inline[1]
            assert len(svgs) == len(problems) - ("1+1" in problems)


def _on_a_terminal(argv: list[str], env: dict) -> bytes:
    """What `inkmath ARGV` writes to a pseudo-terminal (rich then sees a terminal, with colours and a width)."""
    import pty

    master, slave = pty.openpty()
    code = "import sys; from inkmath.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, *argv], stdout=slave, stderr=slave,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the terminal closed: the command exited
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(120) == 0
    return out


def test_text_on_a_terminal_is_the_same(resident):
    _start_warm()
    env = {**os.environ, "PYTHONPATH": str(Path(solver_client.__file__).parents[2]), "COLUMNS": "40",
           "TERM": "xterm-256color"}
    problems = ["--steps", "--", *PROBLEMS]
    ours = _on_a_terminal(["solve", *problems], env)
    assert ours == _on_a_terminal(["solve", "--no-daemon", *problems], env)
    assert b"note:" not in ours and max(len(line) for line in ours.splitlines()) > 40  # long lines, not wrapped


def test_a_hostile_problem_is_still_cannot_within_the_time_limit(resident, capsys):
    started = time.monotonic()
    code, out, err = _run(["solve", "--json", "--steps", "--", "x^{x^{x^{x}}}=2"], capsys)
    took = time.monotonic() - started
    answer = json.loads(out)["answer"]
    assert code == 0 and "note:" not in err and answer["kind"] == "none" and "did not finish" in answer["text"]
    assert took < 15.0  # SOLVE_TIMEOUT is 5 s; the in-process command takes 5.5 s
    code, out, err = _run(["solve", "--json", "--", "2x+1=9"], capsys)  # and it still answers the next one
    assert json.loads(out)["answer"]["text"] == "x = 4" and "note:" not in err


def test_a_stale_socket_file_is_cleaned_up(resident, capsys):
    _stop()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # a socket file nobody listens on (a killed solver's)
    dead.bind(str(resident.socket))
    dead.close()
    assert resident.socket.exists()
    code, out, err = _run(["solve", "--", "2x+1=7"], capsys)
    assert code == 0 and "x = 3" in out and "note:" not in err
    assert _status() is not None


def test_commands_racing_to_start_it_start_one(resident):
    _stop()
    resident.log.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(Path(solver_client.__file__).parents[2])}
    code = "import sys; from inkmath.cli import main; sys.exit(main(['solve', '--json', '--', sys.argv[1]]))"
    racers = [subprocess.Popen([sys.executable, "-c", code, f"x+{k}=9"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env) for k in range(1, 5)]
    for k, racer in enumerate(racers, 1):
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0 and err == "" and json.loads(out)["answer"]["text"] == f"x = {9 - k}"
    assert resident.log.read_text().count("listening on") == 1 and _status()["requests"] >= 4


def _python_files(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or os.path.isdir(os.path.join(folder, n)))]


def test_a_solver_running_other_code_is_replaced(resident, tmp_path):
    # "the code changed" on a copy of inkmath's Python files, whose commands have a solver of their own: the shared
    # source tree is left as it is, as tests of this module that run beside this one read its fingerprint
    copy = tmp_path / "copy"
    shutil.copytree(Path(solver_client.__file__).parents[1], copy / "inkmath", ignore=_python_files)
    source = copy / "inkmath" / "cli" / "solver_daemon.py"
    env = {**os.environ, "PYTHONPATH": str(copy)}

    def command(*argv: str) -> str:
        code = f"import sys; from inkmath.cli import main; sys.exit(main({list(argv)!r}))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180)
        assert done.returncode == 0 and done.stderr == ""
        return done.stdout

    def solve() -> dict:
        assert "x = 3" in command("solve", "--", "2x+1=7")
        return json.loads(command("solver", "status", "--json"))

    try:
        old = solve()
        st = os.stat(source)
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        new = solve()
        assert new["pid"] != old["pid"] and new["fingerprint"] != old["fingerprint"] and new["current"]
        assert not _alive(old["pid"])
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))  # and back: replaced once more
        back = solve()
        assert back["pid"] != new["pid"] and back["fingerprint"] == old["fingerprint"]
    finally:
        command("solver", "stop")


def _python_files(folder: str, names: list[str]) -> list[str]:
    """``shutil.copytree``'s ignore: all but folders and .py files (no caches, weights or examples)."""
    return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or os.path.isdir(os.path.join(folder, n)))]


def test_no_daemon_flag_and_inline_mode_bypass_it(runtime, monkeypatch, capsys):
    folder = Path(tempfile.mkdtemp(prefix="ink-", dir="/tmp"))
    try:
        monkeypatch.setenv("INKMATH_RUNTIME_DIR", str(folder))
        monkeypatch.setenv("INKMATH_SOLVER", "resident")
        assert _run(["solve", "--no-daemon", "--", "2x+1=7"], capsys)[1].startswith("2x+1=7\n")
        monkeypatch.setenv("INKMATH_SOLVER", "inline")
        assert "x = 3" in _run(["solve", "--", "2x+1=7"], capsys)[1]
        assert list(folder.iterdir()) == []  # no socket, lock or log: nothing was started
        monkeypatch.setenv("INKMATH_SOLVER", "sometimes")
        code, _, err = _run(["solve", "--", "2x+1=7"], capsys)
        assert code == 2 and "INKMATH_SOLVER" in err
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_it_exits_when_idle(resident, monkeypatch, capsys):
    _stop()
    monkeypatch.setenv("INKMATH_SOLVER_IDLE", "1")
    assert _run(["solve", "--", "2x+1=7"], capsys)[0] == 0
    pid = _status()["pid"]
    assert not _alive(pid, wait=20) and not resident.socket.exists()
    assert "idle for 1 s" in resident.log.read_text()


# a stand-in "solver": holds the start lock, listens on the socket, says 'ready', then does ``then`` (Python source)
_FAKE_SOLVER = ("import fcntl, json, os, socket, sys, time; fd = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT); "
                "fcntl.flock(fd, fcntl.LOCK_EX); s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
                "s.listen(); print('ready', flush=True); ")


@contextlib.contextmanager
def _fake_solver(resident, then: str, unlink: bool = True):
    proc = subprocess.Popen([sys.executable, "-c", _FAKE_SOLVER + then, str(resident.socket), str(resident.lock)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        if unlink:  # not when a real solver has taken the socket over since
            resident.socket.unlink(missing_ok=True)



def test_a_hung_solver_is_killed_and_the_command_answers_itself(resident, monkeypatch, capsys):
    _stop()
    # a "solver" that holds the lock and listens but never answers
    with _fake_solver(resident, "time.sleep(60)") as proc:
        monkeypatch.setattr(solver_client, "ACK_TIMEOUT", 0.5)
        code, out, err = _run(["solve", "--", "2x+1=7"], capsys)
        assert code == 0 and "x = 3" in out
        assert err.count("\n") == 1 and err.startswith("note: the resident solver was not used: it did not answer")
        assert proc.wait(10) == -9  # killed by the command


def test_a_solver_that_closes_as_the_command_comes_is_replaced(resident, capsys):
    _stop()
    # a "solver" that takes one connection, closes it unanswered and exits (as one at its idle exit would)
    with _fake_solver(resident, "s.accept()[0].close()", unlink=False) as proc:
        code, out, err = _run(["solve", "--", "2x+1=7"], capsys)
        assert code == 0 and "x = 3" in out and err == ""
        assert proc.wait(10) == 0 and _status()["pid"] != proc.pid  # a real solver answered


def test_a_solver_that_dies_after_taking_the_request_up_leaves_the_command_to_answer(resident, capsys):
    _stop()
    # a "solver" that acknowledges the request and dies (a crash in the middle of solving)
    dying = ("c = s.accept()[0]; c.makefile('rb').readline(); "
             "c.sendall(json.dumps({'ok': True, 'ready': True, 'solve_timeout': 5, 'start_timeout': 60}).encode() "
             "+ b'\\n'); os._exit(1)")
    with _fake_solver(resident, dying) as proc:
        code, out, err = _run(["solve", "--", "2x+1=7"], capsys)
        assert code == 0 and "x = 3" in out
        assert err == "note: the resident solver was not used: it closed the connection without an answer; " \
                      "solving in this process\n"
        assert proc.wait(10) == 1


def test_a_solver_that_dies_as_it_starts_leaves_the_command_to_answer(resident, monkeypatch, capsys):
    _stop()
    monkeypatch.setenv("INKMATH_SOLVER_IDLE", "soon")  # the solver refuses it and exits
    started = time.monotonic()
    code, out, err = _run(["solve", "--", "2x+1=7"], capsys)
    assert code == 0 and "x = 3" in out and time.monotonic() - started < 30
    assert err == (f"note: the resident solver was not used: it exited as it started (see {resident.log}); "
                   "solving in this process\n")
    assert "INKMATH_SOLVER_IDLE='soon' is not a number" in resident.log.read_text()


def test_a_runtime_folder_others_can_read_is_refused(monkeypatch, capsys):
    folder = Path(tempfile.mkdtemp(prefix="ink-", dir="/tmp"))
    try:
        folder.chmod(0o755)
        monkeypatch.setenv("INKMATH_RUNTIME_DIR", str(folder))
        monkeypatch.setenv("INKMATH_SOLVER", "resident")
        code, out, err = _run(["solve", "--", "2x+1=7"], capsys)
        assert code == 0 and "x = 3" in out and "not a private folder" in err and list(folder.iterdir()) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_command_that_asks_it_imports_no_sympy_numpy_or_rich(resident):
    main(["solver", "start"])
    code = ("import sys, json; from inkmath.cli import main; code = main(['solve', '--steps', '--', '2x+1<7']); "
            "print(json.dumps(sorted(m for m in ('numpy', 'sympy', 'rich', 'yaml', 'matplotlib', 'subprocess') "
            "if m in sys.modules))); sys.exit(code)")
    env = {**os.environ, "PYTHONPATH": str(Path(solver_client.__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and "note:" not in done.stderr, done.stderr
    assert "x ∈ (-∞, 3)" in done.stdout or "x < 3" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
