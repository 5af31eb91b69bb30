"""Synthetic layouts for the structure model: training expressions recombined ("pattern generation", issue 22).

An expression here is what ``train_structure.labelled`` gives: (boxes, tokens, parents, relations), the symbols by
x with each one's parent index (None for the first) and relation. A synthetic expression is one training expression
(the recipient) with one of:

- **replace**: the content of a slot (a script, a fraction's numerator or denominator, a root's radicand: the
  subtree of a child whose relation is not ``right``) swapped for the content of a slot of the same kind in another
  training expression (the donor);
- **tail**: the rest of a baseline after one of its symbols (the subtree of a ``right`` child) swapped for another
  expression's baseline tail;
- **graft**: a script (another expression's sup or sub content) added to a symbol that carries none.

The donor's boxes are real ink boxes: scaled by the ratio of the two expressions' reference heights (times the ratio
of the two parents' sizes, each against its expression's and its token's typical size, so that a script keeps its
size against its base), and
placed against the recipient's parent as they lay against the donor's parent (``ANCHORS``). What lay right of the
old content moves by the width it gained or lost, and fraction bars and root signs that held it stretch with it.
The labels are the composed tree's. Every draw comes from the generator passed in, so a seeded generator gives the
same expressions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from inkmath.equation.core.tree import Box
from inkmath.equation.reader.structure_model import FLAT_TOKENS, reference_height

# which point of the parent's box a slot's content is placed against: (x of x0 / cx / x1, y of y0 / cy / y1)
ANCHORS = {"right": ("x1", "cy"), "sup": ("x1", "y0"), "sub": ("x1", "y1"), "above": ("x0", "y0"),
           "below": ("x0", "y1"), "inside": ("x0", "y1")}
# the symbols whose box is stretched to hold a wider or narrower content (a fraction bar, a root sign)
STRETCHY = {"-", "\\sqrt"}
# the share of each operation among the synthetic expressions (not tuned: one setting was affordable;
# docs/decisions/structure-model.md)
OPERATIONS = {"replace": 0.5, "tail": 0.2, "graft": 0.3}
# a donor's content of more symbols than this is not used (scripts and fraction parts are mostly 1-5 symbols)
MAX_DONOR = 12
# composed expressions longer than this are drawn again (the longest training expressions have about 100 symbols)
MAX_SYMBOLS = 60
# the clip of the parents' height ratio that scales a donor's content (a bar's or a mark's height says nothing)
PARENT_RATIO_CLIP = (0.5, 2.0)


@dataclass
class SynthConfig:
    """The recipe key ``synthetic: {share, seed}``: synthetic expressions added to each epoch, ``share`` of the
    training expressions' count, drawn by a generator seeded by (seed, epoch)."""

    share: float = 0.3
    seed: int = 0


def subtree(parents: list, v: int) -> list[int]:
    """v and every symbol below it, in index order."""
    children: dict[int, list[int]] = {}
    for c, p in enumerate(parents):
        if p is not None:
            children.setdefault(p, []).append(c)
    out, todo = [], [v]
    while todo:
        u = todo.pop()
        out.append(u)
        todo.extend(children.get(u, []))
    return sorted(out)


def ancestors(parents: list, v: int) -> list[int]:
    out, p = [], parents[v]
    while p is not None:
        out.append(p)
        p = parents[p]
    return out


def slot_kind(tokens: list[str], parents: list, relations: list, c: int) -> tuple[str, bool]:
    """(relation, whether the parent is a fraction bar): donors and recipients are matched on it."""
    return relations[c], relations[c] in ("above", "below") and tokens[parents[c]] == "-"


def donor_pool(data) -> dict:
    """{slot kind: [(expression, child)]} of every slot whose content has at most ``MAX_DONOR`` symbols, and under
    the key "typical" {token: its median height over its expression's reference height} (a symbol's size for its
    kind: an 'f' is taller than an 'a' on the same baseline)."""
    pool: dict = {}
    ratios: dict[str, list[float]] = {}
    for i, (boxes, tokens, parents, relations) in enumerate(data):
        H = _height(np.asarray([[b.x0, b.y0, b.x1, b.y1] for b in boxes], np.float64), tokens)
        for c, p in enumerate(parents):
            ratios.setdefault(tokens[c], []).append(boxes[c].h / H)
            if p is not None and len(subtree(parents, c)) <= MAX_DONOR:
                pool.setdefault(slot_kind(tokens, parents, relations, c), []).append((i, c))
    pool["typical"] = {t: max(float(np.median(v)), 1e-3) for t, v in ratios.items()}
    return pool


def _anchor(b, rel: str) -> np.ndarray:
    ax, ay = ANCHORS[rel]
    x = {"x0": b[0], "x1": b[2], "cx": (b[0] + b[2]) / 2}[ax]
    y = {"y0": b[1], "y1": b[3], "cy": (b[1] + b[3]) / 2}[ay]
    return np.asarray([x, y, x, y])


def _reach(a: np.ndarray, parents: list, relations: list, p: int, skip: set) -> float:
    """The right edge of p with what it holds other than its baseline's continuation (its scripts, a bar's
    numerator and denominator, a root's radicand), the symbols ``skip`` left out: where p's baseline goes on."""
    out = float(a[p, 2])
    for c, (q, r) in enumerate(zip(parents, relations)):
        if q == p and r != "right" and c not in skip:
            out = max(out, max(float(a[k, 2]) for k in subtree(parents, c) if k not in skip))
    return out


def _height(a: np.ndarray, tokens: list[str]) -> float:
    return reference_height([Box(*map(float, r)) for r in a], tokens)


