"""Check a student's worked solution line by line: which step is wrong, and why.

    from inkmath.equation.solve.check import check_lines
    result = check_lines(["2x+3=11", "2x=14", "x=7"])
    result.first_wrong                  # 1
    result.lines[1].reason              # "moved to the other side, $3$ becomes $-3$: its sign changes"
    result.next_step                    # {"latex": "2 x = 8", "reason": "subtract $3$ from both sides"}

Each line is typed LaTeX (a str) or a `LineReading` (LaTeX, the reader's confidence, its alternative readings and
where the line is), so that drawn ink and photos can feed the same checker. The first line is the problem: an
equation, inequality or system to solve, or an expression to work out (a leading "Simplify", "Solve", ... is read
and dropped). Every later line gets a verdict: `ok` (it follows from the line before: the same real solutions where
the problem is defined, or the same value), `wrong` (with a one-sentence reason, from the usual mistakes in
`mistakes`) or `unsure` (the reading is not sure, or the line cannot be read or checked); see `chain` and
`verdicts` for the rules, `lines` and `statements` for what students write (several steps on a line, ⇒, ;, boxed
answers, ∴, x_1 and x_2 on lines of their own, 5 = x, intervals, "no solution"), `sets` for what a step means,
`rules` and `mistakes` for the usual mistakes, `hints` for the solver's next step, `results` for the records.

Time: steps whose meaning takes only polynomial arithmetic are checked in this process; a solution with anything
else (roots, absolute values, exponentials, trigonometry, nonlinear systems, simplifying) goes whole to a solver
worker (`inkmath.equation.solve.pool`) that is killed at `timeout`; the check is then redone here with those steps
`unsure`, so a nasty line never hangs the check.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from inkmath.errors import InkmathError
from inkmath.equation.solve.check.results import (MAX_LINES, SURE_READING, VERDICTS, CheckResult, LineCheck,
                                                  LineReading)
from inkmath.equation.solve.pool import SOLVE_TIMEOUT

CHECK_TIMEOUT = 2 * SOLVE_TIMEOUT  # seconds for a whole solution in a worker; a school solution takes under 1 s

__all__ = ["CHECK_TIMEOUT", "MAX_LINES", "SURE_READING", "VERDICTS", "CheckResult", "LineCheck", "LineReading",
           "check_lines", "readings_of"]


def readings_of(lines: Sequence[str | LineReading]) -> list[LineReading]:
    """The lines as readings (typed LaTeX: confidence 1, no alternatives); `InkmathError` for what is not a line.
    Blank lines are left out."""
    if isinstance(lines, (str, bytes)):
        raise InkmathError("give the solution as a list of lines (one step a line), not one string")
    out = []
    for line in lines:
        if isinstance(line, LineReading):
            reading = line
        elif isinstance(line, str):
            reading = LineReading(line)
        else:
            raise InkmathError(f"a line must be LaTeX text or a LineReading, not {type(line).__name__}")
        if not isinstance(reading.latex, str):
            raise InkmathError("a reading's latex must be text")
        if reading.latex.strip():
            out.append(reading)
    return out


def check_lines(lines: Sequence[str | LineReading], timeout: float = CHECK_TIMEOUT) -> CheckResult:
    """Check a worked solution given as lines, the first the problem (see the module's docstring).

    Raises `InkmathError` when there is nothing to check: no lines, only the problem, more than `MAX_LINES`
    lines, or a first line that is not a problem this checker reads. Any other line gets a verdict."""
    from inkmath.equation.solve.check.chain import check_readings
    from inkmath.equation.solve.check.hints import solver_next_step
    from inkmath.equation.solve.check.sets import NeedsWorker

    start = time.perf_counter()
    readings = readings_of(lines)
    if not readings:
        raise InkmathError("nothing to check: write the problem on the first line and one step on each line after it")
    if len(readings) == 1 and len(_pieces(readings[0].latex)) < 2:  # 2x+3>11 => 2x>8 => x>4 is checked
        raise InkmathError("only the problem, no steps to check: write one step on each line after the problem")
    if len(readings) > MAX_LINES:
        raise InkmathError(f"{len(readings)} lines: the checker takes at most {MAX_LINES} lines of one solution; "
                           "give each solution in a file of its own")
    try:
        result = check_readings(readings, "fast")
    except NeedsWorker:
        result = _in_worker(readings, timeout)
    result.next_step = solver_next_step(result.resume)
    result.elapsed_s = round(time.perf_counter() - start, 4)
    return result


def _pieces(latex: str) -> list:
    from inkmath.equation.solve.check.lines import pieces

    try:
        return pieces(latex)
    except InkmathError:
        return []


def _in_worker(readings: list[LineReading], timeout: float) -> CheckResult:
    from inkmath.equation.solve.check.chain import check_readings
    from inkmath.equation.solve.pool import WorkerError, run_call_in_worker

    try:
        found = run_call_in_worker("inkmath.equation.solve.check.chain:check_job", (readings, "all"), timeout)
    except WorkerError:
        return check_readings(readings, "skip")  # out of time (or the worker died): what is quick, checked here
    if isinstance(found, InkmathError):
        raise found
    return found
