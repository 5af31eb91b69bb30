"""One step against the step before it: `ok`, `wrong` (with the usual mistake it matches, `mistakes`) or `unsure`.

    checker = checker_for(problem, solver_result)
    state = checker.start()                          # the problem as the first state
    verdict, state = checker.step(state, piece)      # each step in turn

What "follows" means, by kind:
- an equation or inequality in one unknown: the same real solutions where the problem is defined (the problem's
  domain is carried: a step that clears a denominator, squares a root or drops a logarithm is judged where the
  problem is defined). A step may add roots by squaring both sides (each added root solves the line before squared,
  not the problem) and may then drop them again: an extraneous root is wrong only when it stays in the answer
  (`final`). x_1 = 2 and x_2 = 3 on lines of their own are each one root of the line before;
- a system: a step with all the unknowns determined (or as many rows as unknowns) has the same real solutions as
  the last such step; a step that determines less ("y = 2" alone) must hold at every solution of it;
- an expression: the same value (where both are defined; an antiderivative up to a constant); "A = B" whose A is
  not the value so far is a side calculation, checked on its own.
The answer a step states (x = 2 or x = 3, x ∈ (-2, 1], (x, y) = (1, 2), a number) is compared with the solver's
answer to the problem by `final`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp
from sympy.core.relational import Relational

from inkmath.errors import InkmathError
from inkmath.equation.solve.check import mistakes
from inkmath.equation.solve.check.lines import OR, ROW, Piece, top_positions
from inkmath.equation.solve.check.sets import (CannotCheck, SystemSet, contains, evaluate, holds_at, node_domain,
                                               node_set, points, same_set, same_system, same_value, system_set)
from inkmath.equation.solve.check.statements import (All, Either, Problem, Rel, Statement, leaves, read_statement,
                                                     read_values)
from inkmath.equation.solve.steps.base import plain

OK, WRONG, UNSURE = "ok", "wrong", "unsure"


@dataclass
class StepVerdict:
    verdict: str
    reason: str
    mistake: str | None = None
    answer: Any = None  # what the step states as an answer (a set, solutions, a value), when it states one


@dataclass
class State:
    """What the chain has established so far: the meaning of the last step that follows (`value`: a set of reals,
    a `SystemSet` or an expression), its text, and what it said (`statement` or the value as written)."""

    value: Any
    text: str
    said: Any = None
    roots: tuple = ()  # x_1 = .., x_2 = ..: the roots named one by one so far
    answer: Any = None  # the answer the last step stated, if it stated one
    sub: Any = None  # in a system: (unknown, State) of the steps in that one unknown since the last whole system


def tex(value: Any) -> str:
    try:
        return plain(value)
    except Exception:  # noqa: BLE001 (printing must not lose a verdict)
        return str(value)


def same_text(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


class Checker:
    """The steps of one problem (see the module's docstring); `solution` is the problem's answer (solver)."""

    def __init__(self, problem: Problem, solution: Any) -> None:
        self.problem = problem
        self.solution = solution

    def start(self) -> State:
        raise NotImplementedError

    def steps_of(self, piece: Piece) -> list[Piece]:
        """The steps one written piece holds (a chain of '=' in an equation: x = 10/2 = 5)."""
        return [piece]

    def step(self, state: State, piece: Piece) -> tuple[StepVerdict, State]:
        raise NotImplementedError

    def final(self, state: State) -> StepVerdict | None:
        """The answer the chain ends with against the problem's: None when the last step states no answer."""
        raise NotImplementedError


# ---------------------------------------------------------------- one unknown


class OneUnknown(Checker):
    def __init__(self, problem: Problem, solution: sp.Set, domain: sp.Set) -> None:
        super().__init__(problem, solution)
        self.var = problem.var
        self.domain = domain
        self.equation = problem.kind == "equation"

    def start(self) -> State:
        first = read_statement(self.problem.tokens, self.problem)
        return State(self.solution, " ".join(self.problem.tokens), first)

    def steps_of(self, piece: Piece) -> list[Piece]:
        toks = piece.tokens
        marks = top_positions(toks, {"="})
        if len(marks) < 2 or top_positions(toks, {",", OR, ROW}):
            return [piece]
        head = toks[:marks[0]]
        if len(head) == 1 and head[0].lstrip("\\") in ("Delta", "D"):
            return [piece]  # Δ = 25 - 24 = 1: a side calculation, read whole
        bounds = marks + [len(toks)]
        out = [Piece(head + ["="] + toks[bounds[i] + 1:bounds[i + 1]]) for i in range(len(marks))]
        out[-1].final = piece.final
        return out

    def meaning(self, stmt: Statement) -> tuple[sp.Set, sp.Set]:
        """(the solutions the step states, those within the problem's domain)."""
        stated = sp.Intersection(node_set(stmt.node, self.var, stmt.family), node_domain(stmt.node, self.var))
        return stated, sp.Intersection(stated, self.domain)

    def step(self, state: State, piece: Piece) -> tuple[StepVerdict, State]:
        carried = state.said.substitutions if isinstance(state.said, Statement) else None
        stmt = read_statement(piece.tokens, self.problem, piece.final, piece.partial, carried)
        aside = self.check_asides(stmt, state)
        if aside is not None:
            return aside, state
        if stmt.node is None:
            return StepVerdict(OK, "a side calculation that holds"), state
        stated, here = self.meaning(stmt)
        if stmt.rejects:
            return self.rejected(state, stmt, stated)
        answer = stated if is_answer(stmt.node, self.var) else None
        if stmt.partial:
            return self.partial(state, stmt, here)
        new = State(here, stmt.text, stmt, answer=answer)
        if same_set(here, state.value):
            said = "restates the line before" if same_text(stmt.text, state.text) else "follows from the line before"
            return StepVerdict(OK, said, answer=answer), new
        allowed = self.allowed_change(state, here)
        if allowed is not None:
            return StepVerdict(OK, allowed, answer=answer), new
        code, reason = mistakes.safely(mistakes.diagnose_sets, state.said, stmt, self, state.value, here)
        return StepVerdict(WRONG, reason, code, answer=answer), new

    def partial(self, state: State, stmt: Statement, here: sp.Set) -> tuple[StepVerdict, State]:
        """x_1 = 2 alone: one root of the line before."""
        found = points(here)
        if found is None or not found:
            raise CannotCheck("a root named x_1 should be a number")
        outside = [r for r in found if not contains(state.value, r)]
        roots = state.roots + tuple(r for r in found if r not in state.roots)
        new = replace(state, roots=roots, answer=sp.FiniteSet(*roots))
        if not outside:
            return StepVerdict(OK, "one of the roots of the line before", answer=new.answer), new
        code, reason = mistakes.safely(mistakes.diagnose_sets, state.said, stmt, self, state.value, here,
                                              partial=True)
        return StepVerdict(WRONG, reason, code, answer=new.answer), new

    def rejected(self, state: State, stmt: Statement, named: sp.Set) -> tuple[StepVerdict, State]:
        """x = 2 is rejected: right when x = 2 does not solve the problem; the values leave the solutions so far."""
        found = points(named)
        if not found:
            raise CannotCheck("a rejected value should be a number")
        shown = " and ".join(f"${self.var} = {tex(r)}$" for r in found)
        kept = sp.Complement(state.value, sp.FiniteSet(*found))
        new = State(kept, state.text, state.said, answer=kept)
        right = [r for r in found if contains(self.solution, r)]
        if right:
            return StepVerdict(WRONG, f"${self.var} = {tex(right[0])}$ solves the original {self.problem.kind}: it "
                                      "must not be rejected", "lost_root", answer=kept), new
        return StepVerdict(OK, f"rejects {shown}, which does not solve the original {self.problem.kind}",
                           answer=kept), new

    def allowed_change(self, state: State, here: sp.Set) -> str | None:
        """Why a step that changes the solutions may still follow: squaring can add a root that does not solve the
        problem, and such a root may be dropped again. None when it may not."""
        before, after = points(state.value), points(here)
        solutions = points(self.solution)
        if not self.equation or before is None or after is None or solutions is None:
            return None
        gained = [r for r in after if not contains(state.value, r)]
        lost = [r for r in before if not contains(here, r)]
        if any(contains(self.solution, r) for r in gained + lost):
            return None
        if gained and not all(squares_agree(state.said, self.var, r) for r in gained):
            return None
        if gained:
            shown = ", ".join(f"${self.var} = {tex(r)}$" for r in gained)
            return f"squaring both sides can add a root ({shown}); check each root in the original equation"
        shown = ", ".join(f"${self.var} = {tex(r)}$" for r in lost)
        return f"drops {shown}, which does not solve the original equation"

    def check_asides(self, stmt: Statement, state: State) -> StepVerdict | None:
        """Δ = b^2 - 4ac = 1 beside a quadratic: the values agree, and with the quadratic's discriminant."""
        for aside in stmt.asides:
            values = aside.values
            for a, b in zip(values, values[1:]):
                if not same_value(a, b):
                    return StepVerdict(WRONG, f"check the arithmetic: ${tex(a)} \\neq {tex(b)}$", "arithmetic")
            expected = discriminant(stmt, self.var) or discriminant(state.said, self.var)
            if expected is not None and not same_value(values[-1], expected):
                return StepVerdict(WRONG, f"the discriminant $b^2 - 4ac$ is ${tex(expected)}$, not "
                                          f"${tex(values[-1])}$", "arithmetic")
        return None

    def final(self, state: State) -> StepVerdict | None:
        stated = state.answer
        if stated is None:
            return None
        if same_set(stated, self.solution):
            return StepVerdict(OK, "the answer is right", answer=stated)
        first = self.start().said
        code, reason = mistakes.safely(mistakes.wrong_answer, stated, self.solution, self,
                                       lambda r: squares_agree(first, self.var, r))
        return StepVerdict(WRONG, reason, code, answer=stated)


def is_answer(node: Any, var: sp.Symbol) -> bool:
    """Does a statement give the answer: the unknown equal to numbers, within bounds, in a set, or none?"""
    for leaf in leaves(node):
        if isinstance(leaf, sp.Set):
            continue
        if not isinstance(leaf, Rel) or not isinstance(leaf.expr, Relational):
            return False
        lhs, rhs = leaf.expr.lhs, leaf.expr.rhs
        if not ((lhs == var and not rhs.has(var)) or (rhs == var and not lhs.has(var))):
            return False
    return True


def squares_agree(said: Any, var: sp.Symbol, root: sp.Basic) -> bool:
    """Does `root` solve one of the equations of `said` squared (a root that squaring both sides brings in)?"""
    nodes = [said.node] if isinstance(said, Statement) else []
    for leaf in (leaf for n in nodes for leaf in leaves(n)):
        if isinstance(leaf, Rel) and isinstance(leaf.expr, sp.Eq):
            try:
                lhs = complex(sp.N(leaf.raw.lhs.xreplace({var: root}), 30))
                rhs = complex(sp.N(leaf.raw.rhs.xreplace({var: root}), 30))
            except (TypeError, ValueError):
                continue
            if abs(lhs * lhs - rhs * rhs) < 1e-9 * max(1.0, abs(lhs * lhs)):
                return True
    return False


def discriminant(said: Any, var: sp.Symbol) -> sp.Basic | None:
    """b^2 - 4ac of the quadratic equation a statement holds (None when it holds none)."""
    if not isinstance(said, Statement) or said.node is None:
        return None
    for leaf in leaves(said.node):
        if isinstance(leaf, Rel) and isinstance(leaf.expr, sp.Eq):
            f = sp.expand(leaf.expr.lhs - leaf.expr.rhs)
            if f.is_polynomial(var) and f.free_symbols == {var} and sp.Poly(f, var).degree() == 2:
                a, b, c = sp.Poly(f, var).all_coeffs()
                return b * b - 4 * a * c
    return None


# ---------------------------------------------------------------- systems


class System(Checker):
    def __init__(self, problem: Problem, solution: SystemSet) -> None:
        super().__init__(problem, solution)
        self.unknowns = problem.unknowns
        self.alone: dict[sp.Symbol, OneUnknown] = {}

    def one_unknown(self, var: sp.Symbol) -> OneUnknown:
        """The checker of the steps a student takes in one unknown of the system (x^2 + 2x - 4 = 0, ...): each
        against the one before, as an equation whose solutions are the system's values of that unknown."""
        if var not in self.alone:
            i = self.unknowns.index(var)
            values = sp.FiniteSet(*{t[i] for t in self.solution.tuples}) if not self.solution.infinite else sp.S.Reals
            problem = Problem("equation", [var], [])
            self.alone[var] = OneUnknown(problem, values, sp.S.Reals)
        return self.alone[var]

    def single(self, stmt: Statement) -> sp.Symbol | None:
        """The one unknown a step is about, when it holds only that one."""
        found: set[sp.Symbol] = set()
        for row in stmt.rows:
            for leaf in leaves(row):
                if not isinstance(leaf, Rel):
                    return None
                found |= leaf.expr.free_symbols
        return found.pop() if len(found) == 1 and found <= set(self.unknowns) else None

    def start(self) -> State:
        first = read_statement(self.problem.tokens, self.problem)
        return State(self.solution, " ".join(self.problem.tokens), first)

    def assignments(self, stmt: Statement) -> dict[sp.Symbol, sp.Basic] | None:
        """x = 3, y = 2 (or (x, y) = (3, 2)): the values a step gives the unknowns, if that is all it says."""
        out: dict[sp.Symbol, sp.Basic] = {}
        for row in stmt.rows:
            for leaf in leaves(row):
                if isinstance(row, Either) or not isinstance(leaf, Rel) or not isinstance(leaf.expr, sp.Eq):
                    return None
                lhs, rhs = leaf.expr.lhs, leaf.expr.rhs
                if lhs in self.unknowns and not rhs.free_symbols:
                    out[lhs] = rhs
                elif rhs in self.unknowns and not lhs.free_symbols:
                    out[rhs] = lhs
                else:
                    return None
        return out

    def step(self, state: State, piece: Piece) -> tuple[StepVerdict, State]:
        stmt = read_statement(piece.tokens, self.problem, piece.final)
        for aside in stmt.asides:
            for a, b in zip(aside.values, aside.values[1:]):
                if not same_value(a, b):
                    return StepVerdict(WRONG, f"check the arithmetic: ${tex(a)} \\neq {tex(b)}$", "arithmetic"), state
        if not stmt.rows:
            if stmt.asides:
                return StepVerdict(OK, "a side calculation that holds"), state
            raise CannotCheck("nothing about the unknowns in this step")
        own = system_set(stmt.rows, self.unknowns)
        given = self.assignments(stmt)
        answer = self.answer_of(stmt, own, given, state)
        full = len(stmt.rows) >= len(self.unknowns) or (not own.infinite)
        if full:
            same = same_system(own, state.value)
            if same is None:
                raise CannotCheck("both steps have infinitely many solutions; they are not compared")
            new = State(own, stmt.text, stmt, answer=answer)  # a whole system again: no steps in one unknown
            if same:
                said = "restates the line before" if same_text(stmt.text, state.text) else "follows from the line before"
                return StepVerdict(OK, said, answer=answer), new
            code, reason = mistakes.safely(mistakes.diagnose_system, state, stmt, own, self)
            return StepVerdict(WRONG, reason, code, answer=answer), new
        var = self.single(stmt)
        if var is not None and state.sub is not None and state.sub[0] == var:
            verdict, after = self.one_unknown(var).step(state.sub[1], piece)  # x^2 + 2x = 4 after x^2 + 2x - 4 = 0
            verdict.answer = answer
            return verdict, replace(state, answer=answer, sub=(var, after))
        new = replace(state, answer=answer, sub=None)
        if var is not None:
            checker = self.one_unknown(var)
            said = read_statement(piece.tokens, checker.problem, piece.final)
            new.sub = (var, State(checker.meaning(said)[1], said.text, said))
        if state.value.infinite:
            raise CannotCheck("the system before has infinitely many solutions; this step is not checked")
        failing = [t for t in sorted(state.value.tuples, key=str)
                   if not all(holds_at(row, dict(zip(self.unknowns, t))) for row in stmt.rows)]
        if not failing:
            return StepVerdict(OK, "holds at the solution of the system", answer=answer), new
        code, reason = mistakes.safely(mistakes.diagnose_system, state, stmt, own, self, failing=failing)
        return StepVerdict(WRONG, reason, code, answer=answer), new

    def answer_of(self, stmt: Statement, own: SystemSet, given: dict | None, state: State) -> SystemSet | None:
        """The solutions a step states: every unknown given a value (perhaps over several steps, x = 3 then
        y = 2), pairs "(x, y) = (0, 2) or (2, 0)", or none."""
        if given is not None:
            merged = dict(state.answer.parts) if isinstance(state.answer, _Partial) else {}
            merged.update(given)
            if set(merged) == set(self.unknowns):
                return SystemSet({tuple(merged[u] for u in self.unknowns)})
            return _Partial(merged)
        if all(_pairs(row, self.unknowns) for row in stmt.rows) or (
                len(stmt.rows) == 1 and stmt.rows[0] == sp.S.EmptySet):
            return own
        return None

    def final(self, state: State) -> StepVerdict | None:
        stated = state.answer
        if not isinstance(stated, SystemSet):
            return None
        if same_system(stated, self.solution):
            return StepVerdict(OK, "the answer is right", answer=stated)
        code, reason = mistakes.safely(mistakes.wrong_system_answer, stated, self.solution, self.unknowns)
        return StepVerdict(WRONG, reason, code, answer=stated)


@dataclass
class _Partial:
    """Some unknowns given values so far (x = 3 on one line, y = 2 on the next)."""

    parts: dict = field(default_factory=dict)


def _pairs(row: Any, unknowns: list[sp.Symbol]) -> bool:
    """Is a row a list of solution pairs: (x, y) = (0, 2) or (x, y) = (2, 0)?"""
    options = row.parts if isinstance(row, Either) else [row]
    for option in options:
        if not isinstance(option, All):
            return False
        names = set()
        for leaf in option.parts:
            if not isinstance(leaf, Rel) or not isinstance(leaf.expr, sp.Eq) or leaf.expr.lhs not in unknowns:
                return False
            names.add(leaf.expr.lhs)
        if names != set(unknowns):
            return False
    return True


# ---------------------------------------------------------------- expressions


class Values(Checker):
    def __init__(self, problem: Problem, solution: sp.Basic, start_value: sp.Basic) -> None:
        super().__init__(problem, solution)
        self.start_value = start_value
        self.variable = problem.var if problem.antiderivative else None

    def start(self) -> State:
        return State(self.start_value, " ".join(self.problem.tokens), self.problem.raw[0])

    def step(self, state: State, piece: Piece) -> tuple[StepVerdict, State]:
        values = read_values(piece.tokens, self.problem)
        if not values:
            raise CannotCheck("nothing written")
        values = [(evaluate(v), raw, text) for v, raw, text in values]
        first_same = same_value(values[0][0], state.value, self.variable)
        if len(values) > 1 and not first_same:
            return self.identity(state, values)
        current = state
        for value, raw, text in values:
            if not same_value(value, current.value, self.variable):
                code, reason = mistakes.safely(mistakes.diagnose_value, current, value, raw, self)
                return StepVerdict(WRONG, reason, code, answer=value), State(value, text, raw, answer=value)
            current = State(value, text, raw, answer=value)
        said = "restates the line before" if same_text(values[-1][2], state.text) else "equal to the line before"
        return StepVerdict(OK, said, answer=current.value), current

    def identity(self, state: State, values: list) -> tuple[StepVerdict, State]:
        """A = B whose A is not the value so far: a side calculation, which must hold on its own."""
        for (a, raw_a, text_a), (b, raw_b, _) in zip(values, values[1:]):
            if not same_value(a, b, self.variable):
                code, reason = mistakes.safely(mistakes.diagnose_value, State(a, text_a, raw_a), b, raw_b, self)
                return StepVerdict(WRONG, reason, code), state
        return StepVerdict(OK, "a side calculation that holds"), state

    def final(self, state: State) -> StepVerdict | None:
        if state.answer is None:
            return None
        if same_value(state.answer, self.solution, self.variable):
            return StepVerdict(OK, "the answer is right", answer=state.answer)
        return StepVerdict(WRONG, f"the value is ${tex(self.solution)}$, not ${tex(state.answer)}$", "wrong_value",
                           answer=state.answer)


def checker_for(problem: Problem, solution: Any, domain: sp.Set | None = None) -> Checker:
    if problem.kind in ("equation", "inequality"):
        return OneUnknown(problem, solution, domain if domain is not None else sp.S.Reals)
    if problem.kind == "system":
        return System(problem, solution)
    if problem.kind == "expression":
        return Values(problem, solution, evaluate(problem.items[0]))
    raise InkmathError(f"cannot check a problem of kind {problem.kind}")
