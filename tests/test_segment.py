"""Segmentation without the real classifier: a shape-rule stub classifies crops, the merge model is the shipped one."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.equation.image import necks as image_necks
from inkmath.equation.image import parts as image_parts
from inkmath.equation.image import segmentation as image_segmentation
from inkmath.equation.image import bars as image_bars
from inkmath.equation.image import splits as image_splits
from inkmath.equation.strokes import segment
from inkmath.equation.core.tree import Box
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


def test_drawing_features_equal_pair_by_pair_features():
    rng = np.random.default_rng(0)
    strokes = [np.cumsum(rng.normal(0, 3, (int(rng.integers(1, 60)), 2)), axis=0) + (40 * k, 0) for k in range(7)]
    unit = segment.drawing_unit(strokes)
    alone = np.stack([segment.pair_features(strokes, i, unit) for i in range(6)])
    assert np.array_equal(segment.drawing_pair_features(strokes), alone)  # shared geometry changes nothing


def _pair_by_pair(strokes):
    unit = segment.drawing_unit(strokes)
    return np.stack([segment.pair_features(strokes, i, unit) for i in range(len(strokes) - 1)])


@pytest.mark.parametrize("case", ["two", "taps", "long", "resting pen", "mixed"])
def test_all_pair_features_at_once_equal_pair_features_to_the_bit(case):
    rng = np.random.default_rng(list(("two", "taps", "long", "resting pen", "mixed")).index(case))
    walk = lambda m, x: np.cumsum(rng.normal(0, 3, (m, 2)), axis=0) + (x, 0)  # noqa: E731
    strokes = {
        "two": [walk(5, 0), walk(30, 20)],
        "taps": [walk(1, 0), walk(1, 5), walk(20, 10), walk(1, 40), walk(1, 41)],  # single points (dots)
        "long": [walk(m, 30 * k) for k, m in enumerate((47, 48, 49, 95, 600, 1061, 2))],  # _min_dist's stride > 1
        "resting pen": [np.repeat(walk(8, 30 * k), 20, axis=0) for k in range(5)] + [np.zeros((3, 2))],
        "mixed": [walk(int(rng.integers(1, 200)), 25 * k) for k in range(40)],
    }[case]
    new = segment._all_pair_features(strokes, segment.drawing_unit(strokes))
    ref = _pair_by_pair(strokes)
    assert new.dtype == ref.dtype == np.float32 and new.shape == ref.shape == (len(strokes) - 1, 29)
    assert np.array_equal(new, ref)
    assert np.array_equal(segment.drawing_pair_features(strokes), ref)


def test_pair_features_of_drawings_the_fast_path_does_not_take():
    strokes = [line(0, 40, 60, 40), line(0, 60, 60, 60), line(80, 0, 80, 90)]
    as32 = [s.astype(np.float32) for s in strokes]  # float32 strokes: pair by pair, as before
    assert np.array_equal(segment.drawing_pair_features(as32), _pair_by_pair(as32))


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
    hyps = image_segmentation.segment_image(img, ShapeStub(), ink="white")
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
    hyps = image_segmentation.segment_image(photo, ShapeStub())
    assert sorted(h.token for h in hyps) == ["1", "="]


def test_segment_image_blank_raises():
    with pytest.raises(InkmathError):
        image_segmentation.segment_image(np.zeros((50, 50), np.uint8), ShapeStub(), ink="white")


def test_match_pen_brings_strokes_to_the_rasterizer_width():
    thin = np.zeros((80, 200), np.uint8)
    _draw(thin, line(10, 40, 190, 40), t=1)
    _draw(thin, line(100, 5, 100, 75), t=1)
    thickened, width = image_parts.match_pen(thin)
    assert width == image_parts.pen_width(thickened) > image_parts.pen_width(thin) + 0.5
    thick = np.zeros((80, 200), np.uint8)
    _draw(thick, line(10, 40, 190, 40), t=16)
    matched, width = image_parts.match_pen(thick)
    assert width == image_parts.pen_width(matched) < image_parts.pen_width(thick)
    fine = np.zeros((80, 200), np.uint8)
    _draw(fine, line(10, 40, 190, 40), t=5)
    kept, width = image_parts.match_pen(fine)  # as wide as the rasterizer's: kept, its width measured once
    assert kept is fine and width == image_parts.pen_width(fine)


def test_match_pen_thins_a_pen_half_again_as_wide_as_the_rasterizer():
    """A felt pen's or a phone photo's strokes, about 1.5 times the rasterizer's width (PEN_THIN_FROM), are thinned:
    the image models read ink.rasterize's pen."""
    felt = np.zeros((80, 200), np.uint8)
    _draw(felt, line(10, 40, 190, 40), t=7)
    ratio = image_parts.pen_width(felt) / image_parts._canonical_pen_width()
    assert image_parts.PEN_THIN_FROM < ratio < 1.6
    thinned, width = image_parts.match_pen(felt)
    assert width == image_parts.pen_width(thinned) < image_parts.pen_width(felt) - 1


