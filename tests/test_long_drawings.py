"""A long drawing is cut into lines and spans and read as its parts (``strokes.parts``); a drawing of at most
``LONG_DRAWING`` strokes is read whole, as before."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from inkmath import synth
from inkmath.errors import InkmathError
from inkmath.equation import recognize as recognize_module
from inkmath.equation.core.latex import to_latex
from inkmath.equation.core.tree import Box, Candidate, Frac, Lines, Row, Sqrt, Sup, Symbol, SymbolHyp
from inkmath.equation.recognize import recognize_strokes, to_dict
from inkmath.equation.strokes import parts
from inkmath.equation.strokes.parts import LONG_DRAWING, cut_parts, joined, joined_latex, joined_tree

EXPRESSIONS = ["2x+1=5", "y=3x-4", "(x-y)=0", "4+5=9", "x=7-y", "(y+2)x", "9=y+x", "3-y=2x"]


def _grid(columns: int = 4, rows: int = 3, gap: float = 1200.0) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """Synthetic expressions (100 ink units a symbol) in ``rows`` rows of ``columns``, ``gap`` apart: the strokes and
    each expression's (first stroke, end) in them."""
    strokes, where = [], []
    for r in range(rows):
        for c in range(columns):
            text = EXPRESSIONS[(r * columns + c) % len(EXPRESSIONS)]
            own = synth.write(text, seed=r * columns + c, x=c * gap, base_y=r * 400.0)
            where.append((len(strokes), len(strokes) + len(own)))
            strokes += own
    return strokes, where


def _far_copies(count: int) -> list[np.ndarray]:
    """``count`` copies of one short stroke, far apart on one line: a drawing any cut would split."""
    return [np.array([[0.0, 0.0], [5.0, 10.0], [10.0, 0.0]]) + (1000.0 * k, 0.0) for k in range(count)]


def test_a_drawing_of_at_most_long_drawing_strokes_is_one_part():
    strokes = _far_copies(LONG_DRAWING)
    assert cut_parts(strokes) == [[list(range(LONG_DRAWING))]]
    assert len(cut_parts(_far_copies(LONG_DRAWING + 1))[0]) == LONG_DRAWING + 1  # far apart: one part a stroke


