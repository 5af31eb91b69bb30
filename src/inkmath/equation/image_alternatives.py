"""Other groupings of an image's parts for the decoder to weigh: ``image_segmentation.segment_image_nbest``.

The rules of ``segment_image`` take each merge and cut with the classifier's word at a threshold; a close call
taken the wrong way leaves the decoder nothing to read right. So the closest calls are offered as well, each
grouping differing from the rules' own by one call:

- a merge made (the two parts of a merged symbol read apart again);
- a merge weighed and not made (the parts read together);
- a component cut into touching symbols (read whole again), or tried and not cut (read as its best cut).

A call's ``margin`` is how far the classifier's evidence lay from the threshold that decided it: for merges the log
of the merged reading's probability over the threshold (``MERGE_RATIO`` or ``SIDE_RATIO`` times the parts' geometric
mean), for cuts the difference of ``best_cuts``' scores. The closest calls come first. The decoder scores a grouping
``-(FLIP_COST + MARGIN_WEIGHT * margin)`` (``flip_score``) against 0 for the rules' own, and its symbol model,
language model and structure model weigh the rest of the reading.
"""

from __future__ import annotations

from inkmath.equation.tree import Box

# what an alternative grouping pays in the decoder's score (log units), chosen with the decoder's weights on the
# WAP-like validation (benchmarks/decoder_val.py --grid on an --dump images dump; docs/decisions/
# 2026-11-24-image-alternatives.md)
FLIP_COST = 1.0
MARGIN_WEIGHT = 0.0


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
    out.sort(key=lambda o: max(o[0], 0.0))
    return out


def _replace(groups: list, gbox: list, gpred: list, drop: list[int], add: list[tuple]) -> tuple[list, list, list]:
    """The grouping with the groups ``drop`` replaced by ``add`` ((parts, box, readings) each); new lists."""
    keep = [i for i in range(len(groups)) if i not in set(drop)]
    return ([groups[i] for i in keep] + [list(a[0]) for a in add], [gbox[i] for i in keep] + [a[1] for a in add],
            [gpred[i] for i in keep] + [a[2] for a in add])
