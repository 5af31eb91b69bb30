"""Worked solutions: one test per kind of problem (the steps a student expects, each step checked with SymPy),
problems that get no steps (with a reason), hostile input, and the seeded corpus of school problems."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from inkmath.equation.solve import answer as solver
from inkmath.equation.solve.extras import EXTRAS_MARGIN, with_extras
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.synth.problems import DEFAULT_COUNTS, school_problems
from inkmath.equation.solve.answer import answer
from inkmath.equation.solve.steps.worked import NoSteps, equivalent, final_matches, work_out
from inkmath.equation.solve.tosympy import to_sympy_lines

STEPS_SHARE_TARGET = 0.95  # the acceptance: at least 95 % of the corpus gets steps


def worked(latex: str):
    """(Worked, solver result with SymPy values) for typed LaTeX, checked: every step says the same as the one
    before, and the last one says what the solver answered."""
    tree = parse_latex(latex)
    items = to_sympy_lines(tree)
    result = solver.solve_items(items)
    w = work_out(tree, items, result)
    assert equivalent(w) == [], [s.latex for s in w.steps]
    assert final_matches(w, result), [s.latex for s in w.steps]
    return w, result


def lines(w) -> list[str]:
    return ["".join(s.latex.split()) for s in w.steps]


def reasons(w) -> str:
    return " | ".join(s.reason for s in w.steps)


def test_linear_with_brackets():
    w, _ = worked("2(x-1)=x+4")
    assert lines(w) == ["2(x-1)=x+4", "2x-2=x+4", "x-2=4", "x=6"]
    assert reasons(w) == "the equation | expand the brackets | subtract $x$ from both sides | add $2$ to both sides"


def test_linear_with_fractions():
    w, _ = worked(r"\frac{x}{2}+\frac{x}{3}=5")
    assert lines(w)[1:] == ["3x+2x=30", "5x=30", "x=6"]
    assert "common denominator" in w.steps[1].reason and "$6$" in w.steps[1].reason


def test_linear_without_a_solution_and_identity():
    w, result = worked("x+1=x+2")
    assert result["text"] == "no solution" and "false" in w.steps[-1].reason
    w, _ = worked("2(x+1)=2x+2")
    assert "every value" in w.steps[-1].reason


def test_quadratic_by_factoring():
    w, _ = worked("x^2-5x+6=0")
    assert lines(w)[1:] == [r"\left(x-2\right)\left(x-3\right)=0", r"x-2=0\quad\text{or}\quadx-3=0",
                            r"x=2\quad\text{or}\quadx=3"]
    assert "factor" in w.steps[1].reason and "product is zero" in w.steps[2].reason


def test_quadratic_by_the_formula_and_complex_roots():
    w, _ = worked("x^2=2x+1")
    assert "discriminant" in reasons(w) and "8" in reasons(w) and "formula" in reasons(w)
    assert lines(w)[-1] == r"x=1-\sqrt{2}\quad\text{or}\quadx=1+\sqrt{2}"
    w, result = worked("x^2+x+1=0")  # no real solution: the complex roots are named, not given as the answer
    assert "negative" in reasons(w) and "complex" in w.steps[-1].reason and r"i \sqrt{3}" in w.steps[-1].reason
    assert lines(w)[-1] == r"\text{norealsolution}" and result["text"] == "no real solution"


def test_arithmetic_with_fractions_and_powers():
    w, _ = worked(r"\frac{1}{2}+\frac{1}{3}")
    assert lines(w) == [r"\frac{1}{2}+\frac{1}{3}", r"\frac{3}{6}+\frac{2}{6}", r"\frac{5}{6}"]
    w, _ = worked(r"2^{3}\cdot 2^{2}")
    assert lines(w)[1:] == ["2^{3+2}", "2^{5}", "32"] and "add the exponents" in reasons(w)
    w, _ = worked(r"\frac{2}{3}\div\frac{4}{5}")
    assert "reciprocal" in reasons(w) and lines(w)[-1] == r"\frac{5}{6}"


def test_simplifying_expressions():
    w, _ = worked(r"\frac{x^2-1}{x-1}")
    assert lines(w)[-1] == "x+1" and "cancel" in reasons(w)
    w, _ = worked("(x+1)^2-x^2")
    assert "expand the brackets" in reasons(w) and lines(w)[-1] == "2x+1"


def test_systems_by_elimination():
    w, _ = worked(r"2x+3y=12 \\ 3x-2y=5")
    assert "eliminate $x$" in reasons(w) and lines(w)[-1] == r"x=3\\y=2"
    w, _ = worked(r"x+y+z=6 \\ 2x-y+z=3 \\ x+2y-z=2")
    assert lines(w)[-1] == r"x=1\\y=2\\z=3"
    w, _ = worked(r"x+y=1 \\ x+y=2")
    assert "no solution" in w.steps[-1].reason


def test_a_line_and_a_parabola_by_substitution():
    w, _ = worked(r"y=x^{2} \\ y=x+2")
    assert w.kind == "nonlinear_system"
    assert lines(w)[1:] == [r"x^{2}=x+2\\y=x+2", r"x^{2}-x-2=0\\y=x+2", r"\left(x+1\right)\left(x-2\right)=0\\y=x+2",
                            r"x+1=0\quad\text{or}\quadx-2=0\\y=x+2", r"x=-1\quad\text{or}\quadx=2\\y=x+2",
                            r"\left(x,y\right)=\left(-1,1\right)\quad\text{or}\quad\left(x,y\right)=\left(2,4\right)"]
    assert w.steps[1].reason.startswith("substitute $y = x + 2$ into the first equation")
    assert r"$x = -1$ gives $y = \left(-1\right) + 2 = 1$" in w.steps[-1].reason


def test_a_tangent_line_meets_the_parabola_once():
    w, result = worked(r"y=x^{2} \\ y=2x-1")
    assert lines(w)[-1] == r"\left(x,y\right)=\left(1,1\right)" and "double root" in reasons(w)
    assert result["text"] == "x = 1, y = 1"


def test_a_line_that_misses_the_parabola_has_no_real_solution():
    w, result = worked(r"y=x^{2}+1 \\ y=x")
    assert lines(w)[-1] == r"\text{norealsolution}" and "negative" in reasons(w)
    assert "the system has no real solution" in w.steps[-1].reason and result["solutions"] == []


def test_a_circle_and_a_line_solved_for_the_unknown_with_coefficient_one():
    w, _ = worked(r"x^{2}+y^{2}=25 \\ x+y=7")
    assert w.steps[1].reason == "solve the second equation (it is linear) for $y$"
    assert lines(w)[1:3] == [r"x^{2}+y^{2}=25\\y=7-x", r"x^{2}+\left(7-x\right)^{2}=25\\y=7-x"]
    assert lines(w)[-1] == r"\left(x,y\right)=\left(3,4\right)\quad\text{or}\quad\left(x,y\right)=\left(4,3\right)"
    w, _ = worked(r"x^{2}+y^{2}=25 \\ x+y=1")
    assert "$y = 1 - \\left(-3\\right) = 4$" in w.steps[-1].reason
    w, _ = worked(r"x^{2}+y=3 \\ 2x+4y=6")  # no coefficient ±1: x's 2 divides 4 and 6, so no fractions
    assert lines(w)[1:3] == [r"x^{2}+y=3\\x=3-2y", r"\left(3-2y\right)^{2}+y=3\\x=3-2y"]
    assert lines(w)[-1].startswith(r"\left(x,y\right)=\left(-1,2\right)")


def test_a_product_and_a_sum():
    w, _ = worked(r"xy=6 \\ x+y=5")
    assert lines(w)[2] == r"x\left(5-x\right)=6\\y=5-x"
    assert lines(w)[-1] == r"\left(x,y\right)=\left(2,3\right)\quad\text{or}\quad\left(x,y\right)=\left(3,2\right)"
    w, _ = worked(r"x^{2}-y^{2}=5 \\ x-y=1")  # the squares cancel: a linear equation
    assert lines(w)[-1] == r"\left(x,y\right)=\left(3,2\right)" and "collect like terms" in reasons(w)


@pytest.mark.parametrize("latex, why", [
    (r"x^{2}+y^{2}=25 \\ y^{2}=x", "both equations of this system are nonlinear"),
    (r"x+y+z=1 \\ xy=2 \\ z=1", "has 3"),
    (r"y=x^{3} \\ y=x", "degree 3"),
])
def test_nonlinear_systems_without_steps_say_why(latex, why):
    result = answer(parse_latex(latex), steps=True)
    assert result["steps"] == [] and why in result["steps_reason"]


def test_nonlinear_system_steps_in_the_json_answer():
    for latex in (r"y=x^{2} \\ y=x+2", r"x^{2}+y^{2}=25 \\ x+y=7", r"xy=6 \\ x+y=5", r"y=x^{2}+1 \\ y=x"):
        result = answer(parse_latex(latex), steps=True)
        assert result["steps_kind"] == "nonlinear_system" and result["steps_reason"] == "", result["steps_reason"]
        assert all("merror" not in s["mathml"] for s in result["steps"])


def test_the_checker_catches_a_wrong_substitution_or_a_dropped_root_in_a_system():
    from inkmath.equation.solve.steps.base import Step, Worked

    x, y = sp.symbols("x y")
    start = Step(sp.Tuple(sp.Eq(y, x**2), sp.Eq(y, x + 2)), "", "")
    chain = lambda *exprs: Worked("nonlinear_system", [start, *[Step(e, "", "") for e in exprs]], [x, y])  # noqa: E731
    right = sp.Tuple(sp.Eq(x**2, x + 2), sp.Eq(y, x + 2))
    assert equivalent(chain(right)) == []
    assert equivalent(chain(sp.Tuple(sp.Eq(x**2, x - 2), sp.Eq(y, x - 2)))) == [1]  # y = x - 2: not a solution
    roots = sp.Tuple(sp.Or(sp.Eq(x, -1), sp.Eq(x, 2)), sp.Eq(y, x + 2))
    assert equivalent(chain(right, roots)) == []
    assert equivalent(chain(right, sp.Tuple(sp.Eq(x, 2), sp.Eq(y, x + 2)))) == [2]  # the root x = -1 dropped
    pairs = sp.Or(sp.And(sp.Eq(x, -1), sp.Eq(y, 1)), sp.And(sp.Eq(x, 2), sp.Eq(y, 4)))
    assert equivalent(chain(roots, pairs)) == []
    wrong = sp.Or(sp.And(sp.Eq(x, -1), sp.Eq(y, 1)), sp.And(sp.Eq(x, 2), sp.Eq(y, 3)))
    assert equivalent(chain(roots, wrong)) == [2]  # y worked out wrongly for x = 2
    assert equivalent(chain(sp.false)) == [1]  # "no real solution" for a system that has two


def test_trigonometric_equations():
    w, _ = worked(r"2\cos x-1=0")
    assert "principal value" in reasons(w) and r"\frac{\pi}{3}" in w.steps[-2].reason
    assert "general solution" in w.steps[-1].reason and r"k \in \mathbb{Z}" in w.steps[-1].latex
    w, _ = worked(r"\sin x=\frac{1}{2}")
    assert r"\frac{5 \pi}{6}" in w.steps[-1].latex
    w, result = worked(r"2\sin x=3")
    assert "no real solution" in w.steps[-1].reason and result["text"] == "no real solution"


def test_rational_equations_exclude_the_zeros_of_the_denominators_then_clear_them():
    w, _ = worked(r"\frac{2}{x-1}=\frac{3}{x+1}")
    assert lines(w)[1:3] == [r"\frac{2}{x-1}=\frac{3}{x+1},\quadx\neq-1,\;x\neq1",
                             r"2\left(x+1\right)=3\left(x-1\right),\quadx\neq-1,\;x\neq1"]
    assert w.steps[1].reason == r"the denominators $x - 1$ and $x + 1$ must not be zero: $x \neq -1$, $x \neq 1$"
    assert w.steps[2].reason.startswith("multiply both sides by the common denominator")
    assert lines(w)[-1] == "x=5" and "$x = 5$ is allowed" in w.steps[-1].reason
    w, _ = worked(r"\frac{x+1}{x-1}=0")  # not "x + 1 = 0 (x - 1)"
    assert lines(w)[2:] == [r"x+1=0,\quadx\neq1", r"x=-1,\quadx\neq1", "x=-1"]
    w, _ = worked(r"x+\frac{6}{x}=5")  # a quadratic once cleared, by the quadratic steps
    assert lines(w)[2] == r"x^{2}+6=5x,\quadx\neq0" and "factor" in reasons(w)
    assert lines(w)[-1] == r"x=2\quad\text{or}\quadx=3"
    w, _ = worked(r"\frac{1}{x^2+1}=1")  # nothing to exclude
    assert lines(w)[1] == "1=x^{2}+1" and w.steps[1].reason.endswith("(never zero)")


def test_a_root_that_makes_a_denominator_zero_is_dropped():
    w, result = worked(r"\frac{x}{x-2}+1=\frac{2}{x-2}")
    assert lines(w)[-2:] == [r"x=2,\quadx\neq2", r"\text{nosolution}"] and result["text"] == "no solution"
    assert "$x = 2$ is excluded (a denominator is zero there), so it is not a solution" in w.steps[-1].reason
    w, _ = worked(r"\frac{x^2}{x-3}=\frac{9}{x-3}")
    assert lines(w)[-1] == "x=-3" and "$x = 3$ is excluded" in w.steps[-1].reason
    w, result = worked(r"\frac{1}{x}=0")
    assert lines(w)[-2:] == [r"1=0,\quadx\neq0", r"\text{nosolution}"] and "$1 = 0$ is false" in reasons(w)


def test_a_square_root_is_squared_with_its_condition_and_an_extraneous_root_rejected():
    w, _ = worked(r"\sqrt{x+3}=x-3")
    assert lines(w)[1] == r"x+3=\left(x-3\right)^{2},\quadx-3\geq0"
    assert w.steps[1].reason.startswith(r"square both sides, keeping the condition $x - 3 \geq 0$")
    assert r"x^{2}-7x+6=0,\quadx-3\geq0" in lines(w) and lines(w)[-1] == "x=6"
    assert r"$x = 1$ gives $\sqrt{4} = -2$, false: not a solution" in w.steps[-1].reason
    assert r"$x = 6$ gives $\sqrt{9} = 3$, true" in w.steps[-1].reason
    w, _ = worked(r"\sqrt{2x+1}=3")  # a number ≥ 0 on the other side: squaring gains nothing, no condition
    assert lines(w) == [r"\sqrt{2x+1}=3", "2x+1=9", "2x=8", "x=4"] and "gains no solution" in w.steps[1].reason
    w, _ = worked(r"\sqrt{x}+2=5")
    assert lines(w) == [r"\sqrt{x}+2=5", r"\sqrt{x}=3", "x=9"]
    assert reasons(w).split(" | ")[1] == "subtract $2$ from both sides"
    w, result = worked(r"3-\sqrt{x}=5")
    assert lines(w)[-2:] == [r"\sqrt{x}=-2", r"\text{nosolution}"] and "never negative" in w.steps[-1].reason
    assert result["text"] == "no real solution"


def test_an_absolute_value_splits_into_two_cases():
    w, _ = worked("|2x-1|=5")
    assert lines(w)[1:] == [r"2x-1=5\quad\text{or}\quad2x-1=-5", r"2x=6\quad\text{or}\quad2x=-4",
                            r"x=3\quad\text{or}\quadx=-2"]
    assert w.steps[1].reason == "what is inside is $5$ or its opposite $-5$"
    w, _ = worked("|x+3|=0")
    assert lines(w)[1:] == ["x+3=0", "x=-3"] and "zero only when" in w.steps[1].reason
    w, result = worked("|x-2|=-1")
    assert lines(w)[-1] == r"\text{nosolution}" and "never negative" in w.steps[-1].reason
    assert result["text"] == "no real solution"
    w, _ = worked("2|x+1|-3=5")
    assert lines(w)[1:3] == [r"2\left|{x+1}\right|=8", r"\left|{x+1}\right|=4"]


def test_a_case_whose_root_fails_the_condition_is_rejected():
    w, _ = worked("|x-1|=2x")
    assert lines(w)[1] == r"x-1=2x\quad\text{or}\quadx-1=-2x,\quad2x\geq0"
    assert "on the condition $2 x \\geq 0$" in w.steps[1].reason
    assert lines(w)[-1] == r"x=\frac{1}{3}"
    assert "$x = -1$ gives $2 x = -2$, negative: not a solution" in w.steps[-1].reason
    w, result = worked("|x+1|=x")  # one case has no solution, the other's root is negative
    assert lines(w)[-1] == r"\text{nosolution}" and result["text"] == "no real solution"


def test_the_new_kinds_are_shown_in_the_json_answer():
    for latex, kind in [(r"\frac{2}{x-1}=\frac{3}{x+1}", "rational"), (r"\sqrt{x+3}=x-3", "radical"),
                        ("|x-1|=2x", "absolute")]:
        result = answer(parse_latex(latex), steps=True)
        assert result["steps_kind"] == kind and result["steps_reason"] == "", result["steps_reason"]


def test_the_checker_needs_the_condition_that_goes_with_a_step():
    from inkmath.equation.solve.steps.base import Step, Worked

    x = sp.Symbol("x")

    def chain(*exprs):
        return Worked("radical", [Step(e, "", "") for e in exprs], [x])

    radical = sp.Eq(sp.sqrt(x + 3), x - 3)
    squared = sp.Eq(x + 3, (x - 3) ** 2)  # also true for x = 1
    assert equivalent(chain(radical, squared)) == [1]
    assert equivalent(chain(radical, sp.And(squared, sp.Ge(x - 3, 0)))) == []
    rational = sp.Eq(x / (x - 2) + 1, 2 / (x - 2))  # no solution
    cleared = sp.Eq(2 * x - 2, 2)
    assert equivalent(chain(rational, cleared)) == [1]
    assert equivalent(chain(rational, sp.And(cleared, sp.Ne(x, 2)))) == []
    absolute = sp.Eq(sp.Abs(x - 1), 2 * x)
    cases = sp.Or(sp.Eq(x - 1, 2 * x), sp.Eq(x - 1, -2 * x))
    assert equivalent(chain(absolute, cases)) == [1]
    assert equivalent(chain(absolute, sp.And(cases, sp.Ge(2 * x, 0)))) == []


def test_linear_inequalities_reverse_the_sign_for_a_negative_divisor():
    w, _ = worked(r"3-2x\geq 5")
    assert lines(w) == [r"3-2x\geq5", r"-2x\geq2", r"x\leq-1"] and "reverse the sign" in w.steps[-1].reason
    w, _ = worked("5<2x-1")
    assert lines(w)[-1] == "x>3"


@pytest.mark.parametrize("latex, why", [
    ("x^5-x=0", "degree 5"),
    ("3x^3+5x^2-4=0", "no rational root"),
    ("720720x^3-720721x^2+720721x-720720=0", "rational-root test would try more than"),  # took 4 s to find x = 1
    ("x^3<4", "only linear and quadratic inequalities"),
    ("a x + b = 0", "several letters"),
    (r"\int x e^{x} dx", "by parts"),  # integrals other than of powers, 1/x, e^x, sin x and cos x
    (r"\lim_{x \rightarrow 0} \frac{\sin x}{x}", "limits"),
    (r"\sum_{i=1}^{3} i", "sums"),
    (r"\frac{d}{dx} 2^{x}", "the derivative of $2^{x}$"),
    (r"\int_{-1}^{1} \frac{1}{x^{2}} dx", "not defined at every number between the limits"),
    ("x = \\pm 2", "±"),
    (r"\sqrt{x}+\sqrt{x+1}=3", "one square root"),
    ("|x-1|=x-1", "all the numbers of an interval"),  # x ≥ 1: an interval, not roots to list
    (r"\frac{1}{x^{3}}=1", "degree 3"),
    (r"\frac{1}{1+\frac{1}{x}}=2", "a fraction within a fraction"),  # x ≠ 0 too, which x/(x+1) would hide
    (r"\frac{1}{x-1}=\frac{1}{x-1}", "all the numbers of an interval"),  # every x but 1 (was a PolynomialError)
    ("|x|<x+1", "one absolute value of a linear expression compared with a number"),
    (r"\frac{1}{x^{3}}>1", "degree more than 2"),
    (r"\frac{x^{2}-1}{x-1}>0", "share a factor"),  # x + 1 > 0 would hide x ≠ 1
    (r"\frac{1}{x^{2}-2}>0", "critical points are whole numbers or fractions"),
])
def test_no_steps_with_a_reason_and_the_answer_as_before(latex, why):
    tree = parse_latex(latex)
    plain = answer(tree)
    result = answer(tree, steps=True)
    assert result["steps"] == [] and why in result["steps_reason"]
    assert result["text"] == plain["text"]


def test_steps_in_the_json_answer():
    result = answer(parse_latex("2x+1=7"), steps=True)
    assert [s["latex"] for s in result["steps"]] == ["2x+1=7", "2 x = 6", "x = 3"]
    assert result["steps"][-1]["sympy"] == "Equality(Symbol('x'), Integer(3))"
    assert sp.sympify(result["steps"][-1]["sympy"]) == sp.Eq(sp.Symbol("x"), 3)  # test only: srepr reads back
    assert result["steps_reason"] == "" and "_expr" not in result["solutions"][0]["x"]
    assert all(s["mathml"].startswith("<math") and "merror" not in s["mathml"] for s in result["steps"])


def test_hostile_input_and_time_limit():
    result = answer(parse_latex("x^{x^{x^{x}}}=2"), steps=True, plot=True)
    assert result["steps"] == [] and result["steps_reason"]
    result = answer(parse_latex("x^{99}+x=1"), steps=True)
    assert result["steps"] == [] and result["steps_reason"]
    result = answer(parse_latex(r"\frac{1}{0}"), steps=True, plot=True)
    assert result["kind"] == "none" and result["steps"] == [] and result["plot"] is None
    result = answer(parse_latex(r"\sin x = x"), steps=True, plot=True, timeout=0.01)  # the worker misses it
    assert result["kind"] == "none" and "did not finish" in result["steps_reason"]


def _corpus_check(problems):
    failures, with_steps = [], 0
    for p in problems:
        tree = parse_latex(p.latex)
        items = to_sympy_lines(tree)
        result = solver.solve_items(items)
        try:
            w = work_out(tree, items, result)
        except NoSteps:
            continue
        with_steps += 1
        if equivalent(w) or not final_matches(w, result):
            failures.append(p.latex)
    return with_steps, failures


def test_corpus_sample_every_step_verified():
    problems = school_problems(seed=0)[::6]
    with_steps, failures = _corpus_check(problems)
    assert failures == []
    assert with_steps >= STEPS_SHARE_TARGET * len(problems)


@pytest.mark.slow
def test_whole_corpus_every_step_verified():
    problems = school_problems(seed=0)
    assert len(problems) == sum(DEFAULT_COUNTS.values()) >= 500
    assert {p.kind for p in problems} == set(DEFAULT_COUNTS)
    with_steps, failures = _corpus_check(problems)
    assert failures == []
    assert with_steps >= STEPS_SHARE_TARGET * len(problems)


def test_corpus_is_seeded():
    assert school_problems(seed=3) == school_problems(seed=3)
    assert school_problems(seed=3) != school_problems(seed=4)
    assert all(parse_latex(p.latex) for p in school_problems(seed=0))  # every problem is valid typed LaTeX


def test_slow_steps_are_cut_at_the_deadline_and_the_answer_kept(monkeypatch):
    import time

    from inkmath.equation.solve.steps import worked as steps_module

    tree = parse_latex("2x+1=7")
    items = to_sympy_lines(tree)
    monkeypatch.setattr(steps_module, "attach_steps", lambda *args: time.sleep(10))
    start = time.monotonic()
    result = with_extras(solver.solve_items(items), tree, items, {"steps": True},
                         deadline=time.monotonic() + EXTRAS_MARGIN + 0.3)
    assert time.monotonic() - start < 3
    assert result["text"] == "x = 3" and result["steps"] == [] and "took too long" in result["steps_reason"]
    assert "_expr" not in result["solutions"][0]["x"]


def test_the_checker_catches_a_wrong_step():
    from inkmath.equation.solve.steps.worked import same_set
    from inkmath.equation.solve.steps.base import Step, Worked

    k, x = sp.Symbol("k"), sp.Symbol("x")
    family = lambda e: sp.ImageSet(sp.Lambda(k, e), sp.S.Integers)  # noqa: E731
    assert same_set(family(sp.pi / 6 + 2 * sp.pi * k), family(sp.pi / 6 + 2 * sp.pi * (k + 3)))
    assert not same_set(family(sp.pi / 6 + 2 * sp.pi * k), family(sp.pi / 6 + sp.pi * k))
    wrong = Worked("linear", [Step(sp.Eq(2 * x + 1, 7), "", ""), Step(sp.Eq(x, 4), "", "")], [x])
    assert equivalent(wrong) == [1]


@pytest.mark.parametrize("latex, reason", [
    (r"\sin x + 3 = 3.5", "subtract $3$ from both sides"),  # said "add $\frac{1}{2}$", the net change
    (r"2\cos x + 1 = 2", "subtract $1$ from both sides"),  # said "add $1$"
    (r"5 - \sin x = 4", "subtract $5$ from both sides"),  # said "subtract $1$"
    (r"\sin x = 2\sin x - 1", r"subtract $2 \sin{\left(x \right)}$ from both sides"),
    (r"2\sin x - 1 = 0", "add $1$ to both sides"),
])
def test_trigonometric_steps_name_the_number_that_is_moved(latex, reason):
    w, _ = worked(latex)
    assert w.steps[1].reason == reason


def test_a_square_equal_to_zero_is_one_double_root():
    w, _ = worked("x^2=0")
    assert lines(w) == ["x^{2}=0", "x=0"] and "double root" in w.steps[-1].reason  # not "x x = 0", "x = 0 or x = 0"
    w, _ = worked("3x^2=0")
    assert lines(w) == ["3x^{2}=0", "x^{2}=0", "x=0"] and w.steps[1].reason == "divide both sides by $3$"


def test_no_step_claims_a_move_that_did_not_happen():
    w, _ = worked("-x^2+4=0")  # not "4 - x^2 = 0" explained as "move every term to the left side"
    assert "move" not in reasons(w) and lines(w)[1] == r"-\left(x+2\right)\left(x-2\right)=0"
    w, _ = worked("x^2+x+x=0")
    assert w.steps[1].reason == "collect like terms"


def test_a_minus_sign_before_a_power_is_not_shown_as_a_product():
    w, _ = worked("-3^2")
    assert lines(w) == ["-3^{2}", "-9"]  # not "\left(-1\right) 9" (reads as a product, or as -19), then "-9"
    w, _ = worked("-2^{3}+1")
    assert lines(w)[1:] == ["-8+1", "-7"]


@pytest.mark.parametrize("latex, why", [
    ("|x|<x+1", "this inequality is answered without steps"),  # not "this equation is answered without steps"
    (r"\sqrt{x}>1", "this inequality is answered without steps"),
    ("x^3>1", "only linear and quadratic inequalities get steps"),  # not "(steps cover degrees 1 and 2)"
])
def test_an_inequality_without_steps_is_not_called_an_equation(latex, why):
    result = answer(parse_latex(latex), steps=True)
    assert result["kind"] == "inequality" and result["steps"] == []
    assert result["steps_reason"].startswith(why) and "equation" not in result["steps_reason"]


def test_squares_that_cancel_are_subtracted_in_a_step_of_their_own():
    w, _ = worked("x^2+3x+1=x^2-x+5")  # not "4x + 1 = 5" explained as "add $x$ to both sides"
    assert lines(w)[1] == "3x+1=5-x" and w.steps[1].reason == "subtract $x^{2}$ from both sides"
    w, _ = worked("x(x+2)=x^2+4")  # not "x = 2" explained as "divide both sides by $2$", from x^2 + 2x = x^2 + 4
    assert lines(w)[1:] == ["x^{2}+2x=x^{2}+4", "2x=4", "x=2"]
    w, _ = worked("x^2+x>x^2+1")  # had no steps: "there is nothing to work out"
    assert lines(w) == ["x^{2}+x>x^{2}+1", "x>1"]


def test_dividing_by_a_fraction_is_a_reciprocal_not_a_power_of_a_power():
    w, _ = worked(r"4\div\frac{1}{2}")  # not 4 · 2^{(-1)(-1)}, "a power of a power: multiply the exponents"
    assert lines(w) == [r"4\div\frac{1}{2}", r"4\cdot2", "8"] and "reciprocal" in w.steps[1].reason
    w, _ = worked(r"\frac{2^{3}\cdot 2^{2}}{2^{4}}")  # 2^4 in the denominator is not a power of a power
    assert "power of a power" not in reasons(w)
    w, _ = worked("(2^{3})^{2}")
    assert "a power of a power" in w.steps[1].reason


def test_simplifying_shows_the_factor_that_cancels_and_names_no_wrong_rule():
    w, _ = worked(r"\frac{x}{x^2-x}")  # not "1 \frac{1}{x-1}" (factor), the x cancelled unseen
    assert lines(w)[1:] == [r"\frac{x}{x\left(x-1\right)}", r"\frac{1}{x-1}"]
    assert w.steps[-1].reason == "cancel the common factor $x$"
    w, _ = worked(r"\frac{2x}{4}")  # not "collect like terms": there is one term
    assert reasons(w) == "the expression | simplify"
    w, _ = worked(r"\frac{2}{x}\cdot\frac{x}{4}")  # not "\frac{2}{x} \frac{x}{4}" (work out the power; work out)
    assert lines(w) == [r"\frac{2}{x}\cdot\frac{x}{4}", r"\frac{1}{2}"]


def test_the_period_counter_is_not_the_unknown():
    w, result = worked(r"\sin k = 0")  # not "k = 2 \pi k or k = 2 \pi k + \pi, k \in Z"
    assert lines(w)[-1] == r"k=2\pin\quad\text{or}\quadk=2\pin+\pi,\quadn\in\mathbb{Z}"
    assert "whole number $n$" in w.steps[-1].reason and result["text"].endswith("n any integer")


def test_a_fraction_of_the_unknown_is_multiplied_out():
    w, _ = worked(r"\sin\frac{x}{2}=1")  # not "divide by $\frac{1}{2}$"
    assert w.steps[-1].reason == "multiply by $2$" and lines(w)[-1] == r"x=4\pik+\pi,\quadk\in\mathbb{Z}"


@pytest.mark.parametrize("latex, counter", [(r"2\sin x=1", "k"), (r"2\sin k=1", "n")])
def test_the_answer_its_steps_and_its_graph_count_periods_with_one_counter(latex, counter):
    from inkmath.equation.solve import plot
    from inkmath.equation.solve.text import period_counter

    w, result = worked(latex)
    var = w.variables[0]
    assert period_counter(var).name == counter
    assert result["text"].endswith(f"{counter} any integer"), result["text"]
    assert w.steps[-1].latex.endswith(rf"{counter} \in \mathbb{{Z}}"), w.steps[-1].latex
    marks = plot._real_solutions(result, var)  # the members of the solver's families near 0
    assert any(abs(m - np.pi / 6) < 1e-9 for m in marks) and any(abs(m - 13 * np.pi / 6) < 1e-9 for m in marks)


def test_percentages_are_written_as_fractions_first():
    w, result = worked(r"20 \cdot 15\%")
    assert lines(w) == [r"20\cdot15\%", r"20\cdot\frac{15}{100}", r"\frac{300}{100}", "3"]
    assert w.steps[1].reason == r"per cent means hundredths: $15\% = \frac{15}{100}$"
    w, _ = worked(r"12.5\% \cdot 80")
    assert lines(w)[1] == r"\frac{25}{200}\cdot80" and r"12.5\% = \frac{12.5}{100}" in w.steps[1].reason
    w, _ = worked(r"0.5\%")  # the fraction is the answer: no step repeats it
    assert lines(w) == [r"0.5\%", r"\frac{1}{200}"]
    w, _ = worked(r"x \cdot 20\% = 5")
    assert lines(w)[1:] == [r"x\frac{20}{100}=5", "20x=500", "x=25"] and "hundredths" in w.steps[1].reason


def test_mixed_numbers_are_written_as_fractions_first():
    w, result = worked(r"3\frac{3}{4}-1\frac{1}{2}")
    assert lines(w) == [r"3\frac{3}{4}-1\frac{1}{2}", r"\frac{15}{4}-\frac{3}{2}", r"\frac{15}{4}-\frac{6}{4}",
                        r"\frac{9}{4}"], lines(w)
    assert w.steps[1].reason == (r"a mixed number is a whole number plus a fraction: $3\frac{3}{4} = \frac{15}{4}, "
                                 r"1\frac{1}{2} = \frac{3}{2}$") and result["text"] == "9/4 ≈ 2.25"
    w, _ = worked(r"2\frac{1}{2}+10\%")  # both readings named in one step
    assert lines(w)[1] == r"\frac{5}{2}+\frac{10}{100}" and "hundredths" in w.steps[1].reason \
        and "mixed number" in w.steps[1].reason
    w, _ = worked(r"2\frac{1}{2}x=10")
    assert lines(w)[2:] == ["5x=20", "x=4"] and "mixed number" in w.steps[1].reason


def test_exponential_equations_by_a_common_base_or_a_logarithm():
    w, _ = worked(r"3^{x+1}=27")
    assert lines(w) == ["3^{x+1}=27", "3^{x+1}=3^{3}", "x+1=3", "x=2"]
    assert w.steps[1].reason == "write $27$ as a power of $3$" and "equal exponents" in w.steps[2].reason
    w, _ = worked(r"4^{x}=8")  # both sides as powers of 2
    assert lines(w)[1:] == ["2^{2x}=2^{3}", "2x=3", r"x=\frac{3}{2}"] and "powers of $2$" in w.steps[1].reason
    w, _ = worked(r"3\cdot 2^{x}+1=25")
    assert lines(w)[1] == "2^{x}=8" and w.steps[1].reason == "subtract $1$ from both sides and divide both sides by $3$"
    w, _ = worked(r"2^{x}=5")  # not a whole-number power of 2
    assert lines(w)[1:] == [r"x=\log_{2}5"] and "logarithm to base $2$" in w.steps[1].reason
    w, result = worked(r"2^{x}=-4")
    assert lines(w)[-1] == r"\text{norealsolution}" and "always positive" in w.steps[-1].reason
    w, _ = worked(r"e^{x}=e")  # e^{...} makes every e Euler's number
    assert lines(w)[-1] == "x=1"


def test_exponential_equations_in_several_powers_of_one_base_by_substitution():
    w, _ = worked(r"4^{x}-6\cdot 2^{x}+8=0")  # a quadratic in u = 2^x
    assert lines(w)[1] == r"u^{2}-6u+8=0,\quadu=2^{x}" and "quadratic equation in $u$" in w.steps[1].reason
    assert lines(w)[-2:] == [r"2^{x}=2\quad\text{or}\quad2^{x}=4", r"x=1\quad\text{or}\quadx=2"]
    w, _ = worked(r"4^{x}+2^{x}-6=0")  # u = -3 gives no x
    assert lines(w)[-1] == "x=1" and "$2^{x} = -3$ has no solution" in w.steps[-1].reason
    w, _ = worked(r"3^{x+1}-3^{x}=18")  # linear in u = 3^x
    assert lines(w)[-2:] == ["3^{x}=9", "x=2"] and "linear equation in $u$" in w.steps[1].reason
    w, _ = worked(r"e^{2x}-3e^{x}+2=0")
    assert lines(w)[-1] == r"x=0\quad\text{or}\quadx=\ln{\left(2\right)}"
    w, _ = worked(r"4^{x}+2^{x}+1=0")
    assert lines(w)[-1] == r"\text{norealsolution}"


def test_logarithmic_equations_by_the_definition_of_the_logarithm():
    w, _ = worked(r"\log_{2}(3x-1)=3")
    assert lines(w) == [r"\log_{2}(3x-1)=3", "3x-1=2^{3}", "3x-1=8", "3x=9", "x=3"]
    assert r"$\log_{2} u = 3$ means $u = 2^{3}$" in w.steps[1].reason
    w, _ = worked(r"\ln x+1=3")
    assert lines(w)[1:] == [r"\ln\left(x\right)=2", "x=e^{2}"]
    w, _ = worked(r"2\log x=4")
    assert lines(w)[-1] == "x=100"


def test_exponential_corpus_problems_all_get_steps():
    from inkmath.equation.synth.problems import school_problems

    problems = [p for p in school_problems(seed=1) if p.kind == "exponential"]
    with_steps, failures = _corpus_check(problems)
    assert failures == [] and with_steps == len(problems) > 0


def test_binomial_coefficients_are_worked_out_then_added():
    w, result = worked(r"\binom{5}{2}+\binom{5}{3}")
    assert lines(w) == [r"\binom{5}{2}+\binom{5}{3}", "10+10", "20"] and result["text"] == "20"
    assert r"the value of ${\binom{5}{2}}$" in w.steps[1].reason


def test_quadratic_inequalities_by_the_sign_of_the_parabola():
    w, _ = worked(r"x^{2}-4\geq0")
    assert lines(w) == [r"x^{2}-4\geq0", r"\left(x+2\right)\left(x-2\right)\geq0",
                        r"x\in\left(-\infty,-2\right]\cup\left[2,\infty\right)"]
    assert "opens upwards" in w.steps[-1].reason and "outside the roots, the roots included" in w.steps[-1].reason
    w, _ = worked(r"x^{2}-5x+6<0")
    assert lines(w)[-1] == r"x\in\left(2,3\right)" and "between the roots" in w.steps[-1].reason
    w, _ = worked(r"-x^{2}+2x+3>0")  # opens downwards: positive between the roots
    assert lines(w)[1:] == [r"-\left(x+1\right)\left(x-3\right)>0", r"x\in\left(-1,3\right)"]
    assert "opens downwards ($a = -1 < 0$): it is positive between its roots" in w.steps[-1].reason
    w, _ = worked(r"2x^{2}>x+1")
    assert lines(w)[1:] == ["2x^{2}-x-1>0", r"\left(2x+1\right)\left(x-1\right)>0",
                            r"x\in\left(-\infty,-\frac{1}{2}\right)\cup\left(1,\infty\right)"]
    assert w.steps[1].reason == "move every term to the left side"


def test_quadratic_inequality_with_irrational_roots_uses_the_formula():
    w, _ = worked(r"x^{2}-2x-1>0")
    assert "discriminant" in w.steps[1].reason and lines(w)[1].endswith("=8")
    assert lines(w)[2] == r"\left(x-1+\sqrt{2}\right)\left(x-1-\sqrt{2}\right)>0" and "formula" in w.steps[2].reason
    assert lines(w)[-1] == r"x\in\left(-\infty,1-\sqrt{2}\right)\cup\left(1+\sqrt{2},\infty\right)"


def test_quadratic_inequality_always_or_never_true():
    w, result = worked(r"x^{2}+1>0")
    assert lines(w)[-1] == r"x\in\mathbb{R}" and "always holds" in w.steps[-1].reason
    assert "never meets the $x$-axis" in w.steps[-1].reason
    w, result = worked(r"x^{2}+1<0")
    assert lines(w)[-1] == r"\text{nosolution}" and "never holds" in w.steps[-1].reason
    assert result["text"] == "no solution"


def test_quadratic_inequality_with_a_double_root():
    w, _ = worked(r"x^{2}-2x+1\leq0")  # only x = 1
    assert lines(w)[1:] == [r"\left(x-1\right)^{2}\leq0", "x=1"] and "only at $x = 1$" in w.steps[-1].reason
    w, _ = worked(r"(x-1)^{2}>0")  # every x but the root
    assert lines(w)[-1] == r"x\neq1" and "except $1$" in w.steps[-1].reason
    w, _ = worked(r"x^{2}\geq0")
    assert lines(w) == [r"x^{2}\geq0", r"x\in\mathbb{R}"]
    w, _ = worked(r"-x^{2}>0")
    assert lines(w) == [r"-x^{2}>0", r"\text{nosolution}"] and "negative for every other" in w.steps[-1].reason


def test_cubic_with_a_common_factor():
    w, _ = worked(r"x^{3}-x=0")
    assert lines(w)[1:3] == [r"x\left(x^{2}-1\right)=0", r"x=0\quad\text{or}\quadx^{2}-1=0"]
    assert w.steps[1].reason == "factor out $x$" and "product is zero" in w.steps[2].reason
    assert "for $x^{2} - 1 = 0$, factor" in w.steps[3].reason
    assert lines(w)[-1] == r"x=-1\quad\text{or}\quadx=0\quad\text{or}\quadx=1"
    w, _ = worked(r"2x^{3}=8x")
    assert lines(w)[1:4] == ["2x^{3}-8x=0", r"2x\left(x^{2}-4\right)=0", r"x=0\quad\text{or}\quadx^{2}-4=0"]
    w, _ = worked(r"x^{3}-4x^{2}+3x=0")
    assert lines(w)[-1] == r"x=0\quad\text{or}\quadx=1\quad\text{or}\quadx=3"
    w, _ = worked(r"x^{2}(x-3)=0")  # written as a product: the zero-product rule at once
    assert lines(w)[1:] == [r"x^{2}=0\quad\text{or}\quadx-3=0", r"x=0\quad\text{or}\quadx=3"]
    assert "a power is zero only when its base is zero" in w.steps[-1].reason


def test_biquadratic_by_substitution():
    w, _ = worked(r"x^{4}-5x^{2}+4=0")
    assert lines(w)[1:] == [r"u^{2}-5u+4=0,\quadu=x^{2}", r"\left(u-1\right)\left(u-4\right)=0,\quadu=x^{2}",
                            r"u-1=0\quad\text{or}\quadu-4=0,\quadu=x^{2}", r"u=1\quad\text{or}\quadu=4,\quadu=x^{2}",
                            r"x^{2}=1\quad\text{or}\quadx^{2}=4",
                            r"x=-2\quad\text{or}\quadx=-1\quad\text{or}\quadx=1\quad\text{or}\quadx=2"]
    assert "write $u = x^{2}$" in w.steps[1].reason and w.steps[-2].reason == "put back $u = x^{2}$"
    w, _ = worked(r"x^{4}=16")  # u = -4 gives no real x
    assert lines(w)[-1] == r"x=-2\quad\text{or}\quadx=2"
    assert "$x^{2} = -4$ has no real solution" in w.steps[-1].reason
    w, result = worked(r"x^{4}+1=0")
    assert lines(w)[-1] == r"\text{norealsolution}" and result["text"] == "no real solution"
    w, _ = worked(r"x^{4}-3x^{2}+1=0")  # the nested roots undone: √((3 + √5)/2) = (1 + √5)/2
    assert r"x=\frac{1}{2}+\frac{\sqrt{5}}{2}" in lines(w)[-1]


def test_rational_root_test_and_division():
    w, _ = worked(r"x^{3}-6x^{2}+11x-6=0")
    assert lines(w)[1] == r"\left(x-1\right)\left(x^{2}-5x+6\right)=0"
    assert w.steps[1].reason.startswith("try the divisors of $6$") and "$1 - 6 + 11 - 6 = 0$" in w.steps[1].reason
    assert lines(w)[-1] == r"x=1\quad\text{or}\quadx=2\quad\text{or}\quadx=3"
    w, _ = worked(r"x^{4}-x^{3}-7x^{2}+x+6=0")  # two roots divided out, one after the other
    assert lines(w)[2] == r"\left(x-1\right)\left(x+1\right)\left(x^{2}-x-6\right)=0"
    assert "$x = 1$ is not a root" in w.steps[2].reason


def test_a_quadratic_factor_without_real_roots_says_so():
    w, result = worked(r"x^{3}-1=0")
    assert lines(w)[1] == r"\left(x-1\right)\left(x^{2}+x+1\right)=0"
    assert lines(w)[-1] == "x=1" and "no real solution" in w.steps[-1].reason and "complex" in w.steps[-1].reason
    assert result["text"] == "x = 1"


def test_a_repeated_root_is_named_a_double_root():
    w, _ = worked(r"x^{3}-3x+2=0")
    assert lines(w)[-1] == r"x=-2\quad\text{or}\quadx=1" and "$x = 1$ is a double root" in w.steps[-1].reason


def test_the_checker_catches_a_wrong_substitution_or_interval():
    from inkmath.equation.solve.steps.base import Step, Worked

    x, u = sp.Symbol("x"), sp.Symbol("u")
    first = Step(sp.Eq(x**4 - 5 * x**2 + 4, 0), "", "")
    right = Worked("polynomial", [first, Step(sp.Subs(sp.Eq(u**2 - 5 * u + 4, 0), u, x**2), "", "")], [x])
    assert equivalent(right) == []
    wrong = Worked("polynomial", [first, Step(sp.Subs(sp.Eq(u**2 - 5 * u + 6, 0), u, x**2), "", "")], [x])
    assert equivalent(wrong) == [1]
    wrong = Worked("polynomial", [first, Step(sp.Subs(sp.Eq(u**2 - 5 * u + 4, 0), u, x), "", "")], [x])
    assert equivalent(wrong) == [1]  # u = x, not x^2: the roots 1 and 4 are not those of the quartic
    wrong = Worked("polynomial", [first, Step(sp.Subs(sp.Or(sp.Eq(u, 1), sp.Eq(u, 4)), u, x**2), "", ""),
                                  Step(sp.Or(sp.Eq(x, 1), sp.Eq(x, 2)), "", "")], [x])
    assert equivalent(wrong) == [2]  # the negative square roots forgotten
    interval = lambda s: Step(sp.Contains(x, s, evaluate=False), "", "")  # noqa: E731
    start = Step(sp.Ge(x**2 - 4, 0), "", "")
    wrong = Worked("quadratic_inequality", [start, interval(sp.Interval(-2, 2))], [x])
    assert equivalent(wrong) == [1]
    wrong = Worked("quadratic_inequality", [start, interval(sp.Union(sp.Interval.open(-sp.oo, -2),
                                                                       sp.Interval.open(2, sp.oo)))], [x])
    assert equivalent(wrong) == [1]  # the roots left out of a \geq


def test_a_quadratic_inequality_written_factored_is_not_expanded_and_factored_again():
    w, _ = worked(r"(x+4)^{2}>0")  # not "x^2 + 8x + 16 > 0" (expand the brackets), then "(x + 4)^2 > 0" (factor)
    assert lines(w) == [r"(x+4)^{2}>0", r"x\neq-4"]
    w, _ = worked(r"x(x-4)\leq0")
    assert lines(w) == [r"x(x-4)\leq0", r"x\in\left[0,4\right]"]


def test_polynomial_steps_clear_a_number_first():
    w, _ = worked(r"-x^{3}+6x^{2}-11x+6=0")
    assert lines(w)[1] == "x^{3}-6x^{2}+11x-6=0" and w.steps[1].reason == "multiply both sides by $-1$"
    w, _ = worked(r"\frac{x^{3}}{2}-\frac{1}{2}=0")  # not "divide both sides by $\frac{1}{2}$"
    assert lines(w)[1] == "x^{3}-1=0" and w.steps[1].reason == "multiply both sides by $2$"


def test_an_absolute_value_less_than_a_number_is_a_double_inequality():
    w, _ = worked("|x-1|<3")
    assert lines(w) == ["|x-1|<3", "-3<x-1<3", "-2<x<4", r"x\in\left(-2,4\right)"]
    assert w.steps[1].reason == "an absolute value is the distance from $0$: $x - 1$ lies between $-3$ and $3$"
    assert w.steps[2].reason == "add $1$ to all three parts"
    w, _ = worked("2|x+1|-3<5")  # isolated first, by the linear-inequality steps
    assert lines(w)[1:] == [r"2\left|{x+1}\right|<8", r"\left|{x+1}\right|<4", "-4<x+1<4", "-5<x<3",
                            r"x\in\left(-5,3\right)"]
    assert reasons(w).split(" | ")[1:3] == ["add $3$ to both sides", "divide both sides by $2$"]
    w, _ = worked(r"5-|2x-1|\geq2")  # a negative divisor reverses the sign before the cases
    assert lines(w)[2:] == [r"\left|{2x-1}\right|\leq3", r"-3\leq2x-1\leq3", r"-2\leq2x\leq4", r"-1\leqx\leq2",
                            r"x\in\left[-1,2\right]"]
    assert "reverse the sign" in w.steps[2].reason and "(both included)" in w.steps[3].reason
    assert w.steps[5].reason == "divide all three parts by $2$"
    w, _ = worked("3>|x-1|")
    assert lines(w)[1] == r"\left|{x-1}\right|<3" and "swap the two sides" in w.steps[1].reason
    w, _ = worked(r"|x|\leq\frac{1}{2}")  # alone and solved already: no fraction cleared and put back
    assert lines(w)[1:] == [r"-\frac{1}{2}\leqx\leq\frac{1}{2}", r"x\in\left[-\frac{1}{2},\frac{1}{2}\right]"]


def test_an_absolute_value_greater_than_a_number_is_two_inequalities():
    w, _ = worked(r"|2x+1|\geq5")
    assert lines(w)[1:] == [r"2x+1\leq-5\quad\text{or}\quad2x+1\geq5", r"2x\leq-6\quad\text{or}\quad2x\geq4",
                            r"x\leq-3\quad\text{or}\quadx\geq2",
                            r"x\in\left(-\infty,-3\right]\cup\left[2,\infty\right)"]
    assert "is below $-5$ or above $5$ (or equal to them)" in w.steps[1].reason
    assert w.steps[-1].reason == "write the solution as intervals"
    w, _ = worked("|x-1|<2|x-1|-3")  # the absolute value on both sides: |x - 1| > 3 once collected
    assert lines(w)[2:4] == [r"\left|{x-1}\right|>3", r"x-1<-3\quad\text{or}\quadx-1>3"]


@pytest.mark.parametrize("latex, last, why", [
    ("|x-1|<-1", r"\text{nosolution}", r"never negative, so $\left|{x - 1}\right| < -1$ never holds: no solution"),
    ("|x|<0", r"\text{nosolution}", "never holds: no solution"),
    (r"|x-1|\geq-1", r"x\in\mathbb{R}", "always holds: every value of $x$ is a solution"),
    (r"|2x+3|\geq0", r"x\in\mathbb{R}", "always holds"),
    (r"|x-1|\leq0", "x=1", None),  # only where it is zero
    ("|2x+1|>0", r"x\neq-\frac{1}{2}", None),  # everywhere but where it is zero
])
def test_an_absolute_value_compared_with_zero_or_a_negative_number(latex, last, why):
    w, _ = worked(latex)
    assert lines(w)[-1] == last
    if why:
        assert why in w.steps[-1].reason
    if latex == r"|x-1|\leq0":
        assert lines(w)[1] == "x-1=0" and "only where it is $0$: what is inside is zero" in w.steps[1].reason
    if latex == "|2x+1|>0":
        assert lines(w)[1:] == [r"2x+1\neq0", r"2x\neq-1", r"x\neq-\frac{1}{2}"]
        assert "positive except where what is inside is zero" in w.steps[1].reason


def test_rational_inequality_by_critical_points_and_a_sign_table():
    w, _ = worked(r"\frac{x-1}{x+2}>0")
    assert lines(w) == [r"\frac{x-1}{x+2}>0", r"\frac{x-1}{x+2}>0,\quadx\neq-2",
                        r"x\in\left(-\infty,-2\right)\cup\left(1,\infty\right)"]
    assert w.steps[1].reason == ("the critical points: the numerator $x - 1$ is zero at $x = 1$; the denominator "
                                 "$x + 2$ is zero at $x = -2$, which is excluded (a denominator must not be zero)")
    assert (r"on $\left(-\infty, -2\right)$: $+$, on $\left(-2, 1\right)$: $-$, on $\left(1, \infty\right)$: $+$; "
            "it must be positive") in w.steps[-1].reason
    w, _ = worked(r"\frac{1}{x}<2")  # never multiplied by x: every term to the left, one fraction
    assert lines(w)[1:] == [r"\frac{1}{x}-2<0", r"\frac{1-2x}{x}<0", r"\frac{1-2x}{x}<0,\quadx\neq0",
                            r"x\in\left(-\infty,0\right)\cup\left(\frac{1}{2},\infty\right)"]
    assert "do not multiply both sides by $x$: its sign is unknown" in w.steps[1].reason
    assert "one fraction over the common denominator $x$" in w.steps[2].reason


def test_a_rational_inequality_keeps_the_denominators_zero_out_even_with_or_equal():
    w, _ = worked(r"\frac{x}{x-1}\geq2")
    assert lines(w)[2:] == [r"\frac{x-2\left(x-1\right)}{x-1}\geq0", r"\frac{2-x}{x-1}\geq0",
                            r"\frac{2-x}{x-1}\geq0,\quadx\neq1", r"x\in\left(1,2\right]"]
    assert "$x = 2$ is included (the numerator is zero), and $x = 1$ stays excluded" in w.steps[-1].reason
    w, _ = worked(r"\frac{3}{x+1}<\frac{2}{x-2}")
    assert lines(w)[3] == r"\frac{x-8}{\left(x+1\right)\left(x-2\right)}<0"
    assert lines(w)[-1] == r"x\in\left(-\infty,-1\right)\cup\left(2,8\right)"


def test_a_rational_inequality_with_quadratics_is_factored():
    w, _ = worked(r"\frac{x^{2}-4}{x-3}\geq0")
    assert lines(w)[1] == r"\frac{\left(x+2\right)\left(x-2\right)}{x-3}\geq0" and w.steps[1].reason == \
        "factor the numerator"
    assert lines(w)[-1] == r"x\in\left[-2,2\right]\cup\left(3,\infty\right)"
    w, _ = worked(r"\frac{x+1}{x^{2}-9}\leq0")
    assert w.steps[1].reason == "factor the denominator" and "$x = -3$ and $x = 3$ stay excluded" in reasons(w)
    w, _ = worked(r"\frac{(x-1)^{2}}{x+2}\leq0")  # the double zero is a lone point of the answer
    assert lines(w)[-1] == r"x\in\left(-\infty,-2\right)\cup\left\{1\right\}"
    w, _ = worked(r"\frac{x^{2}}{x-1}>0")  # a square is factored already (not "x x")
    assert lines(w)[1] == r"\frac{x^{2}}{x-1}>0,\quadx\neq1" and lines(w)[-1] == r"x\in\left(1,\infty\right)"
    w, _ = worked(r"\frac{1}{x^{2}+1}>0")
    assert lines(w)[-1] == r"x\in\mathbb{R}" and "the denominator $x^{2} + 1$ is never zero" in reasons(w)


def test_the_new_inequality_kinds_are_shown_in_the_json_answer():
    for latex, kind in [("|x-1|<3", "absolute_inequality"), (r"\frac{1}{x}<2", "rational_inequality")]:
        result = answer(parse_latex(latex), steps=True)
        assert result["steps_kind"] == kind and result["steps_reason"] == "", result["steps_reason"]
        assert all("merror" not in s["mathml"] for s in result["steps"])


def test_the_checker_catches_a_wrong_absolute_value_or_rational_inequality_step():
    from inkmath.equation.solve.steps.base import Step, Worked

    x = sp.Symbol("x")

    def chain(kind, *exprs):
        return Worked(kind, [Step(e, "", "") for e in exprs], [x])

    absolute = sp.Lt(sp.Abs(x - 1), 3)
    assert equivalent(chain("absolute_inequality", absolute, sp.Lt(x - 1, 3))) == [1]  # the lower bound forgotten
    assert equivalent(chain("absolute_inequality", absolute, sp.And(sp.Lt(-3, x - 1), sp.Lt(x - 1, 3)))) == []
    assert equivalent(chain("absolute_inequality", absolute, sp.Or(sp.Lt(x - 1, -3), sp.Gt(x - 1, 3)))) == [1]
    outside = sp.Gt(sp.Abs(x - 1), 3)
    assert equivalent(chain("absolute_inequality", outside, sp.Or(sp.Lt(x - 1, -3), sp.Gt(x - 1, 3)))) == []
    assert equivalent(chain("absolute_inequality", outside, sp.Or(sp.Le(x - 1, -3), sp.Ge(x - 1, 3)))) == [1]
    rational = sp.Ge((x - 1) / (x + 2), 0)
    right = sp.Union(sp.Interval.open(-sp.oo, -2), sp.Interval(1, sp.oo))
    wrong = sp.Union(sp.Interval(-sp.oo, -2), sp.Interval(1, sp.oo))  # the denominator's zero included
    assert equivalent(chain("rational_inequality", rational, sp.Contains(x, right, evaluate=False))) == []
    assert equivalent(chain("rational_inequality", rational, sp.Contains(x, wrong, evaluate=False))) == [1]
    multiplied = sp.Ge(x - 1, 0)  # both sides multiplied by x + 2, whose sign is unknown
    assert equivalent(chain("rational_inequality", rational, multiplied)) == [1]


def test_derivative_of_a_polynomial_by_the_sum_constant_multiple_and_power_rules():
    w, _ = worked(r"\frac{d}{dx}(3x^{2}-5x+1)")
    assert w.kind == "derivative"
    assert lines(w)[1:] == [r"3\frac{d}{dx}x^{2}-5\frac{d}{dx}x+\frac{d}{dx}1", "6x-5"]
    assert "the sum rule" in w.steps[1].reason and "the constant-multiple rule" in w.steps[1].reason
    assert r"the power rule: $\frac{d}{dx} x^{n} = n x^{n-1}$" in w.steps[2].reason
    assert "the derivative of a number is $0$" in w.steps[2].reason
    w, _ = worked(r"\frac{d}{dx}x^{3}")
    assert lines(w)[1:] == ["3x^{2}"] and w.steps[1].reason.startswith("the power rule")
    w, _ = worked(r"\frac{d}{dx}\sqrt{x}")
    assert lines(w)[-1] == r"\frac{1}{2\sqrt{x}}"


@pytest.mark.parametrize("latex, last, reason", [
    (r"\frac{d}{dx}\sin x", r"\cos{\left(x\right)}", r"the derivative of $\sin{\left(x \right)}$ is $\cos"),
    (r"\frac{d}{dx}\cos x", r"-\sin{\left(x\right)}", r"the derivative of $\cos{\left(x \right)}$ is $- \sin"),
    (r"\frac{d}{dx}e^{x}", "e^{x}", "the derivative of $e^{x}$ is $e^{x}$"),
    (r"\frac{d}{dx}\ln x", r"\frac{1}{x}", r"the derivative of $\ln{\left(x \right)}$ is $\frac{1}{x}$"),
    (r"\frac{d}{dx}\tan x", r"\frac{1}{\cos^{2}{\left(x\right)}}", r"the derivative of $\tan{\left(x \right)}$"),
])
def test_derivatives_of_the_basic_functions(latex, last, reason):
    w, _ = worked(latex)  # tan: simplify alone did not see 1/cos^2 x as tan^2 x + 1; the checker works it out
    assert len(w.steps) == 2 and lines(w)[-1] == last and w.steps[-1].reason.startswith(reason)


def test_derivative_by_the_product_and_quotient_rules():
    w, _ = worked(r"\frac{d}{dx}(x^{2}\sin x)")
    assert lines(w)[1:] == [r"\sin{\left(x\right)}\frac{d}{dx}x^{2}+x^{2}\frac{d}{dx}\sin{\left(x\right)}",
                            r"2x\sin{\left(x\right)}+x^{2}\cos{\left(x\right)}",
                            r"x\left(x\cos{\left(x\right)}+2\sin{\left(x\right)}\right)"]
    assert w.steps[1].reason.startswith("the product rule") and r"$u = x^{2}$, $v = \sin" in w.steps[1].reason
    assert w.steps[-1].reason == "factor"
    w, _ = worked(r"\frac{d}{dx}\frac{\sin x}{x}")
    assert lines(w)[1:] == [r"\frac{x\frac{d}{dx}\sin{\left(x\right)}-\sin{\left(x\right)}\frac{d}{dx}x}{x^{2}}",
                            r"\frac{x\cos{\left(x\right)}-\sin{\left(x\right)}}{x^{2}}"]
    assert w.steps[1].reason.startswith("the quotient rule") and "$v = x$" in w.steps[1].reason


def test_derivative_by_the_chain_rule_names_the_inner_function():
    w, _ = worked(r"\frac{d}{dx}\sin(x^{2})")
    assert lines(w)[1:] == [r"\cos{\left(x^{2}\right)}\frac{d}{dx}x^{2}", r"2x\cos{\left(x^{2}\right)}"]
    assert w.steps[1].reason.startswith("the chain rule with $u = x^{2}$")
    w, _ = worked(r"\frac{d}{dx}(x^{2}+1)^{3}")
    assert lines(w)[1:] == [r"3\left(x^{2}+1\right)^{2}\frac{d}{dx}\left(x^{2}+1\right)",
                            r"6x\left(x^{2}+1\right)^{2}"]
    assert "$u = x^{2} + 1$" in w.steps[1].reason and r"3 u^{2} \cdot \frac{du}{dx}" in w.steps[1].reason
    w, _ = worked(r"\frac{d}{dx}e^{3x}")  # the inner product in brackets: d/dx (3x), not d/dx 3 x
    assert lines(w)[1:] == [r"e^{3x}\frac{d}{dx}\left(3x\right)", "3e^{3x}"]


def test_indefinite_integrals_term_by_term_with_the_constant_the_solver_writes():
    w, result = worked(r"\int (3x^{2}-2x+5)dx")
    assert w.kind == "integral" and result["text"].endswith("+ C")
    assert lines(w)[1:] == [r"3\intx^{2}\,dx-2\intx\,dx+\int5\,dx", r"\frac{3x^{3}}{3}-\frac{2x^{2}}{2}+5x+C",
                            r"x\left(x^{2}-x+5\right)+C"]
    assert "the sum rule" in w.steps[1].reason and "constant-multiple" in w.steps[1].reason
    assert r"$\int x^{n}\,dx = \frac{x^{n+1}}{n+1}$ ($n \neq -1$)" in w.steps[2].reason
    assert "the constant of integration $C$" in w.steps[2].reason
    w, _ = worked(r"\int \frac{1}{x}dx")  # the solver's ln|x|
    assert lines(w)[1:] == [r"\ln{\left(\left|{x}\right|\right)}+C"] and r"\ln\left|x\right|" in w.steps[1].reason
    w, _ = worked(r"\int (e^{x}+\cos x)dx")
    assert lines(w)[-1] == r"e^{x}+\sin{\left(x\right)}+C" and r"$\int e^{x}\,dx = e^{x}$" in reasons(w)
    w, _ = worked(r"\int 2\sin x dx")
    assert lines(w)[-1] == r"-2\cos{\left(x\right)}+C" and r"$\int \sin x\,dx = -\cos x$" in reasons(w)


def test_definite_integrals_through_the_antiderivative_at_the_limits():
    w, _ = worked(r"\int_{0}^{2}(3x^{2}+2x)dx")
    assert lines(w)[1:] == [r"\left[x^{3}+x^{2}\right]_{0}^{2}", r"\left(2^{3}+2^{2}\right)-\left(0^{3}+0^{2}\right)",
                            "12-0", "12"]
    assert w.steps[1].reason.startswith("an antiderivative") and "upper limit $2$" in w.steps[2].reason
    w, _ = worked(r"\int_{0}^{\pi}\sin x dx")
    assert lines(w)[2:] == [r"-\cos{\left(\pi\right)}-\left(-\cos{\left(0\right)}\right)", r"1-\left(-1\right)", "2"]
    w, _ = worked(r"\int_{-2}^{-1}\frac{1}{x}dx")  # 1/x is defined from -2 to -1
    assert lines(w)[-1] == r"-\ln{\left(2\right)}"


def test_calculus_steps_in_the_json_answer():
    for latex, kind in [(r"\frac{d}{dx}\sin(x^{2})", "derivative"), (r"\int x^{2}dx", "integral"),
                        (r"\int_{1}^{2}\frac{3}{x}dx", "integral")]:
        result = answer(parse_latex(latex), steps=True)
        assert result["steps_kind"] == kind and result["steps_reason"] == "", result["steps_reason"]
        assert all("merror" not in s["mathml"] for s in result["steps"])
    result = answer(parse_latex(r"\int x^{2}dx"), steps=True)
    assert result["steps"][-1]["latex"] == r"\frac{x^{3}}{3} + C" and result["latex"].endswith("+ C")


def test_the_checker_catches_a_wrong_derivative_or_integral_step():
    from inkmath.equation.solve.steps.base import Step, Worked
    from inkmath.equation.solve.steps.calculus import INTEGRATION_CONSTANT as C

    x = sp.Symbol("x")

    def chain(*exprs):
        return Worked("calculus", [Step(e, "", "") for e in exprs], [])

    cube = sp.Derivative(x ** 3, x)
    assert equivalent(chain(cube, 3 * x ** 2)) == []
    assert equivalent(chain(cube, 3 * x ** 3)) == [1]  # the power rule without lowering the power
    assert equivalent(chain(cube, sp.Mul(3, sp.Derivative(x ** 2, x), evaluate=False))) == [1]
    assert equivalent(chain(sp.Derivative(sp.tan(x), x), sp.cos(x) ** -2)) == []
    assert equivalent(chain(sp.Derivative(sp.tan(x), x), sp.sin(x) ** -2)) == [1]
    square = sp.Integral(x ** 2, x)
    assert equivalent(chain(square, x ** 3 / 3 + C)) == []
    assert equivalent(chain(square, x ** 3 + C)) == [1]  # without dividing by n + 1
    assert equivalent(chain(sp.Integral(1 / x, x), sp.log(sp.Abs(x)) + C)) == []
    assert equivalent(chain(sp.Integral(1 / x, x), sp.log(sp.Abs(x)) / 2 + C)) == [1]
    definite = sp.Integral(x ** 2, (x, 0, 3))
    bracket = lambda f: sp.Add(sp.Subs(f, x, 3), -sp.Subs(f, x, 0), evaluate=False)  # noqa: E731
    assert equivalent(chain(definite, bracket(x ** 3 / 3), sp.Integer(9))) == []
    assert equivalent(chain(definite, bracket(x ** 3), sp.Integer(27))) == [1]
    tree = parse_latex(r"\int x^{2}dx")
    items = to_sympy_lines(tree)
    result = solver.solve_items(items)
    assert final_matches(chain(square, x ** 3 / 3 + C), result)
    assert not final_matches(chain(square, x ** 3 / 3), result)  # the solver answers + C: so must the last line
