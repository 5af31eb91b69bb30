"""Worked solutions of quadratic inequalities in one unknown (ax² + bx + c < 0, ≥ 0, ...; linear ones are worked out
with linear equations in `steps_linear`).

Steps: every term to the left side; the roots of the quadratic, shown by writing it as a product (factoring when
they are rational, else the discriminant and the formula: a(x − x₁)(x − x₂)); then the sign of a, which way the
parabola opens, says where the expression is positive or negative, and the answer as intervals. With Δ < 0 the
parabola never meets the x-axis (always or never true); with Δ = 0 it touches it at one point (a double root).
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, Worked, arrange, evaluated, plain, tex
from inkmath.equation.solve.steps.linear import discriminant_line, factored, formula_latex, ordered_roots, standard_form

SYMBOL = {sp.Lt: "<", sp.Gt: ">", sp.Le: r"\leq", sp.Ge: r"\geq"}
WANTS_POSITIVE = {sp.Lt: False, sp.Gt: True, sp.Le: False, sp.Ge: True}


def quadratic_inequality_steps(raw: sp.Basic, var: sp.Symbol, input_latex: str) -> Worked:
    relation = type(raw)
    if relation not in SYMBOL:
        raise NoSteps("only <, >, \\leq and \\geq inequalities get steps")
    f = sp.expand(evaluated(raw.lhs - raw.rhs))
    if not all(v.is_Rational for v in sp.Poly(f, var).all_coeffs()):
        raise NoSteps("a quadratic inequality gets steps when its coefficients are whole numbers or fractions")
    w = Worked("quadratic_inequality", variables=[var])
    w.add(raw, "the inequality", input_latex)
    if _written_factored(raw, var):
        product = raw.lhs
    else:
        product = _roots_shown(w, raw, f, var)
        if product is None:
            return w
    roots = ordered_roots(sp.solve(f, var))
    if len(roots) == 1:
        _double_root(w, f, var, relation, roots[0], product)
    else:
        _two_roots(w, f, var, relation, roots)
    return w


def _written_factored(raw: sp.Basic, var: sp.Symbol) -> bool:
    """(x - 1)(x + 2) < 0 or (x - 4)^2 > 0 as written: the roots can be read off, nothing to expand or factor."""
    factors = [g for g in sp.Mul.make_args(raw.lhs) if g.has(var)]
    bases = [g.base if isinstance(g, sp.Pow) else g for g in factors]
    return raw.rhs == 0 and bool(bases) and all(sp.degree(sp.expand(evaluated(g)), var) == 1 for g in bases)


def _roots_shown(w: Worked, raw: sp.Basic, f: sp.Basic, var: sp.Symbol) -> sp.Basic | None:
    """Steps from `raw` to f written as a product that shows its roots (by factoring, else by the formula); returns
    that product, or None when the discriminant is negative and the last step (always / never true) is added."""
    relation = type(raw)
    a, b, c = (f.coeff(var, n) for n in (2, 1, 0))
    disc = sp.expand(b**2 - 4 * a * c)
    standard = standard_form(w, raw, f)
    if c == 0 and b == 0:  # a x^2: a square as written
        return standard.lhs
    if c == 0 or sp.sqrt(disc).is_Rational:
        product, _, reason = factored(f, var)
        w.add(relation(product, 0, evaluate=False), reason)
        return product
    reason, shown = discriminant_line(f, var)
    w.add(standard, reason, latex=tex(standard) + shown)
    if disc < 0:
        _no_roots(w, f, var, relation)
        return None
    roots = ordered_roots(sp.solve(f, var))
    product = sp.Mul(*([a] if a != 1 else []), *[_minus(var, r) for r in roots], evaluate=False)
    name = tex(var)
    w.add(relation(product, 0, evaluate=False),
          f"the roots by the quadratic formula, ${formula_latex(f, var)}$, are "
          + " and ".join(f"${plain(r)}$" for r in roots) + f": write the left side as $a({name} - {name}_1)({name} - "
          f"{name}_2)$")
    return product


def _minus(var: sp.Symbol, root: sp.Basic) -> sp.Basic:
    """x − r written with r's terms in the order r is printed: x - 1 - √2 for r = 1 + √2 (not x - √2 - 1)."""
    return sp.Add(var, *[-t for t in sp.Add.make_args(arrange(root))], evaluate=False)


