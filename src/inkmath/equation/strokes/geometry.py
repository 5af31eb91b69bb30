"""The geometry of a drawing's strokes: their boxes, distances and lengths (``StrokeGeometry``), the typical symbol
size of a drawing (``drawing_unit``), and the features of a pair of strokes that the merge and late-stroke models
read (``pair_features``, ``context_features``)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def _stroke_box(s: np.ndarray) -> tuple[float, float, float, float]:
    return float(s[:, 0].min()), float(s[:, 1].min()), float(s[:, 0].max()), float(s[:, 1].max())


def _min_dist(a: np.ndarray, b: np.ndarray) -> float:
    """Closest approach of two strokes (points subsampled to about 24 each: enough for symbol-scale gaps)."""
    a = a[:: max(1, len(a) // 24)]
    b = b[:: max(1, len(b) // 24)]
    d = a[:, None, :] - b[None, :, :]
    return float(np.sqrt((d ** 2).sum(-1)).min())


def _length(s: np.ndarray) -> float:
    return float(np.sqrt((np.diff(s, axis=0) ** 2).sum(-1)).sum()) if len(s) > 1 else 0.0


class StrokeGeometry:
    """Per-stroke boxes and lengths and pairwise distances of one drawing, each computed once: the features of
    consecutive pairs look at every stroke and most close pairs several times."""

    def __init__(self, strokes: Sequence[np.ndarray]):
        self.strokes = strokes
        self._box: dict[int, tuple[float, float, float, float]] = {}
        self._len: dict[int, float] = {}
        self._dist: dict[tuple[int, int], float] = {}

    def box(self, k: int) -> tuple[float, float, float, float]:
        if k not in self._box:
            self._box[k] = _stroke_box(self.strokes[k])
        return self._box[k]

    def length(self, k: int) -> float:
        if k not in self._len:
            self._len[k] = _length(self.strokes[k])
        return self._len[k]

    def dist(self, p: int, q: int) -> float:
        if (p, q) not in self._dist:
            self._dist[(p, q)] = _min_dist(self.strokes[p], self.strokes[q])
        return self._dist[(p, q)]


def box_pair_features(geo: StrokeGeometry, i: int, j: int, u: float) -> list[float]:
    """The boxes of strokes i and j in units ``u``: both boxes' width and height, the offset of j's centre from i's,
    the gaps from i's right and bottom edges to j's left and top ones, their overlaps in x and y over the smaller
    box's (at least 0.05 u), and the width and height of both together."""
    ax0, ay0, ax1, ay1 = geo.box(i)
    bx0, by0, bx1, by1 = geo.box(j)
    aw, ah, bw, bh = ax1 - ax0, ay1 - ay0, bx1 - bx0, by1 - by0
    ox = min(ax1, bx1) - max(ax0, bx0)
    oy = min(ay1, by1) - max(ay0, by0)
    return [aw / u, ah / u, bw / u, bh / u,
            ((bx0 + bx1) - (ax0 + ax1)) / 2 / u, ((by0 + by1) - (ay0 + ay1)) / 2 / u,
            (bx0 - ax1) / u, (by0 - ay1) / u,
            ox / max(min(aw, bw), 0.05 * u), oy / max(min(ah, bh), 0.05 * u),
            (max(ax1, bx1) - min(ax0, bx0)) / u, (max(ay1, by1) - min(ay0, by0)) / u]


def box_extent(geo: StrokeGeometry, k: int) -> float:
    """Stroke k's box width plus height."""
    x0, y0, x1, y1 = geo.box(k)
    return (x1 - x0) + (y1 - y0)


def link_features(strokes: Sequence[np.ndarray], geo: StrokeGeometry, links, u: float) -> list[float]:
    """For each stroke pair (p, q) of ``links``: their closest approach and their overlap in x, in units ``u``, and
    1; 5, -5 and 0 where either stroke is outside the drawing or empty."""
    n = len(strokes)
    out: list[float] = []
    for p, q in links:
        if 0 <= p < n and 0 <= q < n and len(strokes[p]) and len(strokes[q]):
            px0, _, px1, _ = geo.box(p)
            qx0, _, qx1, _ = geo.box(q)
            out += [geo.dist(p, q) / u, (min(px1, qx1) - max(px0, qx0)) / u, 1.0]
        else:
            out += [5.0, -5.0, 0.0]
    return out


def pair_features(strokes: Sequence[np.ndarray], i: int, unit: float, geo: StrokeGeometry | None = None) -> np.ndarray:
    """Geometry of consecutive strokes i and i+1 and their neighbours, in units of the drawing's typical symbol
    size (float32 (29,)). Pass one ``geo`` for all pairs of a drawing to reuse what they share."""
    geo = geo or StrokeGeometry(strokes)
    a, b = strokes[i], strokes[i + 1]
    u = unit
    ea, eb = box_extent(geo, i), box_extent(geo, i + 1)
    feats = box_pair_features(geo, i, i + 1, u) + [
        float(np.hypot(*(b[0] - a[-1]))) / u, geo.dist(i, i + 1) / u,
        geo.length(i) / u, geo.length(i + 1) / u,
        math.log((ea + 1e-3 * u) / (eb + 1e-3 * u)),
        float(len(a) == 1 or ea < 0.1 * u), float(len(b) == 1 or eb < 0.1 * u),
        float(i + 2 < len(strokes)),
    ]
    # context: does the next stroke come back to the one before (a late dot, the second bar of a '+')? does
    # stroke i reach the stroke after next?
    feats += link_features(strokes, geo, ((i - 1, i + 1), (i, i + 2), (i - 1, i)), u)
    return np.clip(np.asarray(feats, np.float32), -20, 20)


def drawing_unit(strokes: Sequence[np.ndarray]) -> float:
    """Typical symbol size of a drawing in ink units (the rasterizer's normalisation, so both agree)."""
    from inkmath import ink

    size = ink.symbol_size(strokes)
    if size <= 1e-9:
        x0, y0, x1, y1 = ink.bbox(strokes)
        size = max(x1 - x0, y1 - y0, 1.0)
    return float(size)


PAIR_FEATURES = 29  # ``pair_features`` per consecutive pair


def context_features(pf: np.ndarray, window: int) -> np.ndarray:
    """float32 (n-1, 29 + 60 * window): each consecutive pair's ``pair_features`` followed, for the ``window`` pairs
    before it and after it (nearest first, before then after), by that pair's features and 1, or zeros and 0 where
    the drawing has no such pair. What the pairs around a pen-up look like (a symbol's other strokes, the next
    symbol's start) is the context a pair alone does not see."""
    m = len(pf)
    blocks = [pf]
    for off in range(1, window + 1):
        for before in (True, False):
            shifted = np.zeros_like(pf)
            flag = np.zeros((m, 1), pf.dtype)
            if off < m:
                if before:
                    shifted[off:], flag[off:] = pf[:-off], 1
                else:
                    shifted[:-off], flag[:-off] = pf[off:], 1
            blocks += [shifted, flag]
    return np.concatenate(blocks, axis=1).astype(np.float32)
