"""The next step to show a student at the first wrong line: one of the solver's own worked steps
(`inkmath.equation.solve.answer.answer(..., steps=True)`), taken from the last line that follows.

The solver works out that line itself when it reads as a problem ("2x = 8": the next step is "x = 4"); else (a line
of alternatives, "x - 2 = 0 or x - 3 = 0", or a line with nothing left to work out) the solver's steps for the
whole problem are searched for the line as the student wrote it, and the step after it is given; failing that,
the first of those steps that goes beyond the problem.
"""

from __future__ import annotations

from typing import Any

from inkmath.errors import InkmathError
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.solve.check.lines import normalise, tokens_of
from inkmath.equation.solve.pool import SOLVE_TIMEOUT


def _worked_steps(latex: str) -> list[dict[str, Any]]:
    from inkmath.equation.solve.answer import answer

    try:
        tree = parse_latex(latex)
    except InkmathError:
        return []
    return answer(tree, SOLVE_TIMEOUT, steps=True).get("steps") or []  # the solver's own time limit


def _key(latex: str) -> tuple[str, ...]:
    return tuple(t for t in tokens_of(normalise(latex)) if t not in ("{", "}"))


def solver_next_step(resume: tuple[str, str] | None) -> dict[str, str] | None:
    """{"latex", "reason"} of the solver's step after the last line that follows (`resume`: its text and the
    problem's, `CheckResult.resume`), or None. Runs in the caller's process, under the solver's own time limit,
    apart from the check (a slow hint never costs a verdict)."""
    if resume is None:
        return None
    text, problem_text = resume
    steps = _worked_steps(text)
    if len(steps) >= 2:
        return {"latex": steps[1]["latex"], "reason": steps[1]["reason"]}
    whole = steps if text == problem_text else _worked_steps(problem_text)
    if len(whole) < 2:
        return None
    here = _key(text)
    for j, step in enumerate(whole):
        if _key(step["latex"]) == here:
            nxt = whole[min(j + 1, len(whole) - 1)]  # the last line that follows is the answer: the answer again
            return {"latex": nxt["latex"], "reason": nxt["reason"]}
    return {"latex": whole[1]["latex"], "reason": whole[1]["reason"]}
