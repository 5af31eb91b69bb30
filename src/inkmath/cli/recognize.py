"""`inkmath recognize FILE... [--json] [--weights W] [--page [--debug-dir DIR]]`: read handwritten expressions from
images or InkML files, or (``--page``) every expression on a photographed page.

Each file is read on its own: a file that fails gets one line on stderr (``FILE: what is wrong; what to do``; with
``--json`` also ``{"file", "error"}`` on stdout) and the others still run. Exit code 0 when every file was read,
1 when some failed, 2 when the weights are unknown (checked once, before any file).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inkmath import InkmathError
from inkmath.cli.common import report_file_error


def register(subparsers) -> None:
    p = subparsers.add_parser("recognize", help="read handwritten expressions (images or .inkml) to LaTeX and solve")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="images (png, jpg, bmp, ...) or CROHME .inkml files")
    p.add_argument("--json", action="store_true", help="one JSON object per file and line")
    p.add_argument("--weights", default=None,
                   help="symbol classifier weights (name or path; default: crohme, the expression reader's)")
    p.add_argument("--no-solve", action="store_true", help="only read the expression, do not solve it")
    p.add_argument("--page", action="store_true", help="each image is a photo of a page: find every expression on it "
                                                       "and read each (boxes in the photo's pixels, reading order)")
    p.add_argument("--debug-dir", type=Path, default=None, help="with --page: write the sheet, the flattened page, "
                                                                  "the ink and the boxes of each file into DIR/<name>/")
    p.set_defaults(func=run)


def run_page(args: argparse.Namespace) -> int:
    """``--page``: one line per file: ``{"file", "width", "height", "expressions": [...]}`` or ``{"file", "error"}``."""
    from inkmath.equation.page import read_page

    failed = 0
    console = None
    if not args.json:
        from rich.console import Console

        console = Console()
    for path in args.files:
        debug = args.debug_dir / path.stem if args.debug_dir else None
        try:
            reading = read_page(path, weights=args.weights, solve=not args.no_solve, debug_dir=debug, name=str(path))
        except InkmathError as e:
            failed += 1
            report_file_error(path, e, as_json=args.json)
            continue
        if args.json:
            print(json.dumps(reading.to_dict(str(path)), ensure_ascii=False, default=str), flush=True)
            continue
        console.print(f"{path}: {len(reading.expressions)} expression(s)", markup=False, highlight=False,
                      soft_wrap=True)
        for k, e in enumerate(reading.expressions, 1):
            answer = e.answer.get("text") if e.answer else None
            label = f"{e.label} " if e.label else ""
            console.print(f"  {k}. {label}{e.latex}" + (f"  -> {answer}" if answer else ""), markup=False,
                          highlight=False, soft_wrap=True)
    return 1 if failed else 0


def run(args: argparse.Namespace) -> int:
    from inkmath.equation.inputs import recognize_file
    from inkmath.equation.recognize import DEFAULT_WEIGHTS, to_dict
    from inkmath.weights import resolve_weights

    resolve_weights(args.weights or DEFAULT_WEIGHTS)  # an unknown name is a usage error, reported once
    if args.page:
        return run_page(args)
    if args.debug_dir:
        raise InkmathError("--debug-dir goes with --page (the intermediate images of a page photo)")
    failed = 0
    console = None
    if not args.json:
        from rich.console import Console

        console = Console()
    for path in args.files:
        try:
            rec = recognize_file(path, args.weights, solve=not args.no_solve)
        except InkmathError as e:
            failed += 1
            report_file_error(path, e, as_json=args.json)
            continue
        if args.json:
            print(json.dumps(to_dict(rec, str(path)), ensure_ascii=False, default=str), flush=True)
        else:
            answer = rec.answer.get("text") if rec.answer else None
            console.print(f"{path}: {rec.latex}", markup=False, highlight=False, soft_wrap=True)
            if answer:
                console.print(f"  -> {answer}", markup=False, highlight=False, soft_wrap=True)
    return 1 if failed else 0
