"""Worked solutions: the steps a student can follow from the problem to the solver's answer.

    attach_steps(result, tree, items)   # adds result["steps"] = [{"latex", "reason", "sympy"}], result["steps_reason"]
    work_out(tree, items, result)       # the `Worked` record (SymPy objects), or NoSteps with the reason

Kinds (each in its own module): linear and quadratic equations and linear inequalities in one unknown
(`steps_linear`), quadratic inequalities (`steps_inequality`), inequalities with one absolute value of a linear
expression compared with a number (`steps_abs_inequality`: a double inequality or two cases) or the unknown in a
denominator (`steps_rational_inequality`: critical points and a sign table), polynomial equations of degree 3 and 4
with a common factor, rational roots or only even powers (`steps_poly`), systems of two or three linear equations by
elimination (`steps_system`), systems of a linear and a nonlinear equation in two unknowns by substitution
(`steps_system_substitution`: the equation left in one unknown worked out as a linear or quadratic one),
arithmetic with fractions and powers and simplifying an expression (`steps_arith`), simple trigonometric
equations (`steps_trig`), exponential and logarithmic equations in one power or logarithm of the unknown or in
powers of one base (`steps_exp`), equations that lead to a linear or quadratic one: the unknown in a denominator
(`steps_rational`), under one square root (`steps_radical`) or in one absolute value (`steps_abs`), each line with
its excluded values or condition (`steps_conditions`), and derivatives rule by rule and integrals of powers of x,
1/x, e^x, sin x and cos x (`steps_calculus`). Anything else gets no steps and a reason; the answer is the
solver's as always. The rules are written over SymPy objects: each step's object says the same as its line, and
`equivalent` / `final_matches` check a chain with SymPy (the corpus test runs them on every problem; `attach_steps`
runs `final_matches` on every answer and drops steps that do not end at the solver's answer). A system's line is
read with `linsolve` when every equation is linear, else with `solve` over the real numbers (a set of tuples).
Time: steps run where the answer was computed (in-process for cheap input, else in the solver's worker process),
inside the same time limit (`inkmath.equation.solve.answer.answer`).
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.errors import InkmathError
from inkmath.equation.core.latex import to_latex
from inkmath.equation.solve.lexemes import written_mixed_numbers, written_percents
from inkmath.equation.solve.calculus import doit_real
from inkmath.equation.solve.steps.base import NoSteps, Step, Worked, evaluated, same_line, tex
from inkmath.equation.solve.steps.calculus import INTEGRATION_CONSTANT, integration_variable
from inkmath.equation.solve.steps.conditions import EVERY_VALUE
from inkmath.equation.solve.tosympy import PLUS_MINUS, to_sympy_lines
from inkmath.equation.core.tree import Node
from inkmath.equation.solve.limits import MAX_SHOWN_DIGITS, too_long
from inkmath.equation.solve.steps import (absolute as steps_abs, absolute_inequality as steps_abs_inequality,
                                          arith as steps_arith, calculus as steps_calculus, exp as steps_exp,
                                          inequality as steps_inequality, linear as steps_linear, poly as steps_poly,
                                          radical as steps_radical, rational as steps_rational,
                                          rational_inequality as steps_rational_inequality, system as steps_system,
                                          system_substitution as steps_system_substitution, trig as steps_trig)

__all__ = ["NoSteps", "Step", "Worked", "attach_steps", "equivalent", "final_matches", "solution_set", "work_out"]

SAMPLE_WINDOW = 30.0  # |x| range in which families of solutions (x = π/6 + 2kπ) are compared point by point
SAMPLE_TOLERANCE = 1e-9
SAMPLE_MEMBERS = 40  # members -40..40 of each family: enough to fill ±SAMPLE_WINDOW for periods down to 0.75
# answered as a set: compared with the problem's own
INEQUALITY_KINDS = ("inequality", "quadratic_inequality", "absolute_inequality", "rational_inequality")


def attach_steps(result: dict[str, Any], tree: Node, items: list[sp.Basic], mathml: bool = True) -> None:
    """Add `steps` and `steps_reason` to a solver result (never raises: a failure becomes the reason); each step
    without its `mathml` when `mathml` is False (the caller adds it)."""
    try:
        worked = work_out(tree, items, result)
        if len(worked.steps) < 2:
            raise NoSteps("there is nothing to work out: it is already as simple as SymPy makes it")
        if not final_matches(worked, result):
            raise NoSteps("the worked solution did not end at the solver's answer, so it is not shown")
    except NoSteps as exc:
        result.update(steps=[], steps_reason=str(exc))
        return
    except InkmathError as exc:
        result.update(steps=[], steps_reason=f"cannot work this out: {exc}")
        return
    # The steps boundary, like the solver's: SymPy signals what it cannot do with many exception types, and a
    # failure here must not lose the answer that is already computed.
    except Exception as exc:  # noqa: BLE001
        result.update(steps=[], steps_reason=f"SymPy could not work this out ({type(exc).__name__})")
        return
    result.update(steps=[s.to_dict(mathml) for s in worked.steps], steps_reason="", steps_kind=worked.kind)


def work_out(tree: Node, items: list[sp.Basic], result: dict[str, Any]) -> Worked:
    """The worked solution of a problem the solver answered as `result` (items: `to_sympy_lines(tree)`)."""
    worked = _work_out_by_kind(tree, items, result)
    _written_numbers_as_fractions(worked, tree)
    return worked


def _written_numbers_as_fractions(worked: Worked, tree: Node) -> None:
    """After the problem as written, the same line with its percentages (15% = 15/100) and mixed numbers
    (2 1/2 = 5/2) as fractions, when it has any: the steps that follow work with the fractions."""
    reasons = []
    percents = written_percents(tree)
    if percents:
        numbers = list(dict.fromkeys(p.number for p in percents if p.number))
        shown = ", ".join(rf"{n}\% = \frac{{{n}}}{{100}}" for n in numbers)
        reasons.append(f"per cent means hundredths: ${shown}$" if shown else
                       "per cent means hundredths: divide by $100$")
    mixed = list(dict.fromkeys(written_mixed_numbers(tree)))
    if mixed:
        shown = ", ".join(rf"{w}\frac{{{n}}}{{{d}}} = {tex(sp.Rational(w * d + n, d))}" for w, n, d in mixed)
        reasons.append(f"a mixed number is a whole number plus a fraction: ${shown}$")
    if not reasons or not worked.steps:
        return
    first = worked.steps[0].expr
    worked.insert(1, first, "; ".join(reasons), tex(first))
    if len(worked.steps) > 2 and same_line(worked.steps[2].latex, worked.steps[1].latex):
        del worked.steps[2]  # 0.5% is 1/200 already: the step that wrote it so says nothing more


def _work_out_by_kind(tree: Node, items: list[sp.Basic], result: dict[str, Any]) -> Worked:
    if result.get("kind") == "none":
        raise NoSteps(result.get("reason") or "the solver could not answer this")
    if any(item.has(PLUS_MINUS) for item in items):
        raise NoSteps("a problem written with ± is answered without steps")
    if any(item.has(sp.Sum, sp.Product, sp.Integral, sp.Limit, sp.Derivative) for item in items):
        return steps_calculus.calculus_steps(to_sympy_lines(tree, raw=True), result, to_latex(tree))

    answered = [e["_expr"] for e in result.get("values", []) if "_expr" in e]
    answered += [e["_expr"] for sol in result.get("solutions", []) for e in sol.values() if "_expr" in e]
    if any(too_long(expr) for expr in [*items, *answered]):
        raise NoSteps(f"a number of more than {MAX_SHOWN_DIGITS} digits is answered without steps")
    raw = to_sympy_lines(tree, raw=True)
    input_latex = to_latex(tree)
    if len(items) > 1:
        if steps_system_substitution.is_nonlinear_system(items):
            return steps_system_substitution.substitution_steps(raw, items, input_latex)
        return steps_system.system_steps(raw, items, input_latex)
    item = items[0]
    unknowns = sorted(item.free_symbols, key=lambda s: s.name)
    if isinstance(item, sp.Eq):
        if not unknowns:
            unknowns = sorted(raw[0].free_symbols, key=lambda s: s.name)  # 0x = 5: x is gone once evaluated
        if not unknowns:
            raise NoSteps("an equation without unknowns is checked, not solved")
        if len(unknowns) > 1:
            raise NoSteps("an equation in several letters (a formula) is answered without steps")
        var = unknowns[0]
        f = sp.expand(item.lhs - item.rhs)
        if steps_trig.is_trig_equation(f, var):
            return steps_trig.trig_steps(raw[0], f, var, input_latex)
        if steps_exp.is_exp_or_log_equation(raw[0], var):
            return steps_exp.exp_log_steps(raw[0], var, input_latex)
        if steps_abs.is_abs_equation(f, var):
            return steps_abs.abs_steps(raw[0], var, input_latex)
        if steps_radical.is_radical_equation(f, var):
            return steps_radical.radical_steps(raw[0], var, input_latex)
        if steps_rational.is_rational_equation(f, var):
            return steps_rational.rational_steps(raw[0], var, input_latex)
        if steps_poly.is_cubic_or_quartic(f, var):
            return steps_poly.polynomial_steps(raw[0], var, input_latex)
        if f == 0 and not all(evaluated(side).is_polynomial(var) for side in (raw[0].lhs, raw[0].rhs)):
            # 1/(x-1) = 1/(x-1): every x but 1
            raise NoSteps(EVERY_VALUE)
        degree = steps_linear.check_linear_or_quadratic(f, var)
        if degree <= 1:
            return steps_linear.linear_steps(raw[0], var, input_latex)
        return steps_linear.quadratic_steps(raw[0], var, input_latex)
    if isinstance(item, Relational):
        if len(unknowns) != 1:
            raise NoSteps("an inequality gets steps when it has exactly one unknown")
        var = unknowns[0]
        f = sp.expand(item.lhs - item.rhs)
        if steps_abs_inequality.is_abs_inequality(f, var):
            return steps_abs_inequality.abs_inequality_steps(raw[0], var, input_latex)
        if steps_rational_inequality.is_rational_inequality(f, var):
            return steps_rational_inequality.rational_inequality_steps(raw[0], var, input_latex)
        if steps_linear.check_linear_or_quadratic(f, var, inequality=True) == 2:
            return steps_inequality.quadratic_inequality_steps(raw[0], var, input_latex)
        return steps_linear.inequality_steps(raw[0], var, input_latex)
    values = result.get("values", [])
    if len(values) != 1 or "_expr" not in values[0]:
        raise NoSteps("this expression has no single value to work towards")
    if not unknowns and not raw[0].free_symbols:  # 2/x · x/4 has letters as written: simplified, not computed
        return steps_arith.arithmetic_steps(raw[0], values[0]["_expr"], input_latex)
    return steps_arith.simplify_steps(raw[0], values[0]["_expr"], input_latex)


# ---------------------------------------------------------------- checking a chain with SymPy


def solution_set(expr: Any, variables: list[sp.Symbol], domain: sp.Set) -> Any:
    """What a step says, as something comparable: a set for one unknown, a list of solution dicts for a system,
    the value for an expression."""
    if isinstance(expr, sp.Subs):  # a line in u = x^2 (a biquadratic): what it says with x^2 in place of u
        return solution_set(expr.expr.xreplace(dict(zip(expr.variables, expr.point))), variables, domain)
    if isinstance(expr, sp.Tuple) and _linear_equations(expr, variables):
        eqs = [sp.expand(evaluated(e.lhs - e.rhs)) for e in expr.args]
        return {tuple(sol) for sol in sp.linsolve(eqs, *variables)}
    if len(variables) > 1:  # a nonlinear system: a Tuple of lines, alternatives (Or) and solution pairs (And)
        return _real_solutions(expr, variables)
    if not variables:
        value = evaluated(expr)  # a derivative, integral or F(b) - F(a) is worked out exactly, x real
        return doit_real(value) if value.has(sp.Derivative, sp.Integral, sp.Subs) else value
    var = variables[0]
    if expr is sp.true or expr is sp.false:
        return domain if expr is sp.true else sp.S.EmptySet
    if isinstance(expr, sp.Or):
        return sp.Union(*[solution_set(a, variables, domain) for a in expr.args])
    if isinstance(expr, sp.And):  # an equation and its conditions (x + 3 = (x - 3)^2 and x - 3 >= 0)
        return sp.Intersection(*[solution_set(a, variables, domain) for a in expr.args])
    if isinstance(expr, sp.Contains):
        return expr.args[1]
    if isinstance(expr, Relational):
        if isinstance(expr, sp.Eq):
            return sp.solveset(evaluated(expr.lhs - expr.rhs), var, domain)
        return sp.solveset(evaluated(expr), var, sp.S.Reals)
    raise NoSteps(f"cannot check a step of type {type(expr).__name__}")


def _linear_equations(system: sp.Tuple, variables: list[sp.Symbol]) -> bool:
    """Is every line of the system an equation of degree 1 (or 0) in the unknowns (what `linsolve` reads)?"""
    for e in system.args:
        if not isinstance(e, sp.Eq):
            return False
        f = sp.expand(evaluated(e.lhs - e.rhs))
        if not f.is_polynomial(*variables) or (f.free_symbols and sp.Poly(f, *variables).total_degree() > 1):
            return False
    return True


def _alternatives(expr: Any) -> list[list[sp.Basic]]:
    """A system's line as its alternatives, each a list of expressions equal to zero (all of them at once)."""
    if expr is sp.true or expr is sp.false:
        return [[]] if expr is sp.true else []
    if isinstance(expr, sp.Or):
        return [alt for arg in expr.args for alt in _alternatives(arg)]
    if isinstance(expr, (sp.And, sp.Tuple)):
        out: list[list[sp.Basic]] = [[]]
        for arg in expr.args:
            out = [left + right for left in out for right in _alternatives(arg)]
        return out
    if isinstance(expr, sp.Eq):
        return [[sp.expand(evaluated(expr.lhs - expr.rhs))]]
    raise NoSteps(f"cannot check a step of type {type(expr).__name__} in a system")


