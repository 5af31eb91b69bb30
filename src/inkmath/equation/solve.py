"""Answer a recognised expression tree: solve its equation(s), or simplify and evaluate its expression.

`answer(node)` returns a JSON-serialisable dict (see `answer`). The tree becomes SymPy objects through
`inkmath.equation.tosympy` (no text is ever evaluated); this module decides what to do with them.

Time limit: SymPy can run for hours on innocent-looking input (`x^{99999}+x=1`, a huge sum), so anything but cheap
input runs in a persistent worker process that the caller kills after `timeout` seconds (default `SOLVE_TIMEOUT` =
5 s); the next call starts a fresh one (`inkmath.equation.solver_pool`: `start_workers()`, `launch_workers()`,
`stop_workers()`, re-exported here). A job that times out comes back as kind "none" with a message that says so.

Fast path: cheap input (`_is_cheap`: arithmetic, a linear or quadratic equation in one unknown, a small linear
system) is answered in the caller's process in 0.1-3 ms, as a worker round trip would only add latency. Cheap
checks refuse obviously hopeless work before SymPy starts: numbers over ~30,000 digits (in tosympy) and
polynomials of degree above `MAX_DEGREE` (read off the written form: `x^{10^{10}} = 1` is refused at once).
"""

from __future__ import annotations

import math
import time
from typing import Any

import sympy as sp
from sympy.core.relational import Relational
from sympy.printing.str import StrPrinter

from inkmath import InkmathError
from inkmath.equation.answer_extras import fill_extras, with_extras
from inkmath.equation.latex import to_latex
from inkmath.equation.solver_pool import (SOLVE_TIMEOUT, SOLVE_WORKERS, WorkerError, launch_workers, run_in_worker,
                                          start_workers, stop_workers, worker_pids)
from inkmath.equation.tosympy import (PLUS_MINUS, expand_plus_minus, rebuilt, to_sympy, to_sympy_lines,
                                      undefined_reason)
from inkmath.equation.tree import Node

__all__ = ["SOLVE_TIMEOUT", "SOLVE_WORKERS", "MAX_DEGREE", "PLUS_MINUS", "answer", "answer_job", "expand_plus_minus",
           "launch_workers", "start_workers", "stop_workers", "to_sympy", "to_sympy_lines", "worker_pids"]

MAX_DEGREE = 40  # polynomials above this degree are not solved exactly (roots of x^99999 would never finish)
# The degree read off the written form is only a bound when terms may cancel ((x+1)^50 - x^50 has degree 49);
# up to this bound the exact degree is computed (SymPy's Poly of (x+1)^200 takes 0.05 s here, of (x+1)^1000 1 s,
# and of x^{10^{10}} would fill the memory: it stores every coefficient).
EXACT_DEGREE_LIMIT = 200
_PREFERRED = ("x", "y", "z", "t")  # the unknown a student expects, in order; otherwise alphabetical


class _CannotSolve(Exception):
    """Raised inside the solver for a reason the user should read (becomes kind "none")."""


class _Printer(StrPrinter):
    """Plain text for people: i, π, e, ∞, ln, arcsin, e^x, |x| and n! as in the LaTeX (and ^ for powers, in
    `_text`)."""

    def _print_ImaginaryUnit(self, expr: sp.Basic) -> str:
        return "i"

    def _print_Pi(self, expr: sp.Basic) -> str:
        return "π"

    def _print_Exp1(self, expr: sp.Basic) -> str:
        return "e"

    def _print_Infinity(self, expr: sp.Basic) -> str:
        return "∞"

    def _print_NegativeInfinity(self, expr: sp.Basic) -> str:
        return "-∞"

    def _print_log(self, expr: sp.Basic) -> str:
        return f"ln({self.stringify(expr.args, ', ')})"  # log(5) would read as base 10, as \log x is read

    def _print_Symbol(self, expr: sp.Basic) -> str:
        return _GREEK.get(expr.name, expr.name)

    def _print_Abs(self, expr: sp.Basic) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_exp(self, expr: sp.Basic) -> str:
        arg = expr.args[0]
        return f"e^{self._print(arg)}" if arg.is_Atom else f"e^({self._print(arg)})"

    def _print_factorial(self, expr: sp.Basic) -> str:
        arg = expr.args[0]
        inner = self._print(arg)
        return f"{inner}!" if arg.is_Atom else f"({inner})!"

    def _print_Function(self, expr: sp.Basic) -> str:
        name = _SCHOOL_NAMES.get(expr.func.__name__)
        return f"{name}({self.stringify(expr.args, ', ')})" if name else super()._print_Function(expr)


