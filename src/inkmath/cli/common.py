"""What every command shares: consoles, JSON that tolerates NumPy numbers, the one per-file error style, help.

Per-file errors: one line on stderr, ``FILE: what is wrong; what to do``, the file named once; with ``--json`` the
same message also goes to stdout as ``{"file", "error"}`` in the place of that file's result. Exit codes: 0 when
every file was read, 1 when some failed, 2 for a usage error found before any file is read (``main``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


# How wide the CLI's consoles are when they write to a pipe or a file. rich would lay tables out for 80 columns
# there and cut what does not fit: `inkmath models | grep symbol-context` found "symbol-contex…". This wide, every
# cell is whole and each table row is one line, as grep and cut expect; rich never pads output to the width.
PIPE_WIDTH = 100_000


def console(stderr: bool = False):
    """The rich console every command prints through (stdout, or stderr with ``stderr``). On a terminal it is rich's
    own, as wide as the terminal; to a pipe or a file it is ``PIPE_WIDTH`` wide, whatever ``COLUMNS`` says (rich
    would take it, but a shell's COLUMNS is the terminal's width, not the pipe's). Tables also fold a word longer
    than its column rather than cut it (``overflow="fold"``), so a narrow terminal shows whole names too."""
    from rich.console import Console

    con = Console(stderr=stderr)
    if not con.is_terminal:
        con.width = PIPE_WIDTH
    return con


def jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def file_error_line(path: str | os.PathLike, error: BaseException | str) -> str:
    """``FILE: message``, without naming the file twice when the message already starts with it."""
    name = str(path)
    text = " ".join(str(error).split())  # one line, whatever the message held
    return text if text.startswith(f"{name}:") else f"{name}: {text}"


def os_error_line(error: OSError) -> str:
    """One line for a file or folder the command could not read, make or write (an ``OSError`` no layer turned
    into a message of its own): ``PATH: reason; what to do``."""
    reason = error.strerror or " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        reason += " (a file is where a folder is needed)"
    if error.filename is None:
        return f"{reason}; check the paths given"
    return f"{error.filename}: {reason}; check the path, or give another one"


def report_file_error(path: str | os.PathLike, error: BaseException | str, as_json: bool = False) -> None:
    line = file_error_line(path, error)
    if as_json:
        print(json.dumps({"file": str(path), "error": line[len(str(path)) + 2:]}, ensure_ascii=False), flush=True)
    print(line, file=sys.stderr, flush=True)


def _int_from(text: str, least: int) -> int:
    """``text`` as a whole number of at least ``least``, else an argparse type error saying which."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} must be {least} or more")
    return value


def non_negative_int(text: str) -> int:
    return _int_from(text, 0)


def positive_int(text: str) -> int:
    return _int_from(text, 1)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that states each option's default, unless the text already does or there is none to state."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text.lower() or default is None or default is False or default == []
                or default is argparse.SUPPRESS or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


def apply_help_formatter(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every sub-command parser under it the ``HelpFormatter``."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                apply_help_formatter(sub)


def add_batch_options(p: argparse.ArgumentParser, at_most: str) -> None:
    """``--jobs N`` and ``--scheduler ADDRESS``: where a command that reads many files reads them (``inkmath.batch``);
    ``at_most``: how many files a process needs by default, in words."""
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help="read the files in N processes, results printed in the order given (default: one a core, "
                        f"but one per {at_most} at most; a few files are read in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="read the files on the workers of the Dask cluster whose scheduler is at ADDRESS "
                        "(tcp://HOST:8786; the workers must see the files; needs pip install 'inkmath[cluster]')")


def batch_jobs(args: argparse.Namespace, count: int, task: str) -> int:
    """The reading processes for ``count`` files: ``--jobs`` (no more than the files), else ``auto_jobs``; 0 on
    ``--scheduler``'s cluster."""
    from inkmath.batch import auto_jobs
    from inkmath.errors import InkmathError

    if args.scheduler and args.jobs:
        raise InkmathError("--jobs and --scheduler both say where to read the files; give one of them")
    if args.scheduler:
        return 0
    return min(args.jobs, count) if args.jobs else auto_jobs(count, task)


@contextmanager
def batch_results(args: argparse.Namespace, files: list, config) -> Iterator:
    """The ``FileResult``s of ``files`` read as ``config`` says, in their order: on ``--scheduler``'s cluster, in
    ``--jobs`` processes, or in this process (one process: ``--jobs 1``, or a batch too small to pay for more)."""
    from inkmath.batch import open_executor, read_batch

    jobs = batch_jobs(args, len(files), config.task)
    if jobs != 1:  # processes side by side: each on one thread of each library
        config = dataclasses.replace(config, threads=1)
    with open_executor(jobs, config, args.scheduler) as (executor, ahead):
        yield read_batch(files, config, executor, ahead)


def each_file(args: argparse.Namespace, config, lines: Callable, prepare: Callable | None = None,
              json_default: Callable | None = str) -> int:
    """Read ``args.files`` as ``config`` says (``batch_results``) and print what each one gave, in the order given;
    the exit code: 0 when every file was read, 1 when some failed.

    A file read: ``prepare(item)`` first, when given (what it returns goes to ``lines``; an ``InkmathError`` it
    raises fails the file), then with ``--json`` its result on one line (``json_default``: ``json.dumps``'s
    ``default``), else each of ``lines(item, prepared)`` through the console. A file that failed: its one line on
    stderr, and with ``--json`` its ``{"file", "error"}`` on stdout (``report_file_error``)."""
    from inkmath.errors import InkmathError

    failed = 0
    con = None if args.json else console()
    with batch_results(args, args.files, config) as results:
        for item in results:
            prepared = None
            if item.ok and prepare is not None:
                try:
                    prepared = prepare(item)
                except InkmathError as e:
                    item.error = str(e)
            if not item.ok:
                failed += 1
                report_file_error(args.files[item.index], item.error, as_json=args.json)
                continue
            if args.json:
                print(json.dumps(item.result, ensure_ascii=False, default=json_default), flush=True)
                continue
            for line in lines(item, prepared):
                con.print(line, markup=False, highlight=False, soft_wrap=True)
    return 1 if failed else 0


def limit_blas_threads(threads: int = 1) -> None:
    """NumPy's BLAS (the reader's NumPy models) uses ``threads`` threads per process, unless the environment says
    otherwise. Call it before NumPy loads; worker processes inherit it. With BLAS's default of one thread per core,
    each of the reader's small matrix products woke threads that spun on the other core. Reading 10 CROHME
    expressions then cost 48 ms wall and 88 ms CPU each instead of 30 and 57, and the web server's recognition cost
    108 ms CPU a request instead of 38 (docs/decisions/symbol-context.md)."""
    from inkmath.batch import limit_threads  # imports neither NumPy nor OpenCV

    limit_threads(threads)
