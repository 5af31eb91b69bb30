"""Grouping an image's parts into symbols by a trained model: ``image-merge`` scores each pair of nearby parts
"one truth symbol or two" and the parts are joined where it says so.

    groupings = learned_groupings(parts, classifier, k)   # parts: image_segmentation.ImageParts

The parts are what ``image_segmentation.image_parts`` leaves: connected components, re-cut where they hold several
symbols, and the function names read whole. Every pair of parts at most ``NEAR`` typical symbols apart, among the
``NEXT`` next in x order, is a candidate; the classifier reads the two parts together, and a perceptron
(``image-merge``, trained by ``python -m inkmath.training.recipes.image_merge`` on WAP-like renderings of the CROHME
*training* ink, target 1 when both parts' pixels belong to one traceGroup) gives p(one symbol) from the pair's
geometry and the classifier's readings of each part and of the pair (``pair_features``). Pairs join, most
probable first, while p > ``MERGE_PROB`` (a symbol of three parts, '\\div' or '\\ldots', joins pair by pair).

The decoder also gets the groupings one decision away: a join undone or a pair left apart joined, each with its
``margin``: how far the pair's logit lay from the threshold's, so the decoder prices it
(``image_alternatives.flip_score``) as it prices the rules' close calls.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from inkmath.equation.core.mlp import BinaryMLP
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.core.defaults import DEFAULT_WEIGHTS
from inkmath.equation.core.tree import Box
from inkmath.equation.image.parts import render_many
from inkmath.weights import resolve_weights

RECIPE = "inkmath.training.recipes.image_merge --config configs/image-merge.yaml"
# candidate pairs: parts whose boxes lie less than NEAR typical symbol sizes apart (the larger of the x and y gaps),
# among the NEXT next parts in x order
NEAR = 0.6
NEXT = 4
# pairs join at this probability: of every 3rd WAP-like validation rendering (502), the grouping is right by pixels
# for 314 / 319 / 325 / 324 / 328 / 327 / 325 at 0.3 / 0.4 / 0.5 / 0.6 / 0.7 / 0.8 / 0.9, the rules' for 317
# (benchmarks/image_grouping_val.py --stride 3)
MERGE_PROB = 0.7
TOP = 5  # classifier readings kept per part and pair (the raw rows store this many)


@register("image-merge", what="Image merge model", recipe=RECIPE)
class ImageMergeModel(BinaryMLP):
    """p(two parts of an image are one symbol) from ``pair_features``."""


def load_image_merge_model(path: str | None = None) -> ImageMergeModel:
    """The shipped image-merge model, or the weights at ``path`` (a shipped name or a file; ``registry.load_model``)."""
    return load_model(path, ImageMergeModel.KIND)


def candidate_pairs(gbox: list[Box], unit: float) -> list[tuple[int, int]]:
    """(a, b) pairs of parts to score, a before b in x order (see ``NEAR``)."""
    order = sorted(range(len(gbox)), key=lambda k: gbox[k].x0)
    out = []
    for x, a in enumerate(order):
        for b in order[x + 1:x + 1 + NEXT]:
            A, B = gbox[a], gbox[b]
            gap = max(max(A.x0, B.x0) - min(A.x1, B.x1), max(A.y0, B.y0) - min(A.y1, B.y1))
            if gap < NEAR * unit:
                out.append((a, b))
    return out


def _between(gbox: list[Box], a: int, b: int) -> float:
    """1 when another part lies between a and b vertically, overlapping both in x (a fraction bar between a
    numerator and a denominator), else 0."""
    top, bottom = (gbox[a], gbox[b]) if gbox[a].cy < gbox[b].cy else (gbox[b], gbox[a])
    for k, c in enumerate(gbox):
        if k not in (a, b) and min(c.x1, top.x1, bottom.x1) > max(c.x0, top.x0, bottom.x0) \
                and top.y1 - 1e-6 < c.cy < bottom.y0 + 1e-6:
            return 1.0
    return 0.0


# raw row of a candidate pair (what the training cache stores; ``pair_features`` derives the model's inputs):
# boxes of a and b in typical symbols relative to a's corner (8), parts in each (2), between (1), parts inside the
# pair's box (1), then for a, b and the pair read together: TOP class indices and TOP probabilities
RAW_GEOMETRY = 12
RAW_LEN = RAW_GEOMETRY + 3 * 2 * TOP


def pair_raw(gbox: list[Box], groups: list[list[int]], gpred: list[list], pair_pred: list, a: int, b: int,
             unit: float, index: dict[str, int]) -> np.ndarray:
    """float32 (RAW_LEN,): the raw row of pair (a, b); ``index``: the classifier's label -> class index."""
    A, B = gbox[a], gbox[b]
    u = max(unit, 1e-6)
    U = A.union(B)
    inside = sum(1 for k, c in enumerate(gbox) if k not in (a, b) and U.x0 <= c.cx <= U.x1 and U.y0 <= c.cy <= U.y1)
    row = [(A.x0 - A.x0) / u, (A.y0 - A.y0) / u, (A.x1 - A.x0) / u, (A.y1 - A.y0) / u,
           (B.x0 - A.x0) / u, (B.y0 - A.y0) / u, (B.x1 - A.x0) / u, (B.y1 - A.y0) / u,
           len(groups[a]), len(groups[b]), _between(gbox, a, b), inside]
    for pr in (gpred[a], gpred[b], pair_pred):
        idx = [index.get(p.label, -1) for p in pr[:TOP]] + [-1] * (TOP - len(pr[:TOP]))
        prob = [p.prob for p in pr[:TOP]] + [0.0] * (TOP - len(pr[:TOP]))
        row += idx + prob
    return np.asarray(row, np.float32)


