"""Cuts of an ink component where its strokes meet: touching symbols that no top-to-bottom neck parts
(``image_necks._neck_paths``), such as an exponent on the corner of its base ('x' '2', 'd' '2'), a fraction bar
under or over the symbol that stands on it ('-' '1', '-' '9'), a letter leaning over its neighbour ('1' '/').

Where two strokes of different symbols touch, the ink branches: a small circle around the touching point crosses
three runs of ink or more, where a circle on a plain stroke crosses two. Taking a disk of ink out at such a point
parts the component into pieces; each way of sharing those pieces out between two sides is a candidate cut (the
taken-out ink goes to the nearest piece). ``image_splits.split_touching`` reads both sides of each candidate and
weighs them as it weighs its neck cuts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from inkmath.equation.image.parts import ink_labels
from inkmath.equation.core.mlp import BinaryMLP
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.core.tree import Box
from inkmath.equation.core.tokens import CLASSIFIER_NAMES, MARKS
from inkmath.equation.image.grouping import class_index
from inkmath.equation.image.necks import CUT_COST, PIECE_PROB
from inkmath.equation.reader.symbols import token_of

# a disk of TOUCH_RADIUS pen widths is taken out at every TOUCH_STEP-th ink pixel (in x and y) where a circle of
# TOUCH_RADIUS + TOUCH_RING pen widths crosses at least 3 runs of ink; the pieces it leaves (those at least
# ``image_splits.MIN_PIECE`` typical symbols across; at most TOUCH_PIECES of them) are shared out between two sides
# every way; a cut whose sides differ from a cut already found by less than TOUCH_SAME of its smaller side's ink is
# the same cut. Touching components (pixel-labelled truth: a component holding most of the ink of two truth symbols
# or more) of every 3rd WAP-like validation rendering (502): 137, 70 of them parted right by the neck paths alone;
# with these cuts too, 117 of them (6.6 cuts a component; at TOUCH_SAME 0, 120 with 41.9 cuts; a radius of 0.8 pens
# with TOUCH_SAME 0.2: 108 with 5.3 cuts)
TOUCH_RADIUS = 1.0
TOUCH_RING = 0.3
TOUCH_STEP = 2
TOUCH_PIECES = 4
TOUCH_SAME = 0.2
# cuts where strokes meet are looked for only in components the classifier reads as one symbol below TOUCH_WHOLE
# (as SPLIT_PROB spares narrow ones): every 3rd WAP-like validation rendering (502, image_seg_oracle.py --stride 3),
# the same 280 right as looking in every component tried (the same 4 gained, none lost against no such cuts), at
# 1.09-1.13x the CPU of a 10-symbol image read instead of 1.52x (side by side); all 1,504
# (benchmarks/wap_val.py on the merged main): 840 (829 without, 12 gained, 1 lost); with TOUCH_STEP 3 as well: 278 of
# 502 (3 gained, 1 lost). On the cached training cuts (CROHME training ink), 0.8 spares 53 % of the components with a
# cut and 15 of the 503 the model cuts right; 0.9 spares 39 % (CPU 1.27x at TOUCH_STEP 3)
TOUCH_WHOLE = 0.8
# a component more than TOUCH_MAX_SIZE typical symbols wide or tall is not a few touching symbols (a table's edge
# or a page's column run together): no cuts are looked for in it. In every 6th WAP-like validation rendering (251)
# the largest component looked at was 5.1 x 5.9 symbols; on a photo whose sheet ran out of the frame, a 43-symbol
# tall one took minutes and 8 GB before this bound (page-clean-up.md)
TOUCH_MAX_SIZE = 12.0
# each branch point read costs a labelling of the component's box, so a component is read at every k-th of its
# branch points, k the least that keeps (points read) x (box pixels) within TOUCH_MAX_WORK. Every touch_cuts call
# of the validation readings stays within it, so they read every point: the stroke reader's second looks (1,610
# components) at most 1.7 M, the WAP-like renderings (4,289) at most 9.3 M, 120 generated validation pages (8,273)
# at most 9.4 M. A scribble of 18 random-walk strokes (2,239 branch points in a 620 x 533 px component: 740 M) took
# 10 s in this one component before the bound (docs/decisions/photo-expressions.md).
TOUCH_MAX_WORK = 20_000_000
_CIRCLE = 24  # points read on each circle


def branches(mask: np.ndarray, radius: float, step: int = 1) -> np.ndarray:
    """(h, w) int: for every pixel of ``mask`` (h, w), how many runs of ink a circle of ``radius`` around it crosses
    (outside the mask counts as no ink); with ``step``, for every ``step``-th pixel of every ``step``-th row only
    (those of ``mask[::step, ::step]``)."""
    h, w = mask.shape
    pad = int(np.ceil(radius)) + 1
    padded = np.pad(mask, pad)
    angles = np.linspace(0.0, 2 * np.pi, _CIRCLE, endpoint=False)
    ring = np.stack([padded[pad + dy:pad + dy + h:step, pad + dx:pad + dx + w:step]
                     for dy, dx in zip(np.rint(radius * np.sin(angles)).astype(int),
                                       np.rint(radius * np.cos(angles)).astype(int))])  # (_CIRCLE, h, w)
    return (ring & ~np.roll(ring, 1, axis=0)).sum(axis=0)  # runs start where the circle enters ink


def touch_cuts(mask: np.ndarray, unit: float, pen: float, min_piece: float) -> list[np.ndarray]:
    """Candidate cuts of a component (``mask`` (h, w), cropped to its box) where its strokes meet, as described at
    ``TOUCH_RADIUS``: each is one side's ink, (h, w) bool; the other side is the rest of ``mask``. ``unit``: the
    typical symbol size, ``pen``: the pen's width, both in pixels; ``min_piece``: the smallest piece kept, in
    typical symbol sizes."""
    import cv2

    h, w = mask.shape
    if max(h, w) > TOUCH_MAX_SIZE * unit:
        return []
    radius = max(TOUCH_RADIUS * pen, 1.0)
    # the ink pixels on the grid where three strokes or more meet (the circles read there only)
    ys, xs = np.nonzero(mask[::TOUCH_STEP, ::TOUCH_STEP] & (branches(mask, radius + TOUCH_RING * pen, TOUCH_STEP) >= 3))
    every = max(1, math.ceil(len(ys) / max(1, TOUCH_MAX_WORK // (h * w))))  # the work bound's points at most
    ys, xs = ys[::every], xs[::every]
    r = int(np.ceil(radius))
    span = np.arange(-r, r + 1)
    disk = span[:, None] ** 2 + span[None, :] ** 2 <= radius * radius
    ink = mask.astype(np.uint8)
    found: dict[bytes, np.ndarray] = {}
    least_piece = min_piece * unit
    for y, x in zip((ys * TOUCH_STEP).tolist(), (xs * TOUCH_STEP).tolist()):  # Python ints: cheaper arithmetic
        rest = ink.copy()
        y0, y1, x0, x1 = max(y - r, 0), min(y + r + 1, h), max(x - r, 0), min(x + r + 1, w)
        rest[y0:y1, x0:x1][disk[y0 - y + r:y1 - y + r, x0 - x + r:x1 - x + r]] = 0
        _, lab, stats = ink_labels(rest)
        pieces = [i for i, (pw, ph) in enumerate(stats[1:, 2:4].tolist(), 1) if max(pw, ph) >= least_piece]
        if not 2 <= len(pieces) <= TOUCH_PIECES:
            continue
        # every ink pixel (the disk's, specks') goes to the nearest piece (the first of those as near)
        nearest = np.zeros((h, w), np.int64)
        least = cv2.distanceTransform((lab != pieces[0]).view(np.uint8), cv2.DIST_L2, 3)
        for t, i in enumerate(pieces[1:], 1):
            dist = cv2.distanceTransform((lab != i).view(np.uint8), cv2.DIST_L2, 3)
            nearest[dist < least] = t
            np.minimum(least, dist, out=least)
        for chosen in range(1, 2 ** (len(pieces) - 1)):  # the last piece always on the other side: no mirror twice
            on = np.array([chosen >> t & 1 for t in range(len(pieces))], bool)  # the pieces on this side
            side = mask & on[nearest]
            found.setdefault(np.packbits(side).tobytes(), side)
    cuts: list[np.ndarray] = []
    total = np.count_nonzero(mask)
    for side in found.values():
        size = np.count_nonzero(side)
        least = TOUCH_SAME * min(size, total - size)
        # both sides lie in the mask: the other side differs from ``other`` wherever this side does not
        if all(least <= np.count_nonzero(side ^ other) <= total - least for other in cuts):
            cuts.append(side)
    return cuts


# the ``image-touch`` model: is a cut where strokes meet the right one (both sides one truth symbol each, two
# different ones)? A perceptron on ``touch_features`` (the cut's geometry and the classifier's readings of the whole
# and of both sides), trained by ``python -m inkmath.training.recipes.image_touch`` on WAP-like renderings of the CROHME
# *training* ink, labelled by the pixels of each traceGroup. A component is cut at its most probable cut when that
# probability is over TOUCH_PROB. Every 3rd WAP-like validation rendering (502; benchmarks/image_seg_oracle.py
# --stride 3 --k 12): read right 276 -> 280 (4 gained, none lost), a pixel-right grouping among the 3 read 359 -> 366;
# at 0.3 (a model on 5,611 of the expressions) as at 0.5: 279. The cuts chosen by best_cuts' score alone instead of a
# model: 271 (4 gained, 9 lost). Full WAP-like validation (benchmarks/wap_val.py): 829 -> 840 of 1,504, 14 gained
# and 3 lost (10 and 2 on the 1,002 expressions not used to choose)
RECIPE = "inkmath.training.recipes.image_touch --config configs/image-touch.yaml"
TOUCH_PROB = 0.5
TOP = 5  # readings kept per crop in a raw row
# raw row of a cut (what the training cache stores; ``touch_features`` derives the model's inputs): the component's
# width and height in typical symbols (2); for the whole, then each side (the left one first): TOP class indices and
# TOP probabilities, and for each side its share of the ink and its box in typical symbols from the component's
# corner (5); the cut's score over the whole's and the neck cuts' best over the whole's (``best_cuts`` scores), and
# how many cuts the component has where strokes meet (3)
RAW_LEN = 2 + 2 * TOP + 2 * (5 + 2 * TOP) + 3


@register("image-touch", what="Image touch model", recipe=RECIPE)
class ImageTouchModel(BinaryMLP):
    """p(a cut where strokes meet parts two truth symbols) from ``touch_features``."""


def load_image_touch_model(path: str | None = None) -> ImageTouchModel:
    """The shipped image-touch model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, ImageTouchModel.KIND)


