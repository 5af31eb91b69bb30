"""2-D layout parsing: segmented symbols (``SymbolHyp``) -> expression tree (``tree.Node``).

Why rules and not a learnt grammar: the layout of handwritten school maths is mostly decided by a few geometric
facts (a bar with ink above and below is a fraction, ink inside a root's box is its body, a smaller symbol whose
centre sits above the base symbol's core is a superscript) and rules are cheap and inspectable. Where they are
weakest, telling a script from the next symbol on the baseline, a small learnt model (``layout_model``) checks
them: read from their true symbols, the rules alone got 80 % of the 2011-2013 test expressions right, with the model
(and the fraction rules learnt alongside it) 88 %.
The parser works in stages, each a plain function:

1. pick a token for every symbol from its top-k candidates (context fixes ``x``/``\\times``, ``0``/``o``, ...);
2. merge letters spelling a function name (``s i n`` -> ``\\sin``);
3. split the page into lines when the ink forms separate horizontal bands (a system of equations);
4. per region, build *units*: fractions (widest bar first, so nested fractions come out right), square roots with
   their index, big operators with stacked limits; each unit is parsed recursively;
5. read the units left to right along a baseline, attaching super- and subscripts to the last baseline unit
   (``relation``: the rules, overridden by the learnt model where it is sure).

Vertical geometry depends on the symbol: a digit's "core" (where the baseline row sits) is its lower part only
relative to a letter like ``x``; ``y`` hangs below the baseline. ``_core`` encodes that per token class.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from statistics import median

from inkmath.equation.layout_model import RELATIONS_OUT, load_relation_model, relation_features
from inkmath.equation.tree import (
    BigOp, Box, Candidate, Frac, Lines, Node, Row, Sqrt, Sub, SubSup, Sup, Symbol, SymbolHyp,
)

from inkmath.equation.tokens import (  # the token roles (re-exported: the parser's users read them here)
    ASCENDER_LETTERS, BAR_TOKENS, BIG_OPS, BINARY, CAPITALS, CLOSE_BRACKETS, DESCENDER_LETTERS, DIGITS, DOTTED_NAMES,
    FUNCTION_NAMES, FUNCTION_TOKENS, LETTERS, MARKS, OPEN_BRACKETS, OPERATORS, RELATIONS, TALL,
)

# shapes the classifier gives for the letters of a function name written fast ('c 0 5' for 'cos')
NAME_LOOKALIKES = {"c": ("(", "C"), "o": ("0", "O"), "s": ("5", "S"), "i": ("1", "|", "j"), "n": ("h", "r"),
                   "l": ("1", "|"), "t": ("+", "f"), "a": ("\\alpha",), "g": ("9", "q"), "m": ("n",), "e": ("l",)}
# the stem of an 'i' written short, read as a mark: it is an 'i' in a name when the i's dot lies over it
I_STEMS = MARKS
# the 'li' of 'lim' written joined up reads as one of these letters
LI_JOINED = {"h", "k", "u", "b"}
NAMES_WITH_I = DOTTED_NAMES
NO_BASE = BINARY | OPEN_BRACKETS  # what a prime cannot follow


# thresholds of ``relation`` (fractions of the base's core height / the row height); tuned on CROHME training
# expressions with the true segmentation (see parse_tune in the report); sub_tall 0.1 -> 0.2 and band 0.5 -> 0.4 then
# chosen on the recognised 2011-2013 test expressions (+0.5 and +0.3 points ExpRate). A later coordinate search over
# all of them (steps of 0.05, 2 rounds, strokes and WAP-like validation together) found +20 / +15 expressions, but
# the same search run on one half of the validation gained 16 there and -1 on the other half: noise, not kept.
LAYOUT = {"sup": 0.2, "sup_tall": 0.3, "sup_rise": -0.2, "sub": 0.25, "sub_tall": 0.2, "sub_drop": -0.2,
          "sub_top": 0.4, "small": 1.3, "band": 0.4, "band_h": 0.75, "cont_level": 0.5, "cont_band": 0.4,
          # where an ascender's / descender's core starts or ends and its centre sits (fractions of its height)
          "asc_core": 0.4, "desc_core": 0.4, "asc_centre": 0.65, "desc_centre": 0.35,
          # a base flatter than this (of the row height) is judged against a row-high band; a symbol this much
          # taller than the base's core starts a new baseline; a superscript ends above this much of the core
          "flat": 0.4, "new_base": 1.3, "sup_bottom": 0.75,
          # a script goes on with a unit at most this far (row heights) and this tall (of the previous unit)
          "cont_near": 0.6, "cont_size": 1.2}


@dataclass
class Unit:
    """A symbol or an already-parsed structure (fraction, root, operator with limits) placed on the page."""

    box: Box
    node: Node
    token: str | None = None  # leaf symbols only
    kind: str = "sym"  # "sym" | "frac" | "sqrt" | "bigop"
    axis: float | None = None  # y of a fraction bar: the row's axis runs through it
    members: list[int] = field(default_factory=list)  # atom indices it covers
    prob: float = 1.0  # leaf symbols: the classifier's odds for the reading (1.0 when set by a rule or a correction)


@dataclass
class _Atom:
    box: Box
    token: str
    source: int
    cands: list[Candidate]


# ---------------------------------------------------------------------------------------------------------- tokens


def _core(u: Unit, row_h: float) -> tuple[float, float]:
    """(top, bottom) of the part of a unit that sits on the baseline band; scripts are judged against it."""
    b = u.box
    if u.kind == "frac" and u.axis is not None:
        return u.axis - 0.5 * row_h, u.axis + 0.5 * row_h
    if u.kind == "sqrt":
        return b.y0 + 0.15 * b.h, b.y1
    t = u.token or ""
    if t in ASCENDER_LETTERS:
        return b.y0 + LAYOUT["asc_core"] * b.h, b.y1
    if t in DESCENDER_LETTERS:
        return b.y0, b.y1 - LAYOUT["desc_core"] * b.h
    # a name's letters: its x-height band, without the 'l' above and the 'g' below (the 'a' of '\\log_a' hung inside the
    # box of 'log'). With the relation model trained again on it: validation from true symbols 1,321 -> 1,326 of
    # 1,504, recognised strokes 838 -> 840 (4 gained, 2 lost), WAP-like 708 -> 712 (4 / 0); training from true
    # symbols 7,688 -> 7,697 of 8,834 (46 gained, 37 lost: a new model answers a few other questions otherwise)
    if t in FUNCTION_TOKENS:
        name = t.lstrip("\\")
        asc = any(ch in ASCENDER_LETTERS or ch == "i" for ch in name)
        a = LAYOUT["asc_core"] / (1 - LAYOUT["asc_core"]) if asc else 0.0
        d = LAYOUT["desc_core"] / (1 - LAYOUT["desc_core"]) if any(ch in DESCENDER_LETTERS for ch in name) else 0.0
        return b.y0 + a / (1 + a + d) * b.h, b.y1 - d / (1 + a + d) * b.h
    return b.y0, b.y1


def _centre(u: Unit, row_h: float) -> float:
    """Vertical reference of a unit that might be a script: the centre of its core (a 'y' is judged by its bowl)."""
    if u.kind == "frac" and u.axis is not None:
        return u.axis
    t = u.token or ""
    b = u.box
    if t in ASCENDER_LETTERS:
        return b.y0 + LAYOUT["asc_centre"] * b.h
    if t in DESCENDER_LETTERS:
        return b.y0 + LAYOUT["desc_centre"] * b.h
    return b.cy


SURE_DIGIT = 0.8


# the learnt relation model (``layout_model``, trained on the CROHME training set only) overrides the rules when it
# is at least this sure of another answer. On the 2011-2013 validation, against the rules alone, the first model
# (one member, 919c129): read from the true symbols, 80.05 -> 85.84 % of expressions right; from the symbols
# recognised (segmented once and kept), strokes 63 gained / 14 lost, WAP-like renderings 41 / 12. In trials with
# an earlier feature set, 0.0, 0.6, 0.75 and 0.9 gave about the same net (+46 to +48 strokes, +26 to +30 WAP-like),
# fewer losses the higher; keeping the rules for symbols read below 0.5 or 0.8 gained nothing
RELATION_MODEL_PROB = 0.6


def relation(base: Unit, u: Unit, row_h: float, band_mid: float | None = None) -> str:
    """'right' (same baseline), 'sup' or 'sub' of ``u`` relative to ``base``: the rules (``rule_relation``), unless
    the learnt model (``layout_model``) is surer of another answer."""
    rule = rule_relation(base, u, row_h, band_mid)
    p = load_relation_model().probs(relation_features(base, u, row_h, band_mid, rule))
    k = int(p.argmax())
    return RELATIONS_OUT[k] if p[k] >= RELATION_MODEL_PROB else rule


def rule_relation(base: Unit, u: Unit, row_h: float, band_mid: float | None = None) -> str:
    """'right' (same baseline), 'sup' or 'sub' of ``u`` relative to ``base``, by geometric rules.

    ``band_mid`` is the y of the row's baseline band (median centre of the units read on it so far): an operator
    or a full-size symbol sitting on that band stays on the row whatever the previous symbol looks like.
    """
    bt = base.token or ""
    if base.kind == "sym" and (bt in OPERATORS or bt in OPEN_BRACKETS):
        return "right"
    ut = u.token or ""
    ct, cb = _core(base, row_h)
    ch = max(cb - ct, 0.25 * row_h)
    if base.kind == "sym" and base.box.h < LAYOUT["flat"] * row_h:  # a flat or tiny base: judge against a row-high band
        mid = (ct + cb) / 2
        ct, cb, ch = mid - 0.5 * row_h, mid + 0.5 * row_h, row_h
    c = _centre(u, row_h)
    # a digit overlapping the base's core by a sliver only is an exponent or index written large, not a new base
    sliver = 0.25 * ch if ut in DIGITS else 0.0
    if u.kind == "sym" and u.box.h > LAYOUT["new_base"] * ch and u.box.y0 < cb - sliver and u.box.y1 > ct + sliver:
        return "right"  # much taller than the base and overlapping it: a new baseline symbol
    if ut in {".", ",", "\\ldots"}:
        return "sup" if u.box.y1 < ct + 0.3 * ch else "right"
    if ut == "\\prime":
        return "sup" if c < ct + 0.5 * ch else "right"
    if ut in FUNCTION_TOKENS and u.box.y1 > ct + 0.3 * ch:
        return "right"  # x \\cos y: a function name starts a new term
    if ut in RELATIONS and base.kind != "bigop":
        return "right"  # x_{i=1} is rare; 'S_n =' with a low '=' is common
    if ut in OPEN_BRACKETS and (u.box.h > 0.7 * base.box.h or bt in FUNCTION_TOKENS):
        return "right"  # brackets inside scripts are small; a function's bracket holds its argument: lim (1 + x)
    on_band = band_mid is not None and abs(c - band_mid) < LAYOUT["band"] * row_h
    if ut in OPERATORS:
        if on_band:
            return "right"
        if u.box.y1 < ct + 0.3 * ch:
            return "sup"
        if u.box.y0 > cb - 0.3 * ch:
            return "sub"
        return "right"
    if on_band and u.box.h > LAYOUT["band_h"] * row_h:
        return "right"
    if (ut in DIGITS and u.prob >= SURE_DIGIT and base.kind == "sym" and bt.isalpha() and u.box.h < 0.6 * ch
            and not ct + 0.3 * ch < c < cb - 0.35 * ch):
        # a digit, surely read, half the height of the letter before it is a script (digits are as tall as
        # capitals): below the letter's middle an index ('S_2' with the '2' on the baseline), in its top third or
        # above an exponent ('y^2' with the 2 no higher than the y)
        return "sub" if c > cb - 0.35 * ch else "sup"
    P = LAYOUT
    tall = bt in TALL or base.kind in {"sqrt", "bigop"} or bt in CLOSE_BRACKETS
    t_sup = P["sup_tall"] if tall else P["sup"]
    # an ascender or descender letter is measured by its core ('k' and 'j' as indices are tall for their size)
    ut0, ut1 = _core(u, row_h) if u.kind == "sym" else (u.box.y0, u.box.y1)
    small = ut1 - ut0 < P["small"] * base.box.h or u.kind != "sym"
    uh = u.box.h
    if (c < ct + t_sup * ch and u.box.y1 < ct + P["sup_bottom"] * ch and u.box.y0 < ct - P["sup_rise"] * uh
            and (small or c < ct)):
        return "sup"
    t_sub = P["sub_tall"] if tall else P["sub"]
    if (c > cb - t_sub * ch and ut0 > ct + P["sub_top"] * ch and u.box.y1 > cb + P["sub_drop"] * uh
            and (small or c > cb)):
        return "sub"
    return "right"


def _choose_token(h: SymbolHyp) -> str:
    return h.candidates[0].token if h.candidates else "?"


def _has(cands: list[Candidate], token: str, min_prob: float = 0.02) -> bool:
    return any(c.token == token and c.prob >= min_prob for c in cands[:5])


# ---------------------------------------------------------------------------------------------------- letter merge


def _same_line(a: Box, b: Box, size: float = 0.0) -> bool:
    ov = min(a.y1, b.y1) - max(a.y0, b.y0)
    return ov > 0.45 * min(a.h, b.h) and (b.x0 - a.x1) < 0.9 * max(a.h, b.h, size, 1e-9)


def merge_function_names(atoms: list[_Atom]) -> list[_Atom]:
    """Letters spelling a function name, side by side on one line, become one atom (``\\sin``, ``\\lim``...).

    A letter counts when it is the classifier's best reading or among its alternatives; all but one letter must be
    best readings, so that a lone ambiguous shape does not turn into a function.
    """
    order = sorted(range(len(atoms)), key=lambda i: atoms[i].box.x0)
    used: set[int] = set()
    out: list[_Atom] = []
    names = sorted(FUNCTION_NAMES, key=len, reverse=True)

    def reads(a: _Atom, ch: str, prev: tuple[_Atom, str] | None = None) -> bool:
        if ch == "i" and prev is not None and (a.token in I_STEMS or any(_has(a.cands, t, 0.1) for t in I_STEMS)):
            if _dot_over(atoms, a, used, _stem_size(a, *prev)) is not None:
                return True
        return a.token == ch or _has(a.cands, ch) or a.token in NAME_LOOKALIKES.get(ch, ())

    def next_on_line(prev: int, skip: int | None = None, size: float = 0.0) -> int | None:
        p = atoms[prev].box
        for j in order:
            if j not in used and j != prev and j != skip and atoms[j].box.x0 > p.x0 and _same_line(p, atoms[j].box,
                                                                                                   size):
                return j
        return None

    def joined_li(i: int) -> list[int] | None:
        """'li' written joined up (read 'h', 'k', 'u' with '\\lim' among the alternatives), the i's dot apart, then an
        'm': the atoms of a '\\lim'."""
        a = atoms[i]
        if a.token not in LI_JOINED or not _has(a.cands, "\\lim"):
            return None
        j = next_on_line(i)
        if j is not None and atoms[j].token in DOT_MARKS:
            j = next_on_line(i, skip=j)
        if j is None or atoms[j].token != "m":
            return None
        m = atoms[j].box
        dots = [d for d, b in enumerate(atoms) if d not in used and b.token in DOT_MARKS
                and max(b.box.w, b.box.h) < 0.8 * m.h and a.box.cx < b.box.cx < m.x0 + 0.25 * m.w
                and a.box.y0 <= b.box.y0 and b.box.y1 <= m.y0 + 0.25 * m.h]
        return [i, j, max(dots, key=lambda d: atoms[d].box.y1)] if dots else None

    for i in order:
        if i in used:
            continue
        li = joined_li(i)
        if li is not None:
            used.update(li)
            box = atoms[li[0]].box.union(atoms[li[1]].box).union(atoms[li[2]].box)
            out.append(_Atom(box, "\\lim", atoms[i].source, []))
            continue
        for name in names:
            if not reads(atoms[i], name[0]):
                continue
            seq = [i]
            for k, ch in enumerate(name[1:]):
                prev = (atoms[seq[-1]], name[k])
                # after a short i stem, the next letter is as far as from a whole 'i'
                size = _stem_size(atoms[seq[-1]], atoms[seq[-2]], name[k - 1]) if name[k] == "i" and k else 0.0
                j = next_on_line(seq[-1], size=size)
                if ch == "i" and j is not None and atoms[j].token in DOT_MARKS and not reads(atoms[j], ch, prev):
                    j = next_on_line(seq[-1], skip=j)  # the dot of the 'i' starts left of its stem: the stem is next
                if j is None or j in seq or not reads(atoms[j], ch, prev):
                    break
                seq.append(j)
            exact = sum(atoms[s].token == c for s, c in zip(seq, name))
            alike = sum(atoms[s].token == c or _has(atoms[s].cands, c) for s, c in zip(seq, name))
            if len(seq) == len(name) and (exact >= len(name) - 1 or (len(name) >= 3 and alike >= len(name) - 2)):
                box = atoms[seq[0]].box
                for s in seq[1:]:
                    box = box.union(atoms[s].box)
                used.update(seq)
                if "i" in name:  # the dot of its 'i', read apart as a mark ('5 1 n' and a '-' over the '1')
                    k = name.index("i")
                    stem = atoms[seq[k]]
                    dot = _dot_over(atoms, stem, used, _stem_size(stem, atoms[seq[k - 1]], name[k - 1]))
                    if dot is not None:
                        used.add(dot)
                        box = box.union(atoms[dot].box)
                out.append(_Atom(box, FUNCTION_NAMES[name], atoms[seq[0]].source, []))
                break
        if i not in used:
            out.append(atoms[i])
    # the dot of the 'i' of a name read whole (a joined-up '\\sin' or '\\lim'), written apart: part of the name
    for a in [o for o in out if o.token in NAMES_WITH_I]:
        b = a.box
        marks = [o for o in out if o is not a and o.token in DOT_MARKS and max(o.box.w, o.box.h) < 0.3 * b.h
                 and b.x0 < o.box.cx < b.x1 and b.y0 - 0.5 * b.h <= o.box.y0 and o.box.y1 <= b.y0 + 0.5 * b.h]
        if marks:
            dot = max(marks, key=lambda o: o.box.y1)
            out.remove(dot)
            a.box = b.union(dot.box)
    return out


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
            and max(a.box.w, a.box.h) < 0.8 * h and b.x0 - 0.5 * h <= a.box.cx <= b.x1 + 0.5 * h
            and b.y0 - h <= a.box.y0 and a.box.y1 <= b.y0 + 0.25 * h]
    return max(near, key=lambda j: atoms[j].box.y1, default=None)


DOT_MARKS = {".", "-", ",", "\\prime", "\\cdot"}


def merge_dots(atoms: list[_Atom], row_h: float) -> list[_Atom]:
    """Three dots in a row, close together at one height, are an ellipsis (``\\ldots``)."""
    dots = sorted((i for i, a in enumerate(atoms) if a.token in {".", "\\cdot"}), key=lambda i: atoms[i].box.x0)
    used: set[int] = set()
    merged: list[_Atom] = []
    for k in range(len(dots) - 2):
        trio = dots[k:k + 3]
        if used & set(trio):
            continue
        b = [atoms[i].box for i in trio]
        close = all(0 <= b[m + 1].cx - b[m].cx < 1.2 * row_h for m in range(2))
        level = max(x.cy for x in b) - min(x.cy for x in b) < 0.25 * row_h
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
    bars = [i for i, a in enumerate(atoms) if a.token == "-"]

    def relation_token(a: _Atom, g: Box, m: Box, i: int, j: int) -> str | None:
        overlap = min(g.x1, m.x1) - max(g.x0, m.x0)
        # not a fraction bar: short against the '>'
        under = m.w < 1.5 * max(g.w, g.h) and overlap > 0.5 * min(g.w, m.w) and m.cy > g.cy + 0.25 * g.h and \
            m.y0 < g.y1 + 0.6 * g.h
        shaft = a.token in GREATER and m.w < 4 * max(g.h, 0.5 * row_h) and m.x0 < g.x0 and \
            g.x0 - 0.3 * g.w < m.x1 < g.x1 + 0.3 * g.w and abs(m.cy - g.cy) < 0.35 * g.h
        if under:
            return "\\geq" if a.token in GREATER else "\\leq"
        return "\\rightarrow" if shaft else None

    def stacked_token(a: _Atom, t: Box, m: Box, i: int, j: int) -> str | None:
        overlap = min(t.x1, m.x1) - max(t.x0, m.x0)
        if overlap < 0.6 * min(t.w, m.w) or m.cy <= t.cy or m.w > 1.5 * max(t.w, t.h) or t.w > 1.5 * m.w:
            return None
        if a.token == "-" and m.y0 - t.y1 < 0.6 * max(t.w, m.w) and \
                not any(k not in (i, j) and t.cy < b.box.cy < m.cy and b.box.x0 < m.x1 and b.box.x1 > m.x0
                        for k, b in enumerate(atoms)):
            return "="
        if a.token == "+" and m.y0 - t.y1 < 0.4 * t.h:
            return "\\pm"
        return None

    # relations first, then stacked bars, each atom and bar in one merge at most
    for tokens, token_of in ((GREATER | LESS, relation_token), ({"-", "+"}, stacked_token)):
        for i, a in enumerate(atoms):
            if a.token not in tokens:
                continue
            for j in bars:
                if j == i or j in used or i in used:
                    continue
                token = token_of(a, a.box, atoms[j].box, i, j)
                if token is not None:
                    used.update((i, j))
                    merged.append(_Atom(a.box.union(atoms[j].box), token, min(a.source, atoms[j].source), []))
    return [a for k, a in enumerate(atoms) if k not in used] + merged


def merge_feet(atoms: list[_Atom], row_h: float) -> list[_Atom]:
    """A short bar across the foot of a '1', with nothing under it, is the '1''s base stroke (many European hands
    write one) that segmentation left apart: 'n = 1' read 'n = 1 -'. Validation, recognised symbols: strokes
    845 -> 847 (2 gained, none lost), WAP-like 714 -> 716 (2 / 0); true symbols unchanged (a bar with a
    denominator under it stays a fraction bar: without that test, four '\\frac{1}{...}' of the training were lost)."""
    drop: set[int] = set()
    for j, m in enumerate(atoms):
        mb = m.box
        if m.token != "-":
            continue
        for o in atoms:
            ob = o.box
            overlap = min(mb.x1, ob.x1) - max(mb.x0, ob.x0)
            if o.token != "1" or not (overlap > 0.3 * mb.w and mb.w < 2 * ob.h and
                                      ob.y1 - 0.1 * ob.h < mb.cy < ob.y1 + 0.3 * ob.h):
                continue
            if any(a is not m and a.box.x0 < mb.x1 and a.box.x1 > mb.x0 and a.box.cy > mb.cy
                   and a.box.y0 < mb.y1 + 2 * max(ob.h, row_h)
                   for a in atoms):
                continue  # a fraction bar under a numerator '1'
            o.box = ob.union(mb)
            drop.add(j)
            break
    return [a for k, a in enumerate(atoms) if k not in drop]


# -------------------------------------------------------------------------------------------------------- regions


def _row_height(atoms: list[_Atom]) -> float:
    hs = [a.box.h for a in atoms if a.token not in {"-", ".", ",", "\\ldots", "=", "\\prime"}]
    if not hs:
        hs = [max(a.box.w, a.box.h) for a in atoms]
    return max(median(hs), 1e-6)


def _is_bar(a: _Atom, row_h: float) -> bool:
    if not (a.token in BAR_TOKENS or _has(a.cands, "-", 0.1)):
        return False
    return a.box.w > 2.0 * max(a.box.h, 1e-9) and a.box.w > 0.4 * row_h


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
        if bottom is None or b.y0 > bottom + 0.15 * row_h:
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
        if len(band) < 2 or not relational or (bx1 - bx0) < 0.25 * (x1 - x0):
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


class _Parser:
    def __init__(self, atoms: list[_Atom]):
        self.atoms = atoms
        self.row_h = _row_height(atoms)

    def region(self, idx: list[int]) -> Node | None:
        if not idx:
            return None
        units = self.units(list(idx))
        return self.row(units)

    # structures ------------------------------------------------------------------------------------------------
    def units(self, idx: list[int]) -> list[Unit]:
        A = self.atoms
        rh = _row_height([A[i] for i in idx]) if len(idx) > 2 else self.row_h
        remaining = set(idx)
        units: list[Unit] = []
        # the limits under and over a big operator: a fraction bar's slack past its ends does not take them
        limits = {j for i in idx if A[i].token in BIG_OPS for part in self._stacked_limits(i, remaining) for j in part}
        while True:
            # atom -> (kind, its two parts: above and below a bar, a root's body and index)
            cands: dict[int, tuple[str, tuple[list[int], list[int]]]] = {}
            for i in remaining:
                a = A[i]
                if a.token == "\\sqrt":
                    cands[i] = ("sqrt", self._sqrt_parts(i, remaining))
                elif _is_bar(a, rh):
                    above, below = self._frac_parts(i, remaining, limits)
                    if above and below:
                        cands[i] = ("frac", (above, below))
            held = {i: set(first) | set(second) for i, (_, (first, second)) in cands.items()}
            # the widest structure first (nested fractions come out right), but not one that another holds: a root
            # wider than the fraction bar over it is in its denominator
            free = [i for i in cands if not any(i in held[j] and j not in held[i] for j in cands)]
            if not free:
                free = list(cands)
            if not free:
                break
            i = max(free, key=lambda j: A[j].box.w)
            kind, parts = cands[i]
            a = A[i]
            remaining.discard(i)
            if kind == "frac":
                above, below = parts
                remaining -= set(above) | set(below)
                members = [i, *above, *below]
                box = a.box
                for j in above + below:
                    box = box.union(A[j].box)
                node = Frac(self.region(above) or Row([]), self.region(below) or Row([]), source=a.source)
                units.append(Unit(box, node, None, "frac", a.box.cy, members))
            else:
                body, index = parts
                remaining -= set(body) | set(index)
                box = a.box
                for j in body + index:
                    box = box.union(A[j].box)
                node = Sqrt(self.region(body) or Row([]), self.region(index) if index else None, source=a.source)
                units.append(Unit(box, node, None, "sqrt", None, [i, *body, *index]))
        # big operators with stacked limits (limits written above/below rather than as scripts)
        for i in sorted(remaining, key=lambda i: -A[i].box.w):
            if i not in remaining or A[i].token not in BIG_OPS:
                continue
            a = A[i]
            lower, upper = self._stacked_limits(i, remaining)
            remaining.discard(i)
            remaining -= set(lower) | set(upper)
            box = a.box
            for j in lower + upper:
                box = box.union(A[j].box)
            node = BigOp(a.token, self.region(lower), self.region(upper), source=a.source)
            u = Unit(box, node, a.token, "bigop", None, [i, *lower, *upper])
            u.axis = a.box.cy
            units.append(u)
        units.extend(self._leaf(i) for i in remaining)
        return units

    def _frac_parts(self, i: int, remaining: set[int], limits: set[int] = frozenset()) -> tuple[list[int], list[int]]:
        """(numerator, denominator) of bar ``i``: the symbols over and under it (``_side_of_bar``). Not a big
        operator's limits, nor a relation ('x = \\frac{...}' with the '=' close to a long bar: a part never starts or
        ends with one; CROHME training read from true symbols 7,593 -> 7,612 of 8,834 right, the validation
        unchanged) unless they lie within the bar's ends."""
        bar = self.atoms[i].box
        above, below = [], []
        for j in remaining:
            if j == i:
                continue
            b = self.atoms[j].box
            if (j in limits or self.atoms[j].token in RELATIONS) and not bar.x0 <= b.cx <= bar.x1:
                continue
            side = self._side_of_bar(bar, b)
            if side == "above":
                above.append(j)
            elif side == "below":
                below.append(j)
        for group, over in ((above, True), (below, False)):
            self._take_scripts(group, over, bar, i, remaining, above, below)
        return above, below

    def _side_of_bar(self, bar: Box, b: Box) -> str | None:
        """'above' or 'below' for a symbol over or under bar ``bar``, its centre within the bar's ends give or take
        8 % of its width; None otherwise."""
        slack = 0.08 * bar.w
        if not bar.x0 - slack <= b.cx <= bar.x1 + slack:
            return None
        if b.cy < bar.cy and b.y1 < bar.y1 + 0.3 * self.row_h:
            return "above"
        if b.cy > bar.cy and b.y0 > bar.y0 - 0.3 * self.row_h:
            return "below"
        return None

    def _take_scripts(self, group: list[int], over: bool, bar: Box, i: int, remaining: set[int], *taken) -> None:
        """What a numerator or denominator writes past the bar's end, wholly on its side of the bar, belongs to it
        too: an exponent of its last symbol (the '2' of 'n^2' over a shorter bar), or a symbol level with that one that
        is no operator and lies under or over no other bar (the last 'x' of 'x^2 + x'). Read from their true symbols,
        the CROHME training expressions: 7,525 right before, 7,542 with exponents, 7,571 with level symbols too
        (indices as well took the 'd' of 'dx' into a fraction in an exponent on the validation; operators the '- t' of
        'cos(x/2 - t)' into the x/2, and symbols under another bar the 'H' of a next fraction)."""
        A = self.atoms

        def past_end(last: int) -> list[int]:
            return [j for j in remaining if j != i and all(j not in t for t in taken) and A[j].box.x0 > bar.x1
                    and A[j].box.x0 - A[last].box.x1 < 0.5 * self.row_h
                    and (A[j].box.y1 < bar.cy if over else A[j].box.y0 > bar.cy)]

        def belongs(last: int, j: int) -> bool:
            rel = relation(self._leaf(last), self._leaf(j), self.row_h)
            lb, jb = A[last].box, A[j].box
            level = min(jb.y1, lb.y1) - max(jb.y0, lb.y0) > 0.5 * min(jb.h, lb.h) and A[j].token not in OPERATORS
            if rel == "right" and level:
                level = not any(k != i and _is_bar(A[k], self.row_h) and A[k].box.x0 <= jb.cx <= A[k].box.x1
                                for k in remaining)
            return rel == "sup" or (rel == "right" and level)

        self._grow(group, past_end, belongs)

    def _grow(self, part: list[int], past_end, belongs) -> None:
        """Add to ``part``, one at a time, the nearest (leftmost) of ``past_end(last)`` after its last symbol, while
        ``belongs(last, that one)``."""
        A = self.atoms
        while part:
            last = max(part, key=lambda k: A[k].box.x1)
            nxt = past_end(last)
            if not nxt:
                return
            j = min(nxt, key=lambda k: A[k].box.x0)
            if not belongs(last, j):
                return
            part.append(j)

    def _leaf(self, i: int) -> Unit:
        a = self.atoms[i]
        prob = _prob(a.cands, a.token) if a.cands else 1.0
        return Unit(a.box, Symbol(a.token, a.source), a.token, "sym", None, [i], prob)

    def _sqrt_parts(self, i: int, remaining: set[int]) -> tuple[list[int], list[int]]:
        r = self.atoms[i].box
        body, index = [], []
        for j in remaining:
            if j == i:
                continue
            b = self.atoms[j].box
            if (b.x1 > r.x0 and b.cx < r.x0 + min(0.4 * r.w, 0.45 * r.h) and r.y0 - 0.3 * r.h < b.y1 < r.y0 + 0.65 * r.h
                    and b.h < 0.6 * r.h):
                index.append(j)
            elif r.x0 + 0.1 * r.w <= b.cx <= r.x1 + 0.05 * r.w and r.y0 - 0.1 * r.h <= b.cy <= r.y1:
                body.append(j)
        if index and body and self._starts_body(index, body):
            body, index = body + index, []
        if not body:  # a short root sign whose bar stops before its body: take the symbol just after it
            after = [j for j in remaining if j != i and j not in index and r.x1 - 0.2 * r.w < self.atoms[j].box.x0
                     < r.x1 + 0.5 * r.h and r.y0 <= self.atoms[j].box.cy <= r.y1]
            if after:
                body.append(min(after, key=lambda j: self.atoms[j].box.x0))
        A = self.atoms
        self._hanging_denominators(i, body, index, remaining)
        # an exponent of the body's last symbol sticking out past the root's end, under the top of the sign, is in the
        # body ('z^2' of '\\sqrt{1 + z^2}' under a short sign): CROHME training read from true symbols 7,571 -> 7,579
        # right, the validation unchanged
        self._grow(body, lambda last: [
            j for j in remaining if j != i and j not in body and j not in index and A[j].box.cx > r.x1 + 0.05 * r.w
            and A[j].box.x0 - A[last].box.x1 < 0.5 * self.row_h and A[j].box.y0 > r.y0 and A[j].box.y1 < r.y1],
            lambda last, j: relation(self._leaf(last), self._leaf(j), self.row_h) == "sup")
        return body, index

    def _starts_body(self, index: list[int], body: list[int]) -> bool:
        """Is the would-be index in a tall sign's corner the body's first symbol: level with a body symbol that starts
        just after it ('a +' of '\\sqrt{a + \\frac{1}{...}}')? A true index sits higher ('\\sqrt[5]{55}'). CROHME
        training read from true symbols 7,667 -> 7,688 of 8,834 (21 gained, none lost; half the size of the centres'
        distance lost six '\\sqrt[5]{55}'); the validation, true and recognised symbols, unchanged."""
        A = self.atoms
        lb = A[max(index, key=lambda k: A[k].box.x1)].box
        for j in body:
            jb = A[j].box
            if -0.2 * self.row_h < jb.x0 - lb.x1 < 0.6 * self.row_h and \
                    abs(jb.cy - lb.cy) < 0.3 * max(jb.h, lb.h, 0.5 * self.row_h):
                return True
        return False

    def _hanging_denominators(self, i: int, body: list[int], index: list[int], remaining: set[int]) -> None:
        """A fraction in a root's body whose denominator hangs below the sign's foot ('\\sqrt{\\frac{m}{q}}' with a
        long 'q', '\\sqrt{\\frac{3z^2}{\\sqrt{4z}}}'): what lies under one of the body's bars, within its ends, is
        body too. CROHME training read from true symbols 7,639 -> 7,667 of 8,834 right (28 gained, none lost), the
        validation 1,320 -> 1,321; the recognised validation symbols read as before."""
        A = self.atoms
        grown = True
        while grown:
            grown = False
            for k in [k for k in body if _is_bar(A[k], self.row_h)]:
                for j in sorted(remaining - {i} - set(body) - set(index)):
                    if self._side_of_bar(A[k].box, A[j].box) == "below":
                        body.append(j)
                        grown = True

    def _stacked_limits(self, i: int, remaining: set[int]) -> tuple[list[int], list[int]]:
        op = self.atoms[i].box
        lower, upper = [], []
        for j in remaining:
            if j == i:
                continue
            b = self.atoms[j].box
            if not (op.x0 - 0.25 * op.w <= b.cx <= op.x1 + 0.25 * op.w):
                continue
            if b.cy > op.y1 and b.y0 > op.y1 - 0.2 * op.h:
                lower.append(j)
            elif b.cy < op.y0 and b.y1 < op.y0 + 0.2 * op.h:
                upper.append(j)
        # a limit is a small group right under/over the operator; keep only ink close to it
        lower = [j for j in lower if self.atoms[j].box.y0 < op.y1 + 1.5 * self.row_h]
        upper = [j for j in upper if self.atoms[j].box.y1 > op.y0 - 1.5 * self.row_h]
        # limits wider than the operator ('k=1' under a small sum, 'x -> +oo' under lim): grow each group
        # sideways with neighbours at its own height that are still clear of the operator's body
        for group, below in ((lower, True), (upper, False)):
            grown = True
            while group and grown:
                grown = False
                gy0 = min(self.atoms[j].box.y0 for j in group)
                gy1 = max(self.atoms[j].box.y1 for j in group)
                gx1 = max(self.atoms[j].box.x1 for j in group)
                for j in remaining:
                    if j == i or j in lower or j in upper:
                        continue
                    b = self.atoms[j].box
                    clear = b.y0 > op.y1 - 0.2 * op.h if below else b.y1 < op.y0 + 0.2 * op.h
                    if clear and gy0 - 0.2 * self.row_h <= b.cy <= gy1 + 0.2 * self.row_h and \
                            0 <= b.x0 - gx1 + 0.1 * self.row_h < 0.6 * self.row_h:
                        group.append(j)
                        grown = True
        return lower, upper

    # baseline ---------------------------------------------------------------------------------------------------
    def row(self, units: list[Unit]) -> Node:
        units = sorted(units, key=lambda u: (u.box.x0, u.box.cx))
        rh = self.row_h
        items: list[Node] = []
        centres: list[float] = []
        i = 0
        while i < len(units):
            base = units[i]
            i += 1
            sups: list[Unit] = []
            subs: list[Unit] = []
            centres.append(_centre(base, rh))
            band_mid = median(centres[-3:])  # local: handwritten baselines drift and slope
            last: tuple[str, Unit] | None = None
            while i < len(units):
                u = units[i]
                rel = relation(base, u, rh, band_mid)
                # 'n' '+' '1' of u_{n+1}: the script goes on at its own level; but a comma after an index is back on
                # the baseline ('p_1, ..., p_N'; in the CROHME training captions a comma follows an index 121 times and
                # stands inside one 43 times). Read from true symbols: training 7,579 -> 7,593 of 8,834 right,
                # validation 1,298 -> 1,303; the recognised validation symbols read as many right as before
                comma = last is not None and last[0] == "sub" and u.token == ","
                if rel == "right" and last is not None and not comma and self._continues(last[1], u, rh, band_mid):
                    rel = last[0]
                if rel == "right":
                    break
                last = (rel, u)
                (sups if rel == "sup" else subs).append(units[i])
                i += 1
            items.append(self._attach(base, subs, sups))
        if len(items) == 1:
            return items[0]
        return Row(items)

    @staticmethod
    def _continues(prev: Unit, u: Unit, rh: float, band_mid: float) -> bool:
        """Does ``u`` sit on the same line as the script unit ``prev`` (and not on the row's band)?"""
        if u.token in RELATIONS:
            return False
        c, pc = _centre(u, rh), _centre(prev, rh)
        near = u.box.x0 - prev.box.x1 < LAYOUT["cont_near"] * rh
        level = abs(c - pc) < LAYOUT["cont_level"] * max(prev.box.h, 0.3 * rh)
        off_band = abs(c - band_mid) > LAYOUT["cont_band"] * rh
        return near and level and off_band and u.box.h < LAYOUT["cont_size"] * max(prev.box.h, 0.5 * rh)

    def _attach(self, base: Unit, subs: list[Unit], sups: list[Unit]) -> Node:
        sub = self.row(subs) if subs else None
        sup = self.row(sups) if sups else None
        node = base.node
        if base.kind == "bigop" and isinstance(node, BigOp):
            if sub is not None and node.lower is None:
                node.lower, sub = sub, None
            if sup is not None and node.upper is None:
                node.upper, sup = sup, None
            if sub is None and sup is None:
                return node
        if sub is not None and sup is not None:
            return SubSup(node, sub, sup)
        if sup is not None:
            return Sup(node, sup)
        if sub is not None:
            return Sub(node, sub)
        return node


