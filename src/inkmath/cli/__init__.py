"""The ``inkmath`` command: parses arguments, calls the library, prints results (rich for people, JSON for tools).

One module per group of subcommands, each with ``register(subparsers)``; the library never imports this package.
Building the parser imports neither torch nor matplotlib: commands import what they need when they run. A command
line that starts with a sub-command's name builds only that module's parser (`COMMANDS`): the others import NumPy,
YAML and the data catalog for their help texts, ~0.1 s that `inkmath solve` has no use for.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from inkmath.errors import InkmathError, __version__
from inkmath.cli.common import apply_help_formatter, os_error_line

# Modules of this package that add sub-commands with ``register(subparsers)``, in the order of ``inkmath --help``.
COMMAND_MODULES = [
    "inkmath.cli.train",
    "inkmath.cli.symbols",
    "inkmath.cli.demo",
    "inkmath.cli.data",
    "inkmath.cli.recognize",
    "inkmath.cli.solver_client",
    "inkmath.cli.check",
    "inkmath.cli.crohme",
    "inkmath.cli.serve",
    "inkmath.cli.onnx",
    "inkmath.cli.report",
    "inkmath.cli.sweep",
]

# Which module adds each sub-command (a test checks this against what the modules register).
COMMANDS = {
    "train": "inkmath.cli.train",
    "eval": "inkmath.cli.symbols", "predict": "inkmath.cli.symbols", "submit": "inkmath.cli.symbols",
    "models": "inkmath.cli.symbols", "summary": "inkmath.cli.symbols", "export": "inkmath.cli.symbols",
    "demo": "inkmath.cli.demo",
    "download": "inkmath.cli.data", "datasets": "inkmath.cli.data",
    "recognize": "inkmath.cli.recognize", "solve": "inkmath.cli.recognize", "solver": "inkmath.cli.solver_client",
    "check": "inkmath.cli.check",
    "crohme-eval": "inkmath.cli.crohme",
    "serve": "inkmath.cli.serve",
    "export-onnx": "inkmath.cli.onnx",
    "report": "inkmath.cli.report",
    "sweep": "inkmath.cli.sweep",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `command` (a key of `COMMANDS`) one that knows only the sub-commands of its module."""
    ap = argparse.ArgumentParser(prog="inkmath", description="Read handwritten mathematics: symbols, expressions, LaTeX, answers.")
    ap.add_argument("--version", action="version", version=f"inkmath {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for mod in [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES:
        importlib.import_module(mod).register(sub)
    apply_help_formatter(ap)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except InkmathError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # an output folder where a file is, and the like: one line, not a traceback
        print(f"error: {os_error_line(e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
