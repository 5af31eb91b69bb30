"""Ink image of a page -> expressions: groups of ink components, one per written line, in reading order.

    groups = find_expressions(ink)      # ink: uint8, 255 ink on 0 (page_clean.CleanPage.ink)
    groups[0].box, groups[0].components, unit

Components (8-connected) are linked when they sit side by side on one line (they overlap vertically and the gap
between them is under ``LINE_GAP`` typical symbols) or are stacked with a small gap (``STACK_GAP``: a fraction's
numerator, bar and denominator, a limit's subscript, the rows of a system joined by a tall brace, which overlaps
both rows and so links them). The linked sets are the expressions. A wide gap in x that no expression crosses
splits columns; reading order is then a recursive cut: columns left to right when there is a gutter, else rows
top to bottom (``reading_order``). Specks and dense scribbles (crossed-out writing) are dropped first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from inkmath.equation.core.tree import Box
from inkmath.equation.photo.merge import linked_sets, merge_groups
from inkmath import sizes
from inkmath.equation.image.parts import pen_width
from inkmath.errors import InkmathError

# Thresholds in typical symbols (``unit``: the median of the components' longer side), chosen on pages generated
# from the 2011-2013 validation ink (docs/decisions/page-reading.md).
LINE_GAP = 4.0  # max horizontal gap between neighbours on one line
LINE_OVERLAP = 0.2  # ... which must overlap vertically by this share of the smaller height (or touch)
NEAR_X = 1.0  # corner to corner: at most this far apart in x ...
NEAR_Y = 0.3  # ... and in y, parts of one expression (a raised exponent that does not overlap its base)
STACK_GAP = 0.5  # max vertical gap between stacked parts of one expression (numerator over bar, ...)
STACK_OVERLAP = 0.3  # ... which must overlap horizontally by this share of the narrower one
BAR_HEIGHT = 0.6  # a fraction bar: at most this tall ...
BAR_WIDTH = 1.0  # ... at least this wide (a minus sign is narrower) ...
FRAC_GAP = 1.2  # ... links what is above or below it this close, only when it has ink other than a bar on its
# other side too (the lower bar of "=" at the bottom of a line does not reach down to the next line)
COLUMN_GAP = 2.5  # a gutter between columns is at least this wide ...
GUTTER_SPAN = 4.0  # ... and before grouping, ink on both sides of it spans at least this height
# components with an area under this share of unit^2 are noise; 0.002 keeps an i's dot (seeds 0 / 18 / 19 / 84:
# 470 / 413 / 439 / 129 right against 470 / 412 / 439 / 128 at 0.004) (docs/decisions/page-clean-up.md)
SPECK = 0.002
LONE_MARK = 0.5  # a group under this many units long is a lone dot or a speck between lines, not an expression
SCRIBBLE_SIZE = 2.0  # a component at least this many units wide and tall ...
SCRIBBLE_FILL = 0.5  # ... and inked over this share of its box is crossed-out writing
READ_SHARE = 0.6  # the ink read is what reaches this share of the darkest ink nearby (``group_image``) ...
READ_PEAK = 0.4  # ... within this many typical symbols
# ... or, on a photo blurred by motion (``page.READ_MOTION``), the darkest ink within READ_RIDGE px reaching READ_FLOOR
# of the darkest within READ_PEAK (seeds 40-41: 393 -> 415 of 936) (docs/decisions/page-reading.md)
READ_RIDGE = 3.0
READ_FLOOR = 0.45
DEBLUR_STEPS = 10  # Richardson-Lucy iterations of ``deblurred`` (docs/decisions/page-reading.md)
MIN_UNIT = 6.0  # px: smaller "symbols" mean the page has no writing worth reading
MAX_COMPONENTS = 6000  # more ink components than this is not a page of handwriting (a texture, a photo)


@dataclass
class InkGroup:
    box: Box  # in the ink image's pixels
    components: list[int]  # labels in ``labels``
    order: int = 0


@dataclass
class FoundExpressions:
    groups: list[InkGroup]  # reading order
    labels: np.ndarray  # int32 component labels of the ink image (after specks and scribbles were dropped)
    unit: float  # px: typical symbol size
    dropped: dict = field(default_factory=dict)  # {"specks": n, "scribbles": [box, ...]}
    stats: np.ndarray | None = None  # (N + 1, 5) component stats (x, y, w, h, area) of ``labels``
    gutters: list[tuple[float, float]] = field(default_factory=list)  # x-ranges of the gutters between columns
    narrow: bool = True  # groups are read narrowed to their strokes' cores (``page.group_crop``) ...
    core_width: float = 0.0  # ... which are this wide (px; ``narrowing``; 0.0: not measured)


def _components(ink: np.ndarray):
    n, lab, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return n, lab, stats


def _unit(stats: np.ndarray) -> float:
    """The typical symbol size (px) from the components' stats (row 0 the background): the median longer side of
    those of 12 px or more."""
    w, h, area = (stats[1:, i].astype(np.float64) for i in (2, 3, 4))
    sizable = area >= 12
    return sizes.typical_size(w[sizable], h[sizable]) if sizable.any() else 0.0


def typical_size(ink: np.ndarray) -> float:
    """The page's typical symbol size in px, as ``find_expressions`` measures it (0.0 for no ink)."""
    n, _, stats = _components(ink)
    return _unit(stats) if n > 1 else 0.0