# ------------------------------------------------------------------------------------------- token disambiguation


CASE_PAIRS = {c: c.upper() for c in "cksuvwxyzo"} | {"p": "P", "q": "9"}
CASE_PAIRS |= {v: k for k, v in CASE_PAIRS.items()}
X_HEIGHT_LETTERS = set("aemnr") | {"\\alpha"}  # small letters without a capital look-alike
# a digit or capital measures a letter's case only on the letter's line: their heights overlap by LINE_OVERLAP of the
# smaller (any overlap let an exponent '2' make the 'c' under it a 'C'; 0.35 on the 2013 validation: strokes
# 49.47 -> 49.53 %, 4 gained, 3 lost; WAP-like renderings 39.49 -> 39.83 %, 6 gained, 1 lost; 0.25 and 0.5 less)
LINE_OVERLAP = 0.35


def _line_reference(atoms: list[_Atom], a: _Atom, loose: bool = False) -> tuple[float, float] | None:
    """(height of a capital, y of the baseline) from the digits and capitals near ``a`` on its line.

    ``loose``: without digits or capitals nearby, use any full-size symbol nearby (for small marks like ',')."""
    def close(b: _Atom) -> bool:
        reach = 6 * max(a.box.h, 0.5 * b.box.h, 1e-9)
        return b is not a and abs(b.box.cx - a.box.cx) < reach and b.box.y1 > a.box.y0 - b.box.h

    near = [b for b in atoms if close(b) and (b.token in DIGITS or b.token in set("ABCDEFGHIKLMNRTXZ"))
            and min(b.box.y1, a.box.y1) - max(b.box.y0, a.box.y0) > LINE_OVERLAP * min(a.box.h, b.box.h)]
    if not near and loose:
        near = [b for b in atoms if close(b) and b.token not in OPERATORS and b.token != "\\prime"
                and b.token not in DESCENDER_LETTERS]
    if not near:
        return None
    return median(b.box.h for b in near), median(b.box.y1 for b in near)


