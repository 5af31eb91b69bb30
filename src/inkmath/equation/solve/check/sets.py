"""What a step means, as something two steps can be compared by: the real solution set of a statement in one
unknown, the real solutions of a system, and whether two values are the same.

Equations and inequalities whose sides are polynomials or quotients of polynomials in the unknown (most school
steps) are solved here from the roots of the numerator and the denominator (`sp.roots` up to degree 2, exact real
roots above), with a sign test between them for an inequality: a few milliseconds. Anything else (roots, absolute
values, powers and logarithms of the unknown, trigonometry) goes to SymPy's `solveset`, which the checker runs only
in a solver worker with a time limit (`inkmath.equation.solve.check`; `slow` marks where they would run). Sets are compared exactly
when SymPy writes them alike, else numerically (ends and points within 1e-9), and families of solutions
(x = π/6 + 2kπ) point by point in a window (`inkmath.equation.solve.steps.worked.same_set`).
"""

from __future__ import annotations

import contextvars
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.equation.solve.calculus import doit_real
from inkmath.equation.solve.check.statements import All, Either, Rel, leaves
from inkmath.equation.solve.steps.worked import same_set as same_sampled_set
from inkmath.equation.solve.tosympy_values import rebuilt

MAX_DEGREE = 12  # a step's polynomial of higher degree is not solved (no school step has one)
FAST_MAX_DEGREE = 6  # higher, or with longer numbers, a polynomial's roots are found in a solver worker only
FAST_MAX_DIGITS = 40
FAST_MAX_VALUE_NODES = 400  # an expression compared in the caller's process is no bigger than this
TOLERANCE = 1e-9


class CannotCheck(Exception):
    """A step whose meaning this checker cannot compute; the message says why (the step is then `unsure`)."""


class NeedsWorker(Exception):
    """Raised in the "fast" mode where SymPy's general (slow, unbounded) routines would run: the check goes to a
    solver worker with a time limit instead."""


# Where SymPy's general routines (solveset, solve, simplify, derivatives) may run: "all" (a solver worker, or a
# caller that bounds time itself), "fast" (the caller's process: NeedsWorker instead), "skip" (the caller's process
# after a worker ran out of time: the step is `unsure`). A context variable, so threads do not share it.
_MODE: contextvars.ContextVar[str] = contextvars.ContextVar("inkmath_check_mode", default="all")


@contextmanager
def slow_mode(mode: str):
    token = _MODE.set(mode)
    try:
        yield
    finally:
        _MODE.reset(token)


def slow(what: str) -> None:
    """Say that SymPy's general routines are about to run (see `_MODE`)."""
    mode = _MODE.get()
    if mode == "fast":
        raise NeedsWorker(what)
    if mode == "skip":
        raise CannotCheck(f"{what} took longer than the time allowed, so this step is not checked")


# ---------------------------------------------------------------- one unknown


def node_set(node: Any, var: sp.Symbol, family: sp.Symbol | None = None) -> sp.Set:
    """The real values of `var` for which a statement's tree holds (see `statements`)."""
    if isinstance(node, sp.Set):
        return node
    if isinstance(node, Either):
        return sp.Union(*[node_set(p, var, family) for p in node.parts])
    if isinstance(node, All):
        return sp.Intersection(*[node_set(p, var, family) for p in node.parts])
    if isinstance(node, Rel):
        return rel_set(node.expr, var, family)
    raise CannotCheck(f"cannot read a step of type {type(node).__name__}")


def rel_set(rel: Any, var: sp.Symbol, family: sp.Symbol | None = None) -> sp.Set:
    if rel is sp.true or rel is sp.false:
        return sp.S.Reals if rel is sp.true else sp.S.EmptySet
    others = rel.free_symbols - {var}
    if family is not None and family in others:
        return _family_set(rel, var, family)
    if others:
        raise CannotCheck("a step with letters other than the unknown is not checked")
    f = rel.lhs - rel.rhs
    if isinstance(rel, sp.Eq):
        return eq_set(f, var)
    if isinstance(rel, sp.Ne):
        return sp.Complement(sp.S.Reals, eq_set(f, var))
    return ineq_set(rel, var)


def _family_set(rel: Relational, var: sp.Symbol, k: sp.Symbol) -> sp.Set:
    """x = π/6 + 2kπ (or 2x = ... solved for x): the family over the whole numbers k."""
    if not isinstance(rel, sp.Eq):
        raise CannotCheck("a family of solutions is written with '='")
    slow("a family of solutions")
    found = sp.solve(rel.lhs - rel.rhs, var)
    if not found:
        return sp.S.EmptySet
    return sp.Union(*[sp.ImageSet(sp.Lambda(k, f), sp.S.Integers) for f in found])


