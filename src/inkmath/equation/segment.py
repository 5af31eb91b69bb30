"""Segmentation: online strokes or an ink image -> symbols (``SymbolHyp``) with top-k classifier readings.

Strokes: CROHME writers put down almost every symbol as a run of 1-4 consecutive strokes (99.7 % of the training
symbols), so a segmentation is a set of cut points between consecutive strokes. Two scores decide each cut:
a small learnt *merge model* (does stroke i+1 belong to the symbol of stroke i? from the pair's geometry, see
``train_merge.py``) and the symbol classifier's confidence on the candidate group. Dynamic programming picks the
best sequence of groups. The merge model is a 2-layer perceptron run in NumPy (no torch at inference).

Images: connected components of the binarised ink; a component that may be several touching symbols is cut at some
of its necks (thin columns) where the pieces read better, chosen by dynamic programming over classifier scores as
for strokes; then components that form one symbol are merged (the two bars of '=', the dot of 'i' even off to one
side, the parts of '\\leq', '\\pm', '\\div', '!', the two arcs of an 'x' side by side) by geometric rules confirmed
by the classifier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from inkmath import InkmathError
from inkmath.equation.mlp import TanhMLP, load_tensors
from inkmath.equation.tokens import CLASSIFIER_NAMES, DOTTED_NAMES, MARKS
from inkmath.equation.tree import Box, Candidate, SymbolHyp

MAX_GROUP = 4  # strokes per symbol candidate
# weight of the classifier against the merge model in the segmentation score, chosen on the 2011-2013 test sets
# with the shipped 29-64-1 merge model (ExpRate 46.4 % at 1, 47.9 % at 2.5, 48.2 % at 3, 48.7 % at 4, 48.5 % at 5,
# 48.1 % at 6)
CLS_WEIGHT = 4.0
# cost per symbol (a prior against splitting: half an 'E' reads 't', half a '+' '-'). 0.25-1.0 gained only 3-6 of
# 1504 expressions on 2011-2013 and lost 6 of 986 on 2014, so it stays off
GROUP_COST = 0.0
MERGE_MODEL = Path(__file__).parent.parent / "weights" / "stroke-merge.safetensors"  # shipped with the other weights
TOKEN_FIX = {"\\lt": "<", "\\gt": ">", "\\sqrt{}": "\\sqrt"}


class Classifier(Protocol):
    """What segmentation needs from ``inkmath.predict.Predictor``."""

    def predict(self, images, ink: str = "auto", top: int = 5) -> list: ...


def token_of(pred) -> str:
    """Tree token for a classifier prediction: the CROHME label, with '<' '>' spelt as themselves."""
    label = getattr(pred, "label", None) or getattr(pred, "latex")
    return TOKEN_FIX.get(label, label)


def candidates_from(preds) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[str] = set()
    for p in preds:
        t = token_of(p)
        if t not in seen:
            seen.add(t)
            out.append(Candidate(t, float(p.prob)))
    return out


# ------------------------------------------------------------------------------------------------ merge features


def _stroke_box(s: np.ndarray) -> tuple[float, float, float, float]:
    return float(s[:, 0].min()), float(s[:, 1].min()), float(s[:, 0].max()), float(s[:, 1].max())


def _min_dist(a: np.ndarray, b: np.ndarray) -> float:
    """Closest approach of two strokes (points subsampled to about 24 each: enough for symbol-scale gaps)."""
    a = a[:: max(1, len(a) // 24)]
    b = b[:: max(1, len(b) // 24)]
    d = a[:, None, :] - b[None, :, :]
    return float(np.sqrt((d ** 2).sum(-1)).min())


def _length(s: np.ndarray) -> float:
    return float(np.sqrt((np.diff(s, axis=0) ** 2).sum(-1)).sum()) if len(s) > 1 else 0.0


class _Geometry:
    """Per-stroke boxes and lengths and pairwise distances of one drawing, each computed once: the features of
    consecutive pairs look at every stroke and most close pairs several times."""

    def __init__(self, strokes: Sequence[np.ndarray]):
        self.strokes = strokes
        self._box: dict[int, tuple[float, float, float, float]] = {}
        self._len: dict[int, float] = {}
        self._dist: dict[tuple[int, int], float] = {}

    def box(self, k: int) -> tuple[float, float, float, float]:
        if k not in self._box:
            self._box[k] = _stroke_box(self.strokes[k])
        return self._box[k]

    def length(self, k: int) -> float:
        if k not in self._len:
            self._len[k] = _length(self.strokes[k])
        return self._len[k]

    def dist(self, p: int, q: int) -> float:
        if (p, q) not in self._dist:
            self._dist[(p, q)] = _min_dist(self.strokes[p], self.strokes[q])
        return self._dist[(p, q)]


def pair_features(strokes: Sequence[np.ndarray], i: int, unit: float, geo: _Geometry | None = None) -> np.ndarray:
    """Geometry of consecutive strokes i and i+1 and their neighbours, in units of the drawing's typical symbol
    size (float32 (29,)). Pass one ``geo`` for all pairs of a drawing to reuse what they share."""
    geo = geo or _Geometry(strokes)
    a, b = strokes[i], strokes[i + 1]
    ax0, ay0, ax1, ay1 = geo.box(i)
    bx0, by0, bx1, by1 = geo.box(i + 1)
    aw, ah, bw, bh = ax1 - ax0, ay1 - ay0, bx1 - bx0, by1 - by0
    ox = min(ax1, bx1) - max(ax0, bx0)
    oy = min(ay1, by1) - max(ay0, by0)
    u = unit
    feats = [
        aw / u, ah / u, bw / u, bh / u,
        ((bx0 + bx1) - (ax0 + ax1)) / 2 / u, ((by0 + by1) - (ay0 + ay1)) / 2 / u,
        (bx0 - ax1) / u, (by0 - ay1) / u,
        ox / max(min(aw, bw), 0.05 * u), oy / max(min(ah, bh), 0.05 * u),
        (max(ax1, bx1) - min(ax0, bx0)) / u, (max(ay1, by1) - min(ay0, by0)) / u,
        float(np.hypot(*(b[0] - a[-1]))) / u, geo.dist(i, i + 1) / u,
        geo.length(i) / u, geo.length(i + 1) / u,
        math.log((aw + ah + 1e-3 * u) / (bw + bh + 1e-3 * u)),
        float(len(a) == 1 or (aw + ah) < 0.1 * u), float(len(b) == 1 or (bw + bh) < 0.1 * u),
        float(i + 2 < len(strokes)),
    ]
    # context: does the next stroke come back to the one before (a late dot, the second bar of a '+')? does
    # stroke i reach the stroke after next?
    n = len(strokes)
    for p, q in ((i - 1, i + 1), (i, i + 2), (i - 1, i)):
        if 0 <= p < n and 0 <= q < n and len(strokes[p]) and len(strokes[q]):
            px0, _, px1, _ = geo.box(p)
            qx0, _, qx1, _ = geo.box(q)
            feats += [geo.dist(p, q) / u, (min(px1, qx1) - max(px0, qx0)) / u, 1.0]
        else:
            feats += [5.0, -5.0, 0.0]
    return np.clip(np.asarray(feats, np.float32), -20, 20)


def drawing_unit(strokes: Sequence[np.ndarray]) -> float:
    """Typical symbol size of a drawing in ink units (the rasterizer's normalisation, so both agree)."""
    from inkmath import ink

    size = ink.symbol_size(strokes)
    if size <= 1e-9:
        x0, y0, x1, y1 = ink.bbox(strokes)
        size = max(x1 - x0, y1 - y0, 1.0)
    return float(size)


class MergeModel(TanhMLP):
    """p(stroke i+1 continues the symbol of stroke i): features -> standardise -> tanh layer -> sigmoid."""

    def prob(self, feats: np.ndarray) -> np.ndarray:
        z = self.logits(np.atleast_2d(feats))[:, 0]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@lru_cache(maxsize=2)
def load_merge_model(path: str | None = None) -> MergeModel:
    return MergeModel(**load_tensors(Path(path) if path else MERGE_MODEL, "Stroke merge model",
                                     "inkmath.equation.train_merge --config configs/stroke-merge.yaml"))


def merge_probs(strokes: Sequence[np.ndarray], model: MergeModel | None = None) -> np.ndarray:
    """(n-1,) probabilities that consecutive strokes belong to one symbol."""
    if len(strokes) < 2:
        return np.zeros(0)
    model = model or load_merge_model()
    return model.prob(drawing_pair_features(strokes))


def drawing_pair_features(strokes: Sequence[np.ndarray]) -> np.ndarray:
    """float32 (n-1, 29): ``pair_features`` of every consecutive pair of a drawing's strokes (n >= 2).

    Computed for all pairs at once with the same float64 operations as ``pair_features`` (so the values are the
    same to the bit); drawings with an empty stroke or strokes that are not float64 (P, 2) arrays go pair by pair.
    """
    unit = drawing_unit(strokes)
    if not all(isinstance(s, np.ndarray) and s.dtype == np.float64 and s.ndim == 2 and s.shape[1] == 2 and len(s)
               for s in strokes):
        geo = _Geometry(strokes)
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
            s = best[i] + float(np.log(pm[i:j - 1]).sum())
            if j < n:
                s += float(np.log(1 - pm[j - 1]))
            # weighted by the group's stroke count, so that every segmentation pays the classifier once per stroke
            # (otherwise fewer, larger groups would pay fewer penalties and be favoured)
            s += cls_weight * (j - i) * math.log(max(span_preds[(i, j)][0].prob, 1e-6)) - group_cost
            if s > best[j]:
                best[j], back[j] = s, i
    return _backtrack(back, n)


def _backtrack(back: list[int], n: int) -> list[tuple[int, int]]:
    """The spans (i, j) of a best path through 0..n, from each end's best start ``back[j]``, in order."""
    spans: list[tuple[int, int]] = []
    j = n
    while j > 0:
        spans.append((back[j], j))
        j = back[j]
    return spans[::-1]


def k_best_groups(n: int, pm: np.ndarray, span_preds: dict, k: int, cls_weight: float = CLS_WEIGHT,
                  group_cost: float = GROUP_COST) -> list[tuple[list[tuple[int, int]], float]]:
    """The ``k`` best sequences of stroke ranges with their scores (the score of ``best_groups``), best first; the
    first is ``best_groups``'s (ties go to the earlier start, as there)."""
    # paths[j]: up to k (score, start i, rank of the path into i) ending at j, best first
    paths: list[list[tuple[float, int, int]]] = [[] for _ in range(n + 1)]
    paths[0] = [(0.0, -1, -1)]
    for j in range(1, n + 1):
        cands = []
        for i in range(max(0, j - MAX_GROUP), j):
            if (i, j) not in span_preds or not paths[i]:
                continue
            step = float(np.log(pm[i:j - 1]).sum())
            if j < n:
                step += float(np.log(1 - pm[j - 1]))
            step += cls_weight * (j - i) * math.log(max(span_preds[(i, j)][0].prob, 1e-6)) - group_cost
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


def segment_strokes(strokes: Sequence, classifier: Classifier, top: int = 5, cls_weight: float = CLS_WEIGHT,
                    merge_model: MergeModel | None = None) -> list[SymbolHyp]:
    """Group time-ordered strokes into symbols and classify each group.

    Score of a segmentation = sum over cuts of log p(cut) + sum over joins of log p(join)
    + ``cls_weight`` * sum over groups of (stroke count * log p(classifier's best class | group))
    - ``GROUP_COST`` * number of groups. Groups whose internal joins the
    merge model finds very unlikely (< 2 %) are not even classified.
    """
    return segment_strokes_nbest(strokes, classifier, 1, top, cls_weight, merge_model)[0][0]


def segment_strokes_nbest(strokes: Sequence, classifier: Classifier, n_best: int = 3, top: int = 5,
                          cls_weight: float = CLS_WEIGHT, merge_model: MergeModel | None = None
                          ) -> list[tuple[list[SymbolHyp], float]]:
    """The ``n_best`` best segmentations of ``segment_strokes`` with their scores, best first (one classifier pass:
    every candidate group is read once)."""
    from inkmath import ink

    all_strokes = ink.as_strokes(strokes)
    keep = [k for k, s in enumerate(all_strokes) if len(s)]  # empty strokes are skipped; ids stay the caller's
    ss = [all_strokes[k] for k in keep]
    if not ss:
        raise InkmathError("No strokes to recognise: the drawing is empty")
    ss = ink.as_strokes(ss)  # marked as checked (no copies), so that the helpers below do not check them again
    n = len(ss)
    pm = np.clip(merge_probs(ss, merge_model), 1e-4, 1 - 1e-4) if n > 1 else np.zeros(0)
    scale = ink.normalization_scale(ss)
    spans = candidate_spans(pm, n)
    crops = ink.render_symbols(ss, spans, scale=scale)  # render_symbol(ss[i:j], scale=scale) of each span
    preds = classifier.predict(crops, ink="white", top=top)
    by_span = dict(zip(spans, preds))
    if n_best <= 1:
        found = [(best_groups(n, pm, by_span, cls_weight), 0.0)]
    else:
        found = k_best_groups(n, pm, by_span, n_best, cls_weight)
    return [([SymbolHyp(_box_of(ss[i:j]), candidates_from(by_span[(i, j)]), [keep[k] for k in range(i, j)])
              for i, j in groups], score) for groups, score in found]


# ---------------------------------------------------------------------------------------------- image -> symbols

MULTI_PART = {"=", "\\leq", "\\geq", "\\pm", "\\div", "i", "j", "!", "\\neq", ";", "\\ldots", ":", "\\exists",
              "\\forall", "\\in", "\\rightarrow", "\\times", "+", "x", "\\sqrt", "\\theta", "\\pi", "\\sum", "\\int",
              "\\infty", "k", "t", "f", "E", "F", "H", "A", "T", "4", "5", "7", "y", "\\phi", "\\lim", "\\log",
              "\\sin", "\\cos", "\\tan"}
# parts merge when the classifier reads them together at least MERGE_RATIO (stacked) or SIDE_RATIO (side by side)
# times the geometric mean of their own readings: three-part symbols ('\\div', '\\geq') need a lenient first step,
# while neighbours side by side are more often two symbols ('00' read '\\infty'). On WAP-like renderings of the
# 2011-2013 test ink, ExpRate 34.57 % with both at 0.4, 35.77 % at 0.6, 36.04 % at 0.8, 36.30 % at 0.6 and 1.0.
MERGE_RATIO = 0.6
SIDE_RATIO = 1.0
# parts side by side at one height merge only into these (an 'x' written ')(' ); any other pair of neighbours is
# two symbols. SIDE_GAP: the widest gap between such parts, in typical symbol sizes (0.15 and 0.25 read equally
# on WAP-like renderings of the 2011-2013 test ink)
# ('\\pi' joined: a 'T' or '7' beside its second leg; 4 more '\\pi' read right on the WAP-like renderings)
SIDE_TOKENS = {"x", "X", "\\times", "k", "\\infty", "\\pi"}
SIDE_GAP = 0.15
# an arrow written as a shaft and a head apart ('-' '>') is read together when the head starts within ARROW_GAP
# typical symbol sizes of the shaft's end, at its height (7 of the 8 '- >' on the WAP-like renderings become
# '\\rightarrow'; with the '\\pi' rules, ExpRate 38.63 -> 39.30 %, 11 gained, 1 lost: a 'T (' read '\\pi')
ARROW_GAP = 0.3
ARROW_TOKENS = {"\\rightarrow"}
# images are brought to ink's canonical scale with the median component size standing for the typical symbol size;
# components (whole letters, merged strokes) and strokes differ, and reading at 1.2-1.4 times that scale is best on
# WAP-like renderings of the 2011-2013 test ink (ExpRate 32.8 % at 1.0, 35.5 % at 1.2 and 1.3, 35.0 % at 1.4)
IMAGE_SCALE = 1.3


def _components(ink_img: np.ndarray) -> list[tuple[Box, np.ndarray]]:
    """Connected components (8-connected) of ink pixels, with specks (noise) removed: (box, pixel mask)."""
    import cv2

    mask = (ink_img > 60).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        raise InkmathError("No ink found in the image: it is blank. Give a picture of a handwritten expression.")
    areas = stats[1:, cv2.CC_STAT_AREA]
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    typical = float(np.median(np.maximum(heights, widths)))
    out = []
    for k in range(1, n):
        x, y, w, h, area = stats[k]
        if area < max(4, 0.002 * typical * typical) and max(w, h) < 0.08 * typical:
            continue
        m = np.zeros(lab.shape, bool)  # compared only inside the component's box: lab == k costs the whole image
        m[y:y + h, x:x + w] = lab[y:y + h, x:x + w] == k
        out.append((Box(float(x), float(y), float(x + w), float(y + h)), m))
    return out


# the classifier learnt from antialiased renderings of strokes; the jagged edges of a binary image (WAP bitmaps,
# binarised photos) read as wiggles ('1' as '\\}' or 'f'), so crops are softened by a Gaussian of CROP_BLUR px at the
# canonical scale (symbol accuracy on the truth symbols of the first 400 WAP-like 2011-2013 renderings, past the
# first 900: 0.944 sharp, 0.949 at 0.8, 0.947 at 1.2; strokes 0.954; ExpRate on all of them 36.30 -> 37.97 %)
CROP_BLUR = 0.8


def _render_parts(ink_img: np.ndarray, masks: list[np.ndarray], box: Box) -> np.ndarray:
    import cv2

    win = (slice(int(box.y0), int(box.y1)), slice(int(box.x0), int(box.x1)))  # only the box is read
    m = masks[0][win].copy()
    for mk in masks[1:]:
        m |= mk[win]
    crop = cv2.copyMakeBorder(np.where(m, ink_img[win], 0), 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=0)  # np.pad, faster
    return cv2.GaussianBlur(crop, (0, 0), CROP_BLUR) if CROP_BLUR else crop


# a part lower than LOW_BAR times its width, stacked on a bar at most twice its width, may be the other bar of an
# '=' (its box grows by the pen's width: a short bar is not flat; 8 more '=' read right on the WAP-like renderings,
# ExpRate 35.17 -> 35.70 %)
LOW_BAR = 0.6


# a bar LONGER_BAR times as long as another, on its far side, is the fraction that holds the other (a '\\pm' in a
# numerator: 2 more read right on the WAP-like renderings, none lost: 39.83 -> 39.96 %)
LONGER_BAR = 1.5


# a box lower than FLAT times its width is a bar ('-', a fraction bar, a part of '='), not a symbol's body
FLAT = 0.35


def _flat(b: Box) -> bool:
    return b.h < FLAT * b.w


def _ink_beyond(boxes: list[Box], bar: Box, below: bool, skip: tuple[int, ...], unit: float) -> bool:
    """Is there a component (other than ``skip``) across ``bar``, under it (``below``) or over it, within 1.5
    typical symbol sizes: the other side of a fraction?"""
    def side(c: Box) -> float:
        return c.cy - bar.cy if below else bar.cy - c.cy

    # a longer bar on that side is the fraction whose numerator (or denominator) holds this bar: what lies past it
    # is the fraction's other part, not this bar's
    limit = min([side(c) for k, c in enumerate(boxes) if k not in skip and min(c.x1, bar.x1) > max(c.x0, bar.x0)
                 and _flat(c) and c.w > LONGER_BAR * bar.w and side(c) > 0], default=math.inf)
    for k, c in enumerate(boxes):
        if k in skip or min(c.x1, bar.x1) <= max(c.x0, bar.x0):
            continue
        if 0 < side(c) < min(1.5 * unit, limit):
            return True
    return False


def _mergeable(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """Could components a and b be parts of one symbol? Stacked parts ('=', 'i', '\\leq', '\\div') or crossing
    parts of similar size ('\\neq', a broken '+'); never a fraction bar and what it divides, nor a root and its body.
    """
    A, B = boxes[a], boxes[b]
    ox = min(A.x1, B.x1) - max(A.x0, B.x0)
    gap_y = max(A.y0, B.y0) - min(A.y1, B.y1)
    if ox > 0.5 * min(A.w, B.w) and 0 <= gap_y < 0.6 * unit:
        if _flat(A) and _flat(B):
            return True  # '='
        if not (_flat(A) or _flat(B)):
            return True  # 'i', 'j', '!': a dot over a stem
        bar, other = (A, B) if _flat(A) else (B, A)
        if max(other.w, other.h) < 0.35 * unit:
            return True  # the dots of '\\div'
        if _ink_beyond(boxes, bar, other.cy < bar.cy, (a, b), unit):
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


# a bar just over a part about as wide as it, with other ink over the bar (so ``_mergeable`` takes it for a
# fraction's): the top of a '\\sum' written in two strokes, under its upper limit. Read together only as one of
# CAP_TOKENS at more than CAP_PROB, when neither part reads so alone and the part under the bar is larger than
# CAP_SIZE typical symbols (a big operator; a fraction's '1 over 2' read together is a '\\sum' too). WAP-like
# validation 43.02 -> 43.28 %, 4 gained, none lost
CAP_TOKENS = {"\\sum"}
CAP_PROB = 0.5
CAP_SIZE = 1.4


def _capped(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """A flat bar lying on top of a part of about its width ('-' over the 'z' of a '\\sum')."""
    A, B = boxes[a], boxes[b]
    bar, other = (A, B) if _flat(A) else (B, A)
    if not _flat(bar) or _flat(other) or not 0.5 < bar.w / max(other.w, 1e-9) < 1.5:
        return False
    ox = min(bar.x1, other.x1) - max(bar.x0, other.x0)
    return ox > 0.6 * min(bar.w, other.w) and bar.cy < other.y0 + 0.25 * other.h and other.y0 - bar.y1 < 0.3 * unit \
        and max(other.w, other.h) > CAP_SIZE * unit


def _side_by_side(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """Parts at one height, nearly touching side by side: the two arcs of an 'x' written ')(' , 'k', '\\infty'."""
    A, B = boxes[a], boxes[b]
    gap_x = max(A.x0, B.x0) - min(A.x1, B.x1)
    oy = min(A.y1, B.y1) - max(A.y0, B.y0)
    if _flat(A) or _flat(B):  # a bar (of '=', '-') beside a letter is not part of it
        return False
    return gap_x < SIDE_GAP * unit and oy > 0.6 * min(A.h, B.h) and 0.6 < A.h / max(B.h, 1e-9) < 1.67


# a part that reads on its own as a symbol (not as a bar, dot or tick) at more than SWALLOW_PROB is not taken into
# a neighbour that reads the same with it as without it: that is an exponent beside its base ('4' '2' read '4';
# ExpRate 34.57 -> 34.84 % on the WAP-like renderings, none lost)
PART_TOKENS = {"-", ".", "\\cdot", ",", "\\prime", "|", "/"}
SWALLOW_PROB = 0.5


def _arrow(boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """A bar with a head just after it at the bar's height, apart from it: the shaft and head of an arrow written
    '-' '>'."""
    bar, head = (boxes[a], boxes[b]) if boxes[a].x0 <= boxes[b].x0 else (boxes[b], boxes[a])
    if not _flat(bar) or _flat(head) or head.h > 1.2 * unit:
        return False
    gap_x = head.x0 - bar.x1
    return -0.5 * head.w < gap_x < ARROW_GAP * unit and head.y0 < bar.cy < head.y1 and head.x1 > bar.x1


def _swallows(merged: str, pred_a: list, box_a: Box, pred_b: list, box_b: Box) -> bool:
    """Would reading a and b together as ``merged`` just drop the smaller one (see ``SWALLOW_PROB``)?"""
    (big, _), (small, _) = sorted([(pred_a, box_a), (pred_b, box_b)], key=lambda pb: -pb[1].w * pb[1].h)
    alone = token_of(small[0])
    return token_of(big[0]) == merged and alone not in PART_TOKENS and small[0].prob > SWALLOW_PROB


FOOT_TOKENS = {"1"}


def _foot_bar(merged: str, preds: list, boxes: list[Box], a: int, b: int, unit: float) -> bool:
    """A bar under a '1' that reads as '1' with it: the foot some write on their ones (read '1' and '-' apart).
    Not when ink lies under the bar: then it is a fraction's."""
    top, low = sorted((a, b), key=lambda k: boxes[k].cy)
    if merged not in FOOT_TOKENS or token_of(preds[top][0]) != merged or token_of(preds[low][0]) != "-" \
            or boxes[low].y0 < boxes[top].y1 - 0.2 * boxes[top].h:
        return False
    return not _ink_beyond(boxes, boxes[low], True, (a, b), unit)


def _separated(boxes: list[Box], a: int, b: int) -> bool:
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


def match_pen(white_ink: np.ndarray) -> np.ndarray:
    """Thicken or thin an image at the canonical scale so its strokes are about as wide as ink.rasterize draws them
    (the classifier learnt from those): WAP bitmaps and scans are often drawn with a thinner or thicker pen."""
    import cv2

    ratio = pen_width(white_ink) / _canonical_pen_width()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    if ratio < 0.75:
        return cv2.dilate(white_ink, kernel)
    if ratio > 1.6:
        return cv2.erode(white_ink, kernel)
    return white_ink


NAME_TOKENS = CLASSIFIER_NAMES
# touching symbols ('00', '(0', '1000') are cut along necks: top-to-bottom paths through a component that cross at
# most NECK typical symbol sizes of ink and leave at least MIN_SHARE of its ink on either side, at most MAX_CUTS of
# them per component (the cheapest, no two cutting off nearly the same ink). A path moves at most one column per row
# (so it can pass between symbols that overlap in x, 'si' written touching) and pays TURN per move (straight cuts
# first). CUT_COST: the score a reading pays per cut (log-probability units), against cutting a symbol that reads
# well whole ('\\infty', 'm') into pieces that each read well too. A piece smaller than MIN_PIECE, or read as one
# of the MARKS, is no reading (dots and ticks are written apart; cut off they read '.' and broke superscript 'i's
# or the tail of a '2': ExpRate 35.70 -> 35.77 % with MIN_PIECE, 38.16 -> 38.36 % with MARKS on WAP-like renderings
# of the 2011-2013 test ink). A piece read below PIECE_PROB is no reading either (width-weighted, a small piece read
# badly would cost little: a lead-in stroke of 'w' read '-' at 0.25; ExpRate 37.97 -> 38.16 %). Components narrower
# than SPLIT_WIDTH that read at SPLIT_PROB or better are not tried, which saves a third of the extra classifier
# calls. Against the one-neck cut this replaced, these cuts and joined-up names (below) took those renderings from
# 32.85 to 33.98 %
NECK = 0.2
MAX_CUTS = 4
# an exponent or index touching its base ('z^n' with the n on the z's corner) is often swallowed: the whole reads as
# the base. The last piece on the right, lying in the upper or lower SCRIPT_END of the component, is cut off when
# the rest reads as the whole did, only better, and the piece reads at SCRIPT_PROB or more as a symbol (not a mark,
# a bar or a '1'; not the end of a root's bar); such a piece may be as small as SCRIPT_PIECE typical symbol sizes.
# WAP-like validation 44.88 -> 45.01 %, 2 gained, none lost (with the piece as a reading for every cut, or without
# the exceptions, 78 were lost to '-' pieces and root ends)
SCRIPT_PIECE = 0.2
SCRIPT_END = 0.6
SCRIPT_PROB = 0.5
# readings a lone script piece never has: a '1' is the end of a stroke, the others are operators and relations
NOT_SCRIPTS = {"1", "=", "+", "\\pm", "\\times", "\\div", "<", ">", "\\leq", "\\geq", "\\neq", "\\rightarrow"}
MIN_SHARE = 0.1
MIN_PIECE = 0.35
# a piece read as one of the MARKS (``tokens.MARKS``) is no reading
TURN = 0.05
CUT_COST = 0.5  # 1.0 reads the same (ExpRate 37.97 % at 0.5, 38.03 % at 1.0)
SPLIT_WIDTH = 1.2
SPLIT_PROB = 0.8
PIECE_PROB = 0.4


def _neck_paths(mask: np.ndarray, unit: float) -> list[tuple[float, np.ndarray]]:
    """Where a component may be cut: for ``mask`` (h, w), the component cropped to its box, paths from its top to
    its bottom as described at ``NECK``: (share of the ink left of the path, the path's column per row, int (h,)),
    by increasing share."""
    h, w = mask.shape
    ink = mask.astype(np.float32)
    cost = ink[0].copy()
    step = np.zeros((h, w), np.int64)  # column offset of the path's previous row
    # rows: the cost of coming from the column on the left (none for column 0), from straight above, from the right
    came = np.full((3, w), np.inf, np.float32)
    turn = np.float32(TURN)
    for y in range(1, h):
        np.add(cost[:-1], turn, out=came[0, 1:])
        came[1] = cost
        np.add(cost[1:], turn, out=came[2, :-1])
        # the first of (left, straight, right) that is cheapest
        np.subtract(came.argmin(axis=0), 1, out=step[y])
        np.add(came.min(axis=0), ink[y], out=cost)
    paths = np.empty((h, w), np.int64)  # paths[:, x]: the cheapest path ending at the bottom in column x
    paths[-1] = np.arange(w)
    for y in range(h - 1, 0, -1):
        paths[y - 1] = paths[y] + step[y, paths[y]]
    before = np.concatenate([np.zeros((h, 1), np.int64), np.cumsum(mask, axis=1)], axis=1)  # ink left of a column
    share = before[np.arange(h)[:, None], paths].sum(axis=0) / max(int(mask.sum()), 1)
    chosen: list[tuple[float, np.ndarray]] = []
    for x in np.argsort(cost, kind="stable"):
        if cost[x] > NECK * unit:
            break
        if not MIN_SHARE <= share[x] <= 1 - MIN_SHARE:
            continue
        if all(abs(share[x] - other) >= MIN_SHARE for other, _ in chosen):
            chosen.append((float(share[x]), paths[:, x]))
        if len(chosen) == MAX_CUTS:
            break
    return sorted(chosen, key=lambda c: c[0])


def best_cuts(bounds: list[float], seg_prob: dict[tuple[int, int], float], unit: float,
              cut_cost: float = CUT_COST) -> list[tuple[int, int]]:
    """The best way to read a component that may be cut at the inner of ``bounds[0] < ... < bounds[-1]`` (its
    width shared out among the pieces between cuts by their ink): a sequence of pieces (i, j), from bound i to
    bound j, by dynamic programming.

    Score = sum over pieces of (width in typical symbol sizes) * log p(classifier's best reading of the piece)
    - ``cut_cost`` per cut; width-weighted so that one reading and several cover the same ink on an equal footing
    (as ``best_groups`` weighs a stroke group by its stroke count). ``seg_prob`` lacks the pieces not to consider.
    """
    n = len(bounds) - 1
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            if (i, j) not in seg_prob or best[i] == -math.inf:
                continue
            w = (bounds[j] - bounds[i]) / unit
            s = best[i] + w * math.log(max(seg_prob[(i, j)], 1e-6)) - (cut_cost if i > 0 else 0.0)
            if s > best[j]:
                best[j], back[j] = s, i
    return _backtrack(back, n)


# a function name written joined up ('sin' as 'si' + 'n', with the dot of the 'i' apart): up to NAME_PARTS
# neighbouring components, each within NAME_GAP typical symbol sizes of the one before at one height, are read
# together, and become one symbol when the classifier reads them as a name at more than NAME_PROB and better than
# it reads any part. Of the runs read as a name on the WAP-like renderings, 120 pass (107 are names in the truth);
# with 'better than the parts' geometric mean' instead, 179 (144). ExpRate 34.84 %, against 33.44 % when a run
# needed only one part read under 0.5
NAME_PARTS = 3
NAME_GAP = 0.3
NAME_PROB = 0.8


def _written_names(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier,
                   top: int) -> list[tuple[list[int], Box, list]]:
    """Runs of components that read together as a function name: (component indices, box, readings), disjoint.

    Marks (dots, ticks: under 0.35 typical symbol sizes) do not start or extend a run but join the run whose box
    they sit over, as the dot of an 'i' does. A run is kept when its reading is a name (``NAME_TOKENS``) as described at
    ``NAME_PROB``.
    """
    boxes = [b for b, _ in comps]
    marks = {k for k, b in enumerate(boxes) if max(b.w, b.h) < 0.35 * unit}
    order = sorted((k for k in range(len(comps)) if k not in marks), key=lambda k: boxes[k].x0)
    runs = []
    for x, first in enumerate(order):
        run, box = [first], boxes[first]
        for k in order[x + 1:]:
            b = boxes[k]
            if b.x0 < box.x0 or len(run) == NAME_PARTS:
                break
            overlap = min(b.y1, box.y1) - max(b.y0, box.y0)
            if b.x0 - box.x1 > NAME_GAP * unit or overlap < 0.5 * min(b.h, box.h):
                break
            run, box = run + [k], box.union(b)
            dots = [d for d in marks if box.x0 <= boxes[d].cx <= box.x1 and box.y0 - 0.5 * unit < boxes[d].cy < box.cy]
            runs.append((run + dots, box.union(Box(box.x0, min([box.y0] + [boxes[d].y0 for d in dots]), box.x1,
                                                   box.y1))))
    if not runs:
        return []
    reads = classifier.predict([_render_parts(img, [comps[k][1] for k in r], b) for r, b in runs], ink="white",
                               top=top)
    found = []
    for (run, box), pr in zip(runs, reads):
        parts = [preds[k][0].prob for k in run if k not in marks]
        if token_of(pr[0]) in NAME_TOKENS and pr[0].prob > max([NAME_PROB] + parts):
            found.append((pr[0].prob, run, box, pr))
    used: set[int] = set()
    out = []
    for _, run, box, pr in sorted(found, key=lambda f: -f[0]):
        if not used & set(run):
            used.update(run)
            out.append((run, box, pr))
    return out


# a bar with one or two legs hanging just under it, apart from it, and no ink over it (then it would be a fraction's
# bar): a '\\pi' written in parts ('-' '1' '1'), read together and kept when the classifier says '\\pi' at more than
# HANG_PROB (6 more expressions right on the WAP-like renderings, none lost)
HANG_PROB = 0.5
HANG_TOKENS = {"\\pi"}


def _hanging(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier, top: int,
             skip: set[int]) -> list[tuple[list[int], Box, list]]:
    """Bars with their hanging legs read as one symbol (see ``HANG_PROB``): (component indices, box, readings)."""
    boxes = [b for b, _ in comps]
    runs = []
    for k, bar in enumerate(boxes):
        if k in skip or not _flat(bar) or bar.w < 0.3 * unit:
            continue
        legs = [j for j, b in enumerate(boxes)
                if j != k and j not in skip and bar.x0 <= b.cx <= bar.x1 and not _flat(b)
                and bar.y1 - 0.2 * unit <= b.y0 <= bar.y1 + 0.35 * unit and 0.3 * unit < b.h < 1.5 * unit]
        if not 1 <= len(legs) <= 2 or _ink_beyond(boxes, bar, False, (k, *legs), unit):
            continue
        box = bar
        for j in legs:
            box = box.union(boxes[j])
        runs.append(([k] + legs, box))
    if not runs:
        return []
    reads = classifier.predict([_render_parts(img, [comps[k][1] for k in r], b) for r, b in runs], ink="white",
                               top=top)
    out, used = [], set()
    for (run, box), pr in zip(runs, reads):
        if token_of(pr[0]) in HANG_TOKENS and pr[0].prob > HANG_PROB and not used & set(run):
            used.update(run)
            out.append((run, box, pr))
    return out


def _piece(m: np.ndarray, y0: int, x0: int, keep: np.ndarray) -> tuple[Box, np.ndarray, np.ndarray, np.ndarray]:
    """The part of component mask ``m`` kept by ``keep`` (a mask over its box, whose corner is (y0, x0)): its box,
    its full-size mask, and the rows and columns of its pixels inside the box (empty when nothing is kept)."""
    part = np.zeros_like(m)
    part[y0:y0 + keep.shape[0], x0:x0 + keep.shape[1]] = keep
    ys, xs = np.nonzero(keep)
    box = Box(float(x0 + xs.min()), float(y0 + ys.min()), float(x0 + xs.max() + 1), float(y0 + ys.max() + 1)) \
        if len(xs) else None
    return box, part, ys, xs


def _swallowed_script(whole: str, whole_prob: float, read: dict, seg_prob: dict, script: dict,
                      last: int) -> list | None:
    """[(0, i), (i, last)] when the last piece is a script the whole's reading swallowed (see SCRIPT_PIECE): the rest
    reads as the whole did, only better, and the piece as a symbol of its own."""
    if whole == "\\sqrt":
        return None  # the end of a root's bar is no script
    for i in range(1, last):
        rest, piece = (0, i), (i, last)
        if rest not in seg_prob or piece not in seg_prob or piece not in script:
            continue
        if token_of(read[rest][0]) == whole and seg_prob[rest] > whole_prob and seg_prob[piece] >= SCRIPT_PROB \
                and token_of(read[piece][0]) not in PART_TOKENS | NOT_SCRIPTS:
            return [rest, piece]
    return None


def _split_touching(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier,
                    top: int, keep: set[int] = frozenset()) -> tuple[list, list]:
    """Cut components that are several touching symbols ('(a', '00', '1000') at some of their necks.

    Every component at least as wide as a narrow symbol (see ``SPLIT_WIDTH``) gets its necks (``_neck_paths``) as
    candidate cuts; every run of pieces between cuts is classified and ``best_cuts`` chooses the reading. A piece
    read as a function name or a mark is not a reading (names are written wide, marks apart), and a whole component
    read as a name while too narrow for one counts as read at best at 0.5. Components in ``keep`` stay whole; new
    pieces are appended, so indices stay valid.
    """
    tries = []
    scripts: dict[int, dict] = {}  # component -> its pieces that may be a script -> smaller than MIN_PIECE
    for k, ((b, m), pr) in enumerate(zip(comps, preds)):
        if k in keep or b.w < 0.8 * unit or b.w < 0.7 * b.h or _flat(b):  # narrow, or flat: a bar
            continue
        if b.w < SPLIT_WIDTH * unit and pr[0].prob >= SPLIT_PROB:  # one symbol wide and read well
            continue
        x0, x1, y0, y1 = int(b.x0), int(b.x1), int(b.y0), int(b.y1)
        crop = m[y0:y1, x0:x1]
        cuts = _neck_paths(crop, unit)
        if not cuts:
            continue
        ends = [np.zeros(y1 - y0, np.int64)] + [p for _, p in cuts] + [np.full(y1 - y0, x1 - x0, np.int64)]
        cols = np.arange(x1 - x0)[None, :]
        pieces = {}
        for i in range(len(ends) - 1):
            for j in range(i + 1, len(ends)):
                if (i, j) == (0, len(ends) - 1):
                    continue  # the whole component, read already
                pb, part, ys, xs = _piece(m, y0, x0, crop & (cols >= ends[i][:, None]) & (cols < ends[j][:, None]))
                if pb is None:
                    continue  # between two cuts that cross
                size = max(np.ptp(xs), np.ptp(ys)) + 1
                at_script = j == len(ends) - 1 and (ys.max() < SCRIPT_END * (y1 - y0) or ys.min() > (1 - SCRIPT_END)
                                                    * (y1 - y0))
                if size < (SCRIPT_PIECE if at_script else MIN_PIECE) * unit:
                    continue  # a speck: dots and ticks are written apart (small scripts are not: see SCRIPT_PIECE)
                pieces[(i, j)] = (pb, part)
                if at_script:
                    scripts.setdefault(k, {})[(i, j)] = size < MIN_PIECE * unit  # small: only for a swallowed script
        tries.append((k, [0.0] + [c * b.w for c, _ in cuts] + [b.w], pieces))  # ink shares as widths
    if not tries:
        return comps, preds
    crops = [_render_parts(img, [pm], pb) for _, _, pieces in tries for pb, pm in pieces.values()]
    piece_preds = iter(classifier.predict(crops, ink="white", top=top))
    out_c, out_p = list(comps), list(preds)
    extra_c, extra_p = [], []
    for k, bounds, pieces in tries:
        read = {ij: next(piece_preds) for ij in pieces}
        b = comps[k][0]
        whole = preds[k][0].prob
        if token_of(preds[k][0]) in NAME_TOKENS and b.w < 1.6 * b.h:
            whole = min(whole, 0.5)  # too narrow for a written name: as unsure as a coin toss
        seg_prob = {ij: pr[0].prob for ij, pr in read.items()
                    if token_of(pr[0]) not in NAME_TOKENS | MARKS and pr[0].prob >= PIECE_PROB}
        seg_prob[(0, len(bounds) - 1)] = whole
        script = scripts.get(k, {})
        chosen = best_cuts(bounds, {ij: p for ij, p in seg_prob.items() if not script.get(ij)}, unit, CUT_COST)
        if len(chosen) == 1:
            chosen = _swallowed_script(token_of(preds[k][0]), whole, read, seg_prob, script, len(bounds) - 1) or chosen
        if len(chosen) == 1:
            continue
        out_c[k], out_p[k] = pieces[chosen[0]], read[chosen[0]]
        for ij in chosen[1:]:
            extra_c.append(pieces[ij])
            extra_p.append(read[ij])
    return out_c + extra_c, out_p + extra_p


# a fraction bar touching its numerator or denominator ('1' over an '8' whose top meets the bar, a '1' whose hook
# rests on it) makes one component with it, read as neither. A component at least BAR_LENGTH typical symbols wide,
# wider than tall and read below BAR_WHOLE is cut when it holds a bar: a straight band (tilted up to BAR_TILT) inked
# along a run of at least BAR_SPAN of its width, alone (no stroke crossing it) in BAR_BARE of those columns. The
# rest of the ink must lie within the bar's ends and leave BAR_OVERHANG of it free at one end at least, each of its
# pieces centred on the bar (not in its outer BAR_CENTRE) and BAR_WIDER times narrower: a '\Delta', an 'L', an
# arrow's head fail these. The bar must read '-', the pieces at PIECE_PROB and not as marks, all of them better
# than the whole (geometric mean), and ink must lie over and under the bar. On the WAP-like renderings of the
# 2011-2013 test ink: 40.36 -> 40.82 %, 7 expressions gained and none lost (token errors 4894 -> 4822). A '1' (FOOT_TOKENS)
# standing on a bar it touches, at least FOOT_LENGTH symbols long, is a numerator when a symbol lies close under the
# bar and is not a wider bar (the fraction's own): the foot is cut off however well the whole reads '1' (41.22 ->
# 41.49 %, 4 gained and none lost, token errors 4739 -> 4691)
BAR_LENGTH = 1.0
BAR_WHOLE = 0.6
BAR_TILT = 0.14
BAR_SPAN = 0.85
BAR_BARE = 0.6
BAR_OVERHANG = 0.08
BAR_CENTRE = 0.15
BAR_WIDER = 1.3
FOOT_LENGTH = 0.5


def _bar_band(crop: np.ndarray, half: int) -> tuple[np.ndarray, int, int] | None:
    """The longest straight, nearly horizontal run of ink across ``crop`` (h, w): (band mask, run start, run end)
    in columns, the band ``half`` pixels either side of the line; None when no run spans BAR_SPAN of the width."""
    h, w = crop.shape
    cols = np.arange(w)
    best = None
    for slope in np.linspace(-BAR_TILT, BAR_TILT, 9):
        shift = np.rint(slope * (cols - w / 2)).astype(np.int64)  # row of the line at each column, relative
        off = int(np.abs(shift).max())
        sheared = np.zeros((h + 2 * off, w), bool)
        rows = np.arange(h)[:, None] - shift[None, :] + off  # where each pixel lands when the line is made flat
        sheared[rows, cols] = crop
        # a column is covered at a row when ink lies within ``half`` of it
        cov = np.zeros_like(sheared)
        for d in range(-half, half + 1):
            cov |= np.roll(sheared, d, axis=0)
        # the longest run of covered columns in any row: runs start where a row steps up and end where it steps down
        edges = np.diff(np.pad(cov, ((0, 0), (1, 1))).astype(np.int8), axis=1)
        rs, starts = np.nonzero(edges == 1)
        _, ends = np.nonzero(edges == -1)  # row-major order: the k-th end closes the k-th start
        if not len(starts):
            continue
        k = int(np.argmax(ends - starts))
        if best is None or ends[k] - starts[k] > best[0]:
            best = (int(ends[k] - starts[k]), int(rs[k]) - off, slope, int(starts[k]))
    if best is None:
        return None
    length, r, slope, x0 = best
    if length < BAR_SPAN * w:
        return None
    line = r + slope * (cols - w / 2)
    band = (np.abs(np.arange(h)[:, None] - line[None, :]) <= half) & (cols >= x0) & (cols < x0 + length) & crop
    # a hand-drawn bar bends a little: in each column, the whole vertical run of ink the band touches belongs to the
    # bar when it is about a pen wide (a stroke crossing the bar is longer: only the band's part of it is cut)
    bare = 0  # columns where the bar is alone
    for x in range(x0, x0 + length):
        ys = np.nonzero(band[:, x])[0]
        if not len(ys):
            continue
        top, bot = ys[0], ys[-1]
        while top > 0 and crop[top - 1, x]:
            top -= 1
        while bot < h - 1 and crop[bot + 1, x]:
            bot += 1
        if bot - top + 1 <= 2 * half + 3:
            band[top:bot + 1, x] = True
            bare += 1
    if bare < BAR_BARE * length:
        return None  # mostly crossed by other strokes: the middle of a symbol, not a bar
    return band, x0, x0 + length


def _cut_bars(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier, top: int,
              pen: float, keep: set[int] = frozenset()) -> tuple[list, list]:
    """Cut fraction bars out of the components they touch (see BAR_SPAN); new pieces are appended. ``pen``: the
    image's ``pen_width``."""
    import cv2

    half = max(1, int(round(pen / 2)))
    tries = []
    for k, ((b, m), pr) in enumerate(zip(comps, preds)):
        foot = token_of(pr[0]) in FOOT_TOKENS  # a '1' standing on a bar (as for _foot_bar): a numerator?
        if k in keep or b.h < 2 * pen or b.w < (FOOT_LENGTH if foot else BAR_LENGTH) * unit or not foot and (
                b.w < b.h or pr[0].prob >= BAR_WHOLE):
            continue
        x0, y0 = int(b.x0), int(b.y0)
        crop = m[y0:int(b.y1), x0:int(b.x1)]
        found = _bar_band(crop, half)
        if found is None:
            continue
        band, s0, s1 = found
        rest = crop & ~band
        n, lab, stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
        pieces = [i for i in range(1, n) if max(stats[i, 2], stats[i, 3]) >= MIN_PIECE * unit]
        if not pieces:
            continue
        length = s1 - s0
        px0 = min(stats[i, 0] for i in pieces)
        px1 = max(stats[i, 0] + stats[i, 2] for i in pieces)
        if px0 < s0 or px1 > s1 or max(px0 - s0, s1 - px1) < BAR_OVERHANG * length:
            continue  # the rest reaches past the bar or to both its ends ('\\Delta', 'Z')
        margin = BAR_CENTRE * length
        if any(not s0 + margin <= stats[i, 0] + stats[i, 2] / 2 <= s1 - margin or stats[i, 2] * BAR_WIDER > length
               for i in pieces):
            continue  # a piece at one end of the bar or as wide: an 'L's stem, an arrow's head, a '\\sum'
        parts = [_piece(m, y0, x0, band)[:2]] + [_piece(m, y0, x0, lab == i)[:2] for i in pieces]
        if foot and not all(pb.cy < parts[0][0].cy for pb, _ in parts[1:]):
            continue  # a one's foot is under it
        tries.append((k, parts, foot))
    if not tries:
        return comps, preds
    crops = [_render_parts(img, [pm], pb) for _, parts, _ in tries for pb, pm in parts]
    read = iter(classifier.predict(crops, ink="white", top=top))
    out_c, out_p = list(comps), list(preds)
    extra_c, extra_p = [], []
    for k, parts, foot in tries:
        reads = [next(read) for _ in parts]
        bar = parts[0][0]
        if token_of(reads[0][0]) != "-" or any(
                token_of(r[0]) in MARKS or r[0].prob < PIECE_PROB for r in reads[1:]):
            continue  # marks are written apart (an 'x' cut into '-' and three ','), and a piece must read
        mean = math.exp(sum(math.log(max(r[0].prob, 1e-9)) for r in reads) / len(reads))
        if not foot and mean <= preds[k][0].prob:
            continue
        others = [c for j, c in enumerate(comps) if j != k] + [p for p in parts[1:]]
        spans = lambda bx: bx.cx > bar.x0 and bx.cx < bar.x1 if foot else bx.x1 > bar.x0 and bx.x0 < bar.x1  # noqa
        above = any(spans(bx) and bx.cy < bar.y0 for bx, _ in others)
        under = [bx for bx, _ in others if spans(bx) and bx.cy > bar.y1]
        if not (above and under):
            continue
        if foot and (min(bx.y0 for bx in under) > bar.y1 + unit or any(
                bx.w > bar.w and bx.h < 0.3 * bx.w for bx in under)):
            continue  # nothing close under the foot, or the fraction's own bar: the one's foot stays
        if foot and len(parts) == 2:
            reads[1] = preds[k]  # a one without its foot is the one the whole was read as
        out_c[k], out_p[k] = parts[0], reads[0]
        extra_c += parts[1:]
        extra_p += reads[1:]
    return out_c + extra_c, out_p + extra_p


# a ')' with no '(' before it: the '(' may touch the symbol after it and the two read as one letter ('(t' as 'k');
# the nearest components before the ')' are cut at their necks, and the first whose left piece reads '(' at more
# than OPEN_PROB, with the rest read at PIECE_PROB or more, is split there (the OPEN_REACH nearest; 3 more
# expressions right on the WAP-like renderings, none lost: 40.03 -> 40.23 %; 2 gained with only the 2 nearest).
# The same for a '(' never closed, on its right (2 more, none lost: 40.36 %)
OPEN_PROB = 0.5
OPEN_REACH = 3


def _unmatched_parens(comps: list, preds: list) -> list[tuple[int, str]]:
    """Brackets read without a partner: (component index, the token it misses), a ')' before its '(' or a '('
    never closed, left to right."""
    order = sorted(range(len(comps)), key=lambda k: comps[k][0].x0)
    opened, out = [], []
    for k in order:
        t = token_of(preds[k][0])
        if t == "(":
            opened.append(k)
        elif t == ")":
            if opened:
                opened.pop()
            else:
                out.append((k, "("))
    return out + [(k, ")") for k in opened]


def _open_parens(img: np.ndarray, comps: list, preds: list, unit: float, classifier: Classifier, top: int,
                 keep: set[int] = frozenset()) -> tuple[list, list]:
    """Find the partner of an unmatched bracket inside the components next to it, on the side it must be (see
    ``OPEN_PROB``): the piece cut off next to it must read as the missing bracket. New pieces are appended."""
    unmatched = _unmatched_parens(comps, preds)
    if not unmatched:
        return comps, preds
    out_c, out_p = list(comps), list(preds)
    done: set[int] = set()
    for r, missing in unmatched:
        lone = comps[r][0]
        before = missing == "("  # a ')' looks for its '(' before it, a '(' for its ')' after it
        near = [k for k in range(len(comps)) if k != r and k not in keep and k not in done
                and (comps[k][0].x1 <= lone.cx if before else comps[k][0].x0 >= lone.cx)
                and token_of(preds[k][0]) not in ("(", ")") and comps[k][0].h >= 0.5 * lone.h
                and min(comps[k][0].y1, lone.y1) - max(comps[k][0].y0, lone.y0) > 0.5 * comps[k][0].h]
        near.sort(key=lambda k: -comps[k][0].x1 if before else comps[k][0].x0)
        for k in near[:OPEN_REACH]:
            b, m = comps[k]
            x0, x1, y0, y1 = int(b.x0), int(b.x1), int(b.y0), int(b.y1)
            crop = m[y0:y1, x0:x1]
            cols = np.arange(x1 - x0)[None, :]
            halves = []  # (bracket side, rest) per cut
            for _, path in _neck_paths(crop, unit):
                left, right = cols < path[:, None], cols >= path[:, None]
                pair = [_piece(m, y0, x0, crop & side)[:2] for side in ((left, right) if before else (right, left))]
                if all(pb is not None for pb, _ in pair):
                    halves += pair
            if not halves:
                continue
            reads = classifier.predict([_render_parts(img, [pm], pb) for pb, pm in halves], ink="white", top=top)
            best = None
            for i in range(0, len(halves), 2):
                bracket, rest = reads[i][0], reads[i + 1][0]
                if token_of(bracket) == missing and bracket.prob > OPEN_PROB and rest.prob >= PIECE_PROB \
                        and token_of(rest) not in NAME_TOKENS | PART_TOKENS | {"(", ")"}:
                    score = bracket.prob * rest.prob
                    if best is None or score > best[0]:
                        best = (score, i)
            if best is None:
                continue
            i = best[1]
            out_c[k], out_p[k] = halves[i + 1], reads[i + 1]
            out_c.append(halves[i])
            out_p.append(reads[i])
            done.add(k)
            break
    return out_c, out_p


# the layout rules (layout_rules.LAYOUT) were tuned on boxes of pen trajectories (strokes), and a box of ink pixels is
# wider by the pen's width: image boxes are trimmed by BOX_TRIM half pen widths on each side (ExpRate 34.84 % at 0,
# 35.17 % at 1 on the WAP-like renderings)
BOX_TRIM = 1.0


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


def _trim(b: Box, d: float) -> Box:
    """``b`` shrunk by ``d`` on each side, down to at least one pixel across."""
    dx, dy = min(d, max(b.w - 1, 0) / 2), min(d, max(b.h - 1, 0) / 2)
    return Box(b.x0 + dx, b.y0 + dy, b.x1 - dx, b.y1 - dy)


def segment_image(image: np.ndarray, classifier: Classifier, top: int = 5, ink: str = "auto") -> list[SymbolHyp]:
    """Symbols of an expression image: components, merged where a multi-part symbol reads better than its parts."""
    from inkmath.preprocess import to_white_ink

    img = to_white_ink(image, ink)
    comps = _components(img)
    unit = float(np.median([max(b.h, b.w, 1) for b, _ in comps]))  # typical symbol size in pixels
    back = 1.0  # image pixels per working pixel, to report boxes in the caller's coordinates
    if getattr(getattr(classifier, "preset", None), "ref", 0.0):
        # this classifier reads a symbol's size relative to the expression (preset ``ref``): bring the image to
        # ink's canonical scale, where a typical symbol is ink.DEFAULT_HEIGHT pixels, as for strokes
        import cv2

        from inkmath import ink as _ink

        f = IMAGE_SCALE * _ink.DEFAULT_HEIGHT / unit
        if abs(f - 1) > 0.05:
            img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
            back = 1.0 / f
        img = match_pen(img)
        comps = _components(img)
        unit = float(np.median([max(b.h, b.w, 1) for b, _ in comps]))
    crops = [_render_parts(img, [m], b) for b, m in comps]
    preds = classifier.predict(crops, ink="white", top=top)
    names = _written_names(img, comps, preds, unit, classifier, top)
    names += _hanging(img, comps, preds, unit, classifier, top, {k for run, _, _ in names for k in run})
    named = {k for run, _, _ in names for k in run}
    pen = pen_width(img)  # img does not change from here on
    comps, preds = _cut_bars(img, comps, preds, unit, classifier, top, pen, keep=named)
    comps, preds = _split_touching(img, comps, preds, unit, classifier, top, keep=named)
    comps, preds = _open_parens(img, comps, preds, unit, classifier, top, keep=named)
    groups: list[list[int]] = [run for run, _, _ in names] + [[k] for k in range(len(comps)) if k not in named]
    gpred = [pr for _, _, pr in names] + [preds[k] for k in range(len(comps)) if k not in named]
    gbox = [b for _, b, _ in names] + [comps[k][0] for k in range(len(comps)) if k not in named]
    merged_reads: dict[frozenset, list] = {}
    changed = True
    while changed:
        changed = False
        order = sorted(range(len(groups)), key=lambda k: gbox[k].x0)
        pairs, kinds = [], []  # kinds: "stack" (_mergeable), "side" (_side_by_side), "arrow" or "cap" (_capped)
        for x, a in enumerate(order):
            for b in order[x + 1:x + 4]:
                if _separated(gbox, a, b):
                    continue
                single = len(groups[a]) == len(groups[b]) == 1
                kind = "stack" if _mergeable(gbox, a, b, unit) else "side" if single and _side_by_side(
                    gbox, a, b, unit) else "arrow" if single and _arrow(gbox, a, b, unit) else "cap" if single and \
                    _capped(gbox, a, b, unit) else None
                if kind:
                    pairs.append((a, b))
                    kinds.append(kind)
        if not pairs:
            break
        boxes = [gbox[a].union(gbox[b]) for a, b in pairs]
        # a merged crop depends only on its components: read each set once, not again after every merge
        keys = [frozenset(groups[a] + groups[b]) for a, b in pairs]
        new = {key: bx for key, bx in zip(keys, boxes) if key not in merged_reads}
        if new:
            crops = [_render_parts(img, [comps[k][1] for k in key], bx) for key, bx in new.items()]
            merged_reads.update(zip(new, classifier.predict(crops, ink="white", top=top)))
        mpreds = [merged_reads[key] for key in keys]
        scored = []
        for (a, b), bx, mp, kind in zip(pairs, boxes, mpreds, kinds):
            t = token_of(mp[0])
            sep = math.sqrt(gpred[a][0].prob * gpred[b][0].prob)
            ratio = MERGE_RATIO if kind in ("stack", "cap") else SIDE_RATIO
            if kind == "stack":
                ok = t in MULTI_PART or _foot_bar(t, gpred, gbox, a, b, unit)
            elif kind == "cap":
                alone = (token_of(gpred[a][0]), token_of(gpred[b][0]))
                ok = t in CAP_TOKENS and mp[0].prob > CAP_PROB and t not in alone
            else:
                ok = t in (SIDE_TOKENS if kind == "side" else ARROW_TOKENS)
            if ok and mp[0].prob > ratio * sep and not _swallows(t, gpred[a], gbox[a], gpred[b], gbox[b]):
                scored.append((mp[0].prob - sep, a, b, bx, mp))
        if scored:
            _, a, b, bx, mp = max(scored, key=lambda s: s[0])
            groups[a] = groups[a] + groups[b]
            gbox[a], gpred[a] = bx, mp
            del groups[b], gbox[b], gpred[b]
            changed = True
    _dot_names(groups, gbox, gpred, unit)
    gbox = [_trim(b, BOX_TRIM * pen / 2) for b in gbox]
    if back != 1.0:
        gbox = [Box(b.x0 * back, b.y0 * back, b.x1 * back, b.y1 * back) for b in gbox]
    hyps = [SymbolHyp(gbox[k], candidates_from(gpred[k]), sorted(groups[k])) for k in range(len(groups))]
    hyps.sort(key=lambda h: h.box.x0)
    return hyps
