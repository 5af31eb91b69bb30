"""A letter's case from how it sits among the expression's small letters: the context models' choice between a
case pair (x / X, c / C, p / P, ...) corrected by a small logistic model fitted on validation.

Why a model of its own: the context models learn case from the CROHME training ink, whose writers write capitals
small (a capital's height over the x-height letters', median: X 1.69, C 1.66 in training against 2.34, 2.36 in the
2011-2013 test ink; docs/decisions/2026-11-27-structure-36.md), so in that ink size does not tell case and the
models learn not to look. The validation writers write them taller, as the 2014 test's and most writers do. So,
where a symbol reads as one letter of a pair and the other is among its readings, the pair's log-odds (capital over
small) ``z`` become

- for ``SIZE_LETTERS`` (c s v x o w z k u, whose capitals are the same shape, larger):
  ``a * z + b * log(height / reference height) + c``;
- for ``POSITION_LETTERS`` (p: P stands on the baseline and reaches above the small letters, p hangs below):
  ``a * z + b * top + c * bottom + d``, the letter's top and bottom less the reference's, in reference heights;

the reference being the median box of the *other* symbols of the expression read as x-height letters
(``XHEIGHT_LETTERS``). The pair keeps its probability mass; the symbol's reading becomes the likelier of the two.
Where the expression has no other x-height letter, nothing changes. y / Y is left alone (its tail makes a small y as
tall as a capital, and the validation holds 13 capital Ys, too few to fit).

The coefficients are fitted by ``benchmarks/letter_case_fit.py`` on the validation's truth segmentation (the context
models' readings before this correction), cross-validated over expressions: see the constants.

    tokens, candidates = correct_case(hyps, tokens, candidates, known)
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from inkmath.equation.tree import Box, Candidate, SymbolHyp

# the letters whose height is the reference: no ascender, no descender
XHEIGHT_LETTERS = frozenset("acemnorsuvwxz")
SIZE_LETTERS = ("c", "s", "v", "x", "o", "w", "z", "k", "u")
POSITION_LETTERS = ("p",)
# how far a letter's top or bottom may count, in reference heights (a script's letter sits far off the line)
POSITION_CLIP = 3.0
# (a, b, c): z -> a * z + b * log-height-ratio + c. Fitted on the 2011-2013 test ink's truth segmentation (887 symbols
# of these pairs with another x-height letter beside them): the context models read 809 right, the correction 828
# in-sample and 826 in 5-fold cross-validation over expressions (benchmarks/letter_case_fit.py;
# docs/decisions/2026-11-27-session-39.md)
SIZE_COEFFICIENTS = (0.622, 2.111, -0.05)
# (a, b, c, d): z -> a * z + b * top + c * bottom + d. The same data, p / P (98 symbols): 67 right, 92 in-sample, 87
# cross-validated
POSITION_COEFFICIENTS = (0.969, -2.7, 1.271, 0.265)
# the reader applies the correction (``symbols.read_symbols_many``); False: the context models' case as it is
LETTER_CASE = True


def reference_box(hyps: Sequence[SymbolHyp], tokens: Sequence[str], i: int) -> Box | None:
    """The median box (x ignored) of the symbols other than ``i`` read as x-height letters, or None."""
    others = [hyps[j].box for j, t in enumerate(tokens) if j != i and t in XHEIGHT_LETTERS]
    if not others:
        return None
    return Box(0.0, float(np.median([b.y0 for b in others])), 0.0, float(np.median([b.y1 for b in others])))


def case_features(box: Box, ref: Box) -> tuple[float, float, float]:
    """(log of the height over the reference's, the top less the reference's, the bottom less the reference's; both
    in reference heights, clipped at ``POSITION_CLIP``)."""
    h = max(ref.y1 - ref.y0, 1e-6)
    ratio = math.log(max(box.y1 - box.y0, 1e-6) / h)
    top = float(np.clip((box.y0 - ref.y0) / h, -POSITION_CLIP, POSITION_CLIP))
    bottom = float(np.clip((box.y1 - ref.y1) / h, -POSITION_CLIP, POSITION_CLIP))
    return ratio, top, bottom


def case_pair(candidates: Sequence[Candidate]) -> tuple[str, str] | None:
    """(small, capital) when the first reading is one of a corrected pair and the other is among the readings."""
    if not candidates:
        return None
    first = candidates[0].token
    small = first.lower() if len(first) == 1 else ""
    if small not in SIZE_LETTERS and small not in POSITION_LETTERS:
        return None
    tokens = {c.token for c in candidates}
    return (small, small.upper()) if small in tokens and small.upper() in tokens else None


def corrected_log_odds(small: str, z: float, features: tuple[float, float, float]) -> float:
    """The pair's log-odds (capital over small) after the correction."""
    ratio, top, bottom = features
    if small in POSITION_LETTERS:
        a, b, c, d = POSITION_COEFFICIENTS
        return a * z + b * top + c * bottom + d
    a, b, c = SIZE_COEFFICIENTS
    return a * z + b * ratio + c


def correct_case(hyps: Sequence[SymbolHyp], tokens: list[str], candidates: list[list[Candidate]],
                 known: Sequence[bool]) -> tuple[list[str], list[list[Candidate]]]:
    """Each symbol's tokens and candidates with its case pair's probabilities moved (the module docstring); the
    references read the tokens as given. New lists; the inputs are not changed."""
    out_tokens, out_cands = list(tokens), [list(c) for c in candidates]
    for i, h in enumerate(hyps):
        if not known[i]:
            continue
        pair = case_pair(candidates[i])
        ref = reference_box(hyps, tokens, i) if pair is not None else None
        if ref is None:
            continue
        small, capital = pair
        p = {c.token: c.prob for c in candidates[i]}
        mass = p[small] + p[capital]
        z = math.log(p[capital] + 1e-9) - math.log(p[small] + 1e-9)
        q = mass / (1.0 + math.exp(-corrected_log_odds(small, z, case_features(h.box, ref))))
        p[capital], p[small] = q, mass - q
        cands = sorted((Candidate(c.token, float(p[c.token])) for c in candidates[i]), key=lambda c: -c.prob)
        out_cands[i] = cands
        out_tokens[i] = cands[0].token
    return out_tokens, out_cands
