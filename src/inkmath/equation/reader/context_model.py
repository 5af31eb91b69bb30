"""The symbol context model: re-reads every symbol of an expression in the light of the others (NumPy inference).

    model = load_context_model()                    # once per process (src/inkmath/weights/symbol-context.*)
    probs = model.probs(boxes, topk_idx, topk_prob, logits)  # (n, classes + 1): the last column is junk

Inputs per symbol: the classifier's top-k readings (as a sparse probability vector over its classes and their
log-probabilities), the crop's embedding (the classifier's full logits: its last layer's projection of the
crop's pooled features, as log-probabilities over every class; absent for a symbol read without them) and the
symbol's geometry against the expression: its size against the typical symbol, its
position, the gaps and height ratios to the symbols before and after it in reading order (by left edge) and its
height against the symbols beside it on its line. A small transformer (pre-norm, 2 layers) mixes the symbols; the
attention between two symbols gets a learnt bias from their relative geometry (offset, height ratio), so "the
symbol just left of me, on my line, as tall as a digit" is easy to attend to. The output logits are a learnt
layer plus a learnt multiple of the classifier's own log-probabilities (so that the model starts from the
classifier and learns corrections). Trained by ``inkmath.training.recipes.context`` (configs/symbol-context.yaml).

The same module builds the features for training (``expression_features``) so that training and inference agree.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.core.transformer import layer_norm, numpy_blocks, stack_tensors
from inkmath.scoped import ScopedMemo
from inkmath.equation.reader.context_net import GEO_FEATURES, PAIR_FEATURES, ContextArchitecture, export_members
from inkmath.sizes import median as _median, typical_size
from inkmath.onnx_export import cached_session, hash_tensors
from inkmath.weights import load_arrays_and_card

MODEL_NAME = "symbol-context"
LOG_FLOOR = 1e-3  # probabilities below this (and classes outside the top-k) count as this for the log input
CLIP = 6.0
CROP_FLOOR = -20.0  # the crop embedding's log-probabilities are clipped here and scaled to about [-1, 0]
# The writer's own scale (``writer_features``, a model with ``architecture.writer`` = WRITER_FEATURES): the symbols the
# classifier reads, at least this sure, as a letter of one case only tell how tall this writer makes a small letter
# (x-height: no tall stroke, no tail, no capital twin) and a tall symbol (digits and letters with no look-alike twin)
WRITER_FEATURES = 10
WRITER_SURE = 0.5
X_HEIGHT_CLASSES = ("a", "e", "m", "n", "r", "u", "\\alpha")
TALL_CLASSES = ("2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "E", "F", "G", "H", "L", "M", "N", "R", "T",
                "b", "d", "h", "\\Delta", "\\lambda")


def _masked_medians(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``_median(values[m])`` for each row ``m`` of the bool matrix ``mask`` (each row holding one value or more), at
    once: each row's values sorted, the middle one or the mean of the middle two (the same floats)."""
    v = np.sort(np.where(mask, values[None, :], np.inf), axis=1)
    count = mask.sum(axis=1)
    mid, rows = count // 2, np.arange(len(mask))
    return np.where(count % 2 == 1, v[rows, mid], (v[rows, np.maximum(mid - 1, 0)] + v[rows, mid]) / 2)


def _unit(boxes: np.ndarray) -> float:
    """The typical symbol size (``sizes.typical_size`` of the boxes; 1.0 when the boxes have no extent)."""
    if not len(boxes):
        return 1.0
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    u = typical_size(w, h)
    if u > 1e-9:
        return u
    longest = float(np.maximum(w, h).max())
    return longest if longest > 1e-9 else 1.0


def reading_order(boxes: np.ndarray) -> np.ndarray:
    """Indices of the symbols by left edge (then top), the order the model reads them in."""
    return np.lexsort((boxes[:, 1], boxes[:, 0])) if len(boxes) else np.zeros(0, int)


_SHARED = ScopedMemo()  # ``shared_geometry``'s memo


def shared_geometry():
    """Within, ``geometry_features`` makes each set of boxes' features once and gives copies of them again: the
    decoder's readings of one input (the context model reads each grouping's boxes, and the structure model's encoder
    the same boxes again in about half of its calls). Never kept across inputs (``ScopedMemo``)."""
    return _SHARED.scope()


def geometry_features(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, GEO_FEATURES) per-symbol and (n, n, PAIR_FEATURES) pairwise geometry, in the order of ``boxes``
    (within ``shared_geometry``: made once for the same boxes)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    memo = _SHARED.get()
    if memo is None:
        return _geometry_features(b)
    key = b.tobytes()
    if key not in memo:
        memo[key] = _geometry_features(b)
    geo, pair = memo[key]
    return geo.copy(), pair.copy()