def test_segment_image_scaled_classifier_reports_boxes_in_image_pixels():
    from types import SimpleNamespace

    stub = ShapeStub()
    stub.preset = SimpleNamespace(ref=44.0)  # a classifier that wants crops at ink's canonical scale
    img = np.zeros((400, 600), np.uint8)
    _draw(img, line(50, 50, 55, 350), t=12)  # a '1' about 300 px high: the image is scaled down ~7x
    _draw(img, line(200, 150, 450, 150), t=12)
    _draw(img, line(200, 250, 450, 250), t=12)
    hyps = image_segmentation.segment_image(img, stub, ink="white")
    assert sorted(h.token for h in hyps) == ["1", "="]
    one = next(h for h in hyps if h.token == "1")
    assert one.box.y1 - one.box.y0 == pytest.approx(310, rel=0.1)


def test_typical_size_is_the_median_larger_side_of_the_components_without_their_masks():
    img = np.zeros((120, 260), np.uint8)
    _draw(img, line(30, 20, 32, 100))  # tall
    _draw(img, line(80, 50, 150, 50))  # wide
    _draw(img, line(180, 40, 200, 60))  # small
    img[5, 250] = 255  # a speck, left out of both
    comps = image_parts.components(img)
    assert len(comps) == 3
    assert image_parts.typical_size(img) == float(np.median([max(b.h, b.w, 1) for b, _ in comps]))


def test_best_groups_weighs_classifier_against_merge_model():
    P = Prediction
    pm = np.array([0.6])  # the merge model leans a little towards one symbol
    sure_parts = {(0, 1): [P("-", "-", 0.95)], (1, 2): [P("1", "1", 0.95)], (0, 2): [P("+", "+", 0.3)]}
    assert segment.best_groups(2, pm, sure_parts) == [(0, 1), (1, 2)]  # the classifier is much surer of the parts
    sure_whole = {(0, 1): [P("-", "-", 0.5)], (1, 2): [P("1", "1", 0.5)], (0, 2): [P("+", "+", 0.95)]}
    assert segment.best_groups(2, pm, sure_whole) == [(0, 2)]
    assert segment.candidate_spans(np.array([0.5, 0.001, 0.5]), 4) == [(0, 1), (0, 2), (1, 2), (2, 3), (2, 4), (3, 4)]


def test_read_needed_spans_keeps_the_k_best_groupings_and_reads_fewer_spans():
    rng = np.random.default_rng(0)
    fewer = 0
    for case in range(60):
        n = int(rng.integers(1, 12))
        pm = np.clip(rng.uniform(0.0, 1.0, max(n - 1, 0)) ** 2, 1e-4, 1 - 1e-4)
        spans = segment.candidate_spans(pm, n)
        preds = {s: [Prediction("x", "x", float(rng.uniform(0.02, 1.0)))] for s in spans}
        asked: list = []

        def read(some):
            asked.extend(some)
            return {s: preds[s] for s in some}

        for k in (1, 3):
            asked.clear()
            found = segment.read_needed_spans(n, pm, spans, read, k)
            assert sorted(asked) == sorted(found) and len(set(asked)) == len(asked)  # each span read once
            assert segment.k_best_groups(n, pm, found, k) == segment.k_best_groups(n, pm, preds, k)
            fewer += len(found) < len(spans)
    assert fewer > 20  # not a test that passes by reading everything


def test_merge_rules_for_image_parts():
    unit = 40.0
    stem, dot_aside = Box(100, 50, 110, 90), Box(106, 31, 122, 39)  # an 'i' whose flat dot sits off to the right
    assert image_parts.mergeable([stem, dot_aside], 0, 1, unit)
    far_dot = Box(160, 30, 170, 40)
    assert not image_parts.mergeable([stem, far_dot], 0, 1, unit)
    left_arc, right_arc = Box(0, 0, 18, 30), Box(21, 1, 40, 31)  # 'x' written as ')(' with a small gap
    assert image_parts.side_by_side([left_arc, right_arc], 0, 1, unit)
    assert not image_parts.side_by_side([left_arc, Box(40, 0, 58, 30)], 0, 1, unit)  # a clear gap: two symbols
    assert not image_parts.side_by_side([left_arc, Box(21, 25, 30, 31)], 0, 1, unit)  # not at one height


class WidthStub:
    """Reads a crop by its width: a blob about as wide as high is 'o' (sure); wider ones are unsure '\\cos'."""

    preset = None

    def predict(self, images, ink="auto", top=5):
        out = []
        for im in images:
            ys, xs = np.nonzero(np.asarray(im) > 60)
            w, h = np.ptp(xs) + 1, np.ptp(ys) + 1
            t, p = ("o", 0.9) if 0.8 * h < w < 1.5 * h else ("\\cos", 0.4)
            out.append([Prediction(t, t, p)] + [Prediction("x", "x", 0.01)] * (top - 1))
        return out


def test_touching_symbols_are_cut_at_their_neck():
    img = np.zeros((100, 200), np.uint8)
    cv2.circle(img, (60, 50), 22, 255, 4)
    cv2.circle(img, (106, 50), 22, 255, 4)  # two rings touching at one point: one component
    hyps = image_segmentation.segment_image(img, WidthStub(), ink="white")
    assert [h.token for h in hyps] == ["o", "o"]
    # the rings meet at x = 83; boxes are trimmed by half the pen (``BOX_TRIM``)
    assert abs(hyps[0].box.x1 - 81) <= 4 and abs(hyps[1].box.x0 - 81) <= 4


