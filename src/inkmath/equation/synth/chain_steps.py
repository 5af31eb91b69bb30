"""Worked steps written as a student writes them, for the generator of chains (`inkmath.equation.synth.chains`):
the solver's steps restyled (`student`), the lines read back (`parse`, `rel`, `roots`, `show`), and the unusual but
valid steps a right chain may take (`vary`): both sides multiplied by a number, sides swapped (5 = x), terms
reordered, a line restated, two steps on one line (`;`, `\\Rightarrow`, `=>`), x = 10/2 = 5, roots on lines of their
own (x_1 = 2, x_2 = 3), ±, a set of roots, an interval, a decimal, both sides divided by a common factor, "no
solution" in other words, a boxed or ∴ answer.
"""

from __future__ import annotations

import random
import re

import sympy as sp
from sympy.core.relational import Relational

from inkmath.errors import InkmathError
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.solve.answer import answer
from inkmath.equation.solve.tosympy import to_sympy_lines

REL = {sp.Eq: "=", sp.Lt: "<", sp.Le: "\\leq", sp.Gt: ">", sp.Ge: "\\geq"}
OR = (" \\text{ or } ", " or ", " \\lor ", " \\quad\\text{or}\\quad ")
EQUATION_KINDS_NOT = ("arithmetic", "simplify", "derivative", "system", "nonlinear_system")


# ---------------------------------------------------------------- the solver's steps as a student writes them


def student(latex: str, rng: random.Random, conditions: bool) -> str:
    """A solver's step as a student writes it: no \\left, "or" in some way, the conditions beside a line (x ≠ 1,
    x + 1 ≥ 0) kept only when `conditions`; a substitution (u = x^2) and a family's k ∈ ℤ always kept."""
    text = latex.replace("\\left", "").replace("\\right", "")
    rows = []
    for row in text.split(" \\\\ "):
        main, _, rest = row.partition(", \\quad ") if ", \\quad " in row else row.partition(",\\quad ")
        kept = []
        for part in [p for p in re.split(r",\s*(?:\\quad)?\s*", rest.replace("\\;", "")) if p.strip()]:
            needed = "\\in" in part or part.strip().startswith("u")
            if needed or (conditions and "\\Delta" not in part) or ("\\Delta" in part and rng.random() < 0.5):
                kept.append(part.strip())
        rows.append(main if not kept else main + ", " + ", ".join(kept))
    return " \\\\ ".join(rows).replace(" \\quad\\text{or}\\quad ", rng.choice(OR))


def solver_steps(latex: str) -> list[str]:
    try:
        result = answer(parse_latex(latex), steps=True)
    except InkmathError:
        return []
    return [s["latex"] for s in result.get("steps") or []]


def answer_text(latex: str) -> str | None:
    """The solver's answer as text; every way of saying "no real solution" is one."""
    try:
        result = answer(parse_latex(latex))
    except InkmathError:
        return None
    if result.get("kind") == "none":
        return None
    text = result.get("text") or ""
    return "no real solution" if "no solution" in text or "no real solution" in text else text


def parse_line(latex: str, raw: bool = False) -> sp.Basic | None:
    main = latex.split(",")[0]
    try:
        items = to_sympy_lines(parse_latex(main), raw=raw)
    except InkmathError:
        return None
    return items[0] if len(items) == 1 else None


def show_relation(rel: Relational) -> str:
    return f"{sp.latex(rel.lhs)} {REL[type(rel)]} {sp.latex(rel.rhs)}"


def relation_of(latex: str, raw: bool = False) -> Relational | None:
    found = parse_line(latex, raw)
    if not isinstance(found, Relational) or type(found) not in REL or len(found.free_symbols) != 1:
        return None
    return found


def roots_of(latex: str) -> list[sp.Basic] | None:
    parts = [p for p in latex.replace("\\quad\\text{or}\\quad", "|").split("|")]
    out = []
    for part in parts:
        rel = relation_of(part)
        if rel is None or not isinstance(rel, sp.Eq) or not rel.lhs.is_Symbol or rel.rhs.free_symbols:
            return None
        out.append(rel.rhs)
    return out


# ---------------------------------------------------------------- unusual valid steps


def _swap(line: str) -> str | None:
    rel = relation_of(line)
    if rel is None or not isinstance(rel, sp.Eq) or "," in line or "or" in line:
        return None
    return f"{sp.latex(rel.rhs)} = {sp.latex(rel.lhs)}"


def _scale(line: str, rng: random.Random) -> str | None:
    rel = relation_of(line)
    if rel is None or "," in line or "or" in line:
        return None
    k = rng.choice([2, 3, 10]) if not isinstance(rel, sp.Eq) else rng.choice([2, 3, -1, 10])
    return show_relation(type(rel)(sp.expand(k * rel.lhs), sp.expand(k * rel.rhs)))


def _reorder(line: str) -> str | None:
    rel = relation_of(line)
    if rel is None or "," in line or "or" in line or not isinstance(rel.lhs, sp.Add):
        return None
    terms = list(rel.lhs.as_ordered_terms())[::-1]
    text = sp.latex(terms[0])
    for t in terms[1:]:
        text += f" - {sp.latex(-t)}" if t.could_extract_minus_sign() else f" + {sp.latex(t)}"
    return f"{text} {REL[type(rel)]} {sp.latex(rel.rhs)}"


