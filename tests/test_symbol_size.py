"""Look-alikes told apart by size and place: a pair's reading moved by the symbol's size and place among the small
letters (x / X, p / P, 1 / |, 1 / (), in drawn ink and in images."""

from pathlib import Path

import pytest

from inkmath.equation.reader import symbol_size as size
from inkmath.equation.core.tree import Box, Candidate, SymbolHyp


def _line(letter_box: Box, readings: list[tuple[str, float]], others: str = "ae") -> tuple[list, list, list]:
    """x-height letters ``others`` 10 high on the line y 20-30, then the letter to correct."""
    hyps = [SymbolHyp(Box(12.0 * k, 20.0, 12.0 * k + 9, 30.0), [Candidate(t, 0.99)], []) for k, t in enumerate(others)]
    hyps.append(SymbolHyp(letter_box, [Candidate(t, p) for t, p in readings], []))
    tokens = [h.candidates[0].token for h in hyps]
    return hyps, tokens, [list(h.candidates) for h in hyps]


@pytest.mark.parametrize("box, expected", [
    (Box(40, 8, 56, 30), "X"),   # 22 high against the small letters' 10: a capital
    (Box(40, 20, 49, 30), "x"),  # as high as the small letters
])
def test_a_letter_twice_the_small_letters_height_reads_as_the_capital(box, expected):
    hyps, tokens, cands = _line(box, [("x", 0.6), ("X", 0.35), ("\\times", 0.05)])
    got_tokens, got = size.correct(hyps, tokens, cands, [True] * len(hyps))
    assert got_tokens[-1] == expected
    assert got[-1][0].token == expected
    # the pair keeps its share; the other reading keeps its own
    probs = {c.token: c.prob for c in got[-1]}
    assert probs["x"] + probs["X"] == pytest.approx(0.95)
    assert probs["\\times"] == pytest.approx(0.05)
    assert got_tokens[:-1] == tokens[:-1] and cands[-1][0].token == "x"  # the inputs unchanged


@pytest.mark.parametrize("box, expected", [
    (Box(40, 8, 50, 30), "P"),   # stands on the baseline, reaching above the small letters
    (Box(40, 20, 50, 36), "p"),  # hangs below the baseline from the small letters' top
])
def test_p_or_capital_p_by_where_it_sits_against_the_small_letters(box, expected):
    # the context models lean to the small p, as the training ink's writers do
    hyps, tokens, cands = _line(box, [("p", 0.8), ("P", 0.2)])
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == expected


def test_without_an_x_height_letter_the_expressions_other_letters_tell_the_case():
    tall = Box(40, 8, 56, 30)
    # beside capitals only (A B), a c / C drawn like them reads as the capital; beside small letters, as the small one
    hyps, tokens, cands = _line(tall, [("c", 0.7), ("C", 0.3)], others="AB")
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "C"
    hyps, tokens, cands = _line(tall, [("c", 0.7), ("C", 0.3)], others="bdt")
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "c"
    # another symbol read as the same capital tells it too
    assert size.case_features(["X", "+", "x"], 2, ("x", "X")) == {"capital_share": 0.0, "same_capital": 1.0}
    assert size.case_features(["A", "B", "x"], 2, ("x", "X"))["capital_share"] == pytest.approx(2 / 3)


def test_a_p_without_an_x_height_letter_by_the_expressions_other_letters():
    tall = Box(40, 8, 56, 30)
    # beside capitals (E, M), the capital; beside small letters with ascenders or tails (b, d), the small p; beside
    # digits only, the models' reading where they are sure of it
    hyps, tokens, cands = _line(tall, [("p", 0.6), ("P", 0.4)], others="EM")
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "P"
    hyps, tokens, cands = _line(tall, [("p", 0.6), ("P", 0.4)], others="bd")
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "p"
    hyps, tokens, cands = _line(tall, [("p", 0.8), ("P", 0.2)], others="12")
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "p"


def test_a_pair_needs_its_other_reading():
    tall = Box(40, 8, 56, 30)
    # the capital not among its readings
    hyps, tokens, cands = _line(tall, [("x", 0.6), ("\\times", 0.4)])
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "x"
    # a symbol whose readings are not the models' (a user's correction) keeps them
    hyps, tokens, cands = _line(tall, [("x", 0.6), ("X", 0.4)])
    assert size.correct(hyps, tokens, cands, [True] * (len(hyps) - 1) + [False])[0][-1] == "x"
    # y's tail makes it tall: not corrected
    hyps, tokens, cands = _line(Box(40, 20, 50, 38), [("y", 0.6), ("Y", 0.4)])
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "y"


