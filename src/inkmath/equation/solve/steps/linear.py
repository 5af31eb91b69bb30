"""Worked solutions of equations in one unknown: linear (brackets and fractions included) and quadratic (by
factoring when the roots are rational, else by the formula with its discriminant; a negative one means no real
solution, and the complex roots the formula gives are named in the last step's reason)."""

from __future__ import annotations

import math

import sympy as sp

from inkmath.equation.solve.steps.base import (
    NoSteps, Worked, arrange, equation, evaluated, same_line, has_brackets, number_denominators, plain, signed, tex, terms, total,
)


def _sides_expanded(lhs: sp.Basic, rhs: sp.Basic, w: Worked, relation: type = sp.Eq) -> tuple[sp.Basic, sp.Basic]:
    """Clear number denominators, expand brackets and collect like terms, one step each when needed.
    Returns the two sides, evaluated and expanded."""
    dens = number_denominators(lhs) + number_denominators(rhs)
    common = math.lcm(*dens) if dens else 1
    if common > 1:
        lhs = total([arrange(sp.expand(common * t)) for t in terms(lhs)])
        rhs = total([arrange(sp.expand(common * t)) for t in terms(rhs)])
        w.add(relation(lhs, rhs, evaluate=False), f"multiply both sides by ${common}$, the common denominator")
    elif has_brackets(lhs) or has_brackets(rhs):
        lhs = total([arrange(sp.expand(t)) for t in terms(lhs)])
        rhs = total([arrange(sp.expand(t)) for t in terms(rhs)])
        w.add(relation(lhs, rhs, evaluate=False), "expand the brackets")
    left, right = sp.expand(evaluated(lhs)), sp.expand(evaluated(rhs))
    collected = relation(arrange(left), arrange(right), evaluate=False)
    same_terms = len(terms(left)) == len(terms(lhs)) and len(terms(right)) == len(terms(rhs))
    if not same_terms and not same_line(tex(collected), w.steps[-1].latex):
        w.add(collected, "collect like terms")
    return left, right


def _cancel_squares(left: sp.Basic, right: sp.Basic, var: sp.Symbol, w: Worked,
                    relation: type = sp.Eq) -> tuple[sp.Basic, sp.Basic]:
    """Subtract the terms of degree 2 and more that both sides share (x^2 + 3x = x^2 + 5: the equation is linear
    because they cancel), one step; the sides then have only x terms and numbers."""
    high = sp.Add(*[t for t in sp.Add.make_args(right) if sp.degree(t, var) >= 2])
    if high == 0:
        return left, right
    left, right = sp.expand(left - high), sp.expand(right - high)
    w.add(relation(arrange(left), arrange(right), evaluate=False), signed(high, "both sides"))
    return left, right


def _terms_cancelled(w: Worked, var: sp.Symbol, holds: bool, what: str) -> Worked:
    """The last step when the unknown's terms cancel: ``what`` is left, and it holds for every value or for none."""
    name = tex(var)  # \theta, not theta
    if holds:
        w.add(sp.true, f"the ${name}$ terms cancel and {what} is true: every value of ${name}$ is a solution",
              latex=f"{sp.latex(var)} \\in \\mathbb{{R}}")
    else:
        w.add(sp.false, f"the ${name}$ terms cancel and {what} is false: no solution", latex=r"\text{no solution}")
    return w


def linear_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    """ax + b = cx + d in steps: clear fractions, expand, collect, move x terms left and numbers right, divide."""
    w = Worked("linear", variables=[var])
    w.add(raw, "the equation", input_latex)
    left, right = _cancel_squares(*_sides_expanded(raw.lhs, raw.rhs, w), var, w)
    a, b = left.coeff(var, 1), left.coeff(var, 0)
    c, d = right.coeff(var, 1), right.coeff(var, 0)
    if a == 0 and c != 0:
        a, b, c, d = c, d, a, b
        w.add(equation(arrange(a * var + b), arrange(d)), "swap the two sides")
    if c != 0:
        a = a - c
        w.add(equation(arrange(a * var + b), arrange(d)), signed(c * var, "both sides"))
    if a == 0:
        return _terms_cancelled(w, var, sp.simplify(b - d) == 0, f"${plain(b)} = {plain(d)}$")
    if b != 0:
        d = d - b
        w.add(equation(arrange(a * var), arrange(d)), signed(b, "both sides"))
    if a != 1:
        reason = "multiply both sides by $-1$" if a == -1 else f"divide both sides by ${plain(a)}$"
        w.add(equation(var, d / a), reason)
    return w


FLIPPED = {sp.Lt: sp.Gt, sp.Gt: sp.Lt, sp.Le: sp.Ge, sp.Ge: sp.Le}


