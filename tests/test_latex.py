"""Tree -> CROHME tokens, LaTeX and MathML, on hand-built trees."""

from __future__ import annotations

import pytest

from inkmath import InkmathError
from inkmath.equation.core.latex import join_tokens, to_latex, to_mathml, tokens
from inkmath.equation.core.tree import BigOp, Binom, Frac, Lines, Row, Sqrt, Sub, SubSup, Sup, Symbol


def row(text: str, *extra) -> Row:
    """A Row from space-separated tokens, plus any extra nodes after them."""
    return Row([Symbol(t) for t in text.split()] + list(extra))


def test_fraction_tokens_and_latex():
    frac = Frac(row("1"), row("2"))
    assert tokens(frac) == ["\\frac", "{", "1", "}", "{", "2", "}"]
    assert to_latex(frac) == "\\frac{1}{2}"


def test_nested_fractions():
    tree = Frac(Frac(row("1"), row("x + 1")), Row([Symbol("2"), Frac(row("a"), row("b"))]))
    assert to_latex(tree) == "\\frac{\\frac{1}{x+1}}{2\\frac{a}{b}}"
    assert " ".join(tokens(tree)) == "\\frac { \\frac { 1 } { x + 1 } } { 2 \\frac { a } { b } }"


def test_roots_with_and_without_index():
    assert to_latex(Sqrt(row("x"), row("3"))) == "\\sqrt[3]{x}"
    assert " ".join(tokens(Sqrt(row("x"), row("3")))) == "\\sqrt [ 3 ] { x }"
    assert to_latex(Sqrt(row("4 8"))) == "\\sqrt{48}"
    assert to_latex(Sqrt(row("2"), Row([]))) == "\\sqrt{2}"  # an empty index is no index


def test_big_operators_with_limits():
    tree = Row([BigOp("\\sum", row("i = 1"), row("n")), Sup(Symbol("i"), row("2"))])
    assert to_latex(tree) == "\\sum_{i=1}^{n}i^{2}"
    assert " ".join(tokens(tree)) == "\\sum _ { i = 1 } ^ { n } i ^ { 2 }"
    lim = Row([BigOp("\\lim", row("x \\rightarrow 0")), Frac(row("\\sin x"), row("x"))])
    assert to_latex(lim) == "\\lim_{x\\rightarrow 0}\\frac{\\sin x}{x}"
    integral = Row([BigOp("\\int", row("0"), row("1")), Symbol("x"), Symbol("d"), Symbol("x")])
    assert to_latex(integral) == "\\int_{0}^{1}xdx"
    assert to_latex(Row([BigOp("\\int"), Symbol("f")])) == "\\int f"


def test_scripts_and_functions():
    assert to_latex(Row([Sup(Symbol("x"), row("2")), Symbol("-"), Symbol("5"), Symbol("x")])) == "x^{2}-5x"
    assert to_latex(SubSup(Symbol("x"), row("1"), row("2"))) == "x_{1}^{2}"
    assert to_latex(Row([Sub(Symbol("\\log"), row("2")), Symbol("8")])) == "\\log_{2}8"
    assert to_latex(Row([Sup(Symbol("\\sin"), row("2")), Symbol("\\theta")])) == "\\sin^{2}\\theta"
    assert to_latex(row("\\sin x \\times 3")) == "\\sin x\\times 3"  # a space only where LaTeX needs or reads it
    # The CROHME caption 18_em_7 round-trips token for token.
    assert " ".join(tokens(Row([Sup(Symbol("\\sin"), row("2")), Symbol("\\theta")]))) == "\\sin ^ { 2 } \\theta"


def test_script_bases_are_braced_when_needed():
    assert to_latex(Sup(row("x + 1"), row("2"))) == "{x+1}^{2}"
    assert to_latex(Sup(row("( x + 1 )"), row("2"))) == "(x+1)^{2}"  # one bracketed group needs no braces
    assert to_latex(Sup(row("( a ) ( b )"), row("2"))) == "{(a)(b)}^{2}"
    assert to_latex(Sup(Sup(Symbol("x"), row("2")), row("3"))) == "{x^{2}}^{3}"  # no double superscript
    assert to_latex(Sup(Row([Symbol("x")]), row("2"))) == "x^{2}"


def test_crohme_caption_round_trip():
    # 18_em_23 from the CROHME 2014 WAP captions.
    tree = Row([Frac(row("1 8 \\div 6"), row("2 4 \\div 6")), Symbol("="), Frac(row("3"), row("4"))])
    caption = "\\frac { 1 8 \\div 6 } { 2 4 \\div 6 } = \\frac { 3 } { 4 }"
    assert " ".join(tokens(tree)) == caption


def test_lines_and_escapes():
    system = Lines([row("x + y = 3"), row("x - y = 1")])
    assert to_latex(system) == "x+y=3 \\\\ x-y=1"
    assert tokens(system) == ["x", "+", "y", "=", "3", "\\\\", "x", "-", "y", "=", "1"]
    assert to_latex(row("{ x }")) == "\\{x\\}"  # a bare brace token would vanish in LaTeX
    assert join_tokens(["\\alpha", "2"]) == "\\alpha 2"


def test_bad_nodes_raise():
    with pytest.raises(InkmathError, match="cannot write"):
        tokens(Row(["x"]))  # type: ignore[list-item]
    with pytest.raises(InkmathError, match="non-empty token"):
        to_latex(Symbol(""))


def test_mathml_block_output():
    mathml = to_mathml(Frac(row("1"), row("2")))
    assert mathml.startswith("<math") and 'display="block"' in mathml
    assert "<mfrac>" in mathml and "<mn>1</mn>" in mathml
    assert "<mroot>" in to_mathml(Sqrt(row("x"), row("3")))
    table = to_mathml(Lines([row("x + y = 3"), row("x - y = 1")]))
    assert table.count("<mtr>") == 2


def test_mathml_fallback_on_broken_latex():
    mathml = to_mathml("x^")
    assert "<merror>" in mathml and "x^" in mathml and 'display="block"' in mathml
    assert "<mtext>a&lt;b^</mtext>" in to_mathml("a<b^")  # the LaTeX is shown escaped, not injected
    with pytest.raises(InkmathError, match="cannot convert"):
        to_mathml("x^", fallback=False)
    with pytest.raises(InkmathError, match="tree node or a LaTeX string"):
        to_mathml(42)  # type: ignore[arg-type]


def test_binomial_tokens_latex_and_mathml():
    tree = Row([Binom(row("n + 1"), row("k")), Symbol("+"), Symbol("1")])
    assert tokens(tree) == ["\\binom", "{", "n", "+", "1", "}", "{", "k", "}", "+", "1"]
    assert to_latex(tree) == "\\binom{n+1}{k}+1"
    mathml = to_mathml(tree)
    assert "<mfrac linethickness=\"0\">" in mathml and "merror" not in mathml  # n+1 over k, no bar, in brackets
