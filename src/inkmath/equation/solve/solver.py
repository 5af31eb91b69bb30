"""The SymPy work of an answer: a tree's items solved, simplified or evaluated into the answer's dict.

It runs in the caller's process for cheap input and in a worker process otherwise (``answer_job``, which
``inkmath.equation.solve.pool``'s workers call); ``inkmath.equation.solve.answer`` decides which. Never imports the
pool.
"""

from __future__ import annotations

import time
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.errors import InkmathError
from inkmath.equation.solve.extras import with_extras
from inkmath.equation.solve.lexemes import reads_degree_sign, written_mixed_numbers, written_percents
from inkmath.equation.solve.calculus import absolute_logs, check_no_infinity, doit_real, doit_relation
from inkmath.equation.solve.domain import (BIG_OPERATORS, has_odd_root, is_nonreal, nonreal_roots, numeric_roots,
                                           real_solution, split_real, within,
                                           written_domain, written_relation, zero_denominator)
from inkmath.equation.solve.limits import (EXACT_DEGREE_LIMIT, LONG_NUMBER_NOTE, CannotSolve,
                                           check_degree, long_notes, too_high_to_expand)
from inkmath.equation.solve.text import (DEGREE_NOTE, answer_entry, latex_of, mixed_number_note, offer_complex,
                                         percent_note, period_counter, real_first, set_text, text_and_latex, text_of,
                                         tidy_logs)
from inkmath.equation.solve.tosympy import PLUS_MINUS, expand_plus_minus, to_sympy_lines
from inkmath.equation.solve.tosympy_values import undefined_reason
from inkmath.equation.core.tree import Node

_PREFERRED = ("x", "y", "z", "t")  # the unknown a student expects, in order; otherwise alphabetical


def solve_items(items: list[sp.Basic], tree: Node | None = None) -> dict[str, Any]:
    """The answer for the items of `tree` (the tree, when given, tells which letters were written: in 0x = 5
    the x is gone from the items, as SymPy evaluates 0x to 0)."""
    try:
        result = _answer_items(items, tree)
    except (CannotSolve, InkmathError) as exc:
        return make_result("none", reason=str(exc), text=f"cannot solve: {exc}")
    # The solver boundary: SymPy signals unsupported input with NotImplementedError, ValueError, TypeError,
    # PolynomialError, RecursionError, ... Any of them means "SymPy cannot do this", which the user must read
    # rather than a crashed web request.
    except Exception as exc:  # noqa: BLE001
        return make_result("none", reason=f"SymPy could not handle this ({type(exc).__name__}: {exc})",
                       text="cannot solve: SymPy could not handle this expression")
    if tree is not None:
        added = [percent_note(p.number, p.added) for p in written_percents(tree) if p.added is not None]
        added += [mixed_number_note(*m) for m in written_mixed_numbers(tree)]
        if reads_degree_sign(tree):
            added.append(DEGREE_NOTE)
        result["notes"] = list(dict.fromkeys([*result["notes"], *added]))
    return result


def answer_job(tree: Node, timeout: float, extras: dict[str, bool]) -> dict[str, Any]:
    """A worker's answer to one job: the tree (not SymPy objects: unpickling would evaluate Eq(2, 2) to True),
    solved, with steps and graph when asked, all within `timeout` seconds from now (see `with_extras`)."""
    deadline = time.monotonic() + timeout
    try:
        items = to_sympy_lines(tree)
    except InkmathError as exc:
        return make_result("none", reason=str(exc), text=f"cannot evaluate: {exc}")
    return with_extras(solve_items(items, tree), tree, items, extras, deadline)


# ---------------------------------------------------------------- deciding what to do


def make_result(kind: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "input_latex": "", "text": "", "latex": "", "variables": [],
                           "solutions": [], "complex_solutions": [], "value": None, "values": [], "notes": [],
                           "reason": "", "holds": None}
    out.update(fields)
    # (`complex_solutions` are filled later, by `offer_complex`, which notes their long numbers itself)
    entries = [e for sol in out["solutions"] for e in sol.values()] + list(out["values"])
    if any(entry.pop("_long", False) for entry in entries):
        out["notes"] = [*out["notes"], LONG_NUMBER_NOTE]
    return out


