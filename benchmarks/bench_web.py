"""Load test of the HTTP API, and ONNX Runtime vs PyTorch latency on the same model and inputs.

    INKMATH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_web.py [--seconds 30] [--clients 8]

1. Starts ``inkmath serve`` (a real uvicorn server) in a subprocess on a free loopback port, once per engine.
2. N closed-loop clients (one keep-alive connection each, all driven by one thread) POST real handwritten
   expressions - the first CROHME 2014 test InkML files, as strokes - to ``/api/expression`` in a loop until the
   time is up; latency is measured per request on the client. Any non-200 answer or exception counts as an error.
3. In-process, the expression classifier runs on the same prepared symbol batches with engine torch and onnx
   (one thread each), median of repeated runs: the ratio of the two is the engine's share of the difference.
Writes ``benchmarks/results/web.md`` (command, machine, load on the machine, numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "web.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payloads(n: int) -> list[dict]:
    """Strokes of the first n CROHME 2014 test expressions (real handwriting); digits drawn by code without data."""
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml

    archive = data_dir() / "crohme" / "crohme2014_test_inkml.tar.xz"
    out = []
    if archive.is_file():
        for expr in iter_inkml(archive):
            strokes = [np.asarray(s, float)[:, :2].round(2).tolist() for s in expr.strokes if len(s)]
            if 3 <= len(strokes) <= 30:
                out.append({"strokes": strokes})
            if len(out) >= n:
                break
    if not out:
        print(f"note: {archive} not found; using code-drawn digits", file=sys.stderr)
        t = np.linspace(0, 2 * np.pi, 40)
        ring = np.column_stack([50 + 30 * np.cos(t), 80 + 60 * np.sin(t)]).tolist()
        out = [{"strokes": [[[x + 120 * k, y] for x, y in ring] for k in range(n_sym)]} for n_sym in range(1, 6)]
    return out


class Server:
    """``inkmath serve`` in a subprocess; stopped (by its own pid) on exit."""

    def __init__(self, weights: str, engine: str, workers: int = 1, pool: int = 0, expression_weights: str | None = None):
        self.port = free_port()
        # the server runs with this interpreter's flags (-X ..., -O), as its own worker processes do
        cmd = [sys.executable, *subprocess._args_from_interpreter_flags(), "-m", "inkmath", "serve", "--port", str(self.port), "--weights", weights,
               "--expression-weights", expression_weights or weights, "--engine", engine, "--threads", "1", "--workers", str(workers), "--pool", str(pool), "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        import httpx

        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("server did not start in 180 s")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class RawConnection:
    """One keep-alive HTTP/1.1 connection of the load test: POSTs prebuilt requests and collects answers sized by
    Content-Length (what the server sends; a chunked or unsized answer is an error here)."""

    def __init__(self, host: str, port: int, first: int):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf, self.size, self.next, self.t0 = b"", -1, first, 0.0
        self.closing = False  # the last answer said "Connection: close"

    @staticmethod
    def request(host: str, path: str, body: bytes) -> bytes:
        return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    def send(self, requests: list[bytes]) -> None:
        self.t0 = time.perf_counter()
        self.sock.sendall(requests[self.next % len(requests)])
        self.next += 1

    def receive(self) -> tuple[int, bytes] | None:
        """Read what has arrived (the socket is readable); (status, body) once the answer is complete."""
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk
        if self.size < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            sizes = [ln.split(":", 1)[1] for ln in lines[1:] if ln.lower().startswith("content-length:")]
            if not sizes:
                raise ValueError(f"answer without Content-Length: {lines[:3]!r}")
            self.status, self.buf, self.size = int(lines[0].split(" ", 2)[1]), self.buf[end + 4:], int(sizes[0])
            self.closing = any(ln.lower().replace(" ", "") == "connection:close" for ln in lines[1:])
        if len(self.buf) < self.size:
            return None
        data, self.buf, self.size = self.buf[:self.size], self.buf[self.size:], -1
        return self.status, data

    def close(self) -> None:
        self.sock.close()


def server_cpu(root: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) so far of the server and each of its processes, by kind; {} without /proc."""
    if not os.path.isdir(f"/proc/{root}"):
        return {}
    stats: dict[int, list[str]] = {}  # pid -> the fields of /proc/pid/stat after the command's name
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stats[int(entry)] = f.read().rsplit(")", 1)[1].split()
            except OSError:  # ended in between
                continue
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    tick = os.sysconf("SC_CLK_TCK")
    out, todo = {}, [root]
    while todo:  # root and all its descendants
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        kind = ("HTTP" if pid == root else "solver workers" if "worker_entry" in cmd
                else "multiprocessing tracker" if "resource_tracker" in cmd else "recognition / uvicorn workers")
        fields = stats[pid]
        out[pid] = (kind, (int(fields[11]) + int(fields[12])) / tick)
    return out