def _small_letters_beside(atoms: list[_Atom], a: _Atom) -> list[_Atom]:
    """The small letters without a capital form (``X_HEIGHT_LETTERS``) on ``a``'s line, at its height, up to 12 of
    their heights away: they give the line's x-height."""
    return [b for b in atoms if b is not a and b.token in X_HEIGHT_LETTERS
            and abs(b.box.cy - a.box.cy) < 0.5 * max(a.box.h, b.box.h)
            and abs(b.box.cx - a.box.cx) < 12 * max(a.box.h, b.box.h)]


def disambiguate_case(atoms: list[_Atom]) -> None:
    """Upper or lower case by size and position against the digits and capitals nearby (in place).

    The classifier sees one symbol alone and often cannot tell 'x' from 'X' or 'p' from 'P'; next to other
    symbols it is plain: a capital is as tall as a digit, a 'p' hangs below the baseline and a 'P' does not.
    Only readings among the classifier's alternatives are chosen.
    """
    for a in atoms:
        other = CASE_PAIRS.get(a.token)
        if other is None or not _has(a.cands, other, 0.03):
            continue
        lower, upper = (a.token, other) if a.token.islower() else (other, a.token)  # '9' plays 'Q' for 'q'
        if lower not in {"p", "y", "q"}:
            # small letters without a capital form on the line ('a', 'e', 'n'...) at the same height: their height
            # is the line's x-height, the surest measure of a small letter. Up to 12 of their heights away ('a' of
            # 'a x^2 + b x + c = 0' for the 'c'): 9 more expressions on the WAP-like validation, 6 net on strokes,
            # against 6 heights; 9 or 20 read within one expression of it
            xs = [b.box.h for b in _small_letters_beside(atoms, a)]
            if xs:
                xh = median(xs)
                if a.box.h < 1.25 * xh:
                    a.token = lower
                    continue
                if a.box.h > 1.6 * xh:
                    a.token = upper
                    continue
        ref = _line_reference(atoms, a)
        if ref is None:
            if lower in {"p", "q"}:
                # no digit or capital to measure against: a 'p' starts at the top of the small letters beside it, a
                # 'P' well above it ('P(r)'; not 'y', whose arms often rise above the small letters)
                xl = _small_letters_beside(atoms, a)
                if xl:
                    top, xh = median(b.box.y0 for b in xl), median(b.box.h for b in xl)
                    a.token = upper if a.box.y0 < top - 0.4 * xh else lower if a.box.y0 > top - 0.15 * xh else a.token
            continue
        cap_h, base_y = ref
        if lower in {"p", "y", "q"}:  # the descender decides: does the symbol hang below the baseline?
            a.token = lower if a.box.y1 > base_y + 0.2 * cap_h else upper
        elif a.box.h > 0.85 * cap_h:
            a.token = upper
        elif a.box.h < 0.7 * cap_h:
            a.token = lower


