"""Strokes a writer came back to: a stroke that belongs to the symbol of an earlier stroke, not the one just before
it (an i's dot put after the word, a t's bar or a +'s second bar crossed later, a radical's bar drawn over content
already written), moved next to that earlier stroke so that the segmenter, which groups runs of consecutive strokes
(``segment``), can group them. The segmenter groups the strokes in both orders, as drawn and so moved, and offers the
best groupings of either (``segment.segment_strokes_nbest``): a wrong move costs no grouping the order drawn gives.

How often: 5.6 % of the CROHME training expressions (497 of 8,834) and 2.4 % of the 2011-2013 test ink (36 of
1,507) have a symbol whose strokes are not consecutive, or more than ``segment.MAX_GROUP`` of them; no grouping of
runs reaches those (docs/decisions/stroke-grouping.md).

A small learnt model (``late-stroke``, trained by ``train_late_strokes.py`` from ``configs/late-stroke.yaml``) reads
each pair of a stroke t and an earlier stroke u, not t's predecessor, that comes within ``NEAR`` symbol sizes of it
(``candidate_pairs``), from their geometry and how each sits against its neighbours in time (``late_features``),
and gives the probability that t is a late stroke of u's symbol. Stroke t moves behind the latest u it more likely
than not belongs to, when its best such probability is also over the merge model's for t and either neighbour in
time (``late_order``): a stroke the segmenter would join to the stroke before or after it stays where it is.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from inkmath.equation.core.mlp import BinaryMLP
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.strokes.geometry import box_extent, box_pair_features, drawing_unit, link_features, StrokeGeometry

# how close (in the drawing's symbol sizes, ``segment.drawing_unit``) an earlier stroke must come to be a candidate:
# 442 of the 468 late strokes of the training ink come that close to their symbol's stroke before them
NEAR = 0.6
LATE_FEATURES = 27  # ``late_features`` per pair
RECIPE = "inkmath.training.recipes.late_strokes --config configs/late-stroke.yaml"


def late_features(strokes: Sequence[np.ndarray], geo, unit: float, u: int, t: int) -> list[float]:
    """``LATE_FEATURES`` numbers for strokes u < t - 1 (``geo``: a ``segment.StrokeGeometry`` of the drawing; ``unit``:
    its symbol size): both boxes' sizes, their offsets, gaps and overlaps, the union's size, their closest approach,
    both pen paths' lengths, the log size ratio, whether t is a dot, log(t - u); then for (t - 1, t), (t, t + 1)
    and (u, u + 1) their closest approach, their overlap in x and 1 (5, -5, 0 where there is no such stroke)."""
    ea, eb = box_extent(geo, u), box_extent(geo, t)
    return box_pair_features(geo, u, t, unit) + [
        geo.dist(u, t) / unit, geo.length(u) / unit, geo.length(t) / unit,
        math.log((ea + 1e-3 * unit) / (eb + 1e-3 * unit)),
        float(len(strokes[t]) == 1 or eb < 0.1 * unit), math.log(t - u),
    ] + link_features(strokes, geo, ((t - 1, t), (t, t + 1), (u, u + 1)), unit)


def candidate_pairs(strokes: Sequence[np.ndarray], geo, unit: float) -> list[tuple[int, int]]:
    """(u, t) with u < t - 1 whose strokes come within ``NEAR`` symbol sizes, t in drawing order (non-empty
    strokes). Only the pairs whose boxes come that close are measured point by point."""
    near = NEAR * unit
    boxes = np.asarray([geo.box(k) for k in range(len(strokes))]).reshape(-1, 4)
    gap_x = np.maximum(boxes[None, :, 0] - boxes[:, None, 2], boxes[:, None, 0] - boxes[None, :, 2])
    gap_y = np.maximum(boxes[None, :, 1] - boxes[:, None, 3], boxes[:, None, 1] - boxes[None, :, 3])
    close = np.hypot(np.maximum(gap_x, 0), np.maximum(gap_y, 0)) <= near  # the boxes' gap bounds the strokes'
    return [(u, t) for t in range(2, len(strokes)) for u in range(t - 1) if close[u, t] and geo.dist(u, t) <= near]


def pair_matrix(strokes: Sequence[np.ndarray], pairs: Sequence[tuple[int, int]], geo, unit: float) -> np.ndarray:
    """float32 (len(pairs), ``LATE_FEATURES``): ``late_features`` of each pair, clipped as the merge features are."""
    rows = [late_features(strokes, geo, unit, u, t) for u, t in pairs]
    return np.clip(np.asarray(rows, np.float32).reshape(-1, LATE_FEATURES), -20, 20)


@register("late-stroke", what="Late-stroke model", recipe=RECIPE)
class LateModel(BinaryMLP):
    """p(stroke t is a late stroke of stroke u's symbol) from ``late_features``."""


def load_late_model(path: str | None = None) -> LateModel:
    """The shipped late-stroke model (or the one at ``path``; ``registry.load_model``)."""
    return load_model(path, LateModel.KIND)


def late_order(strokes: Sequence[np.ndarray], merge_p: np.ndarray, model: LateModel | None = None
               ) -> tuple[list[int], dict[int, tuple[int, float]]]:
    """(the strokes' order with each late stroke moved behind the stroke whose symbol it belongs to, {moved stroke:
    (that stroke, the model's probability)}). ``merge_p``: the merge model's probabilities of the consecutive pairs
    in drawing order (``segment.merge_probs``). Strokes must be non-empty."""
    n = len(strokes)
    order, moved = list(range(n)), {}
    if n < 3:
        return order, moved
    geo, unit = StrokeGeometry(strokes), drawing_unit(strokes)
    pairs = candidate_pairs(strokes, geo, unit)
    if not pairs:
        return order, moved
    probs = (model or load_late_model()).prob(pair_matrix(strokes, pairs, geo, unit))
    best: dict[int, tuple[int, float]] = {}  # t -> (the latest u it is likelier than not to join, the best p)
    for (u, t), p in zip(pairs, probs):
        if p > 0.5:
            latest, most = best.get(t, (u, 0.0))
            best[t] = (max(u, latest), max(float(p), most))
    for t in sorted(best):
        u, p = best[t]
        if p <= merge_p[t - 1] or (t + 1 < n and p <= merge_p[t]):
            continue  # the segmenter would rather join t to a neighbour in time
        order.remove(t)
        pos, chain = order.index(u) + 1, {u}
        while pos < len(order) and moved.get(order[pos], (None,))[0] in chain:  # behind strokes already moved there
            chain.add(order[pos])
            pos += 1
        order.insert(pos, t)
        moved[t] = (u, p)
    return order, moved
