"""Tree -> SymPy (no eval) and answers, on hand-built trees."""

from __future__ import annotations

import builtins
import os
import json
import re

import pytest
import sympy as sp

from inkmath import InkmathError
from inkmath.equation.solve import answer as solve
from inkmath.equation.solve import fast as solve_fast
from inkmath.equation.solve import limits as solve_limits
from inkmath.equation.solve.answer import PLUS_MINUS, answer, expand_plus_minus, start_workers, to_sympy, worker_pids
from inkmath.equation.solve.text import DEGREE_NOTE
from inkmath.equation.core.tree import BigOp, Frac, Lines, Row, Sqrt, Sub, SubSup, Sup, Symbol

x, y, n = sp.symbols("x y n")


def row(text: str, *extra) -> Row:
    """A Row from space-separated tokens, plus any extra nodes after them."""
    return Row([Symbol(t) for t in text.split()] + list(extra))


def sup(base: str, exponent: str) -> Sup:
    return Sup(Symbol(base), row(exponent))


def texts(result: dict, name: str = "x") -> list[str]:
    return [sol[name]["text"] for sol in result["solutions"]]


# ---------------------------------------------------------------- seed cases


def test_linear_equation():
    result = answer(row("3 x + 5 = 1 1"))
    assert result["kind"] == "equation" and result["variables"] == ["x"]
    assert texts(result) == ["2"] and result["text"] == "x = 2"
    json.dumps(result)  # the web API sends it as is


def test_brackets_and_implicit_multiplication():
    assert to_sympy(row("2 ( x - 1 ) = x + 4")) == sp.Eq(2 * x - 2, x + 4)
    assert texts(answer(row("2 ( x - 1 ) = x + 4"))) == ["6"]


def test_quadratic_has_two_roots():
    tree = Row([sup("x", "2"), *row("- 5 x + 6 = 0").items])
    result = answer(tree)
    assert texts(result) == ["2", "3"]
    assert result["latex"] == "x = 2 \\quad\\text{or}\\quad x = 3"


def test_sine_equation_gives_general_solution():
    tree = Row([*row("\\sin ( x ) =").items, Frac(row("1"), row("2"))])
    result = answer(tree)
    assert result["kind"] == "equation"
    assert [sol["x"]["general"] for sol in result["solutions"]] == [True, True]
    assert texts(result) == ["2*π*k + π/6", "2*π*k + 5*π/6"]
    assert result["text"].endswith("k any integer")
    assert "\\frac{5 \\pi}{6}" in result["latex"] and "\\mathbb{Z}" in result["latex"]


def test_fraction_sum_exact_and_decimal():
    result = answer(Row([Frac(row("1"), row("2")), Symbol("+"), Frac(row("1"), row("3"))]))
    assert result["kind"] == "expression"
    assert result["value"]["text"] == "5/6" and result["value"]["latex"] == "\\frac{5}{6}"
    assert result["value"]["decimal"] == "0.833333333333"
    assert result["text"] == "5/6 ≈ 0.833333333333"


def test_two_line_system():
    result = answer(Lines([row("x + y = 3"), row("x - y = 1")]))
    assert result["kind"] == "system" and result["variables"] == ["x", "y"]
    assert result["solutions"] == [
        {"x": {"text": "2", "latex": "2", "decimal": None, "general": False, "sympy": "Integer(2)"},
         "y": {"text": "1", "latex": "1", "decimal": None, "general": False, "sympy": "Integer(1)"}}
    ]
    assert result["text"] == "x = 2, y = 1"


# ---------------------------------------------------------------- more equations


def test_polynomial_roots_are_real_and_the_complex_ones_a_note():
    result = answer(Row([sup("x", "3"), *row("- 1 = 0").items]))  # 1 and the two complex cube roots
    assert texts(result) == ["1"] and result["text"] == "x = 1"
    complex_roots = [sol["x"]["text"] for sol in result["complex_solutions"]]
    assert complex_roots == ["-1/2 - sqrt(3)*i/2", "-1/2 + sqrt(3)*i/2"]
    assert result["notes"] == ["complex solutions too: x = -1/2 - sqrt(3)*i/2 or x = -1/2 + sqrt(3)*i/2"]
    quintic = answer(Row([sup("x", "5"), *row("- x + 1 = 0").items]))  # no radical form: numeric roots
    assert [sol["x"]["decimal"] for sol in quintic["solutions"]] == ["-1.16730397826"]
    assert len(quintic["complex_solutions"]) == 4 and any("numeric" in note for note in quintic["notes"])


def test_an_equation_with_only_complex_roots_has_no_real_solution():
    result = answer(Row([sup("x", "2"), *row("= - 1").items]))
    assert result["text"] == "no real solution" and result["latex"] == r"\text{no real solution}"
    assert result["solutions"] == [] and [sol["x"]["text"] for sol in result["complex_solutions"]] == ["-i", "i"]
    assert result["notes"] == ["no real solution; the solutions are complex: x = -i or x = i"]
    json.dumps(result)  # the complex solutions carry no SymPy objects


def test_no_solution_and_identity():
    assert answer(row("x + 1 = x"))["text"] == "no solution"
    identity = answer(row("2 ( x + 1 ) = 2 x + 2"))
    assert identity["kind"] == "equation" and "every value of x" in identity["text"]
    assert answer(Row([*row("\\cos x =").items, Symbol("2")]))["text"] == "no real solution"  # complex ones exist


def test_equation_without_unknowns_is_checked():
    assert answer(row("1 + 1 = 2"))["holds"] is True
    wrong = answer(row("2 + 2 = 5"))
    assert wrong["holds"] is False and "false" in wrong["text"]


def test_several_unknowns_solves_for_x_and_says_so():
    result = answer(row("y = 2 x + 3"))
    assert result["variables"] == ["x"] and texts(result) == ["y/2 - 3/2"]
    assert result["notes"] == ["solved for x; y treated as given"]
    assert answer(row("a b = 4 b"))["variables"] == ["a"]  # no x, y, z, t: the first alphabetically


