"""What one step says, read from its tokens (`lines.Piece`) into SymPy through the project's bridge (`tosympy`).

    read_problem(tokens)                         # Problem(kind="equation", unknowns=[x], ...)
    read_statement(tokens, problem)              # Statement(node=Either([Rel(x = 2), Rel(x = 3)]), ...)
    read_values(tokens, problem)                 # the values of "= A = B" in a simplification

A statement about the unknowns is a small tree: `Either` (alternatives: "x = 2 or x = 3", a list of roots
"x = 2, x = 3", a ± branch), `All` (a line with its conditions: "x = 4, x ≠ 1"; a double inequality), and leaves:
`Rel` (a relation, evaluated and as written) or a SymPy set the unknown lies in ("x ∈ (-2, 1]", "no solution",
"every real x"). A system's statement is its rows, each such a tree. Also read: "(x, y) = (1, 2)" and a bare
"(1, 2)" in a system, x_1 / x_2 / x_{1,2} as the unknown (x_1 alone is one root of several: `partial`), a family
"x = π/6 + 2kπ, k ∈ ℤ" (the letter k or n, `family`), a substitution "u = x^2" beside a line in u, and a side
computation "Δ = b^2 - 4ac = 1" (an `Aside`: a name that is no unknown, with the values it is said to equal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.errors import InkmathError
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.solve.check.lines import (EVERY_NUMBER, INTEGERS, NO_SOLUTION, OR, REJECT, RELATIONS, ROW,
                                                split_top, top_positions)
from inkmath.equation.solve.tosympy import PLUS_MINUS, expand_plus_minus, to_sympy_lines

PREFERRED = ("x", "y", "z", "t")  # the unknown a student means, in order (as the solver)
FAMILY_LETTERS = ("k", "n", "m")  # the whole number of a family of solutions: x = π/6 + 2kπ
ASIDE_NAMES = ("Delta", "D", "d")  # a discriminant computed on the side
INEQUALITIES = {"<", ">", "\\leq", "\\geq", "\\le", "\\ge", "\\lt", "\\gt"}
VERBS = re.compile(r"^\s*(?:\\text\s*\{\s*)?(solve|simplify|expand|evaluate|compute|calculate|work\s+out|find|"
                   r"factori[sz]e|differentiate|integrate)\b", re.I)
EXPRESSION_VERBS = {"simplify", "expand", "evaluate", "compute", "calculate", "work out", "factorise", "factorize",
                    "differentiate", "integrate"}


@dataclass
class Rel:
    """A relation as SymPy evaluates it (`expr`) and as written (`raw`: 2(x - 1) stays a product)."""

    expr: Relational
    raw: Relational


@dataclass
class Either:
    parts: list[Any]


@dataclass
class All:
    parts: list[Any]


@dataclass
class Aside:
    """A side computation: `name` said to equal each of `values` in turn (Δ = 25 - 24 = 1)."""

    name: str
    values: list[sp.Basic]


@dataclass
class Statement:
    """One step about the unknowns: `node` (one unknown) or `rows` (a system), as read from `text`."""

    text: str
    node: Any = None
    rows: list[Any] = field(default_factory=list)
    final: bool = False
    partial: bool = False  # x_1 = 2: one root of several, written alone
    rejects: bool = False  # "x = 2 is rejected": the values it names are said to be no solutions
    substitutions: dict = field(default_factory=dict)  # u = x^2 in force (written here or on a line before)
    family: sp.Symbol | None = None
    asides: list[Aside] = field(default_factory=list)


@dataclass
class Problem:
    """The first line: what is asked (`kind`: equation, inequality, system or expression), for which unknowns."""

    kind: str
    unknowns: list[sp.Symbol]
    tokens: list[str]
    items: list[sp.Basic] = field(default_factory=list)  # the problem in SymPy, evaluated
    raw: list[sp.Basic] = field(default_factory=list)  # as written
    antiderivative: bool = False  # an indefinite integral: lines equal up to a constant
    verb: str = ""
    euler: bool = False  # the problem writes e^{..}, \ln or \exp: a bare e in its steps is Euler's number too

    @property
    def var(self) -> sp.Symbol | None:
        return self.unknowns[0] if self.unknowns else None


def sympy_of(tokens: list[str]) -> tuple[list[sp.Basic], list[sp.Basic]]:
    """(evaluated, as written) SymPy items of tokens; `InkmathError` for what does not read."""
    if not tokens:
        raise InkmathError("an empty part")
    tree = parse_latex(" ".join(tokens))
    return to_sympy_lines(tree), to_sympy_lines(tree, raw=True)


def one(tokens: list[str]) -> tuple[sp.Basic, sp.Basic]:
    items, raw = sympy_of(tokens)
    if len(items) != 1:
        raise InkmathError("several expressions where one was expected")
    return items[0], raw[0]


def order_unknowns(symbols: set[sp.Symbol]) -> list[sp.Symbol]:
    def key(s: sp.Symbol) -> tuple[int, str]:
        return (PREFERRED.index(s.name) if s.name in PREFERRED else len(PREFERRED), s.name)
    return sorted((s for s in symbols if s != PLUS_MINUS), key=key)


def strip_verb(text: str) -> tuple[str, str]:
    """("2x+3=11", "solve") for "Solve: 2x+3=11"; the verb is "" when there is none."""
    m = VERBS.match(text)
    if not m:
        return text, ""
    verb = " ".join(m.group(1).lower().split())
    rest = text[m.end():]
    rest = re.sub(r"^\s*\}?\s*(?:for\s+[a-z]\s*)?\}?\s*:?", "", rest)
    return rest, verb


def read_problem(tokens: list[str], verb: str = "") -> Problem:
    """The kind of problem the first step poses, and its unknowns."""
    rows = [r for r in split_top(tokens, {ROW}) if r]
    if len(rows) == 1:
        parts = [p for p in split_top(rows[0], {","}) if p]
        if len(parts) > 1 and all(top_positions(p, {"="}) for p in parts):
            rows = parts  # x+y=5, x-y=1: a system on one line
    items: list[sp.Basic] = []
    raw: list[sp.Basic] = []
    for row in rows:
        relations = top_positions(row, RELATIONS)
        if len(rows) == 1 and len([i for i in relations if row[i] == "="]) >= 2:
            row = row[:relations[1]]  # 1/2 + 1/3 = 5/6 = ...: the problem is what comes first
        got, got_raw = sympy_of(row)
        items += got
        raw += got_raw
    symbols: set[sp.Symbol] = set()
    for item in items:
        symbols |= item.free_symbols
    unknowns = order_unknowns(symbols)
    relations = [item for item in items if isinstance(item, Relational)]
    if len(items) > 1 and len(relations) == len(items):
        kind = "system" if len(unknowns) > 1 else "equation"
    elif relations and len(items) == 1 and verb not in EXPRESSION_VERBS:
        rel = relations[0]
        kind = "equation" if isinstance(rel, sp.Eq) else "inequality"
        if isinstance(rel, sp.Eq) and not order_unknowns(raw[0].free_symbols):
            kind = "expression"  # 2 + 3 = 5: arithmetic with its answer
            items, raw = [rel.lhs], [raw[0].lhs]
    elif not relations:
        kind = "expression"
    elif verb in EXPRESSION_VERBS and len(items) == 1:
        kind, items, raw = "expression", [relations[0].lhs], [raw[0].lhs]
    else:
        raise InkmathError("the first line mixes equations and expressions; write the problem alone on it")
    if kind == "equation" and len(items) > 1:
        raise InkmathError("several equations in one unknown: write one equation, or a system in several unknowns")
    if kind in ("equation", "inequality") and not unknowns:
        unknowns = order_unknowns(raw[0].free_symbols)  # 0x = 5: x is gone once evaluated
    if kind in ("equation", "inequality") and not unknowns:
        raise InkmathError("the first line has no unknown to solve for")
    antiderivative = kind == "expression" and any(
        isinstance(i, sp.Integral) and any(len(lim) == 1 for lim in i.limits) for i in sp.preorder_traversal(items[0]))
    euler = "\\ln" in tokens or "\\exp" in tokens or any(
        t == "e" and i + 1 < len(tokens) and tokens[i + 1] == "^" for i, t in enumerate(tokens))
    return Problem(kind, unknowns, tokens, items, raw, antiderivative, verb, euler)


def with_euler(tokens: list[str], problem: Problem) -> list[str]:
    """In a problem with e^x or ln x, a bare e in a step (\\ln x = 1, so x = e) is Euler's number: written e^{1}, which
    `tosympy` reads so."""
    if not problem.euler or "e" not in tokens:
        return tokens
    out: list[str] = []
    for i, t in enumerate(tokens):
        out.append(t)
        if t == "e" and (i + 1 >= len(tokens) or tokens[i + 1] not in ("^", "_")):
            out += ["^", "{", "1", "}"]
    return out


# ---------------------------------------------------------------- sets written out


def _endpoint(tokens: list[str]) -> sp.Basic:
    value, _ = one(tokens)
    if value.free_symbols:
        raise InkmathError("an interval's end is not a number")
    return value


def read_set(tokens: list[str]) -> sp.Set:
    """A set as written: intervals joined by ∪, `\\{a, b\\}`, ∅, ℝ, `ℝ \\setminus \\{1\\}`."""
    if "\\setminus" in tokens:
        i = tokens.index("\\setminus")
        return sp.Complement(read_set(tokens[:i]), read_set(tokens[i + 1:]))
    out: list[sp.Set] = []
    for part in split_top(tokens, {"\\cup", "U"}):
        out.append(_one_set(part))
    return sp.Union(*out) if len(out) > 1 else out[0]


def _one_set(part: list[str]) -> sp.Set:
    if part in ([NO_SOLUTION], ["\\emptyset"], []):
        return sp.S.EmptySet
    if part == [EVERY_NUMBER]:
        return sp.S.Reals
    if part[0] == "\\{" and part[-1] == "\\}":
        return sp.FiniteSet(*[_endpoint(p) for p in split_top(part[1:-1], {","}) if p])
    if part[0] in ("(", "[", "]") and part[-1] in (")", "]", "[") and len(part) > 2:
        ends = split_top(part[1:-1], {","})
        if len(ends) != 2:
            raise InkmathError("an interval needs two ends")
        lo, hi = _endpoint(ends[0]), _endpoint(ends[1])
        return sp.Interval(lo, hi, left_open=part[0] != "[", right_open=part[-1] != "]")
    raise InkmathError("cannot read this set")


# ---------------------------------------------------------------- statements about the unknowns


def _rename(expr: Any, problem: Problem) -> tuple[Any, bool]:
    """x_1, x_{2}, x_{1,2} read as the unknown x (when the problem has no such letter); True when it was a single
    root's name (x_1)."""
    mapping, single = {}, False
    names = {u.name for u in problem.unknowns}
    for s in getattr(expr, "free_symbols", set()):
        m = re.fullmatch(r"([A-Za-z])_\{?([0-9, ]+)\}?", s.name)
        if m and m.group(1) in names and s.name not in names:
            mapping[s] = sp.Symbol(m.group(1))
            single = single or "," not in m.group(2)
    return (expr.xreplace(mapping) if mapping else expr), single