_GREEK = dict(zip(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron rho sigma tau upsilon phi chi "
    "psi omega Gamma Delta Theta Lambda Xi Sigma Phi Psi Omega varepsilon vartheta varphi".split(),
    "αβγδεζηθικλμνξορστυφχψωΓΔΘΛΞΣΦΨΩεϑφ"))  # the text writes \theta as θ, as the LaTeX shows it
_SCHOOL_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "acot": "arccot"}  # as in the LaTeX


def _latex(expr: sp.Basic) -> str:
    return sp.latex(expr, inv_trig_style="full", ln_notation=True)  # \arcsin and \ln, as in school


def _text(expr: sp.Basic) -> str:
    return _Printer().doprint(expr).replace("**", "^")


def answer(node: Node, timeout: float | None = SOLVE_TIMEOUT, *, steps: bool = False,
           plot: bool = False) -> dict[str, Any]:
    """Solve or evaluate a tree. Never raises for bad input: problems come back as kind "none" with a reason.

    Fields (always present): `kind` ("equation" | "inequality" | "system" | "expression" | "none"),
    `input_latex`, `text` (one line for people), `latex` (LaTeX of the answer), `variables` (names solved for),
    `solutions` (list of {name: {"text", "latex", "decimal", "general"}}, one dict per solution; `general` marks a
    family such as 2kπ + π/6 with k any integer), `value` / `values` (expressions: {"text", "latex", "decimal"}),
    `notes` (list of remarks, e.g. which unknown was chosen), `reason` (why nothing could be done, kind "none"),
    `holds` (an equation or inequality between numbers: whether it is true), `elapsed_s`.
    Each solution and value also carries `sympy` (SymPy's `srepr` of it, for checking).
    `steps=True` adds `steps` (a worked solution: [{"latex", "reason", "sympy", "mathml"}], empty when there is
    none), `steps_reason` (why there are no steps, else "") and, with steps, `steps_kind` ("linear", "quadratic",
    "inequality", "system", "arithmetic", "simplify", "trig"); `plot=True` adds `plot` (SVG text or None) and
    `plot_reason`; see `inkmath.equation.steps` and `inkmath.equation.plot`. They share the answer's time limit.
    `timeout=None` runs in-process without a time limit (for callers that bound time themselves). Otherwise
    cheap input (see `_is_cheap`) is answered in-process and the rest by a worker process killed at `timeout`;
    a plot is always drawn in the worker (matplotlib is not thread-safe, and the caller may be a web server).
    Thread-safe: the web server calls this from several threads at once.
    """
    start = time.perf_counter()
    input_latex = ""
    try:
        input_latex = to_latex(node)
        items = to_sympy_lines(node)
    except InkmathError as exc:
        result = _result("none", reason=str(exc), text=f"cannot evaluate: {exc}")
    else:
        extras = {"steps": steps, "plot": plot}
        if timeout is None or (FAST_PATH and not plot and _is_cheap(items)):
            result = with_extras(_solve_safely(items, node), node, items, extras)
        else:
            result = _run_in_worker(node, timeout, extras)
    fill_extras(result, steps, plot)
    result["input_latex"] = input_latex
    result["elapsed_s"] = round(time.perf_counter() - start, 4)
    return result


# ---------------------------------------------------------------- the fast path

FAST_PATH = True  # answer cheap input in-process; False sends every call to a worker (benchmarks compare both)
FAST_MAX_NODES = 60  # size of the SymPy tree, all lines together
FAST_MAX_NUMBER = 10**6  # numerators and denominators; bigger ones make sqrt() of a discriminant factor integers
_FAST_TYPES = (sp.Symbol, sp.Rational, sp.Add, sp.Mul, sp.Pow, sp.Eq)