def pair_bars(atoms: list[_Atom]) -> None:
    """Bars come in pairs (in place).

    Two tall strokes read '1' with '|' as an alternative, enclosing other symbols at one height, are ``|x - a|``;
    one next to a bar with nothing between them is the second stroke of a ``||`` norm. A lone '|' with nothing to
    pair with on its line is most likely a '1'.
    """
    def barlike(a: _Atom) -> bool:
        return a.token == "|" or (a.token == "1" and _has(a.cands, "|", 0.03))

    bars = sorted((a for a in atoms if barlike(a)), key=lambda a: a.box.x0)
    for left, right in zip(bars, bars[1:]):
        if left.token == "|" and right.token == "|":
            continue
        level = min(left.box.y1, right.box.y1) - max(left.box.y0, right.box.y0) > 0.6 * min(left.box.h, right.box.h)
        similar = 0.7 < left.box.h / max(right.box.h, 1e-9) < 1.4
        if not (level and similar):
            continue
        top, bottom = min(left.box.y0, right.box.y0), max(left.box.y1, right.box.y1)
        inside = [a for a in atoms if a is not left and a is not right and left.box.x1 < a.box.cx < right.box.x0
                  and a.box.y1 > top and a.box.y0 < bottom]
        if not inside:
            if "|" in (left.token, right.token) and right.box.x0 - left.box.x1 < 0.5 * max(left.box.h, right.box.h):
                left.token = right.token = "|"
            continue
        if all(a.box.y0 > top - 0.2 * left.box.h for a in inside) and not any(a.token in DIGITS for a in inside[:1]):
            left.token = right.token = "|"
    for a in atoms:
        if a.token != "|" or not _has(a.cands, "1", 0.02):
            continue
        partners = [b for b in atoms if b is not a and b.token == "|"
                    and min(a.box.y1, b.box.y1) - max(a.box.y0, b.box.y0) > 0.3 * min(a.box.h, b.box.h)]
        if not partners:
            a.token = "1"


