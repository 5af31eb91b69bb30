"""Stroke grouping: online strokes -> symbols (``SymbolHyp``) with top-k classifier readings.

CROHME writers put down almost every symbol as a run of 1-4 consecutive strokes (99.7 % of the training symbols),
so a segmentation is a set of cut points between consecutive strokes. Two scores decide each cut: a small learnt
*merge model* (does stroke i+1 belong to the symbol of stroke i? from the pair's geometry, see ``train_merge.py``)
and the symbol classifier's confidence on the candidate group. Dynamic programming picks the best sequence of
groups (``segment_strokes``), or the k best (``segment_strokes_nbest``, for the decoder). A stroke the writer came
back to later (an i's dot after the word) is also moved next to the stroke whose symbol it belongs to
(``late_strokes``), so that its symbol is a run too; the groupings of both orders compete. The merge model is the
mean logit of two 2-layer perceptrons run in NumPy (no torch at inference): one reads the pair alone, the other
also the pairs before and after it (``context_features``).

Ink images are segmented by ``image_segmentation.segment_image``; what both need from the classifier
(``Classifier``, ``candidates_from``) is in ``symbols``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.strokes import late_strokes
from inkmath.equation.strokes.geometry import (PAIR_FEATURES, StrokeGeometry, context_features,  # noqa: F401
                                              drawing_unit, pair_features)
from inkmath.equation.core.mlp import BinaryMLP, load_members
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.reader.symbols import Classifier, candidates_from
from inkmath.equation.core.tree import Box, SymbolHyp

MAX_GROUP = 4  # strokes per symbol candidate
# weight of the classifier against the merge model in the segmentation score, chosen on the 2011-2013 test sets
# with the shipped 29-64-1 merge model (ExpRate 46.4 % at 1, 47.9 % at 2.5, 48.2 % at 3, 48.7 % at 4, 48.5 % at 5,
# 48.1 % at 6)
CLS_WEIGHT = 4.0
# cost per symbol (a prior against splitting: half an 'E' reads 't', half a '+' '-'). 0.25-1.0 gained only 3-6 of
# 1504 expressions on 2011-2013 and lost 6 of 986 on 2014, so it stays off
GROUP_COST = 0.0


# ------------------------------------------------------------------------------------------------ merge model
class MergeModel(BinaryMLP):
    """p(stroke i+1 continues the symbol of stroke i): features -> standardise -> tanh layer -> sigmoid. A model
    with more inputs than ``PAIR_FEATURES`` reads ``context_features`` (its window follows from its input size)."""

    @property
    def window(self) -> int:
        return (self.w1.shape[0] - PAIR_FEATURES) // (2 * (PAIR_FEATURES + 1))

    def pair_logits(self, pf: np.ndarray) -> np.ndarray:
        """(n-1,) logits from one drawing's ``drawing_pair_features``."""
        return self.logits(context_features(pf, self.window) if self.window else pf)[:, 0]

    def pair_probs(self, pf: np.ndarray) -> np.ndarray:
        return _sigmoid(self.pair_logits(pf))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@register("stroke-merge", what="Stroke merge model",
          recipe="inkmath.training.recipes.merge --config configs/stroke-merge.yaml")
class MergeEnsemble:
    """The mean logit of its members (``MergeModel``s, each with its own context window): the pair perceptron and
    one that also sees the neighbouring pairs disagree on different pen-ups, and their mean groups more validation
    expressions right than either (docs/decisions/stroke-grouping.md)."""

    def __init__(self, members: list[MergeModel]):
        self.members = members

    def pair_probs(self, pf: np.ndarray) -> np.ndarray:
        return _sigmoid(np.mean([m.pair_logits(pf) for m in self.members], axis=0))

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "MergeEnsemble":
        """One perceptron (tensors ``w1``, ...) or an ensemble (``0.w1``, ``1.w1``, ...), each member's input size
        one that a context window of ``PAIR_FEATURES`` makes."""
        members = load_members(path, MergeModel, cls.WHAT, cls.RECIPE)
        for m in members:
            if (m.w1.shape[0] - PAIR_FEATURES) % (2 * (PAIR_FEATURES + 1)):
                raise InkmathError(f"Stroke merge model {path} takes {m.w1.shape[0]} features, which no context "
                                   f"window of {PAIR_FEATURES} pair features makes; train it again with "
                                   f"`python -m {cls.RECIPE}`.")
        return cls(members)