def test_best_cuts_weighs_pieces_by_width():
    bounds = [0.0, 40.0, 80.0]  # a component two symbols wide with one neck in the middle
    parts = {(0, 1): 0.9, (1, 2): 0.9}
    assert image_necks.best_cuts(bounds, parts | {(0, 2): 0.3}, 40.0, 0.5) == [(0, 1), (1, 2)]
    assert image_necks.best_cuts(bounds, parts | {(0, 2): 0.95}, 40.0, 0.5) == [(0, 2)]  # reads well whole: one symbol
    assert image_necks.best_cuts(bounds, parts | {(0, 2): 0.3}, 40.0, 5.0) == [(0, 2)]  # cutting costs too much
    # an unread piece is no cut
    assert image_necks.best_cuts(bounds, {(0, 1): 0.9, (0, 2): 0.3}, 40.0, 0.5) == [(0, 2)]


def test_neck_paths_bend_between_symbols_that_overlap_in_x():
    mask = np.zeros((80, 60), bool)
    mask[0:40, 0:30] = mask[40:80, 0:10] = True  # left symbol: wide at the top, narrow below
    mask[0:40, 32:60] = mask[65:80, 12:60] = True  # right symbol: reaches under the left one
    mask[40:65, 50:60] = True  # (the right symbol's two parts joined)
    mask[19:21, 30:32] = True  # the two touch at one point: one component
    cuts = image_necks._neck_paths(mask, 60.0)
    share, path = cuts[0]
    assert len(cuts) == 1  # no straight column is thin: only the bent path through the contact
    assert path[20] in (30, 31, 32) and path[-1] in (10, 11, 12)
    assert share == pytest.approx((40 * 30 + 40 * 10) / mask.sum(), abs=0.01)


def test_ink_labels_are_the_32_bit_labels_and_fall_back_when_16_bits_could_overflow():
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = rng.random((int(rng.integers(5, 120)), int(rng.integers(5, 120)))) > 0.6
        n, lab, stats = image_parts.ink_labels(mask)
        ref = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        assert lab.dtype == np.uint16 and n == ref[0] and (lab == ref[1]).all() and (stats == ref[2]).all()
    dots = np.zeros((600, 600), bool)
    dots[::2, ::2] = True  # 90,000 lone pixels: more labels than 16 bits hold
    n, lab, _ = image_parts.ink_labels(dots)
    assert n == 90_001 and lab.dtype == np.int32 and lab.max() == 90_000


def test_neck_paths_are_the_cheapest_paths_taking_the_first_of_equal_moves():
    def cheapest(mask):  # every column's cheapest top-to-bottom path, cell by cell in float32
        h, w = mask.shape
        cost = [np.float32(v) for v in mask[0]]
        back = np.zeros((h, w), int)
        for y in range(1, h):
            new = []
            for x in range(w):
                moves = [(cost[x + d] + np.float32(image_necks.TURN) if d else cost[x], d) for d in (-1, 0, 1)
                         if 0 <= x + d < w]
                best = min(m[0] for m in moves)
                back[y, x] = next(d for c, d in moves if c == best)
                new.append(best + np.float32(mask[y, x]))
            cost = new
        paths = np.zeros((h, w), int)
        paths[-1] = np.arange(w)
        for y in range(h - 1, 0, -1):
            paths[y - 1] = paths[y] + back[y, paths[y]]
        return paths

    rng = np.random.default_rng(1)
    tried = 0
    for _ in range(60):
        mask = rng.random((int(rng.integers(2, 30)), int(rng.integers(2, 30)))) > 0.5
        ref = cheapest(mask)
        for share, path in image_necks._neck_paths(mask, 1000.0):
            tried += 1
            assert (path == ref[:, path[-1]]).all()
            left = sum(int(mask[y, :path[y]].sum()) for y in range(len(path)))
            assert share == pytest.approx(left / mask.sum())
    assert tried > 30


def test_neck_paths_of_several_components_at_once_are_each_ones_own():
    rng = np.random.default_rng(3)
    masks = [rng.random((int(rng.integers(2, 40)), int(rng.integers(2, 40)))) < rng.uniform(0.1, 0.6)
             for _ in range(60)]
    found = 0
    for unit in (8.0, 1000.0):
        for i in range(0, len(masks), 4):  # of different heights and widths side by side
            group = masks[i:i + 4]
            for mask, cuts in zip(group, image_necks._neck_paths_many(group, unit)):
                alone = image_necks._neck_paths(mask, unit)
                found += len(cuts)
                assert [s for s, _ in cuts] == [s for s, _ in alone]
                assert all((p == q).all() for (_, p), (_, q) in zip(cuts, alone))
    assert found > 40 and image_necks._neck_paths_many([], 8.0) == []


def test_a_piece_is_its_kept_pixels_box_and_full_size_mask():
    rng = np.random.default_rng(2)
    m = np.zeros((60, 80), bool)
    m[10:40, 20:70] = rng.random((30, 50)) > 0.5
    keep = m[10:40, 20:70] & (np.arange(50)[None, :] < 20)
    box, part = image_splits._piece(m, 10, 20, keep)
    ys, xs = np.nonzero(part)
    assert box == Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    assert part.shape == m.shape and (part[10:40, 20:70] == keep).all() and part.sum() == keep.sum()
    assert image_splits._piece(m, 10, 20, np.zeros_like(keep)) == (None, None)


