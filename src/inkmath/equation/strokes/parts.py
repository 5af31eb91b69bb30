"""A long drawing -> independent parts read one by one, so that reading time grows with the ink, not its square.

    lines = cut_parts(strokes)        # [[[stroke index, ...] a part, ... left to right] a line, ... top to bottom]
    tree = joined_tree([[tree, ...] a line, ...], [[symbol offset, ...] a line, ...])

Reading one expression costs more than its strokes' share: the structure model scores every pair of symbols and the
layout search's trees grow with them. A drawing of more than ``LONG_DRAWING`` strokes is therefore cut before the
search: into its written lines (``lines.cut_lines`` at ``PART_LINE_GAP`` symbol sizes of clear paper), each line into
spans at clear paper ``SPAN_GAP`` typical symbol sizes wide that no stroke crosses, and any span of more than
``MAX_PART`` strokes at its widest gaps first (the gap between two strokes sorted by their left edge: the next one's
left edge less the rightmost edge before it, negative where strokes overlap) until each part holds at most ``MAX_PART``.
Each step sorts once and walks once: O(n log n) in strokes. A drawing of at most ``LONG_DRAWING`` strokes is one
part, read as before.

The parts' readings are joined as written: the parts of a line side by side (one ``Row``), the lines one under
another (``Lines``, written ``a \\\\ b``), as the parser writes an expression of several lines.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from inkmath import ink
from inkmath.equation.core.latex import LINE_BREAK, to_latex, to_mathml
from inkmath.equation.core.tree import Lines, Node, Row, SymbolHyp, node_fields
from inkmath.equation.reader.decode import check_correction_indices
from inkmath.equation.strokes.lines import cut_lines

# a drawing of more strokes is cut into parts: above the largest of the 1,504 validation expressions (CROHME
# 2011-2013 test: 69 strokes; 99 % have at most 44), so no validation expression is cut
LONG_DRAWING = 80
# clear paper, in typical symbol sizes (``ink.symbol_size``), between two lines of a long drawing: more than the
# tallest gap inside any validation expression (1.67 symbol sizes, under a fraction or a limit; 99 % have none over
# 0.92). ``lines.LINE_GAP`` (0.45, for worked solutions) cut 94 of the 1,504 validation expressions into lines, and
# their parts read apart were right 0 times where the whole was right 74 times
PART_LINE_GAP = 2.0
# clear paper, in typical symbol sizes, across which a line is cut into spans: wider than the widest gap inside any
# validation expression (5.5 symbol sizes; 99 % have none over 3.2)
SPAN_GAP = 6.0
# the most strokes a part holds. Reading from strokes alone costs 2.2-2.7 ms a stroke up to 30-40 strokes and more
# above (real expressions laid in rows / random short strokes, 3 drawings each: 40 strokes 2.2 / 3.3 ms a stroke,
# 60 strokes 2.9 / 4.7, 80 strokes 3.1 / 5.5; 2026-11-29, the loaded 2-core machine)
MAX_PART = 40
# the stroke segmenter's best groupings a part is read from (a whole drawing: ``recognize.STROKE_SEGMENTATIONS``).
# 300 validation expressions read as a part is (strokes alone, seed 5): 218 right from 5 groupings, 217 from 3, 215
# from 2; the CPU of 400 strokes 0.84x (random strokes) and 0.97x (rows of expressions) from 3 (2026-11-30)
PART_GROUPINGS = 3
ALTERNATIVES = 5  # readings a joined recognition offers, the first its own, as ``decode.alternatives`` gives them
_ENDS_IN_CONTROL_WORD = re.compile(r"\\[A-Za-z]+$")  # as ``latex.join_tokens`` reads a token


def cut_parts(strokes: Sequence, long_drawing: int = LONG_DRAWING, span_gap: float = SPAN_GAP,
              max_part: int = MAX_PART) -> list[list[list[int]]]:
    """The parts of ``strokes`` (each a (P, 2+) sequence of x, y points, y down) read one by one: lines top to bottom,
    each its parts left to right, each part the indices of its strokes in writing order. A drawing of at most
    ``long_drawing`` strokes is one part holding every stroke; empty strokes are left out of a cut drawing's parts.
    ``max_part`` must be at least 1."""
    if max_part < 1:
        raise ValueError(f"a part holds at least one stroke, not max_part={max_part}")
    if len(strokes) <= long_drawing:
        return [[list(range(len(strokes)))]]
    arrays = ink.as_strokes(strokes)
    kept = [i for i, s in enumerate(arrays) if len(s)]
    if not kept:
        return [[list(range(len(strokes)))]]
    unit = ink.symbol_size([arrays[i] for i in kept]) or 1.0
    return [_line_parts(arrays, members, span_gap * unit, max_part) for members in cut_lines(arrays, PART_LINE_GAP)]


def _line_parts(arrays: list[np.ndarray], members: list[int], span_gap: float, max_part: int) -> list[list[int]]:
    """The parts of one line (``members``: its strokes), left to right."""
    x0 = np.array([arrays[i][:, 0].min() for i in members])
    x1 = np.array([arrays[i][:, 0].max() for i in members])
    order = np.argsort(x0, kind="stable")
    # gaps[k]: clear paper between the strokes before position k (in left-edge order) and the one at k
    gaps = x0[order][1:] - np.maximum.accumulate(x1[order])[:-1]
    cuts = [0] + [k + 1 for k in np.flatnonzero(gaps >= span_gap)] + [len(members)]
    cuts = _narrowed(cuts, gaps, max_part)
    ordered = [members[k] for k in order]
    return [sorted(ordered[a:b]) for a, b in zip(cuts, cuts[1:])]


def _narrowed(cuts: list[int], gaps: np.ndarray, max_part: int) -> list[int]:
    """``cuts`` (sorted positions, the first 0 and the last the count) with more cuts, at the widest gaps first, until
    no part between two cuts holds more than ``max_part`` positions."""
    if all(b - a <= max_part for a, b in zip(cuts, cuts[1:])):
        return cuts
    cuts = list(cuts)
    for k in np.argsort(-gaps, kind="stable"):
        at = int(k) + 1  # the cut before position k + 1
        j = bisect.bisect_left(cuts, at)
        if cuts[j] == at or cuts[j] - cuts[j - 1] <= max_part:
            continue
        cuts.insert(j, at)
    return cuts


def shifted(node: Node, offset: int) -> Node:
    """A copy of the tree under ``node`` whose symbol sources (indices into its reading's symbols) are ``offset``
    further on: a part's tree in the joined reading's symbols."""
    kind = type(node)
    values = []
    for name in node_fields(kind):
        v = getattr(node, name)
        if isinstance(v, Node):
            v = shifted(v, offset)
        elif isinstance(v, list):
            v = [shifted(n, offset) for n in v]
        elif name == "source" and v is not None:
            v = v + offset
        values.append(v)
    return kind(*values)


def joined_tree(lines: list[list[Node]], offsets: list[list[int]]) -> Node:
    """One tree of the parts' trees: each line's parts side by side (their rows' items in one ``Row``), the lines one
    under another (``Lines``; one line is its own tree). ``offsets``: where each part's symbols start in the joined
    symbols."""
    rows = []
    for trees, starts in zip(lines, offsets):
        items: list[Node] = []
        for tree, start in zip(trees, starts):
            tree = shifted(tree, start)
            items += tree.items if isinstance(tree, Row) else [tree]
        rows.append(items[0] if len(items) == 1 else Row(items))
    return rows[0] if len(rows) == 1 else Lines(rows)


def joined_latex(lines: list[list[str]]) -> str:
    """The LaTeX of the joined tree from its parts' LaTeX (as ``latex.to_latex`` writes a ``Row`` of their tokens:
    a space only after a control word such as ``\\alpha``, before anything but a brace or a script), lines joined by
    `` \\\\ ``."""
    rows = []
    for parts in lines:
        text = ""
        for latex in parts:
            if text and latex and _ENDS_IN_CONTROL_WORD.search(text) and latex[0] not in "{}[]_^()":
                text += " "
            text += latex
        rows.append(text)
    return f" {LINE_BREAK} ".join(rows)


def _in_drawing(symbols: list[SymbolHyp], members: list[int]) -> list[SymbolHyp]:
    """A part's symbols with their strokes named by their indices in the drawing (``members``: the part's strokes)."""
    return [replace(h, strokes=[members[k] for k in h.strokes]) for h in symbols]


def joined(recs: list[list], lines: list[list[list[int]]]):
    """One recognition of the parts' recognitions ``recs`` (``lines``: each part's strokes in the drawing, as
    ``cut_parts`` gives them), of the parts' class: the joined tree (``joined_tree``), its LaTeX and MathML, the parts'
    symbols and tokens one after another, the confidence the product of the parts' (each is a probability of its
    part read right), and up to 5 alternatives (``_joined_alternatives``). The answer is left empty."""
    offsets, symbols, tokens = [], [], []
    for line_recs, line in zip(recs, lines):
        starts = []
        for rec, members in zip(line_recs, line):
            starts.append(len(symbols))
            symbols += _in_drawing(rec.symbols, members)
            tokens += list(rec.tokens)
        offsets.append(starts)
    tree = joined_tree([[r.tree for r in line_recs] for line_recs in recs], offsets)
    confidence = float(np.prod([r.confidence for line_recs in recs for r in line_recs]))
    latex = to_latex(tree)
    first = {"latex": latex, "confidence": confidence, "tokens": tokens, "symbols": symbols}
    alts = [first] + _joined_alternatives(recs, lines, offsets, first, ALTERNATIVES - 1)
    return replace(recs[0][0], latex=latex, mathml=to_mathml(tree), answer={}, symbols=symbols, tree=tree,
                   tokens=tokens, confidence=confidence, alternatives=alts)


def _joined_alternatives(recs: list[list], lines: list[list[list[int]]], offsets: list[list[int]], first: dict,
                         limit: int) -> list[dict]:
    """The ``limit`` most probable readings after ``first`` (the parts' first readings joined) that read one part
    otherwise: that part's alternative with the other parts' first readings, its confidence the product of theirs."""
    confidences = [r.confidence for line_recs in recs for r in line_recs]
    zeros = sum(c <= 0 for c in confidences)
    product = float(np.prod([c for c in confidences if c > 0]))  # of the parts read with some confidence
    found = []  # (confidence, line, part, alternative)
    for li, line_recs in enumerate(recs):
        for pi, rec in enumerate(line_recs):
            # the product of the other parts' confidences
            others = (product / rec.confidence if zeros == 0 else 0.0) if rec.confidence > 0 else \
                (product if zeros == 1 else 0.0)
            found += [(others * float(a["confidence"]), li, pi, a) for a in rec.alternatives[1:]]
    out = []
    for confidence, li, pi, alt in heapq.nlargest(limit, found, key=lambda t: t[0]):
        rec = recs[li][pi]
        start, end = offsets[li][pi], offsets[li][pi] + len(rec.symbols)
        texts = [[r.latex for r in line_recs] for line_recs in recs]
        texts[li][pi] = alt["latex"]
        own = rec.symbols if alt.get("symbols") is None else alt["symbols"]
        out.append({"latex": joined_latex(texts), "confidence": confidence,
                    "tokens": first["tokens"][:start] + list(alt.get("tokens", [])) + first["tokens"][end:],
                    "symbols": first["symbols"][:start] + _in_drawing(own, lines[li][pi]) + first["symbols"][end:]})
    return out


def corrected(recs: list[list], lines: list[list[list[int]]], corrections: dict, read) -> list[list]:
    """``recs`` with each part that holds a corrected symbol (``corrections``: {index in the joined symbols: token})
    read again by ``read(members, {index in the part: token})``. ``InkmathError`` when an index names no symbol."""
    fixed = {int(k): str(tok) for k, tok in corrections.items()}
    check_correction_indices(fixed, sum(len(r.symbols) for line_recs in recs for r in line_recs))
    out, start = [], 0
    for line_recs, line in zip(recs, lines):
        row = []
        for rec, members in zip(line_recs, line):
            n = len(rec.symbols)
            own = {k - start: tok for k, tok in fixed.items() if start <= k < start + n}
            row.append(read(members, own) if own else rec)
            start += n
        out.append(row)
    return out
