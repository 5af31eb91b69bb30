"""The usual mistakes as rewrites: the line before as a student who makes one would continue it.

    relation_mistakes(Eq(2x + 3, 11))       # (Eq(2x, 14), "sign_not_changed", "moved to the other side, ..."), ...
    expression_mistakes((x + 3)**2 - x**2)  # (x**2 + 9 - x**2, "square_of_sum", "$(x + 3)^2$ is not ..."), ...

Each rule yields (the rewritten line, its code in `CODES`, the reason in one sentence with this line's numbers).
The rewrites work on lines as written (`tosympy`'s unevaluated form: 2(x - 1) stays a product), so that a bracket,
a fraction or a power is still there to be mistreated. `numbers`, `solve_for` and `plausible` serve the arithmetic
slip ("14 should be 8") in `mistakes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.equation.solve.check.statements import All, Either, Rel
from inkmath.equation.solve.steps.base import plain
from inkmath.equation.solve.tosympy_values import rebuilt

CODES = {
    "sign_not_changed": "a term moved to the other side kept its sign",
    "inequality_not_reversed": "both sides multiplied or divided by a negative number without reversing the sign",
    "endpoint": "< and ≤ (or > and ≥) mixed up",
    "square_of_sum": "(a + b)^2 taken as a^2 + b^2",
    "product_of_brackets": "(a + b)(c + d) taken as ac + bd",
    "minus_bracket": "a minus before a bracket changed the sign of the first term only",
    "distribute_first_only": "only the first term in the bracket multiplied",
    "dropped_denominator": "a term or side not multiplied when clearing denominators",
    "division": "a division done the wrong way",
    "lost_root": "a solution lost",
    "wrong_root": "a root with the wrong sign",
    "extraneous_root": "a root that does not solve the original equation kept in the answer",
    "excluded_value": "a value where the original equation is undefined kept in the answer",
    "exponent_rule": "a rule of powers misapplied",
    "fraction_rule": "fractions added or subtracted across",
    "order_of_operations": "operations done in the wrong order",
    "arithmetic": "an arithmetic slip",
    "wrong_value": "the value is not the problem's",
    "does_not_follow": "the step does not follow (no usual mistake matches)",
}


def tex(value: Any) -> str:
    try:
        return plain(value)
    except Exception:  # noqa: BLE001 (printing must not lose a verdict)
        return str(value)


def flip(rel: Relational) -> Relational:
    return {sp.Lt: sp.Gt, sp.Gt: sp.Lt, sp.Le: sp.Ge, sp.Ge: sp.Le}.get(type(rel), type(rel))(rel.lhs, rel.rhs)


def loosen(rel: Relational) -> Relational:
    return {sp.Lt: sp.Le, sp.Le: sp.Lt, sp.Gt: sp.Ge, sp.Ge: sp.Gt}.get(type(rel), type(rel))(rel.lhs, rel.rhs)


def map_relations(node: Any, change: Callable[[Relational], Relational]) -> Any:
    if isinstance(node, Rel):
        return Rel(change(node.expr), node.raw)
    if isinstance(node, (Either, All)):
        return type(node)([map_relations(p, change) for p in node.parts])
    return node


def terms(expr: sp.Basic) -> list[sp.Basic]:
    if isinstance(expr, sp.Add):
        return [t for a in expr.args for t in terms(a)]
    return [expr]


def subterms(expr: sp.Basic, wanted: Callable[[sp.Basic], bool]) -> list[sp.Basic]:
    out = []
    for sub in sp.preorder_traversal(expr):
        if isinstance(sub, sp.Basic) and wanted(sub) and sub not in out:
            out.append(sub)
    return out


def number_factor(term: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """(c, rest) of a written product c·rest with a number c (1 when there is none)."""
    if isinstance(term, sp.Mul):
        factors = _factors(term)  # -2(x + 1) as written: Mul(-1, Mul(2, x + 1))
        found = [a for a in factors if a.is_number]
        if found:
            return rebuilt(sp.Mul(*found)), sp.Mul(*[a for a in factors if not a.is_number])
    return sp.Integer(1), term


def _factors(term: sp.Basic) -> list[sp.Basic]:
    if isinstance(term, sp.Mul):
        return [f for a in term.args for f in _factors(a)]
    return [term]


# ---------------------------------------------------------------- rewrites of an expression (both kinds)


def expression_mistakes(expr: sp.Basic) -> Iterator[tuple[sp.Basic, str, str]]:
    """(the expression with one usual mistake made in it, code, reason) for each place one can be made."""
    for sub in subterms(expr, lambda e: isinstance(e, sp.Pow) and isinstance(e.base, sp.Add) and e.exp == 2):
        wrong = sp.Add(*[t ** 2 for t in terms(sub.base)])
        yield expr.xreplace({sub: wrong}), "square_of_sum", (
            f"$({tex(sub.base)})^2$ is not ${tex(wrong)}$: it is ${tex(sp.expand(sub))}$ (do not forget the middle "
            "term $2ab$)")
    for sub in subterms(expr, lambda e: isinstance(e, sp.Mul) and len(e.args) == 2
                         and all(isinstance(a, sp.Add) for a in e.args)):
        (a, b) = sub.args
        ta, tb = terms(a), terms(b)
        if len(ta) == len(tb) == 2:
            wrong = ta[0] * tb[0] + ta[1] * tb[1]
            yield expr.xreplace({sub: wrong}), "product_of_brackets", (
                f"$({tex(a)})({tex(b)})$ multiplies every term by every term: it is ${tex(sp.expand(sub))}$")
    for sub in subterms(expr, _bracket_times_number):
        c, inner = number_factor(sub)
        first, rest = terms(inner)[0], terms(inner)[1:]
        right = sp.expand(sub)
        if c.is_negative:
            yield expr.xreplace({sub: c * first - c * sp.Add(*rest)}), "minus_bracket", (
                f"a minus before the bracket changes the sign of every term inside: ${tex(sub)} = {tex(right)}$")
        if c != 1:
            yield expr.xreplace({sub: c * first + sp.Add(*rest)}), (
                "minus_bracket" if c == -1 else "distribute_first_only"), (
                f"multiply every term in the bracket by ${tex(c)}$: ${tex(sub)} = {tex(right)}$")


def _bracket_times_number(e: sp.Basic) -> bool:
    c, inner = number_factor(e)
    return c != 1 and isinstance(inner, sp.Add) and len(terms(inner)) >= 2


def arithmetic_mistakes(expr: sp.Basic) -> Iterator[tuple[sp.Basic, str, str]]:
    """The usual slips with numbers: powers of one base, fractions added across, the order of operations."""
    for sub in subterms(expr, lambda e: isinstance(e, sp.Mul)):
        powers = [a for a in sub.args if isinstance(a, sp.Pow) and a.base.is_number and a.exp.is_number]
        if len(powers) == 2 and powers[0].base == powers[1].base:
            (p, q), base = powers, powers[0].base
            wrong = sp.Pow(base, p.exp * q.exp)
            yield expr.xreplace({sub: wrong}), "exponent_rule", (
                f"multiplying powers of one base adds the exponents: ${tex(base)}^{{{tex(p.exp)}}} \\cdot "
                f"{tex(base)}^{{{tex(q.exp)}}} = {tex(base)}^{{{tex(p.exp + q.exp)}}}$")
            if q.exp.is_negative:  # a^m / a^n written as a^m · a^{-n}
                yield expr.xreplace({sub: sp.Pow(base, p.exp / -q.exp)}), "exponent_rule", (
                    f"dividing powers of one base subtracts the exponents: the result is "
                    f"${tex(base)}^{{{tex(p.exp + q.exp)}}}$")
    for sub in subterms(expr, lambda e: isinstance(e, sp.Pow) and isinstance(e.base, sp.Pow)):
        inner = sub.base
        yield expr.xreplace({sub: sp.Pow(inner.base, inner.exp + sub.exp)}), "exponent_rule", (
            f"a power of a power multiplies the exponents: the result is "
            f"${tex(inner.base)}^{{{tex(inner.exp * sub.exp)}}}$")
    for sub in subterms(expr, lambda e: isinstance(e, sp.Add)):
        fractions = [_fraction(t) for t in terms(sub)]
        if len(fractions) == 2 and all(f is not None for f in fractions):
            (a, b), (c, d) = fractions
            yield expr.xreplace({sub: (a + c) / (b + d)}), "fraction_rule", (
                f"fractions are added over a common denominator, not numerator to numerator and denominator to "
                f"denominator: the result is ${tex(sp.nsimplify(a / b + c / d))}$")
        parts = terms(sub)
        if len(parts) == 2 and isinstance(parts[1], sp.Mul) and parts[0].is_number and parts[1].is_number:
            c, rest = number_factor(parts[1])
            if rest != 1 and c != 1:
                yield expr.xreplace({sub: (parts[0] + c) * rest}), "order_of_operations", (
                    "multiply before you add: the product is worked out first")


def _fraction(term: sp.Basic) -> tuple[sp.Basic, sp.Basic] | None:
    """(numerator, denominator) of a written fraction of whole numbers (a Mul with a power -1, or a Rational)."""
    if isinstance(term, sp.Rational) and term.q != 1:
        return sp.Integer(term.p), sp.Integer(term.q)
    if isinstance(term, sp.Pow) and term.exp == -1 and term.base.is_Integer:
        return sp.Integer(1), term.base
    if isinstance(term, sp.Mul) and len(term.args) == 2:
        num, den = term.args
        if isinstance(den, sp.Pow) and den.exp == -1 and den.base.is_Integer and num.is_Integer:
            return num, den.base
        if isinstance(num, sp.Pow) and num.exp == -1 and num.base.is_Integer and den.is_Integer:
            return den, num.base
    return None


# ---------------------------------------------------------------- rewrites of a relation


def relation_mistakes(rel: Relational) -> Iterator[tuple[Relational, str, str]]:
    """(the relation with one usual mistake made in the next step, code, reason)."""
    make = type(rel)
    lhs, rhs = rel.lhs, rel.rhs
    for wrong_l in expression_mistakes(lhs):
        yield make(wrong_l[0], rhs), wrong_l[1], wrong_l[2]
    for wrong_r in expression_mistakes(rhs):
        yield make(lhs, wrong_r[0]), wrong_r[1], wrong_r[2]
    yield from sign_mistakes(rel)
    yield from _denominator_mistakes(rel)
    for side, other, build in ((lhs, rhs, lambda a, b: make(a, b)), (rhs, lhs, lambda a, b: make(b, a))):
        c, rest = number_factor(side)
        if c not in (1, -1, 0) and not other.free_symbols and rest.free_symbols:
            over = c.is_Rational and abs(c.p) == 1 and c.q != 1  # x/2 = 3
            undo = f"multiply both sides by ${tex(1 / c)}$" if over else f"divide both sides by ${tex(c)}$"
            right = f"{undo}: ${tex(rest)} = {tex(other / c)}$"
            yield build(rest, other * c), "division", f"to undo {'a division' if over else 'a product'}, {right}"
            yield build(rest, c / other if other != 0 else sp.nan), "division", f"divided the wrong way round: {right}"
            yield build(rest, other - c), "division", f"${tex(c)}$ multiplies ${tex(rest)}$: {right}"


def sign_mistakes(rel: Relational) -> Iterator[tuple[Relational, str, str]]:
    """Each term moved to the other side with its sign kept."""
    make = type(rel)
    for side, other, build in ((rel.lhs, rel.rhs, lambda a, b: make(a, b)),
                               (rel.rhs, rel.lhs, lambda a, b: make(b, a))):
        parts = terms(side)
        for t in parts:
            if t == 0 or (len(parts) == 1 and not t.is_number):
                continue
            yield build(side - t, other + t), "sign_not_changed", (
                f"moved to the other side, ${tex(t)}$ becomes ${tex(-t)}$: its sign changes")


def _denominator_mistakes(rel: Relational) -> Iterator[tuple[Relational, str, str]]:
    make = type(rel)
    pieces = [(t, "l") for t in terms(rel.lhs)] + [(t, "r") for t in terms(rel.rhs)]
    dens = [sp.fraction(sp.together(t))[1] for t, _ in pieces]
    whole = [int(d) for d in dens if d.is_Integer and d != 1]
    if whole:
        m = sp.ilcm(*whole) if len(whole) > 1 else whole[0]
        for skip, (t, _) in enumerate(pieces):
            left = sp.Add(*[(u if k == skip else m * u) for k, (u, s) in enumerate(pieces) if s == "l"])
            right = sp.Add(*[(u if k == skip else m * u) for k, (u, s) in enumerate(pieces) if s == "r"])
            yield make(left, right), "dropped_denominator", (
                f"multiplying both sides by ${m}$ multiplies every term: ${tex(t)}$ becomes ${tex(sp.expand(m * t))}$")
    lettered = [d for d in dens if d.free_symbols]
    for d in dict.fromkeys(lettered):
        right = f"both sides are multiplied by ${tex(d)}$"
        yield make(sp.cancel(rel.lhs * d), rel.rhs), "dropped_denominator", f"{right}, the right side too"
        yield make(rel.lhs, sp.cancel(rel.rhs * d)), "dropped_denominator", f"{right}, the left side too"


def solve_for(f: sp.Basic, k: sp.Symbol) -> list[sp.Basic]:
    """The real values of k that make f zero, when f is a polynomial of degree 1 or 2 in k (else none: this is a
    diagnosis, not worth SymPy's general solver)."""
    num = sp.fraction(sp.together(f))[0]
    try:
        poly = sp.Poly(num, k)
    except sp.PolynomialError:
        return []
    if not 1 <= poly.degree() <= 2 or not all(c.is_number for c in poly.coeffs()):
        return []
    return [r for r in sp.roots(poly) if r.is_real]


def plausible(wrong: sp.Basic, right: sp.Basic) -> bool:
    """Is `right` a number a student would have written instead of `wrong` (a whole number for a whole number,
    a simple fraction)?"""
    if not right.is_Rational:
        return False
    return right.is_Integer if wrong.is_Integer else right.q <= 100


def numbers(expr: sp.Basic) -> list[sp.Basic]:
    """The numbers written in an expression: terms, sides, coefficients other than a bare sign (the -1 of -x),
    not exponents."""
    out: list[sp.Basic] = []

    def walk(e: sp.Basic, exponent: bool) -> None:
        if isinstance(e, sp.Rational):
            if not exponent and e != 0:
                out.append(e)
            return
        if isinstance(e, sp.Mul):
            for a in e.args:
                if not (a in (1, -1) and len(e.args) > 1):
                    walk(a, exponent)
            return
        if isinstance(e, sp.Pow):
            walk(e.base, exponent)
            walk(e.exp, True)
            return
        for a in getattr(e, "args", ()):
            walk(a, exponent)

    walk(expr, False)
    return list(dict.fromkeys(out))


def replace_nth(expr: sp.Basic, old: sp.Basic, new: sp.Basic, index: int) -> sp.Basic:
    """`expr` with only the `index`-th occurrence (in preorder) of the number `old` replaced by `new`."""
    seen = [0]

    def walk(e: sp.Basic) -> sp.Basic:
        if e == old and e.is_Rational:
            seen[0] += 1
            return new if seen[0] - 1 == index else e
        if not getattr(e, "args", ()):
            return e
        return e.func(*[walk(a) for a in e.args])

    return walk(expr)


def changes(expr: sp.Basic, most: int = 3) -> Iterator[tuple[sp.Basic, Callable[[sp.Basic], sp.Basic]]]:
    """(a number written in `expr`, the function putting another value in its place) for each place a number is
    written (a number written twice is changed in one place at a time: x + 5 = 5)."""
    for n in numbers(expr):
        count = sum(1 for a in sp.preorder_traversal(expr) if a == n and a.is_Rational)
        if count <= 1:
            yield n, lambda v, n=n: expr.xreplace({n: v})
            continue
        for i in range(min(count, most)):
            yield n, lambda v, n=n, i=i: replace_nth(expr, n, v, i)
