"""The generator of real-looking photos (inkmath.equation.synth.real_photos): seeded to the byte, truth that lies on
the photo, an ink mask where the ink is, and photos whose statistics sit in the real set's range."""

from __future__ import annotations

import numpy as np
import pytest


def _exprs():
    from inkmath.data.crohme import InkmlExpression, TraceGroup
    from inkmath.synth import write

    def expr(i: int, text: str) -> InkmlExpression:  # each character one truth symbol
        strokes, groups = [], []
        for k, ch in enumerate(text):
            ss = [np.asarray(p, float) for p in write(ch, x=30 * k, base_y=40, size=40)]
            groups.append(TraceGroup(ch, list(range(len(strokes), len(strokes) + len(ss)))))
            strokes += ss
        return InkmlExpression(f"e{i}", strokes, groups, latex_truth=text)

    texts = ["x+1=5", "2x=8", "x=4", "y-3=2", "y=5", "3+8=11", "9=x", "7x=14", "x=2", "y+x", "12-5=7", "4x-1"]
    return [expr(i, t) for i, t in enumerate(texts * 3)]


@pytest.fixture(scope="module")
def made():
    from inkmath.equation.synth.real_ink import glyph_bank
    from inkmath.equation.synth.real_photos import make_crop

    exprs = _exprs()
    bank = glyph_bank(exprs)
    return exprs, bank, [make_crop(exprs, bank, seed) for seed in range(6)]


def test_the_same_seed_gives_the_same_bytes(made):
    from inkmath.equation.synth.real_photos import make_crop, make_page

    exprs, bank, crops = made
    again = make_crop(exprs, bank, 0)
    assert again.jpeg_bytes == crops[0].jpeg_bytes and np.array_equal(again.ink, crops[0].ink)
    assert again.truth == crops[0].truth and again.other == crops[0].other
    assert make_crop(exprs, bank, 1).jpeg_bytes != crops[0].jpeg_bytes
    page = make_page(exprs, bank, 1)  # a 719x1280 page
    assert make_page(exprs, bank, 1).jpeg_bytes == page.jpeg_bytes
    assert page.photo.shape[:2] in ((1280, 719), (2048, 1152), (4032, 3024)) and len(page.truth) >= 2


def test_truth_and_ink_mask_lie_on_the_photo(made):
    _, _, crops = made
    for p in crops:
        h, w = p.photo.shape[:2]
        assert p.ink.shape == (h, w) and p.truth
        grey = p.photo.mean(axis=2)
        paper = float(np.median(grey))
        # the ink mask is darker than the paper; most of it lies inside a truth or other box (the rest: the boxes and
        # underlines drawn round answers)
        assert grey[p.ink > 0].mean() < paper - 15
        inside = np.zeros((h, w), bool)
        for t in p.truth + p.other:
            x0, y0, x1, y1 = (int(round(v)) for v in t["box"])
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            inside[max(0, y0 - 3):y1 + 3, max(0, x0 - 3):x1 + 3] = True
        assert (inside & (p.ink > 0)).sum() > 0.7 * (p.ink > 0).sum()
        assert all(o["kind"] in ("text", "label", "crossed_out") for o in p.other)


def test_crops_sit_in_the_real_sets_range(made):
    """Each crop's paper grey and stroke width fall inside a wide band round the real set's (photo_stats.py)."""
    import cv2

    _, _, crops = made
    for p in crops:
        grey = cv2.cvtColor(p.photo, cv2.COLOR_RGB2GRAY).astype(np.float32)
        paper = float(np.median(grey))
        assert 130 <= paper <= 215
        assert 30 <= paper - float(np.percentile(grey, 0.5)) <= 200
        assert 8 <= p.info["symbol_px"] <= 30