def _unknowns(exprs: list[sp.Basic]) -> list[sp.Symbol]:
    symbols: set[sp.Symbol] = set()
    for expr in exprs:
        symbols |= {s for s in expr.free_symbols if s != PLUS_MINUS}
    def key(s: sp.Symbol) -> tuple[int, str]:
        return (_PREFERRED.index(s.name) if s.name in _PREFERRED else len(_PREFERRED), s.name)
    return sorted(symbols, key=key)


def _answer_items(items: list[sp.Basic], tree: Node | None = None) -> dict[str, Any]:
    items = [doit_relation(item) for item in items]
    for item in items:
        check_no_infinity(item)
    if len(items) > 1:
        return _solve_system(items, to_sympy_lines(tree, raw=True) if tree is not None else None)
    item = items[0]
    raw = written_relation(tree) if isinstance(item, Relational) else None
    if isinstance(item, sp.Eq):
        return _solve_equation(item, raw)
    if isinstance(item, Relational):
        return _solve_inequality(item, raw)
    return _evaluate(item)


# ---------------------------------------------------------------- equations


def _solve_equation(eq: sp.Eq, raw: Relational | None = None) -> dict[str, Any]:
    variants = expand_plus_minus(eq)
    unknowns = _unknowns(variants)
    notes: list[str] = []
    if not unknowns:
        written = _unknowns([raw]) if raw is not None else []
        if len(written) != 1:
            return _check_statement(variants)
        var = written[0]  # 0x = 5, x/x = 1: the unknown cancelled; the equation holds for every x or for none
        holds = all(sp.simplify(v.lhs - v.rhs) == 0 for v in variants)
        solution_set = within(sp.S.Reals if holds else sp.S.EmptySet, written_domain(raw, var), notes)
        return _equation_result(var, solution_set, notes)
    var, others = unknowns[0], unknowns[1:]
    if others:
        names = ", ".join(text_of(s) for s in others)
        notes.append(f"solved for {text_of(var)}; {names} treated as given")
    sets = [_solve_one(v.lhs - v.rhs, var, bool(others), notes) for v in variants]
    solution_set = sets[0] if len(sets) == 1 else sp.Union(*sets)
    if not others:
        solution_set = within(solution_set, written_domain(raw, var), notes)
    solution_set, nonreal = split_real(solution_set)  # a polynomial's roots: all of them, real or not
    all_known = True  # every non-real solution is in `nonreal`
    for v in variants:
        f = _expand_binomials(v.lhs - v.rhs)
        if not sp.together(f).is_polynomial(var):
            found = nonreal_roots(f, var)  # solveset gave a rational equation's real roots; the others come here
            all_known = all_known and found is not None
            nonreal += found or []
    nonreal = real_first(list(dict.fromkeys(nonreal)))
    return _equation_result(var, solution_set, notes, [{var: v} for v in nonreal], all_known)


def _equation_result(var: sp.Symbol, solution_set: sp.Set, notes: list[str],
                     nonreal: list[dict[sp.Symbol, sp.Basic]] | None = None, all_known: bool = True) -> dict[str, Any]:
    """The answer of an equation solved for `var`: its real solution set written out, the non-real solutions
    offered in a note, with the notes made on the way. `all_known`: the solver found every non-real solution, so
    that an equation with neither kind has "no solution" (else "no real solution")."""
    result = _format_set(var, solution_set, notes)
    if solution_set == sp.S.EmptySet and (nonreal or not all_known):
        result.update(text="no real solution", latex=r"\text{no real solution}")
    offer_complex(result, nonreal or [], notes)
    result.update(kind="equation", variables=[var.name], notes=list(dict.fromkeys(notes + result["notes"])))
    return result


def _expand_binomials(f: sp.Basic) -> sp.Basic:
    """\\binom{x}{2} as the polynomial x(x - 1)/2 (a binomial with a whole number below)."""
    return f.replace(lambda e: isinstance(e, sp.binomial) and e.args[1].is_Integer, sp.expand_func)


def _check_statement(variants: list[sp.Eq]) -> dict[str, Any]:
    holds = all(sp.simplify(v.lhs - v.rhs) == 0 for v in variants)
    sides = (variants[0].lhs, variants[0].rhs)
    (left, left_tex), (right, right_tex) = (text_and_latex(sp.simplify(side)) for side in sides)
    text = f"true: both sides equal {left}" if holds else f"false: the left side is {left}, the right side {right}"
    latex = r"\text{true}" if holds else left_tex + r" \neq " + right_tex
    return make_result("equation", text=text, latex=latex, holds=holds, notes=long_notes(variants))


