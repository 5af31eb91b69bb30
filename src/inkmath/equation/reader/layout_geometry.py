"""The vertical geometry the layout rules and the relation model share: where a unit's core (the part that sits on
the baseline band) lies and where its centre is, per token class, and the proportions the rules judge with."""

from __future__ import annotations

from dataclasses import dataclass, field

from inkmath.equation.core.tokens import ASCENDER_LETTERS, DESCENDER_LETTERS, FUNCTION_TOKENS
from inkmath.equation.core.tree import Box, Node

LAYOUT = {"sup": 0.2, "sup_tall": 0.3, "sup_rise": -0.2, "sub": 0.25, "sub_tall": 0.2, "sub_drop": -0.2,
          "sub_top": 0.4, "small": 1.3, "band": 0.4, "band_h": 0.75, "cont_level": 0.5, "cont_band": 0.4,
          # where an ascender's / descender's core starts or ends and its centre sits (fractions of its height)
          "asc_core": 0.4, "desc_core": 0.4, "asc_centre": 0.65, "desc_centre": 0.35,
          # a symbol this much taller than the base's core starts a new baseline; a superscript ends above this
          # much of the core
          "new_base": 1.3, "sup_bottom": 0.75,
          # a script goes on with a unit at most this far (row heights) and this tall (of the previous unit)
          "cont_near": 0.6, "cont_size": 1.2}

# The parser's other geometry, set by hand with the rule that reads it; each group names what switching that rule
# off reads on the validation from true symbols (1,399 with every rule, 2026-11-27, docs/decisions/
# layout-choice.md): the thresholds stand as long as their rule pays. The groups without a figure place the
# parts of a root, a big operator and a fraction bar: they define those structures and were not switched off.
GEOMETRY = {
    # a fraction's core: this much of the row height above and below its bar; a root's core starts this far down
    # its sign; a base's core is at least this share of the row height
    "frac_core": 0.5, "root_core_top": 0.15, "min_core": 0.25,
    # a digit overlapping the base's core by less than this share of it is a script written large (the
    # new-baseline rule: off 1,397)
    "digit_sliver": 0.25,
    # an operator ending this share of the base's core below its top (starting above its bottom) is a
    # superscript (subscript) (off 1,398)
    "operator_script": 0.3,
    # a surely read digit lower than this share of a letter's core is a script, unless its centre lies between
    # these shares below the core's top and above its bottom (off 1,398)
    "digit_small": 0.6, "digit_band_top": 0.3, "digit_band_bottom": 0.35,
    # a root's index: centred within min(this share of the sign's width, this of its height) from its start, its
    # foot between these shares of the height above and below the sign's top, and lower than this share of it
    "index_x_w": 0.4, "index_x_h": 0.45, "index_foot_above": 0.3, "index_foot_below": 0.65, "index_h": 0.6,
    # a root's body: centred from this share of the sign's width past its start to this past its end, and from
    # this share of its height above its top
    "body_x0": 0.1, "body_x1": 0.05, "body_y0": 0.1,
    # a short root sign takes the symbol starting within these (of its width before, of its height after) its end
    "short_root_before": 0.2, "short_root_after": 0.5,
    # a limit: centred within this share of the operator's width past its ends, clear of it by this of its height,
    # and no further than this many row heights
    "limit_x": 0.25, "limit_clear": 0.2, "limit_reach": 1.5,
    # over or under a bar: centred within this share of its width past its ends, and not reaching this many row
    # heights past it
    "bar_slack": 0.08, "bar_reach": 0.3,
    # past a numerator's or denominator's end (``_take_scripts``, off 1,398): within this many row heights, level
    # with the last symbol by this share of the smaller height
    "past_end_gap": 0.5, "past_end_level": 0.5,
    # a script goes on (``_continues``, off 1,397): heights measured at least at these shares of the row height
    "cont_min_h": 0.3, "cont_min_size": 0.5,
}
G = GEOMETRY


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


def core_band(u: Unit, row_h: float) -> tuple[float, float]:
    """(top, bottom) of the part of a unit that sits on the baseline band; scripts are judged against it."""
    b = u.box
    if u.kind == "frac" and u.axis is not None:
        return u.axis - G["frac_core"] * row_h, u.axis + G["frac_core"] * row_h
    if u.kind == "sqrt":
        return b.y0 + G["root_core_top"] * b.h, b.y1
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


def centre(u: Unit, row_h: float) -> float:
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
