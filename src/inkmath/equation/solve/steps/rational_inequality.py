"""Worked solutions of inequalities with the unknown in a denominator that become P/Q < 0 (> 0, ≤ 0, ≥ 0) with P and
Q linear or quadratic, their real zeros rational (\\frac{x-1}{x+2} > 0, \\frac{1}{x} < 2, \\frac{x^2-4}{x-3} ≥ 0).

Steps: every term to the left side (never multiplying both sides by an expression of unknown sign, which could
reverse the inequality); the left side as one fraction over the common denominator, its numerator expanded; a
quadratic numerator or denominator factored; the critical points, the zeros of the numerator and of the
denominator (the denominator's always excluded, even with ≤ or ≥); then the sign of P/Q on each interval between
them, from a test value in each (a compact sign table in the reason), and the answer as intervals.
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, Worked, arrange, evaluated, plain, same_line, signed, tex, terms, total
from inkmath.equation.solve.steps.conditions import conditioned
from inkmath.equation.solve.steps.inequality import SYMBOL, WANTS_POSITIVE, every_value
from inkmath.equation.solve.steps.linear import factored
from inkmath.equation.solve.steps.rational import real_zeros, times, written_fractions

MAX_DEGREE = 2  # numerator and denominator linear or quadratic
_WANTED = {sp.Lt: "negative", sp.Gt: "positive", sp.Le: "negative or zero", sp.Ge: "positive or zero"}


def is_rational_inequality(f: sp.Basic, var: sp.Symbol) -> bool:
    """True when f (lhs − rhs) is a quotient of polynomials in `var` with `var` in a denominator."""
    return f.is_rational_function(var) and not f.is_polynomial(var)


def rational_inequality_steps(raw: sp.Basic, var: sp.Symbol, input_latex: str) -> Worked:
    relation = type(raw)
    if relation not in SYMBOL:
        raise NoSteps("only <, >, \\leq and \\geq inequalities get steps")
    fractions = [(n, d, left) for n, d, left in written_fractions(raw, var) if n != 0]
    w = Worked("rational_inequality", variables=[var])
    w.add(raw, "the inequality", input_latex)
    shown_numerator, shown_denominator = _one_fraction(w, raw, var, fractions)
    numerator, denominator = (sp.expand(evaluated(e)) for e in (shown_numerator, shown_denominator))
    if sp.degree(numerator, var) > MAX_DEGREE or sp.degree(denominator, var) > MAX_DEGREE:
        raise NoSteps(f"a fraction with a numerator or denominator of degree more than {MAX_DEGREE} is answered "
                      f"without steps")
    if sp.gcd(numerator, denominator).has(var):
        raise NoSteps("a fraction whose numerator and denominator share a factor is answered without steps")
    zeros, excluded = real_zeros([numerator], var), real_zeros([denominator], var)
    if not all(z.is_Rational for z in zeros + excluded):
        raise NoSteps("a rational inequality gets steps when its critical points are whole numbers or fractions")
    shown_numerator, shown_denominator = _factored(w, relation, shown_numerator, shown_denominator, var)
    fraction = _over(shown_numerator, shown_denominator)
    conditions = [sp.Ne(var, e) for e in excluded]
    expr, latex = conditioned(relation(fraction, 0, evaluate=False), tex(relation(fraction, 0)), conditions)
    w.add(expr, _critical_points(shown_numerator, shown_denominator, var, zeros, excluded), latex)
    _sign_table(w, fraction, var, relation, zeros, excluded)
    return w


def _over(numerator: sp.Basic, denominator: sp.Basic) -> sp.Basic:
    """numerator / denominator as one fraction, as written (1/x, not 1 · 1/x)."""
    over = sp.Pow(denominator, -1, evaluate=False)
    return over if numerator == 1 else sp.Mul(numerator, over, evaluate=False)


def _one_fraction(w: Worked, raw: sp.Basic, var: sp.Symbol, fractions: list[tuple[sp.Basic, sp.Basic, bool]]
                  ) -> tuple[sp.Basic, sp.Basic]:
    """Steps from `raw` to (numerator)/(common denominator) compared with 0: the terms on the right moved left, the
    sum written over the common denominator, its numerator expanded. Returns (numerator, denominator) as shown."""
    relation = type(raw)
    dens = list(dict.fromkeys(den for _, den, _ in fractions))
    with_var = [d for d in dens if d.has(var)]
    single = len(with_var) == 1 and all(d == 1 for d in dens if d not in with_var)
    lcd = with_var[0] if single else sp.factor(sp.lcm_list(dens))  # 2 - x as written, not x - 2
    unknown = (f"do not multiply both sides by ${plain(lcd)}$: its sign is unknown, and a negative factor would "
               f"reverse the inequality")
    if raw.rhs != 0:
        moved = total([*terms(raw.lhs), *[-t for t in terms(raw.rhs)]])
        right = terms(raw.rhs)
        reason = signed(right[0], "both sides") if len(right) == 1 else "move every term to the left side"
        w.add(relation(moved, 0, evaluate=False), f"{reason} to compare with $0$ ({unknown})")
    else:
        reason = ""
    if len(fractions) > 1:
        parts = [times(num if left else -num, sp.factor(sp.cancel(lcd / den))) for num, den, left in fractions]
        written = total(parts)
        why = f"write the left side as one fraction over the common denominator ${plain(lcd)}$"
        w.add(relation(_over(written, arrange(lcd)), 0, evaluate=False), why if reason else f"{why} ({unknown})")
        numerator = sp.expand(evaluated(written))
        simpler = relation(_over(arrange(numerator), arrange(lcd)), 0, evaluate=False)
        if not same_line(tex(simpler), w.steps[-1].latex):
            w.add(simpler, "expand the numerator and collect like terms")
        return arrange(numerator), arrange(lcd)
    num, den, _ = fractions[0]
    return arrange(num), arrange(den)


def _is_product_of_linear_factors(expr: sp.Basic, var: sp.Symbol) -> bool:
    """x(x + 2), (x - 1)^2, x^2: its zeros can be read off, nothing to factor."""
    bases = [g.base if isinstance(g, sp.Pow) else g for g in sp.Mul.make_args(expr) if g.has(var)]
    return all(sp.degree(evaluated(g), var) == 1 for g in bases)


def _factored(w: Worked, relation: type, numerator: sp.Basic, denominator: sp.Basic, var: sp.Symbol
              ) -> tuple[sp.Basic, sp.Basic]:
    """A quadratic numerator or denominator that has real zeros written as a product (a step when one is
    factored); returns (numerator, denominator) as shown."""
    forms, changed = [], []
    for shown, name in ((numerator, "numerator"), (denominator, "denominator")):
        poly = sp.expand(evaluated(shown))
        if sp.degree(poly, var) == MAX_DEGREE and real_zeros([poly], var) and \
                not _is_product_of_linear_factors(shown, var):
            shown = factored(poly, var)[0]
            changed.append(name)
        forms.append(shown)
    if changed:
        w.add(relation(_over(*forms), 0, evaluate=False), "factor the " + " and the ".join(changed))
    return forms[0], forms[1]


def _at(var: sp.Symbol, values: list[sp.Basic]) -> str:
    return " and ".join(f"${tex(var)} = {plain(v)}$" for v in values)


def _critical_points(numerator: sp.Basic, denominator: sp.Basic, var: sp.Symbol, zeros: list[sp.Basic],
                     excluded: list[sp.Basic]) -> str:
    """The reason naming the critical points: where the numerator is zero, and where the denominator is (excluded)."""
    top = f"the numerator ${plain(numerator)}$ is " + (f"zero at {_at(var, zeros)}" if zeros else "never zero")
    which = "which are" if len(excluded) > 1 else "which is"
    bottom = f"the denominator ${plain(denominator)}$ is " + (
        f"zero at {_at(var, excluded)}, {which} excluded (a denominator must not be zero)" if excluded else
        "never zero")
    return f"the critical points: {top}; {bottom}"


def _test_values(points: list[sp.Basic]) -> list[sp.Basic]:
    """A number inside each interval the sorted `points` cut the real line into."""
    if not points:
        return [sp.Integer(0)]
    inner = [(a + b) / 2 for a, b in zip(points, points[1:])]
    return [points[0] - 1, *inner, points[-1] + 1]


def _sign_table(w: Worked, fraction: sp.Basic, var: sp.Symbol, relation: type, zeros: list[sp.Basic],
                excluded: list[sp.Basic]) -> None:
    """The sign of `fraction` on each interval between the critical points (from a test value in each), in the
    reason, and the intervals (with the numerator's zeros unless strict) where it has the sign wanted as the answer."""
    points = sorted(zeros + excluded)
    bounds = [-sp.oo, *points, sp.oo]
    value = evaluated(fraction)
    signs = [sp.sign(value.subs(var, t)) for t in _test_values(points)]
    strict = relation in (sp.Lt, sp.Gt)
    wanted = WANTS_POSITIVE[relation]
    pieces = [sp.Interval.open(a, b) for a, b, s in zip(bounds, bounds[1:], signs) if (s > 0) == wanted]
    if not strict:
        pieces += [sp.FiniteSet(z) for z in zeros]
    answer = sp.Union(*pieces)
    table = ", ".join(f"on ${tex(sp.Interval.open(a, b))}$: ${'+' if s > 0 else '-'}$"
                      for a, b, s in zip(bounds, bounds[1:], signs))
    reason = f"the sign of the left side on each interval (a test value in each): {table}; it must be " \
             f"{_WANTED[relation]}"
    if not strict and zeros:
        reason += f", so {_at(var, zeros)} {'are' if len(zeros) > 1 else 'is'} included (the numerator is zero)"
    if not strict and excluded:
        reason += f", and {_at(var, excluded)} {'stay' if len(excluded) > 1 else 'stays'} excluded"
    if answer is sp.S.EmptySet:
        w.add(sp.false, reason + ": no solution", r"\text{no solution}")
    elif answer == sp.S.Reals:
        every_value(w, var, reason)
    else:
        w.add(sp.Contains(var, answer, evaluate=False), reason)
