"""Segmentation without the real classifier: a shape-rule stub classifies crops, the merge model is the shipped one."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.equation import segment
from inkmath.equation.tree import Box
from inkmath.predict import Prediction


class ShapeStub:
    """Reads a crop by its shape: two stacked bars '=', one flat bar '-', a dot '.', dot over stem 'i', else '1'/'x'."""

    def __init__(self):
        self.calls = 0

    def read(self, img: np.ndarray) -> str:
        mask = (img > 60).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        parts = sorted(stats[1:].tolist(), key=lambda s: s[1])
        ys, xs = np.nonzero(mask)
        h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
        if len(parts) == 2 and all(p[2] > 2 * p[3] for p in parts):
            return "="
        if len(parts) == 2 and parts[0][4] < parts[1][4] / 3:
            return "i"
        if len(parts) >= 2:
            return "x"
        if w > 2.5 * h:
            return "-"
        if h < 12 and w < 12:
            return "."
        return "1" if h > 2.5 * w else "x"

    def predict(self, images, ink="auto", top=5):
        self.calls += len(images)
        out = []
        for im in images:
            t = self.read(np.asarray(im))
            others = [c for c in ("x", "1", "-", "=", "i", ".") if c != t]
            out.append([Prediction(t, t, 0.9)] + [Prediction(c, c, 0.02) for c in others[: top - 1]])
        return out


def line(x0, y0, x1, y1, n=20):
    return np.column_stack([np.linspace(x0, x1, n), np.linspace(y0, y1, n)])


def test_pair_features_and_merge_probs():
    eq = [line(0, 40, 60, 40), line(0, 60, 60, 60)]  # the two bars of '='
    apart = [line(0, 0, 0, 100), line(300, 0, 300, 100)]  # two ones far apart
    f = segment.pair_features(eq, 0, segment.drawing_unit(eq))
    assert f.shape == (29,) and np.isfinite(f).all()
    assert segment.merge_probs(eq)[0] > 0.5
    assert segment.merge_probs(apart)[0] < 0.5
    assert segment.merge_probs(eq[:1]).shape == (0,)


def test_segment_strokes_groups_and_keeps_stroke_ids():
    strokes = [line(0, 0, 5, 100), np.zeros((0, 2)),  # '1', then an empty stroke (a tap the canvas lost)
               line(60, 40, 120, 40), line(60, 60, 120, 60),  # '='
               line(180, 0, 185, 100)]  # '1'
    stub = ShapeStub()
    hyps = segment.segment_strokes(strokes, stub)
    assert [h.strokes for h in hyps] == [[0], [2, 3], [4]]
    assert [h.token for h in hyps] == ["1", "=", "1"]
    assert hyps[1].box.x0 == pytest.approx(60) and hyps[1].box.y1 == pytest.approx(60)
    assert len(hyps[0].candidates) == 5


def test_segment_strokes_empty():
    with pytest.raises(InkmathError):
        segment.segment_strokes([np.zeros((0, 2))], ShapeStub())


def _draw(img, pts, t=4):
    cv2.polylines(img, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], False, 255, t)


def test_segment_image_merges_multi_part_symbols_not_fractions():
    img = np.zeros((160, 420), np.uint8)
    _draw(img, line(20, 30, 22, 130))  # '1'
    _draw(img, line(60, 70, 120, 70))  # '=' top bar
    _draw(img, line(60, 95, 120, 95))  # '=' bottom bar
    _draw(img, line(160, 60, 160, 130))  # 'i' stem
    cv2.circle(img, (160, 40), 5, 255, -1)  # 'i' dot
    _draw(img, line(250, 10, 252, 65))  # numerator '1'
    _draw(img, line(220, 80, 290, 80))  # fraction bar
    _draw(img, line(250, 95, 252, 150))  # denominator '1'
    hyps = segment.segment_image(img, ShapeStub(), ink="white")
    tokens = [h.token for h in sorted(hyps, key=lambda h: (h.box.x0, h.box.y0))]
    assert tokens.count("=") == 1 and tokens.count("i") == 1
    assert tokens.count("-") == 1 and tokens.count("1") == 3  # the bar stays apart from what it divides
    assert len(hyps) == 6


def test_segment_image_dark_on_light_with_noise():
    img = np.zeros((120, 200), np.uint8)
    _draw(img, line(30, 20, 32, 100))
    _draw(img, line(80, 50, 150, 50))
    _draw(img, line(80, 75, 150, 75))
    rng = np.random.default_rng(0)
    photo = np.clip(230 - img.astype(float) * 0.75 + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    hyps = segment.segment_image(photo, ShapeStub())
    assert sorted(h.token for h in hyps) == ["1", "="]


def test_segment_image_blank_raises():
    with pytest.raises(InkmathError):
        segment.segment_image(np.zeros((50, 50), np.uint8), ShapeStub(), ink="white")


def test_match_pen_brings_strokes_to_the_rasterizer_width():
    thin = np.zeros((80, 200), np.uint8)
    _draw(thin, line(10, 40, 190, 40), t=1)
    _draw(thin, line(100, 5, 100, 75), t=1)
    assert segment.pen_width(segment.match_pen(thin)) > segment.pen_width(thin) + 0.5
    thick = np.zeros((80, 200), np.uint8)
    _draw(thick, line(10, 40, 190, 40), t=16)
    assert segment.pen_width(segment.match_pen(thick)) < segment.pen_width(thick)


def test_segment_image_scaled_classifier_reports_boxes_in_image_pixels():
    from types import SimpleNamespace

    stub = ShapeStub()
    stub.preset = SimpleNamespace(ref=44.0)  # a classifier that wants crops at ink's canonical scale
    img = np.zeros((400, 600), np.uint8)
    _draw(img, line(50, 50, 55, 350), t=12)  # a '1' about 300 px high: the image is scaled down ~7x
    _draw(img, line(200, 150, 450, 150), t=12)
    _draw(img, line(200, 250, 450, 250), t=12)
    hyps = segment.segment_image(img, stub, ink="white")
    assert sorted(h.token for h in hyps) == ["1", "="]
    one = next(h for h in hyps if h.token == "1")
    assert one.box.y1 - one.box.y0 == pytest.approx(310, rel=0.1)


def test_best_groups_weighs_classifier_against_merge_model():
    P = Prediction
    pm = np.array([0.6])  # the merge model leans a little towards one symbol
    sure_parts = {(0, 1): [P("-", "-", 0.95)], (1, 2): [P("1", "1", 0.95)], (0, 2): [P("+", "+", 0.3)]}
    assert segment.best_groups(2, pm, sure_parts) == [(0, 1), (1, 2)]  # the classifier is much surer of the parts
    sure_whole = {(0, 1): [P("-", "-", 0.5)], (1, 2): [P("1", "1", 0.5)], (0, 2): [P("+", "+", 0.95)]}
    assert segment.best_groups(2, pm, sure_whole) == [(0, 2)]
    assert segment.candidate_spans(np.array([0.5, 0.001, 0.5]), 4) == [(0, 1), (0, 2), (1, 2), (2, 3), (2, 4), (3, 4)]


def test_merge_rules_for_image_parts():
    unit = 40.0
    stem, dot_aside = Box(100, 50, 110, 90), Box(106, 31, 122, 39)  # an 'i' whose flat dot sits off to the right
    assert segment._mergeable([stem, dot_aside], 0, 1, unit)
    far_dot = Box(160, 30, 170, 40)
    assert not segment._mergeable([stem, far_dot], 0, 1, unit)
    left_arc, right_arc = Box(0, 0, 18, 30), Box(21, 1, 40, 31)  # 'x' written as ')(' with a small gap
    assert segment._side_by_side([left_arc, right_arc], 0, 1, unit)
    assert not segment._side_by_side([left_arc, Box(40, 0, 58, 30)], 0, 1, unit)  # a clear gap: two symbols
    assert not segment._side_by_side([left_arc, Box(21, 25, 30, 31)], 0, 1, unit)  # not at one height


class WidthStub:
    """Reads a crop by its width: a blob about one symbol wide is 'o' (sure); wider ones are unsure '\\cos'."""

    preset = None

    def predict(self, images, ink="auto", top=5):
        out = []
        for im in images:
            ys, xs = np.nonzero(np.asarray(im) > 60)
            w, h = np.ptp(xs) + 1, np.ptp(ys) + 1
            t, p = ("o", 0.9) if w < 1.5 * h else ("\\cos", 0.4)
            out.append([Prediction(t, t, p)] + [Prediction("x", "x", 0.01)] * (top - 1))
        return out


def test_touching_symbols_are_cut_at_their_neck():
    img = np.zeros((100, 200), np.uint8)
    cv2.circle(img, (60, 50), 22, 255, 4)
    cv2.circle(img, (106, 50), 22, 255, 4)  # two rings touching at one point: one component
    hyps = segment.segment_image(img, WidthStub(), ink="white")
    assert [h.token for h in hyps] == ["o", "o"]
    assert hyps[0].box.x1 <= hyps[1].box.x0 + 1
