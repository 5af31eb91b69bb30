"""Symbol crops cut from real-looking photos as the page reader cuts them (synth.real_crops): each maths line of a
generated crop found as one group of the cleaned page's ink, each truth symbol's mask on that group's ink, and together covering it."""

from __future__ import annotations

import numpy as np

from test_real_photos import _exprs


def test_each_line_of_a_real_looking_crop_gives_its_symbols_on_the_readers_ink():
    from inkmath.equation.synth.image_crops import cut_symbols
    from inkmath.equation.synth.real_crops import photo_crops
    from inkmath.equation.synth.real_ink import glyph_bank
    from inkmath.equation.synth.real_photos import make_crop

    exprs = _exprs()
    by_id = {e.id: e for e in exprs}
    bank = glyph_bank(exprs)
    lines = symbols = 0
    for seed in range(3):
        photo = make_crop(exprs, bank, seed)
        maths = [i for i in photo.items if i.kind == "maths"]
        assert maths and photo.to_photo is not None
        for expr, img, masks in photo_crops(photo, by_id, None):  # the thresholds' ink: no model needed
            lines += 1
            assert img.dtype == np.uint8 and img.any()
            ink = img > 0
            union = np.any([m for _, m in masks], axis=0)
            assert len(masks) >= len(expr.groups) - 1 and sum((m & ink).any() for _, m in masks) >= len(masks) - 1
            assert (union & ink).sum() >= 0.8 * ink.sum()  # the line's ink is its symbols' ink
            crops, which = cut_symbols(expr, img, masks)
            symbols += len(crops)
            assert all(expr.groups[k].label for k in which)
    assert lines >= 3 and symbols >= 3 * lines
