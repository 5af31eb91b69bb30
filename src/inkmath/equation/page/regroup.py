"""Cutting and joining a page's groups of ink by what their readings say, once every group is read.

    read = regroup(found, read, read_group)   # read: [(InkGroup, PageExpression | None)] in reading order
                                              # read_group: InkGroup -> PageExpression | None (page._read_group)

``page_find`` and ``page_merge`` group the ink by its geometry. Their groups are then checked against the readings:
- a group that holds two expressions is cut in two (``cut_joined``): the ``page-cut`` model weighs page-split's best
  band across it against how surely the whole and each part read;
- two groups page-merge left apart but was not sure of are read as one and joined when that model and ``page-join``
  (trained on such pairs) find the cut between them not worth making (``join_read_pairs``): a numerator over a bar
  that went with its denominator, an exponent written high;
- a line's pieces a wide space split are joined when a reading ends (or starts) with a relation or an operator
  (``join_open_ends``), and a limit's subscript written far under "lim" when the joined reading reads it as one
  (``join_limit_below``).
What is left as a group of its own but is not writing (``not_writing``: a lone dot, a piece of a paper line read as
bars) is then ignored by ``page.read_page``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from inkmath.equation.photo.find import FoundExpressions, InkGroup

# Lines split by a wide space: a reading that ends with OPEN_END or starts with OPEN_START is joined with its neighbour
# on the same line (overlapping by JOIN_OVERLAP of the lower one's height, at most JOIN_GAP units apart)
OPEN_END = {"=", "<", ">", "\\leq", "\\geq", "\\neq", "\\lt", "\\gt", "\\rightarrow", "+", "-", "\\times", "\\div",
            "\\pm"}
OPEN_START = {"=", "<", ">", "\\leq", "\\geq", "\\neq", "\\lt", "\\gt", "\\rightarrow", "+", "\\times", "\\div"}
JOIN_OVERLAP = 0.5
JOIN_GAP = 10.0
# A limit's subscript written far below "lim" ("x -> 0" as a group of its own): a reading with "\\lim" and no
# subscript is joined with a group below it (at most LIMIT_GAP units under it, starting within LIMIT_REACH units of
# its left end) whose reading has an arrow, and the joined reading is kept when it reads the arrow as lim's subscript
LIMIT_GAP = 3.0
LIMIT_REACH = 3.0
# Two groups page-merge left apart but scored at least JOIN_CONSIDER (under its MERGE_PROB) are read as one, and
# joined when the mean of page-join's and page-cut's probability that they are two expressions is under JOIN_BELOW:
# a numerator the merge left over a bar that went with its denominator reads as an empty slot, an exponent set high
# reads as one. Validation pages (plain seeds 0 / 18 / 19 / 31 / 32, crowded 80 / 81, large writing 0 / 18,
# labelled 0: 868 pages), pairs from 0.001 traced and scored apart, right / wrong joins at 0.5: page-cut alone from
# 0.05 17 / 2, from 0.005 26 / 4; page-join alone from 0.005 22 / 0 (0.4-0.6 the same), from 0.001 24 / 3; the mean
# from 0.005 25 / 0 (0.6: 26 / 2), from 0.02 20 / 0. Read whole, pages in order 829 -> 834 (plain 0 and 31 and
# large 0 one page each, 32 two; crowded 81 one expression more; none lost), against 832 for page-cut alone from 0.05
# (one lost) and for page-join alone from 0.05 (two lost) (docs/decisions/page-grouping-and-order.md). Its training
# traces read the pairs from TRACE_CONSIDER.
JOIN_CONSIDER = 0.005
JOIN_BELOW = 0.5
TRACE_CONSIDER = 0.001
# Marks that are not writing, left once the groups are cut and joined: a group under page_find's LONE_MARK (a lone
# dot a cut or join left alone: an i's dot, a full stop, read as "n"), or one whose reading is nothing but BARS
# (pieces of a ruled line the clean-up left, read as "-" or "="). None of the 8,834 CROHME training expressions is only
# bars or dots (485 are one symbol: letters and digits), and the validation pages' expressions are all at least 1.1
# symbol heights long. Validation pages in order 834 -> 836 of 868 (seed 31: 2 pages), none lost, expressions the same
# (docs/decisions/page-grouping-and-order.md).
BARS = {"-", "=", ".", "\\ldots", "\\cdots", "\\cdot", "\\dots"}


def in_reading_order(read: list, unit: float) -> list:
    """[(group, expression)] sorted as a person reads the groups (``page_find.reading_order``)."""
    from inkmath.equation.photo.find import reading_order

    by_group = {id(g): (g, e) for g, e in read}
    return [by_group[id(g)] for g in reading_order([g for g, _ in read], unit)]


def model_cut(record: dict) -> bool:
    """Whether a group's best cut read (its ``page_cut.cut_record``) is made: the ``page-cut`` model scores it at
    least ``CUT_KEEP``."""
    from inkmath.equation.page.cut import CUT_KEEP, cut_model_features, load_page_cut_model

    return bool(load_page_cut_model().prob(cut_model_features(record))[0] >= CUT_KEEP)


def model_join(record: dict) -> bool:
    """Whether two groups read as one (their ``page_cut.join_record``) are joined: the mean of the ``page-join`` and
    ``page-cut`` models' probability that they are two expressions is under ``JOIN_BELOW``."""
    from inkmath.equation.page.cut import cut_model_features, join_features, load_page_cut_model, load_page_join_model

    return bool((load_page_join_model().prob(join_features(record))[0]
                 + load_page_cut_model().prob(cut_model_features(record))[0]) / 2 < JOIN_BELOW)


