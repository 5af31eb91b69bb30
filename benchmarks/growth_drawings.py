"""The large drawings ``bench_growth.py`` times: real expressions laid out on a canvas, and random short strokes.

    from growth_drawings import realistic_drawing, random_drawing
    strokes = realistic_drawing(200)   # CROHME 2011-2013 (validation) expressions in rows, exactly 200 strokes
    strokes = random_drawing(400)      # the issue's 400 strokes of 10 points, seeded

Realistic: validation expressions taken in a seeded order, each rescaled so that its typical symbol
(``ink.symbol_size``) is ``SYMBOL_PX`` canvas pixels, laid side by side ``GAP_SYMBOLS`` symbol sizes apart in rows
``CANVAS_WIDTH`` wide, the rows ``ROW_GAP_SYMBOLS`` symbol sizes of clear paper apart, until ``n`` strokes (the last
expression's first strokes). Never the 2014 test ink.
Random: ``n`` strokes of 10 points, each a short random walk (steps of about a sixth of a symbol) started anywhere on a
``CANVAS_WIDTH`` x ``CANVAS_HEIGHT`` canvas.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SYMBOL_PX = 40.0  # a symbol's size on a tablet canvas, in pixels
CANVAS_WIDTH = 1600.0
CANVAS_HEIGHT = 1000.0
GAP_SYMBOLS = 3.0  # clear paper between two expressions side by side, in symbol sizes
# clear paper between two rows, in symbol sizes: more than the reader's PART_LINE_GAP (2), which is more than any
# validation expression holds inside it
ROW_GAP_SYMBOLS = 2.5
POINTS = 10  # the strokes of 10 points


@lru_cache(maxsize=1)
def validation_ink() -> tuple[tuple[str, tuple[np.ndarray, ...]], ...]:
    """(id, strokes) of every validation expression (CROHME 2011-2013 test), strokes as float (P, 2) arrays."""
    from inkmath.evaluation.crohme import _load_items, resolve_source

    items, _ = _load_items(resolve_source("val", None), "inkml", None)
    return tuple((it.id, tuple(np.asarray(s, float)[:, :2] for s in it.data if len(s))) for it in items)


def _scaled(strokes, x: float, y: float) -> list[np.ndarray]:
    """``strokes`` rescaled to ``SYMBOL_PX`` a symbol, their box's top left at (x, y)."""
    from inkmath import ink

    unit = ink.symbol_size(strokes) or 1.0
    x0, y0, _, _ = ink.bbox(strokes)
    return [(s - (x0, y0)) * (SYMBOL_PX / unit) + (x, y) for s in strokes]


def realistic_drawing(n: int, seed: int = 0) -> list[np.ndarray]:
    """Exactly ``n`` strokes of real expressions laid out in rows (the module docstring)."""
    exprs = validation_ink()
    order = np.random.default_rng(seed).permutation(len(exprs))
    out: list[np.ndarray] = []
    x, y, row_height = 0.0, 0.0, 0.0
    for k in order:
        placed = _scaled(exprs[k][1], 0.0, 0.0)
        width = max(float(s[:, 0].max()) for s in placed)
        height = max(float(s[:, 1].max()) for s in placed)
        if x > 0 and x + width > CANVAS_WIDTH:
            x, y, row_height = 0.0, y + row_height + ROW_GAP_SYMBOLS * SYMBOL_PX, 0.0
        out += [s + (x, y) for s in placed][:n - len(out)]
        x += width + GAP_SYMBOLS * SYMBOL_PX
        row_height = max(row_height, height)
        if len(out) >= n:
            return out
    raise ValueError(f"the validation set has fewer than {n} strokes")


def random_drawing(n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` random short strokes of ``POINTS`` points (the module docstring)."""
    rng = np.random.default_rng(seed)
    starts = rng.random((n, 1, 2)) * (CANVAS_WIDTH, CANVAS_HEIGHT)
    steps = rng.normal(0.0, SYMBOL_PX / 6, (n, POINTS - 1, 2))
    walks = np.concatenate([np.zeros((n, 1, 2)), np.cumsum(steps, axis=1)], axis=1)
    return list(starts + walks)
