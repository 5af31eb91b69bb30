"""Why a step is wrong, in a sentence a student understands: the usual mistakes, tried one by one on the step before.

Each rule rewrites the line before as a student who makes that mistake would (a term moved across without its sign
changed, (a + b)^2 taken as a^2 + b^2, a minus distributed over the first term only, a denominator dropped, a
division done the wrong way, an inequality divided by a negative number without reversing it, a^m·a^n taken as
a^{mn}, fractions added across, ...); when what the student wrote means the same as the rewritten line (the same
solutions, or the same value), that mistake is the reason, with the numbers of this step. Then come mistakes seen
in the answer itself (a root lost, a root with the wrong sign, a number that one change would make right: an
arithmetic slip), and last a counterexample: a value that solves one line and not the other.

Every function returns (code, reason); the codes are listed in `CODES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.equation.solve.check.sets import (CannotCheck, NeedsWorker, contains, evaluate, holds_at, node_set,
                                               points, rel_set, same_set, same_value)
from inkmath.equation.solve.check.statements import All, Either, Rel, Statement, leaves
from inkmath.equation.solve.steps.base import plain

CODES = {
    "sign_not_changed": "a term moved to the other side kept its sign",
    "inequality_not_reversed": "both sides multiplied or divided by a negative number without reversing the sign",
    "endpoint": "< and ≤ (or > and ≥) mixed up",
    "square_of_sum": "(a + b)^2 taken as a^2 + b^2",
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


def _flip(rel: Relational) -> Relational:
    return {sp.Lt: sp.Gt, sp.Gt: sp.Lt, sp.Le: sp.Ge, sp.Ge: sp.Le}.get(type(rel), type(rel))(rel.lhs, rel.rhs)


def _loosen(rel: Relational) -> Relational:
    return {sp.Lt: sp.Le, sp.Le: sp.Lt, sp.Gt: sp.Ge, sp.Ge: sp.Gt}.get(type(rel), type(rel))(rel.lhs, rel.rhs)


def _map_relations(node: Any, change: Callable[[Relational], Relational]) -> Any:
    if isinstance(node, Rel):
        return Rel(change(node.expr), node.raw)
    if isinstance(node, (Either, All)):
        return type(node)([_map_relations(p, change) for p in node.parts])
    return node


def _terms(expr: sp.Basic) -> list[sp.Basic]:
    if isinstance(expr, sp.Add):
        return [t for a in expr.args for t in _terms(a)]
    return [expr]


def _subterms(expr: sp.Basic, wanted: Callable[[sp.Basic], bool]) -> list[sp.Basic]:
    out = []
    for sub in sp.preorder_traversal(expr):
        if isinstance(sub, sp.Basic) and wanted(sub) and sub not in out:
            out.append(sub)
    return out


def _number_factor(term: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """(c, rest) of a written product c·rest with a number c (1 when there is none)."""
    if isinstance(term, sp.Mul):
        numbers = [a for a in term.args if a.is_number]
        if numbers:
            c = sp.Mul(*numbers)
            rest = sp.Mul(*[a for a in term.args if not a.is_number])
            return c, rest
    return sp.Integer(1), term


# ---------------------------------------------------------------- rewrites of an expression (both kinds)


def expression_mistakes(expr: sp.Basic) -> Iterator[tuple[sp.Basic, str, str]]:
    """(the expression with one usual mistake made in it, code, reason) for each place one can be made."""
    for sub in _subterms(expr, lambda e: isinstance(e, sp.Pow) and isinstance(e.base, sp.Add) and e.exp == 2):
        wrong = sp.Add(*[t ** 2 for t in _terms(sub.base)])
        yield expr.xreplace({sub: wrong}), "square_of_sum", (
            f"$({tex(sub.base)})^2$ is not ${tex(wrong)}$: it is ${tex(sp.expand(sub))}$ (do not forget the middle "
            "term $2ab$)")
    for sub in _subterms(expr, lambda e: isinstance(e, sp.Mul) and len(e.args) == 2
                         and all(isinstance(a, sp.Add) for a in e.args)):
        (a, b) = sub.args
        ta, tb = _terms(a), _terms(b)
        if len(ta) == len(tb) == 2:
            wrong = ta[0] * tb[0] + ta[1] * tb[1]
            yield expr.xreplace({sub: wrong}), "square_of_sum", (
                f"$({tex(a)})({tex(b)})$ multiplies every term by every term: it is ${tex(sp.expand(sub))}$")
    for sub in _subterms(expr, _bracket_times_number):
        c, inner = _number_factor(sub)
        first, rest = _terms(inner)[0], _terms(inner)[1:]
        right = sp.expand(sub)
        if c.is_negative:
            yield expr.xreplace({sub: c * first - c * sp.Add(*rest)}), "minus_bracket", (
                f"a minus before the bracket changes the sign of every term inside: ${tex(sub)} = {tex(right)}$")
        if c != 1:
            yield expr.xreplace({sub: c * first + sp.Add(*rest)}), (
                "minus_bracket" if c == -1 else "distribute_first_only"), (
                f"multiply every term in the bracket by ${tex(c)}$: ${tex(sub)} = {tex(right)}$")


def _bracket_times_number(e: sp.Basic) -> bool:
    c, inner = _number_factor(e)
    return c != 1 and isinstance(inner, sp.Add) and len(_terms(inner)) >= 2


def arithmetic_mistakes(expr: sp.Basic) -> Iterator[tuple[sp.Basic, str, str]]:
    """The usual slips with numbers: powers of one base, fractions added across, the order of operations."""
    for sub in _subterms(expr, lambda e: isinstance(e, sp.Mul)):
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
    for sub in _subterms(expr, lambda e: isinstance(e, sp.Pow) and isinstance(e.base, sp.Pow)):
        inner = sub.base
        yield expr.xreplace({sub: sp.Pow(inner.base, inner.exp + sub.exp)}), "exponent_rule", (
            f"a power of a power multiplies the exponents: the result is "
            f"${tex(inner.base)}^{{{tex(inner.exp * sub.exp)}}}$")
    for sub in _subterms(expr, lambda e: isinstance(e, sp.Add)):
        fractions = [_fraction(t) for t in _terms(sub)]
        if len(fractions) == 2 and all(f is not None for f in fractions):
            (a, b), (c, d) = fractions
            yield expr.xreplace({sub: (a + c) / (b + d)}), "fraction_rule", (
                f"fractions are added over a common denominator, not numerator to numerator and denominator to "
                f"denominator: the result is ${tex(sp.nsimplify(a / b + c / d))}$")
        terms = _terms(sub)
        if len(terms) == 2 and isinstance(terms[1], sp.Mul) and terms[0].is_number and terms[1].is_number:
            c, rest = _number_factor(terms[1])
            if rest != 1 and c != 1:
                yield expr.xreplace({sub: (terms[0] + c) * rest}), "order_of_operations", (
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
        c, rest = _number_factor(side)
        if c not in (1, -1, 0) and not other.free_symbols and rest.free_symbols:
            right = f"divide both sides by ${tex(c)}$: ${tex(rest)} = {tex(other / c)}$"
            yield build(rest, other * c), "division", f"to undo a product, {right}"
            yield build(rest, c / other if other != 0 else sp.nan), "division", f"divided the wrong way round: {right}"
            yield build(rest, other - c), "division", f"${tex(c)}$ multiplies ${tex(rest)}$: {right}"


def sign_mistakes(rel: Relational) -> Iterator[tuple[Relational, str, str]]:
    """Each term moved to the other side with its sign kept."""
    make = type(rel)
    for side, other, build in ((rel.lhs, rel.rhs, lambda a, b: make(a, b)),
                               (rel.rhs, rel.lhs, lambda a, b: make(b, a))):
        terms = _terms(side)
        for t in terms:
            if t == 0 or (len(terms) == 1 and not t.is_number):
                continue
            yield build(side - t, other + t), "sign_not_changed", (
                f"moved to the other side, ${tex(t)}$ becomes ${tex(-t)}$: its sign changes")


def _denominator_mistakes(rel: Relational) -> Iterator[tuple[Relational, str, str]]:
    make = type(rel)
    terms = [(t, "l") for t in _terms(rel.lhs)] + [(t, "r") for t in _terms(rel.rhs)]
    dens = [sp.fraction(sp.together(t))[1] for t, _ in terms]
    numbers = [int(d) for d in dens if d.is_Integer and d != 1]
    if numbers:
        m = sp.ilcm(*numbers) if len(numbers) > 1 else numbers[0]
        for skip, (t, _) in enumerate(terms):
            left = sp.Add(*[(u if k == skip else m * u) for k, (u, s) in enumerate(terms) if s == "l"])
            right = sp.Add(*[(u if k == skip else m * u) for k, (u, s) in enumerate(terms) if s == "r"])
            yield make(left, right), "dropped_denominator", (
                f"multiplying both sides by ${m}$ multiplies every term: ${tex(t)}$ becomes ${tex(sp.expand(m * t))}$")
    lettered = [d for d in dens if d.free_symbols]
    for d in dict.fromkeys(lettered):
        right = f"both sides are multiplied by ${tex(d)}$"
        yield make(sp.cancel(rel.lhs * d), rel.rhs), "dropped_denominator", f"{right}, the right side too"
        yield make(rel.lhs, sp.cancel(rel.rhs * d)), "dropped_denominator", f"{right}, the left side too"


# ---------------------------------------------------------------- one unknown


def _main_relation(said: Any) -> tuple[Rel | None, list[Any]]:
    """The step's one relation and its conditions (x ≠ 1, x + 1 ≥ 0), or None when it has alternatives."""
    if not isinstance(said, Statement) or said.node is None:
        return None, []
    node = said.node
    if isinstance(node, Rel):
        return node, []
    if isinstance(node, All) and node.parts and isinstance(node.parts[0], Rel):
        return node.parts[0], node.parts[1:]
    return None, []


