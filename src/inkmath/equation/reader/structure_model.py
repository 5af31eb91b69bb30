"""The learnt structure model: for every symbol, the probability of each parent and relation; the best layout tree.

For each ordered pair (parent candidate, child) the model sees where the two boxes lie against each other, in units
of the expression's symbol height (``reference_height``) and of each other's size, where each lies against the
expression's middle, their order by x, and both tokens (a learnt embedding each). A small perceptron gives a score
per relation (``structure_tree.RELATIONS``); the child's scores over every (parent, relation), and over being the
expression's first symbol (a virtual parent), are normalised together: ``P(parent, relation | child)``. The tree
decoder (``structure_tree``) picks the tree of highest total log-probability, and that sum is the tree's score.

    model = load_structure_model()
    reading = model.read(boxes, tokens)        # StructureReading: tree (Node), log_prob, parents, relations
    model.nbest(boxes, tokens, k=5)            # the k best trees, best first

NumPy inference: reading a 10-symbol expression is a 110x(~28+2x16) matrix through three layers; a model with
an encoder runs its transformer on ONNX Runtime (``encoder_session``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.reader.context_model import _median
from inkmath.equation.reader.structure_tree import (
    BIG_OPS, RELATIONS, make_layout, max_arborescence, node_layout, to_node,
)
from inkmath.equation.core.tree import Box, Node
from inkmath.equation.core.registry import load_model, register
from inkmath.weights import shipped_file
from inkmath.sizes import row_height
from inkmath.equation.core.transformer import layer_norm, numpy_blocks, torch_blocks
from inkmath.equation.core.tree import Row
from inkmath.equation.reader.context_model import geometry_features
from inkmath.onnx_export import cached_session, hash_tensors, module_bytes

WEIGHTS = shipped_file("structure")
RECIPE = "inkmath.training.recipes.structure"
ROOT_TOKEN = "<first>"
UNKNOWN_TOKEN = "<unk>"
# tokens that do not give the height of a line (marks, bars): left out of the reference height
FLAT_TOKENS = {"-", ".", ",", "\\ldots", "=", "\\prime", "\\cdot", "\\cdots"}
N_GEOMETRY = 36
TENSORS = ("mean", "std", "embed", "w1", "b1", "w2", "b2", "w3", "b3")
# with a symbol encoder (``architecture['encoder']``): its input layers, the first-symbol vector and the output norm
ENCODER_TENSORS = ("geo_in.weight", "geo_in.bias", "pair1.weight", "pair1.bias", "pair2.weight", "pair2.bias",
                   "root", "ln_out.weight", "ln_out.bias")
# a reading of the same boxes as the last one recomputes only its changed symbols' pair scores when at most this share
# of its symbols changed, else all (a speed choice: the scores are the same either way)
MAX_CHANGED_SHARE = Fraction(1, 3)
# ``nbest_trees`` makes at most NBEST_WORK // n trees without one edge of the best (n symbols; those of the highest
# bounds), work of the order of 2,048 symbols read: its bounds stop the search early on written lines, but on
# scattered scribbles each tree made a layout scores far below its bound, so every edge was tried, each at a cost
# that grows faster than n (300 random strokes, 286 symbols in one line: 286 trees, 21 of the read's 28 s). On the
# validation from strokes (`inkmath crohme-eval val`, 462 lines searched, the longest of 47 symbols) the trees kept
# came from the first 35 tried at most, and n x that count is at most 1,505; every reading and confidence the same,
# from strokes and WAP-like images (`wap_val.py`)
NBEST_WORK = 2048
# a relation only these parents may have (the layout tree has no other kind of parent for it)
ONLY_UNDER = {"inside": {"\\sqrt"}}
ROOT_PARENTS = frozenset().union(*ONLY_UNDER.values())  # tokens ``relation_mask`` depends on


def reference_height(boxes: list[Box], tokens: list[str]) -> float:
    """The median height of the symbols that are not marks or bars (of all, when every one is): the unit of size."""
    return row_height([b.h for b in boxes], [max(b.w, b.h) for b in boxes], tokens, FLAT_TOKENS)


def pair_features(boxes: list[Box], tokens: list[str]) -> np.ndarray:
    """float32 (n + 1, n, N_GEOMETRY): row 0 the virtual first-symbol parent, row p + 1 symbol p, for child c
    (read-only: the features depend on the boxes and on which tokens are marks; ``log_probs`` keeps them for the
    readings of one input in its ``memo``, never across inputs)."""
    return _pair_features(*geometry_key(boxes, tokens))


def geometry_key(boxes: list[Box], tokens: list[str]) -> tuple[tuple, tuple]:
    """What ``pair_features`` depends on: the boxes, and which tokens are marks."""
    return tuple((b.x0, b.y0, b.x1, b.y1) for b in boxes), tuple(t in FLAT_TOKENS for t in tokens)


def _pair_features(coords: tuple, flat: tuple) -> np.ndarray:
    boxes = [Box(*c) for c in coords]
    tokens = ["-" if f else "x" for f in flat]  # only whether each is a mark matters (reference_height)
    n = len(boxes)
    H = reference_height(boxes, tokens)
    b = np.asarray([[x.x0, x.y0, x.x1, x.y1] for x in boxes], np.float64) / H
    x0, y0, x1, y1 = b.T
    w, h = np.maximum(x1 - x0, 0.02), np.maximum(y1 - y0, 0.02)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    mid = float(_median(cy))
    order = np.argsort(x0, kind="stable")
    rank = np.empty(n)
    rank[order] = np.arange(n)
    # a parent's values down the rows, a child's along the columns (broadcast: the same floats as gathered per pair)
    x0p, y0p, x1p, y1p, wp, hp, cxp, cyp = (v[:, None] for v in (x0, y0, x1, y1, w, h, cx, cy))
    x0c, y0c, x1c, y1c, wc, hc, cxc, cyc = (v[None, :] for v in (x0, y0, x1, y1, w, h, cx, cy))
    ov_x = np.minimum(x1p, x1c) - np.maximum(x0p, x0c)
    ov_y = np.minimum(y1p, y1c) - np.maximum(y0p, y0c)
    inside = np.clip(ov_x, 0, None) * np.clip(ov_y, 0, None) / (wc * hc)
    dr = rank[None, :] - rank[:, None]
    f = np.zeros((n + 1, n, N_GEOMETRY))
    g = f[1:]
    cols = [
        x0c - x1p, x0c - x0p, x1c - x1p, cxc - cxp, cyc - cyp, y0c - y0p, y1c - y1p,
        y0c - y1p, y1c - y0p, wp, hp, np.log(hc / hp), np.log(wc / wp),
        (cyc - cyp) / hp, (cxc - cxp) / wp, ov_x / np.minimum(wp, wc),
        ov_y / np.minimum(hp, hc), inside, np.clip(dr, -6, 6), (dr == 1).astype(float), cyp - mid,
        (y0c - y0p) / hp, (y1c - y1p) / hp,
    ]
    # context: the symbol just left of the child (the one ending last among those starting before it), against the
    # parent and the child: a script between a base and the next symbol on its baseline shows here
    ends = np.where(x0[None, :] < x0[:, None] - 1e-9, x1[None, :], -np.inf)  # [c, l]
    np.fill_diagonal(ends, -np.inf)
    left = np.where(np.isfinite(ends.max(axis=1)), ends.argmax(axis=1), np.arange(n))  # itself when none
    cyl, hl, x1l = cy[left][None, :], h[left][None, :], x1[left][None, :]
    cols += [(cyl - cyp) / hp, np.log(hl / hp), (cyc - cyl) / hl, np.log(hc / hl),
             (left[None, :] == np.arange(n)[:, None]).astype(float), x0c - x1l]
    for k, col in enumerate(cols):
        g[..., k] = col
    # the child alone, in every row (the first-symbol row has only these)
    child = [w, h, cy - mid, x0 - x0.min(), rank / max(n - 1, 1), np.full_like(w, n / 10)]
    for k, col in enumerate(child):
        f[:, :, len(cols) + k] = col
    f[0, :, N_GEOMETRY - 1] = 1.0  # the first-symbol flag
    out = np.clip(f, -20, 20).astype(np.float32)
    out.setflags(write=False)
    return out


def relation_mask(tokens: list[str]) -> np.ndarray:
    """bool (n + 1, n, len(RELATIONS)): the (parent, child, relation) the tree may hold (no self-parent; the first
    symbol's row only 'right'; 'inside' only under a root sign)."""
    return _relation_mask(tuple(t if t in ROOT_PARENTS else "" for t in tokens)).copy()


@lru_cache(maxsize=256)
def _relation_mask(tokens: tuple[str, ...]) -> np.ndarray:
    """``relation_mask`` of tokens where only those that may be a parent in ``ONLY_UNDER`` are kept (the others
    are ''); read-only."""
    n = len(tokens)
    m = np.ones((n + 1, n, len(RELATIONS)), bool)
    m[0, :, 1:] = False
    idx = np.arange(n)
    m[idx + 1, idx, :] = False
    for rel, parents in ONLY_UNDER.items():
        k = RELATIONS.index(rel)
        for p, t in enumerate(tokens):
            if t not in parents:
                m[p + 1, :, k] = False
    m.setflags(write=False)
    return m


@dataclass
class StructureReading:
    tree: Node  # None only inside ``nbest_trees``, for trees not returned
    log_prob: float  # sum over symbols of log P(its parent and relation)
    parents: list[int | None]
    relations: list[str | None]


@register("structure", what="Structure model", recipe=RECIPE)
class StructureModel:
    """Each symbol as a vector (its token's embedding, or with an encoder that embedding and the symbol's geometry
    mixed with the other symbols' by a small transformer) + the pair's geometry -> two ReLU layers -> a score per
    relation (NumPy; the encoder's blocks on ONNX Runtime for a model read from weights, ``onnx``).
    ``architecture``: {} for the token embedding alone, or {"encoder": {"dim", "layers", "heads", "ff"[, "tokens":
    "input" | "after"]}} ("after": the transformer reads the geometry alone and each symbol's token embedding is
    added to its output, so the transformer runs once per set of boxes)."""

    def __init__(self, tensors: dict[str, np.ndarray], tokens: list[str], architecture: dict | None = None,
                 onnx: bool = False):
        self.t = {k: np.asarray(v, np.float32) for k, v in tensors.items()}
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.architecture = dict(architecture or {})
        # the encoder's ONNX Runtime session (``_encoder_session``, float32: a 10-symbol call takes about 0.2x the
        # time of the NumPy blocks in float64; docs/decisions/speed.md), for a model read from weights (``onnx``; a
        # model in training changes every epoch); False: none
        self._ort = None if onnx else False

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "StructureModel":
        """The structure model of a weights file (its tokens and architecture in the file's metadata), for
        ``registry.load_model``; the encoder runs on ONNX Runtime."""
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        architecture = json.loads(meta.get("architecture", "{}"))
        need = TENSORS + (ENCODER_TENSORS if architecture.get("encoder") else ())
        missing = [k for k in need if k not in tensors]
        if missing or "tokens" not in meta:
            raise InkmathError(f"Structure model {path} lacks {missing or 'its token list'}; train it again with "
                               f"`python -m {RECIPE}`.")
        tokens = json.loads(meta["tokens"])
        if tensors["w1"].shape[0] != N_GEOMETRY + 2 * tensors["embed"].shape[1]:
            raise InkmathError(f"Structure model {path} takes other features than this code makes; train it again "
                               f"with `python -m {RECIPE}`.")
        return cls(tensors, tokens, architecture, onnx=True)

    def symbol_vectors(self, boxes: list[Box], tokens: list[str], memo: dict | None = None,
                       ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(the first-symbol parent's vector (d,), each symbol's vector (n, d)). ``memo``: keeps what depends on the
        boxes alone (the geometry's input and attention bias) between calls, as ``log_probs``'s; ``ids``: the
        tokens' ``token_ids`` when the caller has them."""
        t = self.t
        ids = self.token_ids(tokens) if ids is None else ids
        enc = self.architecture.get("encoder")
        if not enc:
            return t["embed"][self.index[ROOT_TOKEN]], t["embed"][ids]

        key = ("encoder", tuple((b.x0, b.y0, b.x1, b.y1) for b in boxes))
        boxes_part = memo.get(key) if memo is not None else None
        if boxes_part is None:
            geo, pair = geometry_features(np.asarray(key[1], np.float64).reshape(-1, 4))
            boxes_part = (geo @ t["geo_in.weight"].T + t["geo_in.bias"],
                          np.maximum(pair @ t["pair1.weight"].T + t["pair1.bias"], 0) @ t["pair2.weight"].T
                          + t["pair2.bias"])
            if memo is not None:
                memo[key] = boxes_part
        if enc.get("tokens", "input") == "after":  # the transformer reads the geometry alone: once per set of boxes
            vkey = ("encoded",) + key[1:]
            x = memo.get(vkey) if memo is not None else None
            if x is None:
                x = self.encode(boxes_part[0], boxes_part[1])
                if memo is not None:
                    memo[vkey] = x
            return t["root"], x + t["embed"][ids]
        return t["root"], self.encode(t["embed"][ids] + boxes_part[0], boxes_part[1])

    def encode(self, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The encoder's transformer blocks and output norm: (n, d) symbol inputs and (n, n, layers * heads)
        attention bias -> (n, d); on ONNX Runtime (a model read from weights, ``onnx``), else in NumPy."""
        enc = self.architecture["encoder"]
        session = self._encoder_session()
        if session is not None:
            return session.run(None, {"x": np.asarray(x, np.float32), "bias": np.asarray(bias, np.float32)})[0]

        x = numpy_blocks(x, bias, self.t, int(enc["layers"]), int(enc["heads"]))
        return layer_norm(x, self.t["ln_out.weight"], self.t["ln_out.bias"])

    def _encoder_session(self):
        """The encoder as an ONNX Runtime session (``encoder_session``), built on first use; None when ONNX Runtime
        or torch (which exports the graph once, into the cache) is not installed."""
        if self._ort is None:
            try:
                self._ort = encoder_session(self.t, self.architecture["encoder"])
            except ImportError:
                self._ort = False
        return self._ort or None

    def token_ids(self, tokens: list[str]) -> np.ndarray:
        unk = self.index[UNKNOWN_TOKEN]
        return np.asarray([self.index.get(t, unk) for t in tokens], np.int64)

    def log_probs(self, boxes: list[Box], tokens: list[str], memo: dict | None = None) -> np.ndarray:
        """float64 (n + 1, n, len(RELATIONS)): log P(parent, relation | child) (row 0: the first symbol; -inf where
        the tree may not hold it); each child's column sums to 1 in probability. ``memo``: a dict kept between the
        calls for one input (readings with several token choices): the first layer's geometry part per
        ``geometry_key``, and the last pair scores computed on it, of which a reading whose tokens differ in a few
        places recomputes only the rows and columns of those symbols (when each symbol's vector depends on its own
        token alone: no encoder, or one that reads the tokens after)."""
        n = len(boxes)
        t = self.t
        key = geometry_key(boxes, tokens)
        geometry = memo.get(key) if memo is not None else None
        if geometry is None:
            feats = (_pair_features(*key) - t["mean"]) / t["std"]
            geometry = feats @ t["w1"][:N_GEOMETRY]
            if memo is not None:
                memo[key] = geometry
        ids = self.token_ids(tokens)
        root, ec = self.symbol_vectors(boxes, tokens, memo, ids)
        d = ec.shape[1]
        # the first layer split by its inputs: geometry, parent token, child token
        w1 = t["w1"]
        parent = np.concatenate([root[None], ec]) @ w1[N_GEOMETRY:N_GEOMETRY + d]  # (n + 1, h)
        child = ec @ w1[N_GEOMETRY + d:] + t["b1"]  # (n, h)
        zkey = ("pair scores",) + key
        last = memo.get(zkey) if memo is not None and self._own_token_vectors() else None
        changed = np.flatnonzero(last[0] != ids) if last is not None else None
        # len(changed) > MAX_CHANGED_SHARE * n in integers (a Fraction's arithmetic costs more than the rest)
        if changed is None or len(changed) * MAX_CHANGED_SHARE.denominator > MAX_CHANGED_SHARE.numerator * n:
            z = self._pair_scores(geometry, parent, child)
        else:
            z = last[1].copy()
            if len(changed):
                z[changed + 1] = self._pair_scores(geometry[changed + 1], parent[changed + 1], child)
                z[:, changed] = self._pair_scores(geometry[:, changed], parent, child[changed])
        if memo is not None:
            memo[zkey] = (ids, z)
        z = np.where(_relation_mask(tuple(t if t in ROOT_PARENTS else "" for t in tokens)), z, -np.inf)
        flat = z.transpose(1, 0, 2).reshape(n, -1)
        flat = flat - flat.max(axis=1, keepdims=True)
        flat = flat - np.log(np.exp(flat).sum(axis=1, keepdims=True))
        return flat.reshape(n, n + 1, len(RELATIONS)).transpose(1, 0, 2)

    def _own_token_vectors(self) -> bool:
        """Whether each symbol's vector depends on its own token alone (given the boxes), so that a changed token
        changes only its symbol's row and column of pair scores."""
        enc = self.architecture.get("encoder")
        return not enc or enc.get("tokens", "input") == "after"

    def _pair_scores(self, geometry: np.ndarray, parent: np.ndarray, child: np.ndarray) -> np.ndarray:
        """float64 (P, C, relations) scores of the parents x children given: the first layer's geometry part
        (P, C, h), each parent's part (P, h) and each child's (C, h, with the bias) -> two ReLU layers."""
        t = self.t
        hidden = geometry + parent[:, None, :] + child[None, :, :]
        np.maximum(hidden, 0, out=hidden)
        h2 = hidden.reshape(-1, hidden.shape[-1]) @ t["w2"]
        h2 += t["b2"]
        np.maximum(h2, 0, out=h2)
        z = h2 @ t["w3"] + t["b3"]
        return z.reshape(geometry.shape[0], geometry.shape[1], -1).astype(np.float64)

    def read(self, boxes: list[Box], tokens: list[str], sources: list[int] | None = None) -> StructureReading:
        """The best layout tree of the symbols and its log-probability."""
        return self.nbest(boxes, tokens, 1, sources)[0]

    def nbest(self, boxes: list[Box], tokens: list[str], k: int = 5,
              sources: list[int] | None = None) -> list[StructureReading]:
        """Up to ``k`` layout trees, best first: the best, and the best trees without one of its edges."""
        if not boxes:
            return [StructureReading(_empty(), 0.0, [], [])]
        return nbest_trees(self.log_probs(boxes, tokens), boxes, tokens, k, sources)

    def score(self, boxes: list[Box], tokens: list[str], parents: list[int | None],
              relations: list[str | None]) -> float:
        """log P of a given layout tree of the symbols (the sum of its edges' log-probabilities)."""
        return layout_log_prob(self.log_probs(boxes, tokens), tokens, parents, relations)

    def score_tree(self, boxes: list[Box], tokens: list[str], sources: list[int], tree: Node) -> float | None:
        """log P of a ``Node`` tree over the symbols (``sources``: their hypothesis indices, as in the tree); None
        when the tree is not one over exactly these symbols (see ``structure_tree.node_layout``)."""
        lay = node_layout(tree, sources)
        return None if lay is None else layout_log_prob(self.log_probs(boxes, tokens), tokens, *lay)


# a big operator's limits are 'below'/'above' or 'sub'/'sup' (the truth has both; the tree reads them alike)
LIMIT_ALIASES = {"below": "sub", "above": "sup", "sub": "below", "sup": "above"}


def layout_log_prob(lp: np.ndarray, tokens: list[str], parents: list[int | None],
                    relations: list[str | None]) -> float:
    """The sum over symbols of log P(its parent and relation) under ``lp`` (``StructureModel.log_probs``)."""
    total = 0.0
    for c, (p, r) in enumerate(zip(parents, relations)):
        row = 0 if p is None else p + 1
        v = lp[row, c, RELATIONS.index(r or "right")]
        if p is not None and tokens[p] in BIG_OPS and r in LIMIT_ALIASES:
            v = max(v, lp[row, c, RELATIONS.index(LIMIT_ALIASES[r])])
        total += float(v)
    return total


def nbest_trees(lp: np.ndarray, boxes: list[Box], tokens: list[str], k: int,
                sources: list[int] | None = None) -> list[StructureReading]:
    """Up to ``k`` layout trees under ``lp`` (``StructureModel.log_probs``), best first: the best, and the best
    trees without one of its edges. The edges are tried in the order of a bound on the tree without them (each
    child's best (parent, relation), that child's best but the banned one), and the search stops once ``k`` - 1
    trees found beat the next bound (the same trees as trying every edge), or after ``NBEST_WORK`` // n tries;
    an edge whose relation is not its pair's best is not tried (without it the tree is the best again). Only the
    trees returned are built (``to_node``)."""
    best = _decode(lp, boxes, tokens, sources)
    if k <= 1:
        return [best]
    top = lp.max(axis=(0, 2))
    whole = float(top.sum())
    tries = []
    for c, (p, rel) in enumerate(zip(best.parents, best.relations)):
        edge = (0 if p is None else p + 1, c, RELATIONS.index(rel or "right"))
        if edge[2] != int(lp[edge[0], c].argmax()):
            # not the pair's best relation (``_decode`` reads only that): the tree without it is the best again
            continue
        column = lp[:, c].copy()
        column[edge[0], edge[2]] = -np.inf
        if np.isfinite(column).any():
            # a big operator's limit scores as its alias too (``layout_log_prob``): no bound below the whole's
            alias = p is not None and tokens[p] in BIG_OPS and rel in LIMIT_ALIASES
            tries.append((whole if alias else whole - float(top[c]) + float(column.max()), c, edge))
    tries.sort(key=lambda x: -x[0])
    out = {_key(best): best}
    alts: list[float] = []
    for bound, c, edge in tries[:max(1, NBEST_WORK // len(boxes))]:
        if len(alts) >= k - 1 and sorted(alts, reverse=True)[k - 2] >= bound + BOUND_SLACK:
            break  # no tree left to try can be among the k best
        banned = lp.copy()
        banned[edge] = -np.inf
        alt = _decode(banned, boxes, tokens, sources, score=lp, build=False)
        if _key(alt) not in out:
            out[_key(alt)] = alt
            alts.append(alt.log_prob)
    chosen = sorted(out.values(), key=lambda r: -r.log_prob)[:k]
    for r in chosen:
        if r.tree is None:
            r.tree = to_node(tokens, r.parents, r.relations, sources)
    return chosen


def _empty() -> Node:
    return Row([])


def _key(r: StructureReading) -> tuple:
    return tuple(r.parents), tuple(r.relations)


def _decode(lp: np.ndarray, boxes: list[Box], tokens: list[str], sources: list[int] | None,
            score: np.ndarray | None = None, build: bool = True) -> StructureReading:
    """The maximum arborescence over the best relation of each pair, made a layout, turned into a tree (``build``;
    else its tree is None); its log-prob by ``score`` (default ``lp``)."""
    n = len(boxes)
    best_rel = lp.argmax(axis=2)
    edge = lp.max(axis=2)
    s = np.full((n + 1, n + 1), -np.inf)
    s[:, 1:] = edge
    parent = max_arborescence(s)
    parents = [None if parent[c + 1] == 0 else parent[c + 1] - 1 for c in range(n)]
    relations = [None if parents[c] is None else RELATIONS[best_rel[parent[c + 1], c]] for c in range(n)]
    # the virtual parent may take several symbols: the others follow the leftmost (make_layout)
    parents, relations = make_layout(boxes, parents, relations)
    total = layout_log_prob(lp if score is None else score, tokens, parents, relations)
    return StructureReading(to_node(tokens, parents, relations, sources) if build else None, total, parents,
                            relations)


ONNX_OPSET = 17


def encoder_session(tensors: dict[str, np.ndarray], encoder: dict):
    """One ONNX Runtime session (one thread) of a structure model's encoder blocks and output norm: inputs ``x``
    (n, d) and ``bias`` (n, n, layers * heads), float32; output (n, d). The graph is exported from the training
    blocks (``transformer.torch_blocks``) with the model's weights, once, into the cache
    (``cache_dir()/onnx/structure-<sha256>.onnx``)."""
    import hashlib

    own = {k: v for k, v in tensors.items() if k.startswith("blocks.") or k.startswith("ln_out.")}
    h = hashlib.sha256(f"structure-encoder-opset{ONNX_OPSET}".encode() + json.dumps(encoder, sort_keys=True).encode())
    hash_tensors(h, own)
    return cached_session("structure", h.hexdigest(), lambda: _export_encoder(own, encoder))


def _export_encoder(tensors: dict[str, np.ndarray], encoder: dict) -> bytes:
    """The ONNX graph of ``encoder_session`` (needs torch, as the classifiers' export does)."""
    import torch

    d, layers, heads = int(encoder["dim"]), int(encoder["layers"]), int(encoder["heads"])

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch_blocks(d, layers, heads, int(encoder["ff"]), 0.0)
            self.ln_out = torch.nn.LayerNorm(d)

        def forward(self, x, bias):
            x, bias = x[None], bias.permute(2, 0, 1)[None]
            mask = torch.ones(1, x.shape[1], dtype=torch.bool)
            for i, block in enumerate(self.blocks):
                x = block(x, bias[:, i * heads:(i + 1) * heads], mask)
            return self.ln_out(x)[0]

    with torch.random.fork_rng():  # the layers' initialisation draws from torch's generator: leave it untouched
        net = Encoder()
    net.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in tensors.items()})
    return module_bytes(net, (torch.zeros(3, d), torch.zeros(3, 3, layers * heads)), ["x", "bias"], ["y"],
                        {"x": {0: "n"}, "bias": {0: "n", 1: "n"}, "y": {0: "n"}}, ONNX_OPSET)


def load_structure_model(path: str | None = None) -> StructureModel:
    """The shipped structure model (``weights/structure.safetensors``), or one at ``path`` (``registry.load_model``)."""
    return load_model(path, StructureModel.KIND)


def learnt_layout(model: StructureModel | None = None):
    """A reader of one line of atoms (``atoms._Atom``) by the structure model (default the shipped one), for
    ``parse(..., layout=...)``."""
    m = model if model is not None else load_structure_model()

    def read(atoms) -> Node:
        return m.read([a.box for a in atoms], [a.token for a in atoms], [a.source for a in atoms]).tree

    return read


def combined_layout(model: StructureModel | None, fallback, min_prob: float):
    """The structure model's tree where it gives it at least ``min_prob`` probability, else ``fallback``'s reading
    (another reader of one line of atoms, such as ``layout_rules.rule_layout()``)."""
    m = model if model is not None else load_structure_model()

    def read(atoms) -> Node:
        r = m.read([a.box for a in atoms], [a.token for a in atoms], [a.source for a in atoms])
        return r.tree if r.log_prob >= np.log(min_prob) else fallback(atoms)

    return read


# ``tree_bound`` and a tree's log-probability are float sums in different orders; the bound is trusted only this
# far below the threshold
BOUND_SLACK = 1e-6


def tree_bound(lp: np.ndarray) -> float:
    """An upper bound on the log-probability of any layout tree under ``lp`` (``StructureModel.log_probs``): the sum
    over children of each one's best (parent, relation)."""
    return float(lp.max(axis=(0, 2)).sum())


def rescored_layout(model: StructureModel | None, fallback, margin: float, scores: list[float] | None = None,
                    other: bool = False, memo: dict | None = None):
    """``fallback``'s reading of a line (``layout_rules.rule_layout()``), unless the structure model's best tree is
    more likely, by the model, than the fallback's tree by a factor exp(``margin``) or more. ``scores``: a list that
    gets, per line read, the model's log-probability of the tree chosen (the fallback's when the model cannot score
    it: -inf). ``other``: take the tree this rule does not choose (the second reading of the line's layout).
    ``memo``: kept between calls (``StructureModel.log_probs``)."""
    m = model if model is not None else load_structure_model()

    def read(atoms) -> Node:
        boxes, tokens, sources = [a.box for a in atoms], [a.token for a in atoms], [a.source for a in atoms]
        theirs = fallback(atoms)
        if not atoms:
            if scores is not None:
                scores.append(0.0)
            return theirs
        lp = m.log_probs(boxes, tokens, memo)
        lay = node_layout(theirs, sources)
        own = layout_log_prob(lp, tokens, *lay) if lay is not None else -np.inf
        if not other and (lay is None or tree_bound(lp) < own + margin - BOUND_SLACK):
            # no tree of the model's can beat the fallback's by the margin: the model's best is not needed
            if scores is not None:
                scores.append(float(own))
            return theirs
        best = _decode(lp, boxes, tokens, sources)
        take_model = lay is not None and best.log_prob >= own + margin
        chosen, score = (best.tree, best.log_prob) if take_model != other else (theirs, own)
        if scores is not None:
            scores.append(float(score))
        return chosen

    return read
