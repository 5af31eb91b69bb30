"""Worked solutions of inequalities with one absolute value of a linear expression compared with a number once it is
alone: |A| < c, ≤ c, > c, ≥ c (|2x + 1| ≥ 5, 2|x + 1| − 3 < 5, 3 > |x − 1|).

Steps: isolate |A| by the linear-inequality steps of `steps_linear` (|A| taken as the unknown, so a negative
divisor reverses the sign as usual). Then, for c > 0: |A| < c is the double inequality −c < A < c, whose three
parts are solved together, and |A| > c is "A < −c or A > c", both solved side by side; the answer as intervals.
An absolute value is never negative, so: |A| < c with c < 0 (or |A| < 0) has no solution, |A| > c with c < 0 (or
|A| ≥ 0) holds for every x, |A| ≤ 0 means A = 0 and |A| > 0 means A ≠ 0.
"""

from __future__ import annotations

from typing import Any, Callable

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, OR_TEX, Worked, arrange, equation, evaluated, plain, tex
from inkmath.equation.solve.steps.conditions import lone_atom, polynomial_steps, solve_polynomial
from inkmath.equation.solve.steps.inequality import SYMBOL, WANTS_POSITIVE, every_value
from inkmath.equation.solve.steps.linear import FLIPPED, inequality_steps

MAX_DEGREE = 1  # A linear: each piece is a linear inequality


def _absolute(f: sp.Basic, var: sp.Symbol) -> sp.Basic | None:
    """The one |A| in f (lhs − rhs) when f = a·|A| + b with a and b numbers and A linear in `var`; else None."""
    return lone_atom(f, var, {a for a in f.atoms(sp.Abs) if a.has(var)}, MAX_DEGREE, 0)


def is_abs_inequality(f: sp.Basic, var: sp.Symbol) -> bool:
    return _absolute(f, var) is not None


def abs_inequality_steps(raw: sp.Basic, var: sp.Symbol, input_latex: str) -> Worked:
    relation = type(raw)
    atom = _absolute(sp.expand(evaluated(raw.lhs - raw.rhs)), var)
    if relation not in SYMBOL or atom is None:
        raise NoSteps("only one absolute value of a linear expression, compared with a number, gets steps")
    w = Worked("absolute_inequality", variables=[var])
    relation, bound = _isolated(w, raw, atom, input_latex)
    inside = arrange(atom.args[0])
    shown = f"${tex(arrange(atom))} {SYMBOL[relation]} {plain(bound)}$"
    below = not WANTS_POSITIVE[relation]  # |A| < c, |A| ≤ c
    if bound < 0 or (bound == 0 and relation in (sp.Lt, sp.Ge)):
        never = f"an absolute value is never negative, so {shown}"
        if below:
            w.add(sp.false, never + " never holds: no solution", r"\text{no solution}")
        else:
            every_value(w, var, never + " always holds")
    elif bound == 0 and relation is sp.Le:
        zero = equation(inside, 0)
        w.add(zero, f"an absolute value is never negative, so {shown} only where it is $0$: what is inside is zero")
        solve_polynomial(w, zero, var, [])
    elif bound == 0:
        _not_zero(w, inside, var)
    elif below:
        _between(w, inside, relation, bound, var)
    else:
        _outside(w, inside, relation, bound, var)
    return w


def _isolated(w: Worked, raw: sp.Basic, atom: sp.Basic, input_latex: str) -> tuple[type, sp.Basic]:
    """The steps from `raw` to |A| (relation) c, by the linear-inequality steps with |A| as their unknown (a symbol
    printed as |A| while they run, the absolute value itself in each step's object); returns (relation, c)."""
    shown = sp.Symbol(tex(arrange(atom)))
    lone = raw.func(*[sp.expand(evaluated(side)).xreplace({atom: shown}) for side in (raw.lhs, raw.rhs)],
                    evaluate=False)
    w.add(raw, "the inequality", input_latex)
    if lone.lhs == shown and not lone.rhs.has(shown):  # alone already: |x| ≤ 1/2 is not cleared of its fraction
        return type(lone), lone.rhs
    sub = inequality_steps(lone, shown, input_latex)
    for step in sub.steps[1:]:
        w.add(step.expr.xreplace({shown: atom}), step.reason, step.latex)
    last = sub.steps[-1].expr
    if last.lhs != shown or last.rhs.has(shown):
        raise NoSteps("the absolute value could not be brought alone to the left side")
    return type(last), last.rhs


