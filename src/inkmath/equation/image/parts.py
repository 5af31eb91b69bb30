"""An ink image's parts and the rules that join them: connected components of the binarised ink, their crops for
the classifier, the pen's width, and the geometric rules by which ``image_segmentation.segment_image`` merges
parts that form one symbol (the two bars of '=', the dot of 'i' even off to one side, the parts of '\\leq',
'\\pm', '\\div', '!', the two arcs of an 'x' side by side, an arrow's shaft and head, the cap of a '\\sum'),
each merge confirmed by the classifier.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.reader.symbols import token_of
from inkmath.equation.core.tree import Box
from inkmath.scoped import ScopedMemo
from inkmath.sizes import median

MULTI_PART = {"=", "\\leq", "\\geq", "\\pm", "\\div", "i", "j", "!", "\\neq", ";", "\\ldots", ":", "\\exists",
              "\\forall", "\\in", "\\rightarrow", "\\times", "+", "x", "\\sqrt", "\\theta", "\\pi", "\\sum", "\\int",
              "\\infty", "k", "t", "f", "E", "F", "H", "A", "T", "4", "5", "7", "y", "\\phi", "\\lim", "\\log",
              "\\sin", "\\cos", "\\tan"}
# parts merge when read together at least MERGE_RATIO (stacked) or SIDE_RATIO (side by side) times the geometric mean
# of their own readings: ExpRate 36.30 % at 0.6 and 1.0 (docs/decisions/image-segmentation.md)
MERGE_RATIO = 0.6
SIDE_RATIO = 1.0
# parts side by side at one height merge only into SIDE_TOKENS, within SIDE_GAP typical symbols (0.15 and 0.25 read
# equally; '\\pi' joined: 4 more right) (docs/decisions/image-segmentation.md)
SIDE_TOKENS = {"x", "X", "\\times", "k", "\\infty", "\\pi"}
SIDE_GAP = 0.15
# an arrow's shaft and head apart are read together when the head starts within ARROW_GAP typical symbols of the
# shaft's end (7 of 8 '- >' read right) (docs/decisions/image-segmentation.md)
ARROW_GAP = 0.3
ARROW_TOKENS = {"\\rightarrow"}
# images are read at this times ink's canonical scale (the median component for the typical symbol): ExpRate
# 35.5 % at 1.3, 32.8 % at 1.0 (docs/decisions/image-segmentation.md)
IMAGE_SCALE = 1.3
# ``match_pen``: an image whose pen is under PEN_THICKEN_BELOW or over PEN_THIN_FROM times ink.rasterize's is
# thickened or thinned by one px a side (photos 190 -> 200 of 362 at 1.3) (docs/decisions/image-reader.md)
PEN_THICKEN_BELOW = 0.75
PEN_THIN_FROM = 1.3


_U16_MAX = int(np.iinfo(np.uint16).max)


def ink_labels(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats`` of ``mask`` (h, w), 8-connected: (count with the background, labels,
    stats). The labels are 16-bit where they cannot overflow (fewer ink pixels than 65,535): the same labels and stats
    as 32-bit ones, at 0.35x the CPU on an expression image and 0.6x on a component's crop (OpenCV 4, one thread)."""
    import cv2

    mask = mask.view(np.uint8) if mask.dtype == bool else mask
    small = mask.size < _U16_MAX or np.count_nonzero(mask) < _U16_MAX  # a crop's pixels are not counted
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U if small else cv2.CV_32S)
    return n, lab, stats


BLANK_IMAGE = "No ink found in the image: it is blank. Give a picture of a handwritten expression."


