"""Worked solutions of equations with one square root of the unknown: √(linear or quadratic) = linear, once the
root is alone on one side (√(x+3) = x − 3, √(2x+1) = 3, √x + 2 = 5).

Steps: isolate the root; square both sides. √A = B holds exactly when A = B² and B ≥ 0 (A = B² is then ≥ 0
too), so when B has the unknown the condition B ≥ 0 is carried beside every line after; when B is a number, a
negative one means no solution and a positive one needs no condition. The squared equation is solved by the
linear or quadratic steps, then each root is checked in the equation before squaring and an extraneous one
rejected (√(x+3) = x − 3: x = 1 gives √4 = −2, not a solution; x = 6 gives √9 = 3).
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, Worked, arrange, equation, evaluated, plain, tex
from inkmath.equation.solve.steps.conditions import answer_line, conditioned, isolate, lone_atom, solve_polynomial

MAX_RADICAND_DEGREE = 2  # √(quadratic) = linear squares to a quadratic equation: the steps `steps_linear` has
MAX_OTHER_SIDE_DEGREE = 1


def _root(f: sp.Basic, var: sp.Symbol) -> sp.Basic | None:
    """The one square root √A in f (lhs − rhs) when f = a·√A + g with a a number, A of degree 1 to
    MAX_RADICAND_DEGREE and g of degree at most MAX_OTHER_SIDE_DEGREE in `var`; else None."""
    roots = {p for p in f.atoms(sp.Pow) if p.exp == sp.S.Half and p.base.has(var)}
    return lone_atom(f, var, roots, MAX_RADICAND_DEGREE, MAX_OTHER_SIDE_DEGREE)


def is_radical_equation(f: sp.Basic, var: sp.Symbol) -> bool:
    return _root(f, var) is not None


def radical_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    root = _root(sp.expand(evaluated(raw.lhs - raw.rhs)), var)
    if root is None:
        raise NoSteps("only one square root, equal to a linear expression once alone, gets steps")
    w = Worked("radical", variables=[var])
    w.add(raw, "the equation", input_latex)
    coeff, other = isolate(w, raw, root, "square root", divide=False)  # 2√x = x squares to 4x = x^2
    radicand = root.base
    if not other.has(var) and other < 0:
        w.add(sp.false, f"a square root is never negative, so ${tex(coeff * root)}$ cannot equal ${plain(other)}$: "
                        f"no solution", r"\text{no solution}")
        return w
    left = arrange(radicand) if coeff == 1 else sp.Mul(coeff**2, arrange(radicand), evaluate=False)
    if not other.has(var):
        squared = equation(left, other**2)
        w.add(squared, f"square both sides (${plain(other)} \\geq 0$, so squaring gains no solution)")
        solve_polynomial(w, squared, var, [])
        return w
    conditions = [sp.Ge(arrange(other), 0, evaluate=False)]
    squared = equation(left, sp.Pow(arrange(other), 2, evaluate=False))
    expr, latex = conditioned(squared, tex(squared), conditions)
    w.add(expr, f"square both sides, keeping the condition ${tex(conditions[0])}$: a square root is never "
                f"negative (and the radicand, now a square, is $\\geq 0$)", latex)
    roots = solve_polynomial(w, squared, var, conditions)
    if not roots:
        return w
    checks, kept = [], []
    for r in roots:
        value, inside = sp.radsimp(other.subs(var, r)), sp.radsimp(radicand.subs(var, r))
        negative = bool(sp.N(value) < 0)
        candidate = f"${plain(equation(var, r))}$"
        if inside.is_Rational:  # √4 = -2 reads as what it is
            shown = sp.Mul(coeff, sp.Pow(inside, sp.S.Half, evaluate=False), evaluate=False) if coeff != 1 else \
                sp.Pow(inside, sp.S.Half, evaluate=False)
            said = f"gives ${tex(shown)} = {plain(value)}$, " + ("false" if negative else "true")
        else:
            said = f"makes ${plain(other)}$ negative" if negative else f"makes ${plain(other)} \\geq 0$"
        checks.append(f"{candidate} {said}" + (": not a solution" if negative else ""))
        if not negative:
            kept.append(r)
    expr, latex = answer_line(var, kept)
    w.add(expr, "check each root in the equation before squaring: " + "; ".join(checks), latex)
    return w