def _rel(tokens: list[str], problem: Problem) -> tuple[Any, bool]:
    """One relation (or a ± pair of them) as a tree leaf; True for a single root's name (x_1 = 2)."""
    expr, raw = one(tokens)
    expr, single = _rename(expr, problem)
    raw, _ = _rename(raw, problem)
    if not isinstance(expr, Relational):
        if expr in (sp.true, sp.false) and isinstance(raw, Relational):
            expr = raw  # 2 = 2 evaluated to True: keep it as written
        else:
            raise InkmathError("not an equation or inequality")
    branches = expand_plus_minus(expr)
    raws = expand_plus_minus(raw) if raw.has(PLUS_MINUS) else [raw] * len(branches)
    if len(branches) == 1:
        return Rel(branches[0], raws[0]), single
    return Either([Rel(b, r) for b, r in zip(branches, raws)]), single


def _chain(tokens: list[str], problem: Problem) -> Any:
    """A double inequality (-1 ≤ x - 2 ≤ 1) as both relations; other parts as one."""
    marks = top_positions(tokens, RELATIONS)
    if len(marks) >= 2 and all(tokens[i] in INEQUALITIES for i in marks):
        bounds = [-1] + marks + [len(tokens)]
        sides = [tokens[bounds[i] + 1:bounds[i + 1]] for i in range(len(bounds) - 1)]
        pieces = []
        for k, mark in enumerate(marks):
            pieces.append(_rel(sides[k] + [tokens[mark]] + sides[k + 1], problem)[0])
        return All(pieces)
    return None


