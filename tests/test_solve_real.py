"""Real answers, one rule for every kind of equation: the solutions are real numbers; non-real ones the solver finds
are offered in a note and in `complex_solutions`; "no real solution" when there is none in the real numbers, "no
solution" only when there is none in the complex numbers either (as a student is taught, and as Photomath and
Wolfram Alpha answer). Before, polynomials gave their complex roots as solutions (x^4 = 16: ±2, ±2i, without a
note), e^x = -1 said "no solution", and systems gave complex solutions without a word."""

from __future__ import annotations

import json

import pytest

from inkmath.equation.solve.typed import solve_latex

NO_REAL = "no real solution; the solutions are complex: "
TOO = "complex solutions too: "


def solved(latex: str, in_process: bool = True) -> dict:
    return solve_latex(latex, in_process=in_process)["answer"]


@pytest.mark.parametrize("latex, text, note", [
    # polynomials: every root is known, the non-real ones become a note
    ("x^2+1=0", "no real solution", NO_REAL + "x = -i or x = i"),
    ("x^2=-4", "no real solution", NO_REAL + "x = -2*i or x = 2*i"),
    ("x^2+2x+5=0", "no real solution", NO_REAL + "x = -1 - 2*i or x = -1 + 2*i"),
    ("x^3=1", "x = 1", TOO + "x = -1/2 - sqrt(3)*i/2 or x = -1/2 + sqrt(3)*i/2"),
    ("x^4=16", "x = -2 or x = 2", TOO + "x = -2*i or x = 2*i"),
    ("x^3=-8", "x = -2", TOO + "x = 1 - sqrt(3)*i or x = 1 + sqrt(3)*i"),
    ("(x^2+1)(x-2)=0", "x = 2", TOO + "x = -i or x = i"),
    ("x^2-4=0", "x = -2 or x = 2", None),
    ("x+1=x", "no solution", None),  # a contradiction: no number at all
    # rational equations: their non-real roots are found as well
    (r"\frac{1}{x}=-x", "no real solution", NO_REAL + "x = -i or x = i"),
    (r"\frac{x^3-1}{x-1}=0", "no real solution", NO_REAL + "x = -1/2 - sqrt(3)*i/2 or x = -1/2 + sqrt(3)*i/2"),
    (r"\frac{1}{x^2+1}=0", "no solution", None),  # a fraction with a numerator of 1 is never 0
    (r"\frac{x-2}{x-2}+x=3", "no solution", None),  # x = 2 only, where the written fraction is undefined
    # other equations: no real solution, and their complex ones (e^x = -1: iπ + 2kπi) are not looked for
    ("e^x=-1", "no real solution", None),
    ("2^x=-8", "no real solution", None),
    (r"\sqrt{x}=-1", "no real solution", None),
    ("|x|=-1", "no real solution", None),
    (r"\sin x=2", "no real solution", None),
    (r"\ln x=-1", "x = e^-1", None),
])
def test_an_equation_has_real_solutions_and_names_its_complex_ones(latex, text, note):
    result = solved(latex)
    assert result["kind"] == "equation" and result["text"] == text, result
    assert [n for n in result["notes"] if "complex" in n] == ([note] if note else []), result["notes"]
    assert all(sol["x"]["decimal"] is None or "i" not in sol["x"]["decimal"] for sol in result["solutions"])
    assert len(result["complex_solutions"]) == (note.count(" or ") + 1 if note else 0)
    assert result["latex"] == (r"\text{" + text + "}" if "solution" in text else result["latex"])
    json.dumps(result)


@pytest.mark.parametrize("latex, text, note", [
    (r"x^2+y^2=-1 \\ x-y=0", "the system has no real solution",
     NO_REAL + "x = -sqrt(2)*i/2, y = -sqrt(2)*i/2 or x = sqrt(2)*i/2, y = sqrt(2)*i/2"),
    (r"x^2+1=0 \\ y=x", "the system has no real solution", NO_REAL + "x = -i, y = -i or x = i, y = i"),
    (r"x^3=1 \\ y=x", "x = 1, y = 1",
     TOO + "x = -1/2 - sqrt(3)*i/2, y = -1/2 - sqrt(3)*i/2 or x = -1/2 + sqrt(3)*i/2, y = -1/2 + sqrt(3)*i/2"),
    (r"x^2=y \\ x+y=2", "x = -2, y = 4 or x = 1, y = 1", None),
    (r"x+y=1 \\ x+y=2", "the system has no solution", None),
])
def test_a_system_has_real_solutions_and_names_its_complex_ones(latex, text, note):
    result = solved(latex)
    assert result["kind"] == "system" and result["text"] == text, result
    assert result["notes"] == ([note] if note else []), result["notes"]
    assert len(result["complex_solutions"]) == (note.count(" or ") + 1 if note else 0)
    json.dumps(result)


def test_the_worker_gives_the_same_real_answer():
    for latex in ("x^2=-4", "x^3=1", r"x^2+1=0 \\ y=x"):  # answered in the caller's process, and in the worker
        here, there = solved(latex), solved(latex, in_process=False)
        for field in ("text", "latex", "solutions", "complex_solutions", "notes"):
            assert here[field] == there[field], (latex, field)


def test_the_steps_end_where_the_answer_does():
    steps = solve_latex("x^2+4=0", steps=True)["answer"]["steps"]
    assert steps[-1]["latex"] == r"\text{no real solution}" and "2 i" in steps[-1]["reason"]
