"""The typical symbol size, measured one way wherever the reader needs it.

A handwritten expression has no fixed scale, so every stage measures sizes in typical symbols. The measure is the
median of the longer sides of the pieces of ink (``typical_size``): strokes for drawn ink (``ink.symbol_size``),
connected components for an ink image (``equation.image.parts``, ``equation.photo.find``), symbol boxes for a read
expression (``equation.reader.context_model``). A layout measures its row by the median height of its symbols that
are not marks or bars (``row_height``); generated data by the mean height of the truth symbols
(``mean_symbol_height``).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def median(values: Iterable[float]) -> float:
    """The median as ``np.median`` gives it for float64 values (the middle one, or the mean of the middle two), without
    its overhead on a few values."""
    v = sorted(np.asarray(values, np.float64).ravel().tolist())
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def typical_size(widths: Sequence[float], heights: Sequence[float]) -> float:
    """The typical symbol size of pieces of ink of these widths and heights: the median of their longer sides."""
    return median(np.maximum(np.asarray(widths, np.float64), np.asarray(heights, np.float64)))


def row_height(heights: Sequence[float], longer_sides: Sequence[float], tokens: Sequence[str],
               flat: set[str] | frozenset[str]) -> float:
    """The height of a row of symbols: the median height of those not read as one of the ``flat`` tokens (marks and
    bars, which say nothing of the row's height), else of the longer sides of all; at least 1e-6."""
    hs = [h for h, t in zip(heights, tokens) if t not in flat]
    if not hs:
        hs = list(longer_sides)
    return max(median(hs), 1e-6)


def mean_symbol_height(expr) -> float | None:
    """The mean height of an InkML expression's truth symbols (trace groups) in ink units; None without groups or
    where they have no height."""
    hs = []
    for g in expr.groups:
        pts = [np.asarray(expr.strokes[i], float)[:, :2] for i in g.stroke_ids if i < len(expr.strokes)
               and len(expr.strokes[i])]
        if pts:
            hs.append(float(np.ptp(np.concatenate(pts)[:, 1])))
    return float(np.mean(hs)) if hs and np.mean(hs) > 0 else None
