"""`inkmath recognize FILE... [--json] [--weights W] [--page [--debug-dir DIR]] [--steps] [--plot FILE] [--jobs N |
--scheduler ADDRESS]`: read handwritten expressions from images or InkML files, or (``--page``) every expression on a
photographed page, many files in N processes or on a Dask cluster (``inkmath.batch``), printed in the order given;
`inkmath solve LATEX... | - | --file F [--steps] [--plot FILE] [--json]`: the same answer for typed LaTeX, many
problems in one run (``-``: one LaTeX per line from stdin).

Each file is read on its own: a file that fails gets one line on stderr (``FILE: what is wrong; what to do``; with
``--json`` also ``{"file", "error"}`` on stdout) and the others still run. Exit code 0 when every file was read,
1 when some failed, 2 for a usage error, reported once before any file is read (unknown weights, a folder given as
``--plot``). ``solve`` likewise: a malformed problem gets one line on stderr (``WHERE: message``, WHERE the argument
or ``FILE:LINE``; with ``--json`` also ``{"latex", "error"}`` on stdout), the others still run; exit 0, 1 when some
were malformed, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from inkmath.batch import FILES_PER_PROCESS
from inkmath.errors import InkmathError
from inkmath.cli.common import console as cli_console
from inkmath.cli.common import add_batch_options, each_file, limit_blas_threads


PAGE_HELP = ("each image is a photo of a page: find every expression on it and read each (boxes in the photo's pixels, "
             "reading order). An expression may read otherwise than a crop of it read without --page: the page is "
             "cleaned whole (its ink found by the learned extractor) and each line's ink cut from it is read with the "
             "page decoder and the default classifier in 8 bits on ONNX Runtime; a crop is cleaned alone and read "
             "with the image decoder and the classifier in float. On a page photo take --page's reading: it measures "
             "the writing size, pen and ink over the whole page, which one line does not show "
             "(docs/pages-and-photos.md)")


def register(subparsers) -> None:
    p = subparsers.add_parser("recognize", help="read handwritten expressions (images or .inkml) to LaTeX and solve")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="images (png, jpg, bmp, ...) or CROHME .inkml files")
    p.add_argument("--json", action="store_true", help="one JSON object per file and line")
    p.add_argument("--weights", default=None,
                   help="symbol classifier weights (name or path; default: crohme-m, the expression reader's)")
    p.add_argument("--no-solve", action="store_true", help="only read the expression, do not solve it")
    p.add_argument("--page", action="store_true", help=PAGE_HELP)
    p.add_argument("--debug-dir", type=Path, default=None, help="with --page: write the sheet, the flattened page, "
                                                                  "the ink and the boxes of each file into DIR/<name>/")
    _add_extras_options(p, several="files")
    add_batch_options(p, f"{FILES_PER_PROCESS['recognize']} files ({FILES_PER_PROCESS['page']} with --page)")
    p.set_defaults(func=run)

    p = subparsers.add_parser("solve", help="solve typed LaTeX (the subset recognition writes), with steps and a graph",
                              description="Solve typed LaTeX: one problem per argument, or one per line with - (stdin)\n"
                                          "or --file F. All run in one process, so each problem after the first\n"
                                          "costs only its own solving, not the start of Python and SymPy.\n\n"
                                          "Problems given as arguments go to this user's resident solver, a process\n"
                                          "that keeps SymPy loaded (started by the first such command, gone after\n"
                                          "15 idle minutes; see `inkmath solver --help`). --no-daemon or\n"
                                          "INKMATH_SOLVER=inline solve in this process instead.")
    p.add_argument("latex", nargs="*", metavar="LATEX",
                   help='an expression or equation, e.g. "2(x-1)=x+4"; a system\'s equations separated by \\\\; '
                        '- reads one problem per line from stdin (blank lines skipped); put -- before LaTeX that '
                        'starts with a minus: inkmath solve -- "-x=3"')
    p.add_argument("--file", action="append", type=Path, default=[], metavar="F",
                   help="read one problem per line from F (blank lines skipped); may be given several times")
    p.add_argument("--json", action="store_true", help='one JSON object per problem and line: {"latex", "mathml", '
                                                       '"answer"}, or {"latex", "error"} for a malformed one')
    _add_extras_options(p, several="problems")
    p.add_argument("--no-daemon", action="store_true",
                   help="solve in this process, not in the resident solver (also: INKMATH_SOLVER=inline)")
    p.set_defaults(func=run_solve)


def _add_extras_options(p, several: str) -> None:
    p.add_argument("--steps", action="store_true",
                   help="add a worked solution (answer.steps: LaTeX line, reason, SymPy form of each step)")
    # problems read from - or --file are numbered even when there is one: they are solved as they are read
    more = f"; with several {several}{', or with - or --file' if several == 'problems' else ''}, FILE-1.svg, FILE-2.svg, ..."
    p.add_argument("--plot", type=Path, default=None, metavar="FILE", help=f"draw the graph (SVG) into FILE{more}")


def check_plot_file(plot: Path | None) -> None:
    """``--plot`` names a file for the graph: a folder there is a usage error, found before any work is done. It
    was found only as each graph was written (exit 1), and with several problems the graphs went beside the folder,
    FOLDER-1.svg, FOLDER-2.svg, ..."""
    if plot is not None and plot.is_dir():
        raise InkmathError(f"--plot needs a file name such as {plot / 'graph.svg'}, not the folder {plot}")


def plot_path(base: Path, index: int, count: int) -> Path:
    """Where problem `index` of `count` draws its graph: FILE for one, FILE-1.svg, FILE-2.svg, ... for several."""
    return base if count == 1 else base.with_name(f"{base.stem}-{index + 1}{base.suffix or '.svg'}")


def plot_note(answer: dict, path: Path | None) -> str | None:
    """The line printed about the graph once `answer`'s graph is written to `path` (None: no graph was asked)."""
    if path is None or not answer:
        return None
    if not answer.get("plot"):
        return f"no graph: {answer.get('plot_reason') or 'nothing to plot'}"
    return f"graph written to {path}"


