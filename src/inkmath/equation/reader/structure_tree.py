"""Symbol layout trees: the best tree from per-edge scores, and the ``Node`` tree it stands for.

A symbol layout tree gives every symbol but the first one parent and a relation to it (``structure_truth.RELATIONS``:
right, sup, sub, above, below, inside). ``best_tree`` finds the tree of highest total score from a score for every
(parent, child, relation) and for every symbol being the first (Chu-Liu/Edmonds' maximum spanning arborescence over
a virtual root), then makes it a layout (``make_layout``): one first symbol, at most one child per (parent,
relation), the later ones following the earlier on its baseline. ``to_node`` turns it into the parser's tree (Row,
Sup, Sub, SubSup, Frac, Sqrt, BigOp) that ``latex`` and the solver read.
"""

from __future__ import annotations

import numpy as np

from inkmath.equation.core.tree import BigOp, Box, Frac, Node, Row, Sqrt, Sub, SubSup, Sup, Symbol, with_scripts

RELATIONS = ("right", "sup", "sub", "above", "below", "inside")
BIG_OPS = {"\\sum", "\\int", "\\prod", "\\lim"}
ROOT_SIGNS = {"\\sqrt"}


def max_arborescence(score: np.ndarray) -> list[int]:
    """Parents of the maximum spanning arborescence rooted at node 0 of a dense score matrix ``score[parent, child]``
    (``-inf`` where there is no edge); returns ``parent[child]`` with ``parent[0] = -1``. Chu-Liu/Edmonds: each node
    takes its best parent (the first of equals); the first cycle met walking from node 1, 2, ... becomes one node,
    the last of the smaller graph, whose edge out to a node is the best from any cycle node and whose edge in from a
    node is the best of that node's edges into the cycle less the edge it replaces; and so on until no cycle is left,
    then the cycles are opened again, last first. The graphs share one matrix, each cycle's node a row and a column
    added to it: the contractions cost O(n^2) in all, where a copy of the matrix for each cost O(n^2) apiece (a
    line of scattered scribbles makes cycles of a few nodes, one after another, about as many as its symbols)."""
    n = score.shape[0]
    cap = 2 * n  # the n nodes, and at most n - 1 cycles made nodes
    s = np.full((cap, cap), -np.inf)
    s[:n, :n] = score
    np.fill_diagonal(s, -np.inf)
    s[:, 0] = -np.inf
    parent = np.zeros(cap, np.int64)
    parent[:n] = s[:n, :n].argmax(axis=0)
    parent[0] = 0
    live = np.arange(n)  # the nodes of the graph now, in order (a cycle's node after every node it holds)
    opened = []  # per cycle made a node: (its node, its nodes, their parents, the graph's other nodes, out_from, into_at)
    while True:
        cycle = _first_cycle(parent, live)
        if cycle is None:
            break
        cyc = np.asarray(cycle, np.int64)
        x = n + len(opened)
        in_cycle = np.zeros(cap, bool)
        in_cycle[cyc] = True
        rest = live[~in_cycle[live]]  # node 0 first
        cycle_in = s[parent[cyc], cyc]  # score of each cycle node's chosen edge
        out = s[cyc[:, None], rest]  # edges out of the cycle: the best from any cycle node
        s[x, rest] = out.max(axis=0)
        out_from = np.zeros(cap, np.int64)
        out_from[rest] = cyc[out.argmax(axis=0)]
        into = s[rest[:, None], cyc] - cycle_in[None, :]  # entering node v replaces v's cycle edge
        s[rest, x] = into.max(axis=1)
        into_at = np.zeros(cap, np.int64)
        into_at[rest] = cyc[into.argmax(axis=1)]
        opened.append((x, cyc, parent[cyc].copy(), rest, out_from, into_at))
        live = np.append(rest, x)
        # a node's best parent changes only where it was in the cycle (the cycle's node comes after every other)
        moved = rest[1:][in_cycle[parent[rest[1:]]]]
        if len(moved):
            parent[moved] = live[s[live[:, None], moved].argmax(axis=0)]
        parent[x] = live[s[live, x].argmax()]
    for x, cyc, cyc_parent, rest, out_from, into_at in reversed(opened):
        kids = rest[1:][parent[rest[1:]] == x]
        parent[kids] = out_from[kids]
        entry = into_at[parent[x]]
        parent[cyc] = cyc_parent
        parent[entry] = parent[x]
    result = parent[:n].tolist()
    result[0] = -1
    return result


