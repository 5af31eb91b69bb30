"""Answer a recognised expression tree: solve its equation(s), or simplify and evaluate its expression.

`answer(node)` returns a JSON-serialisable dict (see `answer`). The tree becomes SymPy objects through
`inkmath.equation.tosympy` (no text is ever evaluated); this module decides what to do with them.

Time limit: SymPy can run for hours on innocent-looking input (`x^{99999}+x=1`, a huge sum), so anything but cheap
input runs in a persistent worker process that the caller kills after `timeout` seconds (default `SOLVE_TIMEOUT` =
5 s); the next call starts a fresh one (`inkmath.equation.solver_pool`: `start_workers()`, `launch_workers()`,
`stop_workers()`, re-exported here). A job that times out comes back as kind "none" with a message that says so.

Fast path: cheap input (`solve_fast.is_cheap`: arithmetic, a linear or quadratic equation in one unknown, a small
linear system) is answered in the caller's process in 0.1-3 ms, as a worker round trip would only add latency. Cheap
checks refuse obviously hopeless work before SymPy starts: numbers over ~30,000 digits (in tosympy) and
polynomials of degree above `MAX_DEGREE` (read off the written form: `x^{10^{10}} = 1` is refused at once).

Real answers, as a student means them: the non-real solutions it finds (all those of a polynomial or rational
equation in one unknown, and of a system) are offered in a note and `complex_solutions`, not given as solutions.
Without a real one the answer is "no real solution"; "no solution" when there is none in the complex numbers either
(x + 1 = x; 1/(x^2 + 1) = 0). Other equations' non-real solutions are not looked for (e^x = -1: "no real solution").
With letters treated as given the answer is a formula, whichever numbers it gives.

The stages it calls on live in their own modules: which input is cheap in `inkmath.equation.solve_fast`, the size
guards in `inkmath.equation.solve_limits`, the check of roots against where the equation as written is defined in
`inkmath.equation.solve_domain`, the evaluation of sums, integrals, limits and derivatives (and ∞ kept to their
bounds) in `inkmath.equation.solve_calculus`, and the text, LaTeX and decimals of an answer in
`inkmath.equation.solve_text`.
"""

from __future__ import annotations

import time
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath import InkmathError
from inkmath.equation.answer_extras import fill_extras, with_extras
from inkmath.equation.definitions import function_definition, worded_as_definition
from inkmath.equation.latex import to_latex
from inkmath.equation.lexemes import reads_degree_sign, written_mixed_numbers, written_percents
from inkmath.equation.solve_calculus import absolute_logs, check_no_infinity, doit_real, doit_relation
from inkmath.equation.solve_domain import (BIG_OPERATORS, has_odd_root, is_nonreal, nonreal_roots, numeric_roots,
                                           real_solution, split_real, within,
                                           written_domain, written_relation, zero_denominator)
from inkmath.equation.solve_fast import is_cheap
from inkmath.equation.solve_limits import (EXACT_DEGREE_LIMIT, LONG_NUMBER_NOTE, MAX_DEGREE, CannotSolve,
                                           check_degree, long_notes, too_high_to_expand)
from inkmath.equation.solve_limits import MAX_SHOWN_DIGITS, degree_bound, too_long  # noqa: F401 (re-exported)
from inkmath.equation.solve_text import (DEGREE_NOTE, answer_entry, latex_of, mixed_number_note, offer_complex,
                                         percent_note, period_counter, real_first, set_text, text_and_latex, text_of,
                                         tidy_logs)
from inkmath.equation.solver_pool import (SOLVE_TIMEOUT, SOLVE_WORKERS, WorkerError, launch_workers, run_in_worker,
                                          start_workers, stop_workers, worker_pids)
from inkmath.equation.tosympy import PLUS_MINUS, expand_plus_minus, to_sympy, to_sympy_lines
from inkmath.equation.tosympy_values import undefined_reason
from inkmath.equation.tree import Node