def _write_plot(answer: dict, path: Path | None) -> str | None:
    """Write answer["plot"] to `path` (atomically) and keep only the file name in the answer; the note to print."""
    note = plot_note(answer, path)
    if not note or not answer.get("plot"):
        return note
    from inkmath.atomic import atomic_write_text

    try:
        atomic_write_text(path, answer["plot"])
    except OSError as e:
        raise InkmathError(f"cannot write the graph to {path} ({e.strerror}); choose another --plot file") from None
    answer["plot_file"] = str(path)
    return note


def answer_lines(answer: dict, latex: str) -> list[str]:
    """The lines `inkmath solve` and `recognize` print for one answer (each through rich, without markup)."""
    lines = [latex]
    if answer.get("text"):
        lines.append(f"  -> {answer['text']}")
    lines.extend(f"  note: {note}" for note in answer.get("notes") or [])
    if "steps" in answer:
        if answer["steps"]:
            lines.extend(f"  {n}. {step['latex']}    ({step['reason']})" for n, step in enumerate(answer["steps"], 1))
        else:
            lines.append(f"  no steps: {answer.get('steps_reason')}")
    return lines


def _print_answer(console, answer: dict, latex: str) -> None:
    for line in answer_lines(answer, latex):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def argument_place(latex: str) -> str:
    """How an error line names a problem given as an argument: the LaTeX itself, ``""`` when it is empty (the
    line began with ": ")."""
    return latex if latex.strip() else json.dumps(latex)


def _problems(args: argparse.Namespace, where: list[str]) -> Iterator[str]:
    """The problems in the order given (arguments, then --file files), lazily, appending each one's place to
    `where` (the argument, ``FILE:LINE`` or ``stdin:LINE``) as it is read."""
    def lines(handle, name: str) -> Iterator[str]:
        for number, line in enumerate(handle, 1):
            if line.strip():
                where.append(f"{name}:{number}")
                yield line.strip()

    for latex in args.latex:
        if latex == "-":
            yield from lines(sys.stdin, "stdin")
        else:
            where.append(argument_place(latex))
            yield latex
    for path in args.file:
        try:
            with open(path, encoding="utf-8") as handle:
                yield from lines(handle, str(path))
        except (OSError, UnicodeDecodeError) as e:
            raise InkmathError(f"{path}: cannot read it ({e}); give a UTF-8 text file, one LaTeX problem a line")


def run_solve(args: argparse.Namespace) -> int:
    if not args.latex and not args.file:
        raise InkmathError('nothing to solve: give LaTeX (inkmath solve "2x+1=7"), - for one problem a line on '
                           "stdin, or --file F")
    check_plot_file(args.plot)
    for path in args.file:  # a missing file is a usage error, found before any problem is solved
        if path.is_dir():
            raise InkmathError(f"{path}: is a folder; --file takes a text file with one LaTeX problem per line")
        if not path.is_file():
            raise InkmathError(f"{path}: no such file; --file takes a text file with one LaTeX problem per line")
    several = len(args.latex) + len(args.file) > 1 or "-" in args.latex or bool(args.file)
    if not args.file and "-" not in args.latex:  # problems given as arguments: ask the resident solver
        from inkmath.cli import solver_client

        if solver_client.wanted(args.no_daemon):
            try:
                replies = solver_client.solve_resident(args.latex, steps=args.steps,
                                                       plot=str(args.plot) if args.plot else None, as_json=args.json)
            except solver_client.ResidentError as e:
                print(f"note: the resident solver was not used: {e}; solving in this process", file=sys.stderr,
                      flush=True)
            else:
                return _print_resident(args, replies)
    from inkmath.equation.solve.pool import launch_workers

    launch_workers(1, plotting=args.plot is not None)  # its import of SymPy starts now, beside this process's work
    from inkmath.equation.solve.typed import solve_many

    where: list[str] = []
    failed = 0
    console = None
    if not args.json:
        console = cli_console()
    # One problem: all of it in the solver worker, so this process never imports SymPy; several: cheap ones here.
    solved = solve_many(_problems(args, where), steps=args.steps, plot=args.plot is not None, in_process=several)
    for item in solved:
        note = None
        if item.error is None:
            try:
                plot_file = plot_path(args.plot, item.index, 2 if several else 1) if args.plot else None
                note = _write_plot(item.result["answer"], plot_file)
            except InkmathError as e:
                item.error, item.result = str(e), None
        if item.error is not None:
            failed += 1
            if args.json:
                print(json.dumps(item.to_dict(), ensure_ascii=False), flush=True)
            print(f"{where[item.index]}: {' '.join(item.error.split())}", file=sys.stderr, flush=True)
            continue
        if args.json:
            print(json.dumps(item.result, ensure_ascii=False, default=str), flush=True)
            continue
        _print_answer(console, item.result["answer"], item.result["latex"])
        if note:
            console.print(f"  {note}", markup=False, highlight=False, soft_wrap=True)
    if not where:
        raise InkmathError("nothing to solve: the input had only blank lines")
    return 1 if failed else 0