def _labelled(ink_img: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The ink's 8-connected labels, their stats (``ink_labels``) and the labels kept: specks (noise) removed."""
    import cv2

    n, lab, stats = ink_labels(ink_img > 60)
    if n <= 1:
        raise InkmathError(BLANK_IMAGE)
    areas = stats[1:, cv2.CC_STAT_AREA]
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    typical = float(np.median(np.maximum(heights, widths)))
    kept = []
    for k in range(1, n):
        x, y, w, h, area = stats[k]
        if area < max(4, 0.002 * typical * typical) and max(w, h) < 0.08 * typical:
            continue
        kept.append(k)
    return lab, stats, kept


# separate marks an expression image may have (a mask each): validation crops have at most 53, a picture of noise
# thousands (docs/decisions/image-segmentation.md)
MAX_MARKS = 250


def components(ink_img: np.ndarray) -> list[tuple[Box, np.ndarray]]:
    """Connected components (8-connected) of ink pixels, with specks (noise) removed: (box, pixel mask)."""
    lab, stats, kept = _labelled(ink_img)
    if len(kept) > MAX_MARKS:
        raise InkmathError(f"The image has {len(kept):,} separate marks, more than an expression has ({MAX_MARKS}): "
                           "is it noise, or a whole page? Crop it to one expression, or read a page with --page")
    out = []
    for k in kept:
        x, y, w, h, _ = stats[k]
        m = np.zeros(lab.shape, bool)  # compared only inside the component's box: lab == k costs the whole image
        m[y:y + h, x:x + w] = lab[y:y + h, x:x + w] == k
        out.append((Box(float(x), float(y), float(x + w), float(y + h)), m))
    return out


def typical_size(ink_img: np.ndarray) -> float:
    """The typical symbol size in pixels: the median over ``components`` of each one's larger side (at least 1),
    from the components' boxes alone (no masks made)."""
    _, stats, kept = _labelled(ink_img)
    return median([max(float(stats[k, 3]), float(stats[k, 2]), 1) for k in kept])


# crops are softened by a Gaussian of CROP_BLUR px at the canonical scale (the classifier learnt antialiased ink):
# ExpRate 36.30 -> 37.97 % (docs/decisions/image-segmentation.md)
CROP_BLUR = 0.8


_DRAWN = ScopedMemo()  # ``drawn_once``'s crops


def drawn_once():
    """Within, ``render_parts`` draws a crop of the same image, masks (the same arrays, in any order) and box once
    and gives the same array again (callers read crops, never change them): the crops of one image that later stages
    draw again (the learned grouping's pairs, the merge rules' later rounds, near neighbours; about 10 of 60 a
    10-symbol image). It keeps the image and masks it saw until the end, so that no array id is reused meanwhile;
    never across inputs (``ScopedMemo``)."""
    return _DRAWN.scope()


def render_parts(ink_img: np.ndarray, masks: list[np.ndarray], box: Box) -> np.ndarray:
    """The crop of ``ink_img`` under the union of ``masks`` in ``box``, with a 2-pixel margin, softened by
    ``CROP_BLUR`` (within ``drawn_once``: drawn once)."""
    return render_many(ink_img, [(masks, box)])[0]


def render_many(ink_img: np.ndarray, parts: list[tuple[list[np.ndarray], Box]]) -> list[np.ndarray]:
    """``render_parts`` of each (masks, box) of ``parts``: the same crops, softened together (``_soften``; within
    ``drawn_once``: each drawn once)."""
    crops = _DRAWN.get()
    if crops is None:
        return _soften([_sharp_crop(ink_img, masks, box) for masks, box in parts])
    keys = [(id(ink_img), frozenset(map(id, masks)), box.x0, box.y0, box.x1, box.y1) for masks, box in parts]
    new = {}
    for key, (masks, box) in zip(keys, parts):
        if key not in crops and key not in new:
            new[key] = masks, box
    for key, crop in zip(new, _soften([_sharp_crop(ink_img, masks, box) for masks, box in new.values()])):
        crops[key] = (crop, ink_img, list(new[key][0]))
    return [crops[key][0] for key in keys]


def _sharp_crop(ink_img: np.ndarray, masks: list[np.ndarray], box: Box) -> np.ndarray:
    """The ink of ``ink_img`` under the union of ``masks`` in ``box``, with a 2-pixel margin (not softened)."""
    import cv2

    win = (slice(int(box.y0), int(box.y1)), slice(int(box.x0), int(box.x1)))  # only the box is read
    m = masks[0][win]
    for mk in masks[1:]:
        m = m | mk[win]
    # the ink under the masks (uint8 times bool: np.where's pixels, cheaper); copyMakeBorder: np.pad, faster
    return cv2.copyMakeBorder(ink_img[win] * m, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=0)


# crops are softened side by side in rows up to this many px wide, one cv2.GaussianBlur for all, bit-exact to each
# crop alone (docs/decisions/image-segmentation.md)
SOFTEN_ROW = 2048


def _soften(crops: list[np.ndarray]) -> list[np.ndarray]:
    """``crops`` softened by a Gaussian of ``CROP_BLUR`` each, as ``cv2.GaussianBlur`` softens a crop alone (its
    border reflected, BORDER_REFLECT_101); several in one blur (see ``SOFTEN_ROW``)."""
    import cv2

    if not CROP_BLUR:
        return crops
    if len(crops) < 2:
        return [cv2.GaussianBlur(c, (0, 0), CROP_BLUR) for c in crops]
    # the reach of the blur's kernel (OpenCV's size for 8-bit images: 3 sigmas each side, odd)
    reach = (int(round(CROP_BLUR * 3 * 2 + 1)) | 1) // 2
    framed = [cv2.copyMakeBorder(c, reach, reach, reach, reach, cv2.BORDER_REFLECT_101) for c in crops]
    rows: list[list] = []  # [height, width, [(crop index, x)]], the tallest crops first
    for i in sorted(range(len(framed)), key=lambda i: -framed[i].shape[0]):
        h, w = framed[i].shape
        if not rows or rows[-1][1] + w > SOFTEN_ROW:
            rows.append([h, 0, []])
        rows[-1][2].append((i, rows[-1][1]))
        rows[-1][1] += w
    sheet = np.zeros((sum(r[0] for r in rows), max(r[1] for r in rows)), np.uint8)
    at = [(0, 0)] * len(crops)
    y = 0
    for h, _, row in rows:
        for i, x in row:
            fh, fw = framed[i].shape
            sheet[y:y + fh, x:x + fw] = framed[i]
            at[i] = (y + reach, x + reach)
        y += h
    soft = cv2.GaussianBlur(sheet, (0, 0), CROP_BLUR)
    return [soft[y:y + c.shape[0], x:x + c.shape[1]].copy() for c, (y, x) in zip(crops, at)]


# a part lower than LOW_BAR times its width, stacked on a bar at most twice its width, may be the other bar of an '='
# (ExpRate 35.17 -> 35.70 %; docs/decisions/image-segmentation.md)
LOW_BAR = 0.6


# a bar LONGER_BAR times as long as another, on its far side, is the fraction that holds the other (a '\\pm' in a
# numerator: 2 more read right on the WAP-like renderings, none lost: 39.83 -> 39.96 %)
LONGER_BAR = 1.5


# a box lower than FLAT times its width is a bar ('-', a fraction bar, a part of '='), not a symbol's body
FLAT = 0.35


def is_flat(b: Box) -> bool:
    return b.h < FLAT * b.w


def ink_beyond(boxes: list[Box], bar: Box, below: bool, skip: tuple[int, ...], unit: float) -> bool:
    """Is there a component (other than ``skip``) across ``bar``, under it (``below``) or over it, within 1.5
    typical symbol sizes: the other side of a fraction?"""
    def side(c: Box) -> float:
        return c.cy - bar.cy if below else bar.cy - c.cy

    # a longer bar on that side is the fraction whose numerator (or denominator) holds this bar: what lies past it
    # is the fraction's other part, not this bar's
    limit = min([side(c) for k, c in enumerate(boxes) if k not in skip and min(c.x1, bar.x1) > max(c.x0, bar.x0)
                 and is_flat(c) and c.w > LONGER_BAR * bar.w and side(c) > 0], default=math.inf)
    for k, c in enumerate(boxes):
        if k in skip or min(c.x1, bar.x1) <= max(c.x0, bar.x0):
            continue
        if 0 < side(c) < min(1.5 * unit, limit):
            return True
    return False


def mergeable(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """Could components a and b be parts of one symbol? Stacked parts ('=', 'i', '\\leq', '\\div') or crossing
    parts of similar size ('\\neq', a broken '+'); never a fraction bar and what it divides, nor a root and its body.
    """
    A, B = boxes[a], boxes[b]
    ox = min(A.x1, B.x1) - max(A.x0, B.x0)
    gap_y = max(A.y0, B.y0) - min(A.y1, B.y1)
    if ox > 0.5 * min(A.w, B.w) and 0 <= gap_y < 0.6 * unit:
        if is_flat(A) and is_flat(B):
            return True  # '='
        if not (is_flat(A) or is_flat(B)):
            return True  # 'i', 'j', '!': a dot over a stem
        bar, other = (A, B) if is_flat(A) else (B, A)
        if max(other.w, other.h) < 0.35 * unit:
            return True  # the dots of '\\div'
        if ink_beyond(boxes, bar, other.cy < bar.cy, (a, b), unit):
            return False  # ink on the far side of the bar too: a fraction bar
        if other.h < LOW_BAR * other.w and other.w > 0.5 * bar.w:
            return True  # the short, slanted or thick-penned upper bar of a small '='
        return other.w > 0.6 * bar.w and gap_y < 0.3 * unit  # '\\leq', '\\geq', '\\pm'
    if ox > 0.3 * min(A.w, B.w) and gap_y < 0:  # crossing boxes: '\\neq', a '+' with a gap
        areas = sorted([max(A.w * A.h, 1.0), max(B.w * B.h, 1.0)])
        return areas[1] < 4 * areas[0]
    dot, other = (A, B) if max(A.w, A.h) < max(B.w, B.h) else (B, A)
    # the dot of an 'i' or 'j' over the stem, or of a '!' under it (4 more '!' on the WAP-like renderings: 40.03 %),
    # often off to one side of the stem
    over = dot.cy < other.y0 + 0.25 * other.h
    under = other.h > 2 * other.w and dot.cy > other.y1 - 0.25 * other.h
    if max(dot.w, dot.h) < 0.5 * unit and other.h > 1.5 * dot.h and (over or under):
        return abs(dot.cx - other.cx) < 0.4 * unit and -0.1 * unit < gap_y < 0.7 * unit
    return False


# the top bar of a '\\sum' in two strokes is read with the part under it as CAP_TOKENS at over CAP_PROB, when that
# part is over CAP_SIZE typical symbols (43.02 -> 43.28 %; docs/decisions/image-segmentation.md)
CAP_TOKENS = {"\\sum"}
CAP_PROB = 0.5
CAP_SIZE = 1.4


def capped(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """A flat bar lying on top of a part of about its width ('-' over the 'z' of a '\\sum')."""
    A, B = boxes[a], boxes[b]
    bar, other = (A, B) if is_flat(A) else (B, A)
    if not is_flat(bar) or is_flat(other) or not 0.5 < bar.w / max(other.w, 1e-9) < 1.5:
        return False
    ox = min(bar.x1, other.x1) - max(bar.x0, other.x0)
    return ox > 0.6 * min(bar.w, other.w) and bar.cy < other.y0 + 0.25 * other.h and other.y0 - bar.y1 < 0.3 * unit \
        and max(other.w, other.h) > CAP_SIZE * unit


def side_by_side(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """Parts at one height, nearly touching side by side: the two arcs of an 'x' written ')(' , 'k', '\\infty'."""
    A, B = boxes[a], boxes[b]
    gap_x = max(A.x0, B.x0) - min(A.x1, B.x1)
    oy = min(A.y1, B.y1) - max(A.y0, B.y0)
    if is_flat(A) or is_flat(B):  # a bar (of '=', '-') beside a letter is not part of it
        return False
    return gap_x < SIDE_GAP * unit and oy > 0.6 * min(A.h, B.h) and 0.6 < A.h / max(B.h, 1e-9) < 1.67


# a part reading alone as a symbol (not one of PART_TOKENS) at over SWALLOW_PROB is not swallowed by a neighbour that
# reads the same with it: an exponent beside its base (34.57 -> 34.84 %; docs/decisions/image-segmentation.md)
PART_TOKENS = {"-", ".", "\\cdot", ",", "\\prime", "|", "/"}
SWALLOW_PROB = 0.5


def arrow_parts(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """A bar with a head just after it at the bar's height, apart from it: the shaft and head of an arrow written
    '-' '>'."""
    bar, head = (boxes[a], boxes[b]) if boxes[a].x0 <= boxes[b].x0 else (boxes[b], boxes[a])
    if not is_flat(bar) or is_flat(head) or head.h > 1.2 * unit:
        return False
    gap_x = head.x0 - bar.x1
    return -0.5 * head.w < gap_x < ARROW_GAP * unit and head.y0 < bar.cy < head.y1 and head.x1 > bar.x1


def swallows(merged: str, pred_a: list, box_a: Box, pred_b: list, box_b: Box) -> bool:
    """Would reading a and b together as ``merged`` just drop the smaller one (see ``SWALLOW_PROB``)?"""
    (big, _), (small, _) = sorted([(pred_a, box_a), (pred_b, box_b)], key=lambda pb: -pb[1].w * pb[1].h)
    alone = token_of(small[0])
    return token_of(big[0]) == merged and alone not in PART_TOKENS and small[0].prob > SWALLOW_PROB


FOOT_TOKENS = {"1"}


def foot_bar(merged: str, preds: list, boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """A bar under a '1' that reads as '1' with it: the foot some write on their ones (read '1' and '-' apart).
    Not when ink lies under the bar: then it is a fraction's."""
    top, low = sorted((a, b), key=lambda k: boxes[k].cy)
    if merged not in FOOT_TOKENS or token_of(preds[top][0]) != merged or token_of(preds[low][0]) != "-" \
            or boxes[low].y0 < boxes[top].y1 - 0.2 * boxes[top].h:
        return False
    return not ink_beyond(boxes, boxes[low], True, (a, b), unit)


def separated(boxes: list[Box], a: int, b: int) -> bool:
    """True when another component lies between a and b vertically (a fraction bar between numerator and
    denominator): such a pair is never one symbol."""
    top, bottom = (boxes[a], boxes[b]) if boxes[a].cy < boxes[b].cy else (boxes[b], boxes[a])
    for k, c in enumerate(boxes):
        if k in (a, b):
            continue
        overlaps = min(c.x1, top.x1, bottom.x1) > max(c.x0, top.x0, bottom.x0)
        if overlaps and c.cy > top.y1 - 1e-6 and c.cy < bottom.y0 + 1e-6:
            return True
    return False


def pen_width(white_ink: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area / half the contour length (a stroke of length L and width t has
    area L*t and a contour of about 2L)."""
    import cv2

    mask = (white_ink > 60).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return float(2 * mask.sum() / max(perimeter, 1.0))


@lru_cache(maxsize=1)
def _canonical_pen_width() -> float:
    """pen_width of ink's own rendering (a circle of symbol size at the canonical scale)."""
    from inkmath import ink

    t = np.linspace(0, 2 * np.pi, 80)
    img, _ = ink.rasterize([np.column_stack([20 + 18 * np.cos(t), 20 + 18 * np.sin(t)])], scale=1.0)
    return pen_width(img)


def match_pen(white_ink: np.ndarray) -> tuple[np.ndarray, float]:
    """Thicken or thin an image at the canonical scale so its strokes are about as wide as ink.rasterize draws them
    (the classifier learnt from those): WAP bitmaps and scans are often drawn with a thinner or thicker pen. Returns
    the image and its ``pen_width`` (measured once where the image is kept as it is)."""
    import cv2

    width = pen_width(white_ink)
    ratio = width / _canonical_pen_width()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    if ratio < PEN_THICKEN_BELOW:
        white_ink = cv2.dilate(white_ink, kernel)
    elif ratio > PEN_THIN_FROM:
        white_ink = cv2.erode(white_ink, kernel)
    else:
        return white_ink, width
    return white_ink, pen_width(white_ink)