def find_expressions(ink: np.ndarray) -> FoundExpressions:
    """Group the ink into expressions, in reading order (see the module's docstring)."""
    grouped = _group(ink)
    if isinstance(grouped, FoundExpressions):
        return grouped
    groups, stats, unit, gutters, lab, dropped = grouped
    groups = merge_groups(groups, stats, unit, gutters=gutters)  # those the page-merge model scores as one
    ordered = reading_order(groups, unit)
    for k, g in enumerate(ordered):
        g.order = k
    return FoundExpressions(ordered, lab, unit, dropped, stats, gutters)


def group_ink(ink: np.ndarray):
    """(groups before the learned merge, component stats (N + 1, 5): x, y, w, h, area, unit, column gutters), or
    None when the page has nothing to group: what ``page_merge`` is trained on."""
    grouped = _group(ink)
    return None if isinstance(grouped, FoundExpressions) else grouped[:4]


def _group(ink: np.ndarray):
    """The linked groups, or a FoundExpressions when there is nothing to group."""
    n, lab, stats = _components(ink)
    if n <= 1:
        return FoundExpressions([], lab, 0.0, {"specks": 0, "scribbles": []})
    if n - 1 > MAX_COMPONENTS:
        raise InkmathError(f"The photo has {n - 1:,} separate marks after clean-up: it does not look like a page of "
                           "handwriting; photograph the page itself, flat and in even light")
    x, y, w, h, area = (stats[1:, i].astype(np.float64) for i in range(5))
    unit = _unit(stats)
    if unit < MIN_UNIT:
        return FoundExpressions([], lab, unit, {"specks": int(n - 1), "scribbles": []})
    keep = area >= SPECK * unit * unit
    scribble = (w >= SCRIBBLE_SIZE * unit) & (h >= SCRIBBLE_SIZE * unit) & (area / (w * h) >= SCRIBBLE_FILL)
    dropped = {"specks": int((~keep).sum()), "scribbles": [[float(x[i]), float(y[i]), float(x[i] + w[i]),
                                                             float(y[i] + h[i])] for i in np.flatnonzero(scribble & keep)]}
    keep &= ~scribble
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return FoundExpressions([], lab, unit, dropped)
    x0, y0, x1, y1 = x[idx], y[idx], x[idx] + w[idx], y[idx] + h[idx]
    # pairwise gaps (negative = overlap)
    gx = np.maximum(x0[:, None], x0[None, :]) - np.minimum(x1[:, None], x1[None, :])
    gy = np.maximum(y0[:, None], y0[None, :]) - np.minimum(y1[:, None], y1[None, :])
    hmin = np.minimum(h[idx][:, None], h[idx][None, :])
    wmin = np.minimum(w[idx][:, None], w[idx][None, :])
    side = (gy <= -LINE_OVERLAP * hmin) & (gx <= LINE_GAP * unit)
    stack = (gx <= -STACK_OVERLAP * wmin) & (gy <= STACK_GAP * unit)
    near = (gx <= NEAR_X * unit) & (gy <= NEAR_Y * unit)  # a superscript or subscript set a little apart
    # a fraction bar reaches further up and down: to its numerator and denominator
    bar = (h[idx] <= BAR_HEIGHT * unit) & (w[idx] >= BAR_WIDTH * unit) & (w[idx] >= 3 * h[idx])
    reach = (gx <= -STACK_OVERLAP * wmin) & (gy <= FRAC_GAP * unit)
    # a bar reaches down only with a numerator over it, up only with a denominator under it
    cy = (y0 + y1) / 2
    below = cy[None, :] > cy[:, None]  # [i, j]: j under i
    other = reach & ~bar[None, :]
    over_ok = (other & ~below).any(axis=1)  # bar i has ink over it
    under_ok = (other & below).any(axis=1)
    from_bar = bar[:, None] & reach & ((below & over_ok[:, None]) | (~below & under_ok[:, None]))
    frac = from_bar | from_bar.T
    link = side | stack | near | frac
    gutters = column_gutters(x0, y0, x1, y1, unit)
    for g0, g1 in gutters:  # nothing links across a gutter between columns
        left, right = x1 <= g0, x0 >= g1
        link &= ~((left[:, None] & right[None, :]) | (right[:, None] & left[None, :]))
    np.fill_diagonal(link, False)
    groups = []
    for members in linked_sets(len(idx), zip(*np.nonzero(np.triu(link)))):
        box = Box(float(x0[members].min()), float(y0[members].min()), float(x1[members].max()),
                  float(y1[members].max()))
        groups.append(InkGroup(box, [int(idx[m]) + 1 for m in members]))
    groups = _absorb_contained(groups)
    groups = [g for g in groups if not lone_mark(g, unit)]
    return groups, stats, unit, gutters, lab, dropped


