"""Image segmentation: an ink image (an expression's photo or rendering) -> symbols (``SymbolHyp``) with top-k
classifier readings.

``segment_image``: connected components (``image_parts``), brought to ink's canonical scale and pen width when
the classifier reads sizes relative to the expression; parts that are not one symbol each re-cut
(``image_splits``: names written joined, bars with hanging legs, fraction bars touching other symbols, touching
symbols cut at their necks, the missing partner of an unmatched bracket); then parts that form one symbol merged
by the geometric rules of ``image_parts`` where the classifier reads them together better than apart.

``segment_image_nbest``: the rules' grouping first, then the alternatives the decoder weighs: the rules' closest
calls undone or made (``image_alternatives``) and the ``image-merge`` model's groupings (``image_grouping``) where
they differ (docs/decisions/image-segmentation.md). One expression's crops are read once each (``CropReadings``): of
the ~50 crops the reader draws for a 10-symbol image, about 10 are drawn again by a later stage (the learned
grouping's pairs, near neighbours, the rules' merges).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.image.parts import (
    ARROW_TOKENS, BLANK_IMAGE, CAP_PROB, CAP_TOKENS, IMAGE_SCALE, MERGE_RATIO, MULTI_PART, SIDE_RATIO, SIDE_TOKENS,
    arrow_parts, capped, components, drawn_once, foot_bar, match_pen, mergeable, pen_width, render_many, separated,
    side_by_side, swallows, typical_size)
from inkmath.equation.image.bars import cut_bars
from inkmath.equation.image.splits import (hanging_legs, name_run_crops, name_runs, open_parens,
                                           split_touching, written_names)
from inkmath.equation.image.touch import TouchSearch
from inkmath.equation.reader.symbols import Classifier, candidates_from, token_of
from inkmath.equation.core.tokens import DOTTED_NAMES, MARKS
from inkmath.equation.core.defaults import DEFAULT_WEIGHTS
from inkmath.equation.core.tree import Box, SymbolHyp
from inkmath.equation.image import grouping as image_grouping
from inkmath.equation.image.alternatives import alternatives, flip_score, near_pairs

# image boxes (ink pixels, wider than the pen's path) are trimmed by BOX_TRIM half pen widths a side for the layout
# rules: ExpRate 34.84 % at 0, 35.17 % at 1 (docs/decisions/image-segmentation.md)
BOX_TRIM = 1.0
# groupings of an image the decoder reads (the rules' own and the closest calls undone or made): 902 of the 1,504
# WAP-like validation renderings right with 5 against 888 with 3 (docs/decisions/image-segmentation.md)
IMAGE_SEGMENTATIONS = 5
# pixels: an image is not enlarged to its working scale past this (a picture of specks asked for 6.9 GB);
# validation crops measure at most 0.70 MP (docs/decisions/image-segmentation.md)
MAX_WORKING_PIXELS = 2_500_000


def _dot_names(groups: list[list[int]], gbox: list[Box], gpred: list[list], unit: float) -> None:
    """The dot of the 'i' of a name read whole ('sin' joined up, its dot apart) joins the name, in place: a lone
    dot over a name is never a symbol of its own."""
    # names whose 'i' has a dot (``tokens.DOTTED_NAMES``): read whole, they take the mark over them (3 more '\\sin'
    # right on the WAP-like renderings, none lost: ExpRate 39.30 -> 39.49 %)
    taken: dict[int, int] = {}  # dot -> name
    for k in range(len(groups)):
        if token_of(gpred[k][0]) not in DOTTED_NAMES:
            continue
        name = gbox[k]
        for d in range(len(groups)):
            if d != k and d not in taken and max(gbox[d].w, gbox[d].h) < 0.35 * unit \
                    and token_of(gpred[d][0]) in MARKS and name.x0 <= gbox[d].cx <= name.x1 \
                    and name.y0 - 0.7 * unit < gbox[d].cy < name.y0 + 0.2 * name.h:
                taken[d] = k
    for d, k in taken.items():
        groups[k] = groups[k] + groups[d]
        gbox[k] = gbox[k].union(gbox[d])
    for d in sorted(taken, reverse=True):
        del groups[d], gbox[d], gpred[d]


def trimmed_box(b: Box, d: float) -> Box:
    """``b`` shrunk by ``d`` on each side, down to at least one pixel across."""
    dx, dy = min(d, max(b.w - 1, 0) / 2), min(d, max(b.h - 1, 0) / 2)
    return Box(b.x0 + dx, b.y0 + dy, b.x1 - dx, b.y1 - dy)


def segment_image(image: np.ndarray, classifier: Classifier, top: int = 5, ink: str = "auto",
                  observe: Callable[..., None] | None = None) -> list[SymbolHyp]:
    """Symbols of an expression image: components, merged where a multi-part symbol reads better than its parts.

    ``observe``: called once, with keywords, with what the symbols are made of (``trace.update`` keeps them in a
    dict): the working image (``img``, at the classifier's scale), its parts (``comps``: (box, full-size mask); a
    symbol's ``strokes`` index them), ``back`` (image pixels per working pixel), ``pen`` and (``segment_image_nbest``)
    each grouping's ``margins``.
    """
    return segment_image_nbest(image, classifier, 1, top, ink, observe)[0][0]


def segment_image_nbest(image: np.ndarray, classifier: Classifier, k: int = IMAGE_SEGMENTATIONS, top: int = 5,
                        ink: str = "auto", observe: Callable[..., None] | None = None, *,
                        image_merge: str | None = None, merge_prob: float | None = None
                        ) -> list[tuple[list[SymbolHyp], float]]:
    """Up to ``k`` groupings of an expression image, each with its score for the decoder (see ``segment_image``):
    first the rules' grouping (score 0), then the ``k - 1`` groupings that undo or make the rules' closest calls, one
    each (``image_alternatives``), each scored ``-(FLIP_COST + MARGIN_WEIGHT * margin)``. ``image_merge``,
    ``merge_prob``: the learned grouping's image-merge weights (a shipped name or a path) and the probability its
    pairs join at (``image_grouping.learned_groupings``; default the shipped model and ``MERGE_PROB``)."""
    with drawn_once():  # the crops later stages draw again, drawn once
        return _groupings(image, classifier, k, top, ink, observe, image_merge, merge_prob)


def _groupings(image: np.ndarray, classifier: Classifier, k: int, top: int, ink: str,
               observe: Callable[..., None] | None, image_merge: str | None = None,
               merge_prob: float | None = None) -> list[tuple[list[SymbolHyp], float]]:
    """``segment_image_nbest``'s work (within ``image_parts.drawn_once``)."""
    if not isinstance(classifier, CropReadings):
        classifier = CropReadings(classifier)
    p = image_parts(image, classifier, top, ink, record_cuts=k > 1)
    img, comps, preds, names, unit, back, pen, cuts = (p.img, p.comps, p.preds, p.names, p.unit, p.back, p.pen,
                                                       p.cuts)
    named = {k for run, _, _ in names for k in run}
    groups: list[list[int]] = [run for run, _, _ in names] + [[k] for k in range(len(comps)) if k not in named]
    gpred = [pr for _, _, pr in names] + [preds[k] for k in range(len(comps)) if k not in named]
    gbox = [b for _, b, _ in names] + [comps[k][0] for k in range(len(comps)) if k not in named]
    # the pairs the learned grouping reads (``image_grouping.score_pairs``, among the alternatives) depend on the
    # parts alone: read in the merge rules' first classifier run
    ahead = []
    if k > 1 and top == image_grouping.TOP:
        ahead = image_grouping.pair_crops(img, comps, groups, gbox, image_grouping.candidate_pairs(gbox, unit))
    merged_reads: dict[frozenset, list] = {}
    made: dict[frozenset, tuple] = {}  # a merged group -> its two parts (groups, box, readings) and the margin
    declined: list[tuple] = []  # merges weighed in the last round and not made: (parts a, b, box, readings, margin)
    changed = True
    while changed:
        changed = False
        order = sorted(range(len(groups)), key=lambda k: gbox[k].x0)
        pairs, kinds = [], []  # kinds: "stack" (mergeable), "side" (side_by_side), "arrow" or "cap" (capped)
        for x, a in enumerate(order):
            for b in order[x + 1:x + 4]:
                single = len(groups[a]) == len(groups[b]) == 1
                kind = "stack" if mergeable(gbox, a, b, unit) else "side" if single and side_by_side(
                    gbox, a, b, unit) else "arrow" if single and arrow_parts(gbox, a, b, unit) else "cap" if \
                    single and capped(gbox, a, b, unit) else None
                # the geometric tests first: each is cheaper than ``separated``, which looks at every part, and
                # few pairs pass them (all are pure, so the pairs kept are the same in either order)
                if kind and not separated(gbox, a, b):
                    pairs.append((a, b))
                    kinds.append(kind)
        if not pairs:
            break
        boxes = [gbox[a].union(gbox[b]) for a, b in pairs]
        # a merged crop depends only on its components: read each set once, not again after every merge
        keys = [frozenset(groups[a] + groups[b]) for a, b in pairs]
        new = {key: bx for key, bx in zip(keys, boxes) if key not in merged_reads}
        if new:
            crops = render_many(img, [([comps[k][1] for k in key], bx) for key, bx in new.items()])
            merged_reads.update(zip(new, read_ahead(classifier, crops, ahead, top)))
            ahead = []
        mpreds = [merged_reads[key] for key in keys]
        scored, declined = [], []
        for (a, b), bx, mp, kind in zip(pairs, boxes, mpreds, kinds):
            t = token_of(mp[0])
            sep = math.sqrt(gpred[a][0].prob * gpred[b][0].prob)
            ratio = MERGE_RATIO if kind in ("stack", "cap") else SIDE_RATIO
            if kind == "stack":
                ok = t in MULTI_PART or foot_bar(t, gpred, gbox, a, b, unit)
            elif kind == "cap":
                alone = (token_of(gpred[a][0]), token_of(gpred[b][0]))
                ok = t in CAP_TOKENS and mp[0].prob > CAP_PROB and t not in alone
            else:
                ok = t in (SIDE_TOKENS if kind == "side" else ARROW_TOKENS)
            margin = math.log(max(mp[0].prob, 1e-6) / max(ratio * sep, 1e-6))
            if ok and mp[0].prob > ratio * sep and not swallows(t, gpred[a], gbox[a], gpred[b], gbox[b]):
                scored.append((mp[0].prob - sep, a, b, bx, mp, margin))
            else:  # the margin of a merge the rules' token sets forbid counts from the same threshold
                declined.append(((groups[a], gbox[a], gpred[a]), (groups[b], gbox[b], gpred[b]), bx, mp, -margin))
        if scored:
            _, a, b, bx, mp, margin = max(scored, key=lambda s: s[0])
            made[frozenset(groups[a] + groups[b])] = ((groups[a], gbox[a], gpred[a]), (groups[b], gbox[b], gpred[b]),
                                                      margin)
            groups[a] = groups[a] + groups[b]
            gbox[a], gpred[a] = bx, mp
            del groups[b], gbox[b], gpred[b]
            changed = True
    finish = functools.partial(_symbols, unit=unit, trim=BOX_TRIM * pen / 2, back=back)
    out = [(finish(groups, gbox, gpred), 0.0)]
    margins = [0.0]
    if k > 1:
        declined += near_pairs(img, comps, groups, gbox, gpred, unit, classifier, top,
                               {frozenset(d[0][0] + d[1][0]) for d in declined})
        alts = alternatives(groups, gbox, gpred, comps, made, declined, cuts or [])
        # the model's grouping and those one of its decisions away, where they differ
        seen = {_grouping_key(groups)} | {_grouping_key(a[0]) for _, a in alts}
        for margin, alt in image_grouping.learned_groupings(p, classifier, k, image_merge, merge_prob=merge_prob):
            if _grouping_key(alt[0]) not in seen:
                seen.add(_grouping_key(alt[0]))
                alts.append((margin, alt))
        alts.sort(key=lambda a: a[0])
        for margin, alt in alts[:k - 1]:
            out.append((finish(*alt), flip_score(margin)))
            margins.append(margin)
    if observe is not None:
        observe(img=img, comps=comps, back=back, pen=pen, margins=margins)
    return out


def in_place_of_default(classifier: Classifier, weights: str | None, engine: str | None = None) -> Classifier:
    """The classifier ``weights`` on ``engine`` (None: ``classifier``'s own; loaded once, ONNX Runtime on one
    thread) when ``classifier`` is the reader's default one (``core.defaults.DEFAULT_WEIGHTS``) and ``weights`` is set,
    else ``classifier`` itself (a caller's own weights are kept). ``classifier`` itself too when that is what it
    already is, or when ``engine`` is "onnx" and ONNX Runtime (or ``onnx``, which builds its graph) is not installed."""
    import importlib.util

    card = getattr(classifier, "card", None) or {}
    own = getattr(classifier, "engine", "torch")
    engine = engine or own
    if not weights or card.get("name") != DEFAULT_WEIGHTS or (weights == DEFAULT_WEIGHTS and engine == own):
        return classifier
    if engine == "onnx" and None in (importlib.util.find_spec("onnxruntime"), importlib.util.find_spec("onnx")):
        return classifier
    from inkmath.predict import load_predictor

    return load_predictor(weights, engine, threads=1)


class CropReadings:
    """``classifier`` with the readings of one expression's crops kept: a crop with the same pixels, asked again with
    the same ``ink`` and ``top``, is not read again. Its readings are the same to the bit with ONNX Runtime, whose
    logits of a crop do not depend on the other crops of its batch (PyTorch's move by up to about 3e-6)."""

    def __init__(self, classifier: Classifier):
        self.classifier = classifier
        self.read: dict[tuple, list] = {}

    def __getattr__(self, name: str):
        return getattr(self.classifier, name)

    def predict(self, images, ink: str = "auto", top: int = 5) -> list:
        keys = [(ink, top, im.shape, im.dtype.str, im.tobytes()) for im in images]
        new = {}
        for key, im in zip(keys, images):
            if key not in self.read and key not in new:
                new[key] = im
        if new:
            self.read.update(zip(new, self.classifier.predict(list(new.values()), ink=ink, top=top)))
        return [self.read[key] for key in keys]


def read_ahead(classifier: Classifier, crops: list[np.ndarray], ahead: list[np.ndarray], top: int) -> list:
    """The readings of ``crops`` (white ink), with the crops ``ahead`` that a later stage asks for read in the same
    classifier run when ``classifier`` keeps its readings (``CropReadings``: that stage's run is then saved; ONNX
    Runtime's logits of a crop do not depend on the other crops of its batch)."""
    if not ahead or not isinstance(classifier, CropReadings):
        return classifier.predict(crops, ink="white", top=top)
    return classifier.predict(crops + ahead, ink="white", top=top)[:len(crops)]


@dataclass
class ImageParts:
    """What segmentation knows before it groups: the working image (``img``, at the classifier's scale), its parts
    (``comps``: (box, full-size mask)) and their readings (``preds``), the function names read whole (``names``:
    (parts, box, readings)), the typical symbol size ``unit``, image pixels per working pixel ``back``, the pen's
    width, and ``split_touching``'s record of its cuts (``cuts``, None when not asked)."""

    img: np.ndarray
    comps: list
    preds: list
    names: list
    unit: float
    back: float
    pen: float
    cuts: list | None


def working_image(image: np.ndarray, preset, ink: str = "auto") -> tuple[np.ndarray, list, float, float, float]:
    """The image as segmentation reads it: white ink on black, at the scale of a classifier prepared with ``preset``
    (its ``preprocess.Preset``, or None). Returns the working image, its components, the typical symbol size
    ``unit``, ``back`` (image pixels per working pixel) and its pen's width (``pen_width``)."""
    from inkmath.preprocess import to_white_ink

    img = to_white_ink(image, ink)
    back = 1.0  # image pixels per working pixel, to report boxes in the caller's coordinates
    if getattr(preset, "ref", 0.0):
        # this classifier reads a symbol's size relative to the expression (preset ``ref``): bring the image to
        # ink's canonical scale, where a typical symbol is ink.DEFAULT_HEIGHT pixels, as for strokes (the typical
        # size in pixels from the components' boxes: their masks are made at the working scale only)
        import cv2

        from inkmath import ink as _ink

        f = IMAGE_SCALE * _ink.DEFAULT_HEIGHT / typical_size(img)
        # an image of specks (noise, a deblurred blank) measures a symbol 1-2 px: enlarged only up to a bound
        f = min(f, np.sqrt(MAX_WORKING_PIXELS / img.size))
        if abs(f - 1) > 0.05:
            img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
            back = 1.0 / f
        img, pen = match_pen(img)
    else:
        pen = pen_width(img)
    comps = components(img)
    unit = float(np.median([max(b.h, b.w, 1) for b, _ in comps]))  # typical symbol size in pixels
    return img, comps, unit, back, pen


def _readable(comps: list, crops: list[np.ndarray]) -> tuple[list, list[np.ndarray]]:
    """The components whose crops hold ink the classifier can read. A mark too faint for it (a speck of a shrunk
    image, under ``preprocess.INK_THRESHOLD`` once its crop is softened) is left out: the classifier refuses a blank
    crop, and that refusal failed the whole expression ("no ink found")."""
    from inkmath.preprocess import INK_THRESHOLD, ink_bbox, to_white_ink

    keep = [k for k, c in enumerate(crops) if c.max() > INK_THRESHOLD or ink_bbox(to_white_ink(c, "white")) is not None]
    if len(keep) == len(crops):
        return comps, crops
    if not keep:
        raise InkmathError(BLANK_IMAGE)
    return [comps[k] for k in keep], [crops[k] for k in keep]


def image_parts(image: np.ndarray, classifier: Classifier, top: int = 5, ink: str = "auto",
                record_cuts: bool = False, touch: TouchSearch = TouchSearch()) -> ImageParts:
    """The parts of an expression image before grouping: components at the classifier's scale, re-cut where they
    are not one symbol each (``image_splits``), each read by the classifier. ``touch``: how ``split_touching``
    looks for cuts where strokes meet (``image_touch.TouchSearch``; the ``image-touch`` recipe's records them)."""
    img, comps, unit, back, pen = working_image(image, getattr(classifier, "preset", None), ink)  # img stays as it is
    crops = render_many(img, [([m], b) for b, m in comps])
    comps, crops = _readable(comps, crops)
    # the runs ``written_names`` reads next depend on the parts' boxes alone: read in the same classifier run
    runs = name_runs(comps, unit)
    preds = read_ahead(classifier, crops, name_run_crops(img, comps, runs), top)
    names = written_names(img, comps, preds, unit, classifier, top, runs)
    names += hanging_legs(img, comps, preds, unit, classifier, top, {k for run, _, _ in names for k in run})
    named = {k for run, _, _ in names for k in run}
    comps, preds = cut_bars(img, comps, preds, unit, classifier, top, pen, keep=named)
    cuts: list | None = [] if record_cuts else None
    comps, preds = split_touching(img, comps, preds, unit, classifier, top, keep=named, record=cuts, pen=pen,
                                  touch=touch)
    comps, preds = open_parens(img, comps, preds, unit, classifier, top, keep=named)
    return ImageParts(img, comps, preds, names, unit, back, pen, cuts)


def _grouping_key(groups: list[list[int]]) -> frozenset:
    return frozenset(frozenset(g) for g in groups)


def _symbols(groups: list[list[int]], gbox: list[Box], gpred: list[list], unit: float, trim: float,
             back: float) -> list[SymbolHyp]:
    """A grouping's symbols as the decoder reads them: dots joined to their names, boxes trimmed by the pen and
    brought back to the image's pixels, left to right (the lists given are not changed)."""
    groups, gbox, gpred = list(groups), list(gbox), list(gpred)
    _dot_names(groups, gbox, gpred, unit)
    gbox = [trimmed_box(b, trim) for b in gbox]
    if back != 1.0:
        gbox = [Box(b.x0 * back, b.y0 * back, b.x1 * back, b.y1 * back) for b in gbox]
    hyps = [SymbolHyp(gbox[k], candidates_from(gpred[k]), sorted(groups[k])) for k in range(len(groups))]
    hyps.sort(key=lambda h: h.box.x0)
    return hyps