def inequality_steps(raw: sp.Basic, var: sp.Symbol, input_latex: str) -> Worked:
    """ax + b < cx + d in the steps of a linear equation; dividing by a negative number reverses the sign."""
    relation = type(raw)
    if relation not in FLIPPED:
        raise NoSteps("only <, >, \\leq and \\geq inequalities get steps")
    w = Worked("inequality", variables=[var])
    w.add(raw, "the inequality", input_latex)
    left, right = _cancel_squares(*_sides_expanded(raw.lhs, raw.rhs, w, relation), var, w, relation)
    a, b = left.coeff(var, 1), left.coeff(var, 0)
    c, d = right.coeff(var, 1), right.coeff(var, 0)
    if a == 0 and c != 0:
        a, b, c, d = c, d, a, b
        relation = FLIPPED[relation]
        w.add(relation(arrange(a * var + b), arrange(d), evaluate=False), "swap the two sides (and the sign)")
    if c != 0:
        a = a - c
        w.add(relation(arrange(a * var + b), arrange(d), evaluate=False), signed(c * var, "both sides"))
    if a == 0:
        return _terms_cancelled(w, var, bool(relation(b, d)), "what is left")
    if b != 0:
        d = d - b
        w.add(relation(arrange(a * var), arrange(d), evaluate=False), signed(b, "both sides"))
    if a != 1:
        if a < 0:
            relation = FLIPPED[relation]
            reason = f"divide both sides by ${plain(a)}$ and reverse the sign (dividing by a negative number)"
        else:
            reason = f"divide both sides by ${plain(a)}$"
        w.add(relation(var, d / a, evaluate=False), reason)
    return w


def _zero_product(w: Worked, factors: list[sp.Basic], var: sp.Symbol) -> None:
    """From a product equal to zero to the roots: one equation per factor, then each solved."""
    if len(factors) == 1:
        w.add(equation(arrange(factors[0]), 0), "a square is zero only when its base is zero")
        root = sp.solve(factors[0], var)[0]
        w.add(equation(var, root), "solve for $" + sp.latex(var) + "$ (a double root)")
        return
    w.add_either([equation(arrange(g), 0) for g in factors], "a product is zero when one of its factors is zero")
    roots = [sp.solve(g, var)[0] for g in factors]
    w.add_either([equation(var, r) for r in ordered_roots(roots)], "solve each equation")


def ordered_roots(values: list[sp.Basic]) -> list[sp.Basic]:
    """Real roots first in increasing order, then complex ones by real and imaginary part (as the solver lists)."""
    def key(e: sp.Basic) -> tuple[int, float, float]:
        re, im = (float(v) for v in sp.N(e, 15).as_real_imag())
        return (0 if e.is_real else 1, re, im)
    return sorted(dict.fromkeys(values), key=key)


def quadratic_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    w = Worked("quadratic", variables=[var])
    w.add(raw, "the equation", input_latex)
    f = sp.expand(evaluated(raw.lhs - raw.rhs))
    a, b, c = (f.coeff(var, n) for n in (2, 1, 0))
    lhs_factors = [g for g in sp.Mul.make_args(raw.lhs) if g.has(var)]
    written_product = (raw.rhs == 0 and isinstance(raw.lhs, sp.Mul) and len(lhs_factors) == 2
                       and all(sp.degree(sp.expand(evaluated(g)), var) == 1 for g in lhs_factors))
    if written_product:
        _zero_product(w, lhs_factors, var)
        return w
    standard = standard_form(w, raw, f)
    if b == 0 and c == 0:  # a x^2 = 0
        if a != 1:
            w.add(equation(var**2, 0), f"divide both sides by ${plain(a)}$")
        w.add(equation(var, 0), "a square is zero only when its base is zero (a double root)")
        return w
    disc = sp.expand(b**2 - 4 * a * c)
    if c == 0 or sp.sqrt(disc).is_Rational:
        product, bases, reason = factored(f, var)
        w.add(equation(product, 0), reason)
        _zero_product(w, bases, var)
        return w
    reason, shown = discriminant_line(f, var)
    w.add(standard, reason, latex=tex(standard) + shown)
    root = sp.sqrt(disc)
    formula_roots = [(-b + root) / (2 * a), (-b - root) / (2 * a)]
    formula = sp.Or(*[equation(var, r) for r in formula_roots], evaluate=False)
    roots = ordered_roots([sp.radsimp(sp.expand(r)) for r in formula_roots])
    if disc < 0:  # the solver answers "no real solution" and offers these roots in a note
        named = " or ".join(f"${sp.latex(var)} = {plain(r)}$" for r in roots)
        w.add(sp.false, f"$\\Delta < 0$: the square root of a negative number is not a real number, so there is "
                        f"no real solution (the formula gives the complex roots {named}, with "
                        f"$\\sqrt{{{plain(disc)}}} = {sp.latex(root)}$)", latex=r"\text{no real solution}")
        return w
    w.add(formula, "the quadratic formula $x = \\frac{-b \\pm \\sqrt{\\Delta}}{2a}$", latex=formula_latex(f, var))
    w.add_either([equation(var, r) for r in roots], "simplify")
    return w