def safely(diagnose: Callable[..., tuple[str, str]], *args: Any, **kwargs: Any) -> tuple[str, str]:
    """A diagnosis that cannot fail: when a rule trips over what SymPy builds, the reason is the plain one."""
    try:
        return diagnose(*args, **kwargs)
    except NeedsWorker:
        raise
    # the diagnosis's boundary: the step is wrong whatever happens here; only its reason is at stake
    except Exception:  # noqa: BLE001
        return "does_not_follow", "this step does not follow from the line before"


def diagnose_sets(prev: Any, cur: Statement, checker: Any, before: sp.Set, after: sp.Set,
                  partial: bool = False) -> tuple[str, str]:
    """Why a step in one unknown does not follow from the step before (`before`, `after`: their solutions)."""
    var = checker.var
    if _factored(prev, var) and is_roots(cur, var):
        found = _root_mistakes(prev, var, before, after, partial)
        if found is not None:
            return found
    if not partial:
        for node, code, reason in _sign_slips(cur, checker):
            if same_set(sp.Intersection(node_set(node, var, cur.family), checker.domain), before):
                return code, reason
        rel, conditions = _main_relation(prev)
        if rel is not None:
            kept = node_set(All(conditions), var) if conditions else sp.S.Reals
            for wrong, code, reason in _relation_candidates(rel):
                try:
                    meant = sp.Intersection(rel_set(wrong, var), checker.domain)
                except (CannotCheck, TypeError, ValueError, NotImplementedError, ZeroDivisionError):
                    continue
                if same_set(meant, after) or same_set(sp.Intersection(meant, kept), sp.Intersection(after, kept)):
                    return code, reason
    found = None if partial else _arithmetic_slip(cur, checker, before)
    if found is not None:
        return found
    found = _root_mistakes(prev, var, before, after, partial)
    if found is not None:
        return found
    return "does_not_follow", _counterexample(var, before, after)


