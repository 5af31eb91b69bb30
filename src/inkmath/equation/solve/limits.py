"""Size guards of the solver: refuse hopeless work before SymPy starts, and show over-long numbers as decimals.

A polynomial of degree above `MAX_DEGREE` is not solved exactly (`check_degree` reads the degree off the written
form, so `x^{10^{10}} = 1` is refused at once, and computes it exactly only up to `EXACT_DEGREE_LIMIT`); an
expression of written degree above `EXACT_DEGREE_LIMIT` is not expanded or simplified (`too_high_to_expand`). An
exact number of more than `MAX_SHOWN_DIGITS` digits is shown as a 12-digit decimal (`too_long`, with the note
`LONG_NUMBER_NOTE`). A refusal raises `CannotSolve`, which the solver (`inkmath.equation.solve.answer`) turns into an
answer of kind "none" with the reason.
"""

from __future__ import annotations

import math

import sympy as sp

from inkmath.equation.solve.tosympy import PLUS_MINUS


class CannotSolve(Exception):
    """Raised inside the solver for a reason the user should read (becomes kind "none")."""


MAX_DEGREE = 40  # polynomials above this degree are not solved exactly (roots of x^99999 would never finish)
# The degree read off the written form is only a bound when terms may cancel ((x+1)^50 - x^50 has degree 49);
# up to this bound the exact degree is computed (SymPy's Poly of (x+1)^200 takes 0.05 s here, of (x+1)^1000 1 s,
# and of x^{10^{10}} would fill the memory: it stores every coefficient).
EXACT_DEGREE_LIMIT = 200


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


def check_degree(f: sp.Basic, variables: list[sp.Symbol]) -> None:
    """Refuse a polynomial of degree above MAX_DEGREE before SymPy builds it (the total degree for a system)."""
    if not f.is_polynomial(*variables):
        return
    bound, exact = degree_bound(f, set(variables))
    if bound <= MAX_DEGREE:
        return
    if exact or bound > EXACT_DEGREE_LIMIT:
        size = f"{bound}" if exact else f"up to {bound}"
        raise CannotSolve(f"a polynomial of degree {size} is too high to solve exactly (limit {MAX_DEGREE})")
    degree = sp.Poly(f, *variables).total_degree() if f != 0 else 0
    if degree > MAX_DEGREE:
        raise CannotSolve(f"a polynomial of degree {degree} is too high to solve exactly (limit {MAX_DEGREE})")


# Python refuses to turn an int of more than 4300 digits into text (sys.int_info.default_max_str_digits, a guard
# against slow conversions); the numbers the parser allows (MAX_NUMBER_BITS, 5000!) and their products go beyond
# it, so an exact number longer than this is shown as a 12-digit decimal instead.
MAX_SHOWN_DIGITS = 4000
LONG_NUMBER_NOTE = f"a number of more than {MAX_SHOWN_DIGITS} digits is shown as a 12-digit decimal"


def too_long(expr: sp.Basic) -> bool:
    """Does a number in expr have more than MAX_SHOWN_DIGITS digits?"""
    limit = MAX_SHOWN_DIGITS * math.log2(10)
    return any(max(abs(int(r.p)), int(r.q)).bit_length() > limit for r in expr.atoms(sp.Rational))


def long_notes(items: list[sp.Basic]) -> list[str]:
    return [LONG_NUMBER_NOTE] if any(too_long(item) for item in items) else []