def standard_form(w: Worked, raw: sp.Basic, f: sp.Basic) -> sp.Basic:
    """`raw` (an equation or inequality) as f = 0 (f < 0, ...) with f's terms in the usual order, a step when the
    line changes; returns that line."""
    standard = type(raw)(arrange(f), 0, evaluate=False)
    if same_line(tex(standard), w.steps[-1].latex):
        return standard
    reason = None  # already f = 0 with its terms in another order: nothing to do
    if raw.rhs != 0:
        reason = "expand and move every term to the left side" if has_brackets(raw) else \
            "move every term to the left side"
    elif has_brackets(raw):
        reason = "expand the brackets"
    elif len(terms(f)) < len(terms(raw.lhs)):
        reason = "collect like terms"
    if reason is not None:
        w.add(standard, reason)
    return standard


def factored(f: sp.Basic, var: sp.Symbol) -> tuple[sp.Basic, list[sp.Basic], str]:
    """A quadratic with rational roots (or no constant term) as a product written as a student does, the bases of
    its factors with the unknown (x - 1 for (x - 1)^2), and the reason for the step."""
    a, b, c = (f.coeff(var, n) for n in (2, 1, 0))
    if c == 0:
        inner = sp.expand(f / var)
        return sp.Mul(var, arrange(inner), evaluate=False), [var, inner], f"factor out ${sp.latex(var)}$"
    disc = sp.expand(b**2 - 4 * a * c)
    product = sp.factor(f)
    factors = sorted((g for g in sp.Mul.make_args(product) if g.has(var)), key=lambda g: sp.solve(g, var)[0])
    constant = sp.Mul(*[g for g in sp.Mul.make_args(product) if not g.has(var)])
    product = sp.Mul(*([constant] if constant != 1 else []), *factors, evaluate=False)
    hint = ""
    if a == 1 and b.is_Integer and c.is_Integer and disc != 0:
        hint = f": two numbers with product ${plain(c)}$ and sum ${plain(b)}$"
    return arrange(product), [g.base if isinstance(g, sp.Pow) else g for g in factors], "factor" + hint


def discriminant_line(f: sp.Basic, var: sp.Symbol) -> tuple[str, str]:
    """The reason naming the sign of the quadratic f's discriminant, and the LaTeX that follows the line to work
    it out (",  Δ = (b)^2 - 4·a·c = ...")."""
    a, b, c = (f.coeff(var, n) for n in (2, 1, 0))
    disc = sp.expand(b**2 - 4 * a * c)
    sign = "positive" if disc > 0 else "negative" if disc < 0 else "zero"
    reason = f"the discriminant $\\Delta = b^2 - 4ac = {plain(disc)}$ is {sign}" + \
        (" and not a perfect square" if disc > 0 and not sp.sqrt(disc).is_Rational else "")
    shown = f",\\quad \\Delta = ({plain(b)})^{{2}} - 4 \\cdot {_paren(a)} \\cdot {_paren(c)} = {plain(disc)}"
    return reason, shown


def formula_latex(f: sp.Basic, var: sp.Symbol) -> str:
    """x = (-b ± √Δ) / 2a with the quadratic f's numbers."""
    a, b, c = (f.coeff(var, n) for n in (2, 1, 0))
    disc = sp.expand(b**2 - 4 * a * c)
    return f"{sp.latex(var)} = \\frac{{{plain(-b)} \\pm \\sqrt{{{plain(disc)}}}}}{{{plain(2 * a)}}}"


def _paren(value: sp.Basic) -> str:
    text = plain(value)
    return f"({text})" if value.could_extract_minus_sign() or not value.is_Integer else text


def check_linear_or_quadratic(f: sp.Basic, var: sp.Symbol, inequality: bool = False) -> int:
    """The degree of f in var (0, 1 or 2), or NoSteps naming why this equation (or inequality) is not worked
    out."""
    if not f.is_polynomial(var):
        if inequality:
            raise NoSteps(f"this inequality is answered without steps: steps cover linear and quadratic inequalities, "
                          f"one absolute value of a linear expression compared with a number, and ${tex(var)}$ in a "
                          f"denominator (no ${tex(var)}$ in a root or a function)")
        raise NoSteps(f"this equation is answered without steps: steps cover linear and quadratic equations, "
                      f"simple trigonometric, exponential and logarithmic ones, and ones with ${tex(var)}$ in "
                      f"denominators, in one square root or in one absolute value that lead to a linear or quadratic "
                      f"equation")
    degree = sp.degree(f, var) if f != 0 else 0
    if inequality and degree > 2:
        raise NoSteps("only linear and quadratic inequalities get steps")
    if degree > 2:
        raise NoSteps(f"an equation of degree {degree} is answered without steps (steps cover degrees 1 to 4)")
    return int(degree)