def _prob(cands: list[Candidate], token: str) -> float:
    return max((c.prob for c in cands[:5] if c.token == token), default=0.0)


def _best_reading(cands: list[Candidate], accept, min_prob: float = 0.05) -> str | None:
    """The likeliest candidate token that ``accept(token)`` allows, read at ``min_prob`` or more (None if none is)."""
    best = max((c for c in cands if accept(c.token) and c.prob >= min_prob), key=lambda c: c.prob, default=None)
    return best.token if best is not None else None


def balance_brackets(atoms: list[_Atom]) -> None:
    """More '(' than ')' (or the reverse): the surplus is most likely a '1' (or a ',') the classifier read as a
    bracket, so re-read the surplus brackets that have such an alternative, the most likely first (in place)."""
    for opener, closer in (("(", ")"), (")", "(")):
        surplus = sum(a.token == opener for a in atoms) - sum(a.token == closer for a in atoms)
        if surplus <= 0:
            continue
        options = []
        for a in atoms:
            if a.token != opener:
                continue
            alts = [("1", _prob(a.cands, "1"))]
            if opener == ")":
                ref = _line_reference(atoms, a, loose=True)
                if ref is not None and a.box.h < 0.6 * ref[0] and a.box.cy > ref[1] - 0.5 * ref[0]:
                    alts.append((",", _prob(a.cands, ",")))  # small and low: a comma
            tok, pr = max(alts, key=lambda t: t[1])
            if pr >= 0.02:
                options.append((pr, id(a), tok, a))
        for pr, _, tok, a in sorted(options, key=lambda o: -o[0])[:surplus]:
            a.token = tok
    # still more ')' than '(' (or the reverse): the missing bracket is most likely a '1' the classifier read for it, on
    # the side of the lone bracket where its partner would be ('V(f p) = N k T' read 'V f 1 p) = N k T'). Validation,
    # recognised symbols: strokes 852 -> 854 (2 gained, none lost), WAP-like 721 -> 725 (4 / 0); true symbols
    # unchanged
    for missing, lone, before in (("(", ")", True), (")", "(", False)):
        surplus = sum(a.token == lone for a in atoms) - sum(a.token == missing for a in atoms)
        if surplus <= 0:
            continue
        xs = [a.box.cx for a in atoms if a.token == lone]
        options = [(p, id(a), a) for a in atoms if a.token == "1" and (p := _prob(a.cands, missing)) >= 0.02
                   and (a.box.cx < max(xs) if before else a.box.cx > min(xs))]
        for _, _, a in sorted(options, key=lambda o: -o[0])[:surplus]:
            a.token = missing