def _is_zero(value: sp.Basic) -> bool:
    known = value.is_zero
    if known is not None:
        return bool(known)
    return abs(complex(sp.N(value, 30))) < 1e-20


def _rational_parts(f: sp.Basic, var: sp.Symbol) -> tuple[sp.Poly, sp.Poly] | None:
    """(numerator, denominator) of f as polynomials in var with number coefficients, or None."""
    if not f.is_rational_function(var):
        return None
    num, den = sp.fraction(sp.together(f))
    try:
        pn, pd = sp.Poly(num, var), sp.Poly(den, var)
    except sp.PolynomialError:
        return None
    if not all(c.is_Rational for c in pn.coeffs() + pd.coeffs()):
        return None
    if max(pn.degree(), pd.degree()) > MAX_DEGREE:
        raise CannotCheck(f"a polynomial of degree above {MAX_DEGREE} is not solved")
    digits = max(len(str(abs(c.p))) + len(str(c.q)) for c in pn.coeffs() + pd.coeffs())
    if max(pn.degree(), pd.degree()) > FAST_MAX_DEGREE or digits > FAST_MAX_DIGITS:
        slow("a polynomial of high degree or with long numbers")
    return pn, pd


def real_roots(poly: sp.Poly) -> list[sp.Basic]:
    """The real roots of a polynomial with rational coefficients, exact, each once."""
    if poly.degree() <= 0:
        return []
    if poly.degree() <= 2:
        return sorted((r for r in sp.roots(poly) if r.is_real), key=lambda r: float(r))
    return sorted(set(poly.real_roots()), key=lambda r: float(r))


def eq_set(f: sp.Basic, var: sp.Symbol) -> sp.Set:
    """Real solutions of f = 0."""
    if not f.has(var):
        return sp.S.Reals if _is_zero(f) else sp.S.EmptySet
    parts = _rational_parts(f, var)
    if parts is not None:
        num, den = parts
        if num.is_zero:
            return sp.Complement(sp.S.Reals, sp.FiniteSet(*real_roots(den)))
        return sp.FiniteSet(*[r for r in real_roots(num) if not _is_zero(den.eval(r))])
    return _solveset(f, var)


def _solveset(what: Any, var: sp.Symbol) -> sp.Set:
    slow("solving this step")
    try:
        found = sp.solveset(what, var, sp.S.Reals)
    except (NotImplementedError, ValueError, TypeError) as exc:
        raise CannotCheck(f"SymPy cannot solve this step ({type(exc).__name__})") from None
    if found.has(sp.ConditionSet):
        raise CannotCheck("SymPy cannot solve this step exactly")
    return found


def ineq_set(rel: Relational, var: sp.Symbol) -> sp.Set:
    """Real solutions of an inequality: a sign table between the real zeros of the numerator and denominator."""
    f = rel.lhs - rel.rhs
    if not f.has(var):
        return sp.S.Reals if type(rel)(f, 0) == sp.true else sp.S.EmptySet
    parts = _rational_parts(f, var)
    if parts is None:
        return _solveset(rel, var)
    num, den = parts
    zeros = real_roots(num)
    poles = real_roots(den)
    ends = sorted(set(zeros) | set(poles), key=lambda r: float(r))
    values = [float(r) for r in ends]
    holds = _holds(rel)

    def sign_at(t: float) -> float:
        return float(num.eval(sp.Float(t, 30))) / float(den.eval(sp.Float(t, 30)))

    if not ends:
        return sp.S.Reals if holds(sign_at(0.0)) else sp.S.EmptySet
    pieces: list[sp.Set] = []
    bounds = [None] + ends + [None]
    floats = [None] + values + [None]
    for i in range(len(bounds) - 1):
        lo, hi = floats[i], floats[i + 1]
        t = (hi - 1.0 if lo is None else lo + 1.0 if hi is None else (lo + hi) / 2)
        if holds(sign_at(t)):
            pieces.append(sp.Interval(bounds[i] if bounds[i] is not None else -sp.oo,
                                      bounds[i + 1] if bounds[i + 1] is not None else sp.oo, True, True))
    pole_set = set(poles)
    for r in ends:
        if r not in pole_set and holds(0.0):
            pieces.append(sp.FiniteSet(r))
    return sp.Union(*pieces) if pieces else sp.S.EmptySet


def _holds(rel: Relational):
    kind = type(rel)
    return {sp.Lt: lambda v: v < 0, sp.Le: lambda v: v <= 0, sp.Gt: lambda v: v > 0,
            sp.Ge: lambda v: v >= 0}[kind]


def node_domain(node: Any, var: sp.Symbol) -> sp.Set:
    """Where every relation of a statement, as written, is defined (denominators, even roots, logarithms)."""
    domain: sp.Set = sp.S.Reals
    for leaf in leaves(node):
        if isinstance(leaf, Rel) and isinstance(leaf.raw, Relational) and leaf.raw.free_symbols == {var}:
            domain = sp.Intersection(domain, written_domain(leaf.raw, var))
    return domain