def test_render_parts_draws_the_ink_under_any_of_the_masks_and_nothing_else():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (50, 70)).astype(np.uint8)
    masks = [rng.random((50, 70)) > 0.7 for _ in range(3)]
    before = [m.copy() for m in masks]
    box = Box(5, 8, 60, 45)
    for some in (masks[:1], masks):
        union = np.logical_or.reduce([m[8:45, 5:60] for m in some])
        crop = np.pad(np.where(union, img[8:45, 5:60], 0), 2)
        expect = cv2.GaussianBlur(crop, (0, 0), image_parts.CROP_BLUR)
        assert (image_parts.render_parts(img, some, box) == expect).all()
    assert all((m == b).all() for m, b in zip(masks, before))  # the masks are not changed


def test_crops_softened_together_are_the_crops_softened_alone():
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (90, 400)).astype(np.uint8)
    masks = [rng.random((90, 400)) > 0.5 for _ in range(3)]
    boxes = [Box(0, 0, 400, 90), Box(5, 8, 60, 45), Box(100, 3, 101, 4), Box(200, 10, 380, 12), Box(390, 0, 400, 90)]
    parts = [(masks[:1 + k % 3], b) for k, b in enumerate(boxes)] * 2
    together = image_parts.render_many(img, parts)
    for (some, box), crop in zip(parts, together):
        alone = cv2.GaussianBlur(image_parts._sharp_crop(img, some, box), (0, 0), image_parts.CROP_BLUR)
        assert crop.shape == alone.shape and (crop == alone).all() and crop.flags.c_contiguous
    with image_parts.drawn_once():  # each drawn once, the same pixels
        first = image_parts.render_many(img, parts)
        assert first[0] is first[len(boxes)] and all((a == b).all() for a, b in zip(first, together))


class RuleStub:
    """A stub classifier reading each crop with ``read(crop) -> (token, probability)``, then 'x' at 0.01."""

    preset = None

    def read(self, im: np.ndarray) -> tuple[str, float]:
        raise NotImplementedError

    def predict(self, images, ink="auto", top=5):
        return [[Prediction(t, t, p)] + [Prediction("x", "x", 0.01)] * (top - 1)
                for t, p in (self.read(np.asarray(im)) for im in images)]


def part_stats(im: np.ndarray) -> np.ndarray:
    """(x, y, w, h, area) of each connected part of a crop's ink."""
    return cv2.connectedComponentsWithStats((im > 60).astype(np.uint8), connectivity=8)[2][1:]


class NameStub(RuleStub):
    """Reads a crop of two or more parts as a sure '\\sin', one part as an unsure 'a' (or '.' when it is small)."""

    def read(self, im):
        big = sum(1 for s in part_stats(im) if max(s[2], s[3]) > 15)
        return ("\\sin", 0.9) if big >= 2 else (".", 0.8) if big == 0 else ("a", 0.3)


def test_function_name_written_joined_up_is_one_symbol():
    img = np.zeros((100, 330), np.uint8)
    cv2.ellipse(img, (50, 60), (22, 22), 0, 0, 360, 255, 4)  # 'si' written as one blob
    cv2.circle(img, (64, 25), 4, 255, -1)  # the dot of the 'i'
    cv2.ellipse(img, (100, 60), (16, 22), 0, 0, 360, 255, 4)  # 'n', close by at the same height
    cv2.ellipse(img, (270, 60), (20, 22), 0, 0, 360, 255, 4)  # far away: not part of the name
    hyps = image_segmentation.segment_image(img, NameStub(), ink="white")
    assert [h.token for h in hyps] == ["\\sin", "a"]
    assert sorted(hyps[0].strokes) == [0, 1, 2] or len(hyps[0].strokes) == 3
    assert hyps[0].box.y0 < 25 and hyps[0].box.x1 > 105


def test_short_thick_upper_bar_still_makes_an_equals_sign():
    unit = 53.0
    upper, lower = Box(116, 101, 141, 113), Box(108, 114, 151, 125)  # a short slanted bar over a flat one
    assert image_parts.mergeable([upper, lower], 0, 1, unit)
    assert not image_parts.mergeable([Box(116, 80, 141, 113), lower], 0, 1, unit)  # a letter over a bar is not


def test_a_readable_neighbour_is_not_swallowed():
    P = Prediction
    four, two = [P("4", "4", 0.9)], [P("2", "2", 0.8)]
    big, small = Box(0, 20, 40, 80), Box(38, 0, 58, 25)
    assert image_parts.swallows("4", four, big, two, small)  # '4' + superscript '2' read '4': the '2' would vanish
    assert not image_parts.swallows("4", four, big, [P("-", "-", 0.9)], small)  # a bar may belong to the '4'
    assert not image_parts.swallows("4", four, big, [P("2", "2", 0.3)], small)  # an unreadable part may too
    assert not image_parts.swallows("=", [P("-", "-", 0.9)], big, [P("-", "-", 0.9)], small)


def test_a_bar_under_a_one_is_its_foot_unless_a_fraction_goes_on_below():
    P = Prediction
    one, bar = [P("1", "1", 0.9)], [P("-", "-", 0.9)]
    boxes = [Box(10, 0, 30, 40), Box(5, 42, 40, 48)]  # a '1' and, just under it, a bar about as wide
    assert image_parts.foot_bar("1", [one, bar], boxes, 0, 1, 40.0)
    assert not image_parts.foot_bar("7", [one, bar], boxes, 0, 1, 40.0)  # read together as something else
    assert not image_parts.foot_bar("1", [one, bar], [Box(10, 0, 30, 40), Box(5, 20, 40, 26)], 0, 1, 40.0)  # beside
    fraction = boxes + [Box(12, 55, 32, 80)]  # ink under the bar: '1' over something
    assert not image_parts.foot_bar("1", [one, bar, [P("x", "x", 0.9)]], fraction, 0, 1, 40.0)


