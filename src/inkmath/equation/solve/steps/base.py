"""What every kind of worked solution shares: the `Step` record, the reason a problem gets no steps, and the
helpers that keep a line as a student writes it (SymPy's unevaluated objects, printed in the order built).

A step holds a SymPy object that says the same as its LaTeX line, so it can be checked:
- an equation or inequality: `Eq(lhs, rhs, evaluate=False)`, `Lt(...)`;
- alternatives ("x = 2 or x = 3"): `Or(Eq(x, 2), Eq(x, 3))`;
- a line with its conditions ("2(x+1) = 3(x-1), x ≠ 1"): `And(Eq(...), Ne(x, 1))`, the solutions of both;
- a family of solutions: `Contains(x, Union(ImageSet(Lambda(k, ...), Integers), ...))`; intervals the same way,
  `Contains(x, Union(Interval(-oo, -2), Interval(2, oo)))`;
- a line in a substituted letter (u = x^2 in a biquadratic): `Subs(line in u, u, x**2)`;
- a system: `Tuple(Eq(...), Eq(...))`, all of its equations at once;
- an expression (arithmetic, simplifying): the expression itself, unevaluated where it shows a stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

MAX_STEPS = 40  # a worked solution longer than this is not shown (a huge arithmetic expression)
OR_TEX = r" \quad\text{or}\quad "


class NoSteps(Exception):
    """This problem gets no worked solution; the message says why (shown to the user as `steps_reason`)."""


@dataclass
class Step:
    expr: Any  # a SymPy object as described in the module docstring
    latex: str
    reason: str

    def to_dict(self, mathml: bool = True) -> dict[str, str]:
        """The JSON form: `latex`, `reason` (English, inline math between $...$), `sympy` (srepr, for checking)
        and, unless `mathml` is False, `mathml` (the line as display MathML, for pages without a LaTeX renderer)."""
        out = {"latex": self.latex, "reason": self.reason, "sympy": sp.srepr(self.expr)}
        if mathml:
            from inkmath.equation.core.latex import to_mathml

            out["mathml"] = to_mathml(self.latex)
        return out


@dataclass
class Worked:
    """A worked solution: its kind ("linear", "quadratic", ...), its steps, and the unknowns it solves for."""

    kind: str
    steps: list[Step] = field(default_factory=list)
    variables: list[sp.Symbol] = field(default_factory=list)

    def add(self, expr: Any, reason: str, latex: str | None = None) -> None:
        self.insert(len(self.steps), expr, reason, latex)

    def insert(self, index: int, expr: Any, reason: str, latex: str | None = None) -> None:
        """A step at `index` (the first is the problem as written)."""
        if len(self.steps) >= MAX_STEPS:
            raise NoSteps(f"the worked solution would take more than {MAX_STEPS} steps")
        self.steps.insert(index, Step(expr, latex if latex is not None else tex(expr), reason))

    def add_either(self, eqs: list[Any], reason: str) -> None:
        """A step of alternatives ("x = 2 or x = 3"), written in the order given."""
        expr, latex = either(eqs)
        self.add(expr, reason, latex)


# ---------------------------------------------------------------- writing lines as a student does


def arrange(expr: Any) -> Any:
    """The same expression rebuilt unevaluated with every sum in the usual order (x^2 - 5x + 6, not 6 - 5x + x^2),
    so that `tex`, which prints objects in the order they were built, shows it as a student writes it."""
    if isinstance(expr, Relational):
        return type(expr)(arrange(expr.lhs), arrange(expr.rhs), evaluate=False)
    if not isinstance(expr, sp.Expr) or expr.is_Atom:
        return expr
    if isinstance(expr, sp.Add):
        return sp.Add(*[arrange(t) for t in expr.as_ordered_terms()], evaluate=False)
    if isinstance(expr, sp.Mul):
        return sp.Mul(*[arrange(a) for a in expr.args], evaluate=False)
    if isinstance(expr, sp.Pow):
        return sp.Pow(arrange(expr.base), expr.exp, evaluate=False)
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        try:
            return expr.func(arrange(expr.args[0]), evaluate=False)
        except TypeError:
            return expr
    return expr


def evaluated(expr: Any) -> Any:
    """The same object with SymPy's automatic simplification applied at every level (3x + 2x -> 5x)."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args:
        return expr
    args = [evaluated(a) for a in expr.args]
    if isinstance(expr, (sp.Add, sp.Mul, sp.Pow)) or isinstance(expr, sp.Function):
        return expr.func(*args)
    return expr.func(*args)


