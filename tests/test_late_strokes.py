"""Late strokes: a stroke that belongs to an earlier stroke's symbol moved next to it before segmentation, and the
late-stroke model's recipe (on synthetic drawings)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from inkmath.data import crohme
from inkmath.data.crohme import InkmlExpression, TraceGroup
from inkmath.equation.strokes import late_strokes
from inkmath.equation.strokes import segment
from inkmath.training.recipes import late_strokes as train_late_strokes


def _line(x0, y0, x1, y1, k=12) -> np.ndarray:
    return np.column_stack([np.linspace(x0, x1, k), np.linspace(y0, y1, k)])


def _plus_crossed_late(k: int = 0) -> list[np.ndarray]:
    """'+ a' where the +'s vertical bar comes last: bar, the a's two strokes far right, then the vertical bar."""
    j = k % 4
    return [_line(0, 20 + j, 40, 20 + j), _line(100, 10, 125, 40), _line(125, 10, 125, 40),
            _line(20 + j, 0, 20 + j, 40)]


class _Says:
    """A stand-in late-stroke model: probability ``p`` for the pairs in ``pairs`` (u, t), 0 for the others."""

    def __init__(self, strokes, pairs, p):
        from inkmath.equation.strokes.geometry import StrokeGeometry, drawing_unit

        geo, unit = StrokeGeometry(strokes), drawing_unit(strokes)
        self.rows = {tuple(r) for r in late_strokes.pair_matrix(strokes, pairs, geo, unit).tolist()}
        self.p = p

    def prob(self, X):
        return np.asarray([self.p if tuple(r) in self.rows else 0.0 for r in X.tolist()])


class _SureReader:
    """A stand-in classifier, as sure of every group: the merge probabilities decide the groupings."""

    def predict(self, crops, ink="white", top=5):
        from inkmath.predict import Prediction

        return [[Prediction("x", "x", 0.9)] for _ in crops]


def test_a_late_stroke_moves_behind_the_stroke_whose_symbol_it_belongs_to():
    strokes = _plus_crossed_late()
    order, moved = late_strokes.late_order(strokes, np.array([0.1, 0.2, 0.1]), _Says(strokes, [(0, 3)], 0.9))
    assert order == [0, 3, 1, 2] and moved == {3: (0, 0.9)}
    # under one half, or where the segmenter would rather join it to a neighbour in time, it stays
    assert late_strokes.late_order(strokes, np.array([0.1, 0.2, 0.1]), _Says(strokes, [(0, 3)], 0.4))[1] == {}
    assert late_strokes.late_order(strokes, np.array([0.1, 0.2, 0.95]), _Says(strokes, [(0, 3)], 0.9))[1] == {}


def test_two_late_strokes_of_one_symbol_keep_their_order_behind_it():
    # an E's three bars drawn after the stem and the x beside it: stem, x (2 strokes), bar, bar, bar
    strokes = [_line(0, 0, 0, 40), _line(60, 10, 80, 40), _line(80, 10, 60, 40),
               _line(0, 0, 20, 0), _line(0, 20, 15, 20), _line(0, 40, 20, 40)]
    says = _Says(strokes, [(0, 3), (0, 4), (0, 5)], 0.9)
    order, moved = late_strokes.late_order(strokes, np.full(5, 0.1), says)
    assert order == [0, 3, 4, 5, 1, 2] and set(moved) == {3, 4, 5}


def test_the_segmenter_offers_the_groupings_of_both_orders_with_the_callers_stroke_ids(monkeypatch):
    strokes = _plus_crossed_late()

    monkeypatch.setattr(late_strokes, "load_late_model", lambda: _Says(strokes, [(0, 3)], 0.9))
    found = segment.segment_strokes_nbest(strokes, _SureReader(), 3)
    # the groupings of both orders, best first, each once: one holds the +'s two bars
    assert any([0, 3] in [h.strokes for h in hyps] for hyps, _ in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True) and len(found) == 3
    assert len({frozenset(frozenset(h.strokes) for h in hyps) for hyps, _ in found}) == 3
    assert all(h.strokes == sorted(h.strokes) for hyps, _ in found for h in hyps)  # ids in the order drawn
    monkeypatch.setattr(late_strokes, "load_late_model", lambda: _Says(strokes, [], 0.9))  # no stroke is late
    found = segment.segment_strokes_nbest(strokes, _SureReader(), 3)
    assert all([0, 3] not in [h.strokes for h in hyps] for hyps, _ in found)  # in the order drawn, no run holds both


def _drawing(k: int) -> InkmlExpression:
    strokes = _plus_crossed_late(k)
    groups = [TraceGroup("+", [0, 3]), TraceGroup("x", [1, 2])]
    return InkmlExpression(f"e{k}", strokes, groups, "+x")


def test_the_recipe_learns_late_strokes_and_ships_a_card(tmp_path, monkeypatch):
    monkeypatch.setattr(crohme, "iter_inkml", lambda source, subset=None: (_drawing(k) for k in range(40)))
    monkeypatch.setenv("INKMATH_DATA", str(tmp_path))
    (tmp_path / "r.yaml").write_text("model: tanh-mlp\nhidden: 4\nepochs: 60\n")
    out = tmp_path / "w" / "late-stroke.safetensors"
    assert train_late_strokes.main(["--config", str(tmp_path / "r.yaml"), "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["name"] == "late-stroke" and card["parameters"] == 27 * 4 + 4 + 4 + 1
    assert card["data"]["train"] == "CROHME 2014 training InkML, 40 expressions, 40 candidate pairs, 40 late"
    model = late_strokes.load_late_model(str(out))
    strokes = _plus_crossed_late()
    order, moved = late_strokes.late_order(strokes, np.full(3, 0.1), model)
    assert order == [0, 3, 1, 2]
    # the same recipe gives the same tensors
    again = tmp_path / "again.safetensors"
    assert train_late_strokes.main(["--config", str(tmp_path / "r.yaml"), "--out", str(again)]) == 0
    assert all(np.array_equal(v, load_file(str(again))[k]) for k, v in load_file(str(out)).items())


def test_targets_mark_only_a_late_stroke_and_its_symbols_earlier_strokes():
    groups = [[0, 3], [1, 2], [4, 5]]
    pairs = [(0, 3), (1, 3), (0, 2), (2, 4)]
    assert train_late_strokes.late_targets(groups, pairs).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_the_shipped_model_loads_and_reads_a_drawing_in_order_as_it_is():
    model = late_strokes.load_late_model()
    assert model.w1.shape[0] == late_strokes.LATE_FEATURES
    # '= 1': nothing comes back
    strokes = [_line(0, 0, 30, 0), _line(0, 14, 30, 14), _line(60, -10, 60, 35)]
    assert late_strokes.late_order(strokes, segment.merge_probs(strokes))[0] == [0, 1, 2]


@pytest.mark.parametrize("n", [1, 2])
def test_short_drawings_have_no_late_strokes(n):
    strokes = _plus_crossed_late()[:n]
    assert late_strokes.late_order(strokes, np.zeros(max(n - 1, 0)), _Says(strokes, [], 0.9)) == (list(range(n)), {})


def test_a_symbol_joined_by_a_late_stroke_lists_its_stroke_ids_in_the_order_drawn(monkeypatch):
    # an E's stem and top bar, an x far right, then the E's middle bar: moved behind the stem, between its strokes
    strokes = [_line(0, 0, 0, 40), _line(0, 0, 20, 0), _line(100, 10, 125, 40), _line(125, 10, 100, 40),
               _line(0, 20, 15, 20)]

    monkeypatch.setattr(late_strokes, "load_late_model", lambda: _Says(strokes, [(0, 4)], 0.95))
    found = segment.segment_strokes_nbest(strokes, _SureReader(), 5)
    groups = [h.strokes for hyps, _ in found for h in hyps if set(h.strokes) == {0, 1, 4}]
    assert groups and all(g == [0, 1, 4] for g in groups)
