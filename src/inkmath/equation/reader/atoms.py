"""Symbol grouping, the first stage of reading a layout: segmented symbols become *atoms* (a box, a token, the
hypothesis it came from, its readings), and atoms that are parts of one symbol are merged: letters spelling a
function name (``s i n`` -> ``\\sin``), three dots (``\\ldots``), a relation written in two pieces (``\\geq``, ``=``,
``\\pm``, ``\\rightarrow``), the foot of a ``1``. ``split_lines`` then groups the atoms into lines when the ink forms
separate horizontal bands (a system of equations).
"""

from __future__ import annotations

from dataclasses import dataclass

from inkmath.equation.core.tokens import BAR_TOKENS, DOTTED_NAMES, FUNCTION_NAMES, MARKS, RELATIONS, ASCENDER_LETTERS
from inkmath.equation.core.tree import Box, Candidate, read_for_sure
from inkmath.sizes import row_height

# shapes the classifier gives for the letters of a function name written fast ('c 0 5' for 'cos')
NAME_LOOKALIKES = {"c": ("(", "C"), "o": ("0", "O"), "s": ("5", "S"), "i": ("1", "|", "j"), "n": ("h", "r"),
                   "l": ("1", "|"), "t": ("+", "f"), "a": ("\\alpha",), "g": ("9", "q"), "m": ("n",), "e": ("l",)}
# the stem of an 'i' written short, read as a mark: it is an 'i' in a name when the i's dot lies over it
I_STEMS = MARKS
# the 'li' of 'lim' written joined up reads as one of these letters
LI_JOINED = {"h", "k", "u", "b"}
NAMES_WITH_I = DOTTED_NAMES

# The merges' geometry, set by hand with the merge that reads it; each group names what switching that merge off
# reads on validation (2026-11-27, docs/decisions/layout-choice.md: strokes 1,041 and WAP-like 902 of 1,504
# with every merge), so the thresholds stand as long as their merge pays.
ATOM_GEOMETRY = {
    # letters of a function name (``merge_function_names``, off: strokes 1,026) follow on one line: overlapping
    # by this share of the smaller height, at most this many of the larger heights apart
    "name_overlap": 0.45, "name_gap": 0.9,
    # the dot of a joined-up 'li' of 'lim': smaller than this share of the 'm''s height, left of this share of its
    # width, ending above this share of its height
    "li_dot_size": 0.8, "li_dot_x": 0.25, "li_dot_y": 0.25,
    # the dot of a name read whole, written apart: smaller than this share of the name's height, within this
    # share of it above and below the name's top
    "name_dot_size": 0.3, "name_dot_reach": 0.5,
    # the dot of an 'i' over its stem: smaller than this share of the i's height, within this share of it beside
    # the stem, ending this share below the stem's top
    "i_dot_size": 0.8, "i_dot_beside": 0.5, "i_dot_below": 0.25,
    # three dots into an ellipsis (``merge_dots``, off: WAP-like 896): centres under this many row heights apart,
    # level within this share of the row height
    "ellipsis_step": 1.2, "ellipsis_level": 0.25,
    # a relation in two pieces (``merge_relation_parts``, off: WAP-like 898): a bar under a '>' or '<' shorter
    # than this many of its sizes, overlapping it by this share, centred this share of its height lower and
    # starting within this share under it, is '\geq' / '\leq'
    "under_length": 1.5, "under_overlap": 0.5, "under_drop": 0.25, "under_reach": 0.6,
    # a bar left of a '>' shorter than this many of its heights (or half rows), ending within this share of its
    # width of its start, level within this share of its height, is '\rightarrow'
    "shaft_length": 4.0, "shaft_min_h": 0.5, "shaft_end": 0.3, "shaft_level": 0.35,
    # two stacked pieces overlap by this share of the shorter, neither this many times the other's size; bars
    # within this share of the longer apart are '=', a '+' over a bar within this share of its height '\pm'
    "stack_overlap": 0.6, "stack_ratio": 1.5, "equals_gap": 0.6, "pm_gap": 0.4,
    # a bar is this many times wider than tall
    "bar_aspect": 2.0,
    # lines (``split_lines``): a band starts this share of the row height below the last one's bottom, and each
    # line spans at least this share of the expression's width
    "line_gap": 0.15, "line_width": 0.25,
}
A_G = ATOM_GEOMETRY


