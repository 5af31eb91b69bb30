"""`inkmath serve`: the drawing page and the HTTP API on uvicorn."""

from __future__ import annotations

import argparse
import json
import os

from inkmath.errors import InkmathError
from inkmath.cli.common import limit_blas_threads, positive_int


def port_number(text: str) -> int:
    """A TCP port, 0-65535 (0: any free one). 70000 was taken, and uvicorn said it listened on it."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: give 0-65535 (0: any free port)")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="start the drawing page and the HTTP API (FastAPI on uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8000, help="TCP port to listen on (0: any free port)")
    p.add_argument("--weights", default=None,
                   help="symbol weights: shipped name or path (default: the largest shipped vocabulary)")
    p.add_argument("--expression-weights", default=None,
                   help="expression classifier weights (default: crohme-m, the expression reader's, when shipped, else --weights)")
    p.add_argument("--engine", default="torch", choices=["torch", "onnx", "numpy"], help="inference engine")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="compute threads per request (default 1: concurrent requests then use the cores in parallel)")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="server processes (default 1); the pipeline is partly pure Python, so one process per core "
                        "is what uses several cores")
    p.add_argument("--pool", type=int, default=0,
                   help="read expressions in N processes fed from one queue (e.g. 2 on 2 cores, with --workers 1): "
                        "each request gets the next free process; default 0: in the server's threads")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level")
    p.set_defaults(func=run)


def check_port_free(host: str, port: int) -> None:
    """Raise a one-line ``InkmathError`` when ``host:port`` cannot be listened on (in use, or not allowed)."""
    import errno
    import socket

    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise InkmathError(f"--host {host}: not an address of this machine ({e.strerror}); use 127.0.0.1 or "
                           f"0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a closed server's port is free
        try:
            s.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise InkmathError(f"port {port} on {host} is already in use (another server?); stop it, or choose "
                                   f"another port with --port, e.g. --port {port + 1}") from None
            if e.errno == errno.EACCES:
                raise InkmathError(f"port {port} on {host} needs more rights than this user has; choose a port "
                                   f"above 1023 with --port, e.g. --port 8000") from None
            raise InkmathError(f"cannot listen on {host}:{port} ({e.strerror}); check --host and --port") from None


def address(host: str, port: int) -> str:
    """The page's URL for a server on ``host:port`` (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run(args: argparse.Namespace) -> int:
    limit_blas_threads(args.threads)
    import uvicorn

    from inkmath.web.app import CONFIG_ENV, create_app

    check_port_free(args.host, args.port)  # before loading any model, and instead of uvicorn's traceback

    config = {"symbol_weights": args.weights, "expression_weights": args.expression_weights, "engine": args.engine,
              "threads": args.threads, "preload": True, "pool": args.pool}
    app = create_app(**config)  # also checks the weights before any worker starts
    store = app.state.models

    def announce(port: int) -> None:
        """The one line saying where to go, printed once the server accepts connections on ``port``."""
        print(f"inkmath: symbols with {store.symbol_default!r}, expressions with {store.expression_default!r} "
              f"({args.engine}, {args.workers} worker(s)); open {address(args.host, port)}", flush=True)

    if args.workers > 1:
        # worker processes import the app by name: they rebuild it from the same settings
        os.environ[CONFIG_ENV] = json.dumps(config)
        uconfig = uvicorn.Config("inkmath.web.app:app_from_env", factory=True, workers=args.workers, host=args.host,
                                 port=args.port, log_level=args.log_level)
        sock = uconfig.bind_socket()  # as uvicorn.run does
        sock.listen(uconfig.backlog)  # connections wait for the first worker rather than being refused
        try:
            _workers(uconfig, sock, announce).run()
        except KeyboardInterrupt:  # Ctrl+C stops the server, as in uvicorn.run
            pass
        finally:
            sock.close()
    else:
        uconfig = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level)
        server = _server(uconfig, announce)
        try:
            server.run()
        except KeyboardInterrupt:  # uvicorn raises Ctrl+C again once it has shut down; uvicorn.run swallows it
            pass
        if not server.started:  # uvicorn.run's rule: a server that never started is a failed start
            from uvicorn.config import STARTUP_FAILURE

            raise SystemExit(STARTUP_FAILURE)
    return 0


def _server(config, announce):
    """A uvicorn ``Server`` that calls ``announce(port)`` once its startup is over: the app's start-up (the models
    preloaded) done and the socket listening. The address printed before ``uvicorn.run`` was refused for the
    seconds the models took to load."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit:  # not when Ctrl+C came during the start-up
                announce(self.servers[0].sockets[0].getsockname()[1])

    return Server(config)


def _workers(config, sock, announce):
    """uvicorn's supervisor of ``--workers N`` processes sharing ``sock``, calling ``announce(port)`` once the
    first worker has started (the socket then accepts connections), or never when none starts."""
    from uvicorn.supervisors import Multiprocess

    class Workers(Multiprocess):
        def init_processes(self) -> None:
            super().init_processes()
            while not self.should_exit.is_set():
                self.handle_signals()  # Ctrl+C while the workers load their models
                if any(process.is_ready(timeout=0.2) for process in self.processes):
                    announce(sock.getsockname()[1])
                    return
                if not any(process.process.is_alive() for process in self.processes):
                    return  # every worker failed: the supervisor's loop says so and stops

    return Workers(config, sockets=[sock])