def load_test(url: str, bodies: list[dict], clients: int, seconds: float, server_pid: int | None = None) -> dict:
    """``clients`` closed-loop clients (each sends its next request when the answer to the last one is complete)
    for ``seconds``; latency per request from the first byte sent to the last byte received.

    The clients share the 2 cores with the server, and a load generator should take as little of them as it can:
    one thread drives all the connections with a selector, requests are prebuilt bytes, and only the status line
    and Content-Length of each answer are parsed (httpx in threads cost ~2.8 ms of CPU a request here,
    http.client in 8 threads ~0.9 ms, this ~0.3 ms).
    With ``server_pid``, also the CPU time a request of each kind of server process, and of this load generator
    (``cpu_ms``; Linux only): where the time goes.
    """
    import selectors

    import httpx

    with httpx.Client(timeout=60) as warm:  # warm-up: models load, first-call costs paid
        for body in bodies:
            warm.post(url + "/api/expression", json=body).raise_for_status()
    host, port = url.split("//")[1].split(":")
    requests = [RawConnection.request(host, "/api/expression", json.dumps(b).encode()) for b in bodies]
    latencies: list[float] = []
    errors: list[str] = []
    sel = selectors.DefaultSelector()
    cpu_before, client_before = server_cpu(server_pid) if server_pid else {}, time.process_time()
    start = time.perf_counter()
    stop = start + seconds

    def open_and_send(first: int) -> None:
        while True:  # until connected, or the time is up
            conn = None
            try:
                conn = RawConnection(host, int(port), first)
                conn.send(requests)
            except OSError as e:
                errors.append(repr(e))
                if conn is not None:
                    conn.close()
                if time.perf_counter() >= stop:
                    return
                time.sleep(0.05)  # the server refuses connections: do not spin
                continue
            sel.register(conn.sock, selectors.EVENT_READ, conn)
            return

    def retire(conn: RawConnection) -> None:
        """Close a connection; another takes its place while there is time."""
        sel.unregister(conn.sock)
        conn.close()
        if time.perf_counter() < stop:
            open_and_send(conn.next)

    for k in range(clients):
        open_and_send(k)
    while sel.get_map():
        events = sel.select(timeout=30)
        if not events:  # 30 s without a byte on any connection: the server hangs
            for key in list(sel.get_map().values()):
                errors.append("no answer in 30 s")
                sel.unregister(key.fileobj)
                key.data.close()
            break
        for key, _ in events:
            conn = key.data
            try:
                answer = conn.receive()
                if answer is None:
                    continue
                latencies.append(time.perf_counter() - conn.t0)
                if answer[0] != 200:
                    errors.append(f"{answer[0]}: {answer[1][:120]!r}")
                if time.perf_counter() >= stop or conn.closing:
                    retire(conn)
                else:
                    conn.send(requests)
            except (OSError, ValueError) as e:
                latencies.append(time.perf_counter() - conn.t0)
                errors.append(repr(e))
                retire(conn)
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_before
    ms = np.array(latencies) * 1000
    out = {"requests": len(latencies), "errors": len(errors), "error_examples": errors[:3], "seconds": elapsed,
           "rps": len(latencies) / elapsed, "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
           "p99": float(np.percentile(ms, 99)), "max": float(ms.max())}
    if cpu_before and latencies:
        cpu: dict[str, float] = {}
        for pid, (kind, seconds_now) in server_cpu(server_pid).items():
            cpu[kind] = cpu.get(kind, 0.0) + (seconds_now - cpu_before.get(pid, (kind, 0.0))[1])
        cpu["load generator"] = client_cpu
        out["cpu_ms"] = {kind: 1000 * t / len(latencies) for kind, t in cpu.items() if t > 0}
    return out


def engine_ratio(weights: str, bodies: list[dict], repeats: int = 50) -> dict:
    """Median classifier latency, torch vs onnx, on the symbol crops of the payloads (batch 1 and the whole set)."""
    import torch

    from inkmath.ink import normalization_scale, render_symbol
    from inkmath.predict import Predictor
    from inkmath.preprocess import prepare

    torch.set_num_threads(1)
    p_torch = Predictor.load(weights, engine="torch")
    from inkmath.onnx_run import load_onnx_runner
    from inkmath.weights import resolve_weights

    path, card = resolve_weights(weights)
    p_onnx = Predictor(load_onnx_runner(path, card, threads=1), card, "onnx")
    crops = []
    for body in bodies:
        strokes = [np.asarray(s, float) for s in body["strokes"]]
        scale = normalization_scale(strokes)
        crops += [prepare(render_symbol([s], scale=scale), p_torch.preset, "white") for s in strokes]
    batch = np.stack(crops)[:, None].astype(np.float32)  # (N, 1, S, S)
    out = {"symbols": len(batch), "max_abs_diff": float(np.abs(p_onnx.logits(batch) - p_torch.logits(batch)).max())}
    for label, x in (("batch1", batch[:1]), (f"batch{len(batch)}", batch)):
        times = {}
        for name, p in (("torch", p_torch), ("onnx", p_onnx)):
            p.logits(x)
            runs = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                p.logits(x)
                runs.append(time.perf_counter() - t0)
            times[name] = statistics.median(runs) * 1000
        out[label] = {"torch_ms": times["torch"], "onnx_ms": times["onnx"], "onnx_over_torch": times["onnx"] / times["torch"]}
    return out