def high_ticks(atoms: list[_Atom]) -> None:
    """A comma written high against the symbol on its left (above that symbol's middle) is a prime (in place)."""
    for a in atoms:
        if a.token != ",":
            continue
        left = [b for b in atoms if b is not a and b.box.cx < a.box.x0 + 0.2 * a.box.w
                and a.box.x0 - b.box.x1 < max(b.box.h, a.box.h) and b.token not in OPERATORS]
        if not left:
            continue
        b = max(left, key=lambda b: b.box.x1)
        if a.box.h < 0.8 * b.box.h and a.box.y1 < b.box.y0 + 0.5 * b.box.h:
            a.token = "\\prime"


# small letters that are not a cross themselves
SMALL_LETTERS = set("abcdefghijklmnopqrstuvwyz")
# in the CROHME training captions a cross between two small letters is a times sign 43 times and an 'x' 26 times, and
# between a small letter and a number a times sign 35 times and an 'x' never, while over all contexts 'x' is 7.5 times
# as common as '\\times' (the classifier learnt that prior): in those contexts a times sign wins unless the classifier
# is this many times surer of an 'x'
LETTERS_TIMES_ODDS = 12.0


def _holds_parts(atoms: list[_Atom], i: int) -> bool:
    """Is atom ``i`` a bar with symbols over and under it (a fraction bar, not an operator)?"""
    b = atoms[i].box
    if atoms[i].token != "-":
        return False
    inside = [a.box for a in atoms if a is not atoms[i] and b.x0 <= a.box.cx <= b.x1]
    return any(x.cy < b.cy for x in inside) and any(x.cy > b.cy for x in inside)


