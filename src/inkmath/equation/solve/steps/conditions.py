"""What the worked solutions of rational, radical and absolute-value equations share: a condition carried beside
the lines (x ≠ 1, x − 3 ≥ 0), a root or absolute value brought alone to one side, and the polynomial equation left
over solved by the linear and quadratic steps of `steps_linear`, each of its lines with the condition.

A line with conditions is `And(equation, *conditions)`, its LaTeX the equation then the conditions
("2(x+1) = 3(x-1), x ≠ -1, x ≠ 1"), so each line has the same real solutions as the one before: the squared
equation x + 3 = (x − 3)² alone also has the root 1, with the condition x − 3 ≥ 0 it has not.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, Worked, arrange, either, equation, evaluated, plain, signed, tex
from inkmath.equation.solve.steps.linear import linear_steps, quadratic_steps

CONDITION_TEX = r", \quad "
CONDITIONS_JOIN = r", \; "
MAX_DEGREE = 2  # what is left is solved by the linear and quadratic steps of `steps_linear`
EVERY_VALUE = "an equation solved by all the numbers of an interval is answered without steps"


def lone_atom(f: sp.Basic, var: sp.Symbol, found: set[sp.Basic], max_inside: int, max_other: int) -> sp.Basic | None:
    """The one atom of `found` (a square root, an absolute value) when f (lhs − rhs) = a·atom + g: a a number, the
    atom's argument a polynomial in `var` of degree 1 to `max_inside`, g of degree at most `max_other`; else None."""
    if len(found) != 1:
        return None
    (atom,) = found
    inside = atom.args[0]
    if not inside.is_polynomial(var) or sp.degree(inside, var) > max_inside:
        return None
    u = sp.Dummy("u")
    g = sp.expand(f.xreplace({atom: u}))
    if not g.is_polynomial(var, u) or sp.degree(g, u) != 1 or g.coeff(u, 1).has(var):
        return None
    other = g.coeff(u, 0)
    return atom if other == 0 or sp.degree(other, var) <= max_other else None


def conditioned(expr: Any, latex: str, conditions: list[sp.Basic]) -> tuple[Any, str]:
    """A line and its conditions, as (`And`, LaTeX); a line that says "no solution" needs none."""
    if not conditions or expr is sp.false:
        return expr, latex
    return sp.And(expr, *conditions), latex + CONDITION_TEX + CONDITIONS_JOIN.join(tex(c) for c in conditions)


def isolate(w: Worked, raw: sp.Eq, atom: sp.Basic, what: str, divide: bool = True) -> tuple[sp.Basic, sp.Basic]:
    """Bring `atom` (a square root or an absolute value, `what` names it) alone to the left side, a step for each
    move, dividing by its coefficient unless `divide` is False (then only a negative one is made positive);
    returns (its coefficient, the right side)."""
    lhs, rhs = sp.expand(evaluated(raw.lhs)), sp.expand(evaluated(raw.rhs))
    if not lhs.has(atom):
        lhs, rhs = rhs, lhs
        w.add(equation(arrange(lhs), arrange(rhs)), "swap the two sides")
    left_coeff, right_coeff = lhs.coeff(atom), rhs.coeff(atom)
    rest_left, rest_right = sp.expand(lhs - left_coeff * atom), sp.expand(rhs - right_coeff * atom)
    coeff, other = left_coeff - right_coeff, sp.expand(rest_right - rest_left)
    if right_coeff != 0 or rest_left != 0:
        if right_coeff == 0 and len(sp.Add.make_args(rest_left)) == 1:
            reason = signed(rest_left, "both sides")
        elif rest_left == 0:
            reason = signed(right_coeff * atom, "both sides")
        else:
            reason = f"move the {what} to the left side and the other terms to the right"
        w.add(equation(arrange(coeff * atom), arrange(other)), reason)
    if coeff == 1 or (not divide and coeff > 0):
        return coeff, other
    if coeff == -1 or not divide:
        coeff, other, reason = -coeff, -other, "multiply both sides by $-1$"
    else:
        coeff, other, reason = sp.Integer(1), sp.expand(other / coeff), f"divide both sides by ${plain(coeff)}$"
    w.add(equation(arrange(coeff * atom), arrange(other)), reason)
    return coeff, other


def solve_polynomial(w: Worked, eq: sp.Eq, var: sp.Symbol, conditions: list[sp.Basic]) -> list[sp.Basic]:
    """Solve `eq` (a polynomial equation, already the last line of `w`) with the linear or quadratic steps, each
    line with `conditions`; returns its real roots in increasing order."""
    sub = polynomial_steps(eq, var)
    for step in sub.steps[1:]:
        expr, latex = conditioned(step.expr, step.latex, conditions)
        w.add(expr, step.reason, latex)
    return roots_of(sub.steps[-1].expr)


def polynomial_steps(eq: sp.Eq, var: sp.Symbol) -> Worked:
    """The linear or quadratic steps of `eq`; one without the unknown is false (or every value solves it)."""
    f = sp.expand(evaluated(eq.lhs - eq.rhs))
    if f.has(var):
        degree = sp.degree(f, var)
        if degree > MAX_DEGREE:
            raise NoSteps(f"this leads to an equation of degree {degree}, which is answered without steps")
        if degree == 1:
            return linear_steps(eq, var, tex(eq))
        if f.coeff(var, 2) > 0:
            return quadratic_steps(eq, var, tex(eq))
        swapped = equation(eq.rhs, eq.lhs)  # x + 3 = (x - 3)^2: the square to the left, then x^2 - 7x + 6 = 0
        sub = quadratic_steps(swapped, var, tex(swapped))
        sub.insert(0, eq, "the equation")
        sub.steps[1].reason = "swap the two sides"
        return sub
    if f == 0:
        raise NoSteps(EVERY_VALUE)
    sub = Worked("linear", variables=[var])  # 1/x = 0 cleared of its denominator: 1 = 0
    sub.add(eq, "the equation")
    sub.add(sp.false, f"${plain(eq.lhs)} = {plain(eq.rhs)}$ is false: no solution", r"\text{no solution}")
    return sub


def roots_of(expr: Any) -> list[sp.Basic]:
    """The values of "x = a or x = b" (sorted), none for "no solution"; a line true for every value of the unknown
    (a whole interval of solutions once the condition is applied) gets no steps."""
    if expr is sp.false:
        return []
    if isinstance(expr, sp.Eq):
        return [expr.rhs]
    if isinstance(expr, sp.Or) and all(isinstance(a, sp.Eq) for a in expr.args):
        return sorted(dict.fromkeys(a.rhs for a in expr.args), key=lambda r: float(sp.N(r)))
    raise NoSteps(EVERY_VALUE)


def answer_line(var: sp.Symbol, roots: list[sp.Basic]) -> tuple[Any, str]:
    """The last line: "x = a or x = b", or "no solution" (with its LaTeX)."""
    if not roots:
        return sp.false, r"\text{no solution}"
    return either([equation(var, r) for r in roots])