def written_domain(rel: Relational, var: sp.Symbol) -> sp.Set:
    """Where both sides as written are defined in the real numbers: no zero denominator, no even root of a negative
    number, no logarithm of a number <= 0 (as `inkmath.equation.solve.domain.written_domain`, with this module's
    sets, so that a polynomial condition is solved without SymPy's solveset)."""
    domain: sp.Set = sp.S.Reals
    for node in sp.preorder_traversal(sp.Tuple(rel.lhs, rel.rhs)):
        if not isinstance(node, sp.Basic) or not node.has(var):
            continue
        if isinstance(node, sp.Pow):
            base, exponent = rebuilt(node.base), rebuilt(node.exp)
            if exponent.is_number and exponent.is_negative:
                domain = sp.Intersection(domain, sp.Complement(sp.S.Reals, eq_set(base, var)))
            if exponent.is_Rational and not exponent.is_Integer and exponent.q % 2 == 0:
                domain = sp.Intersection(domain, ineq_set(sp.Ge(base, 0), var))
        elif isinstance(node, sp.log):
            domain = sp.Intersection(domain, ineq_set(sp.Gt(rebuilt(node.args[0]), 0), var))
    return domain


# ---------------------------------------------------------------- comparing sets


def _canon(s: sp.Set) -> list[tuple] | None:
    """A set as sorted numeric pieces: ("p", value) points and ("i", lo, hi, lo_open, hi_open) intervals."""
    if s == sp.S.EmptySet:
        return []
    if s == sp.S.Reals:
        return [("i", -math.inf, math.inf, True, True)]
    if isinstance(s, sp.FiniteSet):
        out = []
        for v in s.args:
            c = complex(sp.N(v, 20))
            if abs(c.imag) > TOLERANCE:
                continue
            out.append(("p", c.real))
        return sorted(out)
    if isinstance(s, sp.Interval):
        return [("i", float(s.start), float(s.end), bool(s.left_open), bool(s.right_open))]
    if isinstance(s, sp.Union):
        out = []
        for arg in s.args:
            part = _canon(arg)
            if part is None:
                return None
            out += part
        return sorted(out, key=lambda p: (p[1], p[0]))
    return None


def _close(a: tuple, b: tuple) -> bool:
    if a[0] != b[0] or len(a) != len(b):
        return False
    for u, v in zip(a[1:], b[1:]):
        if isinstance(u, bool):
            if u != v:
                return False
        elif u != v and (math.isinf(u) or math.isinf(v) or abs(u - v) > TOLERANCE * max(1.0, abs(u))):
            return False
    return True


def same_set(a: sp.Set, b: sp.Set) -> bool:
    """Do two sets of real numbers hold the same numbers?"""
    if a == b:
        return True
    ca, cb = _canon(a), _canon(b)
    if ca is not None and cb is not None:
        return len(ca) == len(cb) and all(_close(p, q) for p, q in zip(ca, cb))
    try:
        return bool(same_sampled_set(a, b))
    except (TypeError, ValueError):
        return False


def points(s: sp.Set) -> list[sp.Basic] | None:
    """The numbers of a finite set of reals (None for anything else)."""
    if s == sp.S.EmptySet:
        return []
    if isinstance(s, sp.FiniteSet):
        return [v for v in s.args if abs(complex(sp.N(v)).imag) < TOLERANCE]
    return None


def contains(s: sp.Set, value: sp.Basic) -> bool:
    found = points(s)
    if found is not None:
        return any(abs(complex(sp.N(v - value))) < TOLERANCE for v in found)
    answer = s.contains(value)
    return answer == sp.true


# ---------------------------------------------------------------- systems


@dataclass
class SystemSet:
    """A system's real solutions: `tuples` (the values in the order of the unknowns), or `infinite`."""

    tuples: set[tuple] = field(default_factory=set)
    infinite: bool = False


def _alternatives(node: Any) -> list[list[sp.Basic]]:
    """A system's row as alternatives, each a list of expressions equal to zero (all at once)."""
    if isinstance(node, sp.Set):
        if node == sp.S.EmptySet:
            return []
        if node == sp.S.Reals:
            return [[]]
        raise CannotCheck("a set in a system's step is not checked")
    if isinstance(node, Either):
        return [alt for p in node.parts for alt in _alternatives(p)]
    if isinstance(node, All):
        out: list[list[sp.Basic]] = [[]]
        for p in node.parts:
            out = [left + right for left, right in product(out, _alternatives(p))]
        return out
    if isinstance(node, Rel) and isinstance(node.expr, sp.Eq):
        return [[sp.expand(node.expr.lhs - node.expr.rhs)]]
    if isinstance(node, Rel) and node.expr in (sp.true, sp.false):
        return [[]] if node.expr is sp.true else []
    raise CannotCheck("an inequality in a system's step is not checked")