@dataclass
class _Atom:
    box: Box
    token: str
    source: int
    cands: list[Candidate]


def _has(cands: list[Candidate], token: str, min_prob: float = 0.02) -> bool:
    return any(c.token == token and c.prob >= min_prob for c in cands[:5])


def _prob(cands: list[Candidate], token: str) -> float:
    return max((c.prob for c in cands[:5] if c.token == token), default=0.0)


def _best_reading(cands: list[Candidate], accept, min_prob: float = 0.05) -> str | None:
    """The likeliest candidate token that ``accept(token)`` allows, read at ``min_prob`` or more (None if none is)."""
    best = max((c for c in cands if accept(c.token) and c.prob >= min_prob), key=lambda c: c.prob, default=None)
    return best.token if best is not None else None


def _sure(a: _Atom) -> bool:
    """Is ``a`` read for sure (``tree.read_for_sure``)? It then stands for its own token only, not its other
    candidates (a correction keeps them for the JSON), as the tree passes (``tree_passes``) leave such a symbol
    alone."""
    return read_for_sure(a.cands)


def _first_letters(a: _Atom) -> set[str]:
    """The letters ``a`` can start a function name with: those ``reads(a, letter)`` of ``merge_function_names``
    accepts with no letter before (its token, a candidate read at 0.02 or more, a token that looks like the letter;
    its token alone when ``a`` is read for sure)."""
    if _sure(a):
        return {a.token}
    out = {c.token for c in a.cands[:5] if c.prob >= 0.02}
    out.add(a.token)
    out.update(_LOOKALIKE_OF.get(a.token, ()))
    return out


_LOOKALIKE_OF: dict[str, set[str]] = {}  # a shape -> the letters it stands for in a name (NAME_LOOKALIKES reversed)
for _letter, _shapes in NAME_LOOKALIKES.items():
    for _shape in _shapes:
        _LOOKALIKE_OF.setdefault(_shape, set()).add(_letter)


def _same_line(a: Box, b: Box, size: float = 0.0) -> bool:
    ov = min(a.y1, b.y1) - max(a.y0, b.y0)
    return ov > A_G["name_overlap"] * min(a.h, b.h) and (b.x0 - a.x1) < A_G["name_gap"] * max(a.h, b.h, size, 1e-9)


