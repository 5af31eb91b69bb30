"""Reading the layout: segmented symbols (``SymbolHyp``) -> expression tree (``tree.Node``).

The stages, each its own module:

1. pick a token for every symbol from its top-k candidates (``choose_tokens``, here: context fixes ``x``/``\\times``,
   ``0``/``o``, ...);
2. group the symbols into atoms: function names, ellipses, relations in two pieces (``atoms``), and lines;
3. read each line's layout (``layout``: a reader of one line of atoms, ``layout_rules.rule_layout`` or the learnt
   ``structure_model.learnt_layout``);
4. fix what no truth has (``tree_passes``).
"""

from __future__ import annotations

from statistics import median

from inkmath.equation.atoms import (  # noqa: F401  (re-exported: the parser's users read them here)
    _Atom, _best_reading, _has, _prob, _row_height, _same_line, merge_dots, merge_feet, merge_function_names,
    merge_relation_parts, split_lines,
)
from inkmath.equation.layout_rules import Unit, rule_layout  # noqa: F401
from inkmath.equation.tokens import (  # noqa: F401  (the token roles, re-exported)
    ASCENDER_LETTERS, BAR_TOKENS, BIG_OPS, BINARY, CAPITALS, CLOSE_BRACKETS, DESCENDER_LETTERS, DIGITS, DOTTED_NAMES,
    FUNCTION_NAMES, FUNCTION_TOKENS, LETTERS, MARKS, OPEN_BRACKETS, OPERATORS, RELATIONS, TALL,
)
from inkmath.equation.tree import Lines, Node, Row, SymbolHyp
from inkmath.equation.tree_passes import (  # noqa: F401
    dotted_fractions, drop_specks, lone_script_marks, trailing_operators,
)

NO_BASE = BINARY | OPEN_BRACKETS  # what a prime cannot follow


def _choose_token(h: SymbolHyp) -> str:
    return h.candidates[0].token if h.candidates else "?"


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


def parse(hyps: list[SymbolHyp], tokens: list[str] | None = None, layout=None) -> Node:
    """Expression tree for segmented symbols; ``tokens`` fixes the reading per symbol (else ``choose_tokens``);
    ``layout`` reads one line of atoms into a tree (default ``default_layout()``)."""
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
    read = layout if layout is not None else default_layout()
    lines = split_lines(atoms, row_h)
    if len(lines) > 1:
        tree: Node = Lines([read([atoms[i] for i in line]) for line in lines])
    else:
        tree = read(atoms)
    return dotted_fractions(trailing_operators(drop_specks(lone_script_marks(tree, hyps), hyps)))


# the learnt structure model (``structure_model``) replaces the rules' tree of a line when it finds its own best tree at
# least exp(STRUCTURE_MARGIN) times likelier than the rules' tree. Layout given the true symbols on the 2011-2013
# validation (benchmarks/layout_truth.py val), of 1,504 expressions: the rules 1,322; the model alone 1,198 (60
# gained, 184 lost); margin 0: 1,246, 1: 1,291, 2: 1,312, 3: 1,318, 4: 1,330, 5: 1,334, 6: 1,338, 8: 1,342 (29
# gained, 9 lost), 12: 1,339 (19 gained, 2 lost)
STRUCTURE_MARGIN = 8.0


def default_layout():
    """The layout reader ``parse`` uses unless told otherwise: the rules (``layout_rules``) checked by the structure
    model (``structure_model.rescored_layout``)."""
    from inkmath.equation.structure_model import load_structure_model, rescored_layout

    return rescored_layout(load_structure_model(), rule_layout(), STRUCTURE_MARGIN)


def parse_scored(hyps: list[SymbolHyp], tokens: list[str] | None = None, model=None) -> tuple[Node, float]:
    """``parse`` with the default layout, and the structure model's log-probability of the layout it read (the sum
    over its lines; -inf where the model cannot score the rules' tree): a whole reading's structure score.
    ``model``: a ``structure_model.StructureModel`` (default the shipped one)."""
    from inkmath.equation.structure_model import load_structure_model, rescored_layout

    scores: list[float] = []
    layout = rescored_layout(model if model is not None else load_structure_model(), rule_layout(), STRUCTURE_MARGIN,
                             scores)
    tree = parse(hyps, tokens, layout=layout)
    return tree, float(sum(scores))