def test_plus_minus_absolute_value_and_exponential():
    assert texts(answer(row("x = \\pm 2"))) == ["-2", "2"]
    assert texts(answer(row("| x - 1 | = 3"))) == ["-2", "4"]
    assert texts(answer(Row([sup("e", "x"), *row("= 1").items]))) == ["0"]


def test_inequality_gives_an_interval():
    result = answer(row("2 x < 6"))
    assert result["kind"] == "inequality" and result["text"] == "x ∈ (-∞, 3)"


def test_nonlinear_system():
    result = answer(Lines([Row([sup("x", "2"), *row("+ y = 5").items]), row("y = 1")]))
    assert sorted(sol["x"]["text"] for sol in result["solutions"]) == ["-2", "2"]


def test_inconsistent_system_and_missing_equals():
    assert answer(Lines([row("x + y = 1"), row("x + y = 2")]))["text"] == "the system has no solution"
    mixed = answer(Lines([row("x + y = 1"), row("x - y")]))
    assert mixed["kind"] == "none" and "line 2" in mixed["reason"]


# ---------------------------------------------------------------- expressions and calculus


def test_sum_integral_limit():
    total = answer(Row([BigOp("\\sum", row("i = 1"), row("n")), Symbol("i")]))
    assert sp.simplify(to_sympy(Row([BigOp("\\sum", row("i = 1"), row("n")), Symbol("i")])).doit() - n * (n + 1) / 2) == 0
    assert total["value"]["text"] == "n*(n + 1)/2"
    indefinite = answer(row("\\int x d x"))
    assert indefinite["value"]["text"] == "x^2/2 + C"
    definite = answer(Row([BigOp("\\int", row("0"), row("1")), sup("x", "2"), *row("d x").items]))
    assert definite["value"]["text"] == "1/3"
    limit = answer(Row([BigOp("\\lim", row("x \\rightarrow 0")), Frac(row("\\sin x"), row("x"))]))
    assert limit["value"]["text"] == "1"


def test_one_sided_limit_and_equation_with_integral():
    right = Row([BigOp("\\lim", Row([*row("x \\rightarrow").items, sup("0", "+")])), Frac(row("1"), row("x"))])
    assert to_sympy(right) == sp.Limit(1 / x, x, 0, "+")
    assert answer(right)["value"]["text"] == "∞"
    area = Row([BigOp("\\int", row("0"), row("a")), *row("t d t = 2").items])
    assert texts(answer(area), "a") == ["-2", "2"]


def test_equation_without_closed_form_is_solved_numerically():
    result = answer(row("\\cos x = x"))
    assert texts(result) == ["0.739085133215"]
    assert any("numeric" in note for note in result["notes"])


def test_trig_identity_simplifies():
    tree = Row([sup("\\sin", "2"), Symbol("x"), Symbol("+"), sup("\\cos", "2"), Symbol("x")])
    assert answer(tree)["value"]["text"] == "1"


# ---------------------------------------------------------------- reading the tree


@pytest.mark.parametrize(
    "tree, expected",
    [
        (row("( a ) ( b )"), sp.Symbol("a") * sp.Symbol("b")),
        (row("x y"), x * y),
        (row("1 2 . 5 x"), sp.Rational(25, 2) * x),
        (row("\\sin x \\cos y"), sp.sin(x) * sp.cos(y)),
        (row("\\sin 2 x + 1"), sp.sin(2 * x) + 1),
        (Row([sup("\\sin", "- 1"), Symbol("x")]), sp.asin(x)),
        (Row([Sub(Symbol("\\log"), row("2")), Symbol("8")]), sp.Integer(3)),
        (row("\\log 1 0 0"), sp.Integer(2)),
        (row("| 2 x - | y | |"), sp.Abs(2 * x - sp.Abs(y))),
        (row("3 !"), sp.Integer(6)),
        (Row([Sub(Symbol("x"), row("1")), Symbol("+"), Sub(Symbol("x"), row("n - 1"))]),
         sp.Symbol("x_1") + sp.Symbol("x_{n-1}")),
        (row("y \\prime"), sp.Symbol("y'")),
        (Row([Symbol("("), *row("x + 1").items, sup(")", "2")]), (x + 1) ** 2),
        (Row([Symbol("1"), sup("2", "2")]), sp.Integer(144)),  # 12 squared: digits join before the script
        (Sup(row("x + 1"), row("2")), (x + 1) ** 2),
        (Sqrt(row("- 8"), row("3")), sp.Integer(-2)),
        (Row([Frac(row("d"), row("d x")), sup("x", "3")]), sp.Derivative(x**3, x)),
        (row("\\alpha + \\pi"), sp.Symbol("alpha") + sp.pi),
        (Row([sup("e", "2"), Symbol("+"), Symbol("e")]), sp.exp(2) + sp.E),  # e^{...} makes every e Euler's
        (row("a + e"), sp.Symbol("a") + sp.Symbol("e")),  # elsewhere a bare e is a variable
        (SubSup(Symbol("x"), row("1"), row("2")), sp.Symbol("x_1") ** 2),
        (row("2 \\times - 3 \\div 6"), sp.Integer(-1)),
    ],
)
def test_reading(tree, expected):
    assert to_sympy(tree) == expected


def test_plus_minus_branches():
    value = to_sympy(row("1 \\pm 2"))
    assert value.has(PLUS_MINUS)
    assert expand_plus_minus(value) == [sp.Integer(3), sp.Integer(-1)]
    assert answer(row("1 \\pm 2"))["text"] == "3 or -1"


def test_lines_and_commas_give_lists():
    assert to_sympy(row("x = 1 , y = 2")) == [sp.Eq(x, 1), sp.Eq(y, 2)]
    assert to_sympy(Lines([row("x = 1")])) == [sp.Eq(x, 1)]