def _relation_candidates(rel: Rel) -> Iterator[tuple[Relational, str, str]]:
    """The usual mistakes made on a relation as written, then on it expanded ((x - 5)/4 = -5 read as
    x/4 - 5/4 = -5, whose terms a student moves one by one)."""
    yield from relation_mistakes(rel.raw)
    if isinstance(rel.expr, Relational) and rel.expr not in (sp.true, sp.false):
        f = sp.expand(rel.expr.lhs - rel.expr.rhs)
        linear = f.is_polynomial() and all(sp.Poly(f, s).degree() <= 1 for s in f.free_symbols)
        expanded = type(rel.expr)(sp.expand(rel.expr.lhs), sp.expand(rel.expr.rhs))
        if linear and expanded != rel.raw:  # (x - 5)/4 = -5 moved term by term as x/4 - 5/4 = -5
            yield from sign_mistakes(expanded)


def _sign_slips(cur: Statement, checker: Any) -> Iterator[tuple[Any, str, str]]:
    """The step with its inequality sign reversed, or made strict or not: what it should have said?"""
    if checker.equation or cur.node is None:
        return
    rels = [leaf for leaf in leaves(cur.node) if isinstance(leaf, Rel) and not isinstance(leaf.expr, (sp.Eq, sp.Ne))]
    if not rels:
        return
    yield _map_relations(cur.node, _flip), "inequality_not_reversed", (
        "multiplying or dividing both sides by a negative number reverses the inequality sign")
    yield _map_relations(cur.node, _loosen), "endpoint", (
        "the end point: $\\leq$ and $\\geq$ include it, $<$ and $>$ do not")