__all__ = ["SOLVE_TIMEOUT", "SOLVE_WORKERS", "MAX_DEGREE", "PLUS_MINUS", "answer", "answer_job", "expand_plus_minus",
           "launch_workers", "start_workers", "stop_workers", "to_sympy", "to_sympy_lines", "worker_pids"]

_PREFERRED = ("x", "y", "z", "t")  # the unknown a student expects, in order; otherwise alphabetical


def answer(node: Node, timeout: float | None = SOLVE_TIMEOUT, *, steps: bool = False,
           plot: bool = False) -> dict[str, Any]:
    """Solve or evaluate a tree. Never raises for bad input: problems come back as kind "none" with a reason.

    Fields (always present): `kind` ("equation" | "inequality" | "system" | "expression" | "function" | "none";
    "function": a line written `f(x) = body`, answered as its body simplified, see `function_definition`),
    `input_latex`, `text` (one line for people), `latex` (LaTeX of the answer), `variables` (names solved for),
    `solutions` (list of {name: {"text", "latex", "decimal", "general"}}, one dict per real solution; `general` marks
    a family such as 2kπ + π/6 with k any integer), `complex_solutions` (the non-real ones the solver found, in the
    same form, also named in a note; see "Real answers" above), `value` / `values` (expressions: {"text", "latex",
    "decimal"}),
    `notes` (list of remarks, e.g. which unknown was chosen), `reason` (why nothing could be done, kind "none"),
    `holds` (an equation or inequality between numbers: whether it is true), `elapsed_s`.
    Each solution and value also carries `sympy` (SymPy's `srepr` of it, for checking).
    `steps=True` adds `steps` (a worked solution: [{"latex", "reason", "sympy", "mathml"}], empty when there is
    none), `steps_reason` (why there are no steps, else "") and, with steps, `steps_kind` ("linear", "quadratic",
    "inequality", "quadratic_inequality", "polynomial", "system", "nonlinear_system", "arithmetic", "simplify",
    "trig", "exponential", "logarithmic", "rational", "radical", "absolute", "absolute_inequality",
    "rational_inequality", "derivative", "integral"); `plot=True` adds `plot` (SVG text or None) and
    `plot_reason`; see `inkmath.equation.steps` and `inkmath.equation.plot`. They share the answer's time limit.
    `timeout=None` runs in-process without a time limit (for callers that bound time themselves). Otherwise
    cheap input (see `inkmath.equation.solve_fast.is_cheap`) is answered in-process and the rest by a worker
    process killed at `timeout`; a plot is always drawn in the worker (matplotlib is not thread-safe, and the
    caller may be a web server).
    Thread-safe: the web server calls this from several threads at once.
    """
    start = time.perf_counter()
    input_latex = ""
    definition = function_definition(node)
    try:
        input_latex = to_latex(node)
        if definition is not None:
            node = definition[2]  # f(x) = body: the body is what is worked on
        items = to_sympy_lines(node)
    except InkmathError as exc:
        result = _result("none", reason=str(exc), text=f"cannot evaluate: {exc}")
    else:
        extras = {"steps": steps, "plot": plot}
        if timeout is None or (FAST_PATH and not plot and is_cheap(items)):
            result = with_extras(_solve_safely(items, node), node, items, extras)
        else:
            result = _run_in_worker(node, timeout, extras)
    fill_extras(result, steps, plot)
    if definition is not None:
        worded_as_definition(result, *definition[:2])
    result["input_latex"] = input_latex
    result["elapsed_s"] = round(time.perf_counter() - start, 4)
    return result


# ---------------------------------------------------------------- the fast path

FAST_PATH = True  # answer cheap input in-process; False sends every call to a worker (benchmarks compare both)


# ---------------------------------------------------------------- running with a time limit


