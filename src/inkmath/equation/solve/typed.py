"""Typed LaTeX in, the same answer as recognition out: `solve_latex("2x+1=7", steps=True, plot=True)`, or many
problems in one process with `solve_many(["2x+1=7", "x^2=4"], steps=True)`.

The string is read by `inkmath.equation.core.latex_parse` into the expression tree recognition builds, then LaTeX,
MathML and the answer come from the same functions `recognize` uses, so both give the same JSON shape.
This module imports SymPy only when it solves (`solve_many` first launches a solver worker, so that the worker's
import of SymPy runs while this process imports its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from inkmath.errors import InkmathError
from inkmath.equation.solve.pool import SOLVE_TIMEOUT


def solve_latex(latex: str, *, steps: bool = False, plot: bool = False, solve: bool = True,
                timeout: float | None = SOLVE_TIMEOUT, in_process: bool = True) -> dict[str, Any]:
    """`{"latex", "mathml", "answer"}` for typed LaTeX; `answer` as in `inkmath.equation.solve.answer.answer` (with
    `steps` / `plot` when asked; `{}` when `solve=False`). Raises `InkmathError` naming the character position of
    malformed LaTeX. `in_process=False` sends even cheap input to the solver worker, so that this process never
    imports SymPy (`inkmath.equation.solve.pool.answer_in_worker`): the faster way for one problem in a new
    process; `True` answers cheap input here, the faster way for the next ones."""
    from inkmath.equation.core.latex import to_latex, to_mathml
    from inkmath.equation.core.latex_parse import parse_latex

    tree = parse_latex(latex)
    out = {"latex": to_latex(tree), "mathml": to_mathml(tree), "answer": {}}  # first: while a worker starts
    if solve and not in_process and timeout is not None:
        from inkmath.equation.solve.pool import answer_in_worker

        out["answer"] = answer_in_worker(tree, timeout, steps=steps, plot=plot)
    elif solve:
        from inkmath.equation.solve.answer import answer

        out["answer"] = answer(tree, timeout, steps=steps, plot=plot)
    return out


@dataclass
class Solved:
    """One problem of `solve_many`: the `latex` as given, and either `result` (as `solve_latex` returns it) or
    `error` (why it could not be read, naming the position)."""

    index: int  # 0-based, in the order the problems were given
    latex: str
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.result if self.error is None else {"latex": self.latex, "error": self.error}


def solve_many(latexes: Iterable[str], *, steps: bool = False, plot: bool = False, solve: bool = True,
               timeout: float | None = SOLVE_TIMEOUT, in_process: bool = True) -> Iterator[Solved]:
    """Solve each LaTeX string in turn, lazily (`latexes` may be a stream: each answer comes as soon as its line
    is read). A malformed string gives a `Solved` with `error` and the next one still runs; one process and its
    solver worker serve all, so each problem after the first costs only its own solving.

    One solver worker is launched first, without waiting for it, so that its start (importing SymPy) runs while
    this process imports its own: the problems the worker answers (inequalities, trigonometry, simplifying; every
    graph) find it ready or nearly so. `in_process` as in `solve_latex`: False for one problem (this process then
    never imports SymPy), True for several (cheap ones are then answered here without a round trip).
    """
    if solve and timeout is not None:
        from inkmath.equation.solve.pool import launch_workers

        launch_workers(1, plotting=plot)
    for index, latex in enumerate(latexes):
        try:
            yield Solved(index, latex, result=solve_latex(latex, steps=steps, plot=plot, solve=solve, timeout=timeout,
                                                        in_process=in_process))
        except InkmathError as exc:
            yield Solved(index, latex, error=str(exc))