def _root_mistakes(prev: Any, var: sp.Symbol, before: sp.Set, after: sp.Set,
                   partial: bool) -> tuple[str, str] | None:
    had, has = points(before), points(after)
    if had is None or has is None:
        return None
    lost = [r for r in had if not contains(after, r)]
    extra = [r for r in has if not contains(before, r)]
    if partial:
        lost = []
    flipped = [r for r in extra if contains(before, -r)]
    if flipped:
        r = flipped[0]
        return "wrong_root", (f"${var} = {tex(r)}$ does not solve the line before, ${var} = {tex(-r)}$ does: "
                              f"a factor $({var} - a)$ is zero at ${var} = a$")
    if lost and not extra:
        shown = " and ".join(f"${var} = {tex(r)}$" for r in lost)
        verb = "is" if len(lost) == 1 else "are"
        if _has(prev, lambda e: isinstance(e, sp.Abs)):
            return "lost_root", f"{shown} {verb} lost: $|A| = c$ means $A = c$ or $A = -c$"
        if _square_equals_number(prev, var):
            return "lost_root", (f"{shown} {verb} lost: a square equal to a positive number has two square roots, "
                                 "$\\pm$")
        if any(r == 0 for r in lost):
            return "lost_root", (f"{shown} {verb} lost: dividing both sides by an expression in ${var}$ loses the "
                                 "solutions that make it zero")
        return "lost_root", f"{shown} {verb} a solution of the line before, lost here"
    return None


def _factored(said: Any, var: sp.Symbol) -> bool:
    """Is the line a product of factors equal to zero, or its factors' equations side by side?"""
    if not isinstance(said, Statement) or said.node is None:
        return False
    rels = [leaf for leaf in leaves(said.node) if isinstance(leaf, Rel) and isinstance(leaf.expr, sp.Eq)]
    if len(rels) == 1:
        raw = rels[0].raw
        return (raw.rhs == 0 and isinstance(raw.lhs, sp.Mul)) or (raw.lhs == 0 and isinstance(raw.rhs, sp.Mul))
    return len(rels) > 1


def is_roots(said: Statement, var: sp.Symbol) -> bool:
    """Does a step list values of the unknown (x = 2 or x = 3)?"""
    if said.node is None:
        return False
    for leaf in leaves(said.node):
        if not (isinstance(leaf, Rel) and isinstance(leaf.expr, sp.Eq) and var in (leaf.expr.lhs, leaf.expr.rhs)
                and len(leaf.expr.free_symbols) == 1):
            return False
    return True


def _square_equals_number(said: Any, var: sp.Symbol) -> bool:
    """Is the line a square equal to a number: x^2 = 9, (x - 1)^2 = 4?"""
    rel, _ = _main_relation(said)
    if rel is None or not isinstance(rel.expr, sp.Eq):
        return False
    sides = (rel.raw.lhs, rel.raw.rhs)
    return any(isinstance(a, sp.Pow) and a.exp == 2 and a.base.has(var) and not b.free_symbols
               for a, b in (sides, sides[::-1]))


def _has(said: Any, test: Callable[[sp.Basic], bool]) -> bool:
    if not isinstance(said, Statement) or said.node is None:
        return False
    return any(any(test(e) for e in sp.preorder_traversal(leaf.raw)) for leaf in leaves(said.node)
               if isinstance(leaf, Rel))


def _solve_for(f: sp.Basic, k: sp.Symbol) -> list[sp.Basic]:
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


def _plausible(wrong: sp.Basic, right: sp.Basic) -> bool:
    """Is `right` a number a student would have written instead of `wrong` (a whole number for a whole number,
    a simple fraction)?"""
    if not right.is_Rational:
        return False
    return right.is_Integer if wrong.is_Integer else right.q <= 100


def _numbers(expr: sp.Basic) -> list[sp.Basic]:
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


def _anchors(before: sp.Set) -> list[sp.Basic]:
    """Numbers that pin a step down: its solutions, or the ends of its intervals."""
    have = points(before)
    if have is not None:
        return have
    try:
        ends = before.boundary
    except (NotImplementedError, TypeError, AttributeError):
        return []
    found = points(ends) if isinstance(ends, sp.FiniteSet) else None
    return [e for e in found or [] if e.is_finite]


