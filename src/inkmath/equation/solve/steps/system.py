"""Worked solutions of systems of two or three linear equations: elimination, then back substitution.

Every step shows the whole system (a `Tuple` of equations): replacing one equation by a combination of itself
(times a non-zero number) and another keeps the solution set, which is what the checker verifies.
"""

from __future__ import annotations

import math

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, Worked, arrange, equation, same_line, tex, total

MAX_SYSTEM = 3  # equations (and unknowns) with steps
_PREFERRED = ("x", "y", "z", "t")  # the solver's order of unknowns (inkmath.equation.solve.answer)
_ORDINAL = ("first", "second", "third")


def system_unknowns(items: list[sp.Basic]) -> list[sp.Symbol]:
    symbols = set().union(*[item.free_symbols for item in items])
    return sorted(symbols, key=lambda s: (_PREFERRED.index(s.name) if s.name in _PREFERRED else len(_PREFERRED),
                                          s.name))


def _line(row: list[sp.Rational], variables: list[sp.Symbol]) -> sp.Eq:
    """a x + b y + c z = d as an equation, terms in the order of the unknowns."""
    return equation(total([arrange(a * v) for a, v in zip(row, variables) if a != 0]), row[-1])


def _system(rows: list[list[sp.Rational]], variables: list[sp.Symbol]) -> sp.Tuple:
    return sp.Tuple(*[_line(r, variables) for r in rows])


def _integer_row(row: list[sp.Rational]) -> list[sp.Rational]:
    """The row times the common denominator, divided by the common factor (3/2 x + y = 1 -> 3x + 2y = 2)."""
    return [v * _scale(row) for v in row]


def _scale(row: list[sp.Rational]) -> sp.Rational:
    """What `_integer_row` multiplies the row by: whole, coprime numbers with a positive first coefficient."""
    den = math.lcm(*[int(sp.Rational(v).q) for v in row])
    ints = [int(v * den) for v in row]
    g = math.gcd(*ints) or 1
    if next((v for v in ints if v != 0), 1) < 0:
        g = -g
    return sp.Rational(den, g)


def _number(value: sp.Basic) -> str:
    return tex(value) if value >= 0 else f"({tex(value)})"


def system_steps(raw: list[sp.Basic], items: list[sp.Basic], input_latex: str) -> Worked:
    if not 2 <= len(items) <= MAX_SYSTEM:
        raise NoSteps(f"systems of 2 to {MAX_SYSTEM} equations get steps, this one has {len(items)}")
    if not all(isinstance(item, sp.Eq) for item in items):
        raise NoSteps("a system gets steps when every line is an equation")
    variables = system_unknowns(items)
    if len(variables) != len(items):
        raise NoSteps("a system gets steps when it has as many equations as unknowns")
    rows = []
    for item in items:
        f = sp.expand(item.lhs - item.rhs)
        if not f.is_polynomial(*variables) or sp.Poly(f, *variables).total_degree() > 1:
            raise NoSteps("only linear systems get steps")
        coeffs = [f.coeff(v, 1) for v in variables]
        constant = f.subs({v: 0 for v in variables})
        if not all(c.is_Rational for c in coeffs) or not constant.is_Rational:
            raise NoSteps("a system gets steps when its coefficients are numbers")
        rows.append(coeffs + [-constant])
    w = Worked("system", variables=variables)
    w.add(sp.Tuple(*raw), "the system", input_latex)
    clean = [_integer_row(r) if any(v != 0 for v in r[:-1]) else r for r in rows]
    if not same_line(tex(_system(clean, variables)), input_latex):
        reason = "write each equation with the unknowns on the left and the number on the right"
        if clean != [list(r) for r in rows]:
            reason += ", with whole numbers"
        w.add(_system(clean, variables), reason)
    rows = clean
    n = len(rows)
    for col in range(n):
        pivot = next((r for r in range(col, n) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        if pivot != col:
            rows[col], rows[pivot] = rows[pivot], rows[col]
            w.add(_system(rows, variables), f"swap the {_ORDINAL[col]} and {_ORDINAL[pivot]} equations")
        for r in range(col + 1, n):
            if rows[r][col] == 0:
                continue
            p, q = int(rows[col][col]), int(rows[r][col])
            g = math.gcd(p, q)
            m_r, m_c = sp.Integer(p // g), sp.Integer(q // g)
            combined = [m_r * a - m_c * b for a, b in zip(rows[r], rows[col])]
            scale = _scale(combined) if any(v != 0 for v in combined[:-1]) else sp.Integer(1)
            rows[r] = [v * scale for v in combined]
            name = tex(variables[col])
            times = "" if abs(m_c) == 1 else f"${abs(m_c)}$ times "
            verb = "subtract" if m_c > 0 else "add"
            link = "from" if m_c > 0 else "to"
            how = f"{verb} {times}the {_ORDINAL[col]} equation {link} "
            how += f"the {_ORDINAL[r]}" if m_r == 1 else f"${_number(m_r)}$ times the {_ORDINAL[r]}"
            if scale != 1:
                how += f", then divide by ${tex(1 / scale)}$"
            w.add(_system(rows, variables), f"eliminate ${name}$: {how}")
    for r, row in enumerate(rows):
        if all(v == 0 for v in row[:-1]):
            if row[-1] != 0:
                w.add(_system(rows, variables), f"the {_ORDINAL[r]} equation says $0 = {tex(row[-1])}$, which is "
                                                "false: the system has no solution", latex=r"\text{no solution}")
                return w
            raise NoSteps("the equations depend on each other (infinitely many solutions); answered without steps")
    lines = list(_system(rows, variables).args)
    values: dict[sp.Symbol, sp.Basic] = {}
    for r in reversed(range(n)):
        var, row = variables[r], rows[r]
        known = {v: values[v] for v in variables[r + 1:] if row[variables.index(v)] != 0}
        if known:
            rest = sum((row[variables.index(v)] * val for v, val in known.items()), sp.Integer(0))
            lines[r] = equation(total([arrange(row[r] * var), arrange(rest)]), row[-1])
            names = ", ".join(f"${tex(v)} = {tex(val)}$" for v, val in known.items())
            w.add(sp.Tuple(*lines), f"substitute {names} into the {_ORDINAL[r]} equation")
            if rest != 0:
                lines[r] = equation(arrange(row[r] * var), row[-1] - rest)
                w.add(sp.Tuple(*lines), "move the number to the right side")
        values[var] = (row[-1] - sum((row[variables.index(v)] * val for v, val in known.items()),
                                     sp.Integer(0))) / row[r]
        if row[r] != 1 or not same_line(tex(lines[r]), tex(equation(var, values[var]))):
            lines[r] = equation(var, values[var])
            w.add(sp.Tuple(*lines), f"solve for ${tex(var)}$" + (f": divide by ${tex(row[r])}$" if row[r] != 1 else ""))
    return w