def test_the_reference_is_the_other_small_letters_not_the_letter_itself():
    hyps, tokens, _ = _line(Box(40, 8, 56, 30), [("x", 0.6), ("X", 0.4)], others="a")
    ref = size.reference_box(hyps, tokens, len(hyps) - 1)
    assert (ref.y0, ref.y1) == (20.0, 30.0)
    assert size.reference_box(hyps, tokens, 0) == Box(0.0, 8.0, 0.0, 30.0)  # for the a: the x


def test_a_one_as_tall_as_its_neighbours_is_a_one_in_drawn_ink_and_left_to_the_models_in_images():
    # a stroke as high as the small letters' top to their baseline, read | first: a 1 by its size and place
    one = Box(40, 20, 42, 30)
    hyps, tokens, cands = _line(one, [("|", 0.55), ("1", 0.45)])
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "1"
    assert size.correct(hyps, tokens, cands, [True] * len(hyps), image=True)[0][-1] == "|"  # STROKES_ONLY
    # a bar reaching well above and below the small letters stays a bar
    bar = Box(40, 8, 42, 42)
    hyps, tokens, cands = _line(bar, [("|", 0.55), ("1", 0.45)])
    assert size.correct(hyps, tokens, cands, [True] * len(hyps))[0][-1] == "|"


@pytest.mark.parametrize("box, expected", [
    (Box(40, 17, 42, 30), "1"),  # on the baseline, a little above the small letters: a 1
    (Box(40, 8, 44, 40), "("),   # reaching well above and below them: a bracket
])
def test_an_image_one_read_as_a_bracket_is_corrected_by_the_image_readers_own_coefficients(box, expected):
    hyps, tokens, cands = _line(box, [("(", 0.6), ("1", 0.4)])
    assert size.correct(hyps, tokens, cands, [True] * len(hyps), image=True)[0][-1] == expected
    assert size.image_coefficients(("(", "1")) == size.size_model().image_pairs[("(", "1")][1]
    assert size.image_coefficients(("(", "1")) != size.size_model().pairs[("(", "1")][1]


def test_the_image_reader_corrects_p_with_its_own_coefficients_and_leaves_one_and_bar_alone():
    m = size.size_model()
    assert size.image_coefficients(("p", "P")) == m.image_pairs[("p", "P")][1] != m.pairs[("p", "P")][1]
    assert size.image_coefficients(("x", "X")) == m.pairs[("x", "X")][1]  # the letters': the stroke reader's
    assert size.image_coefficients(("|", "1")) is None
    for box, expected in ((Box(40, 8, 50, 30), "P"), (Box(40, 20, 50, 36), "p")):
        hyps, tokens, cands = _line(box, [("p", 0.8), ("P", 0.2)])
        assert size.correct(hyps, tokens, cands, [True] * len(hyps), image=True)[0][-1] == expected


@pytest.mark.parametrize("others, expected", [
    ("12+", "9"),   # among digits, a q-or-9 is the digit
    ("ab+", "q"),   # among letters, the letter
])
def test_a_digit_or_its_look_alike_letter_by_the_expressions_other_symbols(others, expected):
    tokens = list(others) + ["q"]
    cands = [[Candidate(t, 0.99)] for t in others] + [[Candidate("q", 0.55), Candidate("9", 0.4), Candidate("a", 0.05)]]
    got_tokens, got = size.correct_digits(tokens, cands, [True] * len(tokens))
    assert got_tokens[-1] == expected
    probs = {c.token: c.prob for c in got[-1]}
    assert probs["q"] + probs["9"] == pytest.approx(0.95) and probs["a"] == pytest.approx(0.05)
    assert tokens[-1] == "q" and cands[-1][0].token == "q"  # the inputs unchanged
    # a user's correction is left as it is
    assert size.correct_digits(tokens, cands, [True] * (len(tokens) - 1) + [False])[0][-1] == "q"


def test_the_digit_share_counts_the_other_symbols_only():
    assert size.digit_share(["1", "2", "x"], 2) == pytest.approx(2 / 3)
    assert size.digit_share(["a", "b", "9"], 2) == pytest.approx(-2 / 3)
    assert size.digit_share(["+", "9"], 1) == 0.0