def _aside(tokens: list[str], problem: Problem) -> Aside | None:
    """Δ = (-8)^2 - 4·1·(-8) = 96: a name that is no unknown, said to equal one value or several."""
    marks = top_positions(tokens, {"="})
    if not marks or any(t in INEQUALITIES for t in tokens):
        return None
    name = tokens[:marks[0]]
    if len(name) != 1 or name[0].lstrip("\\") not in ASIDE_NAMES or name[0].lstrip("\\") in {
            u.name for u in problem.unknowns}:
        return None
    bounds = marks + [len(tokens)]
    values = [one(tokens[bounds[i] + 1:bounds[i + 1]])[0] for i in range(len(marks))]
    if any(v.free_symbols for v in values):
        return None
    return Aside(name[0].lstrip("\\"), values)


def _family(tokens: list[str]) -> sp.Symbol | None:
    """k ∈ ℤ (or k ∈ Z): the letter of a family of solutions."""
    if len(tokens) == 3 and tokens[1] == "\\in" and tokens[0] in FAMILY_LETTERS and tokens[2] in (INTEGERS, "Z"):
        return sp.Symbol(tokens[0])
    return None


def _tuple(tokens: list[str], problem: Problem) -> Any:
    """(x, y) = (1, 2), or (1, 2) alone in a system: each unknown equal to its value."""
    if not tokens or tokens[0] != "(":
        return None
    marks = top_positions(tokens, {"="})
    if len(marks) > 1:
        return None
    if marks:
        names, values = tokens[:marks[0]], tokens[marks[0] + 1:]
        letters = [p for p in split_top(names[1:-1], {","})] if names[-1:] == [")"] else []
        if not letters or any(len(p) != 1 for p in letters):
            return None
        unknowns = [sp.Symbol(p[0]) for p in letters]
    else:
        values, unknowns = tokens, list(problem.unknowns)
    if values[-1:] != [")"] or len(unknowns) < 2:
        return None
    parts = split_top(values[1:-1], {","})
    if len(parts) != len(unknowns):
        return None
    rels = []
    for u, part in zip(unknowns, parts):
        value, raw = one(part)
        rels.append(Rel(sp.Eq(u, value, evaluate=False), sp.Eq(u, raw, evaluate=False)))
    return All(rels)


