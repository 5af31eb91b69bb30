"""`inkmath serve` prints its address once the server accepts connections: a client that connects as soon as it
reads the line is answered. The line came before uvicorn had loaded the models and bound the socket, and a
connection then was refused for seconds."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest

from inkmath.weights import list_shipped

needs = pytest.mark.skipif(not {"hasy", "crohme-m"} <= set(list_shipped()), reason="needs the shipped weights")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_until_answered(*options: str) -> tuple[str, str, str]:
    """Start `inkmath serve OPTIONS`, read stdout up to its address line, GET / at once; the line, the page and
    the rest of stdout (after Ctrl+C)."""
    proc = subprocess.Popen([sys.executable, "-m", "inkmath", "serve", "--engine", "numpy", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    watchdog = threading.Timer(300, proc.kill)  # a server that never prints its address fails the test, not hangs
    watchdog.start()
    try:
        line = ""
        for line in proc.stdout:
            if "http://" in line:
                break
        else:
            pytest.fail(f"no address line; exit {proc.wait()}: {proc.stderr.read()[-2000:]}")
        url = re.search(r"open (http://\S+)", line).group(1)
        with urllib.request.urlopen(url, timeout=30) as reply:
            assert reply.status == 200
            page = reply.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
        watchdog.cancel()
    return line, page, rest


@needs
def test_serve_prints_its_address_once_it_accepts_connections():
    port = free_port()
    line, page, rest = serve_until_answered("--port", str(port))
    assert f"open http://127.0.0.1:{port}/" in line and "<html" in page.lower()
    assert "http://" not in rest  # printed once


@needs
def test_serve_on_any_free_port_prints_the_port_it_got():
    """--port 0 printed "open http://127.0.0.1:0/"; the line now names the port the system gave."""
    line, page, _ = serve_until_answered("--port", "0")
    assert re.search(r"open http://127\.0\.0\.1:[1-9]\d*/", line) and "<html" in page.lower()


@needs
def test_serve_with_workers_prints_its_address_once_a_worker_accepts():
    line, page, rest = serve_until_answered("--port", "0", "--workers", "2")
    assert "2 worker(s)" in line and "<html" in page.lower()
    assert "http://" not in rest