@dataclass(frozen=True)
class Regrouping:
    """What ``regroup`` makes of the cuts and joins it reads. ``cut``: a group's best cut read (its
    ``page_cut.cut_record``) -> make it?; ``join``: two groups read as one (their ``page_cut.join_record``) -> join
    them? (None: no pair is read as one); ``join_from``: the pairs page-merge scored from this up (under its
    ``MERGE_PROB``) are read as one. The reader's: the defaults. A page recipe passes one whose ``cut`` or ``join``
    records each record (its training data) and makes nothing (``synth.page_traces``)."""

    cut: Callable[[dict], bool] = model_cut
    join: Callable[[dict], bool] | None = model_join
    join_from: float = JOIN_CONSIDER


def cut_joined(found: FoundExpressions, read: list, read_group, cut: Callable[[dict], bool] = model_cut) -> list:
    """[(group, expression)] in reading order, where a group that holds two expressions is cut in two (and each part
    again, for three lines joined): along its best empty band (``page_cut.best_cut``), read when page-split scores
    it at least ``CUT_CONSIDER``, cut when ``cut`` says so given its record (``model_cut``: the ``page-cut`` model,
    weighing that score against how surely the whole and the parts read and how close the page's lines are,
    ``page_merge.line_gap`` of the groups before any cut)."""
    from inkmath.equation.page.cut import CUT_CONSIDER, best_cut, cut_record
    from inkmath.equation.photo.merge import line_gap
    from inkmath.equation.page.split import part_group

    if found.stats is None:
        return read
    gap = line_gap([g for g, _ in read], found.unit)
    out, changed, i = list(read), False, 0
    while i < len(out):
        g, e = out[i]
        best = best_cut([h for h, _ in out], i, found.stats, found.unit) if e is not None and \
            e.confidence is not None else None
        if best is None or best.prob < CUT_CONSIDER:
            i += 1
            continue
        parts = [part_group(c, found.stats) for c in best.parts]
        pe = [read_group(p) for p in parts]
        if any(x is None or x.confidence is None for x in pe):
            i += 1
            continue
        if cut(cut_record(best, e, pe, gap)):
            out[i:i + 1] = list(zip(parts, pe))  # each part may hold two expressions again
            changed = True
            continue
        i += 1
    if not changed:
        return read
    return in_reading_order(out, found.unit)


def join_read_pairs(found: FoundExpressions, read: list, read_group, join: Callable[[dict], bool] = model_join,
                    join_from: float = JOIN_CONSIDER) -> list:
    """[(group, expression)] in reading order, where two groups that page-merge scored from ``join_from`` up to its
    ``MERGE_PROB`` are read as one and joined when ``join`` says so given their record (``model_join``: the
    ``page-join`` and ``page-cut`` models, given the readings of the two and of both as one, score them two
    expressions under ``JOIN_BELOW``, their mean); the likeliest pairs first, each group joined once. Only pairs with
    an empty band between them."""
    from inkmath.equation.page.cut import Cut, join_record
    from inkmath.equation.photo.merge import MERGE_PROB, group_summaries, line_gap, load_page_merge_model, scored_pairs
    from inkmath.equation.page.split import cut_features as split_features, load_page_split_model

    if found.stats is None or len(read) < 2:
        return read
    comp, unit = found.stats, found.unit
    groups = [g for g, _ in read]
    gap = line_gap(groups, unit)
    pairs, p = scored_pairs(groups, comp, unit, load_page_merge_model(), found.gutters, gap)
    if not pairs:
        return read
    s = group_summaries(groups, comp, unit)
    readable = [e is not None and e.confidence is not None for _, e in read]
    joined = {}
    for q, (i, j) in sorted(zip(p.tolist(), pairs), reverse=True):
        if not join_from <= q < MERGE_PROB or not (readable[i] and readable[j]) or i in joined or j in joined:
            continue
        a, b = groups[i].box, groups[j].box
        gx, gy = max(a.x0, b.x0) - min(a.x1, b.x1), max(a.y0, b.y0) - min(a.y1, b.y1)
        if max(gx, gy) < 0:
            continue  # no empty band between them
        axis = 1 if gy >= gx else 0
        first, second = (i, j) if (a.y0 + a.y1 if axis else a.x0 + a.x1) <= (b.y0 + b.y1 if axis else b.x0 + b.x1) \
            else (j, i)
        union = InkGroup(a.union(b), groups[first].components + groups[second].components)
        rest = [s[k] for k in range(len(s)) if k not in (i, j)] + group_summaries([union], comp, unit)
        split = float(load_page_split_model().prob(split_features(
            rest, len(rest) - 1, axis, groups[first].components, groups[second].components, comp, unit)[None])[0])
        whole = read_group(union)
        if whole is None or whole.confidence is None:
            continue
        cut = Cut(split, axis, (groups[first].components, groups[second].components), max(gx, gy) / unit)
        if join(join_record(q, cut, whole, [read[first][1], read[second][1]], gap)):
            joined[i], joined[j] = (union, whole), None
    if not joined:
        return read
    out = []
    for k, x in enumerate(read):
        if k not in joined:
            out.append(x)
        elif joined[k] is not None:
            out.append(joined[k])
    return in_reading_order(out, unit)


