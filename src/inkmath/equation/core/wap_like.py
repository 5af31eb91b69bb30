"""Expressions' ink drawn like the WAP offline bitmaps of CROHME 2014: the image path's validation renderings
(``benchmarks/wap_val.py``, of the 2011-2013 test ink) and the ``image-merge`` model's training renderings (of the
training ink). What makes a rendering WAP-like, measured on the WAP bitmaps themselves (986 images; sizes against
the 2014 test ink they were drawn from, only to learn how ink maps to pixels):

- binary, 0 and 255, white ink on black, a pen about 3.3 px wide (``image_parts.pen_width``: median 3.28, 5-95 %
  3.15-3.49) without antialiasing;
- 12 px of black above and left of the ink, 11 px below and right;
- the scale follows the handwriting, not the tablet: the mean height of a symbol is about 30 px (median 29.8,
  5-95 % 22-38 px, a log-spread of 0.16), while the whole ink's height varies with the expression (31-288 px).
"""

from __future__ import annotations

import numpy as np
from inkmath.sizes import mean_symbol_height  # noqa: F401 (the renderings' scale)

SYMBOL_HEIGHT = 29.8  # px: median over the WAP bitmaps of the mean truth-symbol height
SYMBOL_HEIGHT_SPREAD = 0.16  # std of log(mean symbol height) over the WAP bitmaps
# ink.rasterize thickness and the grey level kept as ink that draw WAP's pen: pen_width median 3.29 on the first 150
# renderings (3.67 at a level of 128, 3.48 at 160; a thickness of 3 gives 4.6 or more)
PEN = 2
INK_LEVEL = 190
PADDING = (12, 11)  # px before / after the ink, as in the WAP bitmaps


def render_labelled(expr, rng: np.random.Generator, labels: bool = True) -> tuple[np.ndarray, list]:
    """The expression drawn WAP-like (uint8 (H, W), 0/255, white on black) at a mean symbol height drawn from
    ``rng``, and (``labels``) each truth group's pixel mask in it, drawn alone with the same transform: [(group
    index, mask)] for the groups with ink."""
    from inkmath import ink

    strokes = [np.asarray(s, float)[:, :2] for s in expr.strokes if len(s)]
    h = mean_symbol_height(expr) or ink.symbol_size(strokes) or 1.0
    target = SYMBOL_HEIGHT * float(np.exp(rng.normal(0.0, SYMBOL_HEIGHT_SPREAD)))
    img, tf = draw(strokes, target / h)
    cut = PADDING[0] - PADDING[1]
    groups = []
    for k, g in enumerate(expr.groups if labels else []):
        own = [np.asarray(expr.strokes[i], float)[:, :2] for i in g.stroke_ids if len(expr.strokes[i])]
        if not own:
            continue
        gi = np.zeros((img.shape[0] + cut, img.shape[1] + cut), np.uint8)
        ink._draw(gi, [np.rint(tf.to_pixels(s) * ink._ONE).astype(np.int32) for s in own], PEN)
        groups.append((k, gi[:img.shape[0], :img.shape[1]] >= INK_LEVEL))
    return img, groups


def draw(strokes, scale: float):
    """(uint8 (H, W), 0/255, white on black; ``ink.Transform``): strokes ((P, 2) arrays) drawn as the WAP bitmaps
    are, at ``scale`` pixels per ink unit: WAP's pen, padding and ink level."""
    from inkmath import ink

    img, tf = ink.rasterize(strokes, scale=scale, thickness=PEN, padding=PADDING[0])
    cut = PADDING[0] - PADDING[1]
    img = img[:img.shape[0] - cut, :img.shape[1] - cut]
    return np.where(img >= INK_LEVEL, 255, 0).astype(np.uint8), tf


def render_wap_like(expr, rng: np.random.Generator) -> np.ndarray:
    """uint8 (H, W): the expression's ink as a WAP bitmap (0/255, white on black)."""
    return render_labelled(expr, rng, labels=False)[0]
