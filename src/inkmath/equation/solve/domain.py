"""Where a written equation is defined, and which of the solver's roots are real and lie there.

SymPy evaluates what it builds (x/x becomes 1, 0x becomes 0), so its solver cannot see that x/x = 1 is false for
x = 0, and solveset over the reals may combine logarithms or square both sides without checking the domain. The
solver (`inkmath.equation.solve.answer`) therefore checks its roots against the equation as written
(`inkmath.equation.solve.tosympy.to_sympy_lines(tree, raw=True)`): `written_domain` is the set where every denominator is
non-zero, every even root has a base >= 0 and every logarithm a positive argument, `within` keeps the solutions
inside it, `real_solution` checks one root in the written equation (numerically when SymPy cannot decide), and
`zero_denominator` does the same for a system. `numeric_roots` finds real roots where there is no closed form.

Answers are real (see `inkmath.equation.solve.answer`): `split_real` takes the non-real numbers out of a solution set, and
`nonreal_roots` finds those of a rational equation, whose real roots solveset gives alone.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.equation.solve.tosympy import PLUS_MINUS, to_sympy_lines
from inkmath.equation.solve.tosympy_values import is_odd_root, real_power, rebuilt
from inkmath.equation.core.tree import Node


# sums, products, integrals, limits and derivatives: evaluated before solving, so their written form is not checked
BIG_OPERATORS = (sp.Sum, sp.Product, sp.Integral, sp.Limit, sp.Derivative)


def written_relation(tree: Node | None) -> Relational | None:
    """The one relation of `tree` as written (SymPy's evaluation turns x/x into 1 and 0x into 0, losing an unknown
    and the values where the written form is undefined); None without a tree or for anything else."""
    if tree is None:
        return None
    raw = to_sympy_lines(tree, raw=True)
    if len(raw) != 1 or not isinstance(raw[0], Relational) or raw[0].has(PLUS_MINUS, *BIG_OPERATORS):
        return None
    return raw[0]


def written_domain(raw: Relational | None, var: sp.Symbol) -> sp.Set:
    """Where both sides as written are defined in the real numbers: no zero denominator, no even root of a
    negative number, no logarithm of a number <= 0 (x/x = 1 holds for x != 0 only, √x·√x = x for x >= 0).
    A condition SymPy cannot solve is left out."""
    domain: sp.Set = sp.S.Reals
    if raw is None:
        return domain
    for node in sp.preorder_traversal(sp.Tuple(raw.lhs, raw.rhs)):
        if not isinstance(node, sp.Basic) or not node.has(var):
            continue
        conditions = []
        if isinstance(node, sp.Pow):
            base, exponent = rebuilt(node.base), rebuilt(node.exp)
            if exponent.is_number and exponent.is_negative:
                conditions.append(sp.Ne(base, 0))
            if exponent.is_Rational and not exponent.is_Integer and exponent.q % 2 == 0:
                conditions.append(sp.Ge(base, 0))
        elif isinstance(node, sp.log):
            conditions.append(sp.Gt(rebuilt(node.args[0]), 0))
        for condition in conditions:
            allowed = sp.solveset(condition, var, sp.S.Reals)
            if not isinstance(allowed, sp.ConditionSet):
                domain = sp.Intersection(domain, allowed)
    return domain


def within(solutions: sp.Set, domain: sp.Set, notes: list[str]) -> sp.Set:
    """The solutions where the written equation is defined (complex roots of a polynomial are kept; families of
    periodic solutions are left as they are)."""
    if domain == sp.S.Reals:
        return solutions
    if isinstance(solutions, sp.FiniteSet):
        kept = [r for r in solutions.args if not r.is_number or r.is_real is False or domain.contains(r) != sp.false]
        if len(kept) < len(solutions.args):
            notes.append("values where the equation as written is undefined (a zero denominator, ...) are left out")
        return sp.FiniteSet(*kept)
    if solutions.has(sp.ImageSet) or isinstance(solutions, sp.ConditionSet):
        return solutions
    return sp.Intersection(solutions, domain)


def is_nonreal(value: sp.Basic) -> bool:
    """A number known not to be real (2i, 1 + √3 i, a numeric root -0.2 - 1.1i)."""
    return bool(value.is_number and value.is_real is False)


def split_real(solutions: sp.Set) -> tuple[sp.Set, list[sp.Basic]]:
    """The solution set without its non-real numbers, and those numbers (x^2 = -4: the empty set and [-2i, 2i];
    families and intervals are kept as they are)."""
    parts = list(solutions.args) if isinstance(solutions, sp.Union) else [solutions]
    nonreal = [v for part in parts if isinstance(part, sp.FiniteSet) for v in part.args if is_nonreal(v)]
    if not nonreal:
        return solutions, []
    kept = [sp.FiniteSet(*[v for v in part.args if not is_nonreal(v)]) if isinstance(part, sp.FiniteSet) else part
            for part in parts]
    return (kept[0] if len(kept) == 1 else sp.Union(*kept)), nonreal


def nonreal_roots(f: sp.Basic, var: sp.Symbol) -> list[sp.Basic] | None:
    """The non-real solutions of f = 0 for f a quotient of polynomials in var alone (the roots of its numerator
    where its denominator is not 0: 1/x = -x has ±i); None when f is anything else, whose non-real solutions the
    solver does not look for (e^x = -1 has iπ + 2kπi)."""
    numerator, denominator = sp.fraction(sp.together(f))
    if numerator.free_symbols - {var} or not (numerator.is_polynomial(var) and denominator.is_polynomial(var)):
        return None
    poly = sp.Poly(numerator, var)
    if poly.degree() <= 0:
        return []
    exact = sp.roots(poly, cubics=False, quartics=False)  # short exact forms, else 15-digit numbers, as solve does
    roots = list(exact) if sum(exact.values()) == poly.degree() else poly.nroots(n=15)
    return [r for r in roots if is_nonreal(r) and not _near_zero(denominator.xreplace({var: r}))]


def has_odd_root(f: sp.Basic, var: sp.Symbol) -> bool:
    return any(isinstance(node, sp.Pow) and is_odd_root(node.exp) and node.base.has(var)
               for node in sp.preorder_traversal(f))


_DOMAIN_TOLERANCE = 1e-12  # relative: how far from zero a numerically evaluated value may be and still count as 0


def real_solution(f: sp.Basic, var: sp.Symbol, root: sp.Basic) -> bool:
    """Is `root` a real solution of f = 0 with every part of f defined in the real numbers there?

    Each logarithm needs a positive argument, each even root a base >= 0, each odd root a real base (read as the
    real root, as a student means ∛(-8) = -2), each negative power a non-zero base; any other function or power
    of the unknown must have a real, finite value; and f itself must be 0. A value that cannot be evaluated keeps
    the root (the solver's answer stands)."""
    if not root.is_number:
        return True
    try:
        for node in sp.preorder_traversal(f):
            if not node.has(var) or node.is_Atom:
                continue
            if isinstance(node, sp.log):
                if not _sign(node.args[0].xreplace({var: root}), positive=True):
                    return False
            elif isinstance(node, sp.Pow) and node.exp.is_Rational and not node.exp.is_Integer:
                base = node.base.xreplace({var: root})
                if not (_sign(base, positive=False) if node.exp.q % 2 == 0 else _real_finite(base)):
                    return False
                if node.exp < 0 and _near_zero(base):
                    return False
            elif isinstance(node, sp.Pow) and node.exp.is_Integer:
                if node.exp < 0 and _near_zero(node.base.xreplace({var: root})):
                    return False
            elif isinstance(node, (sp.Pow, sp.Function)):
                if not _real_finite(node.xreplace({var: root})):
                    return False
        odd_roots_real = f.replace(lambda e: e.is_Pow and is_odd_root(e.exp), lambda e: real_power(e.base, e.exp))
        value = odd_roots_real.xreplace({var: root})
        if value.is_zero is not None:
            return bool(value.is_zero)
        scale = max([1.0] + [abs(_numeric(term)) for term in sp.Add.make_args(value)])
        return abs(_numeric(value)) < _DOMAIN_TOLERANCE * scale
    except (TypeError, ValueError, ArithmeticError):
        return True


def _numeric(value: sp.Basic) -> complex:
    return complex(sp.N(value, 30))


def _near_zero(value: sp.Basic) -> bool:
    if value.is_zero is not None:
        return bool(value.is_zero)
    return abs(_numeric(value)) < _DOMAIN_TOLERANCE


def _real_finite(value: sp.Basic) -> bool:
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return False
    number = _numeric(value)
    return abs(number.imag) <= _DOMAIN_TOLERANCE * max(1.0, abs(number.real))


def _sign(value: sp.Basic, positive: bool) -> bool:
    """value > 0 (`positive`) or value >= 0, for a number; exact when SymPy knows, else numerically."""
    known = value.is_positive if positive else value.is_nonnegative
    if known is not None:
        return bool(known)
    if not _real_finite(value):
        return False
    number = _numeric(value).real
    return number > _DOMAIN_TOLERANCE if positive else number > -_DOMAIN_TOLERANCE


_NUMERIC_STARTS = (-10.0, -3.0, -1.0, -0.3, 0.3, 1.0, 3.0, 10.0)


def numeric_roots(f: sp.Basic, var: sp.Symbol) -> list[sp.Float]:
    """Real roots of f found by the secant method from a few starting points.

    f is evaluated with evalf at each step rather than compiled with lambdify, which would exec generated code.
    """
    import mpmath

    def value(t: Any) -> Any:
        v = f.evalf(15, subs={var: sp.Float(float(t))})
        if not v.is_real:  # outside the function's real domain (log of a negative number, ...)
            raise ValueError("not real here")
        return mpmath.mpf(float(v))

    found: dict[str, sp.Float] = {}
    for start in _NUMERIC_STARTS:
        try:
            root = float(mpmath.findroot(value, start, tol=1e-20, maxsteps=60))
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            continue
        if abs(float(value(root))) < 1e-9:
            found.setdefault(f"{root:.9g}", sp.Float(root, 15))
    return sorted(found.values())


def zero_denominator(raw: list[sp.Basic], values: dict[sp.Symbol, sp.Basic]) -> bool:
    """Does a solution make a denominator (or a logarithm's argument) of the written system zero? SymPy
    evaluates x/x to 1 while building the system, so its solver cannot see that x = 0 is not allowed."""
    for item in raw:
        for node in sp.preorder_traversal(item):
            if isinstance(node, sp.Pow) and rebuilt(node.exp).is_negative:
                inside = node.base
            elif isinstance(node, sp.log):
                inside = node.args[0]
            else:
                continue
            if inside.free_symbols and rebuilt(inside).xreplace(values).is_zero:
                return True
    return False
