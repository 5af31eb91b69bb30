"""Worked solutions of expressions: arithmetic with fractions and powers in the order of operations, and
simplifying a polynomial or rational expression (expand, collect, factor, cancel).

Arithmetic works on the expression as written (unevaluated SymPy objects). Each pass rewrites every innermost
operation at once (the operations whose operands are already numbers), after first trying the rules a student
applies before computing: powers of the same base (add or subtract the exponents), a power of a power (multiply
them), dividing by a fraction (multiply by its reciprocal), fractions over a common denominator. A fraction is kept
as written, `Mul(a, Pow(b, -1))`, until a step simplifies it, so 3/6 + 2/6 can be shown before 5/6.
"""

from __future__ import annotations

import math

import sympy as sp

from inkmath.equation.solve.steps.base import (
    MAX_STEPS, NoSteps, Worked, arrange, evaluated, has_brackets, same_line, tex, terms, total,
)
from inkmath.equation.solve.limits import EXACT_DEGREE_LIMIT, too_high_to_expand


def _fraction(num: int, den: int) -> sp.Basic:
    """num/den as written (not reduced): `\\frac{3}{6}`."""
    if den == 1:
        return sp.Integer(num)
    if num == 1:
        return sp.Pow(sp.Integer(den), -1, evaluate=False)
    return sp.Mul(sp.Integer(num), sp.Pow(sp.Integer(den), -1, evaluate=False), evaluate=False)


def _as_fraction(expr: sp.Basic) -> tuple[int, int] | None:
    """(num, den) if expr is a whole number, a Rational or a written fraction of two whole numbers."""
    if expr.is_Rational:
        return int(expr.p), int(expr.q)
    if isinstance(expr, sp.Pow) and expr.exp == -1 and expr.base.is_Integer and expr.base != 0:
        return (1, int(expr.base)) if expr.base > 0 else (-1, -int(expr.base))
    if isinstance(expr, sp.Mul) and len(expr.args) == 2:
        a, b = expr.args
        if a.is_Integer and isinstance(b, sp.Pow) and b.exp == -1 and b.base.is_Integer and b.base != 0:
            return (int(a), int(b.base)) if b.base > 0 else (-int(a), -int(b.base))
    return None


def _power_rule(expr: sp.Basic) -> tuple[sp.Basic, str] | None:
    """Rules on powers of the same whole-number base, applied before the powers are worked out."""
    if isinstance(expr, sp.Pow) and isinstance(expr.base, sp.Pow) and expr.base.base.is_Integer \
            and expr.exp.is_Integer and expr.base.exp.is_Integer and -1 not in (expr.exp, expr.base.exp):
        # (an exponent -1 is a division as written: 1/(2^4) is not a power of a power, 4 ÷ 1/2 is a reciprocal)
        base = expr.base.base
        return sp.Pow(base, sp.Mul(expr.base.exp, expr.exp, evaluate=False), evaluate=False), \
            "a power of a power: multiply the exponents"
    if isinstance(expr, sp.Mul):
        found: dict[sp.Basic, list[tuple[sp.Basic, int]]] = {}
        for arg in expr.args:
            sign = 1
            if isinstance(arg, sp.Pow) and arg.exp == -1 and isinstance(arg.base, sp.Pow):
                arg, sign = arg.base, -1
            if isinstance(arg, sp.Pow) and arg.base.is_Integer and arg.exp.is_Integer:
                found.setdefault(arg.base, []).append((arg.exp, sign))
        for base, exps in found.items():
            if len(exps) < 2:
                continue
            parts = [e if s > 0 else sp.Mul(-1, e, evaluate=False) for e, s in exps]
            combined = sp.Pow(base, sp.Add(*parts, evaluate=False), evaluate=False)
            rest = [a for a in expr.args if not _is_power_of(a, base)]
            new = combined if not rest else sp.Mul(*rest, combined, evaluate=False)
            subtract = any(s < 0 for _, s in exps)
            return new, ("same base: subtract the exponents" if subtract else "same base: add the exponents")
    return None


