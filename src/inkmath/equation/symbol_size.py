"""Look-alike symbols told apart by their size and place among the expression's small letters: the context models'
choice within a pair (x / X, p / P, 1 / |, 1 / ( ...) corrected by a small logistic model fitted on validation.

Why a model of its own: the context models learn from the CROHME training ink, whose writers write capitals small (a
capital's height over the x-height letters', median: X 1.69, C 1.66 in training against 2.34, 2.36 in the 2011-2013
test ink; docs/decisions/2026-11-27-structure-36.md), so in that ink size does not tell case and the models learn not
to look. The validation writers write them taller, as the 2014 test's and most writers do. Where a symbol's reading
is one symbol of a pair in ``PAIRS`` and the other is among its readings, the pair's log-odds ``z`` (the second over
the first) become ``a * z + w · features + b``, the features being (``place_features``) the symbol's height against
the reference's (log ratio) and its top and bottom less the reference's (in reference heights); the reference is the
median box of the *other* symbols of the expression read as x-height letters (``XHEIGHT_LETTERS``). The pair keeps
its probability mass; the symbol's reading becomes the likelier of the two. Where the expression has no other
x-height letter, nothing changes. y / Y is left alone (its tail makes a small y as tall as a capital, and the
validation holds 13 capital Ys, too few to fit).

The coefficients are fitted by ``benchmarks/symbol_size_fit.py`` on the validation's truth segmentation as the
stroke reader's context models read it, cross-validated over expressions: see ``PAIRS``. The letters' coefficients
serve images too (measured there, ``PAIRS``); p / P and 1 / ( have the image reader's own, fitted the same way on
the WAP-like renderings as it reads them (``IMAGE_COEFFICIENTS``); 1 / | is corrected in drawn ink only
(``STROKES_ONLY``: its image fit read 2 WAP-like renderings fewer), so in an image a 1 also read | and ( is corrected
as 1 / (.

    tokens, candidates = correct(hyps, tokens, candidates, known, image=False)
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from inkmath.equation.tree import Box, Candidate, SymbolHyp

# the letters whose height is the reference: no ascender, no descender
XHEIGHT_LETTERS = frozenset("acemnorsuvwxz")
# how far a symbol's top or bottom may count, in reference heights (a script's symbol sits far off the line)
POSITION_CLIP = 3.0
FEATURES = ("ratio", "top", "bottom")  # ``place_features``' order
# the letters whose capital is the same shape, larger: (a, b_ratio, c). Fitted on the 2011-2013 test ink's truth
# segmentation (887 symbols of these pairs with another x-height letter beside them): the context models read 809
# right, the correction 828 in-sample and 826 in 5-fold cross-validation over expressions
# (benchmarks/symbol_size_fit.py; docs/decisions/2026-11-27-session-39.md)
SIZE_LETTERS = ("c", "s", "v", "x", "o", "w", "z", "k", "u")
SIZE_COEFFICIENTS = (0.622, 2.111, -0.05)
# p / P (P stands on the baseline and reaches above the small letters, p hangs below): (a, b_top, b_bottom, c). The
# same data, 98 symbols: 67 right, 92 in-sample, 87 cross-validated
POSITION_COEFFICIENTS = (0.969, -2.7, 1.271, 0.265)
# 1 against a bar and an opening bracket, which reach above and below the small letters: (a, b_ratio, b_top,
# b_bottom, c) with z = log P(1) - log P(other). The same data: 1 / | 374 symbols, 343 right, 361 in-sample, 356
# cross-validated; 1 / ( (where | is not also among the readings) 203 symbols, 185 right, 193 and 192
ONE_BAR_COEFFICIENTS = (0.519, -2.108, 1.285, -2.209, 2.351)
ONE_BRACKET_COEFFICIENTS = (0.554, -1.164, 1.441, -1.535, 2.742)
# (first, second) -> (the features read, the coefficients: z's, the features', the bias)
PAIRS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[float, ...]]] = {
    **{(s, s.upper()): (("ratio",), SIZE_COEFFICIENTS) for s in SIZE_LETTERS},
    ("p", "P"): (("top", "bottom"), POSITION_COEFFICIENTS),
    ("|", "1"): (FEATURES, ONE_BAR_COEFFICIENTS),
    ("(", "1"): (FEATURES, ONE_BRACKET_COEFFICIENTS),
}
# The image reader's own coefficients (``IMAGE_COEFFICIENTS``, ``PAIRS``' features), fitted as above on the truth
# symbols of the WAP-like renderings of the same ink as the image reader reads their pixels, with its context models
# (benchmarks/symbol_size_fit.py val --image; docs/decisions/2026-11-28-image-size-40.md). The whole image reader
# chose them: on the 1,504 WAP-like validation renderings (benchmarks/wap_val.py) 910 right with the letters' and p's
# stroke coefficients and no correction of 1 / | and 1 / (; with the image p alone 910 (no expression gained or lost);
# with the image p and 1 / ( 911 (1 gained, none lost); with the image p, 1 / ( and 1 / | 911; with the image p and
# 1 / | 908 (2 lost)
# p / P: 94 symbols, the models 60 right, the stroke coefficients 81, these 85 in-sample, 84 cross-validated
IMAGE_POSITION_COEFFICIENTS = (1.29, -2.277, 1.228, 0.777)
# 1 / (: 249 symbols, the models 238 right (the stroke coefficients 230), these 242 in-sample, 238 in 5-fold
# cross-validation by expression (241-242 in ten shuffles of the folds)
IMAGE_ONE_BRACKET_COEFFICIENTS = (1.314, -0.581, 0.631, -0.74, 2.313)
IMAGE_COEFFICIENTS: dict[tuple[str, str], tuple[float, ...]] = {
    ("p", "P"): IMAGE_POSITION_COEFFICIENTS,
    ("(", "1"): IMAGE_ONE_BRACKET_COEFFICIENTS,
}
# pairs corrected in drawn ink only: the image fit of 1 / | (355 symbols: the models 331 right, the stroke
# coefficients 342, the image fit 344 in-sample, 337 cross-validated) read 2 WAP-like renderings fewer (908, above)
STROKES_ONLY = frozenset({("|", "1")})
# the reader applies the correction (``symbols.read_symbols_many``); False: the context models' readings as they are
SIZE_AND_PLACE = True


def reference_box(hyps: Sequence[SymbolHyp], tokens: Sequence[str], i: int) -> Box | None:
    """The median box (x ignored) of the symbols other than ``i`` read as x-height letters, or None."""
    others = [hyps[j].box for j, t in enumerate(tokens) if j != i and t in XHEIGHT_LETTERS]
    if not others:
        return None
    return Box(0.0, float(np.median([b.y0 for b in others])), 0.0, float(np.median([b.y1 for b in others])))


def place_features(box: Box, ref: Box) -> dict[str, float]:
    """``FEATURES`` of a symbol's box against the reference: the log of its height over the reference's, its top and
    its bottom less the reference's, in reference heights (clipped at ``POSITION_CLIP``)."""
    h = max(ref.y1 - ref.y0, 1e-6)
    return {"ratio": math.log(max(box.y1 - box.y0, 1e-6) / h),
            "top": float(np.clip((box.y0 - ref.y0) / h, -POSITION_CLIP, POSITION_CLIP)),
            "bottom": float(np.clip((box.y1 - ref.y1) / h, -POSITION_CLIP, POSITION_CLIP))}