def canonical(value: sp.Basic) -> sp.Basic:
    """One written form of a number, so that sets of solution pairs compare ((1 + √5)/2 and 1/2 + √5/2)."""
    return sp.expand(sp.radsimp(value))


def _real_solutions(expr: Any, variables: list[sp.Symbol]) -> set[tuple[sp.Basic, ...]]:
    """The real solutions of a system's line as a set of tuples in the order of `variables` (SymPy's `solve`)."""
    out = set()
    for eqs in _alternatives(expr):
        for sol in sp.solve(eqs, variables, dict=True):
            if set(sol) != set(variables) or any(v.free_symbols for v in sol.values()):
                raise NoSteps("cannot check a step of a system with infinitely many solutions")
            values = tuple(canonical(sol[v]) for v in variables)
            if all(abs(complex(sp.N(v)).imag) < SAMPLE_TOLERANCE for v in values):
                out.add(values)
    return out


def _sample(s: sp.Set) -> list[float] | None:
    """The points of a set within ±SAMPLE_WINDOW as sorted floats (None for a set that is not a list of points)."""
    if isinstance(s, sp.FiniteSet):
        return sorted(complex(sp.N(v)).real for v in s.args if abs(complex(sp.N(v))) <= SAMPLE_WINDOW)
    parts = list(s.args) if isinstance(s, sp.Union) else [s]
    points: list[float] = []
    for part in parts:
        if isinstance(part, sp.FiniteSet):
            points += _sample(part) or []
        elif isinstance(part, sp.ImageSet) and len(part.lamda.variables) == 1:
            k, expr = part.lamda.variables[0], part.lamda.expr
            if sp.diff(expr, k).has(k):  # not an arithmetic progression p + n·period: evaluate each member
                members = (complex(sp.N(expr.subs(k, n))) for n in range(-SAMPLE_MEMBERS, SAMPLE_MEMBERS + 1))
            else:  # p + n·period: two evaluations, the rest in floats
                start = complex(sp.N(expr.subs(k, 0)))
                step = complex(sp.N(expr.subs(k, 1))) - start
                members = (start + n * step for n in range(-SAMPLE_MEMBERS, SAMPLE_MEMBERS + 1))
            points += [v.real for v in members if abs(v) <= SAMPLE_WINDOW]
        else:
            return None
    out: list[float] = []
    for p in sorted(points):
        if not out or abs(p - out[-1]) > SAMPLE_TOLERANCE:
            out.append(p)
    return out