def _is_power_of(arg: sp.Basic, base: sp.Basic) -> bool:
    if isinstance(arg, sp.Pow) and arg.exp == -1 and isinstance(arg.base, sp.Pow):
        arg = arg.base
    return isinstance(arg, sp.Pow) and arg.base == base and arg.exp.is_Integer


def _compute(expr: sp.Basic) -> tuple[sp.Basic, str]:
    """Work out one operation whose operands are numbers."""
    fractions = [_as_fraction(a) for a in expr.args]
    if isinstance(expr, sp.Add) and all(f is not None for f in fractions):
        dens = {d for _, d in fractions}
        if len(dens) > 1:
            common = math.lcm(*dens)
            parts = [_fraction(n * (common // d), common) for n, d in fractions]
            return sp.Add(*parts, evaluate=False), f"write the fractions over the common denominator ${common}$"
        (den,) = dens
        total_num = sum(n for n, _ in fractions)
        return _fraction(total_num, den), ("add" if den == 1 else "add the numerators")
    if isinstance(expr, sp.Mul) and all(f is not None for f in fractions) and _as_fraction(expr) is None:
        num = math.prod(n for n, _ in fractions)
        den = math.prod(d for _, d in fractions)
        return _fraction(num, den), ("multiply" if den == 1 else "multiply the numerators and the denominators")
    if isinstance(expr, sp.Pow) and expr.exp == -1 and _as_fraction(expr.base) is not None:
        n, d = _as_fraction(expr.base)
        if n == 0:
            raise NoSteps("division by zero")
        sign = -1 if n < 0 else 1
        return _fraction(sign * d, abs(n)), "dividing by a fraction is multiplying by its reciprocal"
    pair = _as_fraction(expr)
    if pair is not None:
        n, d = pair
        g = math.gcd(n, d)
        return _fraction(n // g, d // g), (f"simplify the fraction: divide top and bottom by ${g}$" if g > 1 else
                                   "simplify")
    value = evaluated(expr)
    if isinstance(expr, sp.Pow) and not expr.exp.is_Integer:
        return value, "simplify the root"
    if isinstance(expr, sp.Pow):
        shown = tex(expr) != tex(value) and len(tex(value)) < 40
        return value, f"work out the power ${tex(expr)} = {tex(value)}$" if shown else "work out the power"
    if isinstance(expr, sp.Function):
        return value, f"the value of ${tex(expr)}$"
    return value, "work out"


def _one_pass(expr: sp.Basic) -> tuple[sp.Basic, list[str]]:
    """Rewrite every innermost operation once; the reasons used (empty when nothing changed)."""
    if expr.is_Atom:
        return expr, []
    pair = _as_fraction(expr)
    if pair is not None:
        if math.gcd(*pair) > 1 or pair[1] == 1:
            value, reason = _compute(expr)
            return value, [reason]
        return expr, []  # a fraction in lowest terms, as written
    if expr.is_number and evaluated(expr) == expr:
        return expr, []  # an evaluated number such as 2√2
    if isinstance(expr, sp.Mul) and len(expr.args) == 2 and any(a.is_NumberSymbol for a in expr.args) \
            and any(_as_fraction(a) is not None for a in expr.args):
        return expr, []  # π/6 as written
    rule = _power_rule(expr)
    if rule is not None:
        return rule[0], [rule[1]]
    if isinstance(expr, (sp.Add, sp.Mul)) and all(_as_fraction(a) is not None for a in expr.args):
        value, reason = _compute(expr)  # fractions are added or multiplied as written, then simplified
        return value, [reason]
    new_args, reasons = [], []
    for arg in expr.args:
        new, why = _one_pass(arg)
        new_args.append(new)
        reasons += why
    if reasons:
        if isinstance(expr, sp.Mul) and len(new_args) == 2 and new_args[0] == -1 and new_args[1].is_Number:
            return -new_args[1], reasons  # -3^2 -> -9, not (-1) 9: a minus sign is not a multiplication to show
        return expr.func(*new_args, evaluate=False), reasons
    value, reason = _compute(expr)
    return value, [reason]


def _flatten(expr: sp.Basic) -> sp.Basic:
    """Sums of sums as one sum (the parser builds a - b + c as (a - b) + c), which is how it is written."""
    if expr.is_Rational and not expr.is_Integer:  # 0.5 as typed: a fraction, so it is shown and added as one
        return _fraction(int(expr.p), int(expr.q))
    if expr.is_Atom or not expr.args:
        return expr
    args = [_flatten(a) for a in expr.args]
    if isinstance(expr, sp.Add):
        args = [t for a in args for t in (a.args if isinstance(a, sp.Add) else [a])]
        return sp.Add(*args, evaluate=False)

    if isinstance(expr, (sp.Mul, sp.Pow)):
        return expr.func(*args, evaluate=False)
    return expr


def arithmetic_steps(raw: sp.Basic, value: sp.Basic, input_latex: str) -> Worked:
    w = Worked("arithmetic")
    w.add(raw, "the expression", input_latex)
    current = _flatten(raw)
    for _ in range(MAX_STEPS):
        new, reasons = _one_pass(current)
        if not reasons:
            break
        if not same_line(tex(new), w.steps[-1].latex):
            w.add(new, "; ".join(dict.fromkeys(reasons)))
        current = new
    finished = current.is_number and evaluated(current) == current and sp.simplify(current - value) == 0
    if not finished and not same_line(tex(value), w.steps[-1].latex):
        w.add(value, "simplify")
    return w


def simplify_steps(raw: sp.Basic, value: sp.Basic, input_latex: str) -> Worked:
    """Expand and collect a polynomial; factor and cancel a rational expression; end at the solver's form."""
    w = Worked("simplify")
    w.add(raw, "the expression", input_latex)
    if raw.atoms(sp.Function):
        raise NoSteps("simplifying functions (sin, log, ...) is answered without steps")
    if too_high_to_expand(value):
        raise NoSteps(f"a power of degree above {EXACT_DEGREE_LIMIT} is not expanded, so it has no steps")
    plain_value = evaluated(raw)
    num, den = sp.fraction(plain_value)  # one fraction as written: together() would cancel x in x/(x^2 - x) unseen
    if not den.free_symbols or isinstance(plain_value, sp.Add):
        num, den = sp.fraction(sp.together(plain_value))
    if den.free_symbols:
        fn, fd = sp.factor(num), sp.factor(den)
        written = sp.Pow(arrange(fd), -1, evaluate=False) if fn == 1 else \
            sp.Mul(arrange(fn), sp.Pow(arrange(fd), -1, evaluate=False), evaluate=False)
        if not same_line(tex(written), w.steps[-1].latex):
            w.add(written, "write as one fraction and factor the top and the bottom")
        common = sp.gcd(num, den)
        cancelled = sp.factor(sp.cancel(plain_value))
        if common.free_symbols:
            w.add(arrange(cancelled), f"cancel the common factor ${tex(arrange(sp.factor(common)))}$")
    else:
        if has_brackets(raw):
            expanded = total([arrange(sp.expand(evaluated(t))) for t in terms(raw)])
            w.add(expanded, "expand the brackets")
        collected = arrange(sp.expand(plain_value))
        if not same_line(tex(collected), w.steps[-1].latex):
            fewer = len(terms(sp.expand(plain_value))) < len(terms(w.steps[-1].expr))
            w.add(collected, "collect like terms" if fewer else "simplify")
    final = arrange(value)
    if not same_line(tex(final), w.steps[-1].latex):
        w.add(final, "factor" if isinstance(value, (sp.Mul, sp.Pow)) else "simplify")
    return w
