"""The rule-based layout reader: the atoms of one line (``atoms``) -> expression tree (``tree.Node``).

Per region it builds *units*: fractions (widest bar first, so nested fractions come out right), square roots with
their index, big operators with stacked limits, each parsed recursively; then it reads the units left to right along
a baseline, attaching super- and subscripts to the last baseline unit (``relation``: the geometric rules of
``rule_relation``, overridden where it is sure by the learnt relation model of ``layout_model``).

Vertical geometry depends on the symbol: a digit's "core" (where the baseline row sits) is its lower part only
relative to a letter like ``x``; ``y`` hangs below the baseline. ``_core`` encodes that per token class.
Read from their true symbols, the rules alone get 77 % of the 2011-2013 test expressions right, with the relation
model 87 % (``benchmarks/layout_truth.py val --layout rules-alone,rules``, 2026-11-27); the reader's default layout
chooses among their trees and the structure model's (``layout_choice``).

    read_line = rule_layout()                   # rules + the shipped relation model
    read_line = rule_layout(relation_model=None)  # the rules alone
    tree = read_line(atoms)
"""

from __future__ import annotations

from typing import Callable

from inkmath.equation.reader.atoms import BAR_ROW_WIDTH, _Atom, _bar_shaped, _prob, _row_height
from inkmath.equation.reader.layout_geometry import G, LAYOUT, Unit
from inkmath.equation.reader.layout_geometry import centre as _centre
from inkmath.equation.reader.layout_geometry import core_band as _core
from inkmath.equation.reader.layout_model import RELATIONS_OUT, load_relation_model, relation_features
from inkmath.equation.core.tokens import (
    BIG_OPS, CLOSE_BRACKETS, DIGITS, OPEN_BRACKETS, OPERATORS, RELATIONS, TALL,
)
from inkmath.equation.core.tree import BigOp, Box, Frac, Node, Row, Sqrt, Symbol, copy_tree, with_scripts

# thresholds of ``relation`` (fractions of the base's core height / the row height); tuned on CROHME training
# expressions with the true segmentation (see parse_tune in the report); sub_tall 0.1 -> 0.2 and band 0.5 -> 0.4 then
# chosen on the recognised 2011-2013 test expressions (+0.5 and +0.3 points ExpRate). A later coordinate search over
# all of them (steps of 0.05, 2 rounds, strokes and WAP-like validation together) found +20 / +15 expressions, but
# the same search run on one half of the validation gained 16 there and -1 on the other half: noise, not kept.


SURE_DIGIT = 0.8


# the learnt relation model (``layout_model``, trained on the CROHME training set only) overrides the rules when it
# is at least this sure of another answer. On the 2011-2013 validation, against the rules alone, the first model
# (one member, 919c129): read from the true symbols, 80.05 -> 85.84 % of expressions right; from the symbols
# recognised (segmented once and kept), strokes 63 gained / 14 lost, WAP-like renderings 41 / 12. In trials with
# an earlier feature set, 0.0, 0.6, 0.75 and 0.9 gave about the same net (+46 to +48 strokes, +26 to +30 WAP-like),
# fewer losses the higher; keeping the rules for symbols read below 0.5 or 0.8 gained nothing
RELATION_MODEL_PROB = 0.6


Relation = Callable[..., str]  # (base, u, row_h, band_mid=None) -> 'right' | 'sup' | 'sub'
DEFAULT = object()  # the shipped relation model


RELATION_MEMO = 50_000  # answers a relation function keeps (about 10 MB); then it starts afresh


def _relation_key(base: Unit, u: Unit, row_h: float, band_mid: float | None) -> tuple:
    """Everything ``rule_relation`` and ``relation_features`` read of a question: the two units' kind, token, box
    and axis, the asked unit's odds, the row height and the band."""
    b, x = base.box, u.box
    return (base.kind, base.token, b.x0, b.y0, b.x1, b.y1, base.axis,
            u.kind, u.token, x.x0, x.y0, x.x1, x.y1, u.axis, u.prob, row_h, band_mid)


def model_relation(model) -> Relation:
    """'right' (same baseline), 'sup' or 'sub' of ``u`` relative to ``base``: the rules (``rule_relation``), unless
    the learnt ``model`` (``layout_model``) is at least ``RELATION_MODEL_PROB`` sure of another answer.

    The function remembers its answers: the readings of one input that the decoder parses share one
    (``parse.ParseMemo``), as most of their questions come back with the same units."""
    memo: dict[tuple, str] = {}

    def relation(base: Unit, u: Unit, row_h: float, band_mid: float | None = None) -> str:
        key = _relation_key(base, u, row_h, band_mid)
        out = memo.get(key)
        if out is None:
            rule = rule_relation(base, u, row_h, band_mid)
            p = model.probs(relation_features(base, u, row_h, band_mid, rule))
            k = int(p.argmax())
            out = RELATIONS_OUT[k] if p[k] >= RELATION_MODEL_PROB else rule
            if len(memo) >= RELATION_MEMO:
                memo.clear()
            memo[key] = out
        return out

    return relation