def _geometry_features(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``geometry_features`` of boxes (n, 4), float64."""
    n = len(b)
    u = _unit(b)
    w = np.maximum(b[:, 2] - b[:, 0], 1e-3 * u) / u
    h = np.maximum(b[:, 3] - b[:, 1], 1e-3 * u) / u
    cx = (b[:, 0] + b[:, 2]) / 2 / u
    cy = (b[:, 1] + b[:, 3]) / 2 / u
    x0, y0, x1, y1 = (b[:, k] / u for k in range(4))
    f = np.zeros((n, GEO_FEATURES))
    if n == 0:
        return f.astype(np.float32), np.zeros((0, 0, PAIR_FEATURES), np.float32)
    f[:, 0], f[:, 1], f[:, 2] = np.log(w), np.log(h), np.log(w / h)
    span = max(x1.max() - x0.min(), 1e-9)
    f[:, 3] = (cx - x0.min()) / span
    f[:, 4] = cy - _median(cy)
    f[:, 5] = np.log(n) / 3
    order = reading_order(b)
    rank = np.empty(n, int)
    rank[order] = np.arange(n)
    for side, col in ((-1, 6), (1, 13)):  # the symbol before and after in reading order, where there is one
        r = rank + side
        i = np.flatnonzero((r >= 0) & (r < n))
        j = order[r[i]]
        f[i, col] = 1.0
        f[i, col + 1] = (x0[i] - x1[j]) if side < 0 else (x0[j] - x1[i])
        f[i, col + 2] = cy[i] - cy[j]
        f[i, col + 3] = np.log(h[i] / h[j])
        f[i, col + 4] = y0[i] - y0[j]
        f[i, col + 5] = y1[i] - y1[j]
        f[i, col + 6] = np.log(w[i] / w[j])
    # the line around the symbol: symbols overlapping it vertically within 4 units left or right
    ov = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    near = (ov > 0.3 * np.minimum(h[:, None], h[None, :])) & (np.abs(cx[:, None] - cx[None, :]) < 4.0)
    np.fill_diagonal(near, False)
    rows = np.flatnonzero(near.any(axis=1))
    hk = _masked_medians(h, near[rows])
    f[rows, 20] = np.log(h[rows] / hk)
    f[rows, 21] = (cy[rows] - _masked_medians(cy, near[rows])) / np.maximum(hk, 1e-3)
    pair = np.stack([cx[None, :] - cx[:, None], cy[None, :] - cy[:, None], np.log(h[None, :] / h[:, None]),
                     y0[None, :] - y0[:, None], y1[None, :] - y1[:, None]], axis=-1)
    return np.clip(f, -CLIP, CLIP).astype(np.float32), np.clip(pair, -CLIP, CLIP).astype(np.float32)


def writer_features(boxes: np.ndarray, topk_idx: np.ndarray, topk_prob: np.ndarray, classes) -> np.ndarray:
    """(n, WRITER_FEATURES): each symbol against the writer's own letter sizes in this expression.

    References: the other symbols whose classifier top-1 (probability >= ``WRITER_SURE``) is an x-height letter
    (``X_HEIGHT_CLASSES``) or a tall symbol (``TALL_CLASSES``); of each kind, those whose centre is within 1.5 typical
    symbols vertically of this one (its line), else all. Per kind: 1 if there is one, log height against their median
    height, top and bottom against their median top and bottom (in their median heights), log width against their
    median width. Zeros where a kind has no reference. Scale-free like ``geometry_features``."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(b)
    f = np.zeros((n, WRITER_FEATURES))
    if n < 2:
        return f.astype(np.float32)
    u = _unit(b)
    h = np.maximum(b[:, 3] - b[:, 1], 1e-3 * u)
    w = np.maximum(b[:, 2] - b[:, 0], 1e-3 * u)
    cy = (b[:, 1] + b[:, 3]) / 2
    names = list(classes)
    top1 = np.asarray(topk_idx)[:, 0].astype(int)
    sure = np.asarray(topk_prob)[:, 0] >= WRITER_SURE
    for col, kind in ((0, X_HEIGHT_CLASSES), (5, TALL_CLASSES)):
        ids = [names.index(c) for c in kind if c in names]
        ref = sure & np.isin(top1, ids)
        if not ref.any():
            continue
        for i in range(n):
            r = ref.copy()
            r[i] = False
            if not r.any():
                continue
            line = r & (np.abs(cy - cy[i]) < 1.5 * u)
            r = line if line.any() else r
            hr = _median(h[r])
            f[i, col] = 1.0
            f[i, col + 1] = np.log(h[i] / hr)
            f[i, col + 2] = (b[i, 1] - _median(b[r, 1])) / hr
            f[i, col + 3] = (b[i, 3] - _median(b[r, 3])) / hr
            f[i, col + 4] = np.log(w[i] / _median(w[r]))
    return np.clip(f, -CLIP, CLIP).astype(np.float32)


def class_features(topk_idx: np.ndarray, topk_prob: np.ndarray, num_classes: int) -> np.ndarray:
    """(n, 2 C): the top-k probabilities scattered over the classes, then their log (floored at ``LOG_FLOOR``)
    scaled to about [-1, 0]."""
    n = len(topk_idx)
    p = np.zeros((n, num_classes), np.float32)
    rows = np.repeat(np.arange(n), topk_idx.shape[1]) if n else np.zeros(0, int)
    np.maximum.at(p, (rows, np.asarray(topk_idx).reshape(-1).astype(int)), np.asarray(topk_prob, np.float32).ravel())
    logp = np.log(np.maximum(p, LOG_FLOOR)) / -np.log(LOG_FLOOR)
    return np.concatenate([p, logp], axis=1)


def crop_features(logits, n: int, width: int) -> np.ndarray:
    """(n, width + 1): each symbol's crop embedding (its classifier logits as log-probabilities, clipped at
    ``CROP_FLOOR`` and scaled by it) and a last column 1 for a symbol that has one. ``logits`` is (n, width), or a
    list with None for a symbol read without logits (an image component, a user's correction), or None."""
    out = np.zeros((n, width + 1), np.float32)
    if logits is None or width == 0:
        return out
    have = [i for i, z in enumerate(logits) if z is not None and np.shape(z) == (width,)]
    if have:
        z = np.asarray([logits[i] for i in have], np.float64)
        z = z - z.max(1, keepdims=True)
        lp = z - np.log(np.exp(z).sum(1, keepdims=True))
        out[have, :width] = np.maximum(lp, CROP_FLOOR) / -CROP_FLOOR
        out[have, width] = 1.0
    return out


def expression_features(boxes, topk_idx, topk_prob, num_classes: int, writer_classes=None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class features (n, 2C), geometry (n, G), pairwise geometry (n, n, P)) of one expression's symbols.
    ``writer_classes``: the class names, for a model that takes ``writer_features`` (appended to the geometry)."""
    geo, pair = geometry_features(np.asarray(boxes, np.float64).reshape(-1, 4))
    if writer_classes is not None:
        geo = np.concatenate([geo, writer_features(boxes, topk_idx, topk_prob, writer_classes)], axis=1)
    return class_features(np.asarray(topk_idx), np.asarray(topk_prob), num_classes), geo, pair


# --------------------------------------------------------------------------------------------------- inference
# the transformer runs in float32 (as it was trained): against float64 about 0.7x the time of a call, and the readings
# of the 2011-2013 validation the same (docs/decisions/web-load-test.md)
INFERENCE_DTYPE = np.float32


@register("symbol-context", what="The symbol context model", shipped=MODEL_NAME,
          recipe="inkmath.training.recipes.context --config configs/symbol-context.yaml")
@dataclass
class ContextModel:
    """The trained weights (names as in ``train_context.ContextNet.state_dict``) and the class names."""

    tensors: dict[str, np.ndarray]
    classes: list[str]  # the classifier's class names; index len(classes) is junk
    architecture: ContextArchitecture
    card: dict

    def __post_init__(self):
        self.tensors = {k: np.asarray(v, INFERENCE_DTYPE) for k, v in self.tensors.items()}

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "ContextModel":
        """The context model of a weights file and its card (classes, architecture), for ``registry.load_model``."""
        arrays, card = load_arrays_and_card(path, cls.WHAT, f"train it with `python -m {cls.RECIPE}`")
        tensors = {k: v.astype(np.float64) for k, v in arrays.items()}
        arch = ContextArchitecture(**{k: card["architecture"][k] for k in ContextArchitecture.__dataclass_fields__
                                      if k in card["architecture"]})
        return cls(tensors, list(card["classes"]), arch, card)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def logits(self, cls: np.ndarray, geo: np.ndarray, pair: np.ndarray, crop: np.ndarray | None = None
               ) -> np.ndarray:
        """(n, C + 1) logits from the features of one expression."""
        x, hb, cls = self.embed(cls, geo, pair, crop)
        return self.head(numpy_blocks(x, hb, self.tensors, self.architecture.layers, self.architecture.heads), cls)

    def embed(self, cls: np.ndarray, geo: np.ndarray, pair: np.ndarray, crop: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the transformer blocks read: the symbols' vectors (n, dim), the attention bias (n, n, layers *
        heads), and the class features in the weights' dtype (for ``head``)."""
        cls, geo, pair = (np.asarray(a, self.tensors["cls_in.weight"].dtype) for a in (cls, geo, pair))  # float32
        t = self.tensors
        x = cls @ t["cls_in.weight"].T + t["cls_in.bias"] + geo @ t["geo_in.weight"].T + t["geo_in.bias"]
        if self.architecture.crop:
            x = x + np.asarray(crop, t["crop_in.weight"].dtype) @ t["crop_in.weight"].T + t["crop_in.bias"]
        hb = np.maximum(pair @ t["pair1.weight"].T + t["pair1.bias"], 0) @ t["pair2.weight"].T + t["pair2.bias"]
        return x, hb, cls

    def head(self, x: np.ndarray, cls: np.ndarray) -> np.ndarray:
        """(n, C + 1) logits from the blocks' output ``x`` and ``embed``'s class features."""
        t = self.tensors
        out = layer_norm(x, t["ln_out.weight"], t["ln_out.bias"]) @ t["out.weight"].T + t["out.bias"]
        logp = cls[:, self.num_classes:] * -math.log(LOG_FLOOR)
        out[:, :self.num_classes] += t["alpha"] * logp
        return out.astype(np.float64)  # computed in the weights' dtype (INFERENCE_DTYPE); the softmax runs in float64

    def inputs(self, boxes, topk_idx, topk_prob, logits=None) -> tuple[np.ndarray, ...]:
        """The features ``logits`` reads for one expression (class, geometry, pairwise, crop), in float64; the same
        for every model of the same classes, ``writer`` and ``crop`` widths."""
        cls, geo, pair = expression_features(boxes, topk_idx, topk_prob, self.num_classes,
                                             self.classes if self.architecture.writer else None)
        crop = crop_features(logits, len(boxes), self.architecture.crop)
        return tuple(a.astype(np.float64) for a in (cls, geo, pair, crop))

    def probs(self, boxes, topk_idx, topk_prob, logits=None, inputs: tuple | None = None) -> np.ndarray:
        """(n, C + 1) probabilities per symbol (rows in the order given); the last column is junk. ``logits``:
        the classifier's logits of each symbol (see ``crop_features``), used by a model trained with them.
        ``inputs``: this expression's ``inputs``, when the caller has them already."""
        if len(boxes) == 0:
            return np.zeros((0, self.num_classes + 1), np.float32)
        return _softmax(self.logits(*(inputs or self.inputs(boxes, topk_idx, topk_prob, logits))))


def _softmax(z: np.ndarray) -> np.ndarray:
    """A row softmax of float64 logits, returned as float32 (``ContextModel.probs``)."""
    z = np.exp(z - z.max(1, keepdims=True))
    return (z / z.sum(1, keepdims=True)).astype(np.float32)


class ContextEnsemble:
    """Several context models read as one: the mean of their probabilities (they share the classifier and its
    classes). Same ``probs`` as ``ContextModel``; ``card`` and ``classes`` are the first member's. An ensemble of
    one is that model on ONNX Runtime (``probs_many``).

    ``onnx``: the members run as one ONNX Runtime graph where they can (``_session``): a call takes about 0.55x the
    CPU of the NumPy stack, and the probabilities move by at most about 5e-7 (float32 sums in another order;
    docs/decisions/speed.md); False: in NumPy (``numpy_blocks``), as without ONNX Runtime."""

    def __init__(self, members: list[ContextModel], onnx: bool = True):
        if not members or any(m.classes != members[0].classes for m in members):
            raise InkmathError("The symbol context models of an ensemble must read the same classifier's classes; "
                               "retrain them from recipes that name one classifier")
        self.members = members
        self.classes = members[0].classes
        self.card = members[0].card
        self.architecture = members[0].architecture
        # members of one architecture run their transformer blocks as one stack (``transformer.stack_tensors``):
        # the same arithmetic per member, in a third of the NumPy calls
        same = all(m.architecture == self.architecture and m.tensors.keys() == members[0].tensors.keys()
                   for m in members)
        self.stacked = stack_tensors([m.tensors for m in members]) if same and len(members) > 1 else None
        self._ort = None  # the members as one ONNX Runtime graph (``_session``), built on first use
        self._ort_ok = onnx and same and not self.architecture.crop and not self.architecture.writer

    def _session(self):
        """The members as one ONNX Runtime graph (``onnx_session``), or None where it does not apply (members of
        different architectures, crop or writer features; an ensemble made with ``onnx`` False) or ONNX Runtime is
        not installed."""
        if self._ort is None and self._ort_ok:
            try:
                self._ort = onnx_session(self.members)
            except ImportError:
                self._ort_ok = False
        return self._ort

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def probs(self, boxes, topk_idx, topk_prob, logits=None) -> np.ndarray:
        """The members' mean; each expression's features computed once for the members that read the same."""
        if len(boxes) and self._session() is not None:
            return self._ort_probs([(boxes, topk_idx, topk_prob, logits)])[0]
        if self.stacked is not None and len(boxes):
            ins = self.members[0].inputs(boxes, topk_idx, topk_prob, logits)
            embedded = [m.embed(*ins) for m in self.members]
            x = numpy_blocks(np.stack([e[0] for e in embedded]), np.stack([e[1] for e in embedded]), self.stacked,
                             self.architecture.layers, self.architecture.heads)
            return np.mean([_softmax(m.head(x[i], e[2])) for i, (m, e) in enumerate(zip(self.members, embedded))],
                           axis=0)
        inputs: dict[tuple, tuple | None] = {}
        out = []
        for m in self.members:
            key = (m.architecture.writer, m.architecture.crop)
            if key not in inputs:
                inputs[key] = m.inputs(boxes, topk_idx, topk_prob, logits) if len(boxes) else None
            out.append(m.probs(boxes, topk_idx, topk_prob, logits, inputs=inputs[key]))
        return np.mean(out, axis=0)

    def probs_many(self, expressions: list[tuple]) -> list[np.ndarray]:
        """``probs`` of several expressions, each given as (boxes, topk_idx, topk_prob, logits): on ONNX Runtime in
        one run, the expressions padded to the longest and masked (the decoder's groupings of one input: the same
        floats as one run each, the run's CPU about 0.64x, the weights read once; docs/decisions/speed.md); else one
        by one."""
        if self._session() is None:
            return [self.probs(*e) for e in expressions]
        return self._ort_probs(expressions)

    def _ort_probs(self, expressions: list[tuple]) -> list[np.ndarray]:
        """``probs`` of the expressions in one run of the ONNX Runtime graph (``probs_many``)."""
        feats = [self.members[0].inputs(*e)[:3] for e in expressions if len(e[0])]
        out, k = [], 0
        if feats:
            n = max(len(f[0]) for f in feats)
            cls = np.zeros((len(feats), n, feats[0][0].shape[1]), np.float32)
            geo = np.zeros((len(feats), n, feats[0][1].shape[1]), np.float32)
            pair = np.zeros((len(feats), n, n, feats[0][2].shape[2]), np.float32)
            mask = np.zeros((len(feats), n), bool)
            for b, (c, g, pr) in enumerate(feats):
                m = len(c)
                cls[b, :m], geo[b, :m], pair[b, :m, :m], mask[b, :m] = c, g, pr, True
            z = self._ort.run(None, {"cls": cls, "geo": geo, "pair": pair, "mask": mask})[0]
        for e in expressions:
            if not len(e[0]):
                out.append(self.probs(*e))
                continue
            m = len(feats[k][0])
            out.append(np.mean([_softmax(z[i, k, :m].astype(np.float64)) for i in range(len(self.members))], axis=0))
            k += 1
        return out


ONNX_OPSET = 17


def onnx_session(members: list[ContextModel]):
    """One ONNX Runtime session (one thread) that runs ``members`` (one architecture, no crop or writer inputs) on
    a batch of B expressions padded to n symbols: inputs ``cls`` (B, n, 2C), ``geo`` (B, n, G), ``pair`` (B, n, n,
    P), float32, and ``mask`` (B, n), True for real symbols; output (M, B, n, C + 1), each member's logits. The
    graph is exported from the training network (``context_net.build_net``) with the members' weights, once, into
    the cache (``cache_dir()/onnx/context-<sha256>.onnx``)."""
    import hashlib

    h = hashlib.sha256(f"context-opset{ONNX_OPSET}-masked".encode())
    for m in members:
        h.update(json.dumps([m.architecture.__dict__, m.classes], sort_keys=True).encode())
        hash_tensors(h, m.tensors)
    return cached_session("context", h.hexdigest(), lambda: export_members(members, ONNX_OPSET))


def load_context_model(name_or_path: str = MODEL_NAME) -> ContextModel:
    """The context model ``name_or_path`` (a shipped name or a file), loaded once per process
    (``registry.load_model``)."""
    return load_model(name_or_path, ContextModel.KIND)
