"""``inkmath crohme-eval PATH``: score the expression reader on a CROHME test set (``equation.crohme_eval``)."""

from __future__ import annotations

import json
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.cli.common import console as cli_console
from inkmath.evaluation.crohme import ALIASES

RATES = {"exprate", "within1", "within2", "seg_precision", "seg_recall", "seg_f1", "symbol_rec_rate",
         "symbol_accuracy_gt_seg", "alternatives_coverage", "mean_confidence", "top_half_accuracy",
         "calibration_error"}


def register(subparsers) -> None:
    """Add ``inkmath crohme-eval PATH [--limit N] [--json] [--weights W] [--symbols-only]``."""
    p = subparsers.add_parser(
        "crohme-eval", help="score the recogniser on a CROHME test set (ExpRate, segmentation, symbols)",
        description="PATH: a CROHME InkML archive (.tar.*, .zip) or folder (full report), an InkML folder without "
                    "segmentation such as MathWriting's test/ (its normalizedLabel as the truth: expression rates "
                    "only), or an offline image set: the WAP archive/folder, CoMER's data/<year>, HME100K (images and "
                    "*caption.txt / *labels.txt: expression rates only). InkML files in several folders (val: "
                    "the 2011, 2012 and 2013 tests) are also scored folder by folder; "
                    f"short names: {', '.join(ALIASES)} (under $INKMATH_DATA/crohme).")
    p.add_argument("path", help=f"archive or folder, or a short name: {', '.join(ALIASES)}")
    p.add_argument("--limit", type=int, default=None, help="only the first N expressions (default: all)")
    p.add_argument("--weights", default=None,
                   help="symbol classifier weights (name or path; default: crohme-m, the expression reader's)")
    p.add_argument("--symbols-only", action="store_true",
                   help="skip the expression recogniser: symbol accuracy on the truth segmentation only")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.add_argument("--details", default=None, metavar="FILE",
                   help="write per-expression rows (JSON lines) to FILE (default: none)")
    p.add_argument("--result", default=None, metavar="FILE",
                   help="also write a result file for the results page (benchmarks/results/*.json)")
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.progress import Progress
    from rich.table import Table

    from inkmath.atomic import atomic_write_text
    from inkmath.evaluation import crohme as crohme_eval

    if args.limit is not None and args.limit < 1:
        raise InkmathError("--limit must be a positive number of expressions")
    path = crohme_eval.resolve_source(args.path, getattr(args, "data_dir", None))
    predictor = crohme_eval.load_predictor(args.weights)
    console = cli_console(stderr=True)
    with Progress(console=console, transient=True, disable=args.json) as bar:
        task = bar.add_task("CROHME", total=None)
        res = crohme_eval.evaluate_crohme(path, None, args.limit, predictor, expressions=not args.symbols_only,
                                          progress=lambda i, n: bar.update(task, completed=i, total=n),
                                          details=args.details is not None)
    if args.details:
        rows = res.pop("details")
        atomic_write_text(Path(args.details), "".join(json.dumps(r) + "\n" for r in rows))
    if args.result:
        from inkmath.evaluation.results import HOW_EXPRESSIONS, expressions_row, folder_rows, write_result

        command = f"inkmath crohme-eval {args.path}" + "".join(
            f" {flag} {v}" for flag, v in (("--weights", args.weights), ("--limit", args.limit)) if v is not None)
        command += " --symbols-only" if args.symbols_only else ""
        write_result(args.result, "expressions", "Expression recognition", command, HOW_EXPRESSIONS,
                     [expressions_row(res, args.path, args.weights)] + folder_rows(res, args.path, args.weights))
    if args.json:
        print(json.dumps(res))
        return 0
    out = cli_console()
    out.print(f"[bold]CROHME[/bold] {res['source']}: {res['expressions']} expressions")
    table = Table()
    table.add_column("metric", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    for k, v in res.items():
        if k in ("source", "stages", "reliability", "by_folder"):
            continue
        table.add_row(k, f"{100 * v:.2f} %" if k in RATES else str(v))
    for k, v in res.get("stages", {}).items():
        table.add_row(f"expressions: {k}", str(v))
    out.print(table)
    if res.get("by_folder"):
        folders = Table(title="by folder")
        for c in ("folder", "expressions", "read right", "ExpRate", "within 1", "within 2"):
            folders.add_column(c, justify="left" if c == "folder" else "right", overflow="fold")
        for r in res["by_folder"]:
            folders.add_row(r["folder"], str(r["expressions"]), str(r["read_right"]),
                            *(f"{100 * r[k]:.2f} %" for k in ("exprate", "within1", "within2")))
        out.print(folders)
    if res.get("reliability"):
        rel = Table(title="reliability of the confidence")
        for c in ("confidence", "expressions", "mean confidence", "right"):
            rel.add_column(c, justify="right", overflow="fold")
        for r in res["reliability"]:
            rel.add_row(r["bin"], str(r["count"]), f"{r['mean_confidence']:.3f}", f"{r['accuracy']:.3f}")
        out.print(rel)
    return 0
