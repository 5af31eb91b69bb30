"""Whether a page photo is upright: a page photographed sideways or upside down is turned (``upright``), judged by how
surely the symbol classifier reads a sample of the page's marks in each of the four orientations.

    page = upright(clean_page(*load_photo(photo)), predictor)   # CleanPage, turned when a turn reads surer
"""

from __future__ import annotations

import numpy as np

from inkmath.equation.photo.clean import CleanPage, turn

ORIENTATION_SAMPLE = 40  # components read to check that the page is upright
ORIENTATION_MARGIN = 0.05  # mean top probability a turned page must win by (100 validation pages turned 4 ways:
# 8 of 400 left wrong, no upright page turned; 0.02: 6, none; 0.0: an upright page turned; the blob-length sideways
# test this replaced: 20 wrong)
# The first ORIENTATION_FIRST marks read in all four turns decide alone when they read ORIENTATION_CLEAR more surely as
# they stand than in any turn (validation pages, every page in its four turns: the same decisions as reading every
# mark, for a third of the marks read turned; docs/decisions/page-reading.md). 0: every mark is read
ORIENTATION_FIRST = 8
ORIENTATION_CLEAR = 0.1
ORIENTATION_SURE = 0.8  # the page as it is reads at least this surely: upright, the turns are not read (validation
# pages: no page turned by 90, 180 or 270 degrees reads this surely as it stands; docs/decisions/page-reading.md)


def upright(page: CleanPage, predictor) -> CleanPage:
    """Turn a page photographed sideways or upside down: the classifier reads a sample of the page's marks in each of
    the four orientations; a turn must read them more surely than the page as it is by ``ORIENTATION_MARGIN``. The
    first ``ORIENTATION_FIRST`` marks are read in all four first: when they read at least ``ORIENTATION_CLEAR`` more
    surely as they stand than in any turn, the page is upright. A page whose marks read at least
    ``ORIENTATION_SURE`` as they stand is upright too (the rest are not read turned)."""
    if not page.ink.any():
        return page
    crops = orientation_marks(page.ink)
    k = min(ORIENTATION_FIRST, len(crops))
    first = mark_probs(crops[:k], predictor, [0, 1, 2, 3])
    if k and first[0].mean() - first[1:].mean(axis=1).max() >= ORIENTATION_CLEAR:
        return page
    as_is = np.concatenate([first[0], mark_probs(crops[k:], predictor, [0])[0]])
    if not len(as_is) or as_is.mean() >= ORIENTATION_SURE:
        return page
    turned = np.concatenate([first[1:], mark_probs(crops[k:], predictor, [1, 2, 3])], axis=1)
    scores = [float(as_is.mean())] + [float(v) for v in turned.mean(axis=1)]
    best = int(np.argmax(scores))
    if best == 0 or scores[best] < scores[0] + ORIENTATION_MARGIN:
        return page
    return turn(page, best)


def orientation_marks(ink: np.ndarray) -> list[np.ndarray]:
    """A sample of the page's typical-size marks (up to ``ORIENTATION_SAMPLE`` components nearest the median size),
    each cut alone, white on black."""
    import cv2

    n, lab, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return []
    big = np.maximum(stats[1:, 2], stats[1:, 3])
    med = np.median(big)
    picks = [i for i in np.argsort(np.abs(big - med), kind="stable") if big[i] >= 8][:ORIENTATION_SAMPLE]
    crops = []
    for i in picks:
        x, y, w, h = stats[i + 1, :4]
        # a border of paper round each: a mark that fills its box (a level bar) is not read as a blank crop
        crops.append(np.pad(((lab[y:y + h, x:x + w] == i + 1) * 255).astype(np.uint8), 1))
    return crops


def mark_probs(crops: list[np.ndarray], predictor, quarter_turns: list[int]) -> np.ndarray:
    """(turns, marks): for each number of clockwise quarter turns, the classifier's top probability of each mark
    turned that way (only the small crops are turned)."""
    if not crops:
        return np.zeros((len(quarter_turns), 0))
    turned = [np.ascontiguousarray(np.rot90(c, -q)) for q in quarter_turns for c in crops]
    probs = [p[0].prob for p in predictor.predict(turned, ink="white", top=1)]
    return np.array(probs, np.float64).reshape(len(quarter_turns), len(crops))