def _is_cheap(items: list[sp.Basic]) -> bool:
    """True if SymPy answers these items in a few milliseconds, so a worker round trip would only add latency.

    Cheap means: numbers, letters, + - * and small integer powers only (no functions, constants, roots, big
    operators or inequalities), small numbers, and either arithmetic without letters, one polynomial equation of
    degree <= 2 in one unknown, or a linear system of <= 2 equations in at most as many unknowns. Measured on this
    machine, these take 0.1-3 ms; the next cheapest kinds (an inequality, a letter in a denominator, a parameter,
    simplifying an expression with letters) take 70-250 ms in SymPy and would hold the GIL that long, so they go
    to the worker. Nothing here may call code that uses mpmath's global precision (nroots, findroot), because the
    fast path runs in the caller's thread while other threads may be solving too.
    """
    if not 1 <= len(items) <= 2:
        return False
    unknowns: set[sp.Symbol] = set()
    nodes = 0
    for item in items:
        for sub in sp.preorder_traversal(item):
            nodes += 1
            if nodes > FAST_MAX_NODES or not isinstance(sub, _FAST_TYPES):
                return False
            if isinstance(sub, sp.Symbol):
                if sub != PLUS_MINUS:
                    unknowns.add(sub)
            elif isinstance(sub, sp.Rational):
                if abs(sub.p) > FAST_MAX_NUMBER or sub.q > FAST_MAX_NUMBER:
                    return False
            elif isinstance(sub, sp.Pow):
                lettered = bool(sub.base.free_symbols - {PLUS_MINUS})
                if not sub.exp.is_Integer or not (1 <= sub.exp <= 2 if lettered else abs(sub.exp) <= 4):
                    return False  # a negative power of a letter is a denominator: solveset, ~200 ms
    if not unknowns:
        return True  # arithmetic, or an equation between numbers (checked by simplify on numbers)
    if not all(isinstance(item, sp.Eq) for item in items) or len(unknowns) > len(items):
        return False  # an expression to simplify, or a parameter: SymPy's general routines, ~100 ms
    limit = 2 if len(items) == 1 else 1
    gens = sorted(unknowns, key=lambda s: s.name)
    try:
        return all(sp.Poly(item.lhs - item.rhs, *gens).total_degree() <= limit for item in items)
    except sp.PolynomialError:
        return False


# ---------------------------------------------------------------- running with a time limit


def _solve_safely(items: list[sp.Basic], tree: Node | None = None) -> dict[str, Any]:
    """The answer for the items of `tree` (the tree, when given, tells which letters were written: in 0x = 5
    the x is gone from the items, as SymPy evaluates 0x to 0)."""
    try:
        return _answer_items(items, tree)
    except (_CannotSolve, InkmathError) as exc:
        return _result("none", reason=str(exc), text=f"cannot solve: {exc}")
    # The solver boundary: SymPy signals unsupported input with NotImplementedError, ValueError, TypeError,
    # PolynomialError, RecursionError, ... Any of them means "SymPy cannot do this", which the user must read
    # rather than a crashed web request.
    except Exception as exc:  # noqa: BLE001
        return _result("none", reason=f"SymPy could not handle this ({type(exc).__name__}: {exc})",
                       text="cannot solve: SymPy could not handle this expression")


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
                           "solutions": [], "value": None, "values": [], "notes": [], "reason": "", "holds": None}
    out.update(fields)
    entries = [e for sol in out["solutions"] for e in sol.values()] + list(out["values"])
    if any(entry.pop("_long", False) for entry in entries):
        out["notes"] = [*out["notes"], _LONG_NUMBER_NOTE]
    return out


def _unknowns(exprs: list[sp.Basic]) -> list[sp.Symbol]:
    symbols: set[sp.Symbol] = set()
    for expr in exprs:
        symbols |= {s for s in expr.free_symbols if s != PLUS_MINUS}
    def key(s: sp.Symbol) -> tuple[int, str]:
        return (_PREFERRED.index(s.name) if s.name in _PREFERRED else len(_PREFERRED), s.name)
    return sorted(symbols, key=key)


def _doit(item: sp.Basic) -> sp.Basic:
    """Evaluate sums, integrals, limits and derivatives inside a relation before solving it."""
    if isinstance(item, Relational) and item.has(*_BIG_OPERATORS):
        return type(item)(item.lhs.doit(), item.rhs.doit(), evaluate=False)
    return item


_BIG_OPERATORS = (sp.Sum, sp.Product, sp.Integral, sp.Limit, sp.Derivative)
_INFINITIES = (sp.oo, -sp.oo, sp.zoo)