def same_set(a: Any, b: Any) -> bool:
    if isinstance(a, set) or isinstance(b, set):
        return a == b
    if isinstance(a, sp.Set) and isinstance(b, sp.Set):
        if a == b:
            return True
        pa, pb = _sample(a), _sample(b)
        if pa is None or pb is None:
            return False
        return len(pa) == len(pb) and all(abs(x - y) < 1e-7 for x, y in zip(pa, pb))
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def equivalent(worked: Worked) -> list[int]:
    """Indices of steps that do not say the same as the step before them (empty: the whole chain holds).
    Derivatives, integrals and F(b) - F(a) (`Subs`) in a step are worked out exactly (`doit`, x real) before they
    are compared; the lines of an indefinite integral are antiderivatives, the same up to a constant, so there each
    line's derivative is compared."""
    variable = integration_variable(worked.steps[0].expr) if worked.steps else None
    if variable is not None:
        slopes = [_derivative(s.expr, variable) for s in worked.steps]
        return [i for i in range(1, len(slopes)) if not same_set(slopes[i - 1], slopes[i])]
    # over the real numbers, where the solver's answers lie (its complex roots are a note, not solutions)
    sets = [solution_set(s.expr, worked.variables, sp.S.Reals) for s in worked.steps]
    return [i for i in range(1, len(sets)) if not same_set(sets[i - 1], sets[i])]


