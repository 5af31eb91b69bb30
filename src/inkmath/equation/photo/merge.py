"""Joining the pieces of one expression that the page's grouping left apart: a scored decision, not a threshold.

    groups = merge_groups(groups, comp, unit)     # page_find's groups; comp: (N + 1, 5) component stats

``page_find`` links ink components by fixed gaps, which split an expression whose parts a writer set far apart: an
exponent written high and to the right ("e" and its exponent), a limit's subscript far below "lim", a closing brace
after dots too small to keep, a fraction whose numerator touches its bar. Every pair of groups at most
``CANDIDATE_GAP`` typical symbols apart is scored by a small perceptron (``page-merge``, trained by
``python -m inkmath.training.recipes.page_merge`` on pages generated from the CROHME *training* ink: target 1 when
both groups' ink belongs to one written expression) on the pair's geometry (``pair_features``); the best-scoring
pair is joined while its probability is at least ``MERGE_PROB``, and the pairs are scored again; before that, every
pair of the groups as linked that scores so is joined at once (``merge_groups``). The model also reads how close
the page's lines are (``line_gap``): it learns from pages written loosely and crowded.
"""

from __future__ import annotations


import numpy as np

from inkmath.equation.core.mlp import BinaryMLP
from inkmath.equation.core.registry import load_model, register

RECIPE = "inkmath.training.recipes.page_merge --config configs/page-merge.yaml"
CANDIDATE_GAP = 3.0  # units: groups further apart than this (in x or y) are never scored ...
CANDIDATE_LINE_GAP = 5.0  # ... except side by side on one line (overlapping in height): up to this far apart in x
# ("e =" and a fraction written 4 units to its right, which the grouping's line gap splits when the two overlap in
# height too little to link; validation pages of seeds 0-2: 7 of the 13 expressions left in two groups;
# docs/decisions/page-grouping-and-order.md). 6 before 2026-11-26: a column of one expression beside the next column's
# first line, 5.3 units apart with a gutter too short to count, was scored and joined. Validation pages in order
# at 6 / 5 / 4.5: crowded 80 / 81 48 / 48 -> 49 / 49 (both), large writing seed 18 34 -> 35 (both), plain 0 / 18 / 19,
# large 0 and labelled the same; right +6 / +7 expressions, no page or expression lost
# (docs/decisions/page-grouping-and-order.md). The shipped page-merge model was trained on pairs up to 6 units apart.
MERGE_PROB = 0.6  # join at this probability. Fresh validation pages (seeds 8 and 9, 240 pages), detection only: in
# order 218 / 220 / 221 / 221 / 222 at 0.5 / 0.55 / 0.6 / 0.65 / 0.7 (the wrong joins scored 0.51-0.61, the right
# ones mostly over 0.8); seed 10 (120): 112 at 0.5-0.6, 111 at 0.65-0.7 (docs/decisions/page-grouping-and-order.md;
# 0.5 was chosen on seed 0's pages with an older model: docs/decisions/page-grouping-and-order.md). At 0.6 the rule that
# kept two stacked groups of 5 components apart unless one component spans the other (docs/decisions/page-reading.md) is gone: it undid
# right joins the model scored 0.89-0.99 (a limit's long subscript under "lim tan x"); without it seeds 8 + 9:
# 222 in order (+1 -0), seed 10: 113 (+1 -0). For the model that also reads the page's line gap and learns from
# crowded pages (docs/decisions/page-grouping-and-order.md), seeds 0 / 18 / 80 / 81 read the same at 0.5 and 0.6; at 0.7 seed 0 has one page fewer in
# order (docs/decisions/page-grouping-and-order.md)
PAIR_FEATURES = 26  # ``pair_features`` (also page-split's inputs)
N_FEATURES = PAIR_FEATURES + 1  # the model's: the pair's, and how close the page's lines are (``line_gap``)


def linked_sets(n: int, pairs) -> list[list[int]]:
    """The sets of 0..n-1 that the ``pairs`` (i, j) link, directly or through others: each in increasing order, the
    sets in the order of their first members."""
    parent = list(range(n))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in pairs:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[rb] = ra
    sets: dict[int, list[int]] = {}
    for k in range(n):
        sets.setdefault(root(k), []).append(k)
    return list(sets.values())


def across_gutter(a: tuple[float, float], b: tuple[float, float], gutters) -> bool:
    """Whether a gutter between columns (``column_gutters``) lies between the x-ranges ``a`` and ``b``."""
    return any((a[1] <= g0 and b[0] >= g1) or (b[1] <= g0 and a[0] >= g1) for g0, g1 in gutters)