def rule_layout(relation_model=DEFAULT, relation: Relation | None = None,
                trees: dict | None = None) -> Callable[[list[_Atom]], Node]:
    """The rule-based reader of one line of atoms. ``relation_model``: the learnt check on the script relations
    (default the shipped one; None: the rules alone); ``relation``: a relation function of one's own instead.
    ``trees``: a dict that keeps the trees read, by the atom objects read (never changed once made), between this
    reader and others of the same ``relation``: the readings of one input, which read the first reading's atoms
    again with other layouts (``parse.ParseMemo``); a line read again gets a copy of its tree (the parser's passes
    change a tree in place)."""
    if relation is None:
        if relation_model is DEFAULT:
            relation_model = load_relation_model()
        relation = rule_relation if relation_model is None else model_relation(relation_model)

    def read(atoms: list[_Atom]) -> Node:
        if trees is None:
            return _LineLayout(atoms, relation).region(list(range(len(atoms)))) or Row([])
        key = tuple(map(id, atoms))
        kept = trees.get(key)
        if kept is None:
            tree = _LineLayout(atoms, relation).region(list(range(len(atoms)))) or Row([])
            trees[key] = (atoms, copy_tree(tree))  # the atoms held, so that their ids name them while it lives
            return tree
        return copy_tree(kept[1])

    return read


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
    ch = max(cb - ct, G["min_core"] * row_h)
    c = _centre(u, row_h)
    # a digit overlapping the base's core by a sliver only is an exponent or index written large, not a new base
    sliver = G["digit_sliver"] * ch if ut in DIGITS else 0.0
    if u.kind == "sym" and u.box.h > LAYOUT["new_base"] * ch and u.box.y0 < cb - sliver and u.box.y1 > ct + sliver:
        return "right"  # much taller than the base and overlapping it: a new baseline symbol
    if ut in RELATIONS and base.kind != "bigop":
        return "right"  # x_{i=1} is rare; 'S_n =' with a low '=' is common
    on_band = band_mid is not None and abs(c - band_mid) < LAYOUT["band"] * row_h
    if ut in OPERATORS:
        if on_band:
            return "right"
        if u.box.y1 < ct + G["operator_script"] * ch:
            return "sup"
        if u.box.y0 > cb - G["operator_script"] * ch:
            return "sub"
        return "right"
    if on_band and u.box.h > LAYOUT["band_h"] * row_h:
        return "right"
    if (ut in DIGITS and u.prob >= SURE_DIGIT and base.kind == "sym" and bt.isalpha()
            and u.box.h < G["digit_small"] * ch
            and not ct + G["digit_band_top"] * ch < c < cb - G["digit_band_bottom"] * ch):
        # a digit, surely read, half the height of the letter before it is a script (digits are as tall as
        # capitals): below the letter's middle an index ('S_2' with the '2' on the baseline), in its top third or
        # above an exponent ('y^2' with the 2 no higher than the y)
        return "sub" if c > cb - G["digit_band_bottom"] * ch else "sup"
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


def _root_part(r: Box, b: Box) -> str | None:
    """'index' for a small symbol in the corner of root sign ``r``, 'body' for one under its bar, else None."""
    if (b.x1 > r.x0 and b.cx < r.x0 + min(G["index_x_w"] * r.w, G["index_x_h"] * r.h)
            and r.y0 - G["index_foot_above"] * r.h < b.y1 < r.y0 + G["index_foot_below"] * r.h
            and b.h < G["index_h"] * r.h):
        return "index"
    if r.x0 + G["body_x0"] * r.w <= b.cx <= r.x1 + G["body_x1"] * r.w and r.y0 - G["body_y0"] * r.h <= b.cy <= r.y1:
        return "body"
    return None


def _limit_side(op: Box, b: Box) -> str | None:
    """'lower' or 'upper' for a symbol right under or over big operator ``op`` (within its ends give or take a
    quarter of its width), else None."""
    if not op.x0 - G["limit_x"] * op.w <= b.cx <= op.x1 + G["limit_x"] * op.w:
        return None
    if b.cy > op.y1 and b.y0 > op.y1 - G["limit_clear"] * op.h:
        return "lower"
    if b.cy < op.y0 and b.y1 < op.y0 + G["limit_clear"] * op.h:
        return "upper"
    return None