def join_open_ends(found: FoundExpressions, read: list, read_group) -> list:
    """[(group, expression)] in reading order, where a reading that ends with a relation or an operator is joined with
    the nearest group to its right on the same line, and one that starts with a relation with the nearest to its left
    (read again as one; it keeps the earlier place): "e =" and a fraction written far to its right, which the
    grouping's line gap split. A reading never ends with "=", nor starts with it. Never across a gutter between
    columns (``page_find.column_gutters``), which the grouping does not link across either."""
    from inkmath.equation.photo.merge import across_gutter

    def same_line(a, b) -> bool:  # b to the right of a
        return (min(a.y1, b.y1) - max(a.y0, b.y0) >= JOIN_OVERLAP * min(a.h, b.h)
                and 0 <= b.x0 - a.x1 <= JOIN_GAP * found.unit
                and not across_gutter((a.x0, a.x1), (b.x0, b.x1), found.gutters))

    out = list(read)
    changed = True
    while changed:
        changed = False
        for i, (g, e) in enumerate(out):
            if e is None or not e.symbols:
                continue
            right = [j for j, (h, _) in enumerate(out) if j != i and same_line(g.box, h.box)]
            left = [j for j, (h, _) in enumerate(out) if j != i and same_line(h.box, g.box)]
            if e.symbols[-1]["label"] in OPEN_END and right:
                j = min(right, key=lambda j: out[j][0].box.x0)
            elif e.label is None and e.symbols[0]["label"] in OPEN_START and left:
                j = max(left, key=lambda j: out[j][0].box.x1)
            else:
                continue
            h = out[j][0]
            joined = InkGroup(g.box.union(h.box), g.components + h.components)
            je = read_group(joined)
            if je is None:
                continue
            first, last = min(i, j), max(i, j)
            out[first] = (joined, je)
            del out[last]
            changed = True
            break
    return out


def join_limit_below(found: FoundExpressions, read: list, read_group) -> list:
    """[(group, expression)] in reading order, where a reading with "\\lim" and no subscript is joined with the group
    below it whose reading has an arrow ("x -> 0" written far under "lim"), when the joined group reads it as lim's
    subscript (``LIMIT_GAP``, ``LIMIT_REACH``)."""
    def bare_limit(e) -> bool:
        return e is not None and "\\lim" in e.latex and "\\lim_" not in e.latex

    def below(a, b) -> bool:  # b under a's left end
        return (0 <= b.y0 - a.y1 <= LIMIT_GAP * found.unit and a.x0 - LIMIT_REACH * found.unit <= b.x0
                <= a.x0 + LIMIT_REACH * found.unit and b.w < a.w)

    out, taken = list(read), set()
    for i in range(len(out)):
        g, e = out[i]
        if i in taken or not bare_limit(e):
            continue
        under = [j for j, (h, f) in enumerate(out) if j != i and j not in taken and f is not None
                 and "\\rightarrow" in f.latex and not bare_limit(f) and below(g.box, h.box)]
        if not under:
            continue
        j = min(under, key=lambda j: out[j][0].box.y0)
        h = out[j][0]
        joined = InkGroup(g.box.union(h.box), g.components + h.components)
        je = read_group(joined)
        if je is not None and "\\lim_{" in je.latex and "\\rightarrow" in je.latex:
            out[i] = (joined, je)
            taken.add(j)  # read as the limit's subscript
    return [x for k, x in enumerate(out) if k not in taken]


def not_writing(g: InkGroup, e, unit: float) -> bool:
    """True when group ``g`` read as ``e`` is a mark, not an expression (``page_find.lone_mark``, ``BARS``)."""
    from inkmath.equation.photo.find import lone_mark

    if lone_mark(g, unit):
        return True
    return e is not None and bool(e.symbols) and all(s["label"] in BARS for s in e.symbols)


def regroup(found: FoundExpressions, read: list, read_group, decisions: Regrouping = Regrouping()) -> list:
    """[(group, expression)] in reading order after the cuts and joins above, in that order, as ``decisions`` decide
    the cuts and the joins of pairs read (``Regrouping``)."""
    read = cut_joined(found, read, read_group, decisions.cut)
    if decisions.join is not None:
        read = join_read_pairs(found, read, read_group, decisions.join, decisions.join_from)
    read = join_open_ends(found, read, read_group)
    return join_limit_below(found, read, read_group)