def same_line(a: str, b: str) -> bool:
    """Do two LaTeX lines read the same (ignoring spaces: the typed `5x` and SymPy's `5 x`)?"""
    return "".join(a.split()) == "".join(b.split())


def tex(expr: Any) -> str:
    """LaTeX of a step's object in the order it was built (`arrange` evaluated parts first)."""
    if isinstance(expr, sp.Or):
        return OR_TEX.join(tex(a) for a in expr.args)
    if isinstance(expr, sp.Tuple):
        return r" \\ ".join(tex(a) for a in expr.args)
    return sp.latex(expr, order="none", inv_trig_style="full", ln_notation=True)


def plain(expr: Any) -> str:
    """LaTeX of an evaluated expression in the usual order (for the numbers named in a reason)."""
    return tex(arrange(expr))


def terms(expr: sp.Basic) -> list[sp.Basic]:
    """The terms of a sum as written, flattening nested unevaluated sums (`a + b + c` built as (a + b) + c)."""
    if isinstance(expr, sp.Add):
        out: list[sp.Basic] = []
        for arg in expr.args:
            out.extend(terms(arg))
        return out
    return [expr]


def total(parts: list[sp.Basic]) -> sp.Basic:
    """An unevaluated sum of the parts, in this order (a single part is itself; none is 0); a part that is itself
    a sum is spread out, so no brackets appear around it."""
    parts = [t for p in parts for t in (p.args if isinstance(p, sp.Add) else [p]) if t != 0] or [sp.Integer(0)]
    return parts[0] if len(parts) == 1 else sp.Add(*parts, evaluate=False)


def equation(lhs: sp.Basic, rhs: sp.Basic) -> sp.Eq:
    return sp.Eq(lhs, rhs, evaluate=False)


def either(eqs: list[Any]) -> tuple[Any, str]:
    """("x = 2 or x = 3" as `Or`, its LaTeX in this order): `Or` keeps its arguments as a set, unordered."""
    expr = eqs[0] if len(eqs) == 1 else sp.Or(*eqs, evaluate=False)
    return expr, OR_TEX.join(tex(e) for e in eqs)


def signed(value: sp.Basic, what: str) -> str:
    """'add 3 to both sides' / 'subtract 3 from both sides' for moving `value` (a term to cancel)."""
    if value.could_extract_minus_sign():
        return f"add ${plain(-value)}$ to {what}"
    return f"subtract ${plain(value)}$ from {what}"


def has_brackets(expr: sp.Basic) -> bool:
    """True if a term multiplies or raises a sum: 2(x-1), (x+1)^2, x(x+3)."""
    for sub in sp.preorder_traversal(expr):
        if isinstance(sub, sp.Mul) and any(isinstance(a, sp.Add) for a in sub.args):
            return True
        if isinstance(sub, sp.Pow) and isinstance(sub.base, sp.Add) and sub.exp.is_Integer and sub.exp > 1:
            return True
    return False


def number_denominators(expr: sp.Basic) -> list[int]:
    """The whole-number denominators of the fractions written in an expression (x/2 + x/3 -> [2, 3])."""
    out = []
    for sub in sp.preorder_traversal(expr):
        if isinstance(sub, sp.Rational) and sub.q != 1:
            out.append(int(sub.q))
        elif isinstance(sub, sp.Pow) and sub.exp == -1 and sub.base.is_Integer and sub.base > 1:
            out.append(int(sub.base))
    return out
