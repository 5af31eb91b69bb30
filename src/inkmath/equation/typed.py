"""Typed LaTeX in, the same answer as recognition out: `solve_latex("2x+1=7", steps=True, plot=True)`.

The string is read by `inkmath.equation.latex_parse` into the expression tree recognition builds, then LaTeX,
MathML and the answer come from the same functions `recognize` uses, so both give the same JSON shape.
"""

from __future__ import annotations

from typing import Any

from inkmath.equation.solve import SOLVE_TIMEOUT


def solve_latex(latex: str, *, steps: bool = False, plot: bool = False, solve: bool = True,
                timeout: float | None = SOLVE_TIMEOUT) -> dict[str, Any]:
    """`{"latex", "mathml", "answer"}` for typed LaTeX; `answer` as in `inkmath.equation.solve.answer` (with
    `steps` / `plot` when asked; `{}` when `solve=False`). Raises `InkmathError` naming the character position of
    malformed LaTeX."""
    from inkmath.equation.latex import to_latex, to_mathml
    from inkmath.equation.latex_parse import parse_latex
    from inkmath.equation.solve import answer

    tree = parse_latex(latex)
    result = answer(tree, timeout, steps=steps, plot=plot) if solve else {}
    return {"latex": to_latex(tree), "mathml": to_mathml(tree), "answer": result}
