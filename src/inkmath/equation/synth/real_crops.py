"""Symbol crops cut from real-looking photos of CROHME ink as the page reader cuts them: each photo a crop round one
student's answer (``real_photos.make_crop``: pencil or ballpoint on grey ruled, squared or plain paper, words and
question numbers beside the maths, a phone's camera), cleaned as the page reader cleans it (``clean_at_writing_size``
with its ink extractor, ``page.read.PAGE_INK``), each maths line's ink components cut out as the reader cuts a group
(``views.group_crop``: narrowed, upscaled, deblurred as the page asks), and each truth symbol's pixels in that crop
(its strokes drawn through the camera's and the clean-up's maps) cut as the image reader cuts a symbol
(``image_crops.cut_symbols``).

``crohme-real:SPLIT`` (``inkmath.equation.synth.crohme_wap``) serves them to the training loop: the image reader's
classifier fine-tuned on them learns the ink of a phone photo (broken pencil, low resolution, the extractor's edges)
rather than only clean renderings.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from inkmath import ink as _ink
from inkmath.data.crohme import CropTable, iter_inkml
from inkmath.equation.core.tree import Box
from inkmath.equation.photo.find import InkGroup, find_expressions
from inkmath.equation.photo.views import clean_at_writing_size, group_crop, measure_narrowing
from inkmath.equation.synth.image_crops import cut_symbols
from inkmath.errors import InkmathError

SEED = 5  # photo k of a build is drawn from seed SEED * 1_000_003 + k: the same crops every build
WINDOW = 40  # expressions offered to each photo (it takes 1-4 of them, in order)
MASK_PEN = 0.12  # a symbol's mask is drawn with a pen this share of the page's typical symbol (then met with the ink)


def _line_group(found, drawn: np.ndarray) -> InkGroup | None:
    """The group of the ink components that a maths line's drawn pen track touches."""
    comps = np.unique(found.labels[drawn & (found.labels > 0)])
    if not len(comps):
        return None
    ys, xs = np.nonzero(np.isin(found.labels, comps))
    return InkGroup(Box(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)),
                    [int(c) for c in comps])


def photo_crops(photo, exprs_by_id: dict, ink_model) -> list[tuple[object, np.ndarray, list]]:
    """[(expression, the page reader's crop of its line, [(group index, the symbol's bool mask in that crop)])] for
    each maths line of a ``real_photos.make_crop`` photo; [] when the clean-up finds no page or ink."""
    try:
        page, _ = clean_at_writing_size(photo.photo, ink_model=ink_model)
    except InkmathError:
        return []
    if not page.ink.any():
        return []
    found = find_expressions(page.ink)
    measure_narrowing(page, found)
    to_page = np.linalg.inv(page.to_photo) @ photo.to_photo  # the generator's sheet px -> the cleaned page's px
    pen = max(1, int(round(MASK_PEN * found.unit)))
    out = []
    for item in photo.items:
        expr = exprs_by_id.get(item.id) if item.kind == "maths" else None
        if expr is None:
            continue
        where = [k for k, s in enumerate(expr.strokes) if len(s)]  # item.strokes hold the non-empty strokes in order
        pts = [cv2.perspectiveTransform(np.asarray(s, np.float64)[None], to_page)[0] for s in item.strokes]
        track = np.zeros(page.ink.shape, np.uint8)
        _ink._draw(track, [np.rint(p * _ink._ONE).astype(np.int32) for p in pts], pen)
        g = _line_group(found, track > 0)
        if g is None:
            continue
        img, (ox, oy), f = group_crop(page, found, g)
        own = {i: k for k, i in enumerate(where)}
        masks = []
        for k, grp in enumerate(expr.groups):
            mine = [pts[own[i]] for i in grp.stroke_ids if i in own]
            if not mine:
                continue
            m = np.zeros(img.shape, np.uint8)
            _ink._draw(m, [np.rint(((p - (ox, oy)) * f) * _ink._ONE).astype(np.int32) for p in mine],
                       max(1, int(round(pen * f))))
            masks.append((k, m > 0))
        out.append((expr, img, masks))
    return out


def build_crops(archive: Path, subset: str, photos: int, preset: str = "crohme32",
                ink_model=None) -> dict[str, np.ndarray]:
    """Arrays of the symbol crops of ``photos`` real-looking photos of the archive's expressions (as
    ``image_crops.build_crops`` stores them; each expression in one photo at most, their order shuffled once by
    ``SEED``); words and question numbers are written with the training ink's letters (``training_glyph_bank``).
    ``ink_model``: the ink extractor (default: the page reader's own)."""
    from inkmath.equation.page.read import PAGE_INK
    from inkmath.equation.photo.ink_net import load_ink_extractor
    from inkmath.equation.synth.pages import usable
    from inkmath.equation.synth.real_ink import training_glyph_bank
    from inkmath.equation.synth.real_photos import make_crop

    if ink_model is None and PAGE_INK:
        ink_model = load_ink_extractor(PAGE_INK)
    exprs = [e for e in iter_inkml(archive, subset) if usable(e)]
    by_id = {e.id: e for e in exprs}
    pool = [exprs[i] for i in np.random.default_rng(SEED).permutation(len(exprs))]
    bank = training_glyph_bank()
    table = CropTable(preset)
    for k in range(photos):
        if not pool:
            break
        try:
            photo = make_crop(pool[:WINDOW], bank, SEED * 1_000_003 + k)
        except ValueError:  # nothing in the window fits a crop
            pool = pool[WINDOW:]
            continue
        used = {i.id for i in photo.items if i.id}
        pool = [e for e in pool if e.id not in used]
        for expr, img, masks in photo_crops(photo, by_id, ink_model):
            crops, which = cut_symbols(expr, img, masks, preset)
            table.add(expr, crops, which)
    return {**table.arrays(archive, subset), "expr_ids": np.array(table.expr_ids),
            "names": np.array(table.vocab.names)}