def compose(recipient, donor, p: int, rel: str, removed: list[int], dc: int, typical: dict | None = None):
    """The recipient with the symbols ``removed`` (the old content of slot (p, rel), may be empty) taken out and the
    donor's subtree of child ``dc`` put in as p's ``rel`` content; (boxes, tokens, parents, relations) by x.
    ``typical``: ``donor_pool``'s typical heights (the parents' sizes are compared against them)."""
    rb, rt, rp, rr = recipient
    db, dt, dp, dr = donor
    A = np.asarray([[b.x0, b.y0, b.x1, b.y1] for b in rb], np.float64)
    D = np.asarray([[b.x0, b.y0, b.x1, b.y1] for b in db], np.float64)
    HR, HD = _height(A, rt), _height(D, dt)
    s = HR / HD
    if rt[p] not in FLAT_TOKENS and dt[dp[dc]] not in FLAT_TOKENS:
        typical = typical or {}
        level_r = (A[p, 3] - A[p, 1]) / HR / typical.get(rt[p], 1.0)
        level_d = (D[dp[dc], 3] - D[dp[dc], 1]) / HD / typical.get(dt[dp[dc]], 1.0)
        ratio = level_r / max(level_d, 1e-6)
        s *= float(np.clip(ratio, *PARENT_RATIO_CLIP))
    content = subtree(dp, dc)
    at_d, at_r = _anchor(D[dp[dc]], rel), _anchor(A[p], rel)
    if rel == "right":  # a baseline goes on after its symbol's scripts, in the donor as in the recipient
        at_d[[0, 2]] = _reach(D, dp, dr, dp[dc], set(content))
        at_r[[0, 2]] = _reach(A, rp, rr, p, set(removed))
    new = (D[content] - at_d) * s + at_r
    old_right = float(A[removed, 2].max()) if removed else float(A[p, 2])
    old_left = float(A[removed, 0].min()) if removed else float(A[p, 2])
    new_right = float(new[:, 2].max())
    delta = new_right - old_right if removed else max(new_right - old_right, 0.0)
    gone = set(removed)
    keep = [i for i in range(len(rb)) if i not in gone]
    tol = 0.1 * HR
    B = A.copy()
    right_of = (A[:, 0] >= old_right - tol) & (A[:, 0] >= old_left)
    right_of[p] = False
    B[right_of, 0] += delta
    B[right_of, 2] += delta
    # the bars and roots that hold the slot stretch with it
    holders = [q for q in [p] + ancestors(rp, p) if rt[q] in STRETCHY and A[q, 2] >= old_right - 3 * tol
               and not right_of[q]]
    for q in holders:
        B[q, 2] = A[q, 2] + delta
    # the composed tree: kept recipient symbols, then the donor's content
    index = {i: k for k, i in enumerate(keep)}
    dindex = {i: len(keep) + k for k, i in enumerate(content)}
    boxes = np.concatenate([B[keep], new])
    tokens = [rt[i] for i in keep] + [dt[i] for i in content]
    parents = [None if rp[i] is None else index[rp[i]] for i in keep] + [
        index[p] if i == dc else dindex[dp[i]] for i in content]
    relations = [rr[i] for i in keep] + [rel if i == dc else dr[i] for i in content]
    for q in holders:  # a holder covers all it holds (after the content moved in)
        k = index[q]
        held = [j for j, (pp, r) in enumerate(zip(parents, relations)) if pp == k and r != "right"]
        for j in held:
            cover = subtree(parents, j)
            boxes[k, 2] = max(boxes[k, 2], float(boxes[cover, 2].max()))
            if tokens[k] == "\\sqrt":
                boxes[k, 1] = min(boxes[k, 1], float(boxes[cover, 1].min()))
    order = sorted(range(len(tokens)), key=lambda k: (boxes[k, 0], boxes[k, 1]))
    at = {k: n for n, k in enumerate(order)}
    return ([Box(*map(float, boxes[k])) for k in order], [tokens[k] for k in order],
            [None if parents[k] is None else at[parents[k]] for k in order], [relations[k] for k in order])


def synthesize(data, n: int, rng: np.random.Generator, pool: dict | None = None) -> list:
    """``n`` synthetic expressions made from ``data`` (``labelled`` tuples) with the generator ``rng``."""
    pool = pool if pool is not None else donor_pool(data)
    ops, share = list(OPERATIONS), np.asarray(list(OPERATIONS.values()))
    out: list = []
    tries = 0
    while len(out) < n and tries < 20 * n + 100:
        tries += 1
        rec = data[int(rng.integers(len(data)))]
        _, tokens, parents, relations = rec
        op = ops[int(rng.choice(len(ops), p=share / share.sum()))]
        if op == "graft":
            scripted = {(q, r) for q, r in zip(parents, relations) if r in ("sup", "sub")}
            bases = [i for i, t in enumerate(tokens) if t not in FLAT_TOKENS and t != "\\sqrt"]
            rel = ("sup", "sub")[int(rng.integers(2))]
            bases = [i for i in bases if (i, "sup") not in scripted and (i, "sub") not in scripted]
            if not bases:
                continue
            p, removed, kind = bases[int(rng.integers(len(bases)))], [], (rel, False)
        else:
            slots = [c for c, r in enumerate(relations) if r is not None and (r == "right") == (op == "tail")]
            if not slots:
                continue
            c = slots[int(rng.integers(len(slots)))]
            p, rel, kind, removed = parents[c], relations[c], slot_kind(tokens, parents, relations, c), subtree(
                parents, c)
        donors = pool.get(kind, [])
        if not donors:
            continue
        di, dc = donors[int(rng.integers(len(donors)))]
        if data[di] is rec:
            continue
        size = len(tokens) - len(removed) + len(subtree(data[di][2], dc))
        if size > MAX_SYMBOLS:
            continue
        out.append(compose(rec, data[di], p, rel, removed, dc, pool.get("typical")))
    return out