def _print_resident(args: argparse.Namespace, replies: list[dict]) -> int:
    """Print the resident solver's replies as `run_solve` prints its own answers (the graph files written here)."""
    failed = 0
    for index, (where, reply) in enumerate(zip(args.latex, replies)):
        error, result = reply.get("error"), reply.get("result")
        if error is None:
            try:
                plot_file = plot_path(args.plot, index, len(args.latex)) if args.plot else None
                _write_plot(result["answer"], plot_file)
            except InkmathError as e:
                error = str(e)
        if error is not None:
            failed += 1
            if args.json:
                print(json.dumps({"latex": where, "error": error}, ensure_ascii=False), flush=True)
            print(f"{argument_place(where)}: {' '.join(error.split())}", file=sys.stderr, flush=True)
        elif args.json:
            print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
        else:
            sys.stdout.write(reply["text"] + reply["note"])
            sys.stdout.flush()
    return 1 if failed else 0


def run_page(args: argparse.Namespace) -> int:
    """``--page``: one line per file: ``{"file", "width", "height", "expressions": [...]}`` or ``{"file", "error"}``."""
    from inkmath.batch import BatchConfig

    config = BatchConfig("page", weights=args.weights, solve=not args.no_solve,
                         debug_dir=str(args.debug_dir) if args.debug_dir else None)
    return each_file(args, config, lambda item, _: page_lines(item.result, item.file))


def page_lines(result: dict, name: str) -> list[str]:
    """The lines printed for one read page: the count of its expressions, then each with its label and answer."""
    expressions = result["expressions"]
    lines = [f"{name}: {len(expressions)} expression(s)"]
    for k, e in enumerate(expressions, 1):
        answer = e["answer"].get("text") if e["answer"] else None
        label = f"{e['label']} " if e["label"] else ""
        lines.append(f"  {k}. {label}{e['latex']}" + (f"  -> {answer}" if answer else ""))
    return lines


def run(args: argparse.Namespace) -> int:
    check_plot_file(args.plot)
    limit_blas_threads()
    from inkmath.equation.recognize import DEFAULT_WEIGHTS
    from inkmath.weights import resolve_weights

    resolve_weights(args.weights or DEFAULT_WEIGHTS)  # an unknown name is a usage error, reported once
    if args.page and (args.steps or args.plot):
        raise InkmathError("--steps and --plot work on one expression per file, not with --page; drop them or --page")
    if args.no_solve and (args.steps or args.plot):  # else neither steps nor a graph, without a word
        raise InkmathError("--steps and --plot show the solving that --no-solve skips; drop them or --no-solve")
    if args.page:
        return run_page(args)
    if args.debug_dir:
        raise InkmathError("--debug-dir goes with --page (the intermediate images of a page photo)")
    if args.plot:  # the graph would replace the picture it is read from
        inputs = {p.resolve() for p in args.files}
        for index in range(len(args.files)):
            target = plot_path(args.plot, index, len(args.files))
            if target.resolve() in inputs:
                raise InkmathError(f"--plot {args.plot} would write a graph over the input {target}; "
                                   "give another --plot file")
    from inkmath.batch import BatchConfig

    config = BatchConfig("recognize", weights=args.weights, solve=not args.no_solve, steps=args.steps,
                         plot=args.plot is not None)

    def write_plot(item) -> str | None:  # the graph's note
        plot_file = plot_path(args.plot, item.index, len(args.files)) if args.plot else None
        return _write_plot(item.result["answer"], plot_file)

    def lines(item, note: str | None) -> list[str]:
        path = args.files[item.index]
        out = answer_lines(item.result["answer"] or {}, f"{path}: {item.result['latex']}")
        return out + [f"  {note}"] if note else out

    return each_file(args, config, lines, prepare=write_plot)