def _has_infinity(expr: sp.Basic) -> bool:
    """∞ outside the limits of a sum, integral or limit (where it belongs)."""
    if expr in _INFINITIES:
        return True
    if isinstance(expr, _BIG_OPERATORS) or not isinstance(expr, sp.Basic):
        return False
    return any(_has_infinity(arg) for arg in expr.args)


def _check_no_infinity(item: sp.Basic) -> None:
    """∞ is not a number: x + ∞ = 5 has no answer in numbers (SymPy would give x = -∞). An inequality may
    compare with ∞ itself (x < ∞), but ∞ inside a side is refused too."""
    if not isinstance(item, Relational):
        return
    sides = [item.lhs, item.rhs]
    if not isinstance(item, sp.Eq):
        sides = [side for side in sides if side not in (sp.oo, -sp.oo)]
    if any(_has_infinity(side) for side in sides):
        raise _CannotSolve("∞ is not a number, so it cannot be part of an equation or inequality to solve "
                           "(it can be a limit's target or an integral's bound)")


def _answer_items(items: list[sp.Basic], tree: Node | None = None) -> dict[str, Any]:
    items = [_doit(item) for item in items]
    for item in items:
        _check_no_infinity(item)
    if len(items) > 1:
        return _solve_system(items, to_sympy_lines(tree, raw=True) if tree is not None else None)
    item = items[0]
    raw = _written_relation(tree) if isinstance(item, Relational) else None
    if isinstance(item, sp.Eq):
        return _solve_equation(item, raw)
    if isinstance(item, Relational):
        return _solve_inequality(item, raw)
    return _evaluate(item)


def _written_relation(tree: Node | None) -> Relational | None:
    """The one relation of `tree` as written (SymPy's evaluation turns x/x into 1 and 0x into 0, losing an unknown
    and the values where the written form is undefined); None without a tree or for anything else."""
    if tree is None:
        return None
    raw = to_sympy_lines(tree, raw=True)
    if len(raw) != 1 or not isinstance(raw[0], Relational) or raw[0].has(PLUS_MINUS, *_BIG_OPERATORS):
        return None
    return raw[0]


def _written_domain(raw: Relational | None, var: sp.Symbol) -> sp.Set:
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


def _within(solutions: sp.Set, domain: sp.Set, notes: list[str]) -> sp.Set:
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


# Python refuses to turn an int of more than 4300 digits into text (sys.int_info.default_max_str_digits, a guard
# against slow conversions); the numbers the parser allows (MAX_NUMBER_BITS, 5000!) and their products go beyond
# it, so an exact number longer than this is shown as a 12-digit decimal instead.
MAX_SHOWN_DIGITS = 4000
_LONG_NUMBER_NOTE = f"a number of more than {MAX_SHOWN_DIGITS} digits is shown as a 12-digit decimal"


def too_long(expr: sp.Basic) -> bool:
    """Does a number in expr have more than MAX_SHOWN_DIGITS digits?"""
    limit = MAX_SHOWN_DIGITS * math.log2(10)
    return any(max(abs(int(r.p)), int(r.q)).bit_length() > limit for r in expr.atoms(sp.Rational))


def _decimal_part(x: Any) -> str:
    """12 significant digits, also beyond the range of a float (2^20000 ≈ 3.98e+6020, not inf)."""
    import mpmath

    if x == 0:
        return "0"
    value = float(x)
    if math.isfinite(value) and 1e-300 < abs(value) < 1e300:
        return f"{value:.12g}"
    return mpmath.nstr(mpmath.mpf(x._mpf_), 12) if hasattr(x, "_mpf_") else f"{value:.12g}"