def member_prefix(k: int) -> str:
    """How member ``k``'s tensors are named in a merge ensemble's file ('0.w1', '1.w1', ...)."""
    return f"{k}."


def load_merge_model(path: str | None = None) -> MergeEnsemble:
    """The stroke merge model (``registry.load_model``): the shipped one, or the file at ``path``."""
    return load_model(path, MergeEnsemble.KIND)


def merge_probs(strokes: Sequence[np.ndarray], model: MergeModel | MergeEnsemble | str | Path | None = None
                ) -> np.ndarray:
    """(n-1,) probabilities that consecutive strokes belong to one symbol; ``model``: the merge model, or the name or
    path of its weights (default the shipped one)."""
    if len(strokes) < 2:
        return np.zeros(0)
    if model is None or isinstance(model, (str, Path)):
        model = load_merge_model(model)
    return model.pair_probs(drawing_pair_features(strokes))


def drawing_pair_features(strokes: Sequence[np.ndarray]) -> np.ndarray:
    """float32 (n-1, 29): ``pair_features`` of every consecutive pair of a drawing's strokes (n >= 2).

    Computed for all pairs at once with the same float64 operations as ``pair_features`` (so the values are the
    same to the bit); drawings with an empty stroke or strokes that are not float64 (P, 2) arrays go pair by pair.
    """
    unit = drawing_unit(strokes)
    if not all(isinstance(s, np.ndarray) and s.dtype == np.float64 and s.ndim == 2 and s.shape[1] == 2 and len(s)
               for s in strokes):
        geo = StrokeGeometry(strokes)
        return np.stack([pair_features(strokes, i, unit, geo) for i in range(len(strokes) - 1)])
    return _all_pair_features(strokes, unit)


