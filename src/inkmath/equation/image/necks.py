"""Where a component of an ink image may be cut into touching symbols, and which cuts read best: its necks (thin
paths from its top to its bottom, ``_neck_paths``; several components' at once, ``_neck_paths_many``) and the best
sequence of pieces between cuts by dynamic programming over the classifier's scores, as for strokes (``best_cuts``).
``image_splits.split_touching`` reads the pieces and chooses.
"""

from __future__ import annotations

import math

import numpy as np

from inkmath.equation.strokes.segment import backtrack

# touching symbols ('00', '(0', '1000') are cut along necks: top-to-bottom paths through a component that cross at
# most NECK typical symbol sizes of ink and leave at least MIN_SHARE of its ink on either side, at most MAX_CUTS of
# them per component (the cheapest, no two cutting off nearly the same ink). A path moves at most one column per row
# (so it can pass between symbols that overlap in x, 'si' written touching) and pays TURN per move (straight cuts
# first). CUT_COST: the score a reading pays per cut (log-probability units), against cutting a symbol that reads
# well whole ('\\infty', 'm') into pieces that each read well too (``image_splits.split_touching`` for the rest)
NECK = 0.2
MAX_CUTS = 4
MIN_SHARE = 0.1
TURN = 0.05
CUT_COST = 0.5  # 1.0 reads the same (ExpRate 37.97 % at 0.5, 38.03 % at 1.0)
# a cut's piece read below this is no reading (``image.splits``' neck cuts and ``image.touch``'s cuts alike)
PIECE_PROB = 0.4


def _neck_paths(mask: np.ndarray, unit: float) -> list[tuple[float, np.ndarray]]:
    """Where a component may be cut: for ``mask`` (h, w), the component cropped to its box, paths from its top to
    its bottom as described at ``NECK``: (share of the ink left of the path, the path's column per row, int (h,)),
    by increasing share."""
    return _neck_paths_many([mask], unit)[0]


def _neck_paths_many(masks: list[np.ndarray], unit: float) -> list[list[tuple[float, np.ndarray]]]:
    """``_neck_paths`` of several components in one pass of its dynamic programme: side by side, their bottoms in
    one row, each column of ink (inf) between two (no path crosses it: a move onto it costs inf), the rows over a
    lower component's top without ink (there every path goes straight down at cost 0, so the cost at its top row is
    that row's ink, as when alone). The same floats per component as alone, in a row loop as long as the tallest."""
    if not masks:
        return []
    height = max(m.shape[0] for m in masks)
    starts = np.cumsum([0] + [m.shape[1] + 1 for m in masks])  # each one's first column; a wall after each
    w = int(starts[-1]) - 1
    ink = np.zeros((height, w), np.float32)
    ink[:, starts[1:-1] - 1] = np.inf
    for m, x in zip(masks, starts):
        ink[height - m.shape[0]:, x:x + m.shape[1]] = m
    # the cheapest path's cost to each pixel (row by row), and the cheapest of coming to it from the left (none for
    # column 0), from straight above and from the right
    cost = np.empty((height, w), np.float32)
    least = np.empty((height, w), np.float32)
    cost[0] = least[0] = ink[0]
    left = np.full((height, w), np.inf, np.float32)
    right = np.full(w, np.inf, np.float32)
    turn = np.float32(TURN)
    for y in range(1, height):
        np.add(cost[y - 1, :-1], turn, out=left[y, 1:])
        np.add(cost[y - 1, 1:], turn, out=right[:-1])
        np.minimum(left[y], cost[y - 1], out=least[y])
        np.minimum(least[y], right, out=least[y])
        np.add(least[y], ink[y], out=cost[y])
    # column offset of the path's previous row: the first of (left, straight, right) that is cheapest (argmin's
    # choice): -1 unless the left is dearer than the cheapest, else 0 unless straight above is dearer too, else 1
    not_left = left[1:] != least[1:]
    step = np.zeros((height, w), np.int64)
    step[1:] = not_left
    step[1:] += not_left & (cost[:-1] != least[1:])
    step -= 1
    cost = cost[-1]
    paths = np.empty((height, w), np.int64)  # paths[:, x]: the cheapest path ending at the bottom in column x
    paths[-1] = np.arange(w)
    for y in range(height - 1, 0, -1):
        np.add(paths[y], step[y].take(paths[y]), out=paths[y - 1])
    return [_necks(m, paths[height - m.shape[0]:, x:x + m.shape[1]] - x, cost[x:x + m.shape[1]], unit)
            for m, x in zip(masks, starts.tolist())]


def _necks(mask: np.ndarray, paths: np.ndarray, cost: np.ndarray, unit: float) -> list[tuple[float, np.ndarray]]:
    """``_neck_paths`` of ``mask`` (h, w) from its cheapest paths (h, w: one ending at each bottom column) and their
    costs (w,)."""
    h, w = mask.shape
    before = np.concatenate([np.zeros((h, 1), np.int64), np.cumsum(mask, axis=1)], axis=1)  # ink left of a column
    share = before[np.arange(h)[:, None], paths].sum(axis=0) / max(int(mask.sum()), 1)
    chosen: list[tuple[float, np.ndarray]] = []
    order = np.argsort(cost, kind="stable")
    over = cost[order] > NECK * unit  # compared in the costs' float32, as each cost alone would be
    cheap = order[:int(np.argmax(over)) if over.any() else w]  # the columns by cost, up to the first too dear
    for x, part in zip(cheap.tolist(), share[cheap].tolist()):
        if not MIN_SHARE <= part <= 1 - MIN_SHARE:
            continue
        if all(abs(part - other) >= MIN_SHARE for other, _ in chosen):
            chosen.append((part, paths[:, x]))
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
    return backtrack(back, n)


def cuts_score(bounds: list[float], seg_prob: dict[tuple[int, int], float], unit: float, pieces: list[tuple[int, int]],
               cut_cost: float = CUT_COST) -> float:
    """``best_cuts``' score of reading a component as ``pieces``."""
    return sum((bounds[j] - bounds[i]) / unit * math.log(max(seg_prob[(i, j)], 1e-6)) - (cut_cost if i > 0 else 0.0)
               for i, j in pieces)