@pytest.mark.parametrize("box, expected", [
    (Box(40, 10, 44, 18), "\\prime"),  # a short tick, half as wide as it is high
    (Box(40, 10, 42, 30), "1"),        # a tall thin stroke
])
def test_a_prime_or_a_one_by_the_shape_of_its_box(box, expected):
    hyps, tokens, cands = _line(box, [("1", 0.9), ("\\prime", 0.05), ("l", 0.05)], others="f")
    got_tokens, got = size.correct_primes(hyps, tokens, cands, [True] * len(hyps))
    assert got_tokens[-1] == expected and got[-1][0].token == expected
    probs = {c.token: c.prob for c in got[-1]}
    assert probs["1"] + probs["\\prime"] == pytest.approx(0.95) and probs["l"] == pytest.approx(0.05)
    assert tokens[-1] == "1" and cands[-1][0].token == "1"  # the inputs unchanged
    # a user's correction is left as it is
    assert size.correct_primes(hyps, tokens, cands, [True] * (len(hyps) - 1) + [False])[0][-1] == "1"


def test_the_prime_pair_is_the_first_reading_and_the_prime_or_the_likelier_of_one_and_comma():
    def pair(*readings):
        return size.find_prime_pair([Candidate(t, p) for t, p in readings])

    assert pair(("1", 0.6), ("\\prime", 0.3)) == ("1", "\\prime")
    assert pair((",", 0.6), ("1", 0.2), ("\\prime", 0.1)) == (",", "\\prime")
    assert pair(("\\prime", 0.6), (",", 0.1), ("1", 0.3)) == ("1", "\\prime")
    assert pair(("1", 0.6), ("l", 0.3)) is None  # no prime among the readings
    assert pair(("\\prime", 0.9), ("a", 0.1)) is None  # nothing to read it as
    assert pair(("x", 0.5), ("\\prime", 0.3), ("1", 0.2)) is None  # read as another symbol


def test_the_coefficients_ship_as_weights_with_a_card_that_names_each_group():
    """The coefficients are a weights file (float64, one tensor a group) loaded through the registry; its card names
    each group's pairs and coefficients as the code reads them, and where they came from."""
    import json

    from safetensors.numpy import load_file

    from inkmath.weights import shipped_file

    path = shipped_file(size.NAME)
    card = json.loads(path.with_suffix(".json").read_text())
    tensors = load_file(str(path))
    assert card["kind"] == size.NAME and set(card["groups"]) == set(size.GROUPS) == set(tensors)
    assert all(t.dtype.name == "float64" for t in tensors.values())
    assert card["parameters"] == sum(t.size for t in tensors.values())
    assert all(card["groups"][g]["history"] and card["groups"][g]["metrics"] for g in size.GROUPS)
    m = size.size_model()
    assert m is size.size_model(str(path))  # one model, loaded once
    assert m.pairs[("x", "X")][1] == tuple(tensors["size_letters"]) and m.prime == tuple(tensors["prime"])
    assert list(m.digit_pairs) == list(size.DIGIT_PAIRS)


def test_a_file_whose_card_names_other_coefficients_is_refused(tmp_path):
    import json
    import shutil

    from inkmath import InkmathError
    from inkmath.weights import shipped_file

    path = shipped_file(size.NAME)
    shutil.copy(path, tmp_path / "s.safetensors")
    card = json.loads(path.with_suffix(".json").read_text())
    card["groups"]["p"]["coefficients"] = ["z", "top", "bias"]
    (tmp_path / "s.json").write_text(json.dumps(card))
    with pytest.raises(InkmathError, match="recipes.symbol_size"):
        size.size_model(str(tmp_path / "s.safetensors"))


def test_the_recipe_keeps_the_groups_it_does_not_refit(tmp_path):
    """Without --refit the recipe writes the coefficients of the file it replaces again, with their account."""
    import json
    import shutil

    from safetensors.numpy import load_file

    from inkmath.training.recipes import symbol_size as recipe
    from inkmath.weights import shipped_file

    path = shipped_file(size.NAME)
    shutil.copy(path, tmp_path / "s.safetensors")
    shutil.copy(path.with_suffix(".json"), tmp_path / "s.json")
    root = Path(__file__).resolve().parent.parent
    config = str(root / "configs" / "symbol-size.yaml")
    assert recipe.main(["--config", config, "--out", str(tmp_path / "s.safetensors")]) == 0
    assert (tmp_path / "s.safetensors").read_bytes() == path.read_bytes()
    old, new = (json.loads(p.read_text()) for p in (path.with_suffix(".json"), tmp_path / "s.json"))
    assert new["groups"] == old["groups"] and new["metrics"] == old["metrics"]
    with pytest.raises(Exception, match="No group"):
        recipe.main(["--config", config, "--refit", "q"])
    assert load_file(str(path)).keys() == load_file(str(tmp_path / "s.safetensors")).keys()
