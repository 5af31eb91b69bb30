"""Why a step is wrong, in a sentence a student understands: the usual mistakes, tried one by one on the step before.

Each rule rewrites the line before as a student who makes that mistake would (a term moved across without its sign
changed, (a + b)^2 taken as a^2 + b^2, a minus distributed over the first term only, a denominator dropped, a
division done the wrong way, an inequality divided by a negative number without reversing it, a^m·a^n taken as
a^{mn}, fractions added across, ...); when what the student wrote means the same as the rewritten line (the same
solutions, or the same value), that mistake is the reason, with the numbers of this step. Then come mistakes seen
in the answer itself (a root lost, a root with the wrong sign, a number that one change would make right: an
arithmetic slip), and last a counterexample: a value that solves one line and not the other.

Every function returns (code, reason); the codes are listed in `rules.CODES`; the rewrites are in `rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.equation.solve.check.rules import (arithmetic_mistakes, changes, expression_mistakes, flip, loosen,
                                                map_relations, numbers, plausible, relation_mistakes, sign_mistakes,
                                                solve_for, tex)
from inkmath.equation.solve.check.sets import (CannotCheck, NeedsWorker, contains, evaluate, holds_at, node_set,
                                               points, rel_set, same_set, same_value)
from inkmath.equation.solve.check.statements import All, Rel, Statement, leaves

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
    found = None if partial else _arithmetic_slip(cur, checker, before, prev)
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
        if linear and rel.expr != rel.raw:  # 3x + 2x = 360 divided as 5x = 360
            for wrong, code, reason in relation_mistakes(rel.expr):
                if code == "division":
                    yield wrong, code, reason


def _sign_slips(cur: Statement, checker: Any) -> Iterator[tuple[Any, str, str]]:
    """The step with its inequality sign reversed, or made strict or not: what it should have said?"""
    if checker.equation or cur.node is None:
        return
    rels = [leaf for leaf in leaves(cur.node) if isinstance(leaf, Rel) and not isinstance(leaf.expr, (sp.Eq, sp.Ne))]
    if not rels:
        return
    yield map_relations(cur.node, flip), "inequality_not_reversed", (
        "multiplying or dividing both sides by a negative number reverses the inequality sign")
    yield map_relations(cur.node, loosen), "endpoint", (
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
    loose = _without_conditions(prev, var, before)  # x + 5 = 0 or x - 8 = 0, x ≥ 1: -5 is a root too
    flipped = [r for r in extra if contains(before, -r) or contains(loose, -r)]
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


def _without_conditions(said: Any, var: sp.Symbol, fallback: sp.Set) -> sp.Set:
    """The solutions of a step's main relation, its conditions (x ≥ 1, x ≠ 2) left out."""
    if not isinstance(said, Statement) or not isinstance(said.node, All) or not said.node.parts:
        return fallback
    try:
        return node_set(said.node.parts[0], var, said.family)
    except (CannotCheck, TypeError, ValueError):
        return fallback


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
    if any(isinstance(a, sp.Pow) and a.exp == 2 and a.base.has(var) and not b.free_symbols
           for a, b in (sides, sides[::-1])):
        return True
    f = sp.expand(rel.expr.lhs - rel.expr.rhs)  # x^2 - 4 = 0
    return f.is_polynomial(var) and sp.Poly(f, var).degree() == 2 and f.coeff(var, 1) == 0


def _has(said: Any, test: Callable[[sp.Basic], bool]) -> bool:
    if not isinstance(said, Statement) or said.node is None:
        return False
    return any(any(test(e) for e in sp.preorder_traversal(leaf.raw)) for leaf in leaves(said.node)
               if isinstance(leaf, Rel))


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


def _arithmetic_slip(cur: Statement, checker: Any, before: sp.Set, prev: Any = None) -> tuple[str, str] | None:
    """One number of the step that, changed, makes it follow: "14 should be 8" (a number copied from the line
    before is the last suspected, the right side before the left)."""
    rel, _ = _main_relation(cur)
    anchors = _anchors(before)
    if rel is None or not anchors:
        return None
    var = checker.var
    k = sp.Dummy("k")
    copied = set(numbers(prev_rel.raw)) if (prev_rel := _main_relation(prev)[0]) is not None else set()
    places = list(changes(rel.raw))[::-1]
    places.sort(key=lambda place: place[0] in copied)
    for n, put in places:
        changed = put(k)
        if not isinstance(changed, Relational):
            continue
        options: list[sp.Basic] = []
        for anchor in anchors[:4]:  # the first that pins k down (x = 0 in 3x(x^2 + k) = 0 does not)
            options = [v for v in solve_for((changed.lhs - changed.rhs).xreplace({var: anchor}), k)
                       if v != n and plausible(n, v)]
            if options:
                break
        for v in options[:2]:
            fixed = put(v)
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
    for n, put in changes(row.raw):
        changed = put(k)
        if not isinstance(changed, Relational):
            continue
        options = [v for v in solve_for((changed.lhs - changed.rhs).xreplace(values), k)
                   if v != n and plausible(n, v)]
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
    for n, put in changes(raw):
        try:
            target = state.value.xreplace(point)
            options = [v for v in solve_for(put(k).xreplace(point) - target, k) if v != n and plausible(n, v)]
        except (TypeError, ValueError):
            continue
        for v in options[:2]:
            if same_value(_worked(put(v)), state.value, variable):
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