def lone_mark(g: InkGroup, unit: float) -> bool:
    """True when group ``g`` is under ``LONE_MARK`` units long: a lone dot or a speck, not an expression."""
    return max(g.box.w, g.box.h) < LONE_MARK * unit


def text_lines(found: FoundExpressions) -> int:
    """The number of separate lines of writing ``found``'s groups lie on: groups whose heights overlap share a line
    (a page's columns side by side count once)."""
    spans = sorted((g.box.y0, g.box.y1) for g in found.groups if not lone_mark(g, found.unit))
    lines, bottom = 0, -np.inf
    for y0, y1 in spans:
        if y0 >= bottom:
            lines += 1
        bottom = max(bottom, y1) if y0 < bottom else y1
    return lines


def column_gutters(x0, y0, x1, y1, unit: float) -> list[tuple[float, float]]:
    """Vertical strips of paper at least ``COLUMN_GAP`` units wide that no ink crosses from the top of the page to
    the bottom, with ink on both sides spanning at least ``GUTTER_SPAN`` units of height (columns of several
    lines, not the gap inside one expression written with wide spaces)."""
    order = np.argsort(x0, kind="stable")
    out = []
    end = x1[order[0]]
    for i in order[1:]:
        if x0[i] - end >= COLUMN_GAP * unit:
            left, right = x1 <= end, x0 >= x0[i]
            if all(side.sum() >= 2 and y1[side].max() - y0[side].min() >= GUTTER_SPAN * unit for side in (left, right)):
                out.append((float(end), float(x0[i])))
        end = max(end, x1[i])
    return out