def pair_features(raw: np.ndarray, classes: int, spreads: tuple[int, ...] = (0, 1, 2)) -> np.ndarray:
    """float32 (N, 20 + 3 * classes) model inputs from raw rows (N, RAW_LEN): the pair's geometry (sizes, gaps,
    overlaps, offsets, in typical symbols), the best reading's probability of a, b and the pair, the pair's over
    the parts' geometric mean, and each one's top readings spread over the classes (probabilities)."""
    raw = np.atleast_2d(raw).astype(np.float64)
    a, b = raw[:, 0:4], raw[:, 4:8]
    aw, ah, bw, bh = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    gx = np.maximum(a[:, 0], b[:, 0]) - np.minimum(a[:, 2], b[:, 2])
    gy = np.maximum(a[:, 1], b[:, 1]) - np.minimum(a[:, 3], b[:, 3])
    uw = np.maximum(a[:, 2], b[:, 2]) - np.minimum(a[:, 0], b[:, 0])
    uh = np.maximum(a[:, 3], b[:, 3]) - np.minimum(a[:, 1], b[:, 1])
    lg = lambda v: np.log(np.maximum(v, 1e-2))  # noqa: E731
    g = raw[:, RAW_GEOMETRY:]
    p_a, p_b, p_u = g[:, TOP], g[:, 3 * TOP], g[:, 5 * TOP]
    geo = [lg(aw), lg(ah), lg(bw), lg(bh), gx, gy, -gx / np.maximum(np.minimum(aw, bw), 1e-2),
           -gy / np.maximum(np.minimum(ah, bh), 1e-2), (b[:, 0] + b[:, 2] - a[:, 0] - a[:, 2]) / 2,
           (b[:, 1] + b[:, 3] - a[:, 1] - a[:, 3]) / 2, lg(uw), lg(uh), np.log1p(raw[:, 8]), np.log1p(raw[:, 9]),
           raw[:, 10], np.log1p(raw[:, 11]), p_a, p_b, p_u,
           np.log(np.maximum(p_u, 1e-6)) - 0.5 * (np.log(np.maximum(p_a, 1e-6)) + np.log(np.maximum(p_b, 1e-6)))]
    out = [np.stack(geo, 1)]
    rows = np.arange(len(raw))
    for part in spreads:
        spread = np.zeros((len(raw), classes))
        for t in range(TOP):
            idx = g[:, 2 * TOP * part + t].astype(np.int64)
            ok = idx >= 0
            spread[rows[ok], idx[ok]] += g[ok, 2 * TOP * part + TOP + t]
        out.append(spread)
    return np.concatenate(out, 1).astype(np.float32)


N_GEOMETRY = 20  # pair_features' columns before the readings' spreads over the classes
SPREADS = {3: (0, 1, 2), 1: (2,), 0: ()}  # spreads a model reads (by how many its inputs hold) -> whose: a, b, pair