def disambiguate(atoms: list[_Atom]) -> None:
    """Re-pick tokens the classifier confuses, using their neighbours on the line (in place).

    ``x`` vs ``\\times``: a cross between two numbers is a times sign. ``0``/``o``/``O``: a round symbol next to
    digits is a zero. ``1``/``l``/``|``: a stroke next to digits is a one.
    """
    disambiguate_case(atoms)
    pair_bars(atoms)
    balance_brackets(atoms)
    high_ticks(atoms)
    order = sorted(range(len(atoms)), key=lambda i: atoms[i].box.x0)
    for k, i in enumerate(order):
        a = atoms[i]
        # a prime follows its base (the symbol before it by x): not an operator, an opening bracket or a fraction bar
        # (the '1' of '\\frac{1}{x}' is high and small against its line too). Validation, recognised symbols: strokes
        # 864 -> 869 (5 gained, none lost), WAP-like 732 -> 734 (2 / 0); true symbols unchanged. (The nearest symbol
        # to its left on its band, instead of the one before by x: strokes 867, one lost.)
        based = k > 0 and atoms[order[k - 1]].token not in NO_BASE and not _holds_parts(atoms, order[k - 1])
        if a.token in {",", "1", ")"} and _has(a.cands, "\\prime", 0.03) and based:
            ref = _line_reference(atoms, a, loose=True)
            if ref is not None and a.box.y1 < ref[1] - 0.5 * ref[0] and a.box.h < 0.7 * ref[0]:
                a.token = "\\prime"  # a small tick high on the line is a prime
        elif a.token == "\\prime" and not based and _has(a.cands, "1", 0.05):
            a.token = "1"
        elif a.token == "," and _has(a.cands, ")", 0.03):
            ref = _line_reference(atoms, a, loose=True)
            if ref is not None and a.box.h > 0.8 * ref[0]:
                a.token = ")"  # as tall as the letters: a bracket, not a comma
        left = atoms[order[k - 1]].token if k > 0 else None
        right = atoms[order[k + 1]].token if k + 1 < len(order) else None
        near_digits = (left in DIGITS) or (right in DIGITS)
        lb = atoms[order[k - 1]].box if k > 0 else None
        # (a '-' no wider than the mark may be one of the dots of an ellipsis read flat)
        if a.token in {",", "."} and left in BINARY and abs(a.box.cy - lb.cy) < 2 * max(lb.h, a.box.h) and \
                (left != "-" or lb.w > 1.5 * a.box.w) and not _holds_parts(atoms, order[k - 1]):
            # no CROHME truth has a comma or a dot right after an operator or a relation ('k = 1' read 'k = ,'): the
            # classifier's best digit, if it has one at 0.05 or more. Validation, recognised symbols: strokes
            # 850 -> 852 (2 gained, none lost), WAP-like 718 -> 721 (3 / 0)
            alt = _best_reading(a.cands, lambda t: t in DIGITS)
            if alt is not None:
                a.token = alt
                continue
        rb = atoms[order[k + 1]].box if k + 1 < len(order) else None
        if a.token == "+" and (right is None or (right in BINARY | CLOSE_BRACKETS | {"/"} and abs(
                rb.cy - a.box.cy) < 2 * max(rb.h, a.box.h) and not _holds_parts(atoms, order[k + 1]))):
            # no CROHME truth has a '+' last, or right before an operator or a closing bracket ('v t / 2' read
            # 'v + / 2'): the classifier's best letter or digit, if it has one at 0.05 or more. Validation, recognised
            # symbols: strokes 854 -> 855 (1 gained, none lost), WAP-like 725 -> 727 (2 / 0); true symbols unchanged
            alt = _best_reading(a.cands, lambda t: t in DIGITS or (len(t) == 1 and t.isalpha()))
            if alt is not None:
                a.token = alt
                continue
        # between a closing bracket and an opening one or a number, a cross is a product sign at any odds
        floor = 0.0 if left in CLOSE_BRACKETS and (right in OPEN_BRACKETS or right in DIGITS) else 0.05
        if a.token in {"x", "X", "\\times"} and (_has(a.cands, "\\times", floor) or a.token == "\\times"):
            # between two numbers or two capitals (A x B, 2 x (...)) a cross is a product sign, and between a capital
            # and a bracket (A x (B x C), (A - B) x C): 8 crosses on the 2013 validation, strokes and WAP-like, read
            # right and none wrong (token errors 3227 -> 3219 and 4900 -> 4894, ExpRates unchanged)
            numeric = lambda t: t in DIGITS or t in CLOSE_BRACKETS or t in CAPITALS  # noqa: E731
            # both operands straddle the cross's middle: a raised '2' after it ('2x^2') is an exponent, not a factor
            beside = lambda b: b.box.y0 < a.box.cy < b.box.y1  # noqa: E731
            # a capital pairs with a capital (not 2 x B), or with a bracket
            alike = (left in CAPITALS) == (right in CAPITALS) or left in CLOSE_BRACKETS or right in OPEN_BRACKETS
            # as tall as a third of its neighbours, brackets counted at half their height (they are taller than digits)
            size = lambda b: b.box.h * (0.5 if b.token in OPEN_BRACKETS | CLOSE_BRACKETS else 1.0)  # noqa: E731
            # a cross between two operands on the line, of a size to be an operator between them
            between = left is not None and right is not None and beside(atoms[order[k - 1]]) and beside(
                atoms[order[k + 1]]) and a.box.h > 0.3 * max(size(atoms[order[k - 1]]), size(atoms[order[k + 1]]))
            if between and numeric(left) and (right in DIGITS or right in OPEN_BRACKETS or right in CAPITALS) and alike:
                a.token = "\\times"
            elif between and left in SMALL_LETTERS and (right in SMALL_LETTERS - {"d"} or right in DIGITS) \
                    and LETTERS_TIMES_ODDS * _prob(a.cands, "\\times") > _prob(a.cands, "x"):
                # between two small letters, or a small letter and a number, on the line: a times sign unless the
                # classifier is much surer of an 'x' (see LETTERS_TIMES_ODDS); not before a 'd' ('z x dy')
                a.token = "\\times"
            elif a.token == "\\times" and _has(a.cands, "x", 0.05) and not (left in DIGITS and right in DIGITS):
                a.token = "x"
        elif a.token == "\\log" and _has(a.cands, "\\lim") and any(
                b is not a and b.box.cx < a.box.x0 + 0.5 * a.box.w and b.box.x1 > a.box.x0 - 0.25 * a.box.h
                and b.box.cy > a.box.y0 + 0.6 * a.box.h and b.box.y0 < a.box.y1 + 0.5 * a.box.h for b in atoms):
            a.token = "\\lim"  # its limit under its left half ('x -> a' joined to it): a log's base is right of it
        elif a.token == "0" and right == "(" and (left is None or left in BINARY - {"\\rightarrow"}) and \
                rb.y0 < a.box.cy < rb.y1 and _has(a.cands, "o", 0.02):
            # a round symbol first or after an operator, right before a bracket on its line, is Landau's 'o': the
            # training truths have 'o (' 14 times (first, after '+' or '='), '0 (' never. Validation, recognised
            # symbols: strokes 878 -> 880, WAP-like 739 -> 741, none lost (a limit's '0' before the bracket, below
            # the line or after an arrow, stays)
            a.token = "o"
        elif a.token == "q" and near_digits and _has(a.cands, "9", 0.02):
            a.token = "9"
        elif a.token in {"o", "O"} and near_digits and _has(a.cands, "0", 0.02):
            a.token = "0"
        elif a.token in {"l", "|"} and near_digits and _has(a.cands, "1", 0.02):
            a.token = "1"


def small_after_names(atoms: list[_Atom]) -> None:
    """A function name's argument is a small 'x', 'y' or 'z', not a capital (in place): the CROHME truths (training
    and validation) have '\\sin x', '\\cos y', '\\tan z' 343 times and a capital X, Y or Z after a name once (but
    '\\cos C' 105 times, so other letters keep their case). Validation, recognised symbols: strokes 855 -> 862 (7
    gained, none lost), WAP-like 727 -> 730 (3 / 0); true symbols unchanged."""
    if not any(a.token in {"X", "Y", "Z"} for a in atoms):
        return
    names = [m for m in merge_function_names([_Atom(a.box, a.token, a.source, a.cands) for a in atoms])
             if m.token in FUNCTION_TOKENS]
    for n in names:
        after = [a for a in atoms if a.box.x0 > n.box.x1 - 0.1 * n.box.h and _same_line(n.box, a.box)]
        if not after:
            continue
        a = min(after, key=lambda b: b.box.x0)
        if a.token in {"X", "Y", "Z"} and _has(a.cands, a.token.lower(), 0.03):
            a.token = a.token.lower()


