"""Expressions' ink drawn as the page reader reads it out of a worksheet photo: written on paper as
``page_synth`` writes a page (its handwriting size, pen and inks: black, blue, pencil's grain), photographed as it
photographs one (the sheet's scale in the photo, blur, sensor noise, JPEG), cleaned as ``page_clean`` cleans it
(the light flattened, ``ink_mask``'s ink) and cut out as ``page.group_crop`` cuts a group (``page_find.group_image``:
the ink narrowed to the sharp darkness' cores, enlarged ``READ_UPSCALE`` times). The image classifier of the page
reader (``page-classifier``) is fine-tuned on symbols cut from these (``image_crops``, ``crohme-page:SPLIT``).

What is left out: the sheet's warp and turn (the clean-up undoes them), paper lines (removed), uneven light and
shadow (flattened), a second column or neighbours on the page.
"""

from __future__ import annotations

import io

import cv2
import numpy as np

from inkmath.equation.synth import pages as page_synth
from inkmath import ink as _ink
from inkmath.equation.core.tree import Box
from inkmath.equation.photo.clean import ink_mask
from inkmath.equation.photo.find import FoundExpressions, group_image, InkGroup
from inkmath.equation.photo.views import READ_UPSCALE
from inkmath.errors import InkmathError

PHOTO_FILL = (0.72, 0.92)  # share of the photo's height the sheet covers (page_synth._photo)
MAX_BLUR = 1.2  # px in the photo: the blur's sigma is drawn up to this (page_synth._photo) ...
MIN_BLUR = 0.3  # ... and applied from this
NOISE = (2.0, 6.0)  # sensor noise's standard deviation (grey levels)
JPEG_QUALITY = (60, 92)
MARGIN = 1.5  # symbol heights of paper around the ink
MASK_PEN = 0.1  # a symbol's mask is drawn with a pen this share of a symbol's height (the thickest page pen)


def render_labelled(expr, rng: np.random.Generator, labels: bool = True) -> tuple[np.ndarray, list]:
    """The expression as the page reader's crop of it (uint8 (H, W), 0/255, white on black), and (``labels``) each
    truth group's pixel mask in it, drawn alone with the same transform: [(group index, mask)] for the groups
    with ink. Raises ``InkmathError`` when no ink survives the clean-up."""
    strokes = [np.asarray(s, float)[:, :2] for s in expr.strokes if len(s)]
    if not strokes:
        raise InkmathError(f"{expr.id}: no ink")
    unit = page_synth.SYMBOL_HEIGHT * float(np.exp(rng.normal(0, page_synth.SYMBOL_SPREAD)))
    s = unit / page_synth.mean_symbol_height(expr)
    x0, y0, x1, y1 = _ink.bbox(strokes)
    m = MARGIN * unit
    w, h = int(np.ceil((x1 - x0) * s + 2 * m)), int(np.ceil((y1 - y0) * s + 2 * m))

    def placed(pts):  # sheet pixels
        return [(p - (x0, y0)) * s + m for p in pts]

    ink = str(rng.choice(list(page_synth.INKS), p=[p for _, p in page_synth.INKS.values()]))
    sheet = np.empty((h, w, 3), np.float32)
    sheet[:] = np.array([248, 247, 240], np.float32) + rng.uniform(-6, 4, 3)
    page_synth._draw_ink(sheet, [(None, placed(strokes), None)], rng, unit, ink)
    # the photo: the sheet's scale in it, blur, noise, JPEG
    f = rng.uniform(*PHOTO_FILL) * page_synth.PHOTO_SIZE[1] / (page_synth.SHEET_WIDTH * 1.414)
    pw, ph = max(8, round(w * f)), max(8, round(h * f))
    photo = cv2.resize(sheet, (pw, ph), interpolation=cv2.INTER_AREA)
    sigma = rng.uniform(0.0, MAX_BLUR)
    if sigma > MIN_BLUR:
        photo = cv2.GaussianBlur(photo, (0, 0), sigma)
    photo += rng.normal(0, rng.uniform(*NOISE), photo.shape).astype(np.float32)
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(buf, "JPEG",
                                                                  quality=int(rng.integers(*JPEG_QUALITY)))
    grey = cv2.cvtColor(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")), cv2.COLOR_RGB2GRAY)
    # the clean-up: the light flattened (paper 255), its ink, and the crop read from the sharp darkness
    paper = max(1.0, float(np.percentile(grey, 75)))
    flat = cv2.divide(grey, np.full_like(grey, int(round(paper))), scale=255)
    sharp = cv2.bitwise_not(flat)
    inked, _ = ink_mask(cv2.GaussianBlur(sharp, (3, 3), 0))
    n, lab = cv2.connectedComponents(inked, connectivity=8)
    if n <= 1:
        raise InkmathError(f"{expr.id}: no ink left after the clean-up")
    found = FoundExpressions([], lab.astype(np.int32), unit * f)
    img, _ = group_image(found, InkGroup(Box(0, 0, pw, ph), list(range(1, n))), dark=sharp, upscale=READ_UPSCALE)
    if not img.any():
        raise InkmathError(f"{expr.id}: no ink left in the crop")
    groups = []
    pad = (img.shape[0] - ph * READ_UPSCALE) // 2
    pen = max(1, int(round(MASK_PEN * unit * f * READ_UPSCALE)))
    to_crop = f * READ_UPSCALE
    for k, g in enumerate(expr.groups if labels else []):
        own = [np.asarray(expr.strokes[i], float)[:, :2] for i in g.stroke_ids if i < len(expr.strokes)
               and len(expr.strokes[i])]
        if not own:
            continue
        gi = np.zeros(img.shape, np.uint8)
        _ink._draw(gi, [np.rint((p * to_crop + pad) * _ink._ONE).astype(np.int32) for p in placed(own)], pen)
        groups.append((k, gi > 0))
    return img, groups