def _readings(pred: list, index: dict[str, int]) -> list[float]:
    top = pred[:TOP]
    return [index.get(p.label, -1) for p in top] + [-1] * (TOP - len(top)) + [p.prob for p in top] + \
        [0.0] * (TOP - len(top))


def cut_raw(comp: Box, unit: float, whole: list, sides: list, reads: list, gains: tuple[float, float, int],
            index: dict[str, int]) -> np.ndarray:
    """float32 (RAW_LEN,): the raw row of a cut of component box ``comp``; ``sides``: (box, ink share) of each
    side, ``reads`` their readings, ``whole`` the component's; ``gains``: (the cut's score over the whole's, the
    neck cuts' best over the whole's, the component's count of such cuts)."""
    u = max(unit, 1e-6)
    row = [comp.w / u, comp.h / u] + _readings(whole, index)
    for (box, share), pred in sorted(zip(sides, reads), key=lambda s: s[0][0].cx):
        row += [share, (box.x0 - comp.x0) / u, (box.y0 - comp.y0) / u, (box.x1 - comp.x0) / u,
                (box.y1 - comp.y0) / u] + _readings(pred, index)
    return np.asarray(row + list(gains), np.float32)


N_GEOMETRY = 21  # touch_features' columns before the readings' spreads over the classes