@register("page-merge", what="Page merge model", recipe=RECIPE)
class PageMergeModel(BinaryMLP):
    """p(two groups of a page are one expression) from their geometry (``pair_features``) and the page's
    ``line_gap``."""


def load_page_merge_model(path: str | None = None) -> PageMergeModel:
    """The shipped page-merge model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, PageMergeModel.KIND)


def _gap(a, b) -> tuple[float, float]:
    """(horizontal, vertical) gap between boxes (x0, y0, x1, y1); negative = overlap."""
    return max(a[0], b[0]) - min(a[2], b[2]), max(a[1], b[1]) - min(a[3], b[3])


def group_summaries(groups, comp: np.ndarray, unit: float) -> list[dict]:
    """Per group: its box (x0, y0, x1, y1), number of components, ink area, whether it holds a bar-like stroke, its
    components' x-ranges ((n, 2): what ``cover`` measures)."""
    out = []
    for g in groups:
        st = comp[g.components]
        w, h = st[:, 2], st[:, 3]
        bar = bool(np.any((w >= unit) & (h <= 0.6 * unit) & (w >= 3 * h)))
        out.append({"box": (g.box.x0, g.box.y0, g.box.x1, g.box.y1), "n": len(g.components),
                    "area": float(st[:, 4].sum()), "bar": bar,
                    "xs": np.stack([st[:, 0], st[:, 0] + st[:, 2]], 1).astype(np.float64)})
    return out


def cover(xs: np.ndarray, box) -> float:
    """The largest share of ``box``'s width (x0, y0, x1, y1) that one component (x-ranges ``xs``) spans: a fraction
    bar over its denominator 1, the symbols of another written line a small share each."""
    over = np.minimum(xs[:, 1], box[2]) - np.maximum(xs[:, 0], box[0])
    return float(max(over.max(), 0.0) / max(box[2] - box[0], 1.0))


def pair_features(s: list[dict], i: int, j: int, unit: float) -> np.ndarray:
    """float32 (PAIR_FEATURES,) for groups i and j of ``s`` (``group_summaries``): sizes, gaps, overlaps and offsets in
    typical symbols, the smaller group first; how close each one's nearest other group is; how many groups share
    the smaller one's line; how much of each one's width a single component of the other spans (``cover``: a bar
    over its denominator, or a numerator touching its bar, against two written lines one under the other)."""
    a, b = (i, j) if _area(s[i]) <= _area(s[j]) else (j, i)
    A, B = s[a]["box"], s[b]["box"]
    u = max(unit, 1e-6)
    aw, ah, bw, bh = A[2] - A[0], A[3] - A[1], B[2] - B[0], B[3] - B[1]
    gx, gy = _gap(A, B)
    acx, acy, bcx, bcy = (A[0] + A[2]) / 2, (A[1] + A[3]) / 2, (B[0] + B[2]) / 2, (B[1] + B[3]) / 2

    def nearest(k: int, other: int) -> float:
        d = [max(*_gap(s[k]["box"], s[m]["box"])) for m in range(len(s)) if m not in (k, other)]
        return min(d) / u if d else 10.0

    d_ab = max(gx, gy) / u
    row = sum(1 for m in range(len(s)) if m not in (a, b)
              and _overlap_y(A, s[m]["box"]) > 0.2 * min(ah, s[m]["box"][3] - s[m]["box"][1]))
    lg = lambda v: float(np.log(max(v, 1e-3)))  # noqa: E731
    f = [lg(aw / u), lg(ah / u), lg(bw / u), lg(bh / u),
         gx / u, gy / u, -gx / max(min(aw, bw), 1.0), -gy / max(min(ah, bh), 1.0),
         (acx - bcx) / u, (acy - bcy) / u, (acy - B[1]) / max(bh, 1.0), (acx - B[0]) / max(bw, 1.0),
         (A[0] - B[2]) / u, (B[0] - A[2]) / u, (A[1] - B[3]) / u, (B[1] - A[3]) / u,
         float(np.log1p(s[a]["n"])), float(np.log1p(s[b]["n"])), lg(s[a]["area"] / (u * u)),
         float(s[a]["bar"]), float(s[b]["bar"]),
         nearest(a, b) - d_ab, nearest(b, a) - d_ab, float(np.log1p(row)),
         cover(s[a]["xs"], B), cover(s[b]["xs"], A)]
    return np.clip(np.asarray(f, np.float32), -10, 10)


