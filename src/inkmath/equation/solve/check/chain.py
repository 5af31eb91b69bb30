"""A whole worked solution checked line by line: the problem and its answer from the first line, each later line
against the one before (`verdicts`), readings that are not sure never accused, the answer at the end.

    check_readings(readings)          # CheckResult, in this process (SymPy's general routines allowed)
    check_job((readings, mode), t)    # the same as a job a solver worker runs by name (`pool.run_call_in_worker`)

Readings: a line that is wrong as read is `unsure` instead when its reading is less sure than `SURE_READING`; it
names the alternative reading of the line (or of the line before) that makes the step follow, when there is one,
and the chain goes on from that reading. A line that cannot be read, or is words, or is beyond what the checker
computes, is `unsure` with the reason, and the chain goes on from the line before it.

`mode` is `sets.slow_mode`'s: "fast" refuses SymPy's general routines (`NeedsWorker`: the caller sends the job to
a worker), "all" allows them, "skip" makes the steps that need them `unsure`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import sympy as sp

from inkmath.errors import InkmathError
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.core.metrics import tokenize as latex_tokens
from inkmath.equation.solve.check.lines import REJECT, Piece, pieces, words_only
from inkmath.equation.solve.check.results import SURE_READING, CheckResult, LineCheck, LineReading
from inkmath.equation.solve.check.sets import (CannotCheck, NeedsWorker, SystemSet, evaluate, node_domain, node_set,
                                               slow, slow_mode, system_set)
from inkmath.equation.solve.check.statements import Problem, read_problem, read_statement, strip_verb
from inkmath.equation.solve.check.verdicts import OK, UNSURE, WRONG, Checker, State, StepVerdict, checker_for


_CAPITAL = re.compile(r"(?<![\\A-Za-z])([A-Z])(?![A-Za-z])")  # a capital letter alone, not in a command


@dataclass
class LineOutcome:
    verdict: str
    reason: str
    state: State
    mistake: str | None = None
    answer_right: bool | None = None
    latex: str = ""
    confirms_problem: bool = False  # the step follows from the problem in another reading of the step or problem


def check_job(payload: tuple[list[LineReading], str], timeout: float) -> CheckResult | InkmathError:
    """The check as a worker's job: `payload` is (readings, mode); a solution that cannot be checked comes back as
    its `InkmathError` (raised again by the caller)."""
    readings, mode = payload
    try:
        return check_readings(readings, mode)
    except InkmathError as exc:
        return exc


def check_readings(readings: list[LineReading], mode: str = "all") -> CheckResult:
    """Check a solution given as readings, the first the problem (see the module's docstring)."""
    start = time.perf_counter()
    with slow_mode(mode):
        walker = Walker(readings)
        result = walker.walk()
        result.resume = walker.resume(result.first_wrong)
    result.elapsed_s = round(time.perf_counter() - start, 4)
    return result


def setup(latex: str) -> tuple[Problem, Checker, str, list[Piece]]:
    """The problem of the first line, its checker (with the solver's answer) and the answer's text; the pieces
    written after the problem on the same line are returned to be checked as steps."""
    text, verb = strip_verb(latex)
    if words_only(text):
        raise InkmathError("it is words, not mathematics; write the equation, inequality or expression on it")
    found = pieces(text)
    if not found:
        raise InkmathError("the first line has no problem; write the equation, inequality or expression on it")
    problem = read_problem(found[0].tokens, verb)
    tree = parse_latex(" ".join(found[0].tokens))
    solved = _solver_answer(problem, tree)
    text_answer = solved.get("text", "") if solved else ""
    if problem.kind == "system":
        first = read_statement(problem.tokens, problem)
        solution = _solver_tuples(solved, problem) or system_set(first.rows, problem.unknowns)
        return problem, checker_for(problem, solution), text_answer, found[1:]
    if problem.kind == "expression":
        values = (solved or {}).get("values") or []
        solution = values[0]["_expr"] if len(values) == 1 and "_expr" in values[0] else evaluate(problem.items[0])
        return problem, checker_for(problem, solution), text_answer, found[1:]
    first = read_statement(problem.tokens, problem)
    domain = node_domain(first.node, problem.var)
    solution = _solver_set(solved, problem, domain) if problem.kind == "equation" else None
    if solution is None:  # an inequality, or an equation the solver did not answer: SymPy's set, as the solver's
        solution = sp.Intersection(node_set(first.node, problem.var, first.family), domain)
    return problem, checker_for(problem, solution, domain), text_answer, found[1:]


def _solver_answer(problem: Problem, tree: Any) -> dict | None:
    """The solver's answer to the problem with its SymPy values (`_expr`); None for an inequality (the solver
    answers those in words; the checker's own solution set is SymPy's as the solver's, `sets.ineq_set`)."""
    from inkmath.equation.solve.fast import is_cheap
    from inkmath.equation.solve.solver import solve_items
    from inkmath.equation.solve.tosympy import to_sympy_lines

    if problem.kind == "inequality":
        return None
    items = to_sympy_lines(tree)
    if not is_cheap(items):
        slow("the solver's answer")
    result = solve_items(items if problem.kind != "expression" else problem.items, tree)
    return None if result.get("kind") == "none" else result


def _solver_set(solved: dict | None, problem: Problem, domain: sp.Set) -> sp.Set | None:
    if not solved or solved.get("kind") != "equation":
        return None
    var = problem.var
    finite, families = [], []
    for sol in solved.get("solutions", []):
        entry = sol.get(var.name)
        if entry is None or "_expr" not in entry:
            return None
        (families if entry["general"] else finite).append(entry["_expr"])
    out: sp.Set = sp.FiniteSet(*finite)
    if families:
        k = next(iter(set().union(*[f.free_symbols for f in families]) - {var}), sp.Symbol("k"))
        out = sp.Union(out, *[sp.ImageSet(sp.Lambda(k, f), sp.S.Integers) for f in families])
    if not solved.get("solutions") and "identity" in solved.get("text", ""):
        out = domain
    return out


def _solver_tuples(solved: dict | None, problem: Problem) -> SystemSet | None:
    if not solved or solved.get("kind") != "system":
        return None
    if not solved.get("solutions"):
        return None if "infinitely" in solved.get("text", "") else SystemSet()
    out = SystemSet()
    for sol in solved["solutions"]:
        if any(u.name not in sol or "_expr" not in sol[u.name] for u in problem.unknowns):
            return None
        out.tuples.add(tuple(sol[u.name]["_expr"] for u in problem.unknowns))
    return out


def _reason(exc: BaseException) -> str:
    if isinstance(exc, InkmathError):
        return f"cannot read this line: {exc}"
    if isinstance(exc, CannotCheck):
        return f"not checked: {exc}"
    return f"not checked: SymPy could not handle this line ({type(exc).__name__})"


class Walker:
    """The state of a check as it walks the lines."""

    def __init__(self, readings: list[LineReading]) -> None:
        self.readings = readings
        self.problem_read_as: tuple[str, float] | None = None  # the problem's other reading the steps follow from
        first = readings[0]
        try:
            self.problem, self.checker, self.answer, self.extra = setup(first.latex)
        except (InkmathError, CannotCheck) as exc:
            found = self.other_problem_reading(first)  # a misread problem: its next reading the checker reads
            if found is None:
                hint = "" if "write" in str(exc) else "; correct the problem on the first line"
                raise InkmathError(f"line 1 (the problem) cannot be checked: {exc}{hint}") from None
            self.problem, self.checker, self.answer, self.extra = setup(found.latex)
            self.problem_read_as = (found.latex, found.confidence)
        self.start = self.checker.start()
        self.states: list[State] = [self.start]
        self.wrong_before = False  # a line so far is wrong: a wrong answer at the end is then no new mistake
        # lines wrong as read but not sure, each with its verdict as read (`blame_doubtful`)
        self.doubtful: list[tuple[int, LineOutcome]] = []
        self.step_before_answer: StepVerdict | None = None  # the last step's own verdict, when the answer is wrong
        # the problem's reading is sure, or a step has followed from it as read: until then a step judged against it
        # with no usual mistake, and an answer that does not solve it, are unsure (`check_line`, `final_check`)
        self.problem_confirmed = first.confidence >= SURE_READING
        self.problem_repaired = False  # checked with letters that no later line has read as what they look like
        self.current_index = 0
        self.root_lines: set[int] = set()
        self.adopt_repaired_problem()
        self.root_lines = root_lines(readings, self.problem) if self.problem.kind == "equation" else set()

    def adopt_repaired_problem(self) -> None:
        """A problem read by a reader with letters that no later line has (``problem_repairs``: b for 6, X for x, x
        for a times sign), from which the first step does not follow as read: checked as repaired, preferring a
        repair the first step follows from (which confirms it); otherwise the first that can be checked."""
        first = self.readings[0]
        if len(self.readings) < 2 or self.problem_read_as is not None:
            return
        repairs = problem_repairs(first, self.readings[1:])
        if not repairs:
            return
        step, last = self.readings[1], len(self.readings) == 2
        self.current_index = 1
        try:
            if self.run_line(step.latex, self.start, last).verdict == OK:
                return
            found = []
            for latex in repairs:
                try:
                    problem, checker, answer, extra = setup(latex)
                    follows = self.run_line(step.latex, checker.start(), last, checker).verdict == OK
                except (InkmathError, CannotCheck):
                    continue
                found.append((not follows, len(found), latex, problem, checker, answer, extra))
        finally:
            self.current_index = 0
        if not found:
            return
        unconfirmed, _, latex, self.problem, self.checker, self.answer, self.extra = min(found, key=lambda f: f[:2])
        self.start = self.checker.start()
        self.states = [self.start]
        self.problem_read_as = (latex, first.confidence)
        self.problem_confirmed = not unconfirmed
        self.problem_repaired = True

    def walk(self) -> CheckResult:
        given = self.given_line()
        out = [given]
        answer_right = self.given_answer_right  # a solution all on the first line: 2x+3>11 => 2x>8 => x>4
        self.wrong_before = given.verdict == WRONG
        for index, reading in enumerate(self.readings[1:], 1):
            last = index == len(self.readings) - 1
            self.current_index = index
            from_problem = self.states[-1] is self.states[0]
            outcome = self.check_line(index, reading, last)
            self.problem_confirmed = self.problem_confirmed or (
                from_problem and (outcome.verdict == OK or outcome.confirms_problem))
            self.wrong_before = self.wrong_before or outcome.verdict == WRONG
            self.states.append(outcome.state)
            out.append(LineCheck(index, outcome.latex or reading.latex, outcome.verdict, outcome.reason,
                                 reading.confidence, reading.box_list(), outcome.mistake,
                                 outcome.latex if outcome.latex and outcome.latex != reading.latex else None))
            if last:
                answer_right = outcome.answer_right
        self.blame_doubtful(out)
        if self.problem_read_as is not None:
            alt, conf = self.problem_read_as
            out[0].alternative = alt
            out[0].reason += (f"; checked as ${alt}$, its letters that no later line has read as what they look like "
                              f"(confidence {conf:.2f}): check the reading" if self.problem_repaired else
                              f"; the steps follow from it read as ${alt}$ (confidence {conf:.2f}): check the reading")
        first_wrong = next((line.index for line in out if line.verdict == WRONG), None)
        for line in out:
            if line.alternative is not None:
                line.latex = self.readings[line.index].latex
        return CheckResult(self.problem.kind, out, first_wrong, answer_right, None, self.answer)

    def blame_doubtful(self, out: list[LineCheck]) -> None:
        """The answer is wrong, every step follows but one whose reading is not sure: that step is the mistake (the
        answer confirms its reading), and the last line, which follows from the line before, is ok. Only when the
        problem itself is read for sure (a misread problem makes a right answer look wrong)."""
        last = out[-1]
        if (self.step_before_answer is None or last.verdict != WRONG or len(self.doubtful) != 1
                or self.readings[0].confidence < SURE_READING or self.problem_read_as is not None):
            return
        index, as_read = self.doubtful[0]
        line = out[index]
        line.verdict, line.mistake = WRONG, as_read.mistake
        line.reason = (f"{as_read.reason} (read with confidence {line.confidence:.2f}; the answer is wrong and every "
                       "other step follows)")
        last.verdict, last.reason, last.mistake = OK, self.step_before_answer.reason, None

    @staticmethod
    def other_problem_reading(first: LineReading) -> LineReading | None:
        """The reader's next reading of a problem that cannot be read as read, as the first line (None: none)."""
        for alt, conf in sorted(first.alternatives, key=lambda a: -a[1]):
            try:
                setup(alt)
            except (InkmathError, CannotCheck):
                continue
            others = [(a, c) for a, c in first.alternatives if a != alt]
            return LineReading(alt, min(first.confidence, conf), others, first.box)
        return None

    def given_line(self) -> LineCheck:
        """Line 0: the problem, with any steps written after it on the same line checked too."""
        first = self.readings[0]
        what = {"equation": "solve the equation", "inequality": "solve the inequality", "system": "solve the system",
                "expression": "work out the expression"}[self.problem.kind]
        line = LineCheck(0, first.latex, "given", f"the problem: {what}", first.confidence, first.box_list())
        self.given_answer_right = None
        if self.extra:
            outcome = self.run_pieces(self.extra, self.start, len(self.readings) == 1)
            self.states[0] = outcome.state
            self.given_answer_right = outcome.answer_right
            if outcome.verdict in (WRONG, UNSURE):
                line.verdict, line.reason, line.mistake = outcome.verdict, outcome.reason, outcome.mistake
        return line

    def run_line(self, latex: str, state: State, last: bool, checker: Checker | None = None) -> LineOutcome:
        if words_only(latex):
            return LineOutcome(UNSURE, "this line is words, not mathematics: it is not checked", state, latex=latex)
        try:
            found = pieces(latex)
        except InkmathError as exc:
            return LineOutcome(UNSURE, _reason(exc), state, latex=latex)
        if not found:
            return LineOutcome(UNSURE, "an empty line: nothing to check", state, latex=latex)
        if self.current_index in self.root_lines and latex == self.readings[self.current_index].latex:
            for piece in found:
                piece.partial = True
        out = self.run_pieces(found, state, last, checker)
        out.latex = latex
        return out

    def run_pieces(self, found: list[Piece], state: State, last: bool, checker: Checker | None = None) -> LineOutcome:
        checker = checker or self.checker
        verdicts: list[StepVerdict] = []
        answer_right = None
        steps = [s for piece in found for s in checker.steps_of(piece)]
        for k, step in enumerate(steps):
            try:
                verdict, state = checker.step(state, step)
            except NeedsWorker:
                raise
            except (InkmathError, CannotCheck) as exc:
                verdict = StepVerdict(UNSURE, _reason(exc))
            # the checker's boundary: SymPy signals what it cannot do with many exception types
            except Exception as exc:  # noqa: BLE001
                verdict = StepVerdict(UNSURE, _reason(exc))
            if step.final or (last and k == len(steps) - 1):
                verdict, answer_right = self.final_check(checker, state, verdict, step.final)
            verdicts.append(verdict)
        worst = next((v for v in verdicts if v.verdict == WRONG), None) or next(
            (v for v in verdicts if v.verdict == UNSURE), None) or verdicts[-1]
        return LineOutcome(worst.verdict, worst.reason, state, worst.mistake, answer_right)

    def final_check(self, checker: Checker, state: State, verdict: StepVerdict,
                    marked: bool) -> tuple[StepVerdict, bool | None]:
        """The answer the step states against the problem's; a step that follows but ends at a wrong answer (an
        extraneous root kept, a value where the problem is undefined) is wrong here."""
        if verdict.verdict == UNSURE:
            return verdict, None
        try:
            found = checker.final(state)
        except (CannotCheck, InkmathError, TypeError, ValueError):
            return verdict, None
        if found is None:
            return verdict, None
        if found.verdict == WRONG and not self.problem_confirmed:
            return StepVerdict(UNSURE, f"{found.reason}, as the problem is read; its reading is not sure (confidence "
                                       f"{self.readings[0].confidence:.2f}) and no step has confirmed it: check "
                                       "both"), None
        if found.verdict == WRONG and verdict.verdict == OK and not self.wrong_before:
            self.step_before_answer = verdict
            return found, False  # every step follows, yet the answer is not the problem's: the answer is the mistake
        return verdict, found.verdict == OK

    def check_line(self, index: int, reading: LineReading, last: bool) -> LineOutcome:
        before = self.states[-1]
        outcome = self.run_line(reading.latex, before, last)
        if outcome.verdict == OK:
            return outcome
        read_error = outcome.verdict == UNSURE
        strange = self.foreign_letters(reading)
        unsure = reading.confidence < SURE_READING or bool(strange)
        if unsure or read_error:
            for alt, conf in sorted(reading.alternatives + self.case_folded(reading), key=lambda a: -a[1]):
                other = self.run_line(alt, before, last)
                if other.verdict == OK:
                    other.verdict, other.confirms_problem = UNSURE, True
                    other.reason = (f"read as ${reading.latex}$ this step does not follow, but read as ${alt}$ "
                                    f"(confidence {conf:.2f}) it does: check the reading")
                    return other
        if outcome.verdict == WRONG:
            rescued = self.rescue_by_line_before(index, reading, last)
            if rescued is not None:
                return rescued
            problem = self.readings[0]
            if (before is self.states[0] and not self.problem_confirmed
                    and outcome.mistake in (None, "does_not_follow")):
                # no usual mistake, only a counterexample, against a problem whose reading nothing has confirmed yet
                # (the first step, or a later one where the lines between could not be read or checked)
                return LineOutcome(UNSURE, f"this step does not follow from the problem as read ({outcome.reason}), "
                                           f"and the problem's reading is not sure (confidence "
                                           f"{problem.confidence:.2f}): check both", outcome.state)
            if self.doubtful and self.doubtful[-1][0] == index - 1:  # judged against a reading not sure itself
                self.doubtful.append((index, LineOutcome(WRONG, outcome.reason, outcome.state, outcome.mistake)))
                return LineOutcome(UNSURE, f"this step does not follow from the line before as read "
                                           f"({outcome.reason}), and that line's reading is not sure: check both",
                                   outcome.state)
            if unsure and not strange and self.confirmed(index, before, outcome):
                outcome.reason += (f" (read with confidence {reading.confidence:.2f}; the next line follows from "
                                   "it as read)")
                return outcome
            if unsure:
                as_read = LineOutcome(WRONG, outcome.reason, outcome.state, outcome.mistake)
                outcome.verdict = UNSURE
                why = (f"${strange[0]}$ is no letter of the problem" if strange else
                       "the reading is not sure")
                outcome.reason = (f"as read (confidence {reading.confidence:.2f}) this step does not follow "
                                  f"({outcome.reason}); {why}, so check it")
                outcome.mistake = None
                if strange or self.next_line_follows(index, before) is not None:
                    outcome.state = before  # misread: the next line goes on from the line before
                else:
                    self.doubtful.append((index, as_read))
                return outcome
            followed = self.next_line_follows(index, before)
            if followed is not None:
                return LineOutcome(UNSURE, f"as read (confidence {reading.confidence:.2f}) this step does not follow "
                                           f"({outcome.reason}), but the next line follows from the line before it: "
                                           f"this line is probably misread, so check it", before)
        return outcome

    def confirmed(self, index: int, before: State, wrong: LineOutcome) -> bool:
        """Is the reading of a line that does not follow as read, but is not sure, confirmed by the next line: the
        next line follows from it as read, and not from the line before it? The writer then wrote this line as read
        and went on from it: the step is wrong, however unsure its reading."""
        if index + 1 >= len(self.readings):
            return False
        after = self.readings[index + 1]
        self.current_index = index + 1
        try:  # as a step only: the answer is judged where it stands
            from_it = self.run_line(after.latex, wrong.state, False)
            from_before = self.run_line(after.latex, before, False) if from_it.verdict == OK else None
        finally:
            self.current_index = index
        return from_it.verdict == OK and from_before is not None and from_before.verdict != OK

    def foreign_letters(self, reading: LineReading) -> list[str]:
        """The letters of a line read by a reader (not typed: confidence under 1) that the problem does not have:
        a step of x + 5 = 0 written with an n is far more likely misread than written."""
        if reading.confidence >= 1.0:
            return []
        own = {t for t in self.problem.tokens if len(t) == 1 and t.isalpha()}
        try:
            tokens = latex_tokens(reading.latex)
        except InkmathError:
            return []
        return [t for t in dict.fromkeys(tokens) if len(t) == 1 and t.isascii() and t.isalpha() and t not in own]

    def case_folded(self, reading: LineReading) -> list[tuple[str, float]]:
        """A reader's line with capitals the problem does not have written as the problem's small letters (X as x:
        a reader's usual slip), as one more reading of the same confidence; none for typed lines."""
        if reading.confidence >= 1.0:
            return []
        own = {t for t in self.problem.tokens if len(t) == 1 and t.isalpha()}
        folded = _CAPITAL.sub(lambda m: m.group(1).lower() if m.group(1) not in own and m.group(1).lower() in own
                              else m.group(1), reading.latex)
        return [(folded, reading.confidence)] if folded != reading.latex else []

    def next_line_follows(self, index: int, before: State) -> str | None:
        """For a line read by a reader that does not follow: does the next line follow from the line before it (the
        writer went on as if this line were right, so it is likelier misread than wrong)? Its text, or None."""
        reading = self.readings[index]
        if reading.confidence >= 1.0 or index + 1 >= len(self.readings):
            return None
        after = self.readings[index + 1]
        if after.latex.strip() == reading.latex.strip():
            return None
        self.current_index = index + 1  # the next line's own (run_line reads a root of several by it)
        try:
            got = self.run_line(after.latex, before, index + 1 == len(self.readings) - 1)
        finally:
            self.current_index = index
        return after.latex if got.verdict == OK else None

    def rescue_by_line_before(self, index: int, reading: LineReading, last: bool) -> LineOutcome | None:
        """A line that follows from another reading of the line before (one read without being sure)."""
        prev = self.readings[index - 1]
        sure = prev.confidence >= (1.0 if index - 1 == 0 else SURE_READING)  # a problem read by a reader: always
        if sure or not prev.alternatives:
            return None
        for alt, conf in sorted(prev.alternatives, key=lambda a: -a[1]):
            if index - 1 == 0:
                try:
                    problem, checker, answer, _ = setup(alt)
                except (InkmathError, CannotCheck):
                    continue
                base, use = checker.start(), checker
            else:
                got = self.run_line(alt, self.states[index - 2], False)
                if got.verdict != OK:
                    continue
                base, use = got.state, None
            outcome = self.run_line(reading.latex, base, last, use)
            if outcome.verdict == OK:
                outcome.verdict = UNSURE
                outcome.reason = (f"this step follows if the line before reads ${alt}$ (confidence {conf:.2f}) "
                                  "rather than as read: check that line's reading")
                if use is not None:  # the problem itself was misread: the rest is checked against this reading
                    self.problem, self.checker, self.answer = problem, use, answer
                    self.problem_read_as = (alt, conf)
                    outcome.confirms_problem = True
                return outcome
        return None

    def resume(self, first_wrong: int | None) -> tuple[str, str] | None:
        """(the text of the last line that follows before the first wrong line, the problem's text): where the
        solver's next step is looked up (`hints.solver_next_step`)."""
        if first_wrong is None:
            return None
        state = self.states[first_wrong - 1] if first_wrong >= 1 else self.start
        return state.text, " ".join(self.problem.tokens)


# letters a reader writes for a digit in a problem (a stray letter: one that no later line has): the handwriting
# look-alikes, among them the validation chains' misread problems (b for 6, q for 9, z for 2)
DIGIT_LOOKALIKES = {"b": "6", "G": "6", "q": "9", "g": "9", "l": "1", "I": "1", "o": "0", "O": "0", "s": "5",
                    "S": "5", "z": "2", "Z": "2", "B": "8"}
_LETTER = r"(?<![\\A-Za-z]){}(?![A-Za-z])"


def problem_repairs(first: LineReading, later: list[LineReading]) -> list[str]:
    """Readings of a problem read by a reader with its stray letters (letters that no later line has) read as what
    the reader likely mistook: a capital as the small letter the later lines have, a look-alike digit
    (``DIGIT_LOOKALIKES``), and x as a times sign when no later line has a letter. Each repair alone, then all
    together."""
    if first.confidence >= 1.0:
        return []
    try:
        tokens = latex_tokens(first.latex)
        seen = {t for r in later for t in latex_tokens(r.latex) if len(t) == 1 and t.isalpha()}
    except InkmathError:
        return []
    letters = [t for t in dict.fromkeys(tokens) if len(t) == 1 and t.isascii() and t.isalpha()]
    swaps = []
    for t in letters:
        if t in seen:
            continue
        if t.isupper() and t.lower() in seen:
            swaps.append((t, t.lower()))
        elif t in DIGIT_LOOKALIKES:
            swaps.append((t, DIGIT_LOOKALIKES[t]))
        elif t in "xX" and not seen:
            swaps.append((t, r"\times "))
    out = []
    for group in [[s] for s in swaps] + ([swaps] if len(swaps) > 1 else []):
        latex = first.latex
        for t, new in group:
            latex = re.sub(_LETTER.format(t), lambda _: new, latex)
        out.append(latex)
    return out


def root_lines(readings: list[LineReading], problem: Problem) -> set[int]:
    """The lines that each give one root, two or more in a row (x = 2, then x = -2): each is one root of several,
    as x_1 = 2 and x_2 = -2 would be."""
    var = problem.var.name if problem.var is not None else None
    found: list[tuple[int, str] | None] = []
    for index, reading in enumerate(readings):
        try:
            parts = pieces(reading.latex)
        except InkmathError:
            parts = []
        toks = parts[0].tokens if len(parts) == 1 and not parts[0].final else []
        if REJECT in toks:
            toks = []
        one = None
        if len(toks) > 2 and "=" in toks and toks.count("=") == 1:
            left, right = toks[:toks.index("=")], toks[toks.index("=") + 1:]
            side = right if left == [var] else left if right == [var] else None
            if side is not None and not any(t.isalpha() and t != "e" for t in side):
                one = " ".join(side)
        found.append((index, one) if one is not None else None)
    out: set[int] = set()
    for i in range(1, len(found) - 1):
        if found[i] and found[i + 1] and found[i][1] != found[i + 1][1]:
            out |= {i, i + 1}
    return out
