"""``inkmath sweep``: hyper-parameter grids and TPE searches with Optuna (``evaluation.sweep``), resumable."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.cli.common import console as cli_console


def run(args) -> int:
    from inkmath.training.sweep import open_study, parse_grid, parse_sets, run_worker, summarize, worker_entry

    out = Path(args.out)
    storage = args.storage or f"sqlite:///{out / 'study.db'}"
    grid = parse_grid(args.grid) if args.sampler == "grid" else None
    sets = parse_sets(args.set)
    if args.config and not Path(args.config).is_file():
        raise InkmathError(f"Config file {args.config} not found; the recipes are in configs/")
    if args.sampler == "tpe" and args.trials < 1:
        raise InkmathError("--sampler tpe needs --trials N (N >= 1)")
    opts = {"out": str(out), "storage": storage, "study": args.study, "sampler": args.sampler, "grid": grid or {},
            "config": args.config, "sets": sets, "trials": args.trials, "threads": args.threads, "seed": args.seed,
            "heartbeat": args.heartbeat, "grace": args.grace}
    if not args.summary_only:
        open_study(storage, args.study, args.sampler, grid, args.seed, args.heartbeat, args.grace)  # create once
        if args.workers > 1:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            procs = [ctx.Process(target=worker_entry, args=(opts,)) for _ in range(args.workers)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            bad = [p.exitcode for p in procs if p.exitcode]
            if bad:
                raise InkmathError(f"{len(bad)} sweep worker(s) failed (exit codes {bad}); rerun to resume")
        else:
            run_worker(opts)
    command = " ".join(shlex.quote(a) for a in ["inkmath"] + sys.argv[1:])
    summary = summarize(storage, args.study, out, grid, args.config, sets, command)
    if args.json:
        print(json.dumps(summary, default=str))
        return 0
    con = cli_console()
    con.print(f"study [bold]{args.study}[/]: {summary['complete']}/{summary['trials']} trials complete "
              f"({summary['states']})")
    if "best" in summary:
        con.print(f"best: trial {summary['best']['number']} val acc {summary['best']['value']:.4f} "
                  f"{summary['best']['params']} -> {out / 'best.yaml'}")
    if summary.get("importances"):
        con.print("importances: " + ", ".join(f"{k} {v:.3f}" for k, v in summary["importances"].items()))
    elif summary.get("importances_error"):
        con.print(f"[yellow]{summary['importances_error']}[/]")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="hyper-parameter grid / TPE search with Optuna (SQLite, resumable)")
    p.add_argument("--config", help="base YAML recipe (configs/*.yaml)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key for every trial")
    p.add_argument("--out", default="runs/sweep", help="folder for trial runs, heatmap, importances, best.yaml")
    p.add_argument("--storage", help="sqlite:///PATH.db (default: OUT/study.db)")
    p.add_argument("--study", default="sweep", help="study name inside the storage")
    p.add_argument("--sampler", default="grid", choices=["grid", "tpe"],
                   help="grid: every point of --grid; tpe: Optuna's TPE for --trials trials")
    p.add_argument("--grid", action="append", metavar="KEY=V1,V2",
                   help="grid axis (repeatable); default: the seeds' lr 1e-3..1e-2 x epochs 1,3,5,7")
    p.add_argument("--trials", type=int, default=0, help="TPE: complete trials the study should reach")
    p.add_argument("--workers", type=int, default=1, help="worker processes sharing the study")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument("--heartbeat", type=int, default=10, help="seconds between a running trial's heartbeats")
    p.add_argument("--grace", type=int, default=60, help="a RUNNING trial without a heartbeat this long is re-queued")
    p.add_argument("--summary-only", action="store_true", help="do not run trials; only write the outputs")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)
