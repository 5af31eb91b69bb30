"""A learnt check on the layout rules: is a symbol on the baseline, a superscript or a subscript of the one before?

The layout rules decide with geometry (``layout_rules.rule_relation``); this small model sees the same two units
(their boxes against the base's core and the row height, their token classes and kinds) together with the rule's
answer, and overrides the rule when it is at least ``layout_rules.RELATION_MODEL_PROB`` sure of another answer
(``layout_rules.model_relation``). It was
trained on the questions the parser asks while reading the CROHME training expressions from their true symbols,
each answered by the MathML truth (``train_layout``), so it learnt where the rules go wrong on 8,800 expressions by
hundreds of writers, not on the validation set.

    model = load_relation_model()
    model.probs(relation_features(base, u, row_h, band_mid, rule))  # -> (3,) p(right), p(sup), p(sub)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.mlp import SoftmaxMLP, load_members
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.reader.layout_geometry import centre, core_band
from inkmath.equation.core import tokens as T

RECIPE = "inkmath.training.recipes.layout --config configs/layout-relation.yaml"
RELATIONS_OUT = ("right", "sup", "sub")
TOKEN_CLASSES = ("digit", "small", "ascender", "descender", "tall", "operator", "relation", "open", "close",
                 "function", "mark", "other")
UNIT_KINDS = ("sym", "frac", "sqrt", "bigop")
MARK_TOKENS = {".", ",", "\\prime", "\\ldots", "\\cdot", "\\cdots"}
N_GEOMETRY = 21
N_FEATURES = N_GEOMETRY + 2 * len(TOKEN_CLASSES) + 2 * len(UNIT_KINDS) + len(RELATIONS_OUT)


@lru_cache(maxsize=1)
def _token_sets() -> tuple[tuple[str, frozenset], ...]:
    """(class, its tokens) in the order they are tried: the first that holds a token names its class."""
    return tuple((name, frozenset(tokens)) for name, tokens in (
        ("digit", T.DIGITS), ("relation", T.RELATIONS), ("operator", T.OPERATORS), ("open", T.OPEN_BRACKETS),
        ("close", T.CLOSE_BRACKETS), ("function", T.FUNCTION_TOKENS), ("mark", MARK_TOKENS),
        ("ascender", T.ASCENDER_LETTERS), ("descender", T.DESCENDER_LETTERS), ("tall", T.TALL)))


@lru_cache(maxsize=4096)
def token_class(token: str | None) -> str:
    """The class of a token that matters for layout (how it sits on the baseline, what follows it)."""
    if not token:
        return "other"
    for name, tokens in _token_sets():
        if token in tokens:
            return name
    return "small" if token.isalpha() or token.startswith("\\") else "other"


def relation_features(base, u, row_h: float, band_mid: float | None, rule: str) -> np.ndarray:
    """float32 (N_FEATURES,): where unit ``u`` lies against unit ``base`` (in heights of the base's core and of the
    row), what both are, and what the rules say (``rule``: 'right', 'sup' or 'sub')."""
    ct, cb = core_band(base, row_h)
    ch = max(cb - ct, 0.25 * row_h)
    c = centre(u, row_h)
    ut0, ut1 = core_band(u, row_h) if u.kind == "sym" else (u.box.y0, u.box.y1)
    b, x = base.box, u.box
    bh = max(b.h, 0.05 * row_h)
    geometry = [
        (c - ct) / ch, (c - cb) / ch, (x.y0 - ct) / ch, (x.y1 - cb) / ch, (ut0 - ct) / ch, (ut1 - cb) / ch,
        x.h / ch, (ut1 - ut0) / ch, x.h / row_h, b.h / row_h, ch / row_h, x.w / row_h, b.w / row_h,
        (x.x0 - b.x1) / row_h, (x.cx - b.x1) / row_h, (c - band_mid) / row_h if band_mid is not None else 0.0,
        float(band_mid is not None), (x.y0 - b.y0) / bh, (x.y1 - b.y1) / bh, (x.cy - b.cy) / bh, x.h / bh,
    ]
    onehot = _onehot(token_class(base.token if base.kind == "sym" else None),
                     token_class(u.token if u.kind == "sym" else None), base.kind, u.kind, rule)
    return np.concatenate([np.clip(np.asarray(geometry, np.float32), -10, 10), onehot])


@lru_cache(maxsize=None)
def _onehot(base_class: str, u_class: str, base_kind: str, u_kind: str, rule: str) -> np.ndarray:
    """The one-hot part of ``relation_features`` (read-only: made once for each of its few values)."""
    onehot = np.zeros(N_FEATURES - N_GEOMETRY, np.float32)
    k = len(TOKEN_CLASSES)
    onehot[TOKEN_CLASSES.index(base_class)] = 1
    onehot[k + TOKEN_CLASSES.index(u_class)] = 1
    onehot[2 * k + UNIT_KINDS.index(base_kind)] = 1
    onehot[2 * k + len(UNIT_KINDS) + UNIT_KINDS.index(u_kind)] = 1
    onehot[2 * k + 2 * len(UNIT_KINDS) + RELATIONS_OUT.index(rule)] = 1
    onehot.setflags(write=False)
    return onehot


class RelationModel(SoftmaxMLP):
    """features -> standardise -> tanh layer -> softmax over ``RELATIONS_OUT``."""


@register("layout-relation", what="Layout relation model", recipe=RECIPE)
class RelationEnsemble:
    """The mean of its members' probabilities: members trained alike from other seeds disagree on a few questions
    each, and their mean is steadier than any one (see ``train_layout``).

    The parser asks one question at a time, so the members run as one network: each member's standardisation is
    folded into its first layer, the first layers side by side, the second ones block-diagonal (float64; the same
    answers as the members one by one, a quarter of the time).
    """

    def __init__(self, members: list[RelationModel]):
        self.members = members
        k, out = len(members), members[0].w2.shape[1]
        std = [m.std.astype(np.float64) for m in members]
        self._w1 = np.concatenate([m.w1 / s[:, None] for m, s in zip(members, std)], axis=1)
        self._b1 = np.concatenate([m.b1 - (m.mean / s) @ m.w1 for m, s in zip(members, std)])
        hidden = members[0].w1.shape[1]
        self._w2 = np.zeros((k * hidden, k * out))
        for i, m in enumerate(members):
            self._w2[i * hidden:(i + 1) * hidden, i * out:(i + 1) * out] = m.w2
        self._b2 = np.concatenate([m.b2 for m in members]).astype(np.float64)
        self._shape = (k, out)

    def probs(self, feats: np.ndarray) -> np.ndarray:
        """(3,) for one feature vector, (N, 3) for a matrix."""
        f = np.asarray(feats, np.float64)
        z = (np.tanh(f @ self._w1 + self._b1) @ self._w2 + self._b2).reshape(f.shape[:-1] + self._shape)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).mean(axis=-2)

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "RelationEnsemble":
        """The members of a weights file (tensors ``0.w1``, ``1.w1``, ...), which must read ``N_FEATURES``."""
        members = load_members(path, RelationModel, cls.WHAT, cls.RECIPE)
        if members[0].w1.shape[0] != N_FEATURES:
            raise InkmathError(f"Layout relation model {path} takes {members[0].w1.shape[0]} features, this code "
                               f"makes {N_FEATURES}; train it again with `python -m {cls.RECIPE}`.")
        return cls(members)


def member_prefix(k: int) -> str:
    """How member ``k``'s tensors are named in the model file ('0.w1', '1.w1', ...)."""
    return f"{k}."


def load_relation_model(path: str | None = None) -> RelationEnsemble:
    """The shipped layout relation model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, RelationEnsemble.KIND)
