"""A seeded generator of students' worked solutions, right and with one typical mistake, to measure the checker.

    chains = worked_chains("val", 200)      # [Chain(kind, lines, wrong_line, error, variants, seed), ...]

Each chain starts from a school problem (`inkmath.equation.synth.problems`) and the solver's own worked steps,
written as a student would: without `\\left`/`\\right`, "or" typed in several ways, the conditions beside a line
(x ≠ 1, x + 1 ≥ 0) kept or left out. A right chain may also take valid but unusual steps: both sides multiplied by
a number, sides swapped (5 = x), terms reordered, a line restated, two steps on one line (`;`, `\\Rightarrow`,
`=>`), x = 10/2 = 5, roots on lines of their own (x_1 = 2, x_2 = 3), a boxed or ∴ answer. A wrong chain has
exactly one typical mistake (`ERRORS`) at `wrong_line`, made from the line before it and checked with the solver
(the wrong line's answer differs from the line before's), and goes on from the wrong line with the solver's steps.

Splits: chain i of "val" comes from the seed `SPLIT_SEEDS["val"] + i`, of "test" from `SPLIT_SEEDS["test"] + i`;
tune on val only. The same split and count give the same chains.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

import sympy as sp
from sympy.core.relational import Relational

from inkmath.errors import InkmathError
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.solve.tosympy import to_sympy_lines
from inkmath.equation.synth.chain_steps import (answer_text, parse_line, relation_of, roots_of, show_relation,
                                                solver_steps, student, vary)
from inkmath.equation.synth.problems import GENERATORS

SPLIT_SEEDS = {"val": 1_000, "test": 900_000}
# the kinds drawn, with weights (integrals are left out: their F(b) - F(a) lines are written [F]_a^b, not read)
KINDS = {"linear": 4, "quadratic": 3, "inequality": 2, "quadratic_inequality": 1, "system": 2, "arithmetic": 2,
         "simplify": 1, "polynomial": 1, "rational": 2, "radical": 1, "absolute": 1, "absolute_inequality": 1,
         "rational_inequality": 1, "exponential": 1, "trig": 1, "nonlinear_system": 1, "derivative": 1}
WRONG_SHARE = 0.5


@dataclass(frozen=True)
class Chain:
    kind: str
    lines: tuple[str, ...]
    wrong_line: int | None  # the line with the mistake (None: a right chain)
    error: str | None
    variants: tuple[str, ...]  # the unusual valid steps taken
    seed: int


# ---------------------------------------------------------------- typical mistakes


def _sign_not_changed(prev: str, nxt: str) -> str | None:
    rel = relation_of(prev)
    if rel is None:
        return None
    c = rel.lhs.as_coeff_Add()[0]
    if c == 0 or not rel.lhs.free_symbols:
        return None
    return show_relation(type(rel)(rel.lhs - c, rel.rhs + c))


def _not_reversed(prev: str, nxt: str) -> str | None:
    rel = relation_of(prev)
    if rel is None or isinstance(rel, sp.Eq):
        return None
    a, rest = rel.lhs.as_coeff_Mul()
    if not (a.is_negative and rest.is_Symbol and not rel.rhs.free_symbols):
        return None
    return show_relation(type(rel)(rest, rel.rhs / a))


def _division(prev: str, nxt: str) -> str | None:
    rel = relation_of(prev)
    if rel is None:
        return None
    a, rest = rel.lhs.as_coeff_Mul()
    if a in (1, -1, 0) or not rest.is_Symbol or rel.rhs.free_symbols or (a < 0 and not isinstance(rel, sp.Eq)):
        return None
    return show_relation(type(rel)(rest, rel.rhs * a if (a.p + rel.rhs.p) % 2 else rel.rhs - a))


def _square_of_sum(prev: str, nxt: str) -> str | None:
    found = parse_line(prev, raw=True)
    if found is None:
        return None
    squares = [e for e in sp.preorder_traversal(found) if isinstance(e, sp.Pow) and isinstance(e.base, sp.Add)
               and e.exp == 2]
    if not squares:
        return None
    wrong = found.xreplace({squares[0]: sp.Add(*[t ** 2 for t in squares[0].base.args])})
    if isinstance(wrong, sp.logic.boolalg.BooleanAtom):
        return None
    if isinstance(wrong, Relational):
        return show_relation(type(wrong)(sp.expand(wrong.lhs), sp.expand(wrong.rhs)))
    return sp.latex(sp.expand(wrong))


def _minus_bracket(prev: str, nxt: str) -> str | None:
    """-(a + b) or -c(a + b) multiplied out with the sign of the first term changed only."""
    return _bracket(prev, negative=True)


def _distribute_first_only(prev: str, nxt: str) -> str | None:
    """c(a + b) multiplied out as ca + b."""
    return _bracket(prev, negative=False)


def _bracket(prev: str, negative: bool) -> str | None:
    found = parse_line(prev, raw=True)
    if found is None:
        return None
    for e in sp.preorder_traversal(found):
        if isinstance(e, sp.Mul) and len(e.args) == 2 and e.args[0].is_number and isinstance(e.args[1], sp.Add):
            c, inner = e.args
            if bool(c < 0) != negative or c == 1:
                continue
            first, rest = inner.args[0], sp.Add(*inner.args[1:])
            wrong = found.xreplace({e: c * first - c * rest if c < 0 else c * first + rest})
            if isinstance(wrong, sp.logic.boolalg.BooleanAtom):
                return None
            if isinstance(wrong, Relational):
                return show_relation(type(wrong)(sp.expand(wrong.lhs), sp.expand(wrong.rhs)))
            return sp.latex(sp.expand(wrong))
    return None


def _dropped_denominator(prev: str, nxt: str) -> str | None:
    rel = relation_of(prev, raw=True)
    if rel is None:
        return None
    lhs, rhs = sp.together(rel.lhs), rel.rhs
    num, den = sp.fraction(lhs)
    if den == 1:
        return None
    wrong = type(rel)(sp.expand(num), rhs) if den.free_symbols else type(rel)(sp.expand(num), rhs)
    if not wrong.free_symbols or isinstance(wrong, (bool, sp.logic.boolalg.BooleanAtom)):
        return None
    return show_relation(wrong)


def _arithmetic(prev: str, nxt: str) -> str | None:
    """The next step with one of its numbers off (in one row of a system)."""
    try:
        rows = to_sympy_lines(parse_latex(nxt), raw=True)
    except InkmathError:
        return None
    order = list(range(len(rows)))[::-1]
    for r in order:
        exponents = {a for e in sp.preorder_traversal(rows[r]) if isinstance(e, sp.Pow)
                     for a in sp.preorder_traversal(e.exp)}
        numbers = [a for a in sp.preorder_traversal(rows[r])
                   if isinstance(a, sp.Integer) and abs(a) > 1 and a not in exponents]
        if not numbers:
            continue
        n = numbers[-1]
        rows[r] = rows[r].xreplace({n: n + (1 if n % 3 else 2)})
        if isinstance(rows[r], sp.logic.boolalg.BooleanAtom):
            return None  # 6 = 12 became False: no line a student writes
        try:
            shown = [show_relation(w) if isinstance(w, Relational) else sp.latex(w) for w in rows]
        except KeyError:
            return None
        return " \\\\ ".join(shown)
    return None


def _wrong_root(prev: str, nxt: str) -> str | None:
    roots = roots_of(nxt)
    if not roots or len(roots) < 2 or roots[0] == 0:
        return None
    return " \\text{ or } ".join(f"x = {sp.latex(-r if i == 0 else r)}" for i, r in enumerate(roots))


def _lost_root(prev: str, nxt: str) -> str | None:
    roots = roots_of(nxt)
    if not roots or len(roots) < 2:
        return None
    return f"x = {sp.latex(roots[-1])}"


def _fraction_rule(prev: str, nxt: str) -> str | None:
    found = parse_line(prev, raw=True)
    if not isinstance(found, sp.Add) or len(found.args) != 2:
        return None
    parts = [sp.fraction(t) for t in found.args]
    if not all(n.is_Integer and d.is_Integer and d != 1 for n, d in parts):
        return None
    (a, b), (c, d) = parts
    return f"\\frac{{{a + c}}}{{{b + d}}}"


def _exponent_rule(prev: str, nxt: str) -> str | None:
    found = parse_line(prev, raw=True)
    if not isinstance(found, sp.Mul) or len(found.args) != 2:
        return None
    p, q = found.args
    if not all(isinstance(t, sp.Pow) and t.base.is_Integer for t in (p, q)) or p.base != q.base:
        return None
    if p.exp * q.exp == p.exp + q.exp:
        return None
    return f"{p.base}^{{{p.exp * q.exp}}}"


def _kept_root(prev: str, nxt: str) -> str | None:
    """The last step rejects a root (extraneous after squaring, or where a denominator is zero): keep it."""
    before = roots_of(prev.split(",")[0])
    if not before:
        return None
    after = roots_of(nxt.split(",")[0]) if "solution" not in nxt else []
    if after is None or len(after) >= len(before):
        return None
    return " \\text{ or } ".join(f"x = {sp.latex(r)}" for r in before)


ERRORS: dict[str, Callable[[str, str], str | None]] = {
    "sign_not_changed": _sign_not_changed, "inequality_not_reversed": _not_reversed, "division": _division,
    "square_of_sum": _square_of_sum, "minus_bracket": _minus_bracket, "distribute_first_only": _distribute_first_only,
    "dropped_denominator": _dropped_denominator, "arithmetic": _arithmetic, "wrong_root": _wrong_root,
    "lost_root": _lost_root, "fraction_rule": _fraction_rule, "exponent_rule": _exponent_rule,
    "kept_root": _kept_root,
}
# mistakes made in the step after the line before (the rest are made on the line before itself)
_REPLACES_NEXT = {"arithmetic", "wrong_root", "lost_root"}


# ---------------------------------------------------------------- chains


def _differs(prev: str, wrong: str, problem: str, error: str) -> bool:
    """Does the wrong line really change the answer (the solver's answer to the line before and to it)?"""
    before, after = answer_text(prev), answer_text(wrong)
    return before is not None and after is not None and before != after


def _plain(latex: str) -> bool:
    """One relation or expression (or a system's rows) the solver reads as it is: no alternatives, conditions or
    words."""
    return not any(mark in latex for mark in (" or ", "\\text", "\\lor", ",", "\\in", "\\therefore", "\\boxed"))


def _inject(lines: list[str], rng: random.Random, conditions: bool) -> tuple[list[str], int, str] | None:
    names = list(ERRORS)
    rng.shuffle(names)
    for name in names:
        places = list(range(1, len(lines)))
        rng.shuffle(places)
        for i in places:
            prev, nxt = lines[i - 1], lines[i]
            roots = name in ("wrong_root", "lost_root", "kept_root")
            if not roots and not (_plain(prev) and (name != "arithmetic" or _plain(nxt))):
                continue
            if name == "kept_root" and i != len(lines) - 1:
                continue
            try:
                wrong = ERRORS[name](prev, nxt)
            except (AttributeError, KeyError, TypeError, ValueError, ZeroDivisionError):
                wrong = None  # the mistake made a statement that is no longer a relation (2 = 2 became True)
            if not wrong:
                continue
            wrong = wrong.replace("\\left", "").replace("\\right", "")
            if roots and answer_text(wrong) == answer_text(lines[0]):
                continue  # the roots left are the problem's after all (the line's condition had dropped one)
            if name == "kept_root":
                name = "extraneous_root" if "\\sqrt" in lines[0] or "|" in lines[0] else "excluded_value"
            elif not roots and not _differs(prev, wrong, lines[0], name):
                continue
            rest = [] if roots else [student(s, rng, conditions) for s in solver_steps(wrong.split(",")[0])[1:]]
            return lines[:i] + [wrong] + rest, i, name
    return None


def make_chain(seed: int) -> Chain | None:
    """One chain from one seed (None when the problem drawn has no worked steps to start from)."""
    rng = random.Random(seed)
    kinds = sorted(KINDS)
    kind = rng.choices(kinds, weights=[KINDS[k] for k in kinds])[0]
    problem = GENERATORS[kind](rng)
    steps = solver_steps(problem)
    if len(steps) < 2:
        return None
    conditions = rng.random() < 0.5
    lines = [problem] + [student(s, rng, conditions) for s in steps[1:]]
    if rng.random() < WRONG_SHARE:
        found = _inject(lines, rng, conditions)
        if found is not None:
            wrong_lines, at, name = found
            if rng.random() < 0.2 and at < len(wrong_lines) - 1:
                wrong_lines[-1] = "\\boxed{%s}" % wrong_lines[-1]
            return Chain(kind, tuple(wrong_lines), at, name, (), seed)
    lines, used = vary(lines, rng, kind)
    return Chain(kind, tuple(lines), None, None, tuple(used), seed)


def worked_chains(split: str, count: int) -> list[Chain]:
    """`count` chains of a split ("val" or "test"), the same for the same split and count."""
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, not {split!r}")
    out: list[Chain] = []
    seed = SPLIT_SEEDS[split]
    while len(out) < count:
        chain = make_chain(seed)
        seed += 1
        if chain is not None:
            out.append(chain)
    return out