def _check_inequality(rel: Relational) -> dict[str, Any]:
    """An inequality between numbers (3 > 2, π > 3): true or false."""
    left, right = sp.simplify(rel.lhs), sp.simplify(rel.rhs)
    holds = type(rel)(left, right)
    if holds not in (sp.true, sp.false):
        raise CannotSolve("SymPy cannot decide whether this inequality between numbers holds")
    (left_text, _), (right_text, _) = text_and_latex(left), text_and_latex(right)
    word = "true" if holds == sp.true else "false"
    return make_result("inequality", text=f"{word}: the left side is {left_text}, the right side {right_text}",
                   latex=rf"\text{{{word}}}", holds=bool(holds == sp.true), notes=long_notes([rel]))


def _solve_one(f: sp.Basic, var: sp.Symbol, parametric: bool, notes: list[str]) -> sp.Set:
    f = written = _expand_binomials(f)  # \binom{x}{2} = 10: a polynomial, x(x - 1)/2 = 10
    f = sp.together(f)
    numerator = sp.fraction(f)[0]
    check_degree(numerator, [var])
    if f.is_polynomial(var):
        degree = sp.Poly(f, var).degree() if f != 0 else 0
        if degree <= 0:
            return sp.S.Reals if sp.simplify(f) == 0 else sp.S.EmptySet
        if parametric:  # solveset would answer with conditions on the other letters; solve() gives the formula
            return sp.FiniteSet(*sp.solve(f, var))
        # All roots, complex ones too (sorted real-first on output). Exact where SymPy finds a short form; the
        # cubic/quartic formulas and CRootOf objects are unreadable (and CRootOf takes seconds to evaluate), so
        # otherwise every root is a 15-digit numeric approximation.
        poly = sp.Poly(f, var)
        exact = sp.roots(poly, cubics=False, quartics=False)
        if sum(exact.values()) == degree:
            return sp.FiniteSet(*exact)
        notes.append("no short exact form for every root; the roots are numeric approximations")
        return sp.FiniteSet(*poly.nroots(n=15))
    if parametric:
        # With other letters around, solveset over the reals answers with conditions on them; solve() gives the
        # formula a student expects (and may list principal values only for periodic functions).
        if f.atoms(sp.functions.elementary.trigonometric.TrigonometricFunction):
            notes.append("periodic solutions are given by their principal values only")
        return sp.FiniteSet(*sp.solve(f, var))
    solution_set = sp.solveset(f, var, sp.S.Reals)
    if isinstance(solution_set, sp.ConditionSet):  # no closed form (cos x = x): look for roots numerically
        roots = numeric_roots(f, var)
        if not roots:
            raise CannotSolve(f"SymPy cannot solve this equation for {text_of(var)}, exactly or numerically")
        notes.append("no exact form: numeric solutions found from a few starting points; there may be others")
        return sp.FiniteSet(*roots)
    if (isinstance(solution_set, sp.FiniteSet) or solution_set == sp.S.EmptySet) and has_odd_root(written, var):
        # solveset misses real roots of some odd roots of powers ((x^2)^{1/3} = 4 gives no solution, not ±8);
        # solve() finds them by removing the radicals, and every candidate is checked below
        extra = [r for r in sp.solve(written, var) if r.is_number and r.is_real and r not in solution_set]
        solution_set = sp.FiniteSet(*solution_set.args, *extra)
    if isinstance(solution_set, sp.FiniteSet):
        # solveset over the reals may combine logarithms or square both sides of a root without checking the
        # domain (ln(x-1) + ln(x+1) = ln 3 gives x = -2 too; asin(x) = 3 gives sin 3): check every root in the
        # equation as written.
        kept = [root for root in solution_set.args if real_solution(written, var, root)]
        if len(kept) < len(solution_set.args):
            notes.append("values outside the domain (a logarithm of a number <= 0, an even root of a negative "
                         "number, ...) or that do not satisfy the equation as written are left out")
        return sp.FiniteSet(*kept)
    return solution_set


