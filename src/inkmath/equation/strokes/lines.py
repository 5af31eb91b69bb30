"""Ink of several written lines -> the lines: which strokes make each line, top to bottom.

    lines = cut_lines(strokes)        # [[stroke index, ...] of the top line, ... of the next line, ...]

A line is a band of strokes whose vertical extents overlap or lie close: strokes sorted by their top are swept
downwards, and a stroke joins the band above when its top lies less than ``LINE_GAP`` typical symbol sizes below the
band's bottom. A fraction (numerator, bar, denominator, each a little apart), a superscript or a dot over an i stays
in one band; the clear paper between two written lines starts a new one. A band that is only flat strokes (a
fraction bar or a minus written loosely apart from the rest) joins the nearer band beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inkmath import ink

# clear paper between two lines, in typical symbol sizes (``ink.symbol_size``), above which a new line starts: above the
# gap between a fraction's bar and its parts (0.1-0.25 symbol heights in the drawn chains), below the paper students
# leave between lines (0.8-2 there). Set by that reasoning, not swept: on the validation drawn chains
# (benchmarks/check_chains.py --drawn --split val --n 150) 92 of 93 drawings are cut into exactly their lines
LINE_GAP = 0.45
# a band is "flat" (a bar that must belong to a line beside it) when its height is under this share of a symbol size
FLAT_BAND = 0.25


def _extent(stroke: np.ndarray) -> tuple[float, float]:
    return float(stroke[:, 1].min()), float(stroke[:, 1].max())


def cut_lines(strokes: Sequence, gap: float = LINE_GAP) -> list[list[int]]:
    """The written lines of ``strokes`` (each a (P, 2+) sequence of x, y points, y down), top to bottom: each line
    the indices of its strokes in writing order. Empty strokes are left out; no ink gives no lines."""
    if not any(len(s) for s in strokes):
        return []
    arrays = ink.as_strokes(strokes)
    kept = [i for i, s in enumerate(arrays) if len(s)]
    unit = ink.symbol_size([arrays[i] for i in kept]) or 1.0
    spans = sorted((_extent(arrays[i]) + (i,) for i in kept), key=lambda t: (t[0], t[1]))
    bands: list[list] = []  # [top, bottom, [indices]]
    for top, bottom, i in spans:
        if bands and top <= bands[-1][1] + gap * unit:
            bands[-1][1] = max(bands[-1][1], bottom)
            bands[-1][2].append(i)
        else:
            bands.append([top, bottom, [i]])
    bands = _flat_bands_joined(bands, unit)
    return [sorted(b[2]) for b in bands]


def _flat_bands_joined(bands: list[list], unit: float) -> list[list]:
    """Bands flatter than ``FLAT_BAND`` symbol sizes joined to the nearer band above or below."""
    if len(bands) < 2:
        return bands
    k = 0
    while k < len(bands) and len(bands) > 1:
        top, bottom, members = bands[k]
        if bottom - top >= FLAT_BAND * unit:
            k += 1
            continue
        above = top - bands[k - 1][1] if k > 0 else np.inf
        below = bands[k + 1][0] - bottom if k + 1 < len(bands) else np.inf
        j = k - 1 if above <= below else k + 1
        other = bands[j]
        other[0], other[1] = min(other[0], top), max(other[1], bottom)
        other[2].extend(members)
        del bands[k]
        k = max(0, min(k, j))
    return bands


def line_box(strokes: Sequence, members: Sequence[int]) -> list[float]:
    """[x0, y0, x1, y1] of the strokes ``members`` of ``strokes``."""
    arrays = ink.as_strokes(strokes)
    return list(ink.bbox([arrays[i] for i in members if len(arrays[i])]))