def test_image_boxes_are_trimmed_by_half_the_pen():
    assert image_segmentation.trimmed_box(Box(0, 0, 20, 10), 2).as_list() == [2, 2, 18, 8]
    assert image_segmentation.trimmed_box(Box(0, 0, 3, 10), 2).as_list() == [1, 2, 2, 8]  # never below one pixel across


def test_crops_are_softened_like_antialiased_strokes():
    img = np.zeros((40, 40), np.uint8)
    img[10:30, 18:22] = 255  # a binary stem
    crop = image_parts.render_parts(img, [img > 0], Box(18, 10, 22, 30))
    grey = (crop > 0) & (crop < 255)
    assert grey.any() and crop.max() > 200 and crop.shape == (24, 8)


class RingStub:
    """Reads a small ring as ``small`` (an unsure 'o'), a larger one as a sure 'o', any other shape as a very unsure
    '\\cos'."""

    preset = None

    def __init__(self, small=("o", 0.3)):
        self.small = small

    def predict(self, images, ink="auto", top=5):
        out = []
        for im in images:
            ys, xs = np.nonzero(np.asarray(im) > 60)
            w, h = np.ptp(xs) + 1, np.ptp(ys) + 1
            round_ = 0.8 * h < w < 1.25 * h
            t, p = (self.small if h < 34 else ("o", 0.9)) if round_ else ("\\cos", 0.05)
            out.append([Prediction(t, t, p)] + [Prediction("x", "x", 0.01)] * (top - 1))
        return out


def test_a_cut_needs_every_piece_read():
    img = np.zeros((100, 140), np.uint8)
    cv2.circle(img, (40, 50), 12, 255, 4)
    cv2.circle(img, (76, 50), 22, 255, 4)  # a small ring touching a large one
    hyps = image_segmentation.segment_image(img, RingStub(), ink="white")
    assert len(hyps) == 1  # the small ring reads at 0.3 only: no cut, however unsure the whole is
    # nor cut off as a dot
    assert len(image_segmentation.segment_image(img, RingStub(small=(".", 0.95)), ink="white")) == 1
    assert len(image_segmentation.segment_image(img, RingStub(small=("o", 0.6)), ink="white")) == 2


def test_an_arrow_written_as_bar_and_head_apart_is_a_pair():
    unit = 40.0
    bar, head = Box(0, 28, 40, 32), Box(44, 15, 60, 45)  # '-' then '>' around the bar's height
    assert image_parts.arrow_parts([bar, head], 0, 1, unit) and image_parts.arrow_parts([head, bar], 0, 1, unit)
    assert not image_parts.arrow_parts([bar, Box(44, -30, 60, 0)], 0, 1, unit)  # a head above the bar: not an arrow
    assert not image_parts.arrow_parts([bar, Box(70, 15, 86, 45)], 0, 1, unit)  # too far: two symbols
    assert not image_parts.arrow_parts([bar, Box(44, 28, 84, 32)], 0, 1, unit)  # two bars


class PiStub(RuleStub):
    """Reads a crop of a bar with two or more parts under it as a sure '\\pi'; one part as '-' when flat, else '1'."""

    def read(self, im):
        stats = part_stats(im)
        return ("\\pi" if len(stats) >= 2 else "-" if stats[0][2] > 2.5 * stats[0][3] else "1"), 0.9


def _pi_parts(img, x, y):
    cv2.line(img, (x, y), (x + 50, y), 255, 4)  # the bar
    cv2.line(img, (x + 14, y + 8), (x + 12, y + 45), 255, 4)  # the legs, apart from it
    cv2.line(img, (x + 36, y + 8), (x + 40, y + 45), 255, 4)


def test_a_pi_written_in_parts_is_one_symbol_but_not_under_a_numerator():
    img = np.zeros((120, 200), np.uint8)
    _pi_parts(img, 20, 40)
    hyps = image_segmentation.segment_image(img, PiStub(), ink="white")
    assert [h.token for h in hyps] == ["\\pi"] and len(hyps[0].strokes) == 3
    frac = np.zeros((160, 200), np.uint8)
    _pi_parts(frac, 20, 80)
    cv2.line(frac, (45, 20), (45, 65), 255, 4)  # a '1' over the bar: the bar is a fraction's
    hyps = image_segmentation.segment_image(frac, PiStub(), ink="white")
    assert "\\pi" not in [h.token for h in hyps] and len(hyps) == 4


def test_the_dot_of_a_name_read_whole_joins_it():
    P = Prediction
    unit = 40.0
    groups = [[0], [1], [2]]
    boxes = [Box(0, 20, 90, 50), Box(40, 5, 45, 10), Box(95, 45, 100, 50)]  # 'sin', the dot of its 'i', a '.' after
    preds = [[P("\\sin", "\\sin", 0.4)], [P(".", ".", 0.9)], [P(".", ".", 0.9)]]
    image_segmentation._dot_names(groups, boxes, preds, unit)
    assert groups == [[0, 1], [2]] and boxes[0].y0 == 5 and [p[0].label for p in preds] == ["\\sin", "."]


