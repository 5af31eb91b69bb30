"""Worked solutions of simple trigonometric equations: A·f(ax) + B = 0 with f one of sin, cos, tan.

Steps: isolate f(ax) = v; the principal value p (arcsin, arccos or arctan of v), written as f(ax) = f(p), which
has the same solutions; then the general solution (sin: ax = p + 2kπ or π − p + 2kπ; cos: ax = ±p + 2kπ;
tan: ax = p + kπ) and, when a ≠ 1, x from ax. A sine or cosine equal to a number outside [−1, 1] has no solution.
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.text import period_counter
from inkmath.equation.solve.steps.base import NoSteps, OR_TEX, Worked, arrange, equation, evaluated, plain, signed

_TRIG = (sp.sin, sp.cos, sp.tan)
_INVERSE = {sp.sin: sp.asin, sp.cos: sp.acos, sp.tan: sp.atan}
_NAME = {sp.sin: "\\arcsin", sp.cos: "\\arccos", sp.tan: "\\arctan"}


def _application(f: sp.Basic, var: sp.Symbol) -> sp.Basic | None:
    """The one sin/cos/tan(a·x) in f, or None when there are none or several different ones."""
    found = {a for a in f.atoms(sp.Function) if a.has(var)}
    if len(found) != 1:
        return None
    (app,) = found
    if app.func not in _TRIG:
        return None
    arg = app.args[0]
    coeff = sp.expand(arg / var)
    if not coeff.is_Rational or coeff == 0:
        return None
    return app


def is_trig_equation(f: sp.Basic, var: sp.Symbol) -> bool:
    """True for A·f(ax) + B = 0 (f = lhs − rhs expanded) with A, B numbers and f = sin, cos or tan."""
    app = _application(f, var)
    if app is None:
        return False
    g = sp.Dummy("g")
    linear = sp.expand(f.xreplace({app: g}))
    return not linear.has(var) and linear.is_polynomial(g) and sp.degree(linear, g) == 1


def _families(func: type, p: sp.Basic, k: sp.Symbol) -> list[sp.Basic]:
    """The general solution of func(u) = func(p) as expressions in k (duplicates mod the period removed)."""
    if func is sp.tan:
        return [p + sp.pi * k]
    candidates = [p, sp.pi - p] if func is sp.sin else [p, -p]
    out: list[sp.Basic] = []
    for c in candidates:
        if all(not (sp.simplify((c - o) / (2 * sp.pi))).is_integer for o in out):
            out.append(sp.simplify(c))
    return [c + 2 * sp.pi * k for c in out]


def _family_tex(var_tex: str, families: list[sp.Basic], k: sp.Symbol) -> str:
    return OR_TEX.join(f"{var_tex} = {plain(f)}" for f in families) + rf", \quad {k.name} \in \mathbb{{Z}}"


def _contains(var: sp.Symbol, families: list[sp.Basic], k: sp.Symbol) -> sp.Basic:
    sets = [sp.ImageSet(sp.Lambda(k, f), sp.S.Integers) for f in families]
    return sp.Contains(var, sets[0] if len(sets) == 1 else sp.Union(*sets, evaluate=False), evaluate=False)


def trig_steps(raw: sp.Eq, f: sp.Basic, var: sp.Symbol, input_latex: str) -> Worked:
    app = _application(f, var)
    func, arg = app.func, app.args[0]
    g = sp.Dummy("g")
    linear = sp.expand(f.xreplace({app: g}))
    a_coef, b_coef = linear.coeff(g, 1), linear.coeff(g, 0)
    value = sp.nsimplify(sp.radsimp(-b_coef / a_coef))
    w = Worked("trig", variables=[var])
    w.add(raw, "the equation", input_latex)
    lhs, rhs = sp.expand(evaluated(raw.lhs)), sp.expand(evaluated(raw.rhs))
    if not lhs.has(var):
        lhs, rhs = rhs, lhs
        a_coef, b_coef = -a_coef, -b_coef
        w.add(equation(arrange(lhs), arrange(rhs)), "swap the two sides")
    if sp.expand(lhs - a_coef * app) != 0 or sp.expand(rhs + b_coef) != 0:
        left_number = sp.expand(lhs - lhs.coeff(app) * app)
        right_function = sp.expand(rhs).coeff(app)
        if right_function == 0:
            reason = signed(left_number, "both sides")
        elif left_number == 0:
            reason = signed(right_function * app, "both sides")
        else:
            reason = "move the terms with the function to the left side and the numbers to the right"
        lhs, rhs = a_coef * app, -b_coef  # the function's term on the left, the number on the right
        w.add(equation(arrange(lhs), arrange(rhs)), reason)
    if a_coef != 1:
        w.add(equation(app, value), f"divide both sides by ${plain(a_coef)}$")
    name = func.__name__
    if func is not sp.tan and abs(float(value)) > 1:
        w.add(sp.false, f"$\\{name}$ of a real number is always between $-1$ and $1$, so it never equals "
                        f"${plain(value)}$: no real solution", latex=r"\text{no real solution}")
        return w
    principal = _INVERSE[func](value)
    if principal.has(_INVERSE[func]):
        reason = f"the principal value is ${_NAME[func]}\\left({plain(value)}\\right)$ (not a special angle)"
    else:
        reason = f"the principal value: ${_NAME[func]}\\left({plain(value)}\\right) = {plain(principal)}$"
    w.add(equation(app, func(principal, evaluate=False)), reason)
    k = period_counter(var, integer=True)
    families = _families(func, principal, k)
    period = "\\pi" if func is sp.tan else "2\\pi"
    general = f"the general solution: add any whole number ${k.name}$ of periods (${period}$)"
    if func is sp.sin and len(families) == 2:
        general += ", for the two angles with this sine ($p$ and $\\pi - p$)"
    elif func is sp.cos and len(families) == 2:
        general += ", for the two angles with this cosine ($p$ and $-p$)"
    coeff = sp.expand(arg / var)
    if coeff == 1:
        w.add(_contains(var, families, k), general, latex=_family_tex(plain(var), families, k))
        return w
    divided = [sp.expand(fam / coeff) for fam in families]
    w.add(_contains(var, divided, k), general + f", for ${plain(arg)}$", latex=_family_tex(plain(arg), families, k))
    how = f"multiply by ${plain(1 / coeff)}$" if coeff.is_Rational and abs(coeff.p) == 1 else \
        f"divide by ${plain(coeff)}$"  # x/2 = ...: multiply by 2, not divide by 1/2
    w.add(_contains(var, divided, k), how, latex=_family_tex(plain(var), divided, k))
    return w


def check_trig(f: sp.Basic, var: sp.Symbol) -> None:
    if not is_trig_equation(f, var):
        raise NoSteps("only equations like 2 sin x − 1 = 0 (one sin, cos or tan) get trigonometric steps")