def read_node(tokens: list[str], problem: Problem) -> tuple[Any, bool]:
    """One part of a step as a tree (see the module's docstring): (node, single root's name)."""
    if tokens in ([NO_SOLUTION], ["\\emptyset"]):
        return sp.S.EmptySet, False
    if tokens == [EVERY_NUMBER]:
        return sp.S.Reals, False
    options = [p for p in split_top(tokens, {OR}) if p]
    if len(options) > 1:
        read = [read_node(p, problem) for p in options]
        return Either([n for n, _ in read]), any(s for _, s in read)
    if "\\in" in tokens and top_positions(tokens, {"\\in"}):
        at = top_positions(tokens, {"\\in"})[0]
        return sp.Intersection(read_set(tokens[at + 1:]), sp.S.Reals), False
    marks = top_positions(tokens, {"="})
    if len(marks) == 1 and len(tokens[:marks[0]]) == 1 and tokens[0] in ("S", "L") and (
            tokens[marks[0] + 1] in ("\\{", NO_SOLUTION, "\\emptyset", EVERY_NUMBER)):
        return read_set(tokens[marks[0] + 1:]), False  # S = {2, 3}: the solution set
    found = _tuple(tokens, problem)
    if found is not None:
        return found, False
    found = _chain(tokens, problem)
    if found is not None:
        return found, False
    return _rel(tokens, problem)


def is_condition(node: Any, problem: Problem) -> bool:
    """A condition beside a line (x ≠ 1, x + 1 ≥ 0), not one of its alternatives: in an equation only."""
    if problem.kind != "equation" or not isinstance(node, Rel):
        return False
    return not isinstance(node.expr, sp.Eq)