def _absorb_contained(groups: list[InkGroup]) -> list[InkGroup]:
    """A group whose box lies inside another's (a symbol enclosed by a root or a brace) joins it."""
    groups = sorted(groups, key=lambda g: -(g.box.w * g.box.h))
    out: list[InkGroup] = []
    for g in groups:
        host = next((o for o in out if o.box.x0 <= g.box.cx <= o.box.x1 and o.box.y0 <= g.box.cy <= o.box.y1
                     and o.box.x0 <= g.box.x0 and g.box.x1 <= o.box.x1 + 1 and o.box.y0 <= g.box.y0
                     and g.box.y1 <= o.box.y1 + 1), None)
        if host is None:
            out.append(g)
        else:
            host.components += g.components
            host.box = host.box.union(g.box)
    return out


def reading_order(groups: list[InkGroup], unit: float) -> list[InkGroup]:
    """Columns left to right where a gutter of ``COLUMN_GAP`` units splits the groups, rows top to bottom
    otherwise, recursively (an XY cut that prefers columns, so that a two-column page is read column by column)."""
    if len(groups) <= 1:
        return list(groups)
    columns = lambda gs: _cut(gs, lambda b: (b.x0, b.x1), COLUMN_GAP * unit)  # noqa: E731
    cut = columns(groups)
    if cut is None:
        bands = _cut(groups, lambda b: (b.y0, b.y1), 0.0)
        if bands is None:  # overlapping boxes in both directions: top to bottom by centre
            return sorted(groups, key=lambda g: (g.box.cy, g.box.x0))
        # consecutive bands that together split into columns are one part (a header above two columns: the
        # header, then the columns, each read top to bottom)
        cut = [bands[0]]
        for band in bands[1:]:
            if columns(cut[-1] + band) is not None:
                cut[-1] = cut[-1] + band
            else:
                cut.append(band)
        if len(cut) == 1:
            return [g for part in columns(cut[0]) for g in reading_order(part, unit)]
    return [g for part in cut for g in reading_order(part, unit)]


def _cut(groups: list[InkGroup], span, gap: float) -> list[list[InkGroup]] | None:
    """Split at every empty interval at least ``gap`` long along one axis; None when nothing splits."""
    items = sorted(groups, key=lambda g: span(g.box)[0])
    parts, current = [], [items[0]]
    end = span(items[0].box)[1]
    for g in items[1:]:
        lo, hi = span(g.box)
        if lo - end > gap:
            parts.append(current)
            current = []
        current.append(g)
        end = max(end, hi)
    parts.append(current)
    return parts if len(parts) > 1 else None