def touch_features(raw: np.ndarray, classes: int, spreads: bool = True) -> np.ndarray:
    """float32 (N, N_GEOMETRY [+ 3 * classes]) model inputs from raw rows (N, RAW_LEN): sizes (log), each side's
    share and box, the best two probabilities of the whole and each side, the score gains, and (``spreads``) the
    readings of the whole and of each side spread over the classes (probabilities)."""
    raw = np.atleast_2d(raw).astype(np.float64)
    lg = lambda v: np.log(np.maximum(v, 1e-2))  # noqa: E731
    reads = [2, 2 + 2 * TOP + 5, 2 + 2 * TOP + 5 + 2 * TOP + 5]  # where each reading's class indices start
    geo = [lg(raw[:, 0]), lg(raw[:, 1])]
    for side in (2 + 2 * TOP, 2 + 2 * TOP + 5 + 2 * TOP):
        geo += [raw[:, side + i] for i in range(5)]
    for at in reads:
        geo += [raw[:, at + TOP], raw[:, at + TOP + 1]]
    gains = raw[:, RAW_LEN - 3:]
    geo += [np.clip(gains[:, 0], -20, 20), np.clip(gains[:, 1], -20, 20), np.log1p(gains[:, 2])]
    out = [np.stack(geo, 1)]
    rows = np.arange(len(raw))
    for at in reads if spreads else ():
        spread = np.zeros((len(raw), classes))
        for t in range(TOP):
            idx = raw[:, at + t].astype(np.int64)
            ok = idx >= 0
            spread[rows[ok], idx[ok]] += raw[ok, at + TOP + t]
        out.append(spread)
    return np.concatenate(out, 1).astype(np.float32)


