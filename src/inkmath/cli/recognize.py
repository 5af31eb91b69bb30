"""`inkmath recognize FILE... [--json] [--weights W] [--page [--debug-dir DIR]] [--steps] [--plot FILE]`: read
handwritten expressions from images or InkML files, or (``--page``) every expression on a photographed page;
`inkmath solve "LATEX" [--steps] [--plot FILE] [--json]`: the same answer for typed LaTeX.

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
    _add_extras_options(p, several=True)
    p.set_defaults(func=run)

    p = subparsers.add_parser("solve", help="solve typed LaTeX (the subset recognition writes), with steps and a graph")
    p.add_argument("latex", help='the expression or equation, e.g. "2(x-1)=x+4"; several lines separated by \\\\; '
                                 'put -- before LaTeX that starts with a minus: inkmath solve -- "-x=3"')
    p.add_argument("--json", action="store_true", help='print {"latex", "mathml", "answer"} as JSON')
    _add_extras_options(p)
    p.set_defaults(func=run_solve)


def _add_extras_options(p, several: bool = False) -> None:
    p.add_argument("--steps", action="store_true",
                   help="add a worked solution (answer.steps: LaTeX line, reason, SymPy form of each step)")
    more = "; with several files, FILE-1.svg, FILE-2.svg, ..." if several else ""
    p.add_argument("--plot", type=Path, default=None, metavar="FILE", help=f"draw the graph (SVG) into FILE{more}")


def _plot_path(base: Path, index: int, count: int) -> Path:
    return base if count == 1 else base.with_name(f"{base.stem}-{index + 1}{base.suffix or '.svg'}")


def _write_plot(answer: dict, path: Path | None) -> str | None:
    """Write answer["plot"] to `path` (atomically) and keep only the file name in the answer; a note if none."""
    if path is None or not answer:
        return None
    svg = answer.get("plot")
    if not svg:
        return f"no graph: {answer.get('plot_reason') or 'nothing to plot'}"
    from inkmath.atomic import atomic_write_text

    try:
        atomic_write_text(path, svg)
    except OSError as e:
        raise InkmathError(f"cannot write the graph to {path} ({e.strerror}); choose another --plot file") from None
    answer["plot_file"] = str(path)
    return f"graph written to {path}"


def _print_answer(console, answer: dict, latex: str) -> None:
    say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    say(latex)
    if answer.get("text"):
        say(f"  -> {answer['text']}")
    if "steps" in answer:
        if answer["steps"]:
            for n, step in enumerate(answer["steps"], 1):
                say(f"  {n}. {step['latex']}    ({step['reason']})")
        else:
            say(f"  no steps: {answer.get('steps_reason')}")


def run_solve(args: argparse.Namespace) -> int:
    from inkmath.equation.typed import solve_latex

    result = solve_latex(args.latex, steps=args.steps, plot=args.plot is not None)
    note = _write_plot(result["answer"], args.plot)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
        return 0
    from rich.console import Console

    console = Console()
    _print_answer(console, result["answer"], result["latex"])
    if note:
        console.print(f"  {note}", markup=False, highlight=False, soft_wrap=True)
    return 0


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
    if args.page and (args.steps or args.plot):
        raise InkmathError("--steps and --plot work on one expression per file, not with --page; drop them or --page")
    if args.page:
        return run_page(args)
    if args.debug_dir:
        raise InkmathError("--debug-dir goes with --page (the intermediate images of a page photo)")
    failed = 0
    console = None
    if not args.json:
        from rich.console import Console

        console = Console()
    for index, path in enumerate(args.files):
        try:
            rec = recognize_file(path, args.weights, solve=not args.no_solve, steps=args.steps,
                                 plot=args.plot is not None)
            note = _write_plot(rec.answer, _plot_path(args.plot, index, len(args.files)) if args.plot else None)
        except InkmathError as e:
            failed += 1
            report_file_error(path, e, as_json=args.json)
            continue
        if args.json:
            print(json.dumps(to_dict(rec, str(path)), ensure_ascii=False, default=str), flush=True)
        else:
            _print_answer(console, rec.answer or {}, f"{path}: {rec.latex}")
            if note:
                console.print(f"  {note}", markup=False, highlight=False, soft_wrap=True)
    return 1 if failed else 0