class _NameSpeller:
    """The atoms of one line read for the letters of function names: which atom comes next on the line, which reads
    as a letter, and which spell a name, with the atoms already taken (``used``)."""

    def __init__(self, atoms: list[_Atom]):
        self.atoms = atoms
        self.order = sorted(range(len(atoms)), key=lambda i: atoms[i].box.x0)
        self.used: set[int] = set()
        self.nexts: dict[tuple, int | None] = {}  # next_on_line's answers while ``used`` stays as it is

    def take(self, ks) -> None:
        self.used.update(ks)
        self.nexts.clear()

    def reads(self, a: _Atom, ch: str, prev: tuple[_Atom, str] | None = None) -> bool:
        if _sure(a):  # a symbol read for sure is only itself ('+ a n' of true symbols is no '\\tan')
            return a.token == ch
        if a.token == ch or _has(a.cands, ch):
            return True
        if ch == "i" and prev is not None and (a.token in I_STEMS or any(_has(a.cands, t, 0.1) for t in I_STEMS)):
            if _dot_over(self.atoms, a, self.used, _stem_size(a, *prev)) is not None:
                return True
        return a.token in NAME_LOOKALIKES.get(ch, ())

    def next_on_line(self, prev: int, skip: int | None = None, size: float = 0.0) -> int | None:
        key = (prev, skip, size)
        if key in self.nexts:
            return self.nexts[key]
        atoms, p = self.atoms, self.atoms[prev].box
        self.nexts[key] = None
        for j in self.order:
            if j not in self.used and j != prev and j != skip and atoms[j].box.x0 > p.x0 and _same_line(
                    p, atoms[j].box, size):
                self.nexts[key] = j
                break
        return self.nexts[key]

    def joined_li(self, i: int) -> list[int] | None:
        """'li' written joined up (read 'h', 'k', 'u' with '\\lim' among the alternatives), the i's dot apart, then an
        'm': the atoms of a '\\lim'."""
        atoms, a = self.atoms, self.atoms[i]
        if a.token not in LI_JOINED or _sure(a) or not _has(a.cands, "\\lim"):
            return None
        j = self.next_on_line(i)
        if j is not None and atoms[j].token in DOT_MARKS:
            j = self.next_on_line(i, skip=j)
        if j is None or atoms[j].token != "m":
            return None
        m = atoms[j].box
        dots = [d for d, b in enumerate(atoms) if d not in self.used and b.token in DOT_MARKS
                and max(b.box.w, b.box.h) < A_G["li_dot_size"] * m.h
                and a.box.cx < b.box.cx < m.x0 + A_G["li_dot_x"] * m.w
                and a.box.y0 <= b.box.y0 and b.box.y1 <= m.y0 + A_G["li_dot_y"] * m.h]
        return [i, j, max(dots, key=lambda d: atoms[d].box.y1)] if dots else None

    def spelled(self, i: int, name: str) -> list[int] | None:
        """The atoms from ``i`` along the line that spell ``name`` well enough (all but one letter best readings, or
        for longer names all but two among the alternatives), or None."""
        atoms, seq = self.atoms, [i]
        for k, ch in enumerate(name[1:]):
            prev = (atoms[seq[-1]], name[k])
            # after a short i stem, the next letter is as far as from a whole 'i'
            size = _stem_size(atoms[seq[-1]], atoms[seq[-2]], name[k - 1]) if name[k] == "i" and k else 0.0
            j = self.next_on_line(seq[-1], size=size)
            if ch == "i" and j is not None and atoms[j].token in DOT_MARKS and not self.reads(atoms[j], ch, prev):
                j = self.next_on_line(seq[-1], skip=j)  # the dot of the 'i' starts left of its stem: the stem is next
            if j is None or j in seq or not self.reads(atoms[j], ch, prev):
                break
            seq.append(j)
        if len(seq) < len(name):
            return None
        exact = sum(atoms[s].token == c for s, c in zip(seq, name))
        if exact >= len(name) - 1 or (len(name) >= 3 and sum(
                atoms[s].token == c or _has(atoms[s].cands, c) for s, c in zip(seq, name)) >= len(name) - 2):
            return seq
        return None

    def name_atom(self, seq: list[int], name: str) -> _Atom:
        """The atom of ``name`` spelled by ``seq`` (taken), with the dot of its 'i' when read apart as a mark."""
        atoms = self.atoms
        box = atoms[seq[0]].box
        for s in seq[1:]:
            box = box.union(atoms[s].box)
        self.take(seq)
        if "i" in name:  # the dot of its 'i', read apart as a mark ('5 1 n' and a '-' over the '1')
            k = name.index("i")
            stem = atoms[seq[k]]
            dot = _dot_over(atoms, stem, self.used, _stem_size(stem, atoms[seq[k - 1]], name[k - 1]))
            if dot is not None:
                self.take([dot])
                box = box.union(atoms[dot].box)
        return _Atom(box, FUNCTION_NAMES[name], atoms[seq[0]].source, [])