def server_stack() -> str:
    """What uvicorn's "auto" picks in this environment (the server runs with this interpreter)."""
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"{http} and {loop}"


def machine() -> tuple[str, str]:
    name = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout.strip()
    busy = subprocess.run(["ps", "-eo", "pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True).stdout
    lines = [ln[:150] for ln in busy.splitlines()[1:] if ln.split() and float(ln.split()[0]) >= 10.0]
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
    name = name.split(":", 1)[-1].strip()
    return name or "unknown", f"load average {' '.join(load)}; processes using >= 10 % CPU:\n" + "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--weights", default=None, help="expression classifier (default: crohme if shipped, else the largest)")
    ap.add_argument("--engines", default="torch,onnx")
    ap.add_argument("--workers", default="1,2,pool2",
                    help="server set-ups to compare: N uvicorn worker processes, or poolN (one HTTP process and N "
                         "recognition processes fed from one queue)")
    ap.add_argument("--payloads", type=int, default=20)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()

    from inkmath.weights import default_name, list_shipped

    weights = args.weights or ("crohme" if "crohme" in list_shipped() else default_name())
    try:  # the expression reader's own classifier, as `inkmath serve` reads with by default
        from inkmath.equation.recognize import DEFAULT_WEIGHTS as expression_weights
    except ImportError:
        expression_weights = None
    expression_weights = args.weights or expression_weights
    bodies = payloads(args.payloads)
    cpu, before = machine()
    runs = {}
    for workers in args.workers.split(","):
        for engine in args.engines.split(","):
            n, pool = (1, int(workers[4:])) if workers.startswith("pool") else (int(workers), 0)
            with Server(weights, engine, n, pool, expression_weights) as srv:
                runs[(engine, workers)] = r = load_test(srv.url, bodies, args.clients, args.seconds, srv.proc.pid)
            print(engine, workers, {k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items() if k != "cpu_ms"},
                  {k: round(v, 2) for k, v in r.get("cpu_ms", {}).items()}, flush=True)
    ratio = engine_ratio(weights, bodies)
    print("classifier", ratio, flush=True)
    _, after = machine()

    cmd = "INKMATH_DATA=/work/shared/data .venv/bin/python benchmarks/bench_web.py " + " ".join(sys.argv[1:])
    lines = [
        "# Web API load test", "",
        f"Command: `{cmd.strip()}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  ",
        f"Machine: {cpu} ({os.cpu_count()} logical CPUs)  ",
        f"Weights: `{weights}`; payloads: {len(bodies)} CROHME 2014 test expressions as strokes "
        f"({sum(len(b['strokes']) for b in bodies)} strokes in all), cycled; server: `inkmath serve --threads 1 "
        f"--workers W --engine E` (`poolN`: `--workers 1 --pool N`), uvicorn on {server_stack()}; {args.clients} concurrent "
        f"closed-loop clients (one keep-alive connection each, one thread for all) for {args.seconds:g} s on loopback.", "",
        "| engine | workers | requests | errors | requests/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (engine, workers), r in runs.items():
        lines.append(f"| {engine} | {workers} | {r['requests']} | {r['errors']} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} "
                     f"| {r['p99']:.0f} | {r['max']:.0f} |")
    kinds = ["HTTP", "recognition / uvicorn workers", "solver workers", "load generator"]
    if any("cpu_ms" in r for r in runs.values()):
        lines += ["", f"CPU time a request (user + system, from /proc, during the load; the machine has "
                      f"{os.cpu_count()} cores, so at full use they give {os.cpu_count()} x 1000 / requests/s ms):", "",
                  "| engine | workers | " + " | ".join(kinds) + " | all | cores x 1000 / requests/s |",
                  "|---|---|" + "---|" * (len(kinds) + 2)]
        for (engine, workers), r in runs.items():
            c = r.get("cpu_ms", {})
            lines.append(f"| {engine} | {workers} | " + " | ".join(f"{c.get(k, 0.0):.1f}" for k in kinds)
                         + f" | {sum(c.values()):.1f} | {os.cpu_count() * 1000 / r['rps']:.1f} |")
    lines += ["", f"Classifier alone (same model, same {ratio['symbols']} symbol crops from these payloads, one thread, "
              f"median of 50 runs; max |logit difference| {ratio['max_abs_diff']:.1e}):", "",
              "| input | PyTorch ms | ONNX Runtime ms | ONNX / PyTorch |", "|---|---|---|---|"]
    for key in [k for k in ratio if k.startswith("batch")]:
        r = ratio[key]
        lines.append(f"| {key} | {r['torch_ms']:.2f} | {r['onnx_ms']:.2f} | {r['onnx_over_torch']:.2f} |")
    errs = [e for r in runs.values() for e in r["error_examples"]]
    if errs:
        lines += ["", "Errors (first few):", ""] + [f"- `{e}`" for e in errs]
    lines += ["", "What else ran on the machine (it is shared with training runs), before and after:", "", "```",
              before, "---", after, "```", ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, out)
    print(f"wrote {out}")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import write_json_results

    print(*write_json_results(out, cmd.strip()))
    return 0 if all(r["errors"] == 0 for r in runs.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
