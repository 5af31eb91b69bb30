"""Passes over a read tree that fix what no CROHME truth has: a lone mark as a script, specks of ink read as
symbols. Each works in place and leaves a symbol the user chose (read at 1.0: a correction, or a true symbol) alone.
"""

from __future__ import annotations

from inkmath.equation.reader.atoms import _best_reading
from inkmath.equation.core.tokens import BINARY, CLOSE_BRACKETS, OPEN_BRACKETS
from inkmath.equation.core.tree import (
    Node, Row, Sub, SubSup, Sup, Symbol, SymbolHyp, node_fields, read_for_sure,
)


def _post_order(node: Node) -> list[Node]:
    """Every node of the tree under ``node`` (its dataclass fields), each after the nodes under it (a list made
    before the caller changes anything: the passes change only a node they were given and what lies under it)."""
    out: list[Node] = []
    _collect(node, out)
    return out


def _collect(node: Node, out: list[Node]) -> None:
    kind = type(node)
    if kind is Symbol:  # a leaf (its fields are a token and a source): most of a tree's nodes
        out.append(node)
        return
    if kind is Row:
        for n in node.items:
            if isinstance(n, Node):
                _collect(n, out)
        out.append(node)
        return
    for name in node_fields(type(node)):
        v = getattr(node, name)
        if isinstance(v, list):
            for n in v:
                if isinstance(n, Node):
                    _collect(n, out)
        elif isinstance(v, Node):
            _collect(v, out)
    out.append(node)


SCRIPT_MARKS = {"-", ".", ","}


def _chosen(node: Node, hyps: list[SymbolHyp] | None) -> bool:
    """Is ``node`` a symbol the user chose (read at 1.0: a correction, or a true symbol)? The tree passes below
    leave such a symbol's reading and place alone."""
    return (hyps is not None and isinstance(node, Symbol) and node.source is not None
            and read_for_sure(hyps[node.source].candidates))


def lone_script_marks(node: Node, hyps: list[SymbolHyp], nodes: list[Node] | None = None) -> Node:
    """A script that is one mark is read as something a script can be. No CROHME training truth has a lone '-', '.'
    or ',' as a script; 82 have a lone prime as a superscript, 674 a lone '1' as a subscript. So a lone mark as a
    superscript ('y^{.}', 'E^{-}': the classifier reads a prime's tick as '-' at 0.9) is a prime, and as a subscript
    ('X_{,}') it takes the classifier's likeliest reading that is not a mark or an operator, at 0.05 or more. A symbol
    read at 1.0 (a user's correction) keeps its reading (in place). ``nodes``: ``_post_order(node)`` when the caller
    has it (``passes``)."""
    for n in nodes if nodes is not None else _post_order(node):
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
SPECK_TOKENS = STRAY_DOTS | SCRIPT_MARKS | {"-"}  # the tokens ``_speck`` may find a speck (of any other: never)


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


def drop_specks(node: Node, hyps: list[SymbolHyp] | None = None, nodes: list[Node] | None = None) -> Node:
    """Drop specks of ink read as symbols from every row of the tree (``_speck``; in place), except a symbol the
    user chose (read at 1.0: a correction). Validation, recognised symbols: a dot next to an operator or relation,
    strokes 847 -> 850 (3 gained, none lost), WAP-like 716 -> 718 (2 / 0); a minus right before a relation,
    strokes 863 -> 864, WAP-like 731 -> 732; a mark last or before a closing bracket, a '.' first or after an
    opening one, a minus before an operator: strokes 871 -> 878 (7 / 0), WAP-like 736 -> 739 (3 / 0). ``nodes``: as
    ``lone_script_marks``'."""
    for n in nodes if nodes is not None else _post_order(node):
        if isinstance(n, Row) and any(isinstance(m, Symbol) and m.token in SPECK_TOKENS for m in n.items):
            n.items = [m for k, m in enumerate(n.items) if _chosen(m, hyps) or not _speck(n.items, k)] or n.items
    return node


def passes(tree: Node, hyps: list[SymbolHyp]) -> Node:
    """``lone_script_marks`` then ``drop_specks`` over one walk of the tree: the first changes tokens, the second
    drops symbols from rows, whose order in the walk that change keeps, so each does what it does over a walk of its
    own."""
    nodes = _post_order(tree)
    return drop_specks(lone_script_marks(tree, hyps, nodes), hyps, nodes)