def merge_function_names(atoms: list[_Atom]) -> list[_Atom]:
    """Letters spelling a function name, side by side on one line, become one atom (``\\sin``, ``\\lim``...).

    A letter counts when it is the classifier's best reading or among its alternatives, or a shape it is confused
    with (``NAME_LOOKALIKES``, an i's stem read as a mark) unless the symbol is read for sure (``_sure``); all but one
    letter must be best readings, so that a lone ambiguous shape does not turn into a function.
    """
    speller = _NameSpeller(atoms)
    out: list[_Atom] = []
    names = sorted(FUNCTION_NAMES, key=len, reverse=True)
    for i in speller.order:
        if i in speller.used:
            continue
        li = speller.joined_li(i)
        if li is not None:
            speller.take(li)
            box = atoms[li[0]].box.union(atoms[li[1]].box).union(atoms[li[2]].box)
            out.append(_Atom(box, "\\lim", atoms[i].source, []))
            continue
        starts = _first_letters(atoms[i])
        for name in names:
            if name[0] not in starts:  # not reads(atoms[i], name[0])
                continue
            seq = speller.spelled(i, name)
            if seq is not None:
                out.append(speller.name_atom(seq, name))
                break
        if i not in speller.used:
            out.append(atoms[i])
    _attach_name_dots(out)
    return out


def _attach_name_dots(out: list[_Atom]) -> None:
    """The dot of the 'i' of a name read whole (a joined-up '\\sin' or '\\lim'), written apart: part of the name."""
    for a in [o for o in out if o.token in NAMES_WITH_I]:
        b = a.box
        marks = [o for o in out if o is not a and o.token in DOT_MARKS
                 and max(o.box.w, o.box.h) < A_G["name_dot_size"] * b.h
                 and b.x0 < o.box.cx < b.x1 and b.y0 - A_G["name_dot_reach"] * b.h <= o.box.y0
                 and o.box.y1 <= b.y0 + A_G["name_dot_reach"] * b.h]
        if marks:
            dot = max(marks, key=lambda o: o.box.y1)
            out.remove(dot)
            a.box = b.union(dot.box)


def _stem_size(stem: _Atom, prev: _Atom, letter: str) -> float:
    """The height that measures the 'i' of a name, whose stem may be short (read as a mark, ``I_STEMS``) and whose dot
    may be a dash as wide as the stem is tall: the letter before it (``letter`` of the name), half of it when that
    letter has an ascender ('l' of 'lim'), or the stem when taller."""
    return max(stem.box.h, prev.box.h * (0.5 if letter in ASCENDER_LETTERS else 1.0))


def _dot_over(atoms: list[_Atom], stem: _Atom, used: set[int], size: float | None = None) -> int | None:
    """The mark just over the stem of an 'i' (a dot, or a dot drawn as a short dash or tick), if any; ``size``: the
    height that measures the i (its stem's by default)."""
    b = stem.box
    h = b.h if size is None else size
    near = [j for j, a in enumerate(atoms) if j not in used and a is not stem and a.token in DOT_MARKS
            and max(a.box.w, a.box.h) < A_G["i_dot_size"] * h
            and b.x0 - A_G["i_dot_beside"] * h <= a.box.cx <= b.x1 + A_G["i_dot_beside"] * h
            and b.y0 - h <= a.box.y0 and a.box.y1 <= b.y0 + A_G["i_dot_below"] * h]
    return max(near, key=lambda j: atoms[j].box.y1, default=None)


DOT_MARKS = {".", "-", ",", "\\prime", "\\cdot"}