def test_a_pm_in_a_numerator_is_not_taken_for_a_fraction_bar():
    unit = 53.0
    plus, bar = Box(98, 28, 125, 60), Box(102, 63, 128, 70)  # the parts of a '\pm'
    line, four = Box(16, 92, 244, 103), Box(92, 108, 139, 167)  # the fraction it sits in, and its denominator
    assert image_parts.mergeable([plus, bar, line, four], 0, 1, unit)
    # without the longer bar, ink under the short one makes it a fraction bar ('+' over '4')
    assert not image_parts.mergeable([plus, bar, Box(92, 75, 139, 125)], 0, 1, unit)


def test_the_dot_of_an_exclamation_mark_off_to_one_side_joins_its_stem():
    unit = 40.0
    stem, dot = Box(100, 0, 108, 36), Box(92, 40, 98, 46)  # the dot under the stem's foot, left of it
    assert image_parts.mergeable([stem, dot], 0, 1, unit) and image_parts.mergeable([dot, stem], 0, 1, unit)
    assert not image_parts.mergeable([stem, Box(92, 70, 98, 76)], 0, 1, unit)  # far below: a dot of its own
    assert not image_parts.mergeable([Box(100, 0, 130, 36), dot], 0, 1, unit)  # under a letter's foot: a full stop


class ParenStub(RuleStub):
    """Reads a crop by where its ink lies: left of centre '(', right of it ')'; centred, a sure 'k' when wider than
    a third of its height, else '1'."""

    def read(self, im):
        ys, xs = np.nonzero(im > 60)
        w, h = np.ptp(xs) + 1, np.ptp(ys) + 1
        rel = (xs.mean() - xs.min()) / max(w - 1, 1)
        return ("(" if rel < 0.42 else ")" if rel > 0.58 else "k" if w > 0.3 * h else "1"), 0.9


def test_an_unmatched_bracket_finds_its_partner_touching_the_symbol_next_to_it():
    img = np.zeros((130, 200), np.uint8)
    cv2.ellipse(img, (60, 60), (18, 40), 0, 90, 270, 255, 4)  # '(' ...
    cv2.line(img, (70, 22), (70, 98), 255, 4)  # ... touching a '1' at its top end
    cv2.line(img, (60, 20), (70, 22), 255, 3)
    cv2.ellipse(img, (100, 60), (18, 40), 0, -90, 90, 255, 4)  # ')'
    assert [h.token for h in image_segmentation.segment_image(img, ParenStub(), ink="white")] == ["(", "1", ")"]
    mirrored = np.ascontiguousarray(img[:, ::-1])  # a '(' never closed finds its ')' touching the '1' after it
    assert [h.token for h in image_segmentation.segment_image(mirrored, ParenStub(), ink="white")] == ["(", "1", ")"]
    img[:, 85:] = 0  # no ')': nothing asks for a '(', the touching pair stays one symbol
    assert [h.token for h in image_segmentation.segment_image(img, ParenStub(), ink="white")] == ["k"]


class BarStub(RuleStub):
    """Reads a flat crop as '-', a narrow one as '1', anything else as an '8': sure when it is taller than wide,
    unsure when wide (the bar and the '8' as one)."""

    def read(self, im):
        ys, xs = np.nonzero(im > 60)
        w, h = np.ptp(xs) + 1, np.ptp(ys) + 1
        if h < 0.25 * w:
            return "-", 0.9
        if w < 0.3 * h:
            return "1", 0.9
        return "8", 0.9 if w < h else 0.4


def test_a_fraction_bar_touching_its_denominator_is_cut_out():
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.reader.parse import parse

    img = np.zeros((160, 180), np.uint8)
    cv2.line(img, (80, 15), (80, 58), 255, 4)  # '1'
    cv2.line(img, (30, 70), (130, 71), 255, 4)  # the bar ...
    cv2.circle(img, (80, 87), 14, 255, 4)  # ... resting on an '8'
    cv2.circle(img, (80, 117), 16, 255, 4)
    hyps = image_segmentation.segment_image(img, BarStub(), ink="white")
    assert sorted(h.token for h in hyps) == ["-", "1", "8"]
    assert to_latex(parse(hyps)) == "\\frac{1}{8}"
    img[:62] = 0  # nothing over the bar: no fraction, the component stays whole
    assert [h.token for h in image_segmentation.segment_image(img, BarStub(), ink="white")] == ["8"]
    img = np.zeros((160, 180), np.uint8)  # a bar that ends where the symbol on it starts: an 'L', not a fraction
    cv2.line(img, (80, 15), (80, 58), 255, 4)
    cv2.line(img, (40, 70), (130, 71), 255, 4)
    cv2.line(img, (40, 70), (40, 140), 255, 4)
    cv2.line(img, (40, 140), (60, 140), 255, 4)
    comps = image_parts.components(img)
    preds = BarStub().predict([image_parts.render_parts(img, [m], b) for b, m in comps])
    unit = float(np.median([max(b.h, b.w) for b, _ in comps]))
    pen = image_parts.pen_width(img)
    assert len(image_bars.cut_bars(img, comps, preds, unit, BarStub(), 5, pen)[0]) == len(comps) == 2


