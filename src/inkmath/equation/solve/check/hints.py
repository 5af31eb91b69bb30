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
from inkmath.equation.solve.check.statements import Problem
from inkmath.equation.solve.pool import SOLVE_TIMEOUT


def _worked_steps(latex: str, mode: str) -> list[dict[str, Any]]:
    from inkmath.equation.solve.answer import answer

    try:
        tree = parse_latex(latex)
    except InkmathError:
        return []
    # in a worker ("all") the check's own deadline bounds the solver; in the caller it has its own time limit
    result = answer(tree, None if mode == "all" else SOLVE_TIMEOUT, steps=True)
    return result.get("steps") or []


def _key(latex: str) -> tuple[str, ...]:
    return tuple(t for t in tokens_of(normalise(latex)) if t not in ("{", "}"))


def solver_next_step(problem: Problem, checker: Any, state: Any, mode: str) -> dict[str, str] | None:
    """{"latex", "reason"} of the solver's step after `state` (the last state that follows), or None."""
    if mode == "skip":
        return None  # a solver worker ran out of time on this solution already
    steps = _worked_steps(state.text, mode)
    if len(steps) >= 2:
        return {"latex": steps[1]["latex"], "reason": steps[1]["reason"]}
    problem_text = " ".join(problem.tokens)
    whole = steps if state.text == problem_text else _worked_steps(problem_text, mode)
    if len(whole) < 2:
        return None
    here = _key(state.text)
    for j, step in enumerate(whole[:-1]):
        if _key(step["latex"]) == here:
            nxt = whole[j + 1]
            return {"latex": nxt["latex"], "reason": nxt["reason"]}
    return {"latex": whole[1]["latex"], "reason": whole[1]["reason"]}
