"""Passes over a read tree that fix what no CROHME truth has: a lone mark as a script, specks of ink read as symbols,
an operator ending a script, a fraction of two dots. Each works in place and leaves a symbol the user chose (read at
1.0: a correction, or a true symbol) alone.
"""

from __future__ import annotations

from inkmath.equation.atoms import _best_reading
from inkmath.equation.tokens import BINARY, CLOSE_BRACKETS, OPEN_BRACKETS
from inkmath.equation.tree import (
    Frac, Node, Row, Sqrt, Sub, SubSup, Sup, Symbol, SymbolHyp, node_fields, read_for_sure,
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


SCRIPTS = {Sub: ("sub",), Sup: ("sup",), SubSup: ("sub", "sup"), Sqrt: ("body",)}


def trailing_operators(node: Node, nodes: list[Node] | None = None) -> Node:
    """An operator or relation that ends a script or a root's body follows it instead ('i_{1 +} i_2' is
    'i_1 + i_2'; in place). None of the 8,834 training truths ends a group with one. Runs after ``drop_specks``,
    which drops a recognised trailing '-' (validation: a stray stroke more often than a misplaced minus); a minus
    the user chose, or a true symbol, is moved. Validation, recognised symbols: strokes 880 -> 881 (2 gained, 1
    lost: a truth that is itself '\\sqrt{x +} y'), WAP-like 741 (1 / 1); true symbols: training 7,698 -> 7,713 (15 /
    0), validation 1,319 -> 1,322 (4 / 1, the same truth). ``nodes``: as ``lone_script_marks``'."""
    for n in nodes if nodes is not None else _post_order(node):
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


def dotted_fractions(node: Node, nodes: list[Node] | None = None) -> Node:
    """A fraction of one dot over one dot is a division sign ('\\frac{.}{.}' is '\\div'; in place, the sign's source
    the bar's). None of the 8,834 training truths has such a fraction; 106 of them have '\\div'. Validation,
    recognised symbols: strokes 881 -> 882 (1 gained, none lost). ``nodes``: as ``lone_script_marks``'."""
    def div(n: Node) -> Node:
        if isinstance(n, Frac) and _is_dot(n.num) and _is_dot(n.den):
            return Symbol("\\div", n.source)
        return n

    nodes = nodes if nodes is not None else _post_order(node)
    if not any(isinstance(n, Frac) for n in nodes):
        return node  # no fraction to read as a division sign
    for n in nodes:
        for name in node_fields(type(n)):
            v = getattr(n, name)
            if isinstance(v, list):
                setattr(n, name, [div(m) if isinstance(m, Node) else m for m in v])
            elif isinstance(v, Node):
                setattr(n, name, div(v))
    return div(node)


def passes(tree: Node, hyps: list[SymbolHyp]) -> Node:
    """``lone_script_marks``, ``drop_specks``, ``trailing_operators`` and ``dotted_fractions``, in that order, over
    one walk of the tree: the first three change tokens, or drop or move symbols, and the later passes read rows,
    scripts and fractions, whose order in the walk those changes keep (a symbol dropped or moved is still in it,
    where they pass over it), so each does what it does over a walk of its own."""
    nodes = _post_order(tree)
    tree = drop_specks(lone_script_marks(tree, hyps, nodes), hyps, nodes)
    return dotted_fractions(trailing_operators(tree, nodes), nodes)
