"""How the solver writes a SymPy value in an answer: plain text for people, LaTeX, and 12-digit decimals.

`text_of` and `latex_of` write i, π, e, ∞, ln, arcsin, |x|, n! and Greek letters as a student reads them (θ, not
theta); `set_text` writes a solution set (intervals, unions); `answer_entry` is one solution or value of an answer
({"text", "latex", "decimal", "general", "sympy"}), a numeric root or a number too long to write out
(`inkmath.equation.solve.limits.too_long`) shown by its decimal. `tidy_logs` and `real_first` put roots in the
shortest form and the expected order (real ones first). `offer_complex` names an answer's non-real solutions in a
note, `percent_note` how a percentage after + or - is read, and `period_counter` the k of a family of solutions.
"""

from __future__ import annotations

import fractions
import math
from typing import Any

import sympy as sp
from sympy.printing.str import StrPrinter

from inkmath.equation.solve.limits import LONG_NUMBER_NOTE, too_long


class _Printer(StrPrinter):
    """Plain text for people: i, π, e, ∞, ln, arcsin, e^x, |x| and n! as in the LaTeX (and ^ for powers, in
    `text_of`)."""

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


# How the text writes a Greek letter's name (\theta as θ, as the LaTeX shows it): every name the reader knows
# (`inkmath.equation.solve.lexemes`), LaTeX's capitals among them.
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "omicron": "ο", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_SCHOOL_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "acot": "arccot"}  # as in the LaTeX


def period_counter(var: sp.Symbol, **assumptions: bool) -> sp.Symbol:
    """The whole number that counts the periods of a family of solutions (x = π/6 + 2kπ): k, or n when the
    unknown itself is called k. The solver's answer, its graph and the worked steps all name it here; the
    assumptions (`integer=True`) are the caller's: the answer's families are written with a plain symbol."""
    return sp.Symbol("n" if var.name == "k" else "k", **assumptions)


def latex_of(expr: sp.Basic) -> str:
    return sp.latex(expr, inv_trig_style="full", ln_notation=True)  # \arcsin and \ln, as in school


def text_of(expr: sp.Basic) -> str:
    return _Printer().doprint(expr).replace("**", "^")


def decimal_text(x: Any) -> str:
    """12 significant digits, also beyond the range of a float (2^20000 ≈ 3.98e+6020, not inf)."""
    import mpmath

    if x == 0:
        return "0"
    value = float(x)
    if math.isfinite(value) and 1e-300 < abs(value) < 1e300:
        return f"{value:.12g}"
    return mpmath.nstr(mpmath.mpf(x._mpf_), 12) if hasattr(x, "_mpf_") else f"{value:.12g}"


def answer_entry(expr: sp.Basic, general: bool = False) -> dict[str, Any]:
    decimal = None
    long = expr.is_number and too_long(expr)
    if expr.is_number and (long or not expr.is_Integer) and expr.is_finite is not False:
        value = sp.N(expr, 15)
        re, im = value.as_real_imag()
        if abs(float(im)) < 1e-13 * max(1.0, abs(float(re))) or im == 0:
            decimal = decimal_text(re)
        else:
            decimal = f"{decimal_text(re)} {'-' if im < 0 else '+'} {decimal_text(abs(im))}i"
    # numeric roots (shown as "a + bi") and numbers too long to write out are shown by their decimal
    approximate = decimal is not None and (long or expr.has(sp.CRootOf, sp.Float))
    text = decimal if approximate else text_of(expr)
    latex = decimal if approximate else latex_of(expr)
    entry = {"text": text, "latex": latex, "decimal": decimal, "general": general,
             "sympy": sp.srepr(sp.N(expr, 15) if long else expr), "_expr": expr}
    if long:
        entry["_long"] = True
    return entry