def _format_set(var: sp.Symbol, s: sp.Set, notes: list[str]) -> dict[str, Any]:
    name, vtex, shown = var.name, latex_of(var), text_of(var)
    if isinstance(s, sp.ConditionSet):
        raise CannotSolve(f"SymPy cannot solve this equation for {shown} in closed form")
    if s == sp.S.EmptySet:
        return make_result("equation", text="no solution", latex=r"\text{no solution}")
    if s == sp.S.Reals or s == sp.S.Complexes:
        return make_result("equation", text=f"every value of {shown} is a solution (an identity)",
                       latex=vtex + r" \in \mathbb{R}")
    parts = list(s.args) if isinstance(s, sp.Union) else [s]
    finite: list[sp.Basic] = []
    families: list[sp.Basic] = []
    excluded: list[sp.Basic] = []  # members of a family that are no solution (sin x / x = 0: x = kπ but not 0)
    k = period_counter(var)
    for part in parts:
        if isinstance(part, sp.Complement) and isinstance(part.args[1], sp.FiniteSet) and \
                all(isinstance(p, sp.ImageSet) for p in sp.Union.make_args(part.args[0])):
            excluded.extend(part.args[1].args)
            parts.extend(sp.Union.make_args(part.args[0]))
            continue
        if isinstance(part, sp.FiniteSet):
            finite.extend(part.args)
        elif isinstance(part, sp.ImageSet) and part.base_sets == (sp.S.Integers,) and len(part.lamda.variables) == 1:
            families.append(part.lamda.expr.xreplace({part.lamda.variables[0]: k}))
        else:  # intervals, complements, intersections: give the set itself
            return make_result("equation", text=f"{shown} ∈ {set_text(s)}", latex=f"{vtex} \\in {latex_of(s)}")
    finite = real_first(list(dict.fromkeys(tidy_logs(e) for e in finite)))
    families.sort(key=lambda e: float(e.xreplace({k: 0})) if e.xreplace({k: 0}).is_number else 0.0)
    solutions = [{name: answer_entry(e)} for e in finite] + [{name: answer_entry(e, general=True)} for e in families]
    texts = [f"{shown} = {sol[name]['text']}" for sol in solutions]
    latexes = [f"{vtex} = {sol[name]['latex']}" for sol in solutions]
    text = " or ".join(texts)
    latex = r" \quad\text{or}\quad ".join(latexes)
    if families:
        text += f", {k.name} any integer"
        latex += rf", \quad {k.name} \in \mathbb{{Z}}"
    excluded = [e for e in dict.fromkeys(excluded) if e not in finite]
    if excluded:
        text += ", except " + " and ".join(f"{shown} = {text_of(e)}" for e in excluded)
        latex += r", \quad " + ", ".join(f"{vtex} \\neq {latex_of(e)}" for e in excluded)
        verb = "is" if len(excluded) == 1 else "are"
        notes.append(f"{shown} = {', '.join(text_of(e) for e in excluded)} {verb} in the families above but no "
                     "solution (the equation is undefined or false there)")
    return make_result("equation", text=text, latex=latex, solutions=solutions)


def _solve_inequality(rel: Relational, raw: Relational | None = None) -> dict[str, Any]:
    unknowns = _unknowns([rel]) or (_unknowns([raw]) if raw is not None else [])  # x/x > 0 reads 1 > 0
    if not unknowns and not rel.has(PLUS_MINUS):
        return _check_inequality(rel)
    if len(unknowns) != 1:
        raise CannotSolve("only inequalities in exactly one unknown can be solved")
    if rel.has(PLUS_MINUS):
        raise CannotSolve("an inequality with ± cannot be solved; write the two cases separately")
    var = unknowns[0]
    check_degree(sp.fraction(sp.together(rel.lhs - rel.rhs))[0], [var])
    s = sp.solveset(rel, var, sp.S.Reals)
    s = within(s, written_domain(raw, var), [])
    if isinstance(s, sp.ConditionSet):
        raise CannotSolve(f"SymPy cannot solve this inequality for {text_of(var)}")
    if s == sp.S.EmptySet:
        return make_result("inequality", text="no solution", latex=r"\text{no solution}", variables=[var.name])
    text, latex = f"{text_of(var)} ∈ {set_text(s)}", f"{latex_of(var)} \\in {latex_of(s)}"
    return make_result("inequality", text=text, latex=latex, variables=[var.name])


# ---------------------------------------------------------------- systems