def _canonical(value: sp.Basic) -> sp.Basic:
    return sp.nsimplify(sp.expand(sp.radsimp(value))) if value.is_Float else sp.expand(sp.radsimp(value))


def system_set(rows: list[Any], unknowns: list[sp.Symbol]) -> SystemSet:
    """The real solutions of a system's rows (each a statement's tree)."""
    alternatives: list[list[sp.Basic]] = [[]]
    for row in rows:
        alternatives = [a + b for a, b in product(alternatives, _alternatives(row))]
    out = SystemSet()
    for eqs in alternatives:
        eqs = [e for e in eqs if e != 0]
        if any(e.is_number for e in eqs):
            continue  # 0 = 1 in this alternative: no solution
        if any(e.free_symbols - set(unknowns) for e in eqs):
            raise CannotCheck("a step with letters other than the unknowns is not checked")
        if _linear(eqs, unknowns):
            found = sp.linsolve(eqs, *unknowns) if eqs else sp.FiniteSet(tuple(unknowns))
            solutions = [dict(zip(unknowns, sol)) for sol in found]
        else:
            slow("solving a nonlinear system")
            solutions = sp.solve(eqs, unknowns, dict=True)
        for sol in solutions:
            values = [sol.get(u, u) for u in unknowns]
            if any(getattr(v, "free_symbols", set()) & set(unknowns) or getattr(v, "free_symbols", set())
                   for v in values):
                out.infinite = True
                continue
            values = [_canonical(v) for v in values]
            if all(abs(complex(sp.N(v)).imag) < TOLERANCE for v in values):
                out.tuples.add(tuple(values))
    return out


def _linear(eqs: list[sp.Basic], unknowns: list[sp.Symbol]) -> bool:
    for e in eqs:
        if not e.is_polynomial(*unknowns) or sp.Poly(e, *unknowns).total_degree() > 1:
            return False
    return True


def same_system(a: SystemSet, b: SystemSet) -> bool | None:
    """Do two systems have the same real solutions (None: cannot tell, both have infinitely many)?"""
    if a.infinite or b.infinite:
        return None if a.infinite and b.infinite else False
    return _tuple_set(a.tuples) == _tuple_set(b.tuples)


def _tuple_set(tuples: set[tuple]) -> set[tuple]:
    return {tuple(round(float(sp.N(v)), 9) for v in t) for t in tuples}


def holds_at(node: Any, values: dict[sp.Symbol, sp.Basic]) -> bool:
    """Does a statement's tree hold at these values of the unknowns?"""
    if isinstance(node, sp.Set):
        return node != sp.S.EmptySet
    if isinstance(node, Either):
        return any(holds_at(p, values) for p in node.parts)
    if isinstance(node, All):
        return all(holds_at(p, values) for p in node.parts)
    rel = node.expr
    if rel in (sp.true, sp.false):
        return rel is sp.true
    diff = (rel.lhs - rel.rhs).xreplace(values)
    if diff.free_symbols:
        raise CannotCheck("a step with letters other than the unknowns is not checked")
    if isinstance(rel, sp.Eq):
        return _is_zero(sp.expand(diff))
    return bool(type(rel)(float(sp.N(diff)), 0))


# ---------------------------------------------------------------- values


def evaluate(value: sp.Basic) -> sp.Basic:
    """Derivatives and integrals in a line worked out (x real), as the solver does."""
    if value.has(sp.Derivative, sp.Integral, sp.Subs):
        slow("working out a derivative or an integral")
        return doit_real(value)
    return value


def same_value(a: sp.Basic, b: sp.Basic, variable: sp.Symbol | None = None) -> bool:
    """Are two expressions equal (where both are defined)? With `variable`, up to a constant (antiderivatives)."""
    d = a - b
    if variable is not None:
        d = sp.diff(d, variable)
    if not d.free_symbols:
        return _is_zero(d) if d.is_number else False
    if sp.count_ops(d) > FAST_MAX_VALUE_NODES:
        slow("comparing long expressions")
    if d.is_rational_function(*d.free_symbols):
        return sp.cancel(sp.together(d)) == 0
    rng = [sp.Rational(7, 3), sp.Rational(-5, 4), sp.Rational(11, 7)]
    for t in rng:  # a quick numeric test before SymPy's simplify
        value = complex(sp.N(d.xreplace({s: t for s in d.free_symbols}), 30))
        if value == value and abs(value) > 1e-8:  # nan: undefined there, no evidence
            return False
    slow("simplifying")
    return sp.simplify(d) == 0