def _entry(expr: sp.Basic, general: bool = False) -> dict[str, Any]:
    decimal = None
    long = expr.is_number and too_long(expr)
    if expr.is_number and (long or not expr.is_Integer) and expr.is_finite is not False:
        value = sp.N(expr, 15)
        re, im = value.as_real_imag()
        if abs(float(im)) < 1e-13 * max(1.0, abs(float(re))) or im == 0:
            decimal = _decimal_part(re)
        else:
            decimal = f"{_decimal_part(re)} {'-' if im < 0 else '+'} {_decimal_part(abs(im))}i"
    # numeric roots (shown as "a + bi") and numbers too long to write out are shown by their decimal
    approximate = decimal is not None and (long or expr.has(sp.CRootOf, sp.Float))
    text = decimal if approximate else _text(expr)
    latex = decimal if approximate else _latex(expr)
    entry = {"text": text, "latex": latex, "decimal": decimal, "general": general,
             "sympy": sp.srepr(sp.N(expr, 15) if long else expr), "_expr": expr}
    if long:
        entry["_long"] = True
    return entry


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
        solution_set = _within(sp.S.Reals if holds else sp.S.EmptySet, _written_domain(raw, var), notes)
        result = _format_set(var, solution_set, notes)
        result.update(kind="equation", variables=[var.name], notes=list(dict.fromkeys(notes + result["notes"])))
        return result
    var, others = unknowns[0], unknowns[1:]
    if others:
        names = ", ".join(_text(s) for s in others)
        notes.append(f"solved for {_text(var)}; {names} treated as given")
    sets = [_solve_one(v.lhs - v.rhs, var, bool(others), notes) for v in variants]
    solution_set = sets[0] if len(sets) == 1 else sp.Union(*sets)
    if not others:
        solution_set = _within(solution_set, _written_domain(raw, var), notes)
    result = _format_set(var, solution_set, notes)
    result.update(kind="equation", variables=[var.name], notes=list(dict.fromkeys(notes + result["notes"])))
    return result


def _check_statement(variants: list[sp.Eq]) -> dict[str, Any]:
    holds = all(sp.simplify(v.lhs - v.rhs) == 0 for v in variants)
    (left, left_tex), (right, right_tex) = (_shown(sp.simplify(side)) for side in (variants[0].lhs, variants[0].rhs))
    text = f"true: both sides equal {left}" if holds else f"false: the left side is {left}, the right side {right}"
    latex = r"\text{true}" if holds else left_tex + r" \neq " + right_tex
    return _result("equation", text=text, latex=latex, holds=holds, notes=_long_notes(variants))


def _check_inequality(rel: Relational) -> dict[str, Any]:
    """An inequality between numbers (3 > 2, π > 3): true or false."""
    left, right = sp.simplify(rel.lhs), sp.simplify(rel.rhs)
    holds = type(rel)(left, right)
    if holds not in (sp.true, sp.false):
        raise _CannotSolve("SymPy cannot decide whether this inequality between numbers holds")
    (left_text, _), (right_text, _) = _shown(left), _shown(right)
    word = "true" if holds == sp.true else "false"
    return _result("inequality", text=f"{word}: the left side is {left_text}, the right side {right_text}",
                   latex=rf"\text{{{word}}}", holds=bool(holds == sp.true), notes=_long_notes([rel]))


def _shown(value: sp.Basic) -> tuple[str, str]:
    """Text and LaTeX of a value, a number too long to write out as its decimal (see `_entry`)."""
    entry = _entry(value)
    return entry["text"], entry["latex"]


def _long_notes(items: list[sp.Basic]) -> list[str]:
    return [_LONG_NUMBER_NOTE] if any(too_long(item) for item in items) else []


def degree_bound(expr: sp.Basic, variables: set[sp.Symbol]) -> tuple[int, bool]:
    """(d, exact): the total degree in `variables` of a polynomial is at most d, read off its tree without
    expanding anything; `exact` when no terms can cancel (one term of each sum has the highest degree)."""
    if expr in variables:
        return 1, True
    if not expr.free_symbols & variables:
        return 0, True
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
        degree, exact = degree_bound(expr.base, variables)
        return degree * abs(int(expr.exp)), exact
    parts = [degree_bound(arg, variables) for arg in expr.args]
    if isinstance(expr, sp.Mul):
        return sum(d for d, _ in parts), all(e for _, e in parts)
    top = max((d for d, _ in parts), default=0)
    leaders = [e for d, e in parts if d == top]
    return top, isinstance(expr, sp.Add) and len(leaders) == 1 and leaders[0]


def too_high_to_expand(expr: sp.Basic) -> bool:
    """A polynomial or rational expression whose written degree is above EXACT_DEGREE_LIMIT: simplifying or
    expanding it would take minutes or fill the memory ((x+1)^{10^{10}})."""
    variables = expr.free_symbols - {PLUS_MINUS}
    if not variables or not expr.is_rational_function(*variables):
        return False
    return degree_bound(expr, variables)[0] > EXACT_DEGREE_LIMIT


