"""The web load test's client (benchmarks/bench_web.py) against a small local server: it counts every answer,
reports non-200 answers and dropped connections as errors, and keeps going after them."""

import importlib.util
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("bench_web", Path(__file__).parents[1] / "benchmarks" / "bench_web.py")
bench_web = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench_web)


def serve(behaviour):
    """A keep-alive HTTP/1.1 server on loopback whose answer to the n-th POST is ``behaviour(n)``."""
    count = {"n": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            assert json.loads(body)["strokes"]
            with lock:
                count["n"] += 1
                n = count["n"]
            status, close = behaviour(n)
            data = json.dumps({"latex": "x", "n": n}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, count


BODIES = [{"strokes": [[[0, 0], [1, 1]]]}, {"strokes": [[[0, 0], [2, 3]], [[5, 5]]]}]


@pytest.mark.parametrize("clients", [1, 4])
def test_load_test_counts_every_answer(clients):
    server, count = serve(lambda n: (200, False))
    try:
        # the server runs in this process's threads: its CPU time counts as the "HTTP" process's
        r = bench_web.load_test(f"http://127.0.0.1:{server.server_port}", BODIES, clients, 0.5, server_pid=os.getpid())
    finally:
        server.shutdown()
    assert r["errors"] == 0, r["error_examples"]
    if os.path.isdir("/proc"):
        assert r["cpu_ms"]["load generator"] > 0
        assert set(r["cpu_ms"]) <= {"HTTP", "load generator"} and min(r["cpu_ms"].values()) > 0
    assert r["requests"] == count["n"] - len(BODIES) > 10  # the warm-up is not counted
    assert 0 < r["p50"] <= r["p95"] <= r["p99"] <= r["max"]


def test_load_test_reports_errors_and_carries_on():
    warm = len(BODIES)
    # after the warm-up: every 5th answer is a 500, every 7th closes the connection
    server, count = serve(lambda n: (500 if n > warm and n % 5 == 0 else 200, n > warm and n % 7 == 0))
    try:
        r = bench_web.load_test(f"http://127.0.0.1:{server.server_port}", BODIES, 3, 0.5)
    finally:
        server.shutdown()
    served = count["n"] - warm
    assert r["requests"] == served > 20
    fives = sum(1 for n in range(warm + 1, count["n"] + 1) if n % 5 == 0)
    assert r["errors"] == fives
    assert any(e.startswith("500:") for e in r["error_examples"])