def _opens(a: sp.Basic) -> str:
    """'opens upwards ($a = 2 > 0$)' for the parabola y = ax² + ..."""
    return f"opens upwards ($a = {plain(a)} > 0$)" if a > 0 else f"opens downwards ($a = {plain(a)} < 0$)"


def every_value(w: Worked, var: sp.Symbol, reason: str) -> None:
    w.add(sp.true, reason + f": every value of ${tex(var)}$ is a solution", latex=rf"{sp.latex(var)} \in \mathbb{{R}}")


def _no_roots(w: Worked, f: sp.Basic, var: sp.Symbol, relation: type) -> None:
    """Δ < 0: f has the sign of its leading coefficient everywhere, so the inequality always or never holds."""
    a = f.coeff(var, 2)
    sign = "positive" if a > 0 else "negative"
    reason = (f"the parabola $y = {plain(f)}$ {_opens(a)} and, as $\\Delta < 0$, never meets the $x$-axis: "
              f"${plain(f)}$ is {sign} for every ${tex(var)}$, so ${plain(f)} {SYMBOL[relation]} 0$")
    if (a > 0) == WANTS_POSITIVE[relation]:
        every_value(w, var, reason + " always holds")
    else:
        w.add(sp.false, reason + " never holds: no solution", latex=r"\text{no solution}")


def _double_root(w: Worked, f: sp.Basic, var: sp.Symbol, relation: type, root: sp.Basic,
                 square: sp.Basic) -> None:
    """Δ = 0: f (written as `square`, a(x − r)²) is zero at its double root and has the sign of its leading
    coefficient everywhere else."""
    a = f.coeff(var, 2)
    sign = "positive" if a > 0 else "negative"
    name, holds = tex(var), f"${tex(square)} {SYMBOL[relation]} 0$"
    reason = (f"a square is never negative: ${tex(square)}$ is zero at ${name} = {plain(root)}$ (a double root) and "
              f"{sign} for every other ${name}$, so {holds}")
    strict = relation in (sp.Lt, sp.Gt)
    if (a > 0) == WANTS_POSITIVE[relation]:
        if strict:
            w.add(sp.Ne(var, root), reason + f" for every ${name}$ except ${plain(root)}$")
        else:
            every_value(w, var, reason + " always holds")
    elif strict:
        w.add(sp.false, reason + " never holds: no solution", latex=r"\text{no solution}")
    else:
        w.add(sp.Eq(var, root), reason + f" only at ${name} = {plain(root)}$")


def _two_roots(w: Worked, f: sp.Basic, var: sp.Symbol, relation: type, roots: list[sp.Basic]) -> None:
    """Δ > 0: f has the sign of its leading coefficient outside its roots and the other sign between them."""
    a = f.coeff(var, 2)
    low, high = roots
    outside, inside = ("positive", "negative") if a > 0 else ("negative", "positive")
    strict = relation in (sp.Lt, sp.Gt)
    between = (inside == "positive") == WANTS_POSITIVE[relation]
    if between:
        answer = sp.Interval(low, high, left_open=strict, right_open=strict)
    else:
        answer = sp.Union(sp.Interval(-sp.oo, low, right_open=strict), sp.Interval(high, sp.oo, left_open=strict),
                          evaluate=False)
    reason = (f"the parabola $y = {plain(f)}$ {_opens(a)}: it is {inside} between its roots ${plain(low)}$ and "
              f"${plain(high)}$ and {outside} outside them, so ${plain(f)} {SYMBOL[relation]} 0$ "
              + ("between" if between else "outside") + " the roots" + ("" if strict else ", the roots included"))
    w.add(sp.Contains(var, answer, evaluate=False), reason)