def _solve_safely(items: list[sp.Basic], tree: Node | None = None) -> dict[str, Any]:
    """The answer for the items of `tree` (the tree, when given, tells which letters were written: in 0x = 5
    the x is gone from the items, as SymPy evaluates 0x to 0)."""
    try:
        result = _answer_items(items, tree)
    except (CannotSolve, InkmathError) as exc:
        return _result("none", reason=str(exc), text=f"cannot solve: {exc}")
    # The solver boundary: SymPy signals unsupported input with NotImplementedError, ValueError, TypeError,
    # PolynomialError, RecursionError, ... Any of them means "SymPy cannot do this", which the user must read
    # rather than a crashed web request.
    except Exception as exc:  # noqa: BLE001
        return _result("none", reason=f"SymPy could not handle this ({type(exc).__name__}: {exc})",
                       text="cannot solve: SymPy could not handle this expression")
    if tree is not None:
        added = [percent_note(p.number, p.added) for p in written_percents(tree) if p.added is not None]
        added += [mixed_number_note(*m) for m in written_mixed_numbers(tree)]
        if reads_degree_sign(tree):
            added.append(DEGREE_NOTE)
        result["notes"] = list(dict.fromkeys([*result["notes"], *added]))
    return result


def _run_in_worker(tree: Node, timeout: float, extras: dict[str, bool]) -> dict[str, Any]:
    try:
        return run_in_worker(tree, timeout, extras)
    except WorkerError as exc:
        return _result("none", reason=str(exc), text=f"cannot solve: {exc}")


def answer_job(tree: Node, timeout: float, extras: dict[str, bool]) -> dict[str, Any]:
    """A worker's answer to one job: the tree (not SymPy objects: unpickling would evaluate Eq(2, 2) to True),
    solved, with steps and graph when asked, all within `timeout` seconds from now (see `with_extras`)."""
    deadline = time.monotonic() + timeout
    try:
        items = to_sympy_lines(tree)
    except InkmathError as exc:
        return _result("none", reason=str(exc), text=f"cannot evaluate: {exc}")
    return with_extras(_solve_safely(items, tree), tree, items, extras, deadline)


# ---------------------------------------------------------------- deciding what to do


def _result(kind: str, **fields: Any) -> dict[str, Any]:
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
    return _result("equation", text=text, latex=latex, holds=holds, notes=long_notes(variants))


def _check_inequality(rel: Relational) -> dict[str, Any]:
    """An inequality between numbers (3 > 2, π > 3): true or false."""
    left, right = sp.simplify(rel.lhs), sp.simplify(rel.rhs)
    holds = type(rel)(left, right)
    if holds not in (sp.true, sp.false):
        raise CannotSolve("SymPy cannot decide whether this inequality between numbers holds")
    (left_text, _), (right_text, _) = text_and_latex(left), text_and_latex(right)
    word = "true" if holds == sp.true else "false"
    return _result("inequality", text=f"{word}: the left side is {left_text}, the right side {right_text}",
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
        return _result("equation", text="no solution", latex=r"\text{no solution}")
    if s == sp.S.Reals or s == sp.S.Complexes:
        return _result("equation", text=f"every value of {shown} is a solution (an identity)",
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
            return _result("equation", text=f"{shown} ∈ {set_text(s)}", latex=f"{vtex} \\in {latex_of(s)}")
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
    return _result("equation", text=text, latex=latex, solutions=solutions)


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
        return _result("inequality", text="no solution", latex=r"\text{no solution}", variables=[var.name])
    text, latex = f"{text_of(var)} ∈ {set_text(s)}", f"{latex_of(var)} \\in {latex_of(s)}"
    return _result("inequality", text=text, latex=latex, variables=[var.name])


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
        return _result("system", text="the system has no solution", latex=r"\text{no solution}",
                       variables=names, notes=notes)
    nonreal = [sol for sol in found if any(is_nonreal(value) for value in sol.values())]
    found = [sol for sol in found if not any(is_nonreal(value) for value in sol.values())]
    if not found:
        result = _result("system", text="the system has no real solution", latex=r"\text{no real solution}",
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
    result = _result("system", text=" or ".join(texts), latex=r" \quad\text{or}\quad ".join(latexes),
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
    return _result("expression", text=text, latex=latex, values=entries,
                   value=entries[0] if len(entries) == 1 else None, notes=notes,
                   variables=[s.name for s in _unknowns(values)])