def _arithmetic_slip(cur: Statement, checker: Any, before: sp.Set) -> tuple[str, str] | None:
    """One number of the step that, changed, makes it follow: "14 should be 8"."""
    rel, _ = _main_relation(cur)
    anchors = _anchors(before)
    if rel is None or not anchors:
        return None
    var = checker.var
    k = sp.Dummy("k")
    for n in _numbers(rel.raw):
        changed = rel.raw.xreplace({n: k})
        options: list[sp.Basic] = []
        for anchor in anchors[:4]:  # the first that pins k down (x = 0 in 3x(x^2 + k) = 0 does not)
            options = [v for v in _solve_for((changed.lhs - changed.rhs).xreplace({var: anchor}), k)
                       if v != n and _plausible(n, v)]
            if options:
                break
        for v in options[:2]:
            fixed = rel.raw.xreplace({n: v})
            if not isinstance(fixed, Relational):
                continue  # 0 = 0: changing the number makes the step say nothing
            try:
                meant = sp.Intersection(rel_set(type(rel.expr)(fixed.lhs, fixed.rhs), var), checker.domain)
            except (CannotCheck, TypeError, ValueError):
                continue
            if same_set(meant, before):
                return "arithmetic", f"check the arithmetic: ${tex(n)}$ should be ${tex(v)}$"
    return None


def _counterexample(var: sp.Symbol, before: sp.Set, after: sp.Set) -> str:
    had, has = points(before), points(after)
    if had is not None:
        for r in had:
            if not contains(after, r):
                return f"this does not follow from the line before: ${var} = {tex(r)}$ solves the line before but not this one"
    if has is not None:
        for r in has:
            if not contains(before, r):
                return f"this does not follow from the line before: ${var} = {tex(r)}$ solves this line but not the line before"
    for t in (0, 1, -1, 2, -2, 3, -3, sp.Rational(1, 2), 5, -5, 10, -10):
        t = sp.Integer(t) if isinstance(t, int) else t
        if contains(before, t) != contains(after, t):
            which = "the line before but not this one" if contains(before, t) else "this line but not the line before"
            return f"this does not follow from the line before: ${var} = {tex(t)}$ satisfies {which}"
    return "this does not have the same solutions as the line before"


def wrong_answer(stated: sp.Set, solution: sp.Set, checker: Any,
                 squared: Callable[[sp.Basic], bool] = lambda r: False) -> tuple[str, str]:
    """Why the answer stated is not the problem's (extraneous or excluded roots kept, a root missing, ...);
    `squared(r)`: does r solve the problem with both sides squared (a root squaring brings in)?"""
    var = checker.var
    said, right = points(stated), points(solution)
    if said is not None and right is not None:
        extra = [r for r in said if not contains(solution, r)]
        missing = [r for r in right if not contains(stated, r)]
        for r in extra:
            if not contains(checker.domain, r):
                return "excluded_value", (f"${var} = {tex(r)}$ is not a solution: the original equation is not "
                                          "defined there (a zero denominator, the root or logarithm of a negative "
                                          "number)")
            if squared(r):
                return "extraneous_root", (f"${var} = {tex(r)}$ does not solve the original equation: squaring can "
                                           "add roots, so check each one in the equation as given")
            return "does_not_follow", f"${var} = {tex(r)}$ does not solve the original equation"
        if missing:
            shown = " and ".join(f"${var} = {tex(r)}$" for r in missing)
            return "lost_root", f"the answer misses {shown}"
    return "does_not_follow", f"the solutions of the problem are not these: check the answer in the original {checker.problem.kind}"


# ---------------------------------------------------------------- systems


def _proportional(a: sp.Basic, b: sp.Basic) -> bool:
    if a == 0 or b == 0:
        return a == b
    ratio = sp.cancel(sp.together(a / b))
    return ratio.is_number and ratio != 0


def diagnose_system(state: Any, stmt: Statement, own: Any, checker: Any,
                    failing: list | None = None) -> tuple[str, str]:
    """Why a system's step does not follow from the system before."""
    unknowns = checker.unknowns
    solutions = sorted(state.value.tuples, key=str)
    culprits = []
    for row in stmt.rows:
        if isinstance(row, Rel) and isinstance(row.expr, sp.Eq) and solutions:
            if not all(holds_at(row, dict(zip(unknowns, t))) for t in solutions):
                culprits.append(row)
    prev_rows = [r for r in getattr(state.said, "rows", []) if isinstance(r, Rel) and isinstance(r.expr, sp.Eq)]
    for row in culprits:
        f = sp.expand(row.expr.lhs - row.expr.rhs)
        for p in prev_rows:
            for wrong, code, reason in relation_mistakes(p.raw):
                if isinstance(wrong, sp.Eq) and _proportional(sp.expand(wrong.lhs - wrong.rhs), f):
                    return code, reason
        if solutions:
            found = _system_slip(row, unknowns, solutions[0])
            if found is not None:
                return found
    if solutions and culprits:
        pair = ", ".join(tex(v) for v in solutions[0])
        names = ", ".join(u.name for u in unknowns)
        return "does_not_follow", (f"this does not follow from the system before: $({names}) = ({pair})$ solves it "
                                   f"but not ${tex(culprits[0].expr)}$")
    return "does_not_follow", "this system does not have the same solutions as the one before"


