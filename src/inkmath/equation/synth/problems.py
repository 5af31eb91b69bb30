"""A seeded generator of school problems, typed as LaTeX, across the kinds that get worked solutions.

    problems = school_problems(seed=0)        # [Problem(kind="linear", latex="3(x-2)=x+4"), ...], 960 of them

Used by the worked-solutions test (every step chain checked with SymPy) and `benchmarks/bench_steps.py`. The
numbers are drawn so that answers are small and mostly whole (as in a school exercise), with some fractions,
irrational and complex roots, no-solution systems and identities, inequalities that always or never hold,
polynomials with a factor without real roots, powers equal to a negative number, and equations with the unknown in
a denominator, under a square root or in an absolute value, some with a root that is excluded or extraneous, and
inequalities with one absolute value (some compared with 0 or a negative number) or the unknown in a denominator,
derivatives and integrals of the functions the calculus steps know, and systems of a linear equation with a
parabola, a circle or xy = p (two points, a tangent or none).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

DEFAULT_COUNTS = {"linear": 130, "quadratic": 100, "arithmetic": 100, "simplify": 60, "system": 90, "trig": 60,
                  "inequality": 40, "quadratic_inequality": 40, "polynomial": 40, "exponential": 40, "rational": 40,
                  "radical": 30, "absolute": 30, "absolute_inequality": 30, "rational_inequality": 30, "derivative": 40,
                  "integral": 30, "nonlinear_system": 30}


@dataclass(frozen=True)
class Problem:
    kind: str
    latex: str


def _term(coef: int, var: str = "x", first: bool = False) -> str:
    """'3x', '-x', '+ 2x' (a sign before every term but the first); '' for 0."""
    if coef == 0:
        return ""
    body = var if abs(coef) == 1 and var else str(abs(coef)) + var
    if first:
        return ("-" if coef < 0 else "") + body
    return ("-" if coef < 0 else "+") + body


def _poly(*pairs: tuple[int, str]) -> str:
    """A sum of terms written like a student: _poly((1, 'x^{2}'), (-5, 'x'), (6, '')) -> 'x^{2}-5x+6'."""
    out = ""
    for coef, var in pairs:
        out += _term(coef, var, first=not out)
    return out or "0"


def _nonzero(rng: random.Random, lo: int, hi: int) -> int:
    while True:
        v = rng.randint(lo, hi)
        if v != 0:
            return v


def _linear(rng: random.Random) -> str:
    x = rng.randint(-9, 9)
    form = rng.randrange(7)
    if form == 0:  # ax + b = c
        a, b = _nonzero(rng, -9, 9), rng.randint(-20, 20)
        return f"{_poly((a, 'x'), (b, ''))}={a * x + b}"
    if form == 1:  # a(x + b) = cx + d
        a, b, c = _nonzero(rng, -6, 6), _nonzero(rng, -9, 9), rng.randint(-5, 5)
        if c == a:
            c += 1
        d = a * (x + b) - c * x
        prefix = "" if a == 1 else "-" if a == -1 else str(a)
        return f"{prefix}({_poly((1, 'x'), (b, ''))})={_poly((c, 'x'), (d, ''))}"
    if form == 2:  # x/a + x/b = c
        a, b = rng.choice([(2, 3), (3, 4), (2, 5), (4, 6), (3, 5), (2, 4)])
        x = a * b * rng.randint(-3, 3)
        return f"\\frac{{x}}{{{a}}}+\\frac{{x}}{{{b}}}={x // a + x // b}"
    if form == 3:  # (x + a)/b = (x + c)/d
        b, d = rng.choice([(2, 3), (3, 4), (4, 3), (5, 2), (3, 2)])
        a = rng.randint(-6, 6)
        c = (d * (x + a)) // b - x if (d * (x + a)) % b == 0 else None
        if c is None:
            return f"\\frac{{{_poly((1, 'x'), (a, ''))}}}{{{b}}}={rng.randint(-5, 5)}"
        return f"\\frac{{{_poly((1, 'x'), (a, ''))}}}{{{b}}}=\\frac{{{_poly((1, 'x'), (c, ''))}}}{{{d}}}"
    if form == 4:  # c = ax + b, the unknown on the right
        a, b = _nonzero(rng, -9, 9), rng.randint(-20, 20)
        return f"{a * x + b}={_poly((a, 'x'), (b, ''))}"
    if form == 5:  # a - bx = c + dx
        a, b, d = rng.randint(-10, 10), _nonzero(rng, 1, 7), rng.randint(-4, 4)
        if d == -b:
            d += 1
        c = a - b * x - d * x
        return f"{_poly((a, ''), (-b, 'x'))}={_poly((c, ''), (d, 'x'))}"
    a, b = _nonzero(rng, 1, 5), rng.randint(-5, 5)  # no solution or an identity
    c = b if rng.random() < 0.5 else b + _nonzero(rng, -3, 3)
    return f"{a}({_poly((1, 'x'), (b, ''))})={_poly((a, 'x'), (a * c, ''))}"


def _inequality(rng: random.Random) -> str:
    sign = rng.choice(["<", ">", "\\leq", "\\geq"])
    a, b, c = _nonzero(rng, -7, 7), rng.randint(-12, 12), rng.randint(-12, 12)
    if rng.random() < 0.3:  # the unknown on both sides
        d = rng.randint(-4, 4)
        if d == a:
            d += 1
        return f"{_poly((a, 'x'), (b, ''))} {sign} {_poly((d, 'x'), (c, ''))}"
    return f"{_poly((a, 'x'), (b, ''))} {sign} {c}"


def _quadratic(rng: random.Random) -> str:
    form = rng.randrange(6)
    if form in (0, 1):  # rational roots, expanded: a(x - r)(x - s) = 0
        r, s = rng.randint(-9, 9), rng.randint(-9, 9)
        a = 1 if form == 0 else rng.choice([2, 3, -1, -2])
        return f"{_poly((a, 'x^{2}'), (-a * (r + s), 'x'), (a * r * s, ''))}=0"
    if form == 2:  # x^2 = bx + c with rational roots
        r, s = rng.randint(-8, 8), rng.randint(-8, 8)
        return f"x^{{2}}={_poly((r + s, 'x'), (-r * s, ''))}"
    if form == 3:  # written as a product
        r, s = _nonzero(rng, -9, 9), _nonzero(rng, -9, 9)
        return f"({_poly((1, 'x'), (-r, ''))})({_poly((1, 'x'), (-s, ''))})=0"
    if form == 4:  # irrational roots: discriminant not a square
        while True:
            b, c = rng.randint(-8, 8), rng.randint(-10, 10)
            disc = b * b - 4 * c
            if disc > 0 and int(disc ** 0.5) ** 2 != disc:
                return f"{_poly((1, 'x^{2}'), (b, 'x'), (c, ''))}=0"
    while True:  # complex roots
        a, b, c = rng.choice([1, 1, 2]), rng.randint(-6, 6), rng.randint(1, 12)
        if b * b - 4 * a * c < 0:
            return f"{_poly((a, 'x^{2}'), (b, 'x'), (c, ''))}=0"


_POWERS = ("x^{4}", "x^{3}", "x^{2}", "x", "")


def _expanded(*factors: list[int]) -> str:
    """The product of polynomials given by their coefficients (highest power first), expanded and written like a
    student: _expanded([1, -1], [1, 2]) -> 'x^{2}+x-2'."""
    coefs = [1]
    for factor in factors:
        out = [0] * (len(coefs) + len(factor) - 1)
        for i, a in enumerate(coefs):
            for j, b in enumerate(factor):
                out[i + j] += a * b
        coefs = out
    return _poly(*zip(coefs, _POWERS[len(_POWERS) - len(coefs):]))


def _quadratic_inequality(rng: random.Random) -> str:
    sign = rng.choice(["<", ">", "\\leq", "\\geq"])
    form = rng.randrange(6)
    if form in (0, 1):  # rational roots, expanded: a(x - r)(x - s) sign 0
        r, s = rng.randint(-6, 6), rng.randint(-6, 6)
        a = 1 if form == 0 else rng.choice([-1, 2, -2])
        return f"{_expanded([a], [1, -r], [1, -s])} {sign} 0"
    if form == 2:  # x^2 sign bx + c, every term to the left first
        r, s = rng.randint(-5, 5), rng.randint(-5, 5)
        return f"x^{{2}} {sign} {_poly((r + s, 'x'), (-r * s, ''))}"
    if form == 3:  # x^2 sign k: between or outside ±√k, or always / never when k < 0
        return f"x^{{2}} {sign} {rng.choice([1, 4, 9, 16, 25, -1, -4, 2, 3])}"
    if form == 4:  # no real root: always or never true
        while True:
            a, b, c = rng.choice([1, 1, -1, 2]), rng.randint(-4, 4), rng.randint(-9, 9)
            if b * b - 4 * a * c < 0:
                return f"{_poly((a, 'x^{2}'), (b, 'x'), (c, ''))} {sign} 0"
    if rng.random() < 0.5:  # a double root, written as a square
        return f"({_poly((1, 'x'), (_nonzero(rng, -5, 5), ''))})^{{2}} {sign} 0"
    while True:  # irrational roots: the discriminant and the formula
        b, c = rng.randint(-6, 6), rng.randint(-8, 8)
        disc = b * b - 4 * c
        if disc > 0 and int(disc ** 0.5) ** 2 != disc:
            return f"{_poly((1, 'x^{2}'), (b, 'x'), (c, ''))} {sign} 0"


def _polynomial(rng: random.Random) -> str:
    form = rng.randrange(6)
    root = lambda: rng.randint(-4, 4)  # noqa: E731
    if form == 0:  # a common factor x: x(x - r)(x - s) = 0
        return f"{_expanded([1, 0], [1, -root()], [1, -root()])}=0"
    if form == 1:  # ax^3 = bx: 2x^3 = 8x (and x^3 = -4x: only x = 0)
        a, k = rng.choice([1, 2, 3]), rng.choice([1, 2, 3, 4, -1, -4])
        return f"{_poly((a, 'x^{3}'))}={_poly((a * k, 'x'))}" if k != 1 else f"{_poly((a, 'x^{3}'), (-a, 'x'))}=0"
    if form == 2:  # biquadratic: (x^2 - p)(x^2 - q) = 0
        p, q = rng.choice([1, 4, 9, -1, -4, 2]), rng.choice([1, 4, 9, -1, 3, 16])
        return f"{_expanded([1, 0, -p], [1, 0, -q])}=0"
    if form == 3:  # three rational roots, none zero: the rational-root test, then division
        return f"{_expanded([1, -_nonzero(rng, -4, 4)], [1, -root()], [1, -_nonzero(rng, -4, 4)])}=0"
    if form == 4:  # x^3 = k^3: a root and a quadratic factor without real roots
        k = rng.choice([1, 2, 3, -1, -2])
        return f"x^{{3}}{_term(-k ** 3, '')}=0" if rng.random() < 0.5 else f"x^{{3}}={k ** 3}"
    r = _nonzero(rng, -3, 3)  # a quartic: a rational root, then a cubic with one
    return f"{_expanded([1, -r], [1, -_nonzero(rng, -3, 3)], [1, 0, rng.choice([1, -1, -4, 2, -2])])}=0"


def _frac(n: int, d: int) -> str:
    return f"\\frac{{{n}}}{{{d}}}"


def _arithmetic(rng: random.Random) -> str:
    form = rng.randrange(8)
    small = lambda: rng.randint(1, 9)  # noqa: E731
    if form < 4:  # two fractions added, subtracted, multiplied or divided
        op = ("+", "-", "\\times", "\\div")[form]
        return f"{_frac(small(), rng.randint(2, 9))}{op}{_frac(small(), rng.randint(2, 9))}"
    base = rng.choice([2, 3, 5, 10])
    if form == 4:
        return f"{base}^{{{rng.randint(1, 4)}}}\\cdot {base}^{{{rng.randint(1, 3)}}}"
    if form == 5:
        return f"\\frac{{{base}^{{{rng.randint(4, 6)}}}}}{{{base}^{{{rng.randint(1, 3)}}}}}"
    if form == 6:
        return f"({base}^{{{rng.randint(1, 3)}}})^{{{rng.randint(2, 3)}}}"
    a, b, c, d = small(), small(), small(), small()
    return rng.choice([f"{a}+{b}\\times{c}", f"{a}({b}+{c})-{d}", f"{a}\\times{b}-{c}^{{2}}",
                       f"({a}+{b})^{{2}}\\div{c}", f"{_frac(a, b + 1)}+{c}"])


def _simplify(rng: random.Random) -> str:
    a, b, c = _nonzero(rng, -6, 6), _nonzero(rng, -6, 6), _nonzero(rng, 1, 6)
    forms = [f"(x{_term(a, '')})^{{2}}-x^{{2}}", _poly((a, 'x'), (b, 'x'), (c, 'x')),
             f"\\frac{{x^{{2}}-{c * c}}}{{x-{c}}}", f"(x{_term(a, '')})(x{_term(b, '')})",
             f"{c}(x{_term(a, '')})+{_poly((b, 'x'))}"]
    return forms[rng.randrange(len(forms))]


def _system(rng: random.Random) -> str:
    names = ["x", "y", "z"]
    n = 3 if rng.random() < 0.3 else 2
    while True:
        sol = [rng.randint(-6, 6) for _ in range(n)]
        rows = [[rng.randint(-5, 5) for _ in range(n)] for _ in range(n)]
        if n == 2:
            det = rows[0][0] * rows[1][1] - rows[0][1] * rows[1][0]
        else:
            (a, b, c), (d, e, f), (g, h, i) = rows
            det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        if det != 0 and all(any(r) for r in rows):
            break
    if n == 2 and rng.random() < 0.1:  # parallel lines: no solution
        rows[1] = [2 * v for v in rows[0]]
        lines = [f"{_poly(*zip(rows[0], names))}={sum(a * s for a, s in zip(rows[0], sol))}",
                 f"{_poly(*zip(rows[1], names))}={2 * sum(a * s for a, s in zip(rows[0], sol)) + 1}"]
        return " \\\\ ".join(lines)
    lines = [f"{_poly(*zip(row, names))}={sum(a * s for a, s in zip(row, sol))}" for row in rows]
    if n == 2 and rng.random() < 0.25:  # y = mx + q form
        m, q = rng.randint(-4, 4), rng.randint(-6, 6)
        lines[0] = f"y={_poly((m, 'x'), (q, ''))}"
    return " \\\\ ".join(lines)


_TRIG_VALUES = {
    "\\sin": ["\\frac{1}{2}", "-\\frac{1}{2}", "1", "0", "-1", "\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt{2}}{2}",
              "\\frac{1}{3}", "2"],
    "\\cos": ["\\frac{1}{2}", "-\\frac{1}{2}", "0", "1", "-1", "\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt{2}}{2}"],
    "\\tan": ["1", "-1", "\\sqrt{3}", "0", "\\frac{\\sqrt{3}}{3}", "2"],
}


def _trig(rng: random.Random) -> str:
    func = rng.choice(sorted(_TRIG_VALUES))
    value = rng.choice(_TRIG_VALUES[func])
    form = rng.randrange(4)
    arg = "x" if form != 3 else "2x"
    if form == 1 and value in ("\\frac{1}{2}", "-\\frac{1}{2}", "1", "-1", "0"):  # 2 sin x - 1 = 0
        numer = {"\\frac{1}{2}": 1, "-\\frac{1}{2}": -1, "1": 2, "-1": -2, "0": 0}[value]
        return f"2{func} {arg}{_term(-numer, '') if numer else ''}=0"
    if form == 2 and value == "\\frac{\\sqrt{3}}{2}":
        return f"2{func} {arg}=\\sqrt{{3}}"
    return f"{func} {arg}={value}"


def _exponential(rng: random.Random) -> str:
    """An exponential or logarithmic equation in one power or logarithm of x (``steps_exp``)."""
    base = rng.choice([2, 3, 5, 10])
    k = rng.randint(-2, 4)
    form = rng.randrange(7)
    if form == 0:  # b^{x + c} = b^k
        c = rng.randint(-2, 2)
        value = _frac(1, base ** -(k + c)) if k + c < 0 else str(base ** (k + c))
        return f"{base}^{{{_poly((1, 'x'), (c, ''))}}}={value}"
    if form == 1:  # b^{2x} = c^k with b = c^2: both sides as powers of c
        small = rng.choice([2, 3])
        return f"{small ** 2}^{{x}}={small ** rng.randint(1, 5)}"
    if form == 2:  # A b^x + B = C
        a, b, x = rng.randint(2, 5), rng.randint(-9, 9), rng.randint(0, 4)
        return f"{a}\\cdot {base}^{{x}}{_term(b, '')}={a * base ** x + b}"
    if form == 3:  # no whole-number power: a logarithm
        return rng.choice([f"{base}^{{x}}={rng.choice([3, 6, 7, 11])}", f"e^{{x}}={rng.randint(2, 9)}"])
    if form == 4:  # a power is never negative or zero
        return f"{base}^{{x}}={rng.choice([-1, -4, 0])}"
    if form == 5:  # log_b(x + c) = k
        return f"\\log_{{{base}}}({_poly((1, 'x'), (rng.randint(-5, 5), ''))})={abs(k)}"
    return rng.choice([f"\\ln x={rng.randint(1, 3)}", f"2\\log x={2 * rng.randint(1, 3)}",
                       f"\\ln x+{rng.randint(1, 4)}=5"])


def _over(n: int, den: str) -> str:
    """n/den with the sign in front: '-\\frac{4}{x+4}', not '\\frac{-4}{x+4}'."""
    return ("-" if n < 0 else "") + f"\\frac{{{abs(n)}}}{{{den}}}"


def _rational(rng: random.Random) -> str:
    """The unknown in a denominator; about one in five has a root that makes a denominator zero."""
    x = rng.randint(-6, 6)
    d = _nonzero(rng, -5, 5)  # the denominator's value at the root: never zero
    form = rng.randrange(5)
    if form == 0:  # a/(x + b) = c
        c = _nonzero(rng, -4, 4)
        return f"{_over(c * d, _poly((1, 'x'), (d - x, '')))}={c}"
    if form == 1:  # (x + p)/(x + q) = c, c ≠ 1
        c = rng.choice([-2, -1, 0, 2, 3])
        return f"\\frac{{{_poly((1, 'x'), (c * d - x, ''))}}}{{{_poly((1, 'x'), (d - x, ''))}}}={c}"
    if form == 2:  # a/(x + p) = b/(x + q)
        e = d + rng.choice([-3, -2, -1, 1, 2, 3]) if d != 1 else 2
        if e == 0:
            e = d + 4
        k = _nonzero(rng, -3, 3)
        return f"{_over(k * d, _poly((1, 'x'), (d - x, '')))}={_over(k * e, _poly((1, 'x'), (e - x, '')))}"
    if form == 3:  # x + k/x = s: a quadratic with whole roots once cleared
        r, t = _nonzero(rng, -6, 6), _nonzero(rng, -6, 6)
        sign = "+" if r * t > 0 else "-"
        return f"x{sign}\\frac{{{abs(r * t)}}}{{x}}={r + t}"
    a, c = _nonzero(rng, -5, 5), rng.randint(1, 3)  # a root that is excluded
    if rng.random() < 0.5:  # x/(x - a) + c = a/(x - a): clears to x = a, no solution
        return f"\\frac{{x}}{{{_poly((1, 'x'), (-a, ''))}}}+{c}={_over(a, _poly((1, 'x'), (-a, '')))}"
    return f"\\frac{{x^{{2}}}}{{{_poly((1, 'x'), (-a, ''))}}}=\\frac{{{a * a}}}{{{_poly((1, 'x'), (-a, ''))}}}"


def _radical(rng: random.Random) -> str:
    """One square root; some squared equations have an extraneous root, a few have no solution."""
    form = rng.randrange(4)
    if form == 0:  # √(ax + b) = c, now and then c < 0
        a, x = rng.choice([1, 1, 2, 3]), rng.randint(-4, 8)
        c = rng.randint(0, 5) if rng.random() < 0.85 else -rng.randint(1, 3)
        return f"\\sqrt{{{_poly((a, 'x'), (c * c - a * x, ''))}}}={c}"
    if form == 1:  # √(x + b) + d = e
        c, x, d = rng.randint(1, 5), rng.randint(-5, 10), _nonzero(rng, -6, 6)
        return f"\\sqrt{{{_poly((1, 'x'), (c * c - x, ''))}}}{_term(d, '')}={c + d}"
    if form == 2:  # √(x + b) = x + d, squaring to a quadratic with roots r and 1 - 2d - r
        d, r = rng.randint(-4, 3), rng.randint(-3, 8)
        b = d * d - r * (1 - 2 * d - r)
        if rng.random() < 0.5:
            return f"\\sqrt{{{_poly((1, 'x'), (b, ''))}}}={_poly((1, 'x'), (d, ''))}"
        return f"x-\\sqrt{{{_poly((1, 'x'), (b, ''))}}}={-d}"  # the same, the root still to isolate
    d, x = rng.randint(1, 4), rng.randint(-1, 6)  # √(x^2 + b) = x + d: the squares cancel, linear
    b = 2 * d * x + d * d
    return f"\\sqrt{{{_poly((1, 'x^{2}'), (b, ''))}}}={_poly((1, 'x'), (d, ''))}"


def _absolute(rng: random.Random) -> str:
    """One absolute value: two cases, one case (= 0), no solution (= a negative number), or a condition."""
    form = rng.choice([0, 0, 0, 1, 2, 2, 3, 3, 3])
    if form == 0:  # |ax + b| = c
        a, b, x = rng.choice([1, 1, 2, 3, -1]), rng.randint(-6, 6), rng.randint(-5, 5)
        return f"|{_poly((a, 'x'), (b, ''))}|={abs(a * x + b)}"
    if form == 1:  # equal to a negative number
        return f"|{_poly((rng.choice([1, 2]), 'x'), (rng.randint(-6, 6), ''))}|={-rng.randint(1, 5)}"
    if form == 2:  # k|x + b| + d = e
        k, b, c, d = rng.choice([1, 2, 3]), rng.randint(-6, 6), rng.randint(1, 5), _nonzero(rng, -6, 6)
        prefix = "" if k == 1 else str(k)
        return f"{prefix}|{_poly((1, 'x'), (b, ''))}|{_term(d, '')}={k * c + d}"
    b, c, d = rng.randint(-5, 5), rng.choice([1, 2, 3, -1, -2]), rng.randint(-5, 5)  # |x + b| = cx + d
    if (c == 1 and d == b) or (c == -1 and d == -b):  # a case true for every x: a whole interval of solutions
        d += 1
    return f"|{_poly((1, 'x'), (b, ''))}|={_poly((c, 'x'), (d, ''))}"


_SIGNS = ("<", ">", "\\leq", "\\geq")


def _absolute_inequality(rng: random.Random) -> str:
    """|ax + b| compared with a number: mostly a positive one, some to isolate first, some with 0 or a negative."""
    sign = rng.choice(_SIGNS)
    form = rng.choice([0, 0, 0, 1, 1, 2, 3])
    a, b = rng.choice([1, 1, 2, 3, -1]), rng.randint(-6, 6)
    inside = _poly((a, 'x'), (b, ''))
    if form == 0:  # |ax + b| sign c
        return f"|{inside}| {sign} {rng.randint(1, 9)}"
    if form == 1:  # k|x + b| + d sign e: isolate first
        k, c, d = rng.choice([1, 2, 3]), rng.randint(1, 5), _nonzero(rng, -6, 6)
        prefix = "" if k == 1 else str(k)
        return f"{prefix}|{_poly((1, 'x'), (b, ''))}|{_term(d, '')} {sign} {k * c + d}"
    if form == 2:  # never negative: compared with 0 or a negative number
        return f"|{inside}| {sign} {rng.choice([0, 0, -1, -3])}"
    c, d = rng.randint(1, 6), rng.randint(1, 4)  # e - |x + b| sign e - c: a negative coefficient reverses the sign
    return f"{c + d}-|{_poly((1, 'x'), (b, ''))}| {sign} {d}"


def _rational_inequality(rng: random.Random) -> str:
    """A fraction with the unknown in its denominator compared with 0 or a number; linear or factorable quadratic
    numerators and denominators, never sharing a factor."""
    sign = rng.choice(_SIGNS)
    form = rng.randrange(6)
    p = rng.randint(-6, 6)
    q = p + _nonzero(rng, -5, 5)  # x + p and x + q never share a zero
    num, den = _poly((1, 'x'), (p, '')), _poly((1, 'x'), (q, ''))
    if form == 0:  # (x + p)/(x + q) sign 0
        return f"\\frac{{{num}}}{{{den}}} {sign} 0"
    if form == 1:  # a/(x + q) sign c
        return f"{_over(_nonzero(rng, -6, 6), den)} {sign} {_nonzero(rng, -3, 3)}"
    if form == 2:  # (x + p)/(x + q) sign c
        return f"\\frac{{{num}}}{{{den}}} {sign} {rng.choice([-1, 2, 3, 1])}"
    if form == 3:  # (x - r)(x - s), expanded, over x + q
        r, s = rng.randint(-5, 5), rng.randint(-5, 5)
        q = rng.choice([v for v in range(-5, 6) if v not in (-r, -s)])
        return f"\\frac{{{_expanded([1, -r], [1, -s])}}}{{{_poly((1, 'x'), (q, ''))}}} {sign} 0"
    if form == 4:  # (x + p)/(x^2 - k^2)
        k = rng.choice([v for v in (1, 2, 3, 4) if v != abs(p)])
        return f"\\frac{{{num}}}{{x^{{2}}-{k * k}}} {sign} 0"
    return f"{_over(_nonzero(rng, -4, 4), num)} {sign} {_over(_nonzero(rng, -4, 4), den)}"  # a/(x + p) sign b/(x + q)


_FUNCTIONS = ("\\sin x", "\\cos x", "e^{x}", "\\ln x")


def _derivative(rng: random.Random) -> str:
    """d/dx of a polynomial, a basic function, a product, a quotient or a composition (``steps_calculus``)."""
    form = rng.randrange(6)
    f = rng.choice(_FUNCTIONS)
    if form == 0:  # a polynomial: the sum, constant-multiple and power rules
        body = _poly((rng.randint(-3, 3), "x^{3}"), (rng.randint(-5, 5), "x^{2}"), (_nonzero(rng, -6, 6), "x"),
                     (rng.randint(-9, 9), ""))
        return f"\\frac{{d}}{{dx}}({body})"
    if form == 1:  # a number times a basic function, or tan x, sqrt x, 1/x^n
        return "\\frac{d}{dx}" + rng.choice([f"{_nonzero(rng, 2, 5)}{f}", f, "\\tan x", "\\sqrt{x}",
                                             f"\\frac{{1}}{{x^{{{rng.randint(2, 3)}}}}}"])
    if form == 2:  # the product rule
        return f"\\frac{{d}}{{dx}}(x^{{{rng.randint(2, 3)}}}{f})" if rng.random() < 0.7 else \
            f"\\frac{{d}}{{dx}}(x{f})"
    if form == 3:  # the quotient rule
        a, b = _nonzero(rng, 1, 5), rng.randint(-5, 5)
        return "\\frac{d}{dx}" + rng.choice([f"\\frac{{{f}}}{{x}}", f"\\frac{{x^{{2}}}}{{x+{a}}}",
                                             f"\\frac{{{_poly((1, 'x'), (b, ''))}}}{{x+{a}}}"])
    a, b, n = _nonzero(rng, -4, 4), rng.randint(1, 5), rng.randint(2, 4)  # the chain rule
    inner = _poly((a, "x"), (rng.randint(-3, 3), ""))
    return "\\frac{d}{dx}" + rng.choice([f"\\sin({inner})", f"\\cos(x^{{{n}}})", f"e^{{{_poly((a, 'x'))}}}",
                                         f"(x^{{2}}+{b})^{{{n}}}", f"\\ln(x^{{2}}+{b})", f"\\sqrt{{x^{{2}}+{b}}}"])


def _integral(rng: random.Random) -> str:
    """An integral of powers of x, 1/x, e^x, sin x and cos x, indefinite or with limits (``steps_calculus``)."""
    form = rng.randrange(6)
    body = _poly((rng.randint(-3, 3), "x^{2}"), (rng.randint(-4, 4), "x"), (_nonzero(rng, -6, 6), ""))
    k = _nonzero(rng, 2, 6)
    if form == 0:  # a polynomial, indefinite
        return f"\\int ({body})dx"
    if form == 1:  # a basic function, indefinite
        return rng.choice([f"\\int {k}e^{{x}}dx", f"\\int {k}\\sin x dx", f"\\int {k}\\cos x dx",
                           f"\\int \\frac{{{k}}}{{x}}dx", f"\\int x^{{{k}}}dx", "\\int \\sqrt{x}dx"])
    if form == 2:  # a power and a basic function, indefinite
        term = _term(k, rng.choice(["\\cos x", "\\sin x", "e^{x}"]))
        return f"\\int ({rng.choice(['x', 'x^{2}', 'x^{3}'])}{term})dx"
    if form == 3:  # a polynomial with limits
        low = rng.randint(-2, 1)
        return f"\\int_{{{low}}}^{{{low + rng.randint(1, 3)}}}({body})dx"
    if form == 4:  # e^x, sin x, cos x with limits
        return rng.choice([f"\\int_{{0}}^{{{rng.randint(1, 3)}}}{k}e^{{x}}dx", f"\\int_{{0}}^{{\\pi}}{k}\\sin x dx",
                           "\\int_{0}^{\\pi}\\sin x dx", f"\\int_{{0}}^{{\\frac{{\\pi}}{{2}}}}{k}\\cos x dx"])
    return rng.choice([f"\\int_{{1}}^{{{k}}}\\frac{{1}}{{x}}dx", f"\\int_{{1}}^{{4}}{k}\\sqrt{{x}}dx",
                       f"\\int_{{1}}^{{{k}}}\\frac{{1}}{{x^{{2}}}}dx"])


def _nonlinear_system(rng: random.Random) -> str:
    """A linear equation with a parabola, a circle or xy = p (``steps_system_substitution``): two whole-number
    points, one (a tangent, a double root) or none."""
    form = rng.randrange(4)
    a, b = rng.randint(-4, 4), rng.randint(-4, 4)
    if form == 0:  # y = x^2 + px + k meets y = mx + q where x^2 + (p - m)x + k - q = (x - a)(x - b): b = a a tangent
        chance = rng.random()
        if chance < 0.5:
            b = a
        m, q = rng.randint(-3, 3), rng.randint(-4, 4)
        k = q + a * b + (rng.choice([1, 2, 3]) if chance < 0.25 else 0)  # (x - a)^2 + 1 = 0: no real point
        line = f"y={_poly((m, 'x'), (q, ''))}" if rng.random() < 0.6 else f"{_poly((m, 'x'), (-1, 'y'))}={-q}"
        return f"y={_poly((1, 'x^{2}'), (m - a - b, 'x'), (k, ''))} \\\\ {line}"
    if form == 1:  # x^2 + y^2 = a^2 + b^2 with x + y = a + b (or x - y = a - b): the points (a, b) and (b, a)
        if rng.random() < 0.2:  # a line too far from the circle
            return f"x^{{2}}+y^{{2}}={rng.choice([1, 2, 4])} \\\\ x+y={rng.choice([4, 5, -5])}"
        line = f"x+y={a + b}" if rng.random() < 0.6 else f"x-y={a - b}"
        return f"x^{{2}}+y^{{2}}={a * a + b * b or 25} \\\\ {line}" if a or b else "x^{2}+y^{2}=25 \\\\ x+y=7"
    if form == 2:  # xy = ab with x + y = a + b
        a, b = _nonzero(rng, -5, 5), _nonzero(rng, -5, 5)
        return f"xy={a * b} \\\\ x+y={a + b}"
    c, t = rng.choice([1, 4, 9, 16]), rng.randint(0, 4)  # y = x^2 - c with y = t^2 - c: x = ±t, t = 0 the vertex
    level = t * t - c if rng.random() < 0.8 else -c - t - 1  # now and then below the vertex: no point
    return f"y=x^{{2}}{_term(-c, '')} \\\\ y={level}"


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "linear": _linear, "quadratic": _quadratic, "arithmetic": _arithmetic, "simplify": _simplify,
    "system": _system, "trig": _trig, "inequality": _inequality,
    "quadratic_inequality": _quadratic_inequality, "polynomial": _polynomial, "exponential": _exponential,
    "rational": _rational, "radical": _radical, "absolute": _absolute,
    "absolute_inequality": _absolute_inequality, "rational_inequality": _rational_inequality,
    "derivative": _derivative, "integral": _integral, "nonlinear_system": _nonlinear_system,
}


def school_problems(seed: int = 0, counts: dict[str, int] | None = None) -> list[Problem]:
    """`counts` problems of each kind (default `DEFAULT_COUNTS`, 960 in all), the same list for the same seed."""
    rng = random.Random(seed)
    out = []
    for kind, count in (counts or DEFAULT_COUNTS).items():
        for _ in range(count):
            out.append(Problem(kind, GENERATORS[kind](rng)))
    return out
