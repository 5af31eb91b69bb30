from __future__ import annotations

import numpy as np

from inkmath.equation.core.latex import to_latex
from inkmath.equation.synth.structure import compose, donor_pool, synthesize
from inkmath.equation.reader.structure_tree import to_node
from inkmath.equation.core.tree import Box


def _tex(e) -> str:
    boxes, tokens, parents, relations = e
    return to_latex(to_node(tokens, parents, relations)).replace(" ", "")


# a^{b} c: a 10 high, b a small raised script, c on the baseline after it
SCRIPTED = ([Box(0, 0, 10, 10), Box(11, -5, 16, 2), Box(20, 0, 30, 10)], ["a", "b", "c"], [None, 0, 0],
            [None, "sup", "right"])
# x^{yz}: the script two symbols wide
WIDE = ([Box(0, 0, 10, 10), Box(11, -5, 16, 2), Box(17, -5, 22, 2)], ["x", "y", "z"], [None, 0, 1],
        [None, "sup", "right"])
# \frac{a}{b}: the bar as wide as its parts
FRACTION = ([Box(0, -14, 10, -4), Box(-1, -1, 11, 1), Box(0, 4, 10, 14)], ["a", "-", "b"], [1, None, 1],
            ["above", None, "below"])


def test_a_wider_script_moves_what_follows_and_keeps_the_labels():
    boxes, tokens, parents, relations = compose(SCRIPTED, WIDE, 0, "sup", [1], 1)
    assert _tex((boxes, tokens, parents, relations)) == "a^{yz}c"
    assert tokens == ["a", "y", "z", "c"]
    assert boxes[1] == Box(11, -5, 16, 2) and boxes[2] == Box(17, -5, 22, 2)  # placed as in the donor
    assert boxes[3].x0 == 20 + 6  # c moved by the 6 the script grew


def test_a_graft_adds_a_script_to_a_bare_symbol():
    bare = ([Box(0, 0, 10, 10), Box(14, 0, 24, 10)], ["a", "c"], [None, 0], [None, "right"])
    out = compose(bare, WIDE, 0, "sup", [], 1)
    assert _tex(out) == "a^{yz}c"
    assert out[0][-1].x0 - out[0][2].x1 == 4  # the gap after the base kept after the script


def test_a_fraction_bar_stretches_over_a_wider_numerator():
    # \frac{yz}{q}: a numerator two symbols wide over its own bar
    donor = ([Box(0, -14, 10, -4), Box(-1, -1, 23, 1), Box(6, 4, 16, 14), Box(13, -14, 23, -4)],
             ["y", "-", "q", "z"], [1, None, 1, 0], ["above", None, "below", "right"])
    boxes, tokens, parents, relations = compose(FRACTION, donor, 1, "above", [0], 0)
    assert _tex((boxes, tokens, parents, relations)) == "\\frac{yz}{b}"
    bar = boxes[tokens.index("-")]
    assert bar.x0 == -1 and bar.x1 == 23 + 1  # its overhang of 1 past the numerator kept


def test_synthesize_is_seeded_and_makes_trees():
    data = [SCRIPTED, WIDE, FRACTION, ([Box(0, 0, 10, 10), Box(12, 0, 22, 10)], ["p", "q"], [None, 0],
                                       [None, "right"])]
    a = synthesize(data, 30, np.random.default_rng(5))
    b = synthesize(data, 30, np.random.default_rng(5), donor_pool(data))
    assert len(a) == 30 and [_tex(e) for e in a] == [_tex(e) for e in b]
    for boxes, tokens, parents, relations in a:
        assert [p is None for p in parents].count(True) == 1
        assert all(p is None or 0 <= p < len(tokens) for p in parents)
        assert [b.x0 for b in boxes] == sorted(b.x0 for b in boxes)
    assert len({_tex(e) for e in a}) > 5


def test_training_with_synthetic_expressions_learns_and_resumes_exactly(tmp_path):
    from test_structure import _learns_and_resumes_exactly, _synthetic

    from inkmath.training.recipes.structure import DEFAULTS, fit

    rng = np.random.default_rng(0)
    train, val = _synthetic(rng, 200), _synthetic(rng, 40)
    cfg = dict(DEFAULTS, epochs=4, batch=16, hidden=32, hidden2=16, embed=4, threads=1, min_token_count=1,
               jitter=0.1, synthetic={"share": 0.5, "seed": 3})
    model = _learns_and_resumes_exactly(train, val, cfg, tmp_path)
    plain, _ = fit(train, val, dict(cfg, synthetic=None), tmp_path / "plain", log=lambda m: None)
    assert any(not np.array_equal(model.t[k], plain.t[k]) for k in model.t)  # the synthetic expressions were seen


def test_a_new_baseline_tail_goes_on_after_the_scripts():
    # a^{b} c with the tail "c" swapped for "q" that followed x^{yz} 3 after its script in the donor
    donor = WIDE[0] + [Box(25, 0, 35, 10)], WIDE[1] + ["q"], WIDE[2] + [0], WIDE[3] + ["right"]
    boxes, tokens, parents, relations = compose(SCRIPTED, donor, 0, "right", [2], 3)
    assert _tex((boxes, tokens, parents, relations)) == "a^{b}q"
    assert boxes[2].x0 == 16 + 3  # after b's right edge, not after a's
