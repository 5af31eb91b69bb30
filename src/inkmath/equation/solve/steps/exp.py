"""Worked solutions of simple exponential and logarithmic equations: A·b^{g(x)} + B = C and A·log_b(g(x)) + B = C,
with one power of the unknown or one logarithm of it, g linear in x, and numbers A, B, C.

Exponential: isolate b^{g} = v. A power of a positive base is positive, so v ≤ 0 has no solution. When b and v are
powers of one whole number c (4^x = 8: 2^{2x} = 2^{3}), write both sides as powers of it and equate the exponents;
otherwise take the logarithm of both sides (2^x = 5: x = log_2 5). Logarithmic: isolate log_b(g) = r, then by the
definition of the logarithm g = b^r, which is positive, so the logarithm is defined there. Either way the last
equation is linear in x and gets the linear steps (`steps_linear.linear_steps`).
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import (
    NoSteps, Worked, arrange, equation, evaluated, plain, same_line, signed, tex,
)
from inkmath.equation.solve.steps.linear import linear_steps, ordered_roots, quadratic_steps
from inkmath.equation.solve.steps.poly import SUBSTITUTE_NAMES


def _applications(expr: sp.Basic, var: sp.Symbol) -> set[sp.Basic]:
    """The powers with the unknown in the exponent (and a base without it), and the logarithms of the unknown."""
    powers = {a for a in expr.atoms(sp.Pow, sp.exp)
              if a.as_base_exp()[1].has(var) and not a.as_base_exp()[0].has(var)}
    logs = {a for a in expr.atoms(sp.log) if a.has(var)}
    return powers | logs


def _split(raw: sp.Eq, var: sp.Symbol) -> tuple[sp.Basic, sp.Basic, sp.Basic, sp.Basic] | None:
    """(the application, A, B, C) for A·app + B = C with the unknown only in app (either side), else None."""
    sides = [evaluated(raw.lhs), evaluated(raw.rhs)]
    with_var = [s for s in sides if s.has(var)]
    if len(with_var) != 1:
        return None
    side, other = with_var[0], sides[1] if sides[0] is with_var[0] else sides[0]
    apps = _applications(side, var)
    if len(apps) != 1:
        return None
    (app,) = apps
    g = sp.Dummy("g")
    linear = sp.expand(side.xreplace({app: g}))
    if linear.has(var) or not linear.is_polynomial(g) or sp.degree(linear, g) != 1:
        return None
    inner = app.args[0] if isinstance(app, sp.log) else app.as_base_exp()[1]
    if not sp.expand(inner).is_polynomial(var) or sp.degree(sp.expand(inner), var) != 1:
        return None
    return app, linear.coeff(g, 1), linear.coeff(g, 0), other


def _substituted_power(raw: sp.Eq, var: sp.Symbol) -> sp.Basic | None:
    """b^x when the equation, expanded, is linear or quadratic in b^x (4^x - 3·2^x + 2 = 0 and 2^x + 2^{x+1} = 12:
    2^x, the power of the smallest base with the exponent x itself), else None. For an equation in several powers
    of x as written: one power alone is ``_split``'s."""
    f = sp.expand(evaluated(raw.lhs - raw.rhs))
    powers = _applications(f, var)
    units = sorted((a for a in powers if not isinstance(a, sp.log) and a.as_base_exp()[1] == var),
                   key=lambda a: float(a.as_base_exp()[0]))
    if not units:
        return None
    u = sp.Dummy("u")
    quadratic = sp.expand(f.subs(units[0], u))
    if quadratic.has(var) or not quadratic.is_polynomial(u) or sp.degree(quadratic, u) not in (1, 2):
        return None
    return units[0]


def is_exp_or_log_equation(raw: sp.Eq, var: sp.Symbol) -> bool:
    return _split(raw, var) is not None or _substituted_power(raw, var) is not None


