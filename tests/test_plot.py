"""Graphs of answers: SVG from matplotlib, solutions marked, a window chosen from them, and no crash on poles,
overflow or things that cannot be drawn."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from inkmath.equation.solve import answer as solver
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.solve.plot import NoPlot, numeric, plot_svg
from inkmath.equation.solve.answer import answer
from inkmath.equation.solve.tosympy import to_sympy_lines


def svg_of(latex: str) -> str:
    items = to_sympy_lines(parse_latex(latex))
    return plot_svg(items, solver.solve_items(items))


def tick_labels(svg: str) -> list[str]:
    return re.findall(r">(−?\d+(?:\.\d+)?)</text>", svg)


def test_equation_in_one_unknown_marks_its_solutions():
    svg = svg_of("x^2-x-2=0")
    assert svg.startswith("<?xml") and "<svg" in svg
    assert svg.count('xlink:href="#m') >= 2  # marker uses: the solutions x = -1 and x = 2 (and the ticks)
    assert "−1" in tick_labels(svg) and "2" in tick_labels(svg)  # the window holds both solutions


def test_window_follows_the_solutions():
    far = tick_labels(svg_of("x-100=0"))
    assert any(abs(float(t.replace("−", "-")) - 100) < 5 for t in far)


def test_system_draws_two_lines_and_their_intersection():
    svg = svg_of(r"x+y=5 \\ x-y=1")
    assert svg.count("stroke-width: 1.6") >= 2 and "(3, 2)" in svg.replace("$", "")


def test_expression_curve_with_a_pole():
    svg = svg_of(r"\frac{1}{x}")
    assert "<svg" in svg


def test_nothing_to_draw_gives_a_reason():
    with pytest.raises(NoPlot, match="no variable"):
        svg_of("2+3")
    result = answer(parse_latex("2+3"), plot=True)
    assert result["plot"] is None and "no variable" in result["plot_reason"]


def test_answer_carries_the_svg():
    result = answer(parse_latex("2x+1=9"), plot=True, steps=True)
    assert result["text"] == "x = 4" and result["plot"].lstrip().startswith("<?xml")
    assert result["plot_reason"] == "" and result["steps"][-1]["latex"] == "x = 4"


def test_numeric_evaluation_without_code_generation():
    x = sp.Symbol("x")
    xs = np.array([-1.0, 0.0, 4.0])
    assert np.allclose(numeric(sp.sqrt(x), {x: xs})[2], 2.0) and np.isnan(numeric(sp.sqrt(x), {x: xs})[0])
    assert np.allclose(numeric(sp.cbrt(x) if False else x ** sp.Rational(1, 3), {x: np.array([-8.0])}), -2.0)
    assert np.allclose(numeric(sp.sin(x) + 2 * x, {x: np.array([0.0])}), 0.0)
    with pytest.raises(NoPlot):
        numeric(sp.gamma(x), {x: xs})


def test_hostile_power_tower_draws_or_explains():
    result = answer(parse_latex("x^{x^{x^{x}}}"), plot=True)
    assert result["plot"] is not None or result["plot_reason"]


def test_solutions_too_far_out_are_not_drawn():
    result = answer(parse_latex("x+10^{20}=2"), plot=True)
    assert result["plot"] is None and "too far out" in result["plot_reason"]


def test_axes_name_a_greek_unknown_by_its_letter():
    svg = svg_of(r"\theta^2-1=0")
    assert "θ" in svg and ">theta<" not in svg


@pytest.mark.parametrize("latex, expected", [
    ("x^{2/3}", [4.0, 1.0, 0.0, 1.0, 4.0]),  # (∛x)^2: even and never negative (it was drawn -4, -1 for x < 0)
    (r"x^{\frac{2}{3}}", [4.0, 1.0, 0.0, 1.0, 4.0]),
    (r"\sqrt[3]{x^2}", [4.0, 1.0, 0.0, 1.0, 4.0]),
    ("x^{1/3}", [-2.0, -1.0, 0.0, 1.0, 2.0]),  # the real cube root: negative for x < 0
    ("x^{4/3}", [16.0, 1.0, 0.0, 1.0, 16.0]),
    ("x^{-2/3}", [0.25, 1.0, np.inf, 1.0, 0.25]),
    ("x^{5/3}", [-32.0, -1.0, 0.0, 1.0, 32.0]),
    ("x^{1/2}", [np.nan, np.nan, 0.0, 1.0, np.sqrt(8.0)]),  # an even root: no real value for x < 0, not drawn
    ("x^{3/2}", [np.nan, np.nan, 0.0, 1.0, 8.0 ** 1.5]),
])
def test_fractional_powers_are_drawn_as_the_real_function_the_solver_reads(latex, expected):
    (expr,) = to_sympy_lines(parse_latex(latex))
    xs = np.array([-8.0, -1.0, 0.0, 1.0, 8.0])
    ys = numeric(expr, {sp.Symbol("x"): xs})
    assert np.allclose(ys, expected, equal_nan=True), (expr, ys)