def test_a_drawing_under_the_bound_is_read_whole(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a drawing under the bound was read as parts")

    monkeypatch.setattr(recognize_module, "_read_parts", refuse)
    strokes = synth.write("2x+1", seed=0) + synth.write("y=3", seed=1, x=5000.0)
    assert recognize_strokes(strokes, solve=False, rendering=False).latex


def test_parts_hold_every_stroke_once_and_at_most_max_part():
    rng = np.random.default_rng(0)
    strokes = list(rng.random((300, 1, 2)) * (1600, 1000) + np.cumsum(rng.normal(0, 7, (300, 10, 2)), axis=1))
    strokes.insert(17, np.zeros((0, 2)))  # an empty stroke is in no part
    lines = cut_parts(strokes, max_part=25)
    members = [i for line in lines for part in line for i in part]
    assert sorted(members) == [i for i in range(len(strokes)) if i != 17]
    assert all(1 <= len(part) <= 25 and part == sorted(part) for line in lines for part in line)


def test_a_crowded_line_is_cut_at_its_widest_gaps_first():
    # 100 strokes on one line in four clusters of 25, the clusters 2.8 symbol sizes apart (less than SPAN_GAP), the
    # middle ones 4.8
    strokes = [np.array([[0.0, 0.0], [60.0, 100.0]]) + (40.0 * (k % 25) + 1300.0 * (k // 25) + 200.0 * (k >= 50), 0.0)
               for k in range(100)]
    lines = cut_parts(strokes, max_part=50)
    assert [len(part) for part in lines[0]] == [50, 50] and lines[0][0] == list(range(50))
    lines = cut_parts(strokes, max_part=30)
    assert [part for part in lines[0]] == [list(range(25 * k, 25 * k + 25)) for k in range(4)]
    with pytest.raises(ValueError, match="at least one stroke"):
        cut_parts(strokes, max_part=0)


def test_joined_latex_writes_what_the_joined_tree_writes():
    a = Row([Symbol("x", 0), Symbol("+", 1), Symbol("\\alpha", 2)])
    b = Row([Symbol("(", 0), Symbol("y", 1), Symbol(")", 2)])
    c = Sup(Symbol("\\beta", 0), Symbol("2", 1))
    d = Frac(Symbol("1", 0), Symbol("2", 2), source=1)
    e = Row([Symbol("\\sin", 0), Sqrt(Symbol("z", 2), source=1)])
    lines = [[a, b, c], [d, e], [Lines([Symbol("q", 0), Symbol("r", 1)])]]
    offsets = [[0, 3, 6], [8, 11], [14]]
    tree = joined_tree(lines, offsets)
    assert to_latex(tree) == joined_latex([[to_latex(t) for t in line] for line in lines])
    assert to_latex(tree).startswith("x+\\alpha(y)\\beta^{2} \\\\ \\frac{1}{2}\\sin")
    sources = [n.source for n in tree.rows[1].items if hasattr(n, "source")]
    assert sources[0] == 9  # the fraction's bar: symbol 1 of a part starting at 8


@pytest.fixture(scope="module")
def long_reading():
    strokes, where = _grid()
    assert len(strokes) > LONG_DRAWING
    return strokes, where, recognize_strokes(strokes, solve=False)


def test_far_apart_expressions_are_read_as_their_parts(long_reading):
    strokes, where, rec = long_reading
    lines = cut_parts(strokes)
    assert [[(part[0], part[-1] + 1) for part in line] for line in lines] == [where[0:4], where[4:8], where[8:12]]
    alone = [[recognize_strokes([strokes[i] for i in range(a, b)], solve=False, rendering=False).latex
              for a, b in where[r * 4:r * 4 + 4]] for r in range(3)]
    assert rec.latex == joined_latex(alone)
    assert rec.latex.count("\\\\") == 2 and isinstance(rec.tree, Lines)
    assert to_latex(rec.tree) == rec.latex


def test_a_joined_reading_names_the_drawings_strokes(long_reading):
    strokes, where, rec = long_reading
    seen = sorted(i for h in rec.symbols for i in h.strokes)
    assert seen == list(range(len(strokes)))
    assert len(rec.tokens) == len(rec.symbols)
    for h in rec.symbols:  # a symbol's strokes lie in one expression, its box around them
        a, b = next((a, b) for a, b in where if a <= h.strokes[0] < b)
        assert all(a <= i < b for i in h.strokes)
        pts = np.concatenate([strokes[i] for i in h.strokes])
        assert h.box.x0 <= pts[:, 0].min() + 1e-6 and h.box.x1 >= pts[:, 0].max() - 1e-6
    out = to_dict(rec)
    assert out["latex"] == rec.latex and len(out["symbols"]) == len(rec.symbols)
    alts = rec.alternatives
    assert 1 <= len(alts) <= parts.ALTERNATIVES and alts[0]["latex"] == rec.latex
    assert alts[0]["confidence"] == pytest.approx(rec.confidence)
    assert all(a["confidence"] <= rec.confidence + 1e-12 for a in alts)
    assert [a["confidence"] for a in alts[1:]] == sorted((a["confidence"] for a in alts[1:]), reverse=True)
    assert all(len(a["tokens"]) == len(a["symbols"]) for a in alts)
    assert 0.0 <= rec.confidence <= 1.0


def test_a_correction_names_a_symbol_of_the_joined_reading(long_reading):
    strokes, _, rec = long_reading
    k = len(rec.symbols) - 2
    token = "7" if rec.tokens[k] != "7" else "4"
    again = recognize_strokes(strokes, solve=False, corrections={k: token})
    assert again.tokens[k] == token and again.tokens[:k] == rec.tokens[:k]
    with pytest.raises(InkmathError, match=f"Correction for symbol {len(rec.symbols)}, but there are only"):
        recognize_strokes(strokes, solve=False, corrections={len(rec.symbols): "x"})


def test_a_long_drawing_is_solved_as_the_tree_it_reads(long_reading):
    strokes, _, _ = long_reading
    rec = recognize_strokes(strokes, solve=True)
    assert isinstance(rec.answer, dict)


@dataclass
class _Read:  # what ``parts.joined`` reads of a part's recognition
    latex: str
    mathml: str
    answer: dict
    symbols: list
    tree: object
    tokens: list
    confidence: float
    alternatives: list


def _part(token: str, confidence: float, other: str, other_confidence: float, x: float) -> _Read:
    symbols = [SymbolHyp(Box(x, 0, x + 1, 1), [Candidate(token, 0.9)], [0])]
    alts = [{"latex": token, "confidence": confidence, "tokens": [token], "symbols": symbols},
            {"latex": other, "confidence": other_confidence, "tokens": [other], "symbols": symbols}]
    return _Read(token, "", {}, symbols, Symbol(token, 0), [token], confidence, alts)


def test_joined_confidence_is_the_product_and_alternatives_read_one_part_otherwise():
    recs = [[_part("x", 0.5, "y", 0.3, 0.0), _part("2", 0.8, "z", 0.1, 5.0)], [_part("a", 0.9, "b", 0.05, 0.0)]]
    rec = joined(recs, [[[0], [1]], [[2]]])
    assert rec.latex == "x2 \\\\ a" and rec.confidence == pytest.approx(0.36)
    assert [h.strokes for h in rec.symbols] == [[0], [1], [2]]
    assert [(a["latex"], round(a["confidence"], 4)) for a in rec.alternatives] == [
        ("x2 \\\\ a", 0.36), ("y2 \\\\ a", 0.216), ("xz \\\\ a", 0.045), ("x2 \\\\ b", 0.02)]
    assert rec.alternatives[1]["tokens"] == ["y", "2", "a"]
    # a part read with no confidence: the joined reading has none, an alternative of that part keeps the others'
    recs[0][0] = _part("x", 0.0, "y", 0.0, 0.0)
    recs[0][0].alternatives[1]["confidence"] = 0.2
    rec = joined(recs, [[[0], [1]], [[2]]])
    assert rec.confidence == 0.0 and rec.alternatives[1]["latex"] == "y2 \\\\ a"
    assert rec.alternatives[1]["confidence"] == pytest.approx(0.2 * 0.8 * 0.9)
