"""Cutting a group of ink that holds two expressions: the page-split model's best cut, kept when the two parts read
better than the whole (a scored decision over readings, not a threshold on the geometry).

    cut = best_cut(groups, k, comp, unit)             # the group's likeliest empty band to cut along, or None
    record = cut_record(cut, whole, parts, gap)       # whole, parts: their readings; gap: page_merge.line_gap
    p = load_page_cut_model().prob(cut_model_features(record))

The grouping (``page_find``, ``page_merge``) sometimes joins a short expression with the line just above or below
it, or with the end of the line beside it. ``page_split``'s model scores each empty band across a group on the
geometry alone; on its own it cuts more true expressions than joined ones (docs/decisions/page-grouping-and-order.md), and so does the reader's
confidence alone. This model (``page-cut``, trained by ``python -m inkmath.training.recipes.page_cut`` on pages
generated from the CROHME *training* ink, half of them written with less paper between the lines) weighs both: the
band's split score and size, how surely the whole and each part read, and how close the page's lines are (on a plain
page a cut the geometry doubts is a fraction or a limit cut apart; on a crowded one it is often two lines). A group's
best cut is read only when its split score is at least ``CUT_CONSIDER``, and kept at probability ``CUT_KEEP``.

The same question asked of two groups page-merge left apart (``page_regroup.join_read_pairs``) is answered by the
mean of this model and ``page-join`` (``join_features``: these inputs and page-merge's score of the pair, trained by
``python -m inkmath.training.recipes.page_join`` on such pairs of generated training pages).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inkmath.equation.core.mlp import BinaryMLP
from inkmath.equation.core.registry import load_model, register

RECIPE = "inkmath.training.recipes.page_cut --config configs/page-cut.yaml"
CUT_CONSIDER = 0.01  # a group's best cut is read when page-split scores it at least this (training traces: 14 % of the
# groups with a band read, 177 of the 183 cuts between two expressions among them; at 0.02: 13 %, 168)
CUT_KEEP = 0.5  # ... and kept when this model scores it at least this. For the model trained with real-looking
# crops (2026-11-29), chosen on 60 real-looking validation crops (lines exact at 0.9 / 0.7 / 0.5: 38 / 46 / 53 of
# 217), 40 plain validation pages (seeds 0 and 18: the same at each) and 20 crowded ones (seed 80, line gap 0.4-1.2:
# ExpRate 40.6 % at 0.9, 46.6 % at 0.5, 44.4 % with the models before); docs/decisions/page-reading.md. The
# worksheet-only model before kept 0.9 (on plain validation pages 0.5 kept 4 wrong cuts, 0.9 none).
CUT_FEATURES = ("split_logit", "across", "band", "whole_conf", "parts_conf", "worst_part_conf", "rows",
                "whole_symbols", "fewest_part_symbols", "fraction", "first_operator", "second_arrow", "part_empty_slot",
                "whole_operator_limits", "superscripts_lost", "subscripts_lost", "width_ratio", "start_offset",
                "middle_offset")
BIG_OPERATORS = ("\\lim", "\\sum", "\\prod", "\\int")  # what takes limits written under (or over) it
MODEL_FEATURES = CUT_FEATURES + ("line_gap",)  # page-cut's: a cut's, and how close the page's lines are
N_FEATURES = len(MODEL_FEATURES)
JOIN_RECIPE = "inkmath.training.recipes.page_join --config configs/page-join.yaml"
JOIN_FEATURES = CUT_FEATURES + ("merge_logit",)  # page-join's: a cut's, and page-merge's score of the pair


@register("page-cut", what="Page cut model", recipe=RECIPE)
class PageCutModel(BinaryMLP):
    """p(a group's best cut separates two written expressions) from ``MODEL_FEATURES`` (``cut_model_features``)."""


def load_page_cut_model(path: str | None = None) -> PageCutModel:
    """The shipped page-cut model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, PageCutModel.KIND)


@register("page-join", what="Page join model", recipe=JOIN_RECIPE)
class PageJoinModel(BinaryMLP):
    """p(two groups page-merge left apart are two written expressions) from ``JOIN_FEATURES`` (``join_record``)."""


def load_page_join_model(path: str | None = None) -> PageJoinModel:
    """The shipped page-join model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, PageJoinModel.KIND)


@dataclass
class Cut:
    prob: float  # page-split's score of the cut
    axis: int  # 1: a horizontal band, the parts above and below; 0: a vertical band, left and right
    parts: tuple[list[int], list[int]]  # the components of each part
    band: float  # the band's width (units)


