"""Trains the page split model shipped as ``weights/page-split.safetensors`` (+ its card ``page-split.json``) from its
recipe ``configs/page-split.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.page_split --config configs/page-split.yaml
        [--pages N] [--cache DIR] [--stream K] [--out FILE]

Data: the same worksheet photos as the ``page-merge`` model (``page_synth`` on the CROHME 2014 *training* ink, never
the validation or test ink; the recipe's ``page_seed`` and ``streams``), and for the page seeds in ``real_crop_seeds``
(``real_page_seeds``) real-looking crops (pages) of that ink (``synth.real_photos``: pencil and pen on grey ruled
paper, words, a phone's camera; ``page_merge.build_stream`` cleans them as the page reader does, at the writing size
with its ink extractor), cleaned by ``page_clean`` and grouped as the
page reader groups them (``page_find`` and the learned merge), and with looser thresholds (``LOOSE``: more groups
that hold two expressions, as the ones the page reader must cut). Each ink component belongs to the truth expression
whose photo box holds its centre (``train_page_merge.component_owners``). Examples, every candidate cut
(``page_split.candidate_cuts``) of:

- each of the page's groups (most hold one expression: every cut is a negative; a group that holds two gives the
  cut between them as a positive), and
- each candidate pair (``page_merge.candidate_pairs``) of groups that belong to two different expressions, joined:
  the joins the page reader could make, and where they would have to be cut.

Target 1 when each part holds at least ``PURITY`` of its ink from one expression and the two expressions differ.
The cleaned pages are ``train_page_merge``'s cache (``train_page_merge.build_stream``: ink PNG + truth + homography
per page seed and stream, resumable), so the slow part can run as several processes (``--stream 0``, ``--stream
1``) and the examples are computed again from the cache when the features change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkmath.training.recipes.page_merge import PURITY, build_stream, cached_pages, component_owners
from inkmath.equation.page.split import candidate_cuts, cut_features, N_FEATURES, PageSplitModel, part_group
from inkmath.equation.photo.merge import CANDIDATE_GAP, candidate_pairs, group_summaries, merge_groups
from inkmath.training.recipes.page_merge import PageRecipe, run_recipe
from inkmath.weights import shipped_file

LOOSE = {"LINE_GAP": 6.0, "STACK_GAP": 1.0, "FRAC_GAP": 2.0, "NEAR_X": 1.5, "NEAR_Y": 0.6}
PURPOSE = "the page reader's grouping: is a group of ink on a page two written expressions, cut here?"
DEFAULTS = {"name": "page-split", "purpose": PURPOSE, "model": "tanh-mlp", "hidden": 32, "epochs": 40, "seed": 0,
            "pages": 200, "streams": 2, "page_seed": 11, "page_seeds": None, "real_crop_seeds": None,
            "real_page_seeds": None}


def _owner(owner: np.ndarray, area: np.ndarray, comps: list[int]) -> tuple[int, float]:
    """(the expression most of these components' ink belongs to or -1, that share of their ink)."""
    o, a = owner[comps], area[comps]
    if (o < 0).all():
        return -1, 0.0
    share = np.bincount(o[o >= 0], weights=a[o >= 0])
    return int(np.argmax(share)), float(share.max() / max(a.sum(), 1.0))


def cut_target(owner: np.ndarray, area: np.ndarray, a: list[int], b: list[int]) -> float:
    (oa, pa), (ob, pb) = _owner(owner, area, a), _owner(owner, area, b)
    return float(oa >= 0 and ob >= 0 and oa != ob and pa >= PURITY and pb >= PURITY)


def page_examples(ink: np.ndarray, to_photo: np.ndarray, truth: list[dict]) -> tuple[list, list]:
    """(features, targets) of one cleaned page's candidate cuts, grouped with the page reader's thresholds and with
    the looser ``LOOSE`` ones (see the module's docstring)."""
    from inkmath.equation.photo import find as page_find

    X, y = [], []
    saved = {k: getattr(page_find, k) for k in LOOSE}
    try:
        for setting in ({}, LOOSE):
            for k, v in {**saved, **setting}.items():
                setattr(page_find, k, v)
            fx, fy = _grouping_examples(ink, to_photo, truth)
            X += fx
            y += fy
    finally:
        for k, v in saved.items():
            setattr(page_find, k, v)
    return X, y


def _grouping_examples(ink: np.ndarray, to_photo: np.ndarray, truth: list[dict]) -> tuple[list, list]:
    from types import SimpleNamespace

    from inkmath.equation.photo import find as page_find

    grouped = page_find.group_ink(ink)
    if grouped is None:
        return [], []
    groups, stats, unit, gutters = grouped
    groups = merge_groups(groups, stats, unit, gutters=gutters)
    owner = component_owners(SimpleNamespace(to_photo=to_photo), truth, stats)
    area = stats[:, 4].astype(np.float64)
    s = group_summaries(groups, stats, unit)
    X, y = [], []
    for k, g in enumerate(groups):
        for axis, a, b in candidate_cuts(g.components, stats):
            X.append(cut_features(s, k, axis, a, b, stats, unit))
            y.append(cut_target(owner, area, a, b))
    who = [_owner(owner, area, g.components) for g in groups]
    for i, j in candidate_pairs(s, unit, gutters, line_gap=CANDIDATE_GAP):
        (oi, pi), (oj, pj) = who[i], who[j]
        if oi < 0 or oj < 0 or oi == oj or pi < PURITY or pj < PURITY:
            continue
        joined = part_group(groups[i].components + groups[j].components, stats)
        rest = [s[m] for m in range(len(s)) if m not in (i, j)] + group_summaries([joined], stats, unit)
        for axis, a, b in candidate_cuts(joined.components, stats):
            X.append(cut_features(rest, len(rest) - 1, axis, a, b, stats, unit))
            y.append(cut_target(owner, area, a, b))
    return X, y


def load_examples(recipe: dict, cache: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """(features, targets, pages) of the cached pages (``train_page_merge.cached_pages``)."""
    X, y, pages = [], [], 0
    for ink, page, truth in cached_pages(recipe, cache):
        fx, fy = page_examples(ink, page.to_photo, truth)
        X += fx
        y += fy
        pages += 1
    return np.asarray(X, np.float32), np.asarray(y, np.float32), pages


def main(argv: list[str] | None = None) -> int:
    return run_recipe(PageRecipe("train_page_split", DEFAULTS, build_stream, load_examples, shipped_file("page-split"), N_FEATURES,
                                 PageSplitModel, "page_split.cut_features", "two expressions", "cuts",
                                 "between two expressions", "cut", "split"), argv)


if __name__ == "__main__":
    raise SystemExit(main())