def merge_dots(atoms: list[_Atom], row_h: float) -> list[_Atom]:
    """Three dots in a row, close together at one height, are an ellipsis (``\\ldots``). Dots read for sure join too:
    CROHME labels an ellipsis dot by dot (146 training truths with ``\\cdots``), so the merge keeps what each is."""
    dots = sorted((i for i, a in enumerate(atoms) if a.token in {".", "\\cdot"}), key=lambda i: atoms[i].box.x0)
    used: set[int] = set()
    merged: list[_Atom] = []
    for k in range(len(dots) - 2):
        trio = dots[k:k + 3]
        if used & set(trio):
            continue
        b = [atoms[i].box for i in trio]
        close = all(0 <= b[m + 1].cx - b[m].cx < A_G["ellipsis_step"] * row_h for m in range(2))
        level = max(x.cy for x in b) - min(x.cy for x in b) < A_G["ellipsis_level"] * row_h
        between = [a for j, a in enumerate(atoms) if j not in trio and b[0].x1 < a.box.cx < b[2].x0
                   and a.box.y0 < max(x.y1 for x in b) and a.box.y1 > min(x.y0 for x in b)]
        if close and level and not between:
            used.update(trio)
            merged.append(_Atom(b[0].union(b[1]).union(b[2]), "\\ldots", atoms[trio[0]].source, []))
    return [a for i, a in enumerate(atoms) if i not in used] + merged


GREATER, LESS = {">", "\\gt"}, {"<", "\\lt"}


def merge_relation_parts(atoms: list[_Atom], row_h: float) -> list[_Atom]:
    """A relation written in two strokes that segmentation left apart: a '>' or '<' with a short bar under it is
    '\\geq' or '\\leq'; a bar with a '>' at its right end, level with it, is '\\rightarrow'. A bar never stands
    just before a relation in the CROHME truths (training or validation). Validation, recognised symbols: strokes
    840 -> 845 (5 gained, none lost), WAP-like 712 -> 714 (2 / 0); true symbols unchanged (none are so split).
    Then two short bars one over the other, alike in length, with nothing between them, are '='; a '+' over a short
    bar is '\\pm' (strokes 862 -> 863, WAP-like 730 -> 731, none lost; true symbols unchanged)."""
    used: set[int] = set()
    merged: list[_Atom] = []
    bars = [i for i, a in enumerate(atoms) if a.token == "-" and not _sure(a)]  # a part read for sure stays whole

    def relation_token(a: _Atom, g: Box, m: Box, i: int, j: int) -> str | None:
        overlap = min(g.x1, m.x1) - max(g.x0, m.x0)
        # not a fraction bar: short against the '>'
        under = (m.w < A_G["under_length"] * max(g.w, g.h) and overlap > A_G["under_overlap"] * min(g.w, m.w)
                 and m.cy > g.cy + A_G["under_drop"] * g.h and m.y0 < g.y1 + A_G["under_reach"] * g.h)
        shaft = (a.token in GREATER and m.w < A_G["shaft_length"] * max(g.h, A_G["shaft_min_h"] * row_h)
                 and m.x0 < g.x0 and g.x0 - A_G["shaft_end"] * g.w < m.x1 < g.x1 + A_G["shaft_end"] * g.w
                 and abs(m.cy - g.cy) < A_G["shaft_level"] * g.h)
        if under:
            return "\\geq" if a.token in GREATER else "\\leq"
        return "\\rightarrow" if shaft else None

    def stacked_token(a: _Atom, t: Box, m: Box, i: int, j: int) -> str | None:
        overlap = min(t.x1, m.x1) - max(t.x0, m.x0)
        if (overlap < A_G["stack_overlap"] * min(t.w, m.w) or m.cy <= t.cy
                or m.w > A_G["stack_ratio"] * max(t.w, t.h) or t.w > A_G["stack_ratio"] * m.w):
            return None
        if a.token == "-" and m.y0 - t.y1 < A_G["equals_gap"] * max(t.w, m.w) and \
                not any(k not in (i, j) and t.cy < b.box.cy < m.cy and b.box.x0 < m.x1 and b.box.x1 > m.x0
                        for k, b in enumerate(atoms)):
            return "="
        if a.token == "+" and m.y0 - t.y1 < A_G["pm_gap"] * t.h:
            return "\\pm"
        return None

    # relations first, then stacked bars, each atom and bar in one merge at most
    for tokens, token_of in ((GREATER | LESS, relation_token), ({"-", "+"}, stacked_token)):
        for i, a in enumerate(atoms):
            if a.token not in tokens or _sure(a):
                continue
            for j in bars:
                if j == i or j in used or i in used:
                    continue
                token = token_of(a, a.box, atoms[j].box, i, j)
                if token is not None:
                    used.update((i, j))
                    merged.append(_Atom(a.box.union(atoms[j].box), token, min(a.source, atoms[j].source), []))
    return [a for k, a in enumerate(atoms) if k not in used] + merged