def _solve_system(items: list[sp.Basic], raw: list[sp.Basic] | None = None) -> dict[str, Any]:
    for number, item in enumerate(items, 1):
        if not isinstance(item, sp.Eq):
            raise CannotSolve(f"a system needs an equation with '=' on every line; line {number} has none")
        if item.has(PLUS_MINUS):
            raise CannotSolve("± inside a system cannot be solved; write the two cases separately")
    unknowns = _unknowns(items)
    if not unknowns:
        return _check_statement(items)
    chosen = unknowns[: len(items)] if len(unknowns) > len(items) else unknowns
    notes = []
    if len(chosen) < len(unknowns):
        notes.append(f"solved for {', '.join(text_of(s) for s in chosen)}; "
                     f"{', '.join(text_of(s) for s in unknowns[len(chosen):])} treated as given")
    for eq in items:
        check_degree(sp.fraction(sp.together(eq.lhs - eq.rhs))[0], chosen)
    found = sp.solve([eq.lhs - eq.rhs for eq in items], chosen, dict=True)
    if raw is not None and len(raw) == len(items) and not any(r.has(*BIG_OPERATORS) for r in raw):
        kept = [sol for sol in found if not zero_denominator(raw, sol)]
        if len(kept) < len(found):
            notes.append("values where an equation as written is undefined (a zero denominator) are left out")
        found = kept
    names = [s.name for s in chosen]
    if not found:
        return make_result("system", text="the system has no solution", latex=r"\text{no solution}",
                       variables=names, notes=notes)
    nonreal = [sol for sol in found if any(is_nonreal(value) for value in sol.values())]
    found = [sol for sol in found if not any(is_nonreal(value) for value in sol.values())]
    if not found:
        result = make_result("system", text="the system has no real solution", latex=r"\text{no real solution}",
                         variables=names)
        offer_complex(result, nonreal, notes)
        return {**result, "notes": list(dict.fromkeys(notes))}
    solutions, texts, latexes = [], [], []
    for sol in found:
        entries = {s.name: answer_entry(sol[s]) for s in chosen if s in sol}
        free = [text_of(s) for s in chosen if s not in sol]
        if free:
            notes.append(f"infinitely many solutions: {', '.join(free)} can be any value")
        solutions.append(entries)
        texts.append(", ".join(f"{text_of(sp.Symbol(n))} = {e['text']}" for n, e in entries.items()))
        latexes.append(r",\; ".join(f"{latex_of(sp.Symbol(n))} = {e['latex']}" for n, e in entries.items()))
    result = make_result("system", text=" or ".join(texts), latex=r" \quad\text{or}\quad ".join(latexes),
                     variables=names, solutions=solutions)
    offer_complex(result, nonreal, notes)
    return {**result, "notes": list(dict.fromkeys(notes))}


# ---------------------------------------------------------------- expressions


def _simplified(expr: sp.Basic) -> sp.Basic:
    """SymPy's simplify, keeping a factorial written by the student as a factorial (simplify turns (2n)! into
    Γ(2n + 1), which a student has not met)."""
    value = sp.simplify(expr)
    if expr.has(sp.factorial) and not expr.has(sp.gamma):
        value = value.replace(sp.gamma, lambda arg: sp.factorial(arg - 1))
    return value


def _evaluate(expr: sp.Basic) -> dict[str, Any]:
    notes = []
    indefinite = any(len(i.limits[0]) == 1 for i in expr.atoms(sp.Integral))
    values = []
    for variant in expand_plus_minus(expr):
        done = doit_real(variant)  # evaluates Sum, Integral, Limit, Derivative
        if done.has(sp.Integral, sp.Sum, sp.Product, sp.Limit):
            notes.append("SymPy could not evaluate a sum, product, integral or limit in closed form")
        if too_high_to_expand(done):
            notes.append(f"a power of degree above {EXACT_DEGREE_LIMIT} is left as written, not expanded")
            values.append(done)
        else:
            values.append(absolute_logs(variant, _simplified(done)))
    for value in values:
        reason = undefined_reason(value)
        if reason is not None and expr.has(sp.Limit) and value.has(sp.zoo, sp.AccumBounds):
            reason = "the limit does not exist (it differs from the two sides, or the function oscillates)"
        if reason is not None:
            raise CannotSolve(reason)
    entries = [answer_entry(v) for v in values]
    if indefinite:
        notes.append("indefinite integral: add any constant C")
        for e in entries:
            e["text"] += " + C"
            e["latex"] += " + C"
    pieces = [e["text"] + (f" ≈ {e['decimal']}" if e["decimal"] and e["decimal"] != e["text"] else "")
              for e in entries]
    text = " or ".join(pieces)
    latex = r" \quad\text{or}\quad ".join(e["latex"] for e in entries)
    return make_result("expression", text=text, latex=latex, values=entries,
                   value=entries[0] if len(entries) == 1 else None, notes=notes,
                   variables=[s.name for s in _unknowns(values)])