class FootStub(RuleStub):
    """Reads a flat crop as '-', a tall one as '1' (a foot under it or not), anything else as '2'."""

    def read(self, im):
        ys, xs = np.nonzero(im > 60)
        w, h = np.ptp(xs) + 1, np.ptp(ys) + 1
        return ("-", 0.9) if h < 0.25 * w else ("1", 0.9) if h > 1.2 * w else ("2", 0.9)


def test_a_one_standing_on_a_fraction_bar_is_a_numerator():
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.reader.parse import parse

    img = np.zeros((140, 120), np.uint8)
    cv2.line(img, (60, 20), (60, 62), 255, 4)  # '1' ...
    cv2.line(img, (45, 64), (75, 64), 255, 4)  # ... on a bar it touches
    cv2.circle(img, (60, 92), 13, 255, 4)  # a '2' under it
    hyps = image_segmentation.segment_image(img, FootStub(), ink="white")
    assert sorted(h.token for h in hyps) == ["-", "1", "2"]
    assert to_latex(parse(hyps)) == "\\frac{1}{2}"
    img[75:] = 0  # nothing under the bar: a one with a foot
    assert [h.token for h in image_segmentation.segment_image(img, FootStub(), ink="white")] == ["1"]


class ThinStemStub(FootStub):
    """As FootStub, but a bare stem (no foot) reads 'r'."""

    def read(self, im):
        ys, xs = np.nonzero(im > 60)
        return ("r", 0.5) if np.ptp(xs) + 1 < 0.2 * (np.ptp(ys) + 1) else super().read(im)


def test_a_one_cut_off_its_foot_keeps_the_reading_of_the_whole():
    img = np.zeros((140, 120), np.uint8)
    cv2.line(img, (60, 20), (60, 62), 255, 4)
    cv2.line(img, (45, 64), (75, 64), 255, 4)
    cv2.circle(img, (60, 92), 13, 255, 4)
    hyps = image_segmentation.segment_image(img, ThinStemStub(), ink="white")
    assert sorted(h.token for h in hyps) == ["-", "1", "2"]


class SumStub(RuleStub):
    """Reads a crop of a flat part over a big one as '\\sum', a flat part alone as '-', a small one as 'n', and
    a big one as 'z'."""

    def read(self, im):
        parts = part_stats(im)
        flat = [s for s in parts if s[3] < 0.3 * s[2]]
        if len(parts) == 2 and len(flat) == 1 and max(s[3] for s in parts) > 40:
            return "\\sum", 0.85
        if len(parts) == 1 and flat:
            return "-", 0.9
        return ("n", 0.9) if max(s[2] for s in parts) < 30 else ("z", 0.9)


def test_the_top_bar_of_a_sum_written_apart_joins_it_under_its_upper_limit():
    img = np.zeros((200, 160), np.uint8)
    cv2.circle(img, (80, 22), 9, 255, 3)  # the upper limit 'n'
    cv2.line(img, (52, 45), (108, 45), 255, 4)  # the top bar, apart from ...
    cv2.line(img, (50, 56), (110, 56), 255, 4)  # ... the body, a big 'z'
    cv2.line(img, (110, 56), (50, 120), 255, 4)
    cv2.line(img, (50, 120), (110, 120), 255, 4)
    cv2.circle(img, (80, 150), 9, 255, 3)  # the lower limit
    hyps = image_segmentation.segment_image(img, SumStub(), ink="white")
    assert sorted(h.token for h in hyps) == ["\\sum", "n", "n"]
    # a bar over a symbol no bigger than the others, with another over it, stays a fraction bar: 'z' over 'z'
    img = np.zeros((220, 160), np.uint8)
    for top in (20, 124):
        cv2.line(img, (50, top), (110, top), 255, 4)
        cv2.line(img, (110, top), (50, top + 64), 255, 4)
        cv2.line(img, (50, top + 64), (110, top + 64), 255, 4)
    cv2.line(img, (48, 106), (112, 106), 255, 4)
    assert sorted(h.token for h in image_segmentation.segment_image(img, SumStub(), ink="white")) == ["-", "z", "z"]


class ScriptStub(RuleStub):
    """Reads a small crop as a sure 'n', a round blob as a sure 'o', and a blob with more ink at its corner as an
    unsure 'o' (the classifier swallowing a touching exponent)."""

    def read(self, im):
        ys, xs = np.nonzero(im > 60)
        w, h = np.ptp(xs) + 1, np.ptp(ys) + 1
        if max(w, h) < 25:
            return "n", 0.8
        return ("o", 0.9) if w < 1.05 * h else ("o", 0.6)


def test_an_exponent_touching_its_base_is_cut_off(monkeypatch):
    img = np.zeros((120, 200), np.uint8)
    cv2.circle(img, (60, 70), 22, 255, -1)  # the base (a blob: no cheap cut across it) ...
    cv2.circle(img, (84, 50), 7, 255, 3)  # ... and its exponent touching its corner: one component
    cv2.circle(img, (150, 70), 22, 255, -1)  # another symbol, apart
    hyps = image_segmentation.segment_image(img, ScriptStub(), ink="white")
    assert len(hyps) == 3 and hyps[1].box.y1 < hyps[0].box.cy  # cut where the strokes meet: a high symbol apart
    # no cuts where strokes meet: the neck cuts alone, and the swallowed script's rule
    monkeypatch.setattr(image_splits.image_touch, "touch_cuts", lambda *a: [])
    hyps = image_segmentation.segment_image(img, ScriptStub(), ink="white")
    assert [h.token for h in hyps] == ["o", "n", "o"]
    assert hyps[1].box.y1 < hyps[0].box.cy  # the 'n' is high: an exponent


