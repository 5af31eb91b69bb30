"""Worked solutions of equations with the unknown in a denominator that become linear or quadratic once the
denominators are cleared (2/(x-1) = 3/(x+1), x + 6/x = 5).

Steps: the excluded values (a denominator must not be zero: x ≠ 1), carried beside every line after; multiply
both sides by the least common denominator, each fraction cancelled against its share of it; the polynomial
equation left, by the linear or quadratic steps; then the roots checked against the excluded values, an excluded
root dropped (x/(x-2) + 1 = 2/(x-2) clears to x = 2, which makes a denominator zero: no solution).
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, Worked, arrange, equation, evaluated, plain, tex, terms, total
from inkmath.equation.solve.steps.conditions import answer_line, conditioned, solve_polynomial


def is_rational_equation(f: sp.Basic, var: sp.Symbol) -> bool:
    """True when f (lhs − rhs) is a quotient of polynomials in `var` with `var` in a denominator."""
    return f.is_rational_function(var) and not f.is_polynomial(var)


def written_fractions(raw: sp.Basic, var: sp.Symbol) -> list[tuple[sp.Basic, sp.Basic, bool]]:
    """Each term of the equation (or inequality) as written: (numerator, denominator, on the left side)."""
    out = []
    for side, on_left in ((raw.lhs, True), (raw.rhs, False)):
        for t in terms(side):
            num, den = sp.fraction(evaluated(t))
            if not (num.is_polynomial(var) and den.is_polynomial(var)):
                raise NoSteps("a fraction within a fraction is answered without steps")
            out.append((num, den, on_left))
    return out


def times(num: sp.Basic, factor: sp.Basic) -> sp.Basic:
    """num · factor as a student writes it: 2(x + 1), x^2 (x · x), x - 2 (1 · (x - 2)), 6 (2 · 3), 0 (0 · x)."""
    num_coeff, num_rest = num.as_coeff_Mul()
    factor_coeff, factor_rest = factor.as_coeff_Mul()
    coeff, product = num_coeff * factor_coeff, arrange(sp.Mul(num_rest, factor_rest))  # Mul keeps x(x - 1)
    if product == 1 or coeff in (0, 1):
        return coeff * product
    return sp.Mul(coeff, product, evaluate=False)


def real_zeros(dens: list[sp.Basic], var: sp.Symbol) -> list[sp.Basic]:
    """The real values of `var` that make one of `dens` zero, in increasing order."""
    out: set[sp.Basic] = set()
    for den in dens:
        zeros = sp.solveset(den, var, sp.S.Reals)  # empty for x^2 + 1, which is never zero
        if not (isinstance(zeros, sp.FiniteSet) or zeros is sp.S.EmptySet):
            raise NoSteps("a denominator whose zeros SymPy cannot list is answered without steps")
        out.update(zeros.args)
    return sorted(out, key=lambda r: float(sp.N(r)))


def rational_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    w = Worked("rational", variables=[var])
    w.add(raw, "the equation", input_latex)
    fractions = written_fractions(raw, var)
    dens = list(dict.fromkeys(den for _, den, _ in fractions))
    with_var = [d for d in dens if d.has(var)]
    excluded = real_zeros(with_var, var)
    conditions = [sp.Ne(var, r) for r in excluded]
    if conditions:
        named = " and ".join(f"${plain(sp.factor(d))}$" for d in with_var)
        which = "the denominators" if len(with_var) > 1 else "the denominator"
        shown = ", ".join(f"${tex(c)}$" for c in conditions)
        expr, latex = conditioned(raw, input_latex, conditions)
        w.add(expr, f"{which} {named} must not be zero: {shown}", latex)
    lcd = sp.factor(sp.lcm_list(dens))
    sides: dict[bool, list[sp.Basic]] = {True: [], False: []}
    for num, den, on_left in fractions:
        sides[on_left].append(times(num, sp.factor(sp.cancel(lcd / den))))
    cleared = equation(total(sides[True]), total(sides[False]))
    expr, latex = conditioned(cleared, tex(cleared), conditions)
    never_zero = " (never zero)" if not conditions else ""  # x^2 + 1
    w.add(expr, f"multiply both sides by the common denominator ${plain(lcd)}${never_zero}", latex)
    roots = solve_polynomial(w, cleared, var, conditions)
    if not conditions or not roots:
        return w
    dropped = [r for r in roots if any(sp.expand(sp.radsimp(r - e)) == 0 for e in excluded)]
    checks = [f"${plain(equation(var, r))}$ is excluded (a denominator is zero there), so it is not a solution"
              if r in dropped else f"${plain(equation(var, r))}$ is allowed" for r in roots]
    expr, latex = answer_line(var, [r for r in roots if r not in dropped])
    which = "the root" if len(roots) == 1 else "the roots"
    w.add(expr, f"check {which} against the excluded values: " + "; ".join(checks), latex)
    return w