def _not_zero(w: Worked, inside: sp.Basic, var: sp.Symbol) -> None:
    """|A| > 0: A ≠ 0, then the linear steps of A = 0 with each "=" read as "≠" (the same values are left out)."""
    w.add(sp.Ne(inside, 0, evaluate=False), "an absolute value is positive except where what is inside is zero")
    for step in polynomial_steps(equation(inside, 0), var).steps[1:]:
        unequal = sp.Ne(step.expr.lhs, step.expr.rhs, evaluate=False)
        w.add(unequal, step.reason)


def _pieces(w: Worked, pieces: list[Any], var: sp.Symbol, line: Callable[[list[Any]], tuple[Any, str]],
            reword: Callable[[str], str] = str) -> list[Any]:
    """The two linear inequalities solved side by side by the linear steps (the same moves, as A is the same), a
    line for each step written by `line` (object, LaTeX) from the two, its reason the steps' own through `reword`;
    returns the two last inequalities."""
    if pieces[0].lhs == var:  # |x| < 3: -3 < x < 3 is solved already
        return pieces
    subs = [inequality_steps(p, var, tex(p)) for p in pieces]
    if len({len(s.steps) for s in subs}) != 1:
        raise NoSteps("the two inequalities of the absolute value took different steps")
    for i in range(1, len(subs[0].steps)):
        now = [s.steps[i] for s in subs]
        expr, latex = line([s.expr for s in now])
        w.add(expr, reword(now[0].reason), latex)
    return [s.steps[-1].expr for s in subs]


def _interval(piece: Any) -> sp.Set:
    """x < a, x ≤ a, x > a or x ≥ a as an interval."""
    relation, value = type(piece), piece.rhs
    if relation in (sp.Lt, sp.Le):
        return sp.Interval(-sp.oo, value, right_open=relation is sp.Lt)
    return sp.Interval(value, sp.oo, left_open=relation is sp.Gt)


def _double(pieces: list[Any]) -> tuple[Any, str]:
    """A > lo and A < hi (or the same reversed) as the double inequality lo < A < hi."""
    low, high = sorted(pieces, key=lambda p: type(p) in (sp.Lt, sp.Le))  # the lower bound: A > lo
    if low.lhs != high.lhs:
        raise NoSteps("the two inequalities of the absolute value took different steps")
    latex = f"{plain(low.rhs)} {SYMBOL[FLIPPED[type(low)]]} {tex(low.lhs)} {SYMBOL[type(high)]} {plain(high.rhs)}"
    return sp.And(*pieces), latex


def _three_parts(reason: str) -> str:
    """A move on both sides of an inequality, said of the three parts of a double inequality."""
    return reason.replace("both sides", "all three parts").replace("reverse the sign", "reverse both signs")


def _either(pieces: list[Any]) -> tuple[Any, str]:
    return sp.Or(*pieces, evaluate=False), OR_TEX.join(tex(p) for p in pieces)


def _between(w: Worked, inside: sp.Basic, relation: type, bound: sp.Basic, var: sp.Symbol) -> None:
    """|A| < c (c > 0): −c < A < c, its three parts solved together, then the interval."""
    pieces = [FLIPPED[relation](inside, -bound, evaluate=False), relation(inside, bound, evaluate=False)]
    expr, latex = _double(pieces)
    included = " (both included)" if relation is sp.Le else ""
    w.add(expr, f"an absolute value is the distance from $0$: ${plain(inside)}$ lies between ${plain(-bound)}$ and "
                f"${plain(bound)}${included}", latex)
    last = _pieces(w, pieces, var, _double, _three_parts)
    answer = sp.Intersection(*[_interval(p) for p in last])
    w.add(sp.Contains(var, answer, evaluate=False), "write the solution as an interval")


def _outside(w: Worked, inside: sp.Basic, relation: type, bound: sp.Basic, var: sp.Symbol) -> None:
    """|A| > c (c > 0): A < −c or A > c, both solved side by side, then the two intervals."""
    pieces = [FLIPPED[relation](inside, -bound, evaluate=False), relation(inside, bound, evaluate=False)]
    expr, latex = _either(pieces)
    included = " (or equal to them)" if relation is sp.Ge else ""
    w.add(expr, f"an absolute value is the distance from $0$: ${plain(inside)}$ is below ${plain(-bound)}$ or above "
                f"${plain(bound)}${included}", latex)
    last = _pieces(w, pieces, var, _either)
    answer = sp.Union(*[_interval(p) for p in last])
    w.add(sp.Contains(var, answer, evaluate=False), "write the solution as intervals")
