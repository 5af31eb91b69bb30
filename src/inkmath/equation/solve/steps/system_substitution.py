"""Worked solutions of systems of two equations in two unknowns where one equation is linear and the other is not
(a line and a parabola, a circle, xy = 6): substitution.

Steps: solve the linear equation for one unknown (one with coefficient ±1 when there is one, y before x); put that
expression in place of the unknown in the other equation, which leaves an equation in one unknown; solve it with
the linear or quadratic steps (`steps_linear`), each line shown with the solved equation beside it; then put each
root back into the solved equation for the other unknown, and list the pairs (or say there is no real solution).
Every line is a system: a `Tuple` of its lines, an `Or` of alternatives within it, and the last an `Or` of pairs
(`And`); the checker reads them with SymPy's `solve` over the real numbers (`steps.solution_set`).
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import OR_TEX, NoSteps, Worked, arrange, equation, evaluated, same_line, tex
from inkmath.equation.solve.steps.linear import linear_steps, ordered_roots, quadratic_steps
from inkmath.equation.solve.steps.system import system_unknowns

EQUATIONS = 2  # a line with a curve: two equations in two unknowns
MAX_DEGREE = 2  # the equation left after substituting is solved when it is linear or quadratic
_ORDINAL = ("first", "second")


def is_linear(item: sp.Basic, variables: list[sp.Symbol]) -> bool:
    """Is this equation of degree 1 (or 0) in the unknowns?"""
    f = sp.expand(item.lhs - item.rhs)
    return f.is_polynomial(*variables) and sp.Poly(f, *variables).total_degree() <= 1


def is_nonlinear_system(items: list[sp.Basic]) -> bool:
    """A system of equations of which at least one is not linear (these get steps by substitution, or none)."""
    variables = system_unknowns(items)
    return all(isinstance(item, sp.Eq) for item in items) and not all(is_linear(i, variables) for i in items)


def _solved_for(linear: sp.Eq, variables: list[sp.Symbol]) -> tuple[sp.Symbol, sp.Basic]:
    """The unknown to solve the linear equation for and its expression: y before x, one with coefficient ±1 first,
    then one whose coefficient divides the others (2x + 4y = 6: x = 3 - 2y), else y with fractions."""
    f = sp.expand(evaluated(linear.lhs - linear.rhs))
    present = [v for v in reversed(variables) if f.coeff(v, 1) != 0]
    whole = [v for v in present if all(c.is_Integer for c in sp.Poly(f / f.coeff(v, 1), *variables).coeffs())]
    var = next((v for v in present if abs(f.coeff(v, 1)) == 1), next(iter(whole), present[0]))
    return var, sp.expand(-(f - f.coeff(var, 1) * var) / f.coeff(var, 1))


def _put(expr: sp.Basic, var: sp.Symbol, value: sp.Basic) -> sp.Basic:
    """`expr` with `value` in place of `var`, nothing else worked out (2y with y = 3 - x is 2(3 - x), not 6 - 2x)."""
    if expr == var:
        return value
    if expr.is_Atom or not expr.has(var):
        return expr
    args = [_put(a, var, value) for a in expr.args]
    if isinstance(expr, sp.Add):  # x^2 + y with y = 3 - x: x^2 + 3 - x, a sum needs no brackets within a sum
        return sp.Add(*[t for a in args for t in (a.args if isinstance(a, sp.Add) else [a])], evaluate=False)
    if isinstance(expr, (sp.Mul, sp.Pow, sp.Eq)):
        return expr.func(*args, evaluate=False)
    return expr.func(*args)


def _written_at(expr: sp.Basic, var: sp.Symbol, value: sp.Basic) -> str:
    """`expr` with `value` written in place of `var`, before working it out: 2 \\cdot 3 + 3, 7 - \\left(-2\\right)."""
    shown = tex(value) if value.is_Integer and value >= 0 else rf"\left({tex(value)}\right)"
    return sp.latex(_put(arrange(expr), var, sp.Symbol(shown)), order="none", mul_symbol="dot")


def _pairs(roots: list[sp.Basic], var: sp.Symbol, other: sp.Symbol, expr: sp.Basic,
           variables: list[sp.Symbol]) -> tuple[sp.Basic, str, list[str]]:
    """The solution pairs (an `Or` of `And`s), their line "(x, y) = (-1, 1) or ...", and how each value of `var`
    is worked out from a root."""
    pairs, shown, worked = [], [], []
    at_root = {root: sp.expand(expr.subs(other, root)) for root in roots}
    roots = sorted(roots, key=lambda r: [float(sp.N(r if v == other else at_root[r])) for v in variables])
    for root in roots:  # in the order of the pairs, (x, y) by x as the solver lists them
        value = at_root[root]
        point = {other: root, var: value}
        pairs.append(sp.And(*[equation(v, point[v]) for v in variables]))
        shown.append(rf"\left({', '.join(tex(v) for v in variables)}\right) = "
                     rf"\left({', '.join(tex(point[v]) for v in variables)}\right)")
        given = f"${tex(other)} = {tex(root)}$ gives " if len(roots) > 1 else ""
        at = _written_at(expr, other, root)
        shown_at = f"{at} = " if expr != other and not same_line(at, tex(value)) else ""
        worked.append(f"{given}${tex(var)} = {shown_at}{tex(value)}$")
    expr_out = pairs[0] if len(pairs) == 1 else sp.Or(*pairs, evaluate=False)
    return expr_out, OR_TEX.join(shown), worked


def substitution_steps(raw: list[sp.Basic], items: list[sp.Basic], input_latex: str) -> Worked:
    if len(items) != EQUATIONS:
        raise NoSteps(f"a system with a nonlinear equation gets steps when it has {EQUATIONS} equations, this one "
                      f"has {len(items)}")
    variables = system_unknowns(items)
    if len(variables) != EQUATIONS:
        raise NoSteps(f"a system with a nonlinear equation gets steps when it has {EQUATIONS} unknowns, this one "
                      f"has {len(variables)}")
    linear_at = [i for i, item in enumerate(items) if is_linear(item, variables)]
    if not linear_at:
        raise NoSteps("both equations of this system are nonlinear: steps cover a linear equation with a nonlinear "
                      "one, by substitution")
    li = linear_at[0]
    ni = 1 - li
    var, expr = _solved_for(items[li], variables)
    other = next(v for v in variables if v != var)
    solved = equation(var, arrange(expr))

    def add_system(line: sp.Basic, reason: str, latex: str | None = None) -> None:
        """A step: `line` and the solved linear equation, each where its equation was written."""
        parts = [(solved, tex(solved)), (line, latex if latex is not None else tex(line))]
        if li == 1:
            parts.reverse()
        w.add(sp.Tuple(*[p for p, _ in parts]), reason, latex=r" \\ ".join(s for _, s in parts))

    w = Worked("nonlinear_system", variables=variables)
    w.add(sp.Tuple(*raw), "the system", input_latex)
    if not (raw[li].lhs == var and evaluated(raw[li].rhs) == expr):
        add_system(raw[ni], f"solve the {_ORDINAL[li]} equation (it is linear) for ${tex(var)}$")
    substituted = _put(raw[ni], var, arrange(expr))
    if raw[ni].lhs == var:  # y = x^2 with y = x + 2: x^2 = x + 2, the curve's side first
        substituted = equation(substituted.rhs, substituted.lhs)
    f = sp.expand(evaluated(substituted.lhs - substituted.rhs))
    if not f.has(other):
        raise NoSteps(f"after substituting ${tex(var)}$, ${tex(other)}$ cancels too: answered without steps")
    if not f.is_polynomial(other):
        raise NoSteps(f"after substituting ${tex(var)}$ the equation is not a polynomial equation in "
                      f"${tex(other)}$: answered without steps")
    degree = sp.degree(f, other)
    if degree > MAX_DEGREE:
        raise NoSteps(f"substituting leaves an equation of degree {degree}: answered without steps")
    add_system(substituted, f"substitute ${tex(solved)}$ into the {_ORDINAL[ni]} equation: an equation in "
                            f"${tex(other)}$ alone")
    sub = (quadratic_steps if degree == MAX_DEGREE else linear_steps)(substituted, other, tex(substituted))
    for step in sub.steps[1:]:
        if step.expr is sp.false:
            w.add(sp.false, f"{step.reason}; so the system has no real solution", latex=r"\text{no real solution}")
            return w
        if step.expr is sp.true:
            raise NoSteps("the two equations have infinitely many common solutions: answered without steps")
        add_system(step.expr, step.reason, step.latex)
    found = list(sp.Or.make_args(w.steps[-1].expr.args[ni]))
    if not all(isinstance(eq, sp.Eq) and eq.lhs == other for eq in found):
        raise NoSteps(f"the equation in ${tex(other)}$ did not end at its roots: answered without steps")
    roots = ordered_roots([eq.rhs for eq in found])
    pairs, latex, worked = _pairs(roots, var, other, expr, variables)
    if not expr.has(other):
        w.add(pairs, f"the solutions, each with ${tex(solved)}$", latex=latex)
        return w
    where = f"put each value of ${tex(other)}$ into ${tex(solved)}$" if len(found) > 1 else \
        f"put ${tex(other)} = {tex(roots[0])}$ into ${tex(solved)}$"
    w.add(pairs, f"{where}: " + "; ".join(worked), latex=latex)
    return w