def group_image(found: FoundExpressions, group: InkGroup, pad: int = 12, dark: np.ndarray | None = None,
                upscale: int = 1, smooth: float = 0.0, deblur: float = 0.0,
                ridge: float = 0.0) -> tuple[np.ndarray, tuple[int, int]]:
    """(white-on-black crop holding only the group's ink, (x, y) of the crop's corner in the ink image).

    With ``dark`` (the page's darkness), the ink is narrowed to the pixels at least ``READ_SHARE`` as dark as the
    darkest ink within ``READ_PEAK`` typical symbols (with ``ridge``: within that many page px, and at least
    ``READ_FLOOR`` as dark as the darkest within ``READ_PEAK``): about the stroke's width at half its
    darkness, where the grouping's lenient threshold draws a blurred stroke much fatter (loops close, symbols touch).
    ``deblur``: the darkness is first deblurred by a Gaussian of this sigma in page px (``deblurred``). ``upscale``: the
    darkness is first enlarged this many times (cubic), so the crop is that much larger than the page's pixels
    (``pad`` too). ``smooth``: the (enlarged) darkness is first smoothed with a Gaussian of this sigma in the crop's
    pixels, so a grainy stroke (pencil) is not cut into pieces at its grains."""
    b = group.box
    x0, y0, x1, y1 = int(b.x0), int(b.y0), int(np.ceil(b.x1)), int(np.ceil(b.y1))
    sub = found.labels[y0:y1, x0:x1]
    mask = np.isin(sub, group.components)
    if dark is not None and mask.any():
        d = dark[y0:y1, x0:x1]
        if deblur > 0:  # with the ink round the box, which the blur spread into it
            m = int(np.ceil(3 * deblur))
            cy, cx = min(y0, m), min(x0, m)
            d = deblurred(dark[y0 - cy:y1 + m, x0 - cx:x1 + m], deblur)[cy:cy + d.shape[0], cx:cx + d.shape[1]]
        if upscale > 1:
            d = cv2.resize(d, (d.shape[1] * upscale, d.shape[0] * upscale), interpolation=cv2.INTER_CUBIC)
            mask = cv2.resize(mask.view(np.uint8), (d.shape[1], d.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        d = np.where(mask, d, 0).astype(np.float32)
        if smooth > 0:
            d = cv2.GaussianBlur(d, (0, 0), smooth)
        mask &= _cores(d, found.unit * upscale, ridge * upscale)
    else:
        upscale = 1
    p = pad * upscale
    out = np.zeros((mask.shape[0] + 2 * p, mask.shape[1] + 2 * p), np.uint8)
    out[p:p + mask.shape[0], p:p + mask.shape[1]][mask] = 255
    return out, (x0 - pad, y0 - pad)


def _cores(d: np.ndarray, unit: float, ridge: float = 0.0) -> np.ndarray:
    """Where the darkness ``d`` (float32, 0 off the ink) reaches ``READ_SHARE`` of the darkest ink within ``READ_PEAK``
    symbols of ``unit`` px, or with ``ridge`` (px) as ``group_image`` reads a photo blurred by motion."""
    k = max(3, int(round(READ_PEAK * unit)) | 1)
    peak = cv2.dilate(d, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    if ridge > 0:
        r = min(k, max(3, int(round(2 * ridge)) | 1))
        own = cv2.dilate(d, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (r, r)))
        return (d > READ_SHARE * own) & (d > READ_FLOOR * peak)
    return d > READ_SHARE * peak


def narrowing(found: FoundExpressions, dark: np.ndarray, ridge: float = 0.0) -> tuple[float, float]:
    """(how many times as many pieces the page's ink falls into when narrowed as ``group_image`` narrows it (with
    ``ridge``, at the page's pixels) as it has components; the narrowed strokes' mean width in px). A stroke one or
    two pixels wide is as dark as the pixel grid lets it be, darker where it runs along a row or column than where it
    runs between: narrowing cuts it into dashes (``page.READ_BREAKS``, ``page.READ_FINE_PEN``)."""
    ink = found.labels > 0
    before = cv2.connectedComponents(ink.view(np.uint8))[0] - 1
    if before <= 0:
        return 1.0, 0.0
    cores = (ink & _cores(np.where(ink, dark, 0).astype(np.float32), found.unit, ridge)).view(np.uint8)
    return (cv2.connectedComponents(cores)[0] - 1) / before, pen_width(cores * 255)


def deblurred(dark: np.ndarray, sigma: float, steps: int | None = None) -> np.ndarray:
    """``dark`` (darkness, paper 0) with a Gaussian blur of ``sigma`` px undone as far as ``steps`` iterations of
    Richardson-Lucy deconvolution go (float32, 0-255): marks a blur spread thin (an exponent, the loop of an "e") get
    their darkness and their holes back."""
    d = dark.astype(np.float32) + 1.0  # Richardson-Lucy needs positive values
    est = d.copy()
    for _ in range(DEBLUR_STEPS if steps is None else steps):
        est *= cv2.GaussianBlur(d / np.maximum(cv2.GaussianBlur(est, (0, 0), sigma), 1e-3), (0, 0), sigma)
    return np.clip(est - 1.0, 0, 255)