ROW_FLAT = frozenset({"-", ".", ",", "\\ldots", "=", "\\prime"})  # marks and bars: no measure of a row's height


def _row_height(atoms: list[_Atom]) -> float:
    return row_height([a.box.h for a in atoms], [max(a.box.w, a.box.h) for a in atoms], [a.token for a in atoms],
                      ROW_FLAT)


BAR_ROW_WIDTH = 0.4  # a bar is wider than this share of the row height (with ``layout_rules._LineLayout._is_bar``)


def _is_bar(a: _Atom, row_h: float) -> bool:
    return _bar_shaped(a) and a.box.w > BAR_ROW_WIDTH * row_h


def _bar_shaped(a: _Atom) -> bool:
    """What ``_is_bar`` asks of an atom whatever the row height: a bar's token (or a reading as one) and shape."""
    return (a.token in BAR_TOKENS or _has(a.cands, "-", 0.1)) and a.box.w > A_G["bar_aspect"] * max(a.box.h, 1e-9)


def split_lines(atoms: list[_Atom], row_h: float) -> list[list[int]]:
    """Indices grouped into lines when the ink forms separate horizontal bands, else one group.

    A band boundary is a vertical gap no symbol crosses. Bands joined by a fraction bar (a bar whose ink above and
    below belongs to different bands) are not lines but a fraction, and the limits under an operator are not a line
    either, so each line must hold a relation ('=', '<', ...) and at least two symbols.
    """
    order = sorted(range(len(atoms)), key=lambda i: atoms[i].box.y0)
    bands: list[list[int]] = []
    bottom = None
    for i in order:
        b = atoms[i].box
        if bottom is None or b.y0 > bottom + A_G["line_gap"] * row_h:
            bands.append([i])
            bottom = b.y1
        else:
            bands[-1].append(i)
            bottom = max(bottom, b.y1)
    if len(bands) < 2:
        return [list(range(len(atoms)))]
    x0 = min(a.box.x0 for a in atoms)
    x1 = max(a.box.x1 for a in atoms)
    for band in bands:
        toks = {atoms[i].token for i in band}
        bx0 = min(atoms[i].box.x0 for i in band)
        bx1 = max(atoms[i].box.x1 for i in band)
        relational = bool(toks & (RELATIONS - {"\\in"}))
        if len(band) < 2 or not relational or (bx1 - bx0) < A_G["line_width"] * (x1 - x0):
            return [list(range(len(atoms)))]
        if all(_is_bar(atoms[i], row_h) for i in band):
            return [list(range(len(atoms)))]
    for i in range(len(atoms)):  # a bar with ink close over and under it is a fraction: one line, not two
        if not _is_bar(atoms[i], row_h):
            continue
        bar = atoms[i].box
        over = under = False
        for j, a in enumerate(atoms):
            if j == i or not (bar.x0 <= a.box.cx <= bar.x1):
                continue
            over |= a.box.cy < bar.cy and bar.y0 - a.box.y1 < row_h
            under |= a.box.cy > bar.cy and a.box.y0 - bar.y1 < row_h
        if over and under:
            return [list(range(len(atoms)))]
    return bands