def read_statement(tokens: list[str], problem: Problem, final: bool = False, partial: bool = False,
                   carried: dict | None = None) -> Statement:
    """A step about the problem's unknowns (an equation, inequality or system in them); `partial`: one root of
    several (x = 2 on one line, x = -2 on the next); `carried`: the substitutions (u = x^2) in force from the lines
    before, for a line in u that does not repeat it."""
    tokens = with_euler(tokens, problem)
    rejects = REJECT in tokens
    if rejects:  # x = 2 (rejected): the values, then the word
        tokens = [t for t in tokens if t != REJECT]
        while len(tokens) >= 2 and tokens[-2:] == ["(", ")"]:
            tokens = tokens[:-2]
    text = " ".join(tokens)
    out = Statement(text, final=final, partial=partial, rejects=rejects)
    rows = [r for r in split_top(tokens, {ROW}) if r]
    if problem.kind == "system":
        for row in rows:
            for part in (p for p in split_top(row, {","}) if p):
                aside = _aside(part, problem)
                if aside is not None:
                    out.asides.append(aside)
                    continue
                node, _ = read_node(part, problem)
                out.rows.append(node)
        return out
    if len(rows) > 1:
        raise InkmathError("several lines in one step of an equation; write one per line")
    options, conditions, substitutions = [], [], {}
    for part in (p for p in split_top(rows[0] if rows else [], {","}) if p):
        family = _family(part)
        if family is not None:
            out.family = family
            continue
        aside = _aside(part, problem)
        if aside is not None:
            out.asides.append(aside)
            continue
        if options and problem.kind == "equation" and not top_positions(part, RELATIONS | {"\\in", OR}):
            value, raw = one(part)  # x = 3, -3: a further root
            if value.free_symbols:
                raise InkmathError("not an equation or inequality")
            var = problem.var
            options.append(Rel(sp.Eq(var, value, evaluate=False), sp.Eq(var, raw, evaluate=False)))
            continue
        node, single = read_node(part, problem)
        out.partial = out.partial or single
        sub = _substitution(node, problem)
        if sub is not None:
            substitutions.update(sub)
        elif is_condition(node, problem) or problem.kind == "inequality":
            conditions.append(node)  # in an inequality a comma joins conditions: x > -1, x < 3
        else:
            options.append(node)
    if not options and not conditions:
        if out.asides:
            return out  # Δ = 25 - 24 = 1 alone: a side calculation
        raise InkmathError("nothing about the unknown in this step")
    main = options[0] if len(options) == 1 else Either(options) if options else None
    node = main if not conditions else All(([main] if main is not None else []) + conditions)
    if isinstance(node, All) and len(node.parts) == 1:
        node = node.parts[0]
    substitutions = {**(carried or {}), **substitutions}
    used = {u: v for u, v in substitutions.items() if any(
        isinstance(leaf, Rel) and u in leaf.expr.free_symbols for leaf in leaves(node))}
    out.substitutions = substitutions if used or not carried else dict(carried)
    out.node = _substitute(node, used) if used else node
    if out.family is None:
        out.family = _family_letter(out.node, problem)
    return out


def _substitution(node: Any, problem: Problem) -> dict[sp.Symbol, sp.Basic] | None:
    """u = x^2 beside a line in u: {u: x^2}."""
    if not isinstance(node, Rel) or not isinstance(node.expr, sp.Eq):
        return None
    lhs, rhs = node.raw.lhs, node.raw.rhs
    if isinstance(lhs, sp.Symbol) and lhs not in problem.unknowns and rhs.free_symbols & set(problem.unknowns):
        return {lhs: rhs}
    return None


def _substitute(node: Any, mapping: dict) -> Any:
    if isinstance(node, Rel):
        return Rel(node.expr.xreplace(mapping), node.raw.xreplace(mapping))
    if isinstance(node, (Either, All)):
        return type(node)([_substitute(p, mapping) for p in node.parts])
    return node


def _family_letter(node: Any, problem: Problem) -> sp.Symbol | None:
    """The family's letter when a relation holds the unknown and k (or n, m) that the problem does not."""
    for leaf in leaves(node):
        if isinstance(leaf, Rel):
            for s in leaf.expr.free_symbols:
                if s.name in FAMILY_LETTERS and s not in problem.unknowns:
                    return s
    return None


def leaves(node: Any) -> list[Any]:
    if isinstance(node, (Either, All)):
        return [leaf for p in node.parts for leaf in leaves(p)]
    return [node]


def read_values(tokens: list[str], problem: Problem) -> list[tuple[sp.Basic, sp.Basic, str]]:
    """The values a step of a simplification writes, in order: "= A = B" -> [A, B] (evaluated, as written, text);
    a leading "=" continues the line before."""
    parts = split_top(with_euler(tokens, problem), {"="})
    if parts and not parts[0]:
        parts = parts[1:]
    out = []
    for part in parts:
        if not part:
            raise InkmathError("an empty side of '='")
        value, raw = one(part)
        out.append((value, raw, " ".join(part)))
    return out