def _first_cycle(parent: np.ndarray, live: np.ndarray) -> list[int] | None:
    """The cycle met first by following ``parent`` from the nodes ``live`` but the first (node 0, the root, its own
    parent) in order, in the order walked from where the walk entered it; None when every walk reaches node 0."""
    hop = parent.copy()  # parent[0] = 0; the nodes not live are not reached from those that are
    steps = 1
    while steps < len(live):  # hop: 2^k steps on; a node that reaches node 0 ends there
        hop = hop[hop]
        steps *= 2
    lost = live[1:][hop[live[1:]] != 0]
    if not len(lost):
        return None
    seen: list[int] = []
    at: dict[int, int] = {}
    v = int(lost[0])
    while v not in at:
        at[v] = len(seen)
        seen.append(v)
        v = int(parent[v])
    return seen[at[v]:]


def make_layout(boxes: list[Box], parents: list[int | None], relations: list[str | None]) -> tuple[
        list[int | None], list[str | None]]:
    """A layout tree from any tree of the symbols: one first symbol (the other parentless ones follow the leftmost
    on its baseline, by x), and at most one child per (parent, relation) (a later child, by x, follows the earlier
    one's baseline: it goes right of that baseline's last symbol before it)."""
    n = len(parents)
    par = [-1 if p is None else p for p in parents]  # -1: the start of the expression
    rel = ["right" if p is None else r for p, r in zip(parents, relations)]

    right_of: dict[int, set[int]] | None = None  # each symbol's children on its baseline (relation 'right')

    def chain_end(v: int, before: float) -> int:
        """The last symbol of the baseline that starts at ``v``, left of x ``before``."""
        while True:
            nxt = [c for c in right_of.get(v, ()) if boxes[c].x0 < before]
            if not nxt:
                return v
            v = min(nxt, key=lambda c: (boxes[c].x0, c))

    for _ in range(n * n + 1):
        groups: dict[tuple[int, str], list[int]] = {}
        for c in range(n):
            groups.setdefault((par[c], rel[c]), []).append(c)
        crowded = [kids for kids in groups.values() if len(kids) > 1]
        if not crowded:
            break
        if right_of is None:  # made once a group is crowded (most trees have none)
            right_of = {}
            for c in range(n):
                if rel[c] == "right":
                    right_of.setdefault(par[c], set()).add(c)
        kids = sorted(crowded[0], key=lambda c: (boxes[c].x0, boxes[c].y0, c))
        for c in kids[1:]:
            if rel[c] == "right":
                right_of[par[c]].discard(c)  # detached while the head's baseline is walked
            par[c], rel[c] = chain_end(kids[0], boxes[c].x0 + 1e-9), "right"
            right_of.setdefault(par[c], set()).add(c)
    return [None if p == -1 else p for p in par], [None if p == -1 else r for p, r in zip(par, rel)]


