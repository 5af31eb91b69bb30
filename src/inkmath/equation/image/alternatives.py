"""Other groupings of an image's parts for the decoder to weigh: ``image_segmentation.segment_image_nbest``.

The rules of ``segment_image`` take each merge and cut with the classifier's word at a threshold; a close call
taken the wrong way leaves the decoder nothing to read right. So the closest calls are offered as well, each
grouping differing from the rules' own by one call:

- a merge made (the two parts of a merged symbol read apart again);
- a merge weighed and not made (the parts read together), or neighbours no merge rule weighed (``near_pairs``:
  a symbol written in two strokes with a gap, e.g.);
- a component cut into touching symbols (read whole again), or tried and not cut (read as its best cut).

A call's ``margin`` is how far the classifier's evidence lay from the threshold that decided it: for merges the log
of the merged reading's probability over the threshold (``MERGE_RATIO`` or ``SIDE_RATIO`` times the parts' geometric
mean), for cuts the difference of ``best_cuts``' scores. The closest calls come first. The decoder scores a grouping
``-(FLIP_COST + MARGIN_WEIGHT * margin)`` (``flip_score``) against 0 for the rules' own, and its symbol model,
language model and structure model weigh the rest of the reading.
"""

from __future__ import annotations

import math

from inkmath.equation.core.tree import Box
from inkmath.equation.image.parts import render_many, separated

# what an alternative grouping pays in the decoder's score (log units), chosen with the decoder's weights on every
# 3rd WAP-like validation rendering (502; benchmarks/decoder_val.py --flip-grid on a --dump images dump with 6
# groupings; docs/decisions/image-segmentation.md): ExpRate 51.39 % with the rules' grouping alone,
# 54.18 % at a cost of 2 plus 1 per unit of margin (3 groupings; the best of the grid lm 0.1-0.3, length 0.1-0.6).
# Best over the rest of that grid: cost 0 (the models alone decide) 50.40 %, 0 + 1 per margin 52.39 %, 1 + 1
# 53.78 %, 2 alone 53.78 %, 3 + 1 53.59 %; 100 (the rules' grouping always) 51.39 %
FLIP_COST = 2.0
MARGIN_WEIGHT = 1.0


def flip_score(margin: float) -> float:
    """The segmentation score of a grouping that takes one call the other way, ``margin`` from its threshold."""
    return -(FLIP_COST + MARGIN_WEIGHT * max(margin, 0.0))


def alternatives(groups: list[list[int]], gbox: list[Box], gpred: list[list], comps: list, made: dict,
                 declined: list, cuts: list) -> list[tuple[float, tuple[list, list, list]]]:
    """(margin, (groups, boxes, readings)) of each grouping one call away from the rules', closest call first.

    ``made``: merged group (frozenset of parts) -> (part a, part b, margin), a part being (groups, box, readings);
    ``declined``: (part a, part b, merged box, merged readings, margin); ``cuts``: ``split_touching``'s record.
    New parts (a component whole again, or its pieces) are appended to ``comps``, so symbols can index them.
    """
    out = []
    at = {frozenset(g): i for i, g in enumerate(groups)}
    for key, (pa, pb, margin) in made.items():
        i = at.get(key)
        if i is None:  # merged further after this merge: not undone alone
            continue
        out.append((margin, _replace(groups, gbox, gpred, [i], [pa, pb])))
    for pa, pb, box, mp, margin in declined:
        i, j = at.get(frozenset(pa[0])), at.get(frozenset(pb[0]))
        if i is None or j is None:
            continue
        out.append((margin, _replace(groups, gbox, gpred, [i, j], [(pa[0] + pb[0], box, mp)])))
    for c in cuts:
        if c["cut"]:
            pieces = [c["k"]] + c["extra"]
            idx = [at.get(frozenset([p])) for p in pieces]
            if any(i is None for i in idx):  # a piece merged with something else since
                continue
            comps.append(c["comp"])
            out.append((c["margin"], _replace(groups, gbox, gpred, idx, [([len(comps) - 1], c["comp"][0],
                                                                           c["pred"])])))
        else:
            i = at.get(frozenset([c["k"]]))
            if i is None:
                continue
            new = []
            for piece, pred in zip(c["pieces"], c["preds"]):
                comps.append(piece)
                new.append(([len(comps) - 1], piece[0], pred))
            out.append((c["margin"], _replace(groups, gbox, gpred, [i], new)))
    out.sort(key=lambda o: o[0])  # a negative margin: the evidence was against the call the rules took
    return out


def _replace(groups: list, gbox: list, gpred: list, drop: list[int], add: list[tuple]) -> tuple[list, list, list]:
    """The grouping with the groups ``drop`` replaced by ``add`` ((parts, box, readings) each); new lists."""
    keep = [i for i in range(len(groups)) if i not in set(drop)]
    return ([groups[i] for i in keep] + [list(a[0]) for a in add], [gbox[i] for i in keep] + [a[1] for a in add],
            [gpred[i] for i in keep] + [a[2] for a in add])


# neighbours (in x order, up to NEAR_NEXT apart) that no merge rule weighed are offered together when their boxes
# overlap in x or lie less than NEAR_GAP typical symbol sizes apart, overlapping in y
NEAR_NEXT = 2
NEAR_GAP = 0.15


def near_pairs(img, comps: list, groups: list, gbox: list[Box], gpred: list, unit: float, classifier, top: int,
               weighed: set) -> list[tuple]:
    """Merges of close single parts the rules did not weigh, as ``declined`` entries (margin: the log of the parts'
    geometric mean over the merged reading, 0 when the merged reads better)."""
    order = sorted((k for k in range(len(groups)) if len(groups[k]) == 1), key=lambda k: gbox[k].x0)
    pairs = []
    for x, a in enumerate(order):
        for b in order[x + 1:x + 1 + NEAR_NEXT]:
            A, B = gbox[a], gbox[b]
            gap_x = max(A.x0, B.x0) - min(A.x1, B.x1)
            oy = min(A.y1, B.y1) - max(A.y0, B.y0)
            # the gap first: ``separated`` looks at every part (the same pairs in either order)
            if (gap_x < 0 or (gap_x < NEAR_GAP * unit and oy > 0)) and \
                    frozenset(groups[a] + groups[b]) not in weighed and not separated(gbox, a, b):
                pairs.append((a, b, A.union(B)))
    if not pairs:
        return []
    reads = classifier.predict(render_many(img, [([comps[groups[a][0]][1], comps[groups[b][0]][1]], bx)
                                             for a, b, bx in pairs]), ink="white", top=top)
    out = []
    for (a, b, bx), mp in zip(pairs, reads):
        sep = math.sqrt(gpred[a][0].prob * gpred[b][0].prob)
        out.append(((groups[a], gbox[a], gpred[a]), (groups[b], gbox[b], gpred[b]), bx, mp,
                    math.log(max(sep, 1e-6) / max(mp[0].prob, 1e-6))))
    return out
