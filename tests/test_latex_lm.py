import math

import pytest

from inkmath import InkmathError
from inkmath.equation.reader.latex_lm import BOS, load_latex_lm, perplexity, save
from inkmath.training.recipes.latex_lm import train_kn

TOY = [s.split() for s in ["x + 1 = 2", "x ^ { 2 } + 1", "y = x + 1", "\\frac { a } { b }", "x ^ { 2 } = 4"]]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kneser_ney_is_normalised(order):
    lm = train_kn(TOY, order)
    for ctx in ([], ["x"], ["x", "^"], ["never", "seen"], ["=", "x", "+"]):
        c = tuple([lm.ids[BOS]] * (order - 1) + [lm.ids.get(t, lm._unk) for t in ctx])[len(ctx):] if order > 1 else ()
        total = sum(math.exp(lm._word(c, w)) for w in range(len(lm.vocab)) if lm.vocab[w] != BOS)
        assert total == pytest.approx(1.0, abs=1e-9)


def test_seen_patterns_score_higher_and_roundtrip(tmp_path):
    lm = train_kn(TOY, 3)
    assert lm.logprob("x ^ { 2 } + 1".split()) > lm.logprob("x ^ { 2 + } 1".split())
    assert lm.logprob("x + 1".split()) > lm.logprob("x + 1 {".split())
    assert math.isfinite(lm.logprob(["\\unknowncommand"]))
    path = tmp_path / "lm.safetensors"
    save(lm, path, {"format": "inkmath-weights/1", "name": "toy"})
    back = load_latex_lm(str(path))
    for s in TOY + [["z", "="]]:
        assert back.logprob(s) == pytest.approx(lm.logprob(s), abs=1e-5)
    assert perplexity(back, TOY) == pytest.approx(perplexity(lm, TOY), rel=1e-5)


def test_missing_model_names_its_recipe(tmp_path):
    with pytest.raises(InkmathError, match="recipes.latex_lm"):
        load_latex_lm(str(tmp_path / "none.safetensors"))


def test_shipped_model_prefers_wellformed_latex():
    lm = load_latex_lm()
    assert lm.logprob("\\frac { 1 } { 2 }".split()) > lm.logprob("\\frac { 1 } 2 }".split())
    assert lm.logprob("x ^ { 2 }".split()) > lm.logprob("x ^ { \\times }".split())


def test_one_inputs_model_keeps_the_prefixes_and_gives_the_same_sums():
    from inkmath.equation.reader.latex_lm import load_latex_lm

    lm = load_latex_lm()
    one = lm.for_one_input()
    readings = ["x ^ { 2 } + 1".split(), "x ^ { 2 } - 1".split(), "x ^ { z } + 1".split(), "x ^ { 2 } + 1".split(),
                "x".split(), []]
    for tokens in readings:
        assert one.logprob(tokens) == lm.logprob(tokens)  # the same float, not only close
        assert one.logprob(tokens, end=False) == lm.logprob(tokens, end=False)
    assert one.prefixes and lm.for_one_input().prefixes == {}  # kept for one input only


def test_mixed_case_is_counted_on_the_training_text_and_kept_in_the_file(tmp_path):
    text = [s.split() for s in ["x + X = 1", "x + 1", "x ^ { 2 }", "X = 2", "P = p + 1", "y + 1"]]
    lm = train_kn(text, 2)
    # x or X in 4 sentences, both in 1: log((1 + 1/2) / (4 + 1)); p and P in the one that writes p; y has no capital
    assert lm.mixed_case["x"] == pytest.approx(math.log(1.5 / 5))
    assert lm.mixed_case["p"] == pytest.approx(math.log(1.5 / 2))
    assert set(lm.mixed_case) == {"x", "p"}
    assert lm.mixed_case_logprob("x + X".split()) == pytest.approx(math.log(1.5 / 5))
    assert lm.mixed_case_logprob("x + x".split()) == 0.0
    assert lm.mixed_case_logprob("x + X = p + P".split()) == pytest.approx(math.log(1.5 / 5) + math.log(1.5 / 2))
    assert lm.mixed_case_logprob("x + X".split(), letters=("p",)) == 0.0  # only the letters asked for
    path = tmp_path / "lm.safetensors"
    save(lm, path, {"format": "inkmath-weights/1", "name": "toy"})
    assert load_latex_lm(str(path)).mixed_case == pytest.approx(lm.mixed_case)
    assert lm.for_one_input().mixed_case_logprob("X x".split()) == lm.mixed_case_logprob("X x".split())


def test_unmatched_brackets_are_counted_and_join_the_long_range_term(tmp_path):
    from inkmath.equation.reader.latex_lm import brackets_match

    assert brackets_match("( [ x ] ) \\{ 1 \\}".split()) and brackets_match("| x |".split())
    assert not brackets_match("( x ]".split()) and not brackets_match("( ( x )".split())
    assert not brackets_match(") x (".split()) and not brackets_match("| x | + | y".split())
    text = [s.split() for s in ["( x + X )", "[ 0 , 1 [", "x"]]
    lm = train_kn(text, 2)
    assert lm.unmatched == pytest.approx(math.log(1.5 / 4))  # one of three, (1 + 1/2) / (3 + 1)
    both = lm.mixed_case["x"] + lm.unmatched
    assert lm.long_range_logprob("( x + X".split()) == pytest.approx(both)
    assert lm.long_range_logprob("( x )".split()) == 0.0
    path = tmp_path / "lm.safetensors"
    save(lm, path, {"format": "inkmath-weights/1", "name": "toy"})
    back = load_latex_lm(str(path))
    assert back.unmatched == pytest.approx(lm.unmatched)
    assert back.for_one_input().long_range_logprob("( x + X".split()) == pytest.approx(both)


def test_shipped_model_finds_a_letter_in_both_cases_unlikely():
    lm = load_latex_lm()
    assert all(v < math.log(0.1) for v in lm.mixed_case.values())
    assert lm.mixed_case_logprob("P ( x ) = p ( X )".split()) < 2 * math.log(0.1)
    assert lm.unmatched < math.log(0.001)  # every training caption's brackets match