def test_segment_strokes_checks_the_strokes_once_and_passes_them_on_checked(monkeypatch):
    from inkmath import ink

    checked = []
    as_strokes = ink.as_strokes

    def counting(strokes):
        checked.append(not isinstance(strokes, ink._Checked))  # True: a real check, not a pass-through
        return as_strokes(strokes)

    monkeypatch.setattr(ink, "as_strokes", counting)
    strokes = [line(0, 0, 5, 100), np.zeros((0, 2)), line(60, 40, 120, 40), line(60, 60, 120, 60)]
    hyps = segment.segment_strokes(strokes, ShapeStub())
    assert [h.strokes for h in hyps] == [[0], [2, 3]]
    assert sum(checked) == 2  # the caller's strokes, then the non-empty ones; the helpers get them checked


def test_small_models_share_one_seeded_perceptron():
    from inkmath.equation.reader.layout_model import RelationModel
    from inkmath.training.small_models import fit
    from inkmath.equation.strokes.segment import MergeModel

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5)).astype(np.float32)
    binary = (X[:, 0] > 0).astype(np.float32)
    a = fit(X, binary, outputs=1, hidden=4, epochs=20, batch=64)
    assert all(np.array_equal(a[k], b) for k, b in fit(X, binary, outputs=1, hidden=4, epochs=20, batch=64).items())
    assert ((MergeModel(**a).prob(X) > 0.5) == (binary > 0.5)).mean() > 0.9
    classes = np.digitize(X[:, 1], [-0.5, 0.5])
    m = RelationModel(**fit(X, classes, outputs=3, hidden=8, epochs=30, batch=64))
    p = m.probs(X)
    assert p.shape == (400, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5) and (p.argmax(1) == classes).mean() > 0.8
    assert np.allclose(m.probs(X[0]), p[0], atol=1e-6)  # one vector or a matrix


def test_crops_drawn_once_within_drawn_once_and_the_same_pixels():
    rng = np.random.default_rng(4)
    img = (rng.random((60, 80)) * 255).astype(np.uint8)
    a, b = np.zeros((60, 80), bool), np.zeros((60, 80), bool)
    a[5:30, 10:40], b[20:50, 30:70] = True, True
    box = Box(10.0, 5.0, 70.0, 50.0)
    plain = image_parts.render_parts(img, [a, b], box)
    assert image_parts.render_parts(img, [a, b], box) is not plain  # outside: drawn every time
    with image_parts.drawn_once():
        first = image_parts.render_parts(img, [a, b], box)
        assert np.array_equal(first, plain)
        assert image_parts.render_parts(img, [b, a], box) is first  # the same masks in another order
        with image_parts.drawn_once():  # a nested one shares the outer's
            assert image_parts.render_parts(img, [a, b], box) is first
        other = image_parts.render_parts(img, [a], box)
        alone = cv2.GaussianBlur(image_parts._sharp_crop(img, [a], box), (0, 0), image_parts.CROP_BLUR)
        assert other is not first and np.array_equal(other, alone)
    assert image_parts.render_parts(img, [a, b], box) is not first  # nothing kept after


def test_split_touching_reads_fewer_pieces_for_the_same_cuts_and_records(monkeypatch):
    import hashlib

    class Hashed:  # a stand-in classifier: each crop's reading drawn from its pixels' hash
        def __init__(self):
            self.crops = 0

        def predict(self, crops, ink="white", top=5):
            self.crops += len(crops)
            out = []
            for c in crops:
                h = hashlib.sha256(c.tobytes()).digest()
                label = "0123456789x."[h[0] % 12]
                out.append([Prediction(label, label, 0.25 + 0.75 * h[1] / 255)])
            return out

    def flat(comps, preds, record):
        return ([(b.as_list(), m.tobytes()) for b, m in comps], preds,
                [{k: (v.as_list() if isinstance(v, Box) else repr(v)) for k, v in r.items()} for r in record])

    read_pieces = image_splits._read_pieces
    img = np.zeros((70, 400), np.uint8)
    found = []
    for seed in range(12):  # rows of touching rings of random sizes: components with several necks each
        img[:] = 0
        rng = np.random.default_rng(seed)
        x = 20
        for _ in range(int(rng.integers(3, 6))):
            r = int(rng.integers(10, 16))
            cv2.circle(img, (x + r, 35), r, 255, int(rng.integers(2, 5)))
            x += 2 * r - int(rng.integers(1, 5))  # touching the next one
        mask = img > 60
        ys, xs = np.nonzero(mask)
        comps = [(Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)), mask)]
        preds = [[Prediction("m", "m", 0.3)]]
        outs = []
        for every in (True, False):  # every piece read (as for the image-touch model's data), then the needed ones
            monkeypatch.setattr(image_splits, "_read_pieces",
                                lambda *a, every=False, _every=every: read_pieces(*a, every=every or _every))
            cls, record = Hashed(), []
            outs.append((flat(*image_splits.split_touching(img, comps, preds, 60.0, cls, 5, record=record),
                              record), cls.crops))
        assert outs[0][0] == outs[1][0]
        assert outs[1][1] <= outs[0][1]
        found.append(outs[0][1] - outs[1][1])
    assert sum(found) > 0  # some pieces went unread
