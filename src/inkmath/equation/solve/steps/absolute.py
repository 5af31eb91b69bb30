"""Worked solutions of equations with one absolute value: |A| = B with A and B linear, once |A| is alone on one
side (|2x − 1| = 5, 2|x + 1| − 3 = 5, |x − 1| = 2x).

Steps: isolate the absolute value. B a negative number: no solution (an absolute value is never negative); B = 0:
A = 0; otherwise the two cases A = B or A = −B, solved side by side by the linear steps. |A| = B holds exactly when
(A = B or A = −B) and B ≥ 0, so when B has the unknown the condition B ≥ 0 is carried beside the lines and each
root is checked against it (|x − 1| = 2x: x = −1 gives 2x = −2, negative, so it is not a solution).
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, OR_TEX, Worked, arrange, equation, evaluated, plain, tex
from inkmath.equation.solve.steps.conditions import (
    answer_line, conditioned, isolate, lone_atom, polynomial_steps, roots_of, solve_polynomial,
)

MAX_DEGREE = 1  # A and B linear: each case is a linear equation
CASE_NAMES = ("first", "second")


def _absolute(f: sp.Basic, var: sp.Symbol) -> sp.Basic | None:
    """The one |A| in f (lhs − rhs) when f = a·|A| + g with a a number and A, g of degree at most MAX_DEGREE in
    `var`; else None."""
    return lone_atom(f, var, {a for a in f.atoms(sp.Abs) if a.has(var)}, MAX_DEGREE, MAX_DEGREE)


def is_abs_equation(f: sp.Basic, var: sp.Symbol) -> bool:
    return _absolute(f, var) is not None


def _solve_cases(w: Worked, cases: list[sp.Eq], var: sp.Symbol, conditions: list[sp.Basic]) -> list[sp.Basic]:
    """Both cases solved side by side by the linear steps, a line for each step of the longer one ("2x = 6 or
    2x = -4"); a case that has no solution is said once and then left out. Returns the roots, sorted."""
    subs = [polynomial_steps(c, var) for c in cases]
    for i in range(1, max(len(s.steps) for s in subs)):
        exprs, latexes, reasons = [], [], []
        for name, sub in zip(CASE_NAMES, subs):
            step = sub.steps[min(i, len(sub.steps) - 1)]
            if i < len(sub.steps):
                latexes.append(step.latex)
                reasons.append((name, step.reason))
            elif step.expr is not sp.false:
                latexes.append(step.latex)
            if step.expr is not sp.false:
                exprs.append(step.expr)
        expr = sp.false if not exprs else exprs[0] if len(exprs) == 1 else sp.Or(*exprs, evaluate=False)
        if len({r for _, r in reasons}) == 1:
            reason = reasons[0][1]
        else:
            reason = "; ".join(f"{name} equation: {r}" for name, r in reasons)
        expr, latex = conditioned(expr, OR_TEX.join(latexes), conditions)
        w.add(expr, reason, latex)
    return sorted({r for sub in subs for r in roots_of(sub.steps[-1].expr)}, key=lambda r: float(sp.N(r)))


def abs_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    atom = _absolute(sp.expand(evaluated(raw.lhs - raw.rhs)), var)
    if atom is None:
        raise NoSteps("only one absolute value, equal to a linear expression once alone, gets steps")
    w = Worked("absolute", variables=[var])
    w.add(raw, "the equation", input_latex)
    _, other = isolate(w, raw, atom, "absolute value")
    inside = arrange(atom.args[0])
    if not other.has(var) and other < 0:
        w.add(sp.false, f"an absolute value is never negative, so it cannot equal ${plain(other)}$: no solution",
              r"\text{no solution}")
        return w
    if other == 0:
        zero = equation(inside, 0)
        w.add(zero, "an absolute value is zero only when what is inside is zero")
        solve_polynomial(w, zero, var, [])
        return w
    cases = [equation(inside, arrange(other)), equation(inside, arrange(-other))]
    conditions = [sp.Ge(arrange(other), 0, evaluate=False)] if other.has(var) else []
    reason = f"what is inside is ${plain(other)}$ or its opposite ${plain(-other)}$"
    if conditions:
        reason += f", on the condition ${tex(conditions[0])}$ (an absolute value is never negative)"
    expr, latex = conditioned(sp.Or(*cases, evaluate=False), OR_TEX.join(tex(c) for c in cases), conditions)
    w.add(expr, reason, latex)
    roots = _solve_cases(w, cases, var, conditions)
    if not conditions or not roots:
        return w
    checks, kept = [], []
    for r in roots:
        value = other.subs(var, r)
        negative = bool(value < 0)
        named = f"${plain(equation(var, r))}$"
        if other == var:
            checks.append(f"{named} is negative: not a solution" if negative else f"{named} is $\\geq 0$")
        else:
            said = f"${plain(other)} = {plain(value)}"
            checks.append(f"{named} gives {said}$, negative: not a solution" if negative else
                          f"{named} gives {said} \\geq 0$")
        if not negative:
            kept.append(r)
    expr, latex = answer_line(var, kept)
    w.add(expr, f"check the condition ${tex(conditions[0])}$: " + "; ".join(checks), latex)
    return w