def _system_slip(row: Rel, unknowns: list[sp.Symbol], solution: tuple) -> tuple[str, str] | None:
    k = sp.Dummy("k")
    values = dict(zip(unknowns, solution))
    for n in _numbers(row.raw):
        changed = row.raw.xreplace({n: k})
        options = [v for v in _solve_for((changed.lhs - changed.rhs).xreplace(values), k)
                   if v != n and _plausible(n, v)]
        if options:
            return "arithmetic", f"check the arithmetic: ${tex(n)}$ should be ${tex(options[0])}$"
    return None


def wrong_system_answer(stated: Any, solution: Any, unknowns: list[sp.Symbol]) -> tuple[str, str]:
    names = ", ".join(u.name for u in unknowns)
    said = {tuple(round(float(sp.N(v)), 9) for v in t) for t in stated.tuples}
    right = {tuple(round(float(sp.N(v)), 9) for v in t) for t in solution.tuples}
    for t in sorted(stated.tuples, key=str):
        if tuple(round(float(sp.N(v)), 9) for v in t) not in right:
            return "does_not_follow", f"$({names}) = ({', '.join(tex(v) for v in t)})$ does not solve the system"
    for t in sorted(solution.tuples, key=str):
        if tuple(round(float(sp.N(v)), 9) for v in t) not in said:
            return "lost_root", f"the answer misses $({names}) = ({', '.join(tex(v) for v in t)})$"
    return "does_not_follow", "the answer is not the system's solution"


# ---------------------------------------------------------------- values


def diagnose_value(state: Any, value: sp.Basic, raw: sp.Basic, checker: Any) -> tuple[str, str]:
    """Why an expression is not equal to the one before."""
    prev_raw = state.said if isinstance(state.said, sp.Basic) else None
    variable = checker.variable
    if prev_raw is not None:
        for wrong, code, reason in [*expression_mistakes(prev_raw), *arithmetic_mistakes(prev_raw)]:
            try:
                if same_value(_worked(wrong), value, variable):
                    return code, reason
            except (TypeError, ValueError, ZeroDivisionError):
                continue
    k = sp.Dummy("k")
    point = {s: sp.Rational(7, 3) for s in value.free_symbols | state.value.free_symbols}
    for n in _numbers(raw):
        try:
            target = state.value.xreplace(point)
            options = [v for v in _solve_for(raw.xreplace({n: k}).xreplace(point) - target, k)
                       if v != n and _plausible(n, v)]
        except (TypeError, ValueError):
            continue
        for v in options[:2]:
            if same_value(_worked(raw.xreplace({n: v})), state.value, variable):
                return "arithmetic", f"check the arithmetic: ${tex(n)}$ should be ${tex(v)}$"
    if not value.free_symbols and not state.value.free_symbols:
        return "does_not_follow", f"this is ${tex(value)}$, but the line before is ${tex(state.value)}$"
    return "does_not_follow", _value_counterexample(state.value, value)


def _worked(expr: sp.Basic) -> sp.Basic:
    return evaluate(expr)


def _value_counterexample(before: sp.Basic, after: sp.Basic) -> str:
    letters = sorted(before.free_symbols | after.free_symbols, key=lambda s: s.name)
    for t in (2, 3, -1, 5, 1, -2):
        point = {s: sp.Integer(t) for s in letters}
        try:
            a, b = sp.nsimplify(before.xreplace(point)), sp.nsimplify(after.xreplace(point))
        except (TypeError, ValueError):
            continue
        if a.is_finite and b.is_finite and a != b:
            where = ", ".join(f"{s.name} = {t}" for s in letters)
            return f"this is not equal to the line before: at ${where}$ the line before is ${tex(a)}$, this line ${tex(b)}$"
    return "this is not equal to the line before"