def percent_note(number: str, sign: str) -> str:
    """The note on a percentage added to or taken from something (200 + 10% reads 200 + 10/100 = 200.1, where a
    shop's till would give 10 % more than 200), and how to write the other reading."""
    whole = fractions.Fraction(100) + (1 if sign == "+" else -1) * fractions.Fraction(number)
    verb = "add" if sign == "+" else "take away"
    return (f"{sign} {number}% is read as {sign} {number}/100 (a per cent is a hundredth); to {verb} {number}% of "
            f"a number a, write a · {float(whole):g}%")


DEGREE_NOTE = ("a raised o after a number, or a raised 0 after a number in a sine, cosine or tangent, is read as a "
               "degree sign (30^o = 30° = π/6); angles are in radians otherwise")


def mixed_number_note(whole: int, numerator: int, denominator: int) -> str:
    """The note on a whole number written before a fraction (2 1/2), read as a mixed number, and how to write the
    product instead."""
    value = fractions.Fraction(whole) + fractions.Fraction(numerator, denominator)
    return (f"{whole} {numerator}/{denominator} is read as the mixed number {whole} + {numerator}/{denominator} = "
            f"{value}; for {whole} times {numerator}/{denominator}, write {whole} · {numerator}/{denominator}")


def offer_complex(result: dict[str, Any], nonreal: list[dict[sp.Symbol, sp.Basic]], notes: list[str]) -> None:
    """Put an answer's non-real solutions (each {unknown: value}) in its `complex_solutions` and name them in a
    note: "complex solutions too: ..." beside real ones, else "no real solution; the solutions are complex: ..."."""
    if not nonreal:
        return
    entries = [{s.name: answer_entry(value) for s, value in sol.items()} for sol in nonreal]
    if any(e.pop("_long", False) for sol in entries for e in sol.values()):
        notes.append(LONG_NUMBER_NOTE)
    said = " or ".join(", ".join(f"{text_of(s)} = {sol_entries[s.name]['text']}" for s in sol)
                       for sol, sol_entries in zip(nonreal, entries))
    if result["solutions"] or "∈" in result["text"]:
        notes.append(f"complex solutions too: {said}")
    else:
        notes.append(f"no real solution; the solutions are complex: {said}")
    result["complex_solutions"] = entries


def text_and_latex(value: sp.Basic) -> tuple[str, str]:
    """Text and LaTeX of a value, a number too long to write out as its decimal (see `answer_entry`)."""
    entry = answer_entry(value)
    return entry["text"], entry["latex"]


def tidy_logs(value: sp.Basic) -> sp.Basic:
    """A number with logarithms of positive numbers, with their powers taken out when that is shorter:
    solveset answers 4^x = 2 with ln 2 / ln 4 (1/2) and e^x = 10^20 with ln 100000000000000000000 (20 ln 10)."""
    if not value.is_number or not value.has(sp.log):
        return value
    if not all(arg.is_positive for log in value.atoms(sp.log) for arg in log.args):
        return value
    tidy = sp.expand_log(value, force=True)
    return tidy if len(text_of(tidy)) < len(text_of(value)) else value


def real_first(values: list[sp.Basic]) -> list[sp.Basic]:
    def key(e: sp.Basic) -> tuple[int, float, float]:
        if not e.is_number:
            return (2, 0.0, 0.0)
        re, im = (float(v) for v in sp.N(e, 15).as_real_imag())
        return (0 if e.is_real else 1, re, im)
    return sorted(values, key=key)


def set_text(s: sp.Set) -> str:
    if isinstance(s, sp.Interval):
        left = "(" if s.left_open or s.start == -sp.oo else "["
        right = ")" if s.right_open or s.end == sp.oo else "]"
        return f"{left}{text_of(s.start)}, {text_of(s.end)}{right}"
    if isinstance(s, sp.Union):
        return " ∪ ".join(set_text(a) for a in s.args)
    if isinstance(s, sp.FiniteSet):
        return "{" + ", ".join(text_of(a) for a in s.args) + "}"
    if isinstance(s, sp.Complement):
        return f"{set_text(s.args[0])} \\ {set_text(s.args[1])}"
    if s == sp.S.Reals:
        return "ℝ"
    return text_of(s)