def final_matches(worked: Worked, result: dict[str, Any]) -> bool:
    """Does the last step say what the solver answered (`result`, with its solutions' `_expr` or `sympy`)?"""
    last = worked.steps[-1].expr
    if worked.kind in INEQUALITY_KINDS:  # the solver's answer is a set in its text; SymPy's own solveset of the problem
        sets = [solution_set(s.expr, worked.variables, sp.S.Reals) for s in (worked.steps[0], worked.steps[-1])]
        return result.get("kind") == "inequality" and same_set(*sets)
    values = [_value(entry) for entry in result.get("values", [])]
    if integration_variable(worked.steps[0].expr) is not None:  # the solver's answer is its value + C, as the line
        values = [v + INTEGRATION_CONSTANT for v in values]
    if not worked.variables:
        return len(values) == 1 and sp.simplify(last - values[0]) == 0
    stated = solution_set(last, worked.variables, sp.S.Reals)
    solutions = result.get("solutions", [])
    if isinstance(stated, set):
        names = [v.name for v in worked.variables]
        given = {tuple(canonical(_value(sol[n])) for n in names) for sol in solutions if set(sol) == set(names)}
        return len(given) == len(solutions) and given == stated
    var = worked.variables[0]
    finite = [_value(sol[var.name]) for sol in solutions if not sol[var.name]["general"]]
    families = [_value(sol[var.name]) for sol in solutions if sol[var.name]["general"]]
    expected: sp.Set = sp.FiniteSet(*finite)
    if families:
        k = next(iter(set().union(*[f.free_symbols for f in families])), sp.Symbol("k"))
        expected = sp.Union(expected, *[sp.ImageSet(sp.Lambda(k, f), sp.S.Integers) for f in families])
    if not solutions and "identity" in result.get("text", ""):
        expected = sp.S.Reals
    return same_set(stated, expected)


def _derivative(expr: sp.Basic, var: sp.Symbol) -> sp.Basic:
    """d/d(var) of a line, with var a real number; ln|u| as ln u, whose derivative u'/u is the same where both are
    defined (SymPy's sign(x)/|x| for d/dx ln|x| does not simplify to 1/x)."""
    real = sp.Dummy(var.name, real=True)
    expr = expr.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.Abs),
                        lambda e: sp.log(e.args[0].args[0]))
    return sp.diff(expr.xreplace({var: real}), real).doit().xreplace({real: var})


def _value(entry: dict[str, Any]) -> sp.Basic:
    if "_expr" in entry:
        return entry["_expr"]
    raise NoSteps("the solver's answer carries no SymPy value to compare with")