def _check_degree(f: sp.Basic, variables: list[sp.Symbol]) -> None:
    """Refuse a polynomial of degree above MAX_DEGREE before SymPy builds it (the total degree for a system)."""
    if not f.is_polynomial(*variables):
        return
    bound, exact = degree_bound(f, set(variables))
    if bound <= MAX_DEGREE:
        return
    if exact or bound > EXACT_DEGREE_LIMIT:
        size = f"{bound}" if exact else f"up to {bound}"
        raise _CannotSolve(f"a polynomial of degree {size} is too high to solve exactly (limit {MAX_DEGREE})")
    degree = sp.Poly(f, *variables).total_degree() if f != 0 else 0
    if degree > MAX_DEGREE:
        raise _CannotSolve(f"a polynomial of degree {degree} is too high to solve exactly (limit {MAX_DEGREE})")


def _solve_one(f: sp.Basic, var: sp.Symbol, parametric: bool, notes: list[str]) -> sp.Set:
    written = f
    f = sp.together(f)
    numerator = sp.fraction(f)[0]
    _check_degree(numerator, [var])
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
        roots = _numeric_roots(f, var)
        if not roots:
            raise _CannotSolve(f"SymPy cannot solve this equation for {var.name}, exactly or numerically")
        notes.append("no exact form: numeric solutions found from a few starting points; there may be others")
        return sp.FiniteSet(*roots)
    if (isinstance(solution_set, sp.FiniteSet) or solution_set == sp.S.EmptySet) and _has_odd_root(written, var):
        # solveset misses real roots of some odd roots of powers ((x^2)^{1/3} = 4 gives no solution, not ±8);
        # solve() finds them by removing the radicals, and every candidate is checked below
        extra = [r for r in sp.solve(written, var) if r.is_number and r.is_real and r not in solution_set]
        solution_set = sp.FiniteSet(*solution_set.args, *extra)
    if isinstance(solution_set, sp.FiniteSet):
        # solveset over the reals may combine logarithms or square both sides of a root without checking the
        # domain (ln(x-1) + ln(x+1) = ln 3 gives x = -2 too; asin(x) = 3 gives sin 3): check every root in the
        # equation as written.
        kept = [root for root in solution_set.args if _real_solution(written, var, root)]
        if len(kept) < len(solution_set.args):
            notes.append("values outside the domain (a logarithm of a number <= 0, an even root of a negative "
                         "number, ...) or that do not satisfy the equation as written are left out")
        return sp.FiniteSet(*kept)
    return solution_set


def _has_odd_root(f: sp.Basic, var: sp.Symbol) -> bool:
    return any(isinstance(node, sp.Pow) and node.exp.is_Rational and node.exp.q % 2 == 1 and node.exp.q > 1
               and node.base.has(var) for node in sp.preorder_traversal(f))


_DOMAIN_TOLERANCE = 1e-12  # relative: how far from zero a numerically evaluated value may be and still count as 0


def _real_solution(f: sp.Basic, var: sp.Symbol, root: sp.Basic) -> bool:
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
        odd_roots_real = f.replace(
            lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer and e.exp.q % 2 == 1,
            lambda e: sp.real_root(e.base, e.exp.q) ** e.exp.p)
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


def _numeric_roots(f: sp.Basic, var: sp.Symbol) -> list[sp.Float]:
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