def model_features(model: BinaryMLP, raw: np.ndarray) -> np.ndarray:
    """``pair_features`` of raw rows as ``model`` reads them (the spreads its input width holds)."""
    classes = len(class_index())
    return pair_features(raw, classes, SPREADS[(model.mean.shape[0] - N_GEOMETRY) // classes])


@lru_cache(maxsize=1)
def class_index() -> dict[str, int]:
    """Label -> class index of the classes of the classifier that reads image crops (the reader's
    ``core.defaults.DEFAULT_WEIGHTS``), which the image models' inputs spread readings over; a label outside them
    (another classifier's) counts for none."""
    names = resolve_weights(DEFAULT_WEIGHTS)[1]["classes"]["names"]
    return {name: k for k, name in enumerate(names)}


def pair_crops(img: np.ndarray, comps: list, groups: list[list[int]], gbox: list[Box],
               pairs: list[tuple[int, int]]) -> list[np.ndarray]:
    """The crops of ``pairs`` of parts ``groups`` read together, as ``score_pairs`` reads them."""
    return render_many(img, [([comps[c][1] for c in groups[a] + groups[b]], gbox[a].union(gbox[b])) for a, b in pairs])


def score_pairs(img: np.ndarray, comps: list, groups: list[list[int]], gbox: list[Box], gpred: list, unit: float,
                classifier, model: ImageMergeModel | None = None) -> tuple[list, list, np.ndarray, np.ndarray]:
    """(pairs, their readings together, their raw rows, p(one symbol)) of the candidate pairs of parts ``groups``
    (a part may be several components: a name read whole). ``model`` None: no probabilities (training)."""
    pairs = candidate_pairs(gbox, unit)
    if not pairs:
        return [], [], np.zeros((0, RAW_LEN), np.float32), np.zeros(0)
    reads = classifier.predict(pair_crops(img, comps, groups, gbox, pairs), ink="white", top=TOP)
    index = class_index()
    raw = np.stack([pair_raw(gbox, groups, gpred, r, a, b, unit, index) for (a, b), r in zip(pairs, reads)])
    probs = model.prob(model_features(model, raw)) if model is not None else np.zeros(len(pairs))
    return pairs, reads, raw, probs


def _join(n: int, pairs: list[tuple[int, int]], probs: np.ndarray, on: set[int], off: set[int],
          threshold: float | None = None) -> list[list[int]]:
    """Parts 0..n-1 joined by the pairs over ``threshold`` (``MERGE_PROB``; and those in ``on``, never those in
    ``off``): the groups of parts, each sorted, in order of their first part."""
    threshold = MERGE_PROB if threshold is None else threshold
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in sorted(range(len(pairs)), key=lambda i: -probs[i]):
        if i in on or (probs[i] > threshold and i not in off):
            ra, rb = root(pairs[i][0]), root(pairs[i][1])
            if ra != rb:
                parent[rb] = ra
    out: dict[int, list[int]] = {}
    for i in range(n):
        out.setdefault(root(i), []).append(i)
    return sorted(out.values(), key=lambda g: g[0])


def _margin(p: float, merge_prob: float | None = None) -> float:
    """How far a pair's probability lay from ``merge_prob`` (default ``MERGE_PROB``), in logit units."""
    merge_prob = MERGE_PROB if merge_prob is None else merge_prob
    p = min(max(p, 1e-6), 1 - 1e-6)
    return abs(math.log(p / (1 - p)) - math.log(merge_prob / (1 - merge_prob)))


def learned_groupings(parts, classifier, k: int, model: ImageMergeModel | str | Path | None = None,
                      merge_prob: float | None = None) -> list[tuple[float, tuple[list, list, list]]]:
    """Up to ``k`` groupings (margin, (groups of components, boxes, readings)) of ``parts``
    (``image_segmentation.ImageParts``): the model's own (margin 0) first, then those one decision away, closest
    first. ``model``: the image-merge model, or the name or path of its weights (default the shipped one); pairs join
    above ``merge_prob`` (default ``MERGE_PROB``)."""
    if model is None or isinstance(model, (str, Path)):
        model = load_image_merge_model(model)
    merge_prob = MERGE_PROB if merge_prob is None else merge_prob
    img, comps, unit = parts.img, parts.comps, parts.unit
    named = {c for run, _, _ in parts.names for c in run}
    n = len(parts.preds)  # the parts (``comps`` may hold pieces of alternatives appended after them)
    groups = [list(run) for run, _, _ in parts.names] + [[c] for c in range(n) if c not in named]
    gpred = [pr for _, _, pr in parts.names] + [parts.preds[c] for c in range(n) if c not in named]
    gbox = [b for _, b, _ in parts.names] + [comps[c][0] for c in range(n) if c not in named]
    pairs, reads, _, probs = score_pairs(img, comps, groups, gbox, gpred, unit, classifier, model)
    pair_read = {frozenset(p): r for p, r in zip(pairs, reads)}
    decisions = [(0.0, set(), set())]
    if k > 1:
        for i, p in enumerate(probs):
            decisions.append((_margin(p, merge_prob), set(), {i}) if p > merge_prob else
                             (_margin(p, merge_prob), {i}, set()))
    joined, seen = [], set()
    for margin, on, off in sorted(decisions, key=lambda d: d[0]):
        js = _join(len(groups), pairs, probs, on, off, merge_prob)
        key = tuple(tuple(j) for j in js)
        if key in seen:  # undoing a join that other joins make anyway changes nothing
            continue
        seen.add(key)
        joined.append((margin, js))
        if len(joined) == k:
            break
    # readings of the new groups: a pair's from its candidate read, larger groups read now (once each)
    need = {}
    for _, js in joined:
        for j in js:
            if len(j) > 1 and frozenset(j) not in pair_read:
                need[frozenset(j)] = j
    if need:
        boxes = {key: _union([gbox[i] for i in j]) for key, j in need.items()}
        crops = render_many(img, [([comps[c][1] for i in j for c in groups[i]], boxes[key]) for key, j in need.items()])
        pair_read.update(zip(need, classifier.predict(crops, ink="white", top=TOP)))
    out = []
    for margin, js in joined:
        out.append((margin, ([[c for i in j for c in groups[i]] for j in js],
                             [_union([gbox[i] for i in j]) for j in js],
                             [gpred[j[0]] if len(j) == 1 else pair_read[frozenset(j)] for j in js])))
    return out[:k]


def _union(boxes: list[Box]) -> Box:
    out = boxes[0]
    for b in boxes[1:]:
        out = out.union(b)
    return out