def _all_pair_features(strokes: Sequence[np.ndarray], u: float) -> np.ndarray:
    """``pair_features`` of every consecutive pair of non-empty float64 (P, 2) strokes, as arrays over the pairs."""
    n = len(strokes)
    sizes = [len(s) for s in strokes]
    starts = np.cumsum([0] + sizes[:-1])
    pts = np.concatenate(strokes)  # (P, 2)
    lo, hi = np.minimum.reduceat(pts, starts), np.maximum.reduceat(pts, starts)  # (n, 2) each
    x0, y0, x1, y1 = lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]
    seg = np.sqrt((np.diff(pts, axis=0) ** 2).sum(-1))  # segment lengths; those across strokes are not used
    length = np.array([seg[k:k + m - 1].sum() if m > 1 else 0.0 for k, m in zip(starts.tolist(), sizes)])
    # closest approach of strokes k and k+1 and of k and k+2, on _min_dist's subsampled points; a stroke's point
    # list is padded to the longest with copies of its first point, which leaves every minimum as it is
    sub = [s[:: max(1, len(s) // 24)] for s in strokes]
    longest = max(len(a) for a in sub)
    padded = np.empty((n, longest, 2))
    for k, a in enumerate(sub):
        padded[k, :len(a)] = a
        padded[k, len(a):] = a[0]

    def min_dist(step: int) -> np.ndarray:
        dx = padded[:-step, :, None, 0] - padded[step:, None, :, 0]  # (n-step, K, K)
        dy = padded[:-step, :, None, 1] - padded[step:, None, :, 1]
        # dx ** 2 + dy ** 2 is (d ** 2).sum(-1) of _min_dist, and the square root of the least of them is the least
        # of their square roots (sqrt is correctly rounded and non-decreasing)
        return np.sqrt((dx ** 2 + dy ** 2).min(axis=(1, 2)))

    dist1 = min_dist(1)
    dist2 = min_dist(2) if n > 2 else np.zeros(0)

    ax0, ay0, ax1, ay1, bx0, by0, bx1, by1 = x0[:-1], y0[:-1], x1[:-1], y1[:-1], x0[1:], y0[1:], x1[1:], y1[1:]
    aw, ah, bw, bh = ax1 - ax0, ay1 - ay0, bx1 - bx0, by1 - by0
    ox = np.minimum(ax1, bx1) - np.maximum(ax0, bx0)
    oy = np.minimum(ay1, by1) - np.maximum(ay0, by0)
    ends = starts + np.asarray(sizes) - 1
    jump = pts[starts[1:]] - pts[ends[:-1]]  # first point of stroke i+1 - last point of stroke i
    ratio = (aw + ah + 1e-3 * u) / (bw + bh + 1e-3 * u)
    one = np.asarray(sizes) == 1
    f = np.empty((n - 1, 29))
    f[:, 0], f[:, 1], f[:, 2], f[:, 3] = aw / u, ah / u, bw / u, bh / u
    f[:, 4], f[:, 5] = ((bx0 + bx1) - (ax0 + ax1)) / 2 / u, ((by0 + by1) - (ay0 + ay1)) / 2 / u
    f[:, 6], f[:, 7] = (bx0 - ax1) / u, (by0 - ay1) / u
    f[:, 8] = ox / np.maximum(np.minimum(aw, bw), 0.05 * u)
    f[:, 9] = oy / np.maximum(np.minimum(ah, bh), 0.05 * u)
    f[:, 10] = (np.maximum(ax1, bx1) - np.minimum(ax0, bx0)) / u
    f[:, 11] = (np.maximum(ay1, by1) - np.minimum(ay0, by0)) / u
    f[:, 12], f[:, 13] = np.hypot(jump[:, 0], jump[:, 1]) / u, dist1 / u
    f[:, 14], f[:, 15] = length[:-1] / u, length[1:] / u
    f[:, 16] = [math.log(r) for r in ratio.tolist()]  # math.log, as pair_features: np.log may round differently
    f[:, 17] = one[:-1] | ((aw + ah) < 0.1 * u)
    f[:, 18] = one[1:] | ((bw + bh) < 0.1 * u)
    f[:, 19] = np.arange(n - 1) + 2 < n
    # context pairs (i-1, i+1), (i, i+2), (i-1, i): distance, x overlap, 1; or 5, -5, 0 where a stroke is missing
    f[:, 20:29] = np.tile([5.0, -5.0, 0.0], 3)
    if n > 2:
        overlap2 = (np.minimum(x1[:-2], x1[2:]) - np.maximum(x0[:-2], x0[2:])) / u  # strokes k and k+2
        f[1:, 20], f[1:, 21], f[1:, 22] = dist2 / u, overlap2, 1.0
        f[:-1, 23], f[:-1, 24], f[:-1, 25] = dist2 / u, overlap2, 1.0
        f[1:, 26], f[1:, 27], f[1:, 28] = dist1[:-1] / u, ox[:-1] / u, 1.0  # ox: the x overlap of k and k+1
    return np.clip(f.astype(np.float32), -20, 20)


# -------------------------------------------------------------------------------------------- strokes -> symbols


def _box_of(strokes: Sequence[np.ndarray]) -> Box:
    pts = np.concatenate([s for s in strokes])
    return Box(float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def candidate_spans(pm: np.ndarray, n: int, min_join: float = 0.02) -> list[tuple[int, int]]:
    """Stroke ranges [i, j) worth classifying: up to ``MAX_GROUP`` strokes whose every join the merge model gives at
    least ``min_join``."""
    spans: list[tuple[int, int]] = []
    for i in range(n):
        for j in range(i + 1, min(n, i + MAX_GROUP) + 1):
            if j - i > 1 and pm[j - 2] < min_join:
                break
            spans.append((i, j))
    return spans


def best_groups(n: int, pm: np.ndarray, span_preds: dict, cls_weight: float = CLS_WEIGHT,
                group_cost: float = GROUP_COST) -> list[tuple[int, int]]:
    """The best sequence of stroke ranges by dynamic programming (see ``segment_strokes`` for the score).

    ``span_preds[(i, j)]`` is the classifier's ranked readings of strokes i..j-1 (objects with ``.prob``).
    """
    best = np.full(n + 1, -np.inf)
    back = [0] * (n + 1)
    best[0] = 0.0
    for j in range(1, n + 1):
        for i in range(max(0, j - MAX_GROUP), j):
            if (i, j) not in span_preds or best[i] == -np.inf:
                continue
            s = best[i] + _join_term(pm, n, i, j) + _classifier_term(span_preds[(i, j)], j - i, cls_weight, group_cost)
            if s > best[j]:
                best[j], back[j] = s, i
    return backtrack(back, n)


def backtrack(back: list[int], n: int) -> list[tuple[int, int]]:
    """The spans (i, j) of a best path through 0..n, from each end's best start ``back[j]``, in order."""
    spans: list[tuple[int, int]] = []
    j = n
    while j > 0:
        spans.append((back[j], j))
        j = back[j]
    return spans[::-1]


def _join_term(pm: np.ndarray, n: int, i: int, j: int) -> float:
    """The merge model's part of the score of the group of strokes i..j-1: its joins, and the cut after it."""
    step = float(np.log(pm[i:j - 1]).sum())
    if j < n:
        step += float(np.log(1 - pm[j - 1]))
    return step


def k_best_groups(n: int, pm: np.ndarray, span_preds: dict, k: int, cls_weight: float = CLS_WEIGHT,
                  group_cost: float = GROUP_COST) -> list[tuple[list[tuple[int, int]], float]]:
    """The ``k`` best sequences of stroke ranges with their scores (the score of ``best_groups``), best first; the
    first is ``best_groups``'s (ties go to the earlier start, as there)."""
    steps = {(i, j): _join_term(pm, n, i, j) + _classifier_term(preds, j - i, cls_weight, group_cost)
             for (i, j), preds in span_preds.items()}
    return _k_best_paths(n, steps, k)


def _classifier_term(preds, strokes: int, cls_weight: float, group_cost: float) -> float:
    """The classifier's part of a group's score (and the cost of a group): its best reading's log-probability,
    weighted by the group's stroke count, so that every segmentation pays the classifier once per stroke (otherwise
    fewer, larger groups would pay fewer penalties and be favoured)."""
    return cls_weight * strokes * math.log(max(preds[0].prob, 1e-6)) - group_cost


def _k_best_paths(n: int, steps: dict[tuple[int, int], float], k: int) -> list[tuple[list[tuple[int, int]], float]]:
    """``k_best_groups`` on the spans' score terms ``steps`` ({(i, j): term}; a span not in it is not a group)."""
    # paths[j]: up to k (score, start i, rank of the path into i) ending at j, best first
    paths: list[list[tuple[float, int, int]]] = [[] for _ in range(n + 1)]
    paths[0] = [(0.0, -1, -1)]
    for j in range(1, n + 1):
        cands = []
        for i in range(max(0, j - MAX_GROUP), j):
            if (i, j) not in steps or not paths[i]:
                continue
            step = steps[(i, j)]
            for r, (s, _, _) in enumerate(paths[i]):
                cands.append((s + step, i, r))
        cands.sort(key=lambda c: -c[0])  # stable: equal scores keep the earlier start first
        paths[j] = cands[:k]
    out = []
    for r in range(len(paths[n])):
        spans, j, rank = [], n, r
        score = paths[n][r][0]
        while j > 0:
            _, i, prev = paths[j][rank]
            spans.append((i, j))
            j, rank = i, prev
        out.append((spans[::-1], score))
    return out


# a group left unread must fall short of the k-th best grouping by more than this (the bound and that grouping's
# score are float sums in different orders)
SPAN_BOUND_SLACK = 1e-6
# the first read takes the groups of the FIRST_READ_GROUPINGS x k best groupings so counted (the later reads, of the k
# best, then come less often): segment_strokes_nbest's CPU against classifying every group, k = 3, 5 rounds at load
# ~30 (/tmp script, the same groupings in every case): 200 validation expressions 0.966 (x1; 17.6 crops of 22.5, 2.80
# classifier calls), 0.979 (x2), 0.964 (x3; 18.4 crops, 1.83 calls), 0.944 (x5; 18.9, 1.55); the load test's 20
# drawings 1.063, 0.898, 0.886, 0.889; x3 as the search is now (it stops once every group is read): 0.900 and 0.863
# (docs/decisions/speed.md)
FIRST_READ_GROUPINGS = 3


def read_needed_spans(n: int, pm: np.ndarray, spans: Sequence[tuple[int, int]], read: Callable[[list], dict],
                      k: int, cls_weight: float = CLS_WEIGHT, group_cost: float = GROUP_COST) -> dict:
    """The classifier's readings (``read(spans) -> {span: readings}``) of those of ``spans`` that one of the ``k``
    best groupings (``k_best_groups``) could hold, whatever the classifier would read in the others: the same k best
    groupings as with every span read, from fewer crops.

    A span not yet read is counted as if the classifier were certain of it (its classifier term 0, an upper bound).
    The ``FIRST_READ_GROUPINGS`` x k best groupings so counted are read, then the k best so counted until they hold
    no unread span; then every span whose best grouping so counted (the best path into its first stroke, its own
    bound, the best path on from its end) comes within ``SPAN_BOUND_SLACK`` of the k-th best grouping of the spans
    read is read too. Any other span's groupings score below the k best, whatever it reads."""
    joins = {(i, j): _join_term(pm, n, i, j) for i, j in spans}
    steps = {s: joins[s] - group_cost for s in spans}  # an unread span at its bound; a read one at its score
    found: dict = {}

    def take(some: list[tuple[int, int]]) -> None:
        if some:
            found.update(read(some))
            for i, j in some:
                steps[(i, j)] = joins[(i, j)] + _classifier_term(found[(i, j)], j - i, cls_weight, group_cost)

    paths = k * FIRST_READ_GROUPINGS
    while len(found) < len(spans):
        best = _k_best_paths(n, steps, paths)
        todo = {s for groups, _ in best for s in groups if s not in found}
        if not todo and paths == k:
            # the k best groupings so counted are read, so they are the k best of the spans read: the bar
            unread = [s for s in spans if s not in found]
            if len(best) < k:
                take(unread)
            else:
                bound = _bounds(n, steps)
                take([s for s in unread if bound[s] >= best[-1][1] - SPAN_BOUND_SLACK])
            break
        take([s for s in spans if s in todo])
        paths = k
    return found


def _bounds(n: int, steps: dict[tuple[int, int], float]) -> dict[tuple[int, int], float]:
    """Each span's best path score under ``steps``: the best path into its first stroke, its own term, the best
    path on from its end."""
    into = [-math.inf] * (n + 1)  # the best score of a path over strokes 0..j-1
    into[0] = 0.0
    out_of = [-math.inf] * (n + 1)  # the best score of a path over strokes j..n-1
    out_of[n] = 0.0
    for (i, j), step in sorted(steps.items(), key=lambda e: e[0][1]):
        into[j] = max(into[j], into[i] + step)
    for (i, j), step in sorted(steps.items(), key=lambda e: -e[0][0]):
        out_of[i] = max(out_of[i], step + out_of[j])
    return {(i, j): into[i] + step + out_of[j] for (i, j), step in steps.items()}


def segment_strokes(strokes: Sequence, classifier: Classifier, top: int = 5, cls_weight: float = CLS_WEIGHT,
                    merge_model: MergeModel | MergeEnsemble | None = None, pen=None) -> list[SymbolHyp]:
    """Group time-ordered strokes into symbols and classify each group.

    Score of a segmentation = sum over cuts of log p(cut) + sum over joins of log p(join)
    + ``cls_weight`` * sum over groups of (stroke count * log p(classifier's best class | group))
    - ``GROUP_COST`` * number of groups. Groups whose internal joins the
    merge model finds very unlikely (< 2 %) are not even classified. ``pen``: see ``segment_strokes_nbest``.
    """
    return segment_strokes_nbest(strokes, classifier, 1, top, cls_weight, merge_model, pen)[0][0]


def segment_strokes_nbest(strokes: Sequence, classifier: Classifier, n_best: int = 3, top: int = 5,
                          cls_weight: float = CLS_WEIGHT,
                          merge_model: MergeModel | MergeEnsemble | str | Path | None = None,
                          pen=None) -> list[tuple[list[SymbolHyp], float]]:
    """The ``n_best`` best segmentations of ``segment_strokes`` with their scores, best first (one classifier pass:
    every candidate group is read once), among the groupings of the strokes as drawn and, where the writer came back
    to a symbol (``late_strokes.late_order``), with its late strokes moved next to it. ``pen`` (a
    ``pen_symbols.PenModel``, or None): the groups of the groupings are read from their pen paths too, as evidence
    for the context models (``SymbolHyp.pen_evidence``); the groupings and candidates are the same."""
    from inkmath import ink

    all_strokes = ink.as_strokes(strokes)
    keep = [k for k, s in enumerate(all_strokes) if len(s)]  # empty strokes are skipped; ids stay the caller's
    ss = [all_strokes[k] for k in keep]
    if not ss:
        raise InkmathError("No strokes to recognise: the drawing is empty")
    ss = ink.as_strokes(ss)  # marked as checked (no copies), so that the helpers below do not check them again
    n = len(ss)
    pm = np.clip(merge_probs(ss, merge_model), 1e-4, 1 - 1e-4) if n > 1 else np.zeros(0)
    found = _groupings(ss, keep, pm, classifier, n_best, top, cls_weight, pen)
    if n > 2:  # strokes the writer came back to, moved next to their symbol
        order, moved = late_strokes.late_order(ss, pm)
        if moved:
            ss, keep = ink.as_strokes([ss[k] for k in order]), [keep[k] for k in order]
            pm = np.clip(merge_probs(ss, merge_model), 1e-4, 1 - 1e-4)
            for t, (_, p) in moved.items():  # a moved stroke joins the one now before it as the late model says
                before = order.index(t) - 1
                pm[before] = max(pm[before], p)
            seen, both = set(), []
            for hyps, score in sorted(found + _groupings(ss, keep, pm, classifier, n_best, top, cls_weight, pen),
                                      key=lambda f: -f[1]):
                key = frozenset(frozenset(h.strokes) for h in hyps)
                if key not in seen:
                    seen.add(key)
                    both.append((hyps, score))
            found = both[:max(n_best, 1)]
    return found


def _groupings(ss, keep, pm, classifier, n_best, top, cls_weight, pen) -> list[tuple[list[SymbolHyp], float]]:
    """``segment_strokes_nbest``'s groupings of the strokes ``ss`` in this order (``keep``: their ids) with the
    consecutive pairs' merge probabilities ``pm``."""
    from inkmath import ink

    n = len(ss)
    scale = ink.normalization_scale(ss)
    spans = candidate_spans(pm, n)
    logits_of: dict = {}

    def read(some: list[tuple[int, int]]) -> dict:
        crops = ink.render_symbols(ss, some, scale=scale)  # render_symbol(ss[i:j], scale=scale) of each span
        if hasattr(classifier, "predict_with_logits"):
            preds, logits = classifier.predict_with_logits(crops, ink="white", top=top)
        else:  # a stand-in classifier (tests): no crop embeddings
            preds, logits = classifier.predict(crops, ink="white", top=top), [None] * len(crops)
        logits_of.update(zip(some, logits))
        return dict(zip(some, preds))

    # only the candidate groups that can be in the k best groupings are classified (the same groupings and readings
    # as with every candidate read; docs/decisions/speed.md)
    by_span = read_needed_spans(n, pm, spans, read, max(n_best, 1), cls_weight)
    found = k_best_groups(n, pm, by_span, max(n_best, 1), cls_weight)
    evidence: dict = {}
    if pen is not None:  # the groupings' groups read from their pen paths
        held = sorted({g for groups, _ in found for g in groups})
        evidence = dict(zip(held, pen.evidence(pen.log_probs([ss[i:j] for i, j in held], scale))))
    read: dict[tuple[int, int], tuple[Box, list]] = {}  # a group's box and readings, once for all groupings

    def hyp(i: int, j: int) -> SymbolHyp:
        if (i, j) not in read:
            read[(i, j)] = (_box_of(ss[i:j]), candidates_from(by_span[(i, j)]))
        box, cands = read[(i, j)]
        ids = sorted(keep[k] for k in range(i, j))  # the caller's stroke ids, in the order drawn
        return SymbolHyp(box, list(cands), ids, logits_of[(i, j)], evidence.get((i, j)))

    return [([hyp(i, j) for i, j in groups], score) for groups, score in found]
