"""The learned ink extractor's mask on a faint (pencil) page, grown by hysteresis from the card's threshold down to
``FAINT_LOW``, and not on a page of darker ink; and a paper line's dash the thresholds see no ink in, dropped from
the learned ink on a lined sheet only."""

from __future__ import annotations

import numpy as np

from inkmath.equation.photo import clean as page_clean
from inkmath.equation.photo import ink_net


class _Fixed(ink_net.InkExtractor):
    """An extractor whose probability is given."""

    def __init__(self, p: np.ndarray):
        self.p, self.threshold, self.card = p, 0.6, {}

    def probability(self, flat, sheet_rgb):
        return self.p


def _stroke_with_a_pale_stretch() -> np.ndarray:
    p = np.zeros((40, 80), np.float32)
    p[20, 10:30] = 0.9  # sure
    p[20, 30:50] = 0.3  # pale, joined to the sure stretch
    p[5, 60:70] = 0.3  # pale, alone
    return p


def test_a_faint_page_keeps_the_pale_stretch_of_a_stroke_joined_to_its_sure_ink():
    p = _stroke_with_a_pale_stretch()
    flat = np.full(p.shape, 255 - (ink_net.FAINT_INK - 40), np.uint8)  # faint: paper minus a pencil's darkness
    m = _Fixed(p).mask(flat, np.zeros(p.shape + (3,), np.uint8)) > 0
    assert m[20, 10:50].all()
    assert not m[5, 60:70].any()


def test_a_page_of_dark_ink_keeps_only_the_sure_ink():
    p = _stroke_with_a_pale_stretch()
    flat = np.full(p.shape, 255 - (ink_net.FAINT_INK + 60), np.uint8)
    m = _Fixed(p).mask(flat, np.zeros(p.shape + (3,), np.uint8)) > 0
    assert m[20, 10:30].all() and not m[20, 30:50].any()


def test_an_unconfirmed_dash_on_a_lined_sheet_is_a_paper_line():
    mask = np.zeros((100, 200), np.uint8)
    mask[50:54, 20:60] = 255  # a dash the thresholds see no ink in (a squared sheet's line)
    mask[50:54, 100:140] = 255  # a minus sign the thresholds see too
    mask[20:80, 170:176] = 255  # a tall stroke
    confirm = np.zeros_like(mask)
    confirm[51:53, 110:130] = 255
    confirm[30:70, 172:174] = 255
    lined = page_clean.learned_ink(mask, confirm=confirm, lined=True) > 0
    assert not lined[50:54, 20:60].any() and lined[50:54, 100:140].all() and lined[20:80, 170:176].all()
    plain = page_clean.learned_ink(mask, confirm=confirm) > 0
    assert plain[50:54, 20:60].all()


def test_the_shipped_extractor_reads_the_same_ink_on_onnx_runtime_as_on_pytorch():
    from inkmath.equation.photo.ink_net import load_ink_extractor

    model = load_ink_extractor(None)
    assert model.digest
    rng = np.random.default_rng(0)
    flat = np.full((120, 200), 230, np.uint8)
    flat[40:44, 20:180] = 90  # a stroke
    flat[60:100, 100:104] = 150
    sheet = np.repeat(flat[..., None], 3, axis=2)
    flat = np.clip(flat.astype(int) + rng.integers(-8, 8, flat.shape), 0, 255).astype(np.uint8)
    fast = model.probability(flat, sheet)
    assert model._onnx() is not None
    model._session = False  # PyTorch
    slow = model.probability(flat, sheet)
    assert np.abs(fast - slow).max() < 1e-4 and (fast >= model.threshold).sum() > 100
