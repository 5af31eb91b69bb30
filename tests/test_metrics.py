"""LaTeX normalisation for CROHME comparisons, edit distance, ExpRate and within-k."""

import os
from pathlib import Path

import pytest

from inkmath.equation.core.metrics import (canonical_symbol, edit_distance, exprate, normalize_latex, same_expression,
                                      token_distance, tokenize, within_k)

REAL = Path(os.environ.get("INKMATH_DATA", "data")) / "crohme"


def test_tokenize():
    assert tokenize(r"$\frac{a}{b}+\alpha_1\,x$") == ["$", "\\frac", "{", "a", "}", "{", "b", "}", "+", "\\alpha",
                                                     "_", "1", "\\,", "x", "$"]
    assert tokenize(r"\{ x \} 12") == ["\\{", "x", "\\}", "1", "2"]


@pytest.mark.parametrize("a,b", [
    ("x^2", "x^{2}"),                                        # braces around a one-token script
    ("x_i^2", "x^{2}_{i}"),                                  # sub/sup order
    ("x^{2}_{i}", "x _ { i } ^ { 2 }"),
    (r"\left( a+b \right)", "(a+b)"),                        # \left \right
    (r"\left. \frac{d}{dx} \right|", r"\frac{d}{dx}|"),     # invisible delimiter
    (r"\sum\limits_{i=1}^n i", r"\sum_{i=1}^{n} i"),         # \limits
    (r"k_\mathrm{e}", "k_{e}"),                              # \mathrm
    (r"a \lt b \gt c", "a < b > c"),                         # \lt / <
    (r"a\le b\ge c\ne d", r"a \leq b \geq c \neq d"),
    (r"x \to 0", r"x \rightarrow 0"),
    (r"299\ 792\;458\,\!", "299792458"),                     # spacing commands
    ("{(a - 2x)(a + 2x)}", "(a-2x)(a+2x)"),                  # redundant braces
    (r"\frac12", r"\frac{1}{2}"),
    (r"\frac {a} {b}", r"\dfrac{a}{b}"),
    (r"\sqrt x", r"\sqrt{x}"),
    (r"\sqrt[3]{x}", r"\sqrt[3]x"),
    ("f'(x)", r"f^{\prime}(x)"),                             # prime
    (r"y \prime", r"y^{\prime}"),
    ("x_{}^{2}", "x^2"),                                     # empty script
    ("$x$", "x"),
    (r"u_n\gtM", "u_n > M"),                                 # CROHME truth glues \lt / \gt to the next letter
    (r"R_g\ltq^{-1}\ltl_0", "R_g < q^{-1} < l_0"),
])
def test_same_expression_despite_style(a, b):
    assert normalize_latex(a) == normalize_latex(b), (normalize_latex(a), normalize_latex(b))


def test_normalisation_is_idempotent():
    for text in [r"\sum\limits_{i=1}^n x_i'", r"f''(x)", r"{a}^{b}_{c}", r"\sqrt[n]{\frac{a}{b}}", r"x^{y^{z}}",
                 r"\left\{ a \right.", r"\mathrm{d} x"]:
        once = normalize_latex(text)
        assert normalize_latex(once) == once, text


def test_glued_relations_split_but_real_commands_stay():
    assert tokenize(r"M\ltN") == ["M", "\\lt", "N"]
    assert tokenize(r"P\gtpq") == ["P", "\\gt", "p", "q"]
    assert tokenize(r"a \ltimes b \gtrsim c \lt d") == ["a", "\\ltimes", "b", "\\gtrsim", "c", "\\lt", "d"]


@pytest.mark.parametrize("a,b", [("x^2", "x_2"), ("x^{2}y", "x^{2y}"), (r"\sqrt[3]{x}", r"\sqrt{3x}"),
                                 (r"\frac{a}{b}", r"\frac{b}{a}"), ("(a+b)", "[a+b]"), ("ab", "ba")])
def test_different_expressions_stay_different(a, b):
    assert not same_expression(a, b)


def test_canonical_form_is_the_wap_caption_style():
    assert normalize_latex(r"\int^{\pi}_{0}\left(\sin(t)-t\right)dt") == (
        r"\int _ { 0 } ^ { \pi } ( \sin ( t ) - t ) d t".split())
    # already tokenised captions pass through unchanged
    cap = r"\frac { 1 } { \sqrt [ 3 ] { x } } + x _ { i } ^ { 2 }".split()
    assert normalize_latex(cap) == cap


def test_unbalanced_input_does_not_crash():
    assert normalize_latex("x^{2") == ["x", "^", "{", "2", "}"]
    assert normalize_latex("a}b") == ["a", "b"]
    assert normalize_latex("^2") == ["^", "{", "2", "}"]
    assert normalize_latex("") == []
    assert normalize_latex(r"\frac{a}") == ["\\frac", "{", "a", "}", "{", "}"]
    assert normalize_latex(r"\sqrt[3") == ["\\sqrt", "[", "3", "]", "{", "}"]
    assert normalize_latex("x^") == ["x"]


def test_edit_distance():
    assert edit_distance([], []) == 0
    assert edit_distance(list("abc"), list("abc")) == 0
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], list("abc")) == 3
    assert token_distance("x^2+1", "x^{2}-1") == 1


def test_exprate_and_within_k():
    truths = ["x^2", r"\frac{a}{b}", "a+b", "a+b+c"]
    preds = ["x^{2}", r"\frac{a}{c}", "a+b+c", ""]
    assert exprate(preds, truths) == 0.25
    assert within_k(preds, truths, 0) == 0.25
    assert within_k(preds, truths, 1) == 0.5
    assert within_k(preds, truths, 2) == 0.75
    assert exprate([], []) == 0.0
    with pytest.raises(ValueError):
        exprate(["x"], [])


def test_canonical_symbol():
    assert canonical_symbol("\\lt") == "<" == canonical_symbol("<")
    assert canonical_symbol("\\ge") == "\\geq"
    assert canonical_symbol(" x ") == "x"


@pytest.mark.slow
def test_inkml_truth_agrees_with_wap_captions_on_the_2014_test():
    """The README says ~98 %; the rest are truth quirks (\\Pi for \\pi, ABOVE for root indices)."""
    from inkmath.data.crohme import iter_inkml, iter_wap

    inkml, wap = REAL / "crohme2014_test_inkml.tar.xz", REAL / "crohme2014_test_offline_wap.tar.xz"
    if not (inkml.is_file() and wap.is_file()):
        pytest.skip("CROHME 2014 test archives not available")
    truth = {e.id: e.latex_truth for e in iter_inkml(inkml)}
    caps = {s.id: s.tokens for s in iter_wap(wap)}
    assert set(caps) == set(truth) and len(caps) == 986
    agree = sum(normalize_latex(truth[k]) == normalize_latex(caps[k]) for k in caps) / len(caps)
    assert agree >= 0.98
    assert all(normalize_latex(normalize_latex(t)) == normalize_latex(t) for t in truth.values())