def line_gap(groups: list, unit: float) -> float:
    """How close a page's lines are: the median, over the groups with one under them (overlapping in x), of the gap
    to the nearest such group, in typical symbols (at most 10; 10 with none). A pair set a line apart is one
    expression's more often on a page written loosely than on a crowded one."""
    gaps = []
    for g in groups:
        a, best = g.box, None
        for h in groups:
            b = h.box
            if h is g or b.y0 + b.y1 <= a.y0 + a.y1 or min(a.x1, b.x1) <= max(a.x0, b.x0):
                continue
            d = max(b.y0 - a.y1, 0.0)
            best = d if best is None else min(best, d)
        if best is not None:
            gaps.append(best)
    return float(np.clip(np.median(gaps) / max(unit, 1e-6), 0, 10)) if gaps else 10.0


def merge_features(s: list[dict], i: int, j: int, unit: float, gap: float) -> np.ndarray:
    """float32 (N_FEATURES,): ``pair_features`` and the page's ``line_gap``."""
    return np.append(pair_features(s, i, j, unit), np.float32(gap))


def _area(s: dict) -> float:
    b = s["box"]
    return (b[2] - b[0]) * (b[3] - b[1])


def _overlap_y(a, b) -> float:
    return min(a[3], b[3]) - max(a[1], b[1])


def candidate_pairs(s: list[dict], unit: float, gutters=(), line_gap: float | None = None) -> list[tuple[int, int]]:
    """Pairs of groups at most ``CANDIDATE_GAP`` units apart in x and y, or side by side on one line (overlapping
    in height) at most ``line_gap`` (``CANDIDATE_LINE_GAP``) apart in x; not on two sides of a column gutter."""
    line_gap = CANDIDATE_LINE_GAP if line_gap is None else line_gap
    out = []
    for i in range(len(s)):
        for j in range(i + 1, len(s)):
            a, b = s[i]["box"], s[j]["box"]
            gx, gy = _gap(a, b)
            if gy > CANDIDATE_GAP * unit or gx > (line_gap if gy < 0 else CANDIDATE_GAP) * unit:
                continue
            if across_gutter((a[0], a[2]), (b[0], b[2]), gutters):
                continue
            out.append((i, j))
    return out


def merge_groups(groups: list, comp: np.ndarray, unit: float, model: PageMergeModel | None = None,
                 threshold: float | None = None, gutters=()) -> list:
    """``groups`` (page_find.InkGroup) with the pairs the model scores at least ``threshold`` (``MERGE_PROB``)
    joined: those of the groups as given at once (a numerator, its bar and its denominator stay one, where joining
    the bar to the denominator first makes the numerator's pair one the model did not learn), then the best pair
    first, scoring again after each join."""
    threshold = MERGE_PROB if threshold is None else threshold
    if len(groups) < 2 or threshold > 1:
        return groups
    model = model or load_page_merge_model()
    groups = list(groups)
    gap = line_gap(groups, unit)  # the groups as linked, before any join
    n = len(groups)
    groups = _join_scored_pairs(groups, comp, unit, model, threshold, gutters, gap)
    if len(groups) == n:  # no pair scored it: the best pair would be scored again, the same
        return groups
    while len(groups) > 1:
        pairs, p = scored_pairs(groups, comp, unit, model, gutters, gap)
        if not pairs:
            break
        k = int(np.argmax(p))
        if p[k] < threshold:
            break
        i, j = pairs[k]
        _absorb(groups[i], groups[j])
        del groups[j]
    return groups


def scored_pairs(groups, comp, unit, model, gutters, gap) -> tuple[list[tuple[int, int]], np.ndarray | None]:
    """The candidate pairs of ``groups`` (``candidate_pairs``) and the model's probability of each; ([], None) when
    there is none."""
    s = group_summaries(groups, comp, unit)
    pairs = candidate_pairs(s, unit, gutters)
    if not pairs:
        return [], None
    return pairs, model.prob(np.stack([merge_features(s, i, j, unit, gap) for i, j in pairs]))


def _absorb(a, b) -> None:
    """Group ``a`` takes ``b``'s components and box."""
    a.components = a.components + b.components
    a.box = a.box.union(b.box)


def _join_scored_pairs(groups, comp, unit, model, threshold, gutters, gap):
    """Every pair of the groups as linked that the model scores at least ``threshold``, joined at once (a numerator,
    its bar and its denominator all scored one expression stay one, where joining the bar to the denominator first
    makes the numerator's pair another one)."""
    pairs, p = scored_pairs(groups, comp, unit, model, gutters, gap)
    if not pairs:
        return groups
    out = []
    for members in linked_sets(len(groups), [pair for pair, q in zip(pairs, p) if q >= threshold]):
        host = groups[members[0]]
        for m in members[1:]:
            _absorb(host, groups[m])
        out.append(host)
    return out
