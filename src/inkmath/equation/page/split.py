"""Where to cut a group of ink that holds several lines: a scored decision, not a threshold.

    p = load_page_split_model().prob(cut_features(summaries, k, axis, a, b, comp, unit)[None])

``page_find`` links components by fixed gaps and ``page_merge`` joins what they left apart; neither splits, so two
lines less than half a symbol apart (a denominator just above the next line), or two lines the merge joined, stay
one group. Every empty band across a group (``candidate_cuts``: no component crosses it) is scored by a small
perceptron (``page-split``, trained by ``python -m inkmath.training.recipes.page_split`` on pages generated from the
CROHME *training* ink: target 1 when the two parts are two written expressions) on the two parts' geometry in the
page (``page_merge.pair_features``, the parts as two groups among the page's others) and the cut's direction; its
score is one input of ``page_cut``'s models, which weigh it against how surely the parts read.

Tried, not kept (docs/decisions/page-grouping-and-order.md): the model alone deciding whether to cut, and the reader's
confidence alone (parts against the whole) on the model's best cuts; on the validation pages both cut more true
expressions than joined ones.
"""

from __future__ import annotations


import numpy as np

from inkmath.equation.core.mlp import BinaryMLP
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.photo.merge import PAIR_FEATURES
from inkmath.equation.photo.merge import group_summaries, pair_features
from inkmath.equation.core.tree import Box

RECIPE = "inkmath.training.recipes.page_split --config configs/page-split.yaml"
N_FEATURES = PAIR_FEATURES + 2


@register("page-split", what="Page split model", recipe=RECIPE)
class PageSplitModel(BinaryMLP):
    """p(the two parts of a group cut along an empty band are two written expressions) (``cut_features``)."""


def load_page_split_model(path: str | None = None) -> PageSplitModel:
    """The shipped page-split model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, PageSplitModel.KIND)


def candidate_cuts(components: list[int], comp: np.ndarray) -> list[tuple[int, list[int], list[int]]]:
    """[(axis, first part's components, second part's)] for every empty band across the group (axis 0: a vertical
    band, the parts left and right; 1: a horizontal band, the parts above and below)."""
    st = comp[components]
    out = []
    for axis in (0, 1):
        lo = st[:, axis].astype(np.float64)
        hi = lo + st[:, axis + 2]
        order = np.argsort(lo, kind="stable")
        end = hi[order[0]]
        for k in range(1, len(order)):
            i = order[k]
            if lo[i] >= end:
                out.append((axis, [components[m] for m in order[:k]], [components[m] for m in order[k:]]))
            end = max(end, hi[i])
    return out


def part_group(components: list[int], comp: np.ndarray):
    from inkmath.equation.photo.find import InkGroup

    st = comp[components].astype(np.float64)
    return InkGroup(Box(float(st[:, 0].min()), float(st[:, 1].min()), float((st[:, 0] + st[:, 2]).max()),
                        float((st[:, 1] + st[:, 3]).max())), list(components))


def cut_features(summaries: list[dict], k: int, axis: int, a: list[int], b: list[int], comp: np.ndarray,
                 unit: float) -> np.ndarray:
    """float32 (N_FEATURES,): the pair features of the two parts with group ``k`` of ``summaries`` replaced by
    them, the cut's direction, and how many components the group holds."""
    parts = group_summaries([part_group(a, comp), part_group(b, comp)], comp, unit)
    s = summaries[:k] + summaries[k + 1:] + parts
    f = pair_features(s, len(s) - 2, len(s) - 1, unit)
    return np.concatenate([f, np.asarray([float(axis), np.log1p(len(a) + len(b))], np.float32)])