def _last_form(line: str, rng: random.Random) -> tuple[str, str] | None:
    """The answer of a last line said another way: ±, a set of roots, a decimal, an interval, "no solution"."""
    found = roots_of(line)
    if found and len(found) == 2 and found[0] == -found[1]:
        return "pm", f"x = \\pm {sp.latex(abs(found[0]))}"
    if found and len(found) >= 2:
        shown = ", ".join(sp.latex(r) for r in found)
        return "set", rng.choice([f"x \\in \\{{{shown}\\}}", f"S = \\{{{shown}\\}}"])
    if found and len(found) == 1 and found[0].is_Rational and not found[0].is_Integer:
        q = found[0].q
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if q == 1:
            return "decimal", f"x = {float(found[0]):g}"
    if "solution" in line and "\\\\" not in line:
        return "no_solution", rng.choice(["\\emptyset", "x \\in \\emptyset", "\\text{no solutions}", "no solution"])
    rel = relation_of(line)
    if rel is not None and not isinstance(rel, sp.Eq) and rel.lhs.is_Symbol and rel.rhs.is_number:
        end = sp.latex(rel.rhs)
        shown = {sp.Lt: f"(-\\infty, {end})", sp.Le: f"(-\\infty, {end}]", sp.Gt: f"({end}, \\infty)",
                 sp.Ge: f"[{end}, \\infty)"}[type(rel)]
        return "interval", f"x \\in {shown}"
    return None


def _divided(line: str) -> str | None:
    """Both sides of a polynomial equation divided by the whole number all its coefficients share."""
    rel = relation_of(line)
    if rel is None or not isinstance(rel, sp.Eq) or "," in line or "or" in line:
        return None
    f = sp.expand(rel.lhs - rel.rhs)
    if not f.free_symbols or not f.is_polynomial():
        return None  # 0 = 0, or a power or root of the unknown
    coeffs = sp.Poly(f, *f.free_symbols).coeffs()
    if not all(c.is_Integer for c in coeffs):
        return None
    g = sp.gcd_list(coeffs)
    if g in (0, 1, -1):
        return None
    return show_relation(sp.Eq(sp.expand(rel.lhs / g), sp.expand(rel.rhs / g)))


VARIANTS = ("swap", "scale", "reorder", "restate", "join", "box", "chain", "split_roots", "equals", "answer_form",
            "divide")


def vary(lines: list[str], rng: random.Random, kind: str) -> tuple[list[str], list[str]]:
    """A right chain with one to three unusual but valid steps (`VARIANTS`)."""
    used: list[str] = []
    equation = kind not in EQUATION_KINDS_NOT
    for _ in range(rng.randint(1, 3)):
        choice = rng.choice(VARIANTS)
        n = len(lines)
        if n < 2:
            break
        i = rng.randrange(1, n)
        try:
            applied = _apply(choice, lines, i, rng, kind, equation)
        except (ArithmeticError, AttributeError, KeyError, TypeError, ValueError, sp.PolynomialError):
            applied = None  # the variant does not fit this line (SymPy made True of 2 = 2, ...)
        if applied is not None:
            used.append(applied)
    return lines, used


def _apply(choice: str, lines: list[str], i: int, rng: random.Random, kind: str, equation: bool) -> str | None:
    """Take one unusual step in `lines` (in place): the variant's name, or None when it does not fit."""
    n = len(lines)
    if choice == "swap" and equation and (new := _swap(lines[i])):
        lines[i] = new
    elif choice == "scale" and equation and (new := _scale(lines[i], rng)):
        lines.insert(i + 1, new)
        lines.insert(i + 2, lines[i])
    elif choice == "reorder" and equation and (new := _reorder(lines[i])):
        lines[i] = new
    elif choice == "restate":
        lines.insert(i, lines[i])
    elif choice == "join" and i + 1 < n:
        lines[i:i + 2] = [lines[i] + rng.choice([" ; ", " \\Rightarrow ", " => ", " \\implies "]) + lines[i + 1]]
    elif choice == "box" and "\\boxed" not in lines[-1] and "\\therefore" not in lines[-1]:
        lines[-1] = rng.choice(["\\boxed{%s}", "\\therefore %s", "∴ %s"]) % lines[-1]
    elif choice == "chain" and equation and (new := _chained(lines)):
        lines[-1] = new
    elif choice == "split_roots" and (found := roots_of(lines[-1])) and len(found) == 2:
        lines[-1:] = [f"x_{{{k}}} = {sp.latex(r)}" for k, r in enumerate(found, 1)]
    elif choice == "equals" and not equation and kind in ("arithmetic", "simplify"):
        lines[i] = "= " + lines[i]
    elif choice == "answer_form" and equation and (form := _last_form(lines[-1], rng)):
        lines.append(form[1])
        return form[0]
    elif choice == "divide" and equation and (new := _divided(lines[i])):
        lines.insert(i + 1, new)
    else:
        return None
    return choice


def _chained(lines: list[str]) -> str | None:
    """x = 10/2 = 5 for a last line x = 5 after a x = b."""
    if len(lines) < 3:
        return None
    rel, last = relation_of(lines[-2]), relation_of(lines[-1])
    if rel is None or last is None or not isinstance(rel, sp.Eq) or not isinstance(last, sp.Eq):
        return None
    a, rest = rel.lhs.as_coeff_Mul()
    if a in (0, 1) or not rest.is_Symbol or rel.rhs.free_symbols or last.lhs != rest:
        return None
    return f"{rest} = \\frac{{{sp.latex(rel.rhs)}}}{{{sp.latex(a)}}} = {sp.latex(last.rhs)}"