def _format_set(var: sp.Symbol, s: sp.Set, notes: list[str]) -> dict[str, Any]:
    name, vtex, shown = var.name, _latex(var), _text(var)
    if isinstance(s, sp.ConditionSet):
        raise _CannotSolve(f"SymPy cannot solve this equation for {name} in closed form")
    if s == sp.S.EmptySet:
        return _result("equation", text="no solution", latex=r"\text{no solution}")
    if s == sp.S.Reals or s == sp.S.Complexes:
        return _result("equation", text=f"every value of {shown} is a solution (an identity)",
                       latex=vtex + r" \in \mathbb{R}")
    parts = list(s.args) if isinstance(s, sp.Union) else [s]
    finite: list[sp.Basic] = []
    families: list[sp.Basic] = []
    excluded: list[sp.Basic] = []  # members of a family that are no solution (sin x / x = 0: x = kπ but not 0)
    k = sp.Symbol("n" if name == "k" else "k")
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
            return _result("equation", text=f"{shown} ∈ {_set_text(s)}", latex=f"{vtex} \\in {_latex(s)}")
    finite = _real_first(list(dict.fromkeys(_tidy_logs(e) for e in finite)))
    families.sort(key=lambda e: float(e.xreplace({k: 0})) if e.xreplace({k: 0}).is_number else 0.0)
    solutions = [{name: _entry(e)} for e in finite] + [{name: _entry(e, general=True)} for e in families]
    texts = [f"{shown} = {sol[name]['text']}" for sol in solutions]
    latexes = [f"{vtex} = {sol[name]['latex']}" for sol in solutions]
    text = " or ".join(texts)
    latex = r" \quad\text{or}\quad ".join(latexes)
    if families:
        text += f", {k.name} any integer"
        latex += rf", \quad {k.name} \in \mathbb{{Z}}"
    excluded = [e for e in dict.fromkeys(excluded) if e not in finite]
    if excluded:
        text += ", except " + " and ".join(f"{shown} = {_text(e)}" for e in excluded)
        latex += r", \quad " + ", ".join(f"{vtex} \\neq {_latex(e)}" for e in excluded)
        verb = "is" if len(excluded) == 1 else "are"
        notes.append(f"{shown} = {', '.join(_text(e) for e in excluded)} {verb} in the families above but no "
                     "solution (the equation is undefined or false there)")
    if finite and not any(e.is_real for e in finite) and all(e.is_number for e in finite):
        notes.append("no real solution; the solutions are complex")
    return _result("equation", text=text, latex=latex, solutions=solutions)


def _tidy_logs(value: sp.Basic) -> sp.Basic:
    """A number with logarithms of positive numbers, with their powers taken out when that is shorter:
    solveset answers 4^x = 2 with ln 2 / ln 4 (1/2) and e^x = 10^20 with ln 100000000000000000000 (20 ln 10)."""
    if not value.is_number or not value.has(sp.log):
        return value
    if not all(arg.is_positive for log in value.atoms(sp.log) for arg in log.args):
        return value
    tidy = sp.expand_log(value, force=True)
    return tidy if len(_text(tidy)) < len(_text(value)) else value


def _real_first(values: list[sp.Basic]) -> list[sp.Basic]:
    def key(e: sp.Basic) -> tuple[int, float, float]:
        if not e.is_number:
            return (2, 0.0, 0.0)
        re, im = (float(v) for v in sp.N(e, 15).as_real_imag())
        return (0 if e.is_real else 1, re, im)
    return sorted(values, key=key)


def _set_text(s: sp.Set) -> str:
    if isinstance(s, sp.Interval):
        left = "(" if s.left_open or s.start == -sp.oo else "["
        right = ")" if s.right_open or s.end == sp.oo else "]"
        return f"{left}{_text(s.start)}, {_text(s.end)}{right}"
    if isinstance(s, sp.Union):
        return " ∪ ".join(_set_text(a) for a in s.args)
    if isinstance(s, sp.FiniteSet):
        return "{" + ", ".join(_text(a) for a in s.args) + "}"
    if isinstance(s, sp.Complement):
        return f"{_set_text(s.args[0])} \\ {_set_text(s.args[1])}"
    if s == sp.S.Reals:
        return "ℝ"
    return _text(s)


def _solve_inequality(rel: Relational, raw: Relational | None = None) -> dict[str, Any]:
    unknowns = _unknowns([rel]) or (_unknowns([raw]) if raw is not None else [])  # x/x > 0 reads 1 > 0
    if not unknowns and not rel.has(PLUS_MINUS):
        return _check_inequality(rel)
    if len(unknowns) != 1:
        raise _CannotSolve("only inequalities in exactly one unknown can be solved")
    if rel.has(PLUS_MINUS):
        raise _CannotSolve("an inequality with ± cannot be solved; write the two cases separately")
    var = unknowns[0]
    _check_degree(sp.fraction(sp.together(rel.lhs - rel.rhs))[0], [var])
    s = sp.solveset(rel, var, sp.S.Reals)
    s = _within(s, _written_domain(raw, var), [])
    if isinstance(s, sp.ConditionSet):
        raise _CannotSolve(f"SymPy cannot solve this inequality for {var.name}")
    if s == sp.S.EmptySet:
        return _result("inequality", text="no solution", latex=r"\text{no solution}", variables=[var.name])
    text, latex = f"{_text(var)} ∈ {_set_text(s)}", f"{_latex(var)} \\in {_latex(s)}"
    return _result("inequality", text=text, latex=latex, variables=[var.name])


