"""Sums, integrals, limits and derivatives in what the solver answers: evaluated before an equation is solved
(`doit_relation`), evaluated with the letters taken as real numbers in an expression (`doit_real`: d/dx |x| is
sign(x)), an indefinite integral given with ln|u| where that is an antiderivative for u < 0 too (`absolute_logs`:
∫ 1/x dx = ln|x| + C), and ∞ refused anywhere but in their limits and bounds (`check_no_infinity`).
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.core.relational import Relational

from inkmath.equation.solve.domain import BIG_OPERATORS
from inkmath.equation.solve.limits import CannotSolve
from inkmath.equation.solve.tosympy import PLUS_MINUS


def doit_relation(item: sp.Basic) -> sp.Basic:
    """Evaluate sums, integrals, limits and derivatives inside a relation before solving it."""
    if isinstance(item, Relational) and item.has(*BIG_OPERATORS):
        return type(item)(item.lhs.doit(), item.rhs.doit(), evaluate=False)
    return item


_INFINITIES = (sp.oo, -sp.oo, sp.zoo)


def _has_infinity(expr: sp.Basic) -> bool:
    """∞ outside the limits of a sum, integral or limit (where it belongs)."""
    if expr in _INFINITIES:
        return True
    if isinstance(expr, BIG_OPERATORS) or not isinstance(expr, sp.Basic):
        return False
    return any(_has_infinity(arg) for arg in expr.args)


def check_no_infinity(item: sp.Basic) -> None:
    """∞ is not a number: x + ∞ = 5 has no answer in numbers (SymPy would give x = -∞). An inequality may
    compare with ∞ itself (x < ∞), but ∞ inside a side is refused too."""
    if not isinstance(item, Relational):
        return
    sides = [item.lhs, item.rhs]
    if not isinstance(item, sp.Eq):
        sides = [side for side in sides if side not in (sp.oo, -sp.oo)]
    if any(_has_infinity(side) for side in sides):
        raise CannotSolve("∞ is not a number, so it cannot be part of an equation or inequality to solve "
                           "(it can be a limit's target or an integral's bound)")


def doit_real(expr: sp.Basic) -> sp.Basic:
    """expr.doit(), with the letters taken as real numbers inside derivatives and integrals: SymPy's letters are
    complex, so d/dx |x| would be Piecewise(... re(x)*Derivative(re(x), x) ...) instead of sign(x)."""
    if not expr.has(sp.Derivative, sp.Integral):
        return expr.doit()
    real = {s: sp.Dummy(s.name, real=True) for s in expr.free_symbols if s != PLUS_MINUS}
    back = {d: s for s, d in real.items()}
    return expr.xreplace(real).doit().xreplace(back)


_LOG_SAMPLES = (-3.7, -2.3, -1.3, -0.6, -0.15, 0.15, 0.6, 1.3, 2.3, 3.7)  # points where ln|u| is compared with ln u


def absolute_logs(problem: sp.Basic, antiderivative: sp.Basic) -> sp.Basic:
    """For an indefinite integral, ln|u| instead of SymPy's ln u when that is an antiderivative where ln u is
    not (∫ 1/x dx = ln|x| + C: 1/x is defined for x < 0 too, ln x is not); ∫ ln x dx keeps x ln x - x. Checked
    numerically: the derivative of the new form must equal the integrand at sample points where some u < 0
    and the integrand is real."""
    if not (isinstance(problem, sp.Integral) and len(problem.limits) == 1 and len(problem.limits[0]) == 1):
        return antiderivative
    var = problem.limits[0][0]
    logs = [log for log in antiderivative.atoms(sp.log) if log.args[0].has(var)]
    if not logs or antiderivative.free_symbols != {var}:
        return antiderivative
    t = sp.Dummy("t", real=True)
    candidate = antiderivative.xreplace({log: sp.log(sp.Abs(log.args[0])) for log in logs})
    slope, integrand = sp.diff(candidate.xreplace({var: t}), t), problem.function.xreplace({var: t})
    extended = False
    try:
        for point in _LOG_SAMPLES:
            at = {t: sp.Float(point, 30)}
            if not any(complex(sp.N(log.args[0].xreplace({var: t}).xreplace(at))).real < 0 for log in logs):
                continue
            wanted = complex(sp.N(integrand.xreplace(at), 20))
            if not math.isfinite(wanted.real) or abs(wanted.imag) > 1e-12 * max(1.0, abs(wanted.real)):
                continue
            if abs(complex(sp.N(slope.xreplace(at), 20)) - wanted) > 1e-9 * max(1.0, abs(wanted)):
                return antiderivative
            extended = True
    except (TypeError, ValueError, ArithmeticError):
        return antiderivative
    return candidate if extended else antiderivative