def _log_base(coefficient: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """(b, m) for a logarithm's coefficient m/ln(b) as SymPy writes log_b (ln: b = e, m the coefficient)."""
    logs = coefficient.atoms(sp.log)
    if len(logs) == 1:
        (ln_b,) = logs
        m = sp.simplify(coefficient * ln_b)
        if m.is_Rational:
            return ln_b.args[0], m
    return sp.E, coefficient


def _log_tex(base: sp.Basic, arg: sp.Basic) -> str:
    if base is sp.E:
        return rf"\ln\left({plain(arg)}\right)"
    return rf"\log_{{{plain(base)}}}\left({plain(arg)}\right)"


def _as_power(value: sp.Basic) -> tuple[int, sp.Integer] | None:
    """(c, k) with value = c^k for the smallest whole number c (8 = 2^3, 1/100 = 10^{-2}); None when value is not a
    whole number above 1 or one over such a number."""
    if not value.is_Rational or value <= 0 or value == 1:
        return None
    whole, sign = (int(value.p), 1) if value.q == 1 else (int(value.q), -1) if value.p == 1 else (0, 0)
    if whole < 2:
        return None
    power = sp.perfect_power(whole)
    c, k = power if power else (whole, 1)
    return int(c), sp.Integer(sign * k)


def _common_base(b: sp.Basic, v: sp.Basic) -> tuple[int, sp.Integer, sp.Integer] | None:
    """(c, p, q) with b = c^p and v = c^q for a whole number c (4 and 8: 2, 2, 3); None when there is none."""
    pb = _as_power(b)
    if pb is None:
        return None
    if v == 1:
        return pb[0], pb[1], sp.Integer(0)
    pv = _as_power(v)
    if pv is None or pv[0] != pb[0]:
        return None
    return pb[0], pb[1], pv[1]


def exp_log_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    split = _split(raw, var)
    if split is None:
        return _substitution_steps(raw, var, input_latex)
    app, a, b, c = split
    w = Worked("exponential" if not isinstance(app, sp.log) else "logarithmic", variables=[var])
    w.add(raw, "the equation", input_latex)
    if isinstance(app, sp.log):
        return _log_steps(w, app, a, b, c, var)
    return _exp_steps(w, app, a, b, c, var)


def _isolate(w: Worked, shown: sp.Basic, a: sp.Basic, b: sp.Basic, value: sp.Basic, latex: str | None = None) -> None:
    """The step to `shown` = value from A·app + B = C, when that is not the equation already."""
    if a == 1 and b == 0:
        return
    moves = [signed(b, "both sides")] if b != 0 else []
    if a != 1:
        moves.append(f"divide both sides by ${plain(a)}$")
    w.add(equation(shown, value), " and ".join(moves), latex)


def _exp_steps(w: Worked, app: sp.Basic, a, b, c, var: sp.Symbol) -> Worked:
    base, exponent = app.as_base_exp()
    value = sp.nsimplify(sp.radsimp((c - b) / a))
    shown = sp.Pow(base, exponent, evaluate=False)
    _isolate(w, shown, a, b, value)
    if not value.is_positive:
        w.add(sp.false, f"a power of a positive base is always positive, so it never equals ${plain(value)}$: no "
                        f"real solution", latex=r"\text{no real solution}")
        return w
    if base is sp.E:
        lhs, rhs = exponent, sp.log(value)
        if rhs.has(sp.log):
            w.add(equation(arrange(lhs), rhs), "take the natural logarithm of both sides")
        else:
            if not (isinstance(value, (sp.Pow, sp.exp)) and value.as_base_exp() == (sp.E, rhs)):
                w.add(equation(shown, sp.Pow(sp.E, rhs, evaluate=False)), f"write ${plain(value)}$ as a power of $e$",
                      latex=f"{plain(shown)} = e^{{{plain(rhs)}}}")
            w.add(equation(arrange(lhs), rhs), "equal powers of the same base have equal exponents")
    else:
        common = _common_base(base, value)
        if common is None:
            lhs, rhs = exponent, sp.log(value, base)
            w.add(equation(arrange(lhs), rhs), f"take the logarithm to base ${plain(base)}$ of both sides",
                  latex=f"{plain(arrange(lhs))} = \\log_{{{plain(base)}}} {plain(value)}")
        else:
            c_base, p, q = common
            reason = f"write ${plain(value)}$ as a power of ${plain(base)}$" if c_base == base else \
                f"write both sides as powers of ${c_base}$"
            lhs, rhs = arrange(sp.expand(p * exponent)), q
            w.add(equation(sp.Pow(sp.Integer(c_base), lhs, evaluate=False),
                           sp.Pow(sp.Integer(c_base), q, evaluate=False)), reason,
                  latex=f"{c_base}^{{{plain(lhs)}}} = {c_base}^{{{plain(q)}}}")
            w.add(equation(lhs, rhs), "equal powers of the same base have equal exponents")
    return _then_linear(w, equation(arrange(lhs), rhs), var)


def _log_steps(w: Worked, app: sp.log, a, b, c, var: sp.Symbol) -> Worked:
    base, m = _log_base(a)
    arg = app.args[0]
    r = sp.nsimplify(sp.radsimp((c - b) / m))
    # log_b(arg) = r, shown as written; SymPy's log(arg, b) is ln(arg)/ln(b), unevaluated here for the check
    shown = sp.log(arg) if base is sp.E else sp.Mul(sp.log(arg), sp.Pow(sp.log(base), -1), evaluate=False)
    _isolate(w, shown, m, b, r, latex=f"{_log_tex(base, arg)} = {plain(r)}")
    if r.has(var) or not r.is_number:
        raise NoSteps("a logarithm equal to an expression is answered without steps")
    power = sp.Pow(base, r, evaluate=False)
    name = r"\ln" if base is sp.E else rf"\log_{{{plain(base)}}}"
    w.add(equation(arrange(arg), power), f"by the definition of the logarithm, ${name} u = {plain(r)}$ means "
                                          f"$u = {sp.latex(power)}$, a positive number, so the logarithm is defined")
    value = sp.simplify(sp.Pow(base, r))
    if not same_line(tex(equation(arrange(arg), value)), w.steps[-1].latex):
        w.add(equation(arrange(arg), value), "work out the power")
    return _then_linear(w, equation(arrange(arg), value), var)


def _then_linear(w: Worked, eq: sp.Eq, var: sp.Symbol) -> Worked:
    """The linear equation's own steps after the line `eq` (already shown)."""
    if sp.expand(eq.lhs - var) == 0 and not eq.rhs.has(var):
        return w
    rest = linear_steps(eq, var, w.steps[-1].latex)
    for step in rest.steps[1:]:
        w.add(step.expr, step.reason, step.latex)
    return w


def _substitution_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    """A linear or quadratic equation in u = b^x: its steps in u, then b^x = each root, each solved as a power
    equation."""
    power = _substituted_power(raw, var)
    u = sp.Symbol(next(n for n in SUBSTITUTE_NAMES if n != var.name))
    in_u = sp.expand(sp.expand(evaluated(raw.lhs - raw.rhs)).subs(power, u))
    quadratic = sp.degree(in_u, u) == 2
    written = equation(arrange(in_u), 0)
    where = f",\\quad {tex(u)} = {tex(power)}"
    w = Worked("exponential", variables=[var])
    w.add(raw, "the equation", input_latex)
    if quadratic:
        reason = (f"write ${tex(u)} = {tex(power)}$, so ${tex(power ** 2)} = {tex(u ** 2)}$: a quadratic equation in "
                  f"${tex(u)}$")
    else:
        reason = f"write every power as a multiple of ${tex(power)} = {tex(u)}$: a linear equation in ${tex(u)}$"
    w.add(sp.Subs(written, u, power), reason, latex=tex(written) + where)
    steps_in_u = (quadratic_steps if quadratic else linear_steps)(written, u, tex(written))
    for step in steps_in_u.steps[1:]:
        if step.expr is sp.false:
            w.add(sp.false, step.reason + f"; with no real ${tex(u)}$ there is no real ${tex(var)}$",
                  latex=r"\text{no real solution}")
            return w
        w.add(sp.Subs(step.expr, u, power), step.reason, latex=step.latex + where)
    values = ordered_roots([eq.rhs for eq in sp.Or.make_args(w.steps[-1].expr.expr)])
    w.add_either([equation(power, v) for v in values], f"put back ${tex(u)} = {tex(power)}$")
    base = power.as_base_exp()[0]
    roots, said = [], []
    for v in values:
        if not v.is_positive:
            said.append(f"${tex(equation(power, v))}$ has no solution (a power of a positive base is positive)")
            continue
        common = _common_base(base, v) if base is not sp.E else None
        root = sp.Rational(common[2], common[1]) if common else sp.log(v) if base is sp.E else sp.log(v, base)
        roots.append(root)
        said.append(f"${tex(equation(power, v))}$ gives ${tex(equation(var, root))}$")
    if not roots:
        w.add(sp.false, "; ".join(said), latex=r"\text{no real solution}")
        return w
    w.add_either([equation(var, r) for r in ordered_roots(roots)],
                 ("solve each: " if len(values) > 1 else "solve: ") + "; ".join(said))
    return w