@pytest.mark.parametrize(
    "tree, message",
    [
        (row("x + = 2"), "term is missing"),
        (row("x +"), "ends too early"),
        (row("( x + 1 = 2"), "'(' is never closed"),
        (row("x + 1 )"), "no matching opening bracket"),
        (row("( x ]"), "closed by ']'"),
        (row("| x"), "never closed"),
        (row("1 . 2 . 3"), "one decimal point"),
        (row("x = y = 2"), "more than one relation"),
        (Row([]), "empty"),
        (Frac(row("1"), row("0")), "division by zero"),
        (Row([Symbol("9"), Sup(Symbol("9"), Row([sup("9", "9")]))]), "too large"),
        (row("\\sin"), "needs an argument"),
        (row("\\int x"), "dx"),
        (Frac(row("d y"), row("d x")), "dy/dx"),
        (Row([BigOp("\\sum"), Symbol("i")]), "needs limits"),
        (row("\\ldots"), "cannot evaluate the symbol"),
        (Row([Sup(Symbol("+"), row("2"))]), "has nothing before it"),
    ],
)
def test_malformed_input_is_a_clear_error(tree, message):
    with pytest.raises(InkmathError, match=re.escape(message)):
        to_sympy(tree)
    result = answer(tree, timeout=None)
    assert result["kind"] == "none" and message in result["reason"]


def test_random_trees_never_crash():
    """Seeded random trees: to_sympy returns SymPy objects or raises InkmathError, nothing else."""
    import random

    vocab = ("0 1 2 . x y e d i + - = ( ) [ ] | ! , \\pi \\sin \\log \\sqrt \\times \\div / \\pm \\prime "
             "\\rightarrow < \\infty \\alpha \\{ \\} \\int \\sum \\lim").split()
    rng = random.Random(0)

    def node(depth: int):
        kind = rng.choice(["sym"] * 6 + ["row", "sup", "sub", "subsup", "frac", "sqrt", "bigop"])
        if depth > 2 or kind == "sym":
            return Symbol(rng.choice(vocab))
        if kind == "row":
            return Row([node(depth + 1) for _ in range(rng.randint(0, 4))])
        if kind == "sup":
            return Sup(node(depth + 1), node(depth + 1))
        if kind == "sub":
            return Sub(node(depth + 1), node(depth + 1))
        if kind == "subsup":
            return SubSup(node(depth + 1), node(depth + 1), node(depth + 1))
        if kind == "frac":
            return Frac(node(depth + 1), node(depth + 1))
        if kind == "sqrt":
            return Sqrt(node(depth + 1), node(depth + 1) if rng.random() < 0.3 else None)
        return BigOp(rng.choice(["\\sum", "\\int", "\\lim"]), node(depth + 1), node(depth + 1))

    built = 0
    for _ in range(2000):
        try:
            value = to_sympy(Row([node(0) for _ in range(rng.randint(1, 7))]))
        except InkmathError:
            continue
        built += 1
        assert isinstance(value, (sp.Basic, list))
    assert built > 50  # the generator does reach valid trees, so both paths are exercised


def test_no_eval_of_tokens(monkeypatch, tmp_path):
    """Tokens are looked up, never executed: code-like tokens are errors or plain Symbol names."""
    marker = tmp_path / "hacked"

    def forbidden(*args, **kwargs):
        raise AssertionError("text was evaluated")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sp, "sympify", forbidden)
    monkeypatch.setattr(sp, "parse_expr", forbidden)
    for token in ["__import__", "os.system", f"__import__('os').system('touch {marker}')", "exec"]:
        with pytest.raises(InkmathError, match="cannot evaluate the symbol"):
            to_sympy(Row([Symbol("x"), Symbol("+"), Symbol(token)]))
    # In a subscript, any text is only part of a Symbol's name.
    value = to_sympy(Sub(Symbol("x"), Row([Symbol("__import__")])))
    assert value == sp.Symbol("x___import__") and isinstance(value, sp.Symbol)
    assert answer(row("3 x + 5 = 1 1"), timeout=None)["text"] == "x = 2"
    assert not marker.exists()


def test_pathological_input_is_stopped_by_the_time_limit():
    # SymPy's integrator runs for minutes on this one (measured: still busy after 60 s).
    tree = Row([BigOp("\\int"), Sup(Symbol("e"), Row([sup("x", "2")])), *row("\\sin (").items, sup("x", "3"),
                *row(") \\ln x d x").items])
    assert to_sympy(tree) == sp.Integral(sp.exp(x**2) * sp.sin(x**3) * sp.log(x), x)
    start_workers(1)  # a cold start (importing SymPy, 1-5 s here) is not part of the time limit
    result = answer(tree, timeout=1.0)
    assert result["kind"] == "none" and "did not finish within 1 s" in result["reason"]
    assert result["elapsed_s"] < 3.0


def test_huge_degree_is_refused_without_trying():
    start_workers(1)
    result = answer(Row([sup("x", "9 9 9 9 9"), *row("+ x = 1").items]))
    assert result["kind"] == "none" and "degree 99999" in result["reason"]
    assert result["elapsed_s"] < 2.0


# ---------------------------------------------------------------- the worker pool and the fast path

SINE = Row([*row("\\sin ( x ) =").items, Frac(row("1"), row("2"))])  # not cheap: answered by a worker
SINE_TEXT = "x = 2*π*k + π/6 or x = 2*π*k + 5*π/6, k any integer"


def pathological() -> Row:
    return Row([BigOp("\\int"), Sup(Symbol("e"), Row([sup("x", "2")])), *row("\\sin (").items, sup("x", "3"),
                *row(") \\ln x d x").items])