def best_cut(groups: list, k: int, comp: np.ndarray, unit: float) -> Cut | None:
    """Group ``k``'s empty band that page-split scores highest, or None when no band crosses it."""
    from inkmath.equation.photo.merge import group_summaries
    from inkmath.equation.page.split import candidate_cuts, cut_features, load_page_split_model

    cuts = candidate_cuts(groups[k].components, comp)
    if not cuts:
        return None
    s = group_summaries(groups, comp, unit)
    p = load_page_split_model().prob(np.stack([cut_features(s, k, axis, a, b, comp, unit) for axis, a, b in cuts]))
    i = int(np.argmax(p))
    axis, a, b = cuts[i]
    lo = comp[a, axis] + comp[a, axis + 2]
    band = float(comp[b, axis].min() - lo.max()) / unit
    return Cut(float(p[i]), axis, (a, b), band)


def _log(p: float) -> float:
    return math.log(min(max(p, 1e-4), 1.0))


def cut_record(cut: Cut, whole, parts: list, gap: float) -> dict:
    """What ``cut_model_features`` reads, as plain values (a training trace's row): the cut, the readings (``latex``,
    ``confidence``, number of symbols) of the whole and of its parts (``PageExpression``) and their boxes, and the
    page's ``page_merge.line_gap`` (``gap``)."""
    def reading(e) -> dict:
        return {"latex": e.latex, "confidence": float(e.confidence), "symbols": len(e.symbols)}

    return {"cut": {"prob": cut.prob, "axis": cut.axis, "band": cut.band}, "whole": reading(whole),
            "part_readings": [reading(e) for e in parts], "box": list(whole.box), "parts": [list(e.box) for e in parts],
            "line_gap": float(gap)}


def cut_features(record: dict) -> np.ndarray:
    """float32 (N_FEATURES,) of a ``cut_record``: the cut's split score (as a logit), direction and band; how surely
    the whole and its two parts read, their symbols, rows; what the readings hold that a cut breaks (a big operator
    in the first part whose limits would be the second, a fraction or script left with an empty slot, scripts the
    whole has and the parts do not); how the parts' boxes sit (``_placement``)."""
    from inkmath.equation.core.latex import LINE_BREAK

    cut, whole, parts = record["cut"], record["whole"], record["part_readings"]
    p = min(max(cut["prob"], 1e-4), 1 - 1e-4)
    return np.asarray([
        math.log(p / (1 - p)), float(cut["axis"]), cut["band"], _log(whole["confidence"]),
        sum(_log(x["confidence"]) for x in parts), min(_log(x["confidence"]) for x in parts),
        float(LINE_BREAK in whole["latex"]), math.log1p(whole["symbols"]),
        math.log1p(min(x["symbols"] for x in parts)), float("\\frac" in whole["latex"]),
        float(any(op in parts[0]["latex"] for op in BIG_OPERATORS)), float("\\rightarrow" in parts[1]["latex"]),
        float(any("{}" in x["latex"] for x in parts)),
        float(any(op + "_" in whole["latex"] or op + "^" in whole["latex"] for op in BIG_OPERATORS)),
        *(_scripts_lost(whole["latex"], [x["latex"] for x in parts], mark) for mark in "^_"),
        *_placement(record["parts"])], np.float32)


def cut_model_features(record: dict) -> np.ndarray:
    """float32 (N_FEATURES,) of a ``cut_record``, page-cut's inputs: its ``cut_features`` and the page's line gap. A
    plain page's lines are far apart, and there two of them are seldom grouped as one: a cut that the geometry doubts
    (page-split) is kept only on a crowded page."""
    return np.append(cut_features(record), np.float32(record["line_gap"]))


def _placement(boxes) -> tuple[float, float, float]:
    """How the two parts' boxes sit: log(narrower / wider), and how far the second starts right of the first and its
    middle lies below the first's, in their mean height (two lines of a page start at one margin; an exponent or a
    limit's subscript is narrower, and set right or under the left end)."""
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = boxes
    wa, wb = max(ax1 - ax0, 1.0), max(bx1 - bx0, 1.0)
    h = max((ay1 - ay0 + by1 - by0) / 2, 1.0)
    return (math.log(min(wa, wb) / max(wa, wb)), float(np.clip((bx0 - ax0) / h, -10, 10)),
            float(np.clip(((by0 + by1) - (ay0 + ay1)) / 2 / h, -10, 10)))


def _scripts_lost(whole: str, parts: list[str], mark: str) -> float:
    """How many more scripts (``mark``: "^" or "_") the whole's reading has than its parts' together, at most 3 either
    way: a cut that takes away an exponent loses superscripts, a join read as one often gains subscripts."""
    return float(np.clip(whole.count(mark) - sum(p.count(mark) for p in parts), -3, 3))


def join_record(merge: float, cut: Cut, whole, parts: list, gap: float) -> dict:
    """A ``cut_record`` of two groups as the cut between them, and page-merge's score of the pair (``merge``)."""
    return {**cut_record(cut, whole, parts, gap), "merge": float(merge)}


def join_features(record: dict) -> np.ndarray:
    """float32 (len(JOIN_FEATURES),) of a ``join_record``: its ``cut_features`` and page-merge's score as a logit."""
    q = min(max(record["merge"], 1e-4), 1 - 1e-4)
    return np.append(cut_features(record), np.float32(math.log(q / (1 - q))))
