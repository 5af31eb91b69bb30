"""`inkmath serve`: the drawing page and the HTTP API on uvicorn."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="start the drawing page and the HTTP API (FastAPI on uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--weights", default=None,
                   help="symbol weights: shipped name or path (default: the largest shipped vocabulary)")
    p.add_argument("--expression-weights", default=None,
                   help="expression classifier weights (default: crohme when shipped, else --weights)")
    p.add_argument("--engine", default="torch", choices=["torch", "onnx", "numpy"], help="inference engine")
    p.add_argument("--threads", type=int, default=1,
                   help="compute threads per request (default 1: concurrent requests then use the cores in parallel)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from inkmath.web.app import create_app

    if args.threads and args.engine == "torch":
        import torch

        torch.set_num_threads(args.threads)
    app = create_app(args.weights, args.expression_weights, engine=args.engine, threads=args.threads)
    store = app.state.models
    print(f"inkmath: symbols with {store.symbol_default!r}, expressions with {store.expression_default!r} "
          f"({args.engine}); open http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