# ---------------------------------------------------------------- systems


def _zero_denominator(raw: list[sp.Basic], values: dict[sp.Symbol, sp.Basic]) -> bool:
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


def _solve_system(items: list[sp.Basic], raw: list[sp.Basic] | None = None) -> dict[str, Any]:
    for number, item in enumerate(items, 1):
        if not isinstance(item, sp.Eq):
            raise _CannotSolve(f"a system needs an equation with '=' on every line; line {number} has none")
        if item.has(PLUS_MINUS):
            raise _CannotSolve("± inside a system cannot be solved; write the two cases separately")
    unknowns = _unknowns(items)
    if not unknowns:
        return _check_statement(items)
    chosen = unknowns[: len(items)] if len(unknowns) > len(items) else unknowns
    notes = []
    if len(chosen) < len(unknowns):
        notes.append(f"solved for {', '.join(_text(s) for s in chosen)}; "
                     f"{', '.join(_text(s) for s in unknowns[len(chosen):])} treated as given")
    for eq in items:
        _check_degree(sp.fraction(sp.together(eq.lhs - eq.rhs))[0], chosen)
    found = sp.solve([eq.lhs - eq.rhs for eq in items], chosen, dict=True)
    if raw is not None and len(raw) == len(items) and not any(r.has(*_BIG_OPERATORS) for r in raw):
        kept = [sol for sol in found if not _zero_denominator(raw, sol)]
        if len(kept) < len(found):
            notes.append("values where an equation as written is undefined (a zero denominator) are left out")
        found = kept
    names = [s.name for s in chosen]
    if not found:
        return _result("system", text="the system has no solution", latex=r"\text{no solution}",
                       variables=names, notes=notes)
    solutions, texts, latexes = [], [], []
    for sol in found:
        entries = {s.name: _entry(sol[s]) for s in chosen if s in sol}
        free = [_text(s) for s in chosen if s not in sol]
        if free:
            notes.append(f"infinitely many solutions: {', '.join(free)} can be any value")
        solutions.append(entries)
        texts.append(", ".join(f"{_text(sp.Symbol(n))} = {e['text']}" for n, e in entries.items()))
        latexes.append(r",\; ".join(f"{_latex(sp.Symbol(n))} = {e['latex']}" for n, e in entries.items()))
    return _result("system", text=" or ".join(texts), latex=r" \quad\text{or}\quad ".join(latexes),
                   variables=names, solutions=solutions, notes=list(dict.fromkeys(notes)))


# ---------------------------------------------------------------- expressions


def _doit_real(expr: sp.Basic) -> sp.Basic:
    """expr.doit(), with the letters taken as real numbers inside derivatives and integrals: SymPy's letters are
    complex, so d/dx |x| would be Piecewise(... re(x)*Derivative(re(x), x) ...) instead of sign(x)."""
    if not expr.has(sp.Derivative, sp.Integral):
        return expr.doit()
    real = {s: sp.Dummy(s.name, real=True) for s in expr.free_symbols if s != PLUS_MINUS}
    back = {d: s for s, d in real.items()}
    return expr.xreplace(real).doit().xreplace(back)


_LOG_SAMPLES = (-3.7, -2.3, -1.3, -0.6, -0.15, 0.15, 0.6, 1.3, 2.3, 3.7)  # points where ln|u| is compared with ln u


def _absolute_logs(problem: sp.Basic, antiderivative: sp.Basic) -> sp.Basic:
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
        done = _doit_real(variant)  # evaluates Sum, Integral, Limit, Derivative
        if done.has(sp.Integral, sp.Sum, sp.Product, sp.Limit):
            notes.append("SymPy could not evaluate a sum, product, integral or limit in closed form")
        if too_high_to_expand(done):
            notes.append(f"a power of degree above {EXACT_DEGREE_LIMIT} is left as written, not expanded")
            values.append(done)
        else:
            values.append(_absolute_logs(variant, _simplified(done)))
    for value in values:
        reason = undefined_reason(value)
        if reason is not None and expr.has(sp.Limit) and value.has(sp.zoo, sp.AccumBounds):
            reason = "the limit does not exist (it differs from the two sides, or the function oscillates)"
        if reason is not None:
            raise _CannotSolve(reason)
    entries = [_entry(v) for v in values]
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
