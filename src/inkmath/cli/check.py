"""`inkmath check FILE... [--json]`: check students' worked solutions line by line and say which step is wrong.

Each FILE is a text file with the problem on its first line and one step on each line after it, in typed LaTeX
(several steps on one line, `\\Rightarrow`, `\\boxed{..}`, "or", ... are read; see
`inkmath.equation.solve.check`), an `.inkml` drawing of the written lines (cut into lines, each read by the stroke
reader) or a photo of them (read as a page). Per file: with --json one line `{"file", "kind", "steps": [{"latex", "verdict", "reason", "confidence",
"box", "mistake", "alternative"}], "first_wrong", "answer_right", "next_step", "answer"}` (verdict: given, ok,
wrong or unsure; `first_wrong` counts lines from 0, the problem); without, a list with ✓ ✗ ? and the reasons,
lines numbered from 1 as in the file. A file that cannot be checked (empty, only the
problem, a first line that is no problem, more than 200 lines) gets one line on stderr (``FILE: what is wrong;
what to do``; with --json also `{"file", "error"}` on stdout) and the others still run. Exit code 0 when every
file was checked, 1 when some could not be, 2 for a usage error. Many files are checked in `--jobs N` processes or on
a Dask cluster (`--scheduler ADDRESS`), printed in the order given (``inkmath.batch``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inkmath.batch import FILES_PER_PROCESS
from inkmath.cli.common import add_batch_options, batch_jobs, each_file

MARKS = {"given": "·", "ok": "✓", "wrong": "✗", "unsure": "?"}


def register(subparsers) -> None:
    p = subparsers.add_parser("check", help="check a worked solution line by line: which step is wrong, and why",
                              description="Check worked solutions line by line: each FILE is a text file with the\n"
                                          "problem on its first line and one step (typed LaTeX) on each line after\n"
                                          "it, an .inkml drawing of the lines or a photo of them (read as a page).\n"
                                          "Every step is judged "
                                          "against the one before it: ok, wrong (with the reason) or unsure; the\n"
                                          "first wrong step gets the solver's own next step.")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="text files, one LaTeX step a line (blank lines skipped), .inkml drawings of the written lines, "
                        "or photos or images of them (read as a page)")
    p.add_argument("--json", action="store_true", help="one JSON object per file and line")
    add_batch_options(p, f"{FILES_PER_PROCESS['check']} files")
    p.set_defaults(func=run)


def readable_lines(result: dict, name: str) -> list[str]:
    """The lines printed for one checked solution (``CheckResult.to_dict``'s form)."""
    if result["first_wrong"] is None:
        head = "no wrong step"
    else:
        head = f"first wrong step: line {result['first_wrong'] + 1}"
    answer = {True: "the answer is right", False: "the answer is wrong", None: "no answer stated"}[result["answer_right"]]
    out = [f"{name}: {result['kind']}, {head}, {answer}"]
    steps = result["steps"]
    width = min(40, max(len(step["latex"]) for step in steps))
    for index, step in enumerate(steps):
        out.append(f"  {MARKS.get(step['verdict'], '?')} {index + 1:>2}. {step['latex']:<{width}}  {step['reason']}")
    if result["next_step"]:
        out.append(f"  next step instead: {result['next_step']['latex']}    ({result['next_step']['reason']})")
    return out


def run(args: argparse.Namespace) -> int:
    from inkmath.batch import BatchConfig
    from inkmath.equation.solve.pool import launch_workers

    if batch_jobs(args, len(args.files), "check") == 1:  # read here: a solution with roots, powers or trigonometry
        launch_workers(1)  # is checked in the solver's worker, whose import of SymPy starts now
    return each_file(args, BatchConfig("check"), lambda item, _: readable_lines(item.result, item.file),
                     json_default=None)