def find_pair(candidates: Sequence[Candidate], image: bool = False) -> tuple[str, str] | None:
    """The pair of ``PAIRS`` whose one symbol is the first reading and the other among the readings, or None."""
    if not candidates:
        return None
    first = candidates[0].token
    tokens = {c.token for c in candidates}
    for pair in PAIRS:
        if image and image_coefficients(pair) is None:
            continue
        if first in pair and pair[0] in tokens and pair[1] in tokens:
            return pair
    return None


def image_coefficients(pair: tuple[str, str]) -> tuple[float, ...] | None:
    """The coefficients the image reader corrects ``pair`` with (``IMAGE_COEFFICIENTS``, else ``PAIRS``'), or None
    where it leaves the pair alone (``STROKES_ONLY``)."""
    if pair in IMAGE_COEFFICIENTS:
        return IMAGE_COEFFICIENTS[pair]
    return None if pair in STROKES_ONLY else PAIRS[pair][1]


def corrected_log_odds(pair: tuple[str, str], z: float, features: dict[str, float], image: bool = False) -> float:
    """The pair's log-odds (the second over the first) after the correction; ``image``: the image reader's
    (``image_coefficients``; the pair must be one it corrects)."""
    names, coefficients = PAIRS[pair]
    if image:
        coefficients = image_coefficients(pair)
    return coefficients[0] * z + sum(w * features[n] for w, n in zip(coefficients[1:-1], names)) + coefficients[-1]


def correct(hyps: Sequence[SymbolHyp], tokens: list[str], candidates: list[list[Candidate]],
            known: Sequence[bool], image: bool = False) -> tuple[list[str], list[list[Candidate]]]:
    """Each symbol's tokens and candidates with its pair's probabilities moved (the module docstring); the references
    read the tokens as given. ``image``: the image reader's readings (``STROKES_ONLY`` pairs left alone). New lists;
    the inputs are not changed."""
    out_tokens, out_cands = list(tokens), [list(c) for c in candidates]
    for i, h in enumerate(hyps):
        if not known[i]:
            continue
        pair = find_pair(candidates[i], image)
        ref = reference_box(hyps, tokens, i) if pair is not None else None
        if ref is None:
            continue
        first, second = pair
        p = {c.token: c.prob for c in candidates[i]}
        mass = p[first] + p[second]
        z = math.log(p[second] + 1e-9) - math.log(p[first] + 1e-9)
        q = mass / (1.0 + math.exp(-corrected_log_odds(pair, z, place_features(h.box, ref), image)))
        p[second], p[first] = q, mass - q
        cands = sorted((Candidate(c.token, float(p[c.token])) for c in candidates[i]), key=lambda c: -c.prob)
        out_cands[i] = cands
        out_tokens[i] = cands[0].token
    return out_tokens, out_cands