def cut_probs(raw: np.ndarray) -> np.ndarray:
    """p(each cut parts two symbols) of raw rows (N, RAW_LEN), by the ``image-touch`` model."""
    model = load_image_touch_model()
    return model.prob(touch_features(raw, len(class_index()), model.mean.shape[0] > N_GEOMETRY))


@dataclass(frozen=True)
class TouchSearch:
    """Which components ``image_splits.split_touching`` looks at for cuts where strokes meet, and how it weighs them.

    The reader's (the defaults): the components tried and read as one symbol below ``whole_below``, narrow and flat
    ones too (``narrow``; only for these cuts: no neck cuts are tried in them), the pieces read only where the choice
    may need them, and the cut the ``image-touch`` model finds most probable (``model``). The ``image-touch`` recipe
    makes its data with another (``training.recipes.image_touch.data_search``)."""

    # a component read as one symbol below this is looked at
    whole_below: float = TOUCH_WHOLE
    # narrow and flat components read below ``whole_below`` too (of the 58 of every 3rd WAP-like validation rendering
    # with no right grouping among 12 and their first grouping merged, 27 touching components were narrow or flat:
    # '(' 'f', '\sqrt' '2', 'q' '2', a '-' under its neighbour); the model was trained on the wider components
    narrow: bool = True
    # every piece of every component tried read, in one classifier call; else only those that may be on a
    # component's best reading or its best cut reading (the same choices and records)
    every_piece: bool = False
    # the cuts weighed by the image-touch model, the most probable made over TOUCH_PROB; False: the model is not
    # asked (it need not exist yet) and no such cut is made
    model: bool = True
    # receives, per component weighed, (raw rows (N, RAW_LEN), each cut's two pieces) of its cuts (``best_cut``)
    observe: Callable[[np.ndarray, list], None] | None = None


def best_cut(comp: Box, unit: float, whole: list, sides: list, side_reads: list, whole_score: float,
             neck_score: float, search: TouchSearch = TouchSearch()) -> tuple[float, float | None, list, list] | None:
    """The most probable of a component's cuts where strokes meet (``touch_cuts``) by the ``image-touch`` model: (its
    ``image_necks.best_cuts`` score, its probability, its two pieces, their readings), or None when no cut has both
    sides read (at ``image.necks.PIECE_PROB`` or more, not as a name or a mark). ``sides``: each cut's (piece,
    piece, the first's share of the ink), a piece being (box, full-size mask); ``side_reads``: their readings;
    ``whole``: the component's. ``search``: its ``observe`` gets the cuts weighed; without its ``model`` the
    probability is None and the best cut is the best scored."""
    cands = []
    for (a, b, share), reads in zip(sides, side_reads):
        if any(token_of(r[0]) in CLASSIFIER_NAMES | MARKS or r[0].prob < PIECE_PROB for r in reads):
            continue
        score = comp.w / unit * (share * math.log(reads[0][0].prob) + (1 - share) * math.log(reads[1][0].prob)) \
            - CUT_COST
        cands.append((score, [a, b], list(reads), share))
    if not cands:
        return None
    raw = np.stack([cut_raw(comp, unit, whole, [(a[0], share), (b[0], 1 - share)], reads,
                            (score - whole_score, neck_score - whole_score, len(cands)), class_index())
                    for score, (a, b), reads, share in cands])
    if search.observe is not None:
        search.observe(raw, [c[1] for c in cands])
    if not search.model:
        best = max(range(len(cands)), key=lambda i: cands[i][0])
        return cands[best][0], None, cands[best][1], cands[best][2]
    probs = cut_probs(raw)
    best = int(np.argmax(probs))
    return cands[best][0], float(probs[best]), cands[best][1], cands[best][2]
