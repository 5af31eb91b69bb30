"""The values the parser of `inkmath.equation.solve.tosympy` builds from single pieces of a line: a number, a name, a
power, a root, a factorial, a binomial coefficient. Each refuses hopeless or undefined input (with `InkmathError`)
before SymPy computes it: numbers beyond `MAX_NUMBER_BITS` bits (about 30,000 digits: 9^{9^{9}}), factorials above
`MAX_FACTORIAL`, 0 to a negative power, a root of index 0, a negative factorial. An odd root of a negative number is
the real one (`real_power`: (-8)^{1/3} = -2, (-8)^{2/3} = 4). `undefined_reason` says why a built value is not a
number (an indeterminate form, a division by zero, a function of ∞ without a limit); `rebuilt` evaluates an
expression built unevaluated (for the first line of a worked solution).
"""

from __future__ import annotations

import fractions
import math
import re

import sympy as sp

from inkmath.errors import InkmathError
from inkmath.equation.solve.lexemes import CONSTANTS

MAX_NUMBER_BITS = 100_000  # numbers beyond ~30,000 digits are refused at construction (a^b with both numbers)
MAX_FACTORIAL = 5_000
_NUMBER = re.compile(r"\d*\.?\d*$")


def number_value(text: str) -> sp.Rational:
    if not _NUMBER.match(text) or not any(c.isdigit() for c in text):
        raise InkmathError(f"cannot read the number {text!r}; a number has at most one decimal point")
    value = fractions.Fraction(text)  # exact: 0.5 -> 1/2, so answers stay exact
    return sp.Rational(value.numerator, value.denominator)


def name_value(text: str) -> sp.Basic:
    if text in CONSTANTS:
        return CONSTANTS[text]
    return sp.Symbol(text.lstrip("\\"))


def _bits(value: sp.Basic) -> float:
    """About how many bits each unit of n adds to the exact number SymPy computes for value^n: 0 for ±1 (and for
    π, e, i or a sum such as 1 + √2, whose powers SymPy leaves unevaluated), the bits of a whole number or
    fraction, and in proportion for its roots (√2^n is 2^(n/2)) and products."""
    if value.is_Rational:
        if abs(value.p) == 1 and value.q == 1:
            return 0.0
        return float(max(abs(int(value.p)).bit_length(), int(value.q).bit_length()))
    if isinstance(value, sp.Pow) and value.base.is_Rational and value.exp.is_Rational:
        return _bits(value.base) * abs(float(value.exp))
    if isinstance(value, sp.Mul):
        return sum(_bits(arg) for arg in value.args)
    return 0.0


def power_value(base: sp.Basic, exponent: sp.Basic) -> sp.Basic:
    if base.is_number and exponent.is_Rational and base != 0:
        # 9^{9^{9}} or (√2)^{10^{10}} would take minutes (and gigabytes) to build; refuse anything beyond
        # MAX_NUMBER_BITS before SymPy computes it.
        if _bits(base) * abs(float(exponent)) > MAX_NUMBER_BITS:
            shown = f"{base}" if base.is_Integer and base > 0 else f"({base})"
            raise InkmathError(f"the number {shown}^{exponent} is too large to compute")
    if base == 0 and exponent.is_number and exponent.is_negative:
        raise InkmathError("division by zero: 0 raised to a negative power")
    if odd_root_of_negative(base, exponent):
        return real_power(base, exponent)
    return sp.Pow(base, exponent)


def is_odd_root(exponent: sp.Basic) -> bool:
    """A fraction, not a whole number, with an odd denominator (1/3, 2/5): its power of a negative number has a
    real value."""
    return bool(exponent.is_Rational and not exponent.is_Integer and exponent.q % 2 == 1)


def real_power(base: sp.Basic, exponent: sp.Rational) -> sp.Basic:
    """base^exponent through the real root for an `is_odd_root` exponent, as \\sqrt[3]{-8} = -2 is read:
    (-8)^{1/3} = -2, (-8)^{2/3} = 4."""
    return sp.real_root(base, exponent.q) ** exponent.p


def odd_root_of_negative(base: sp.Basic, exponent: sp.Basic) -> bool:
    return base.is_number and base.is_negative is True and is_odd_root(exponent)


def factorial_value(value: sp.Basic) -> sp.Basic:
    if value.is_Integer and value > MAX_FACTORIAL:
        raise InkmathError(f"{value}! is too large to compute (limit {MAX_FACTORIAL}!)")
    if value.is_Integer and value < 0:
        raise InkmathError(f"the factorial of a negative number, ({value})!, is undefined")
    return sp.factorial(value)


def binomial_value(top: sp.Basic, bottom: sp.Basic) -> sp.Basic:
    """\\binom{top}{bottom}: a number for numbers (\\binom{5}{2} = 10), SymPy's binomial for letters. One of more
    than MAX_NUMBER_BITS bits (at least s·log2(n/s) for s = min(k, n - k)) is refused before it is computed."""
    if top.is_Integer and bottom.is_Integer and 0 <= bottom <= top:
        small = min(int(bottom), int(top - bottom))
        if small > 0 and small * (math.log2(int(top)) - math.log2(small)) > MAX_NUMBER_BITS:
            raise InkmathError(f"the binomial coefficient ({top} choose {bottom}) is too large to compute")
    return sp.binomial(top, bottom)


def root_value(body: sp.Basic, index: sp.Basic) -> sp.Basic:
    if index == 0:
        raise InkmathError("a root with index 0 is undefined")
    if index.is_Integer and index % 2 == 1 and body.is_number and body.is_negative:
        return sp.real_root(body, index)  # a student means the real cube root: \sqrt[3]{-8} = -2
    return sp.root(body, index)


def undefined_reason(value: sp.Basic) -> str | None:
    """Why a value SymPy built is not a number (None when it is one, or has letters to be solved for)."""
    if value.has(sp.nan):
        return "the expression is undefined (an indeterminate form such as ∞ - ∞, 0 · ∞ or ∞ / ∞)"
    if value.has(sp.zoo):
        return "the expression is undefined (a division by zero, or a function where it has no value: ln 0, tan(π/2))"
    if value.has(sp.AccumBounds):
        return "the expression is undefined (a function of ∞ that has no limit, such as sin ∞)"
    return None


def check_defined(value: sp.Basic) -> sp.Basic:
    reason = undefined_reason(value)
    if reason is not None:
        raise InkmathError(reason)
    return value


def rebuilt(expr: sp.Basic) -> sp.Basic:
    """An unevaluated expression evaluated (1/3 built as 1 * 3^{-1} becomes the number 1/3)."""
    if not expr.args:
        return expr
    return expr.func(*[rebuilt(arg) for arg in expr.args])