def gone(pid: int) -> bool:
    """True once the process has exited and been reaped (a zombie still answers signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize(
    "tree, cheap",
    [
        (row("3 x + 5 = 1 1"), True),
        (Row([sup("x", "2"), *row("- 5 x + 6 = 0").items]), True),
        (Row([Frac(row("1"), row("2")), Symbol("+"), Frac(row("1"), row("3"))]), True),
        (Lines([row("x + y = 3"), row("x - y = 1")]), True),
        (row("x = \\pm 2"), True),
        (row("2 + 2 = 5"), True),
        (SINE, False),  # a function
        (row("2 x < 6"), False),  # inequality: solveset
        (Row([Frac(row("1"), row("x - 1")), *row("= 2").items]), False),  # a letter in a denominator
        (row("y = 2 x + 3"), False),  # a parameter
        (Row([sup("x", "3"), *row("- x + 1 = 0").items]), False),  # degree 3: numeric roots (mpmath state)
        (Lines([Row([sup("x", "2"), *row("+ y = 5").items]), row("y = 1")]), False),  # nonlinear system
        (row("x + 1"), False),  # simplifying letters
        (row("1 2 3 4 5 6 7 x = 1"), False),  # big numbers
        (row("\\pi + 1"), False),
    ],
)
def test_fast_path_takes_only_cheap_input(tree, cheap):
    assert solve_fast.is_cheap(solve.to_sympy_lines(tree)) is cheap


def test_fast_path_gives_the_same_answer_as_the_worker():
    trees = [row("3 x + 5 = 1 1"), Row([sup("x", "2"), *row("= - 1").items]), Lines([row("x + y = 3"), row("x - y = 1")]),
             Row([Frac(row("1"), row("2")), Symbol("+"), Frac(row("1"), row("3"))]), row("x = \\pm 2")]
    fast = [answer(t) for t in trees]
    slow = [answer(t, config=solve.SolveConfig(fast_path=False)) for t in trees]
    for a, b in zip(fast, slow):
        a.pop("elapsed_s"), b.pop("elapsed_s")
        assert a == b


def test_worker_is_started_once_and_reused():
    before = start_workers(1)
    assert before and all(not gone(pid) for pid in before)
    for _ in range(3):
        assert answer(SINE)["text"] == SINE_TEXT
        assert answer(row("3 x + 5 = 1 1"))["text"] == "x = 2"  # fast path: no worker involved
    assert worker_pids() == before  # same processes: nothing started or killed per call
    assert len(worker_pids()) <= solve.SOLVE_WORKERS


def test_timeout_kills_the_worker_and_the_next_call_starts_a_new_one():
    old = start_workers(1)
    result = answer(pathological(), timeout=0.5)
    assert result["kind"] == "none" and "did not finish within 0.5 s" in result["reason"]
    killed = [pid for pid in old if pid not in worker_pids()]
    assert len(killed) == 1 and gone(killed[0])  # killed and reaped: no zombie
    assert answer(SINE)["text"] == SINE_TEXT  # a fresh worker answers
    assert killed[0] not in worker_pids() and worker_pids()


def test_concurrent_calls_from_four_threads():
    from concurrent.futures import ThreadPoolExecutor

    cases = [
        (row("3 x + 5 = 1 1"), "x = 2"),
        (SINE, SINE_TEXT),
        (Lines([row("x + y = 3"), row("x - y = 1")]), "x = 2, y = 1"),
        (row("2 x < 6"), "x ∈ (-∞, 3)"),
        (Row([sup("x", "2"), *row("- 5 x + 6 = 0").items]), "x = 2 or x = 3"),
        (Row([Frac(row("1"), row("x - 1")), *row("= 2").items]), "x = 3/2"),
    ] * 2
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: answer(case[0], timeout=30)["text"], cases))
    assert results == [expected for _, expected in cases]
    assert 1 <= len(worker_pids()) <= solve.SOLVE_WORKERS


@pytest.mark.slow  # two interpreters import SymPy: 3 s idle, ~20 s on the loaded CI machine
def test_stop_workers_reaps_them_and_exit_leaves_none_behind():
    import subprocess
    import sys

    pids = start_workers(1)
    solve.stop_workers()
    assert worker_pids() == [] and all(gone(pid) for pid in pids)
    # A program that leaves its worker running: the atexit hook must stop it when the program ends.
    code = "from inkmath.equation.solve.answer import start_workers; print(start_workers(1)[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    child = int(out.stdout.strip())
    assert gone(child)


def test_a_worker_that_dies_is_reported_and_replaced():
    import signal
    import threading

    pids = start_workers(1)

    def kill_all() -> None:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    threading.Timer(0.3, kill_all).start()  # the worker dies mid-job, long before the 10 s limit
    result = answer(pathological(), timeout=10.0)
    assert result["kind"] == "none" and "stopped unexpectedly (exit code -9)" in result["reason"]
    assert answer(SINE)["text"] == SINE_TEXT and not set(pids) & set(worker_pids())


# ---------------------------------------------------------------- answers a student checks against the book


def typed(latex: str) -> dict:
    from inkmath.equation.core.latex_parse import parse_latex

    return answer(parse_latex(latex), timeout=None)


@pytest.mark.parametrize("latex, expected", [
    (r"\ln(x-1)+\ln(x+1)=\ln 3", "x = 2"),  # solveset also gives -2, where ln(x-1) is undefined
    (r"\log_{2}(x)+\log_{2}(x-2)=3", "x = 4"),
    (r"\log(x^2-4)-\log(x-2)=\log 3", "no real solution"),  # 1 makes both logarithms' arguments negative
    (r"\sqrt{x-1}=\sqrt{2x}", "no real solution"),  # -1 gives i√2 = i√2, not a real solution
    (r"\arcsin x = 3", "no real solution"),  # solveset answers sin 3, but arcsin(sin 3) = π - 3
    (r"\sqrt[3]{x}+1=-1", "x = -8"),  # an odd root of a negative number is real: kept
    (r"\sqrt{x+2}=x", "x = 2"),
])
def test_roots_outside_the_real_domain_are_left_out(latex, expected):
    result = typed(latex)
    assert result["text"] == expected
    assert result["kind"] == "equation"


@pytest.mark.parametrize("latex", [r"x+\infty=5", r"x=\infty", r"\infty=\infty", r"x+y=\infty \\ x-y=1",
                                   r"x+\infty>5"])
def test_infinity_is_not_a_number_to_solve_with(latex):
    result = typed(latex)
    assert result["kind"] == "none" and "∞ is not a number" in result["reason"]
    assert result["solutions"] == []


def test_infinity_still_bounds_integrals_limits_and_inequalities():
    assert typed(r"\int_{0}^{\infty} e^{-x} dx = y")["text"] == "y = 1"
    assert typed(r"\lim_{x \rightarrow \infty} \frac{1}{x}=y")["text"] == "y = 0"
    assert typed(r"x<\infty")["text"] == "x ∈ (-∞, ∞)"


def test_text_writes_natural_logarithms_as_ln_like_the_latex():
    # \log x is read as base 10, so the text "log(5)" would be read as log10(5) ≈ 0.70, not ln 5 ≈ 1.61
    result = typed("e^{x}=5")
    assert result["text"] == "x = ln(5)" and result["latex"] == r"x = \ln{\left(5 \right)}"
    assert result["solutions"][0]["x"]["decimal"] == "1.60943791243"
    assert "arcsin(3/10)" in typed(r"\sin x = 0.3")["text"]


@pytest.mark.parametrize("latex, degree", [
    ("x^{10^{10}}=1", "10000000000"),
    ("x^{10^{10}}>1", "10000000000"),
    (r"x^{10^{10}}+y=1 \\ x-y=0", "10000000000"),
    (r"\frac{1}{x^{10^{10}}}=1", "10000000000"),
    ("(x+1)^{10^{6}}-x^{10^{6}}=0", "up to 1000000"),  # terms may cancel: a bound, still far too high
])
def test_a_huge_written_degree_is_refused_before_sympy_builds_the_polynomial(latex, degree):
    from inkmath.equation.core.latex_parse import parse_latex

    # In the worker: SymPy's Poly would store every coefficient of x^(10^10) until its time limit stops it.
    result = answer(parse_latex(latex))
    assert result["kind"] == "none"
    assert f"degree {degree} is too high" in result["reason"]


def test_cancelling_terms_still_get_their_exact_degree():
    assert typed("(x+1)^{50}-x^{50}=0")["reason"] == \
        f"a polynomial of degree 49 is too high to solve exactly (limit {solve_limits.MAX_DEGREE})"
    assert typed("(x+1)^{3}-x^{3}=0")["kind"] == "equation"


def test_a_huge_power_of_a_sum_is_left_as_written_not_expanded():
    from inkmath.equation.core.latex_parse import parse_latex

    result = answer(parse_latex("(x+1)^{10^{10}}"), steps=True)  # the worker: its time limit would say "did not finish"
    assert result["kind"] == "expression" and result["text"] == "(x + 1)^10000000000"
    assert "left as written" in " ".join(result["notes"]) and "not expanded" in result["steps_reason"]


@pytest.mark.parametrize("latex, reason", [
    (r"\infty-\infty", "indeterminate form"),  # not "a division by zero"
    (r"0\cdot\infty", "indeterminate form"),
    (r"\frac{\infty}{\infty}", "indeterminate form"),
    (r"\ln 0", "ln 0"),
    (r"\sin \infty", "sin ∞"),  # not the answer "AccumBounds(-1, 1)"
    (r"\lim_{x \rightarrow 0} \frac{1}{x}", "the limit does not exist"),
    (r"\lim_{x \rightarrow \infty} \sin x", "the limit does not exist"),
    (r"\frac{1}{2-2}", "division by zero"),
])
def test_an_undefined_value_says_why(latex, reason):
    result = typed(latex)
    assert result["kind"] == "none" and reason in result["reason"]


@pytest.mark.parametrize("latex, text", [
    ("0x=5", "no solution"),  # not "false: the left side is 0, the right side 5"
    ("0x=0", "every value of x is a solution (an identity)"),  # not "true: both sides equal 0"
    ("x-x=1", "no solution"),
    ("3x-3x+1=1", "every value of x is a solution (an identity)"),
])
def test_an_unknown_that_cancels_as_written_is_still_solved_for(latex, text):
    from inkmath.equation.solve.typed import solve_latex

    for in_process in (True, False):  # the caller's process and the solver worker
        result = solve_latex(latex, steps=True, in_process=in_process)["answer"]
        assert result["kind"] == "equation" and result["text"] == text and result["variables"] == ["x"]
        assert result["steps"] and "the $x$ terms cancel" in result["steps"][-1]["reason"]
    assert typed("2=3")["text"] == "false: the left side is 2, the right side 3"


def test_a_factorial_stays_a_factorial_in_the_answer():
    assert typed("(2n)!")["text"] == "(2*n)!"  # not "gamma(2*n + 1)"
    assert typed("n!x+n!")["text"] == "(x + 1)*n!"  # not "(x + 1)*gamma(n + 1)"
    assert typed("x!")["text"] == "x!"  # not "factorial(x)"
    assert typed(r"\frac{(n+1)!}{n!}")["text"] == "n + 1"


def test_a_negative_factorial_is_named_as_written():
    assert typed("(-1)!")["reason"] == "the factorial of a negative number, (-1)!, is undefined"  # not "(-1!)"


@pytest.mark.parametrize("latex, text", [
    ("(-8)^{1/3}", "-2"),  # not 2*(-1)^(1/3) ≈ 1 + 1.73i, while \sqrt[3]{-8} is -2
    (r"(-8)^{\frac{2}{3}}", "4"),
    ("x=(-27)^{1/3}", "x = -3"),
    ("(-4)^{1/2}", "2*i ≈ 0 + 2i"),  # an even root of a negative number stays imaginary
])
def test_a_fractional_power_with_an_odd_denominator_is_the_real_root_like_the_root_sign(latex, text):
    assert typed(latex)["text"] == text
    assert typed(r"\sqrt[3]{-8}")["text"] == "-2"


@pytest.mark.parametrize("latex, text", [
    ("4^x=2", "x = 1/2"),  # not "x = log(2)/log(4)"
    ("8^x=4", "x = 2/3"),
    (r"e^{x}=10^{20}", "x = 20*ln(10)"),  # not "x = log(100000000000000000000)"
    ("2^x=5", "x = ln(5)/ln(2)"),  # nothing shorter
])
def test_exponential_equations_give_the_simplest_exact_form(latex, text):
    assert typed(latex)["text"] == text


@pytest.mark.parametrize("latex, text", [
    (r"\frac{x-2}{x-2}+x=3", "no solution"),  # not "x = 2": SymPy reads (x-2)/(x-2) as 1 while building it
    (r"\frac{x}{x}=1", "x ∈ (-∞, 0) ∪ (0, ∞)"),  # not "true: both sides equal 1"
    (r"\sqrt{x}\cdot\sqrt{x}=x", "x ∈ [0, ∞)"),  # not an identity for every x
    (r"\ln(x)-\ln(x)=0", "x ∈ (0, ∞)"),
    (r"\frac{x}{x}>0", "x ∈ (-∞, 0) ∪ (0, ∞)"),  # not "only inequalities in exactly one unknown can be solved"
    (r"\frac{x}{x}+x^2=5", "x = -2 or x = 2"),
])
def test_values_where_the_written_equation_is_undefined_are_excluded(latex, text):
    from inkmath.equation.solve.typed import solve_latex

    for in_process in (True, False):  # the caller's process and the solver worker
        assert solve_latex(latex, in_process=in_process)["answer"]["text"] == text


def test_a_system_solution_that_makes_a_written_denominator_zero_is_left_out():
    result = typed(r"\frac{x}{x}+y=2 \\ x+y=1")  # not "x = 0, y = 1": x/x is 1 once built
    assert result["text"] == "the system has no solution" and "zero denominator" in result["notes"][0]
    assert typed(r"\frac{1}{x}+y=2 \\ x-y=0")["text"] == "x = 1, y = 1"


def test_text_writes_the_exponential_as_a_power_of_e():
    assert typed(r"\int e^{x} dx")["text"] == "e^x + C"  # not "exp(x) + C"
    assert typed(r"\frac{d}{dx} e^{x^2}")["text"] == "2*x*e^(x^2)"


@pytest.mark.parametrize("latex, text", [
    ("2^{20000}", "3.98027684034e+6020"),  # not "SymPy could not handle this (ValueError: Exceeds the limit ...)"
    ("3000!", "4.14935960344e+9130"),
    ("x=3000!", "x = 4.14935960344e+9130"),
    (r"\frac{1}{2^{20000}}", "2.5123880577e-6021"),
])
def test_a_number_too_long_to_write_out_is_shown_as_a_decimal(latex, text):
    from inkmath.equation.core.latex_parse import parse_latex

    result = answer(parse_latex(latex), timeout=None, steps=True)
    assert result["text"] == text and solve_limits.LONG_NUMBER_NOTE in result["notes"]
    assert "digits is answered without steps" in result["steps_reason"]
    json.dumps(result)


def test_a_decimal_beyond_the_range_of_a_float_is_not_inf():
    assert typed(r"e^{10^{10}}")["text"] == "e^10000000000 ≈ 1.07775060796e+4342944819"  # not "≈ inf"


@pytest.mark.parametrize("latex, reason", [
    (r"(\sqrt{2})^{10^{9}}", "the number (sqrt(2))^1000000000 is too large to compute"),  # SymPy would build
    (r"(2\sqrt{2})^{10^{6}}", "the number (2*sqrt(2))^1000000 is too large to compute"),  # 2^(5·10^8) in the caller
    ("0.5^{10^{6}}", "the number (1/2)^1000000 is too large to compute"),  # not written 1/2^1000000
])
def test_a_huge_power_of_a_root_is_refused_while_reading(latex, reason):
    from inkmath.equation.core.latex_parse import parse_latex

    with pytest.raises(InkmathError, match=re.escape(reason)):
        to_sympy(parse_latex(latex))


def test_powers_of_one_and_minus_one_are_not_too_large():
    assert typed("1^{10^{9}}")["text"] == "1"  # not "the number 1^1000000000 is too large to compute"
    assert typed("(-1)^{10^{9}}")["text"] == "1"


@pytest.mark.parametrize("latex, text, holds", [
    ("3>2", "true: the left side is 3, the right side 2", True),  # not "only inequalities in exactly one unknown"
    (r"\sqrt{2} \leq 1.4", "false: the left side is sqrt(2), the right side 7/5", False),
    (r"\pi > 3", "true: the left side is π, the right side 3", True),
])
def test_an_inequality_between_numbers_is_checked(latex, text, holds):
    result = typed(latex)
    assert result["kind"] == "inequality" and result["text"] == text and result["holds"] is holds


def test_a_statement_about_a_long_number_is_checked_with_its_decimal():
    result = typed("3000!=1")  # not "SymPy could not handle this (ValueError: Exceeds the limit (4300 digits) ..."
    assert result["text"] == "false: the left side is 4.14935960344e+9130, the right side 1"
    assert result["holds"] is False and result["notes"] == [solve_limits.LONG_NUMBER_NOTE]


@pytest.mark.parametrize("latex, text", [
    (r"\sqrt[3]{x^2}=4", "x = -8 or x = 8"),  # not "no solution": SymPy's solveset misses both
    (r"\sqrt[3]{x^2}=-4", "no real solution"),
    (r"\sqrt[3]{x^2}=x", "x = 0 or x = 1"),
])
def test_odd_roots_of_powers_find_their_real_solutions(latex, text):
    assert typed(latex)["text"] == text


def test_an_integrand_with_an_absolute_value_finds_its_dx():
    # the closing | of |x| is no opening bracket: counted as one, it hid the dx ("needs its variable written as dx")
    assert typed(r"\int_{-1}^{1} |x| dx")["text"] == "1"
    assert typed(r"\int_{0}^{2} |x-1| dx")["text"] == "1"


def test_calculus_takes_the_letters_as_real_numbers():
    # not "Piecewise((0, Eq(x, 0)), ((re(x)*Derivative(re(x), x) + im(x)*Derivative(im(x), x))/Abs(x), True))"
    assert typed(r"\frac{d}{dx} |x|")["text"] == "sign(x)"
    assert typed(r"\frac{d}{dx} x^3")["text"] == "3*x^2"


@pytest.mark.parametrize("latex, text", [
    (r"\int \frac{1}{x} dx", "ln(|x|) + C"),  # not "ln(x) + C", which is no antiderivative for x < 0
    (r"\int \tan x dx", "-ln(|cos(x)|) + C"),
    (r"\int \ln x dx", "x*(ln(x) - 1) + C"),  # ln x needs x > 0 anyway: stays as SymPy gives it
    (r"\int \frac{2x}{x^2+1} dx", "ln(x^2 + 1) + C"),
])
def test_an_antiderivative_with_a_logarithm_takes_its_absolute_value_where_the_integrand_allows(latex, text):
    assert typed(latex)["text"] == text


def test_a_family_of_solutions_with_an_excluded_member_is_written_out():
    # not "x ∈ ImageSet(Lambda(_n, 2*_n*π), Integers) \ {0} ∪ ImageSet(Lambda(_n, 2*_n*π + π), Integers) \ {0}"
    result = typed(r"\frac{\sin x}{x}=0")
    assert result["text"] == "x = 2*π*k or x = 2*π*k + π, k any integer, except x = 0"
    assert result["latex"].endswith(r"k \in \mathbb{Z}, \quad x \neq 0")
    assert result["notes"] == ["x = 0 is in the families above but no solution (the equation is undefined or "
                               "false there)"]


def test_text_writes_greek_letters_as_the_latex_shows_them():
    text = typed(r"\sin\theta=\frac{1}{2}")["text"]
    assert text == "θ = 2*π*k + π/6 or θ = 2*π*k + 5*π/6, k any integer"  # not "theta = ..."
    result = typed(r"\lambda x = 2")
    assert result["text"] == "x = 2/λ" and result["notes"] == ["solved for x; λ treated as given"]
    assert result["variables"] == ["x"] and typed(r"\alpha^2=4")["variables"] == ["alpha"]  # names stay as they were


def test_every_greek_letter_the_reader_knows_is_written_as_the_letter():
    from inkmath.equation.solve.lexemes import _GREEK as READ_GREEK
    from inkmath.equation.solve.text import text_of

    for name in sorted(READ_GREEK):
        shown = text_of(sp.Symbol(name))
        assert len(shown) == 1 and not shown.isascii(), (name, shown)  # Π, not "Pi"
    assert text_of(sp.Symbol("Pi")) == "Π" and text_of(sp.Symbol("Upsilon")) == "Υ"
    capitals = "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()  # LaTeX's capital letters
    assert "".join(text_of(sp.Symbol(c)) for c in capitals) == "ΓΔΘΛΞΠΣΥΦΨΩ"
    result = typed(r"\Pi x = 2")
    assert result["text"] == "x = 2/Π" and result["notes"] == ["solved for x; Π treated as given"]


def test_step_reasons_and_messages_write_a_greek_unknown_as_the_letter():
    from inkmath.equation.solve.typed import solve_latex

    cancelled = solve_latex(r"\theta+1=\theta+2", steps=True)["answer"]
    assert cancelled["steps"][-1]["reason"].startswith(r"the $\theta$ terms cancel"), cancelled["steps"]
    system = solve_latex(r"\alpha+\beta=3 \\ \alpha-\beta=1", steps=True)["answer"]
    assert any(r"$\alpha" in s["reason"] or r"$\beta" in s["reason"] for s in system["steps"]), system["steps"]
    assert not any("$alpha" in s["reason"] or "$beta" in s["reason"] for s in system["steps"]), system["steps"]
    cubic = solve_latex(r"\theta^3+\theta=1", steps=True)["answer"]
    assert "$theta$" not in cubic["steps_reason"], cubic["steps_reason"]


def test_a_function_written_f_of_x_is_defined_not_solved_for_x():
    """`f(x) = 2x + 1` gives f: its body simplified (it was read f * x = 2x + 1 and solved, x = 1/(f - 2))."""
    from inkmath.equation.solve.typed import solve_latex

    a = solve_latex("f(x)=2x+1")["answer"]
    assert a["kind"] == "function" and a["text"] == "f(x) = 2*x + 1", a
    assert a["latex"] == r"f\left(x\right) = 2 x + 1"
    g = solve_latex(r"g(t)=\frac{2t}{4}", steps=True)["answer"]
    assert g["kind"] == "function" and g["text"] == "g(t) = t/2" and g["steps"], g
    # not a definition: a number in the brackets, the function's own letter in the body, the same letter twice
    for latex in ("f(2)=5", "f(x)=f(x)+1", "x(x)=2"):
        assert solve_latex(latex)["answer"]["kind"] == "equation", latex
    # one problem, answered all in the solver worker (`inkmath solve LATEX`, the resident solver): the same reading
    one = solve_latex("f(x)=2x+1", in_process=False)["answer"]
    assert one["kind"] == "function" and one["text"] == "f(x) = 2*x + 1", one


@pytest.mark.parametrize("latex, text", [
    (r"50\% \cdot 20", "10"),  # 50 % of 20
    (r"20 \cdot 15\%", "3"),
    (r"15\%", "3/20 ≈ 0.15"),
    (r"12.5\% \cdot 80", "10"),
    (r"(1+2)\%", "3/100 ≈ 0.03"),
    (r"x \cdot 20\% = 5", "x = 25"),
    (r"x + 10\% x = 33", "x = 30"),
    (r"\frac{50\%}{2}", "1/4 ≈ 0.25"),
    ("50%", "1/2 ≈ 0.5"),  # typed without the backslash
])
def test_a_percent_is_a_hundredth(latex, text):
    result = typed(latex)
    assert result["text"] == text and result["notes"] == [], result


def test_a_percent_added_to_a_number_says_how_it_is_read():
    result = typed(r"200 + 10\%")  # a till would give 220; read as written: 200 + 10/100
    assert result["text"] == "2001/10 ≈ 200.1"
    assert result["notes"] == ["+ 10% is read as + 10/100 (a per cent is a hundredth); to add 10% of a number a, "
                               "write a · 110%"]
    assert typed(r"80 - 2.5\%")["notes"] == ["- 2.5% is read as - 2.5/100 (a per cent is a hundredth); to take away "
                                            "2.5% of a number a, write a · 97.5%"]
    assert typed(r"x = -10\%")["notes"] == []  # a negative percentage, not one taken from something


@pytest.mark.parametrize("latex, text, mixed", [
    (r"2\frac{1}{2}+1\frac{1}{3}", "23/6 ≈ 3.83333333333", 2),  # 2 1/2 + 1 1/3, as school arithmetic reads it
    (r"-3\frac{3}{4}", "-15/4 ≈ -3.75", 1),
    (r"x = 1\frac{1}{2}", "x = 3/2", 1),
    (r"\frac{2\frac{1}{2}}{5}", "1/2 ≈ 0.5", 1),  # inside a fraction too
    (r"2 \cdot \frac{1}{2}", "1", 0),  # a product is written with a sign
    (r"2\frac{3}{2}", "3", 0),  # not a proper fraction: a product
    (r"2\frac{x}{3}", "2*x/3", 0),  # letters: a product
    (r"2\frac{1}{2}^{2}", "1/2 ≈ 0.5", 0),  # the power belongs to the fraction: 2 · (1/2)^2
    (r"2.5\frac{1}{2}", "5/4 ≈ 1.25", 0),  # not a whole number
])
def test_a_whole_number_before_a_proper_fraction_is_a_mixed_number(latex, text, mixed):
    result = typed(latex)
    assert result["text"] == text, result
    assert sum("is read as the mixed number" in n for n in result["notes"]) == mixed, result["notes"]


@pytest.mark.parametrize("latex, text", [
    (r"\ln e", "1"), (r"\ln(e)", "1"), (r"\ln e^{3}", "3"), (r"\log_{e} e", "1"), (r"\log_{e} x", "ln(x)"),
    (r"2e", "2*e"),  # elsewhere a bare e is a variable
    (r"e^{x} = e", "x = 1"),  # a problem that writes e^{...} means Euler's number by every e
])
def test_e_is_eulers_number_as_the_natural_logarithms_base_or_argument(latex, text):
    assert typed(latex)["text"] == text


@pytest.mark.parametrize("latex, text, noted", [
    (r"\sin 30^{\circ}", "1/2 ≈ 0.5", False), (r"\cos 60^\circ", "1/2 ≈ 0.5", False),
    (r"\tan(45^{\circ})", "1", False),
    (r"2x = 90^{\circ}", "x = π/4", False),  # answers are in radians
    (r"\sin 30", "sin(30) ≈ -0.988031624093", False),  # without the sign an angle is in radians
    (r"\sin 30^{o}", "1/2 ≈ 0.5", True),  # as typed
    (r"\sin 30^{0}", "1/2 ≈ 0.5", True),  # as the reader writes a drawn degree sign
    (r"\frac{\cos(60^{0})}{2}", "1/4 ≈ 0.25", True),
    (r"2^{0}", "1", False),  # outside a sine, cosine or tangent a raised 0 is a power
    (r"\sin x^{0}", "sin(1) ≈ 0.841470984808", False),  # after a letter too
    (r"x^{o}", "x^o", False),
])
def test_a_lone_degree_sign_as_a_superscript_is_degrees_of_angle(latex, text, noted):
    result = typed(latex)
    assert result["text"] == text
    assert (DEGREE_NOTE in result["notes"]) == noted, result["notes"]


def test_the_mixed_number_note_says_how_to_write_a_product():
    assert typed(r"3\frac{1}{4}")["notes"] == ["3 1/4 is read as the mixed number 3 + 1/4 = 13/4; for 3 times 1/4, "
                                               "write 3 · 1/4"]


@pytest.mark.parametrize("latex", [r"\% 5", r"2 + \%", r"x = \%"])
def test_a_percent_sign_without_a_number_is_a_clear_error(latex):
    result = typed(latex)
    assert result["kind"] == "none" and "'\\%' needs a number before it, as in 15\\%" in result["reason"], result


@pytest.mark.parametrize("latex, text", [
    (r"\binom{5}{2}", "10"),
    (r"\binom{5}{2}+\binom{5}{3}", "20"),
    (r"\binom{10}{0}", "1"),
    (r"\binom{5}{7}", "0"),  # no way to choose 7 of 5
    (r"\frac{1}{\binom{4}{2}}", "1/6 ≈ 0.166666666667"),
    (r"\binom{n}{k}", "binomial(n, k)"),  # letters: SymPy's binomial
    (r"\binom{x}{2}=10", "x = -4 or x = 5"),  # x(x - 1)/2 = 10, exactly (it was a numeric search)
])
def test_a_binomial_coefficient(latex, text):
    result = typed(latex)
    assert result["text"] == text, result
    if latex == r"\binom{n}{k}":
        assert result["value"]["sympy"] == "binomial(Symbol('n'), Symbol('k'))"
        assert result["latex"] == r"{\binom{n}{k}}"


def test_a_huge_binomial_coefficient_is_refused_before_it_is_computed():
    result = typed(r"\binom{10^{9}}{5 \cdot 10^{8}}")
    assert result["kind"] == "none"
    assert result["reason"] == "the binomial coefficient (1000000000 choose 500000000) is too large to compute"
    assert typed(r"\binom{10^{9}}{2}")["text"] == "499999999500000000"  # big n, small k: a small number
