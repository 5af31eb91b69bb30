"""Structure truth: each symbol's parent and relation in the symbol layout tree, from an InkML file's MathML.

The CROHME MathML names every symbol's element with an ``xml:id`` (a fraction's on its ``mfrac``, a root's on its
``msqrt``/``mroot``) and every traceGroup points at one through its ``annotationXML href``. Walking the MathML gives
the layout tree of those ids:

- the symbols of an ``mrow`` follow each other on one baseline: ``right``;
- a script (``msub``/``msup``/``msubsup``) hangs from the last symbol of its base: ``sub`` / ``sup``;
- ``munder``/``mover``/``munderover`` (limits under and over an operator): ``below`` / ``above``;
- a fraction's numerator and denominator hang from its bar: ``above`` / ``below``;
- a root's body is ``inside`` the root sign, its index ``above`` it.

The first symbol of the expression has no parent. ``symbol_layout(expr)`` gives the truth symbols (by x) with their
parent index and relation, or the reason the expression cannot be labelled (``Unlabelled``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from inkmath.equation.core.metrics import canonical_symbol
from inkmath.equation.core.tree import Box, Candidate, SymbolHyp

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
RELATIONS = ("right", "sup", "sub", "above", "below", "inside")
SCRIPT_ROLES = {"msub": ("sub",), "msup": ("sup",), "msubsup": ("sub", "sup"), "munder": ("below",),
                "mover": ("above",), "munderover": ("below", "above")}
LEAVES = {"mi", "mn", "mo", "mtext", "ms"}
ROWS = {"mrow", "math", "mstyle", "mpadded", "semantics", "mphantom"}


class Unlabelled(Exception):
    """The MathML does not give a layout tree of the traceGroups (the message says why)."""


@dataclass
class SymbolLayout:
    """The truth symbols of an expression (by x) and, for each, its parent (index, None for the first) and relation."""

    hyps: list  # tree.SymbolHyp, the truth label as the only candidate
    parents: list[int | None]
    relations: list[str | None]


def _tag(el) -> str:
    return el.tag.rsplit("}", 1)[-1]


def mathml_layout(mathml: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """(id of the first symbol, child id -> (parent id, relation)) of a MathML expression; raises ``Unlabelled``."""
    try:
        root = ET.fromstring(re.sub(r"\sxmlns(:\w+)?=(\"[^\"]*\"|'[^']*')", "", mathml))
    except ET.ParseError as e:
        raise Unlabelled(f"MathML not well-formed ({e})") from None
    edges: dict[str, tuple[str, str]] = {}

    def link(parent: str, child: str, rel: str) -> None:
        if child in edges:
            raise Unlabelled(f"id {child!r} placed twice")
        edges[child] = (parent, rel)

    def walk(el) -> tuple[str, str] | None:
        """(first, last) symbol id on the baseline of ``el``; None if it holds no symbol."""
        tag = _tag(el)
        xid = el.get(XML_ID) or el.get("id")
        kids = list(el)
        if tag in LEAVES:
            if kids:
                raise Unlabelled(f"<{tag}> with child elements")
            if not xid:
                if (el.text or "").strip():
                    raise Unlabelled(f"<{tag}>{(el.text or '').strip()}</{tag}> without an xml:id")
                return None
            return xid, xid
        if tag in ROWS:
            first = last = None
            for k in kids:
                span = walk(k)
                if span is None:
                    continue
                if last is not None:
                    link(last, span[0], "right")
                first = first or span[0]
                last = span[1]
            return (first, last) if first is not None else None
        if tag in SCRIPT_ROLES:
            roles = SCRIPT_ROLES[tag]
            if len(kids) != len(roles) + 1:
                raise Unlabelled(f"<{tag}> with {len(kids)} children")
            base = walk(kids[0])
            if base is None:
                raise Unlabelled(f"<{tag}> with an empty base")
            for k, role in zip(kids[1:], roles):
                span = walk(k)
                if span is not None:
                    link(base[1], span[0], role)
            return base
        if tag in {"mfrac", "msqrt", "mroot"}:
            if not xid:
                raise Unlabelled(f"<{tag}> without an xml:id")
            if tag == "mfrac":
                if len(kids) != 2:
                    raise Unlabelled(f"<mfrac> with {len(kids)} children")
                parts = [(kids[0], "above"), (kids[1], "below")]
            elif tag == "mroot":
                if len(kids) != 2:
                    raise Unlabelled(f"<mroot> with {len(kids)} children")
                parts = [(kids[0], "inside"), (kids[1], "above")]
            else:
                parts = [(ET.Element("mrow"), "inside")]
                parts[0][0].extend(kids)
            for k, role in parts:
                span = walk(k)
                if span is not None:
                    link(xid, span[0], role)
            return xid, xid
        raise Unlabelled(f"<{tag}> is not a layout this tree knows")

    span = walk(root)
    if span is None:
        raise Unlabelled("no symbol in the MathML")
    return span[0], edges


def symbol_layout(expr) -> SymbolLayout:
    """The truth symbols of an ``InkmlExpression`` with their parent and relation; raises ``Unlabelled`` saying why
    the traceGroups and the MathML do not make one tree."""
    import numpy as np

    from inkmath import ink

    if not expr.mathml:
        raise Unlabelled("no MathML truth")
    if not expr.groups:
        raise Unlabelled("no traceGroups")
    first, edges = mathml_layout(expr.mathml)
    hyps, ids = [], []
    for g in expr.groups:
        pts = [np.asarray(expr.strokes[i], float)[:, :2] for i in g.stroke_ids
               if i < len(expr.strokes) and len(expr.strokes[i])]
        if not pts:
            raise Unlabelled(f"traceGroup {g.href or g.xml_id!r} has no ink")
        if not g.href:
            raise Unlabelled(f"traceGroup {g.xml_id!r} has no MathML reference")
        hyps.append(SymbolHyp(Box(*ink.bbox(pts)), [Candidate(canonical_symbol(g.label), 1.0)], list(g.stroke_ids)))
        ids.append(g.href)
    if len(set(ids)) != len(ids):
        raise Unlabelled("two traceGroups point at one MathML element")
    known = set(edges) | {first}
    missing = [i for i in ids if i not in known]
    if missing:
        raise Unlabelled(f"traceGroup reference {missing[0]!r} is not in the MathML")
    if len(known) != len(ids):
        lone = sorted(known - set(ids))
        raise Unlabelled(f"MathML symbol {lone[0]!r} has no traceGroup")
    order = sorted(range(len(hyps)), key=lambda k: (hyps[k].box.x0, hyps[k].box.y0))
    at = {ids[k]: n for n, k in enumerate(order)}
    parents: list[int | None] = []
    relations: list[str | None] = []
    for k in order:
        if ids[k] == first:
            parents.append(None)
            relations.append(None)
        else:
            p, rel = edges[ids[k]]
            parents.append(at[p])
            relations.append(rel)
    return SymbolLayout([hyps[k] for k in order], parents, relations)