def to_node(tokens: list[str], parents: list[int | None], relations: list[str | None],
            sources: list[int] | None = None) -> Node:
    """The parser's tree for a layout tree of symbols ``tokens`` (``sources``: each symbol's index among the
    hypotheses, default its position). A symbol holding no valid layout (a cycle) raises ``ValueError``."""
    n = len(tokens)
    src = sources if sources is not None else list(range(n))
    kids: dict[tuple[int, str], list[int]] = {}
    firsts = [i for i in range(n) if parents[i] is None]
    for c in range(n):
        if parents[c] is not None:
            kids.setdefault((parents[c], relations[c]), []).append(c)
    seen: set[int] = set()

    def child(p: int, rel: str) -> int | None:
        k = kids.get((p, rel))
        return k[0] if k else None

    def row(start: int | None) -> Node | None:
        if start is None:
            return None
        items = []
        v: int | None = start
        while v is not None:
            if v in seen:
                raise ValueError("the layout tree has a cycle")
            seen.add(v)
            items.append(node(v))
            v = child(v, "right")
        return items[0] if len(items) == 1 else Row(items)

    def node(v: int) -> Node:
        t = tokens[v]
        above, below, inside = row(child(v, "above")), row(child(v, "below")), row(child(v, "inside"))
        sup, sub = row(child(v, "sup")), row(child(v, "sub"))
        if t in ROOT_SIGNS:
            base: Node = Sqrt(inside or Row([]), above, source=src[v])
        elif t in BIG_OPS:
            lower, upper = below or sub, above or sup
            sub = sub if below is not None else None
            sup = sup if above is not None else None
            base = BigOp(t, lower, upper, source=src[v])
            if sub is None and sup is None:
                return base
        elif above is not None or below is not None:
            base = Frac(above or Row([]), below or Row([]), source=src[v])
        else:
            base = Symbol(t, src[v])
        if inside is not None and t not in ROOT_SIGNS:
            sup = sup if sup is not None else inside
        return with_scripts(base, sub, sup)

    if not firsts:
        return Row([])
    out = row(min(firsts, key=lambda i: i))
    return out if isinstance(out, Row) else Row([out])


def node_layout(node: Node, sources: list[int]) -> tuple[list[int | None], list[str | None]] | None:
    """The layout tree of a ``Node`` tree over the symbols whose hypothesis indices are ``sources`` (the inverse of
    ``to_node``); None when the tree holds a symbol that is not among them or misses one. Limits of a big operator
    are 'below' / 'above' (the model's 'sub' / 'sup' for them read the same)."""
    at = {s: k for k, s in enumerate(sources)}
    n = len(sources)
    parents: list[int | None] = [None] * n
    relations: list[str | None] = [None] * n
    placed = [False] * n

    def src(v: Node) -> int | None:
        s = getattr(v, "source", None)
        return at.get(s) if s is not None else None

    def row(v: Node | None, parent: int | None, rel: str | None) -> int | None:
        """Place the row ``v`` hanging from ``parent``; returns its last baseline symbol (None if it fails)."""
        if v is None:
            return parent
        items = v.items if isinstance(v, Row) else [v]
        last = parent
        for k, item in enumerate(items):
            r = rel if k == 0 else "right"
            last = unit(item, last if k else parent, r)
            if last is None:
                return None
        return last

    def put(k: int | None, parent: int | None, rel: str | None) -> bool:
        if k is None or placed[k]:
            return False
        placed[k] = True
        parents[k], relations[k] = parent, rel if parent is not None else None
        return True

    def unit(v: Node, parent: int | None, rel: str | None) -> int | None:
        if isinstance(v, (Sup, Sub, SubSup)):
            last = unit(v.base, parent, rel)
            if last is None:
                return None
            for name in ("sub", "sup"):
                part = getattr(v, name, None)
                if part is not None and row(part, last, name) is None:
                    return None
            return last
        k = src(v)
        if not put(k, parent, rel):
            return None
        if isinstance(v, Frac):
            parts = [(v.num, "above"), (v.den, "below")]
        elif isinstance(v, Sqrt):
            parts = [(v.body, "inside"), (v.index, "above")]
        elif isinstance(v, BigOp):
            parts = [(v.lower, "below"), (v.upper, "above")]
        elif isinstance(v, Symbol):
            parts = []
        else:
            return None
        for part, r in parts:
            if part is not None and not (isinstance(part, Row) and not part.items) and row(part, k, r) is None:
                return None
        return k

    if isinstance(node, Row) and not node.items:
        return ([], []) if n == 0 else None
    if row(node, None, None) is None or not all(placed):
        return None
    return parents, relations