def choose_tokens(hyps: list[SymbolHyp]) -> list[str]:
    """The reading of each symbol: the classifier's best, corrected by context (``disambiguate``)."""
    atoms = [_Atom(h.box, _choose_token(h), i, list(h.candidates)) for i, h in enumerate(hyps)]
    disambiguate(atoms)
    small_after_names(atoms)
    return [a.token for a in atoms]


def parse(hyps: list[SymbolHyp], tokens: list[str] | None = None) -> Node:
    """Expression tree for segmented symbols; ``tokens`` fixes the reading per symbol (else ``choose_tokens``)."""
    if not hyps:
        return Row([])
    if tokens is None:
        tokens = choose_tokens(hyps)
    elif len(tokens) != len(hyps):
        raise ValueError(f"{len(tokens)} tokens for {len(hyps)} symbols")
    atoms = [_Atom(h.box, tokens[i], i, list(h.candidates)) for i, h in enumerate(hyps)]
    atoms = merge_function_names(atoms)
    row_h = _row_height(atoms)
    atoms = merge_dots(atoms, row_h)
    atoms = merge_relation_parts(atoms, row_h)
    atoms = merge_feet(atoms, row_h)
    lines = split_lines(atoms, row_h)
    if len(lines) > 1:
        rows = []
        for line in lines:
            sub = [atoms[i] for i in line]
            rows.append(_Parser(sub).region(list(range(len(sub)))) or Row([]))
        tree: Node = Lines(rows)
    else:
        tree = _Parser(atoms).region(list(range(len(atoms)))) or Row([])
    return dotted_fractions(trailing_operators(drop_specks(lone_script_marks(tree, hyps), hyps)))


def _post_order(node: Node):
    """Every node of the tree under ``node`` (its dataclass fields), each after the nodes under it."""
    for f in fields(node):
        v = getattr(node, f.name)
        for n in (v if isinstance(v, list) else [v]):
            if isinstance(n, Node):
                yield from _post_order(n)
    yield node


SCRIPT_MARKS = {"-", ".", ","}


def _chosen(node: Node, hyps: list[SymbolHyp] | None) -> bool:
    """Is ``node`` a symbol the user chose (read at 1.0: a correction, or a true symbol)? The tree passes below
    leave such a symbol's reading and place alone."""
    return (hyps is not None and isinstance(node, Symbol) and node.source is not None
            and bool(hyps[node.source].candidates) and hyps[node.source].candidates[0].prob >= 1.0)


def lone_script_marks(node: Node, hyps: list[SymbolHyp]) -> Node:
    """A script that is one mark is read as something a script can be. No CROHME training truth has a lone '-', '.'
    or ',' as a script; 82 have a lone prime as a superscript, 674 a lone '1' as a subscript. So a lone mark as a
    superscript ('y^{.}', 'E^{-}': the classifier reads a prime's tick as '-' at 0.9) is a prime, and as a subscript
    ('X_{,}') it takes the classifier's likeliest reading that is not a mark or an operator, at 0.05 or more. A symbol
    read at 1.0 (a user's correction) keeps its reading (in place)."""
    for n in _post_order(node):
        if not isinstance(n, (Sup, Sub, SubSup)):
            continue
        for name in ("sup", "sub"):
            s = getattr(n, name, None)
            if not (isinstance(s, Symbol) and s.token in SCRIPT_MARKS and s.source is not None):
                continue
            cands = hyps[s.source].candidates
            if not cands or _chosen(s, hyps):
                continue
            if name == "sup":
                s.token = "\\prime"
            else:
                s.token = _best_reading(cands, lambda t: t not in SCRIPT_MARKS and t not in BINARY) or s.token
    return node


STRAY_DOTS = {".", "\\cdot"}


def _speck(items: list[Node], k: int) -> bool:
    """Is item ``k`` of a row a speck of ink read as a symbol? None of the 8,834 CROHME training truths has:

    - a dot beside an operator or a relation ('a + . b');
    - a minus right before an operator or a relation ('z - = x^2', 'x_c - + y');
    - a '-', '.' or ',' last in its row or right before a closing bracket ('(z -)', 'b^{2 -}', 'f(z .)');
    - a '.' first in its row or right after an opening bracket ('( . 2)').
    """
    def sym(n: int, tokens: set[str]) -> bool:
        return 0 <= n < len(items) and isinstance(items[n], Symbol) and items[n].token in tokens

    last = k == len(items) - 1 or sym(k + 1, CLOSE_BRACKETS)
    first = k == 0 or sym(k - 1, OPEN_BRACKETS)
    return (sym(k, STRAY_DOTS) and (sym(k - 1, BINARY) or sym(k + 1, BINARY))
            or sym(k, {"-"}) and sym(k + 1, BINARY)
            or sym(k, SCRIPT_MARKS) and last
            or sym(k, {"."}) and first)


def drop_specks(node: Node, hyps: list[SymbolHyp] | None = None) -> Node:
    """Drop specks of ink read as symbols from every row of the tree (``_speck``; in place), except a symbol the
    user chose (read at 1.0: a correction). Validation, recognised symbols: a dot next to an operator or relation,
    strokes 847 -> 850 (3 gained, none lost), WAP-like 716 -> 718 (2 / 0); a minus right before a relation,
    strokes 863 -> 864, WAP-like 731 -> 732; a mark last or before a closing bracket, a '.' first or after an
    opening one, a minus before an operator: strokes 871 -> 878 (7 / 0), WAP-like 736 -> 739 (3 / 0)."""
    for n in _post_order(node):
        if isinstance(n, Row):
            n.items = [m for k, m in enumerate(n.items) if _chosen(m, hyps) or not _speck(n.items, k)] or n.items
    return node


SCRIPTS = {Sub: ("sub",), Sup: ("sup",), SubSup: ("sub", "sup"), Sqrt: ("body",)}


def trailing_operators(node: Node) -> Node:
    """An operator or relation that ends a script or a root's body follows it instead ('i_{1 +} i_2' is
    'i_1 + i_2'; in place). None of the 8,834 training truths ends a group with one. Runs after ``drop_specks``,
    which drops a recognised trailing '-' (validation: a stray stroke more often than a misplaced minus); a minus
    the user chose, or a true symbol, is moved. Validation, recognised symbols: strokes 880 -> 881 (2 gained, 1
    lost: a truth that is itself '\\sqrt{x +} y'), WAP-like 741 (1 / 1); true symbols: training 7,698 -> 7,713 (15 /
    0), validation 1,319 -> 1,322 (4 / 1, the same truth)."""
    for n in _post_order(node):
        if not isinstance(n, Row):
            continue
        items = []
        for item in n.items:
            items.append(item)
            for name in SCRIPTS.get(type(item), ()):
                group = getattr(item, name)
                if isinstance(group, Row) and len(group.items) > 1 and isinstance(group.items[-1], Symbol) and \
                        group.items[-1].token in BINARY:
                    items.append(group.items.pop())
        n.items = items
    return node


DIV_DOTS = {".", "\\cdot", ","}


def _is_dot(n: Node) -> bool:
    if isinstance(n, Row) and len(n.items) == 1:
        n = n.items[0]
    return isinstance(n, Symbol) and n.token in DIV_DOTS


def dotted_fractions(node: Node) -> Node:
    """A fraction of one dot over one dot is a division sign ('\\frac{.}{.}' is '\\div'; in place, the sign's source
    the bar's). None of the 8,834 training truths has such a fraction; 106 of them have '\\div'. Validation,
    recognised symbols: strokes 881 -> 882 (1 gained, none lost)."""
    def div(n: Node) -> Node:
        if isinstance(n, Frac) and _is_dot(n.num) and _is_dot(n.den):
            return Symbol("\\div", n.source)
        return n

    for n in _post_order(node):
        for f in fields(n):
            v = getattr(n, f.name)
            if isinstance(v, list):
                setattr(n, f.name, [div(m) if isinstance(m, Node) else m for m in v])
            elif isinstance(v, Node):
                setattr(n, f.name, div(v))
    return div(node)
