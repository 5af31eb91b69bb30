"""Equation recognition: strokes or an image -> symbols -> 2-D layout -> expression tree -> LaTeX / SymPy;
and typed LaTeX -> the same tree (`solve_latex`), with worked solutions and graphs."""


def solve_latex(latex: str, **options):
    """Typed LaTeX -> `{"latex", "mathml", "answer"}` (see `inkmath.equation.typed.solve_latex`)."""
    from inkmath.equation.typed import solve_latex as _solve_latex

    return _solve_latex(latex, **options)