class _LineLayout:
    """The layout rules reading one line's atoms into a tree: units, then the baseline with its scripts."""

    def __init__(self, atoms: list[_Atom], relation: Relation = rule_relation):
        self.atoms = atoms
        self.relation = relation
        self.row_h = _row_height(atoms)
        # each atom's part of ``atoms._is_bar`` that does not depend on the row height (read once, asked often)
        self.bar_shaped = [_bar_shaped(a) for a in atoms]

    def _is_bar(self, i: int, row_h: float) -> bool:
        """``atoms._is_bar(self.atoms[i], row_h)``."""
        return self.bar_shaped[i] and self.atoms[i].box.w > BAR_ROW_WIDTH * row_h

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
        # a root's or bar's structure as last read, or None (a bar with nothing on one side), and the atoms whose
        # leaving ``remaining`` may change it: read again only when one of them has left
        known: dict[int, tuple[tuple[str, tuple[list[int], list[int]]] | None, set[int]]] = {}
        order: list[int] = []
        while True:
            now = list(remaining)
            if now != [j for j in order if j in remaining]:
                known.clear()  # the set was laid out again: parts listed in its order come in another
            order = now
            # atom -> (kind, its two parts: above and below a bar, a root's body and index)
            cands: dict[int, tuple[str, tuple[list[int], list[int]]]] = {}
            for i in remaining:
                a = A[i]
                if i not in known:
                    if a.token == "\\sqrt":
                        used: set[int] = set()
                        known[i] = (("sqrt", self._sqrt_parts(i, remaining, used)), used)
                    elif self._is_bar(i, rh):
                        used = set()
                        above, below = self._frac_parts(i, remaining, limits, used)
                        known[i] = (("frac", (above, below)) if above and below else None, used)
                    else:
                        continue
                if known[i][0] is not None:
                    cands[i] = known[i][0]
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
            gone = {i, *parts[0], *parts[1]}
            known = {j: read for j, read in known.items() if j not in gone and not read[1] & gone}
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

    def _frac_parts(self, i: int, remaining: set[int], limits: set[int] = frozenset(),
                    used: set[int] | None = None) -> tuple[list[int], list[int]]:
        """(numerator, denominator) of bar ``i``: the symbols over and under it (``_side_of_bar``), but not a big
        operator's limits unless they lie within the bar's ends. ``used`` gets the atoms of ``remaining`` whose
        leaving it may change the answer: the parts', and those ``_take_scripts`` weighed and left out."""
        bar = self.atoms[i].box

        def side(j: int, b: Box) -> str | None:
            if j in limits and not bar.x0 <= b.cx <= bar.x1:
                return None
            return self._side_of_bar(bar, b)

        above, below = self._two_parts(i, remaining, side, "above", "below")
        for group, over in ((above, True), (below, False)):
            self._take_scripts(group, over, bar, i, remaining, above, below, used=used)
        if used is not None:
            used.update(above, below)
        return above, below

    def _two_parts(self, i: int, remaining: set[int], side: Callable[[int, Box], str | None], first: str,
                   second: str) -> tuple[list[int], list[int]]:
        """The remaining atoms but ``i``, in the order of ``remaining``, that ``side(j, box)`` names ``first``, and
        those it names ``second`` (any other answer: neither)."""
        parts: dict[str, list[int]] = {first: [], second: []}
        for j in remaining:
            if j != i:
                parts.get(side(j, self.atoms[j].box), []).append(j)
        return parts[first], parts[second]

    def _side_of_bar(self, bar: Box, b: Box) -> str | None:
        """'above' or 'below' for a symbol over or under bar ``bar``, its centre within the bar's ends give or take
        8 % of its width; None otherwise."""
        slack = G["bar_slack"] * bar.w
        if not bar.x0 - slack <= b.cx <= bar.x1 + slack:
            return None
        if b.cy < bar.cy and b.y1 < bar.y1 + G["bar_reach"] * self.row_h:
            return "above"
        if b.cy > bar.cy and b.y0 > bar.y0 - G["bar_reach"] * self.row_h:
            return "below"
        return None

    def _take_scripts(self, group: list[int], over: bool, bar: Box, i: int, remaining: set[int], *taken,
                      used: set[int] | None = None) -> None:
        """What a numerator or denominator writes past the bar's end, wholly on its side of the bar, belongs to it
        too: an exponent of its last symbol (the '2' of 'n^2' over a shorter bar), or a symbol level with that one that
        is no operator and lies under or over no other bar (the last 'x' of 'x^2 + x'). Read from their true symbols,
        the CROHME training expressions: 7,525 right before, 7,542 with exponents, 7,571 with level symbols too
        (indices as well took the 'd' of 'dx' into a fraction in an exponent on the validation; operators the '- t' of
        'cos(x/2 - t)' into the x/2, and symbols under another bar the 'H' of a next fraction)."""
        A = self.atoms

        def past_end(last: int) -> list[int]:
            return [j for j in remaining if j != i and all(j not in t for t in taken) and A[j].box.x0 > bar.x1
                    and A[j].box.x0 - A[last].box.x1 < G["past_end_gap"] * self.row_h
                    and (A[j].box.y1 < bar.cy if over else A[j].box.y0 > bar.cy)]

        def belongs(last: int, j: int) -> bool:
            rel = self.relation(self._leaf(last), self._leaf(j), self.row_h)
            lb, jb = A[last].box, A[j].box
            level = (min(jb.y1, lb.y1) - max(jb.y0, lb.y0) > G["past_end_level"] * min(jb.h, lb.h)
                     and A[j].token not in OPERATORS)
            if rel == "right" and level:
                other_bar = next((k for k in remaining if k != i and self._is_bar(k, self.row_h)
                                  and A[k].box.x0 <= jb.cx <= A[k].box.x1), None)
                level = other_bar is None
                if other_bar is not None and used is not None:
                    used.add(other_bar)
            return rel == "sup" or (rel == "right" and level)

        self._grow(group, past_end, belongs, used)

    def _grow(self, part: list[int], past_end, belongs, used: set[int] | None = None) -> None:
        """Add to ``part``, one at a time, the nearest (leftmost) of ``past_end(last)`` after its last symbol, while
        ``belongs(last, that one)``; ``used`` gets the one that does not belong."""
        A = self.atoms
        while part:
            last = max(part, key=lambda k: A[k].box.x1)
            nxt = past_end(last)
            if not nxt:
                return
            j = min(nxt, key=lambda k: A[k].box.x0)
            if not belongs(last, j):
                if used is not None:
                    used.add(j)
                return
            part.append(j)

    def _leaf(self, i: int) -> Unit:
        a = self.atoms[i]
        prob = _prob(a.cands, a.token) if a.cands else 1.0
        return Unit(a.box, Symbol(a.token, a.source), a.token, "sym", None, [i], prob)

    def _sqrt_parts(self, i: int, remaining: set[int], used: set[int] | None = None) -> tuple[list[int], list[int]]:
        """(body, index) of root sign ``i``; ``used`` gets them (the atoms of ``remaining`` whose leaving it may
        change the answer)."""
        r = self.atoms[i].box
        body, index = self._two_parts(i, remaining, lambda j, b: _root_part(r, b), "body", "index")
        if not body:  # a short root sign whose bar stops before its body: take the symbol just after it
            after = [j for j in remaining if j != i and j not in index
                     and r.x1 - G["short_root_before"] * r.w < self.atoms[j].box.x0 < r.x1 + G["short_root_after"] * r.h
                     and r.y0 <= self.atoms[j].box.cy <= r.y1]
            if after:
                body.append(min(after, key=lambda j: self.atoms[j].box.x0))
        if used is not None:
            used.update(body, index)
        return body, index

    def _stacked_limits(self, i: int, remaining: set[int]) -> tuple[list[int], list[int]]:
        op = self.atoms[i].box
        lower, upper = self._two_parts(i, remaining, lambda j, b: _limit_side(op, b), "lower", "upper")
        # a limit is a small group right under/over the operator; keep only ink close to it
        lower = [j for j in lower if self.atoms[j].box.y0 < op.y1 + G["limit_reach"] * self.row_h]
        upper = [j for j in upper if self.atoms[j].box.y1 > op.y0 - G["limit_reach"] * self.row_h]
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
            # local: handwritten baselines drift and slope (``statistics.median`` of the last three, without its
            # checks: this runs for every unit of every reading)
            near = sorted(centres[-3:])
            band_mid = near[len(near) // 2] if len(near) % 2 else (near[0] + near[1]) / 2
            last: tuple[str, Unit] | None = None
            while i < len(units):
                u = units[i]
                rel = self.relation(base, u, rh, band_mid)
                # 'n' '+' '1' of u_{n+1}: the script goes on at its own level
                if rel == "right" and last is not None and self._continues(last[1], u, rh, band_mid):
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
        level = abs(c - pc) < LAYOUT["cont_level"] * max(prev.box.h, G["cont_min_h"] * rh)
        off_band = abs(c - band_mid) > LAYOUT["cont_band"] * rh
        return near and level and off_band and u.box.h < LAYOUT["cont_size"] * max(prev.box.h, G["cont_min_size"] * rh)

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
        return with_scripts(node, sub, sup)
