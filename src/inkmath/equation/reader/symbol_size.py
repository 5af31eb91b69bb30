"""Look-alike symbols told apart by their size, their place and the expression's other symbols: the context models'
choice within a pair (x / X, p / P, 1 / |, 1 / (, q / 9 ...) corrected by small logistic models fitted on validation.

Why models of their own: the context models learn from the CROHME training ink, whose writers write capitals small (a
capital's height over the x-height letters', median: X 1.69, C 1.66 in training against 2.34, 2.36 in the 2011-2013
test ink; docs/decisions/structure-model.md), so in that ink size does not tell case and the models learn not
to look. The validation writers write them taller, as the 2014 test's and most writers do. Where a symbol's reading
is one symbol of a pair in ``PAIRS`` and the other is among its readings, the pair's log-odds ``z`` (the second over
the first) become ``a * z + w · features + b`` (``pair_features``):
- for p / P, 1 / | and 1 / (, the symbol's height against the reference's (log ratio) and its top and bottom less the
  reference's (in reference heights), the reference being the median box of the *other* symbols of the expression
  read as x-height letters (``XHEIGHT_LETTERS``); where the expression has no other x-height letter, 1 / | and 1 / (
  are left as read, and p / P is read by the expression's capitals against its small letters (``NO_REFERENCE_PAIRS``);
- for the letters whose capital is the same shape (``SIZE_LETTERS``), the height against that reference (0 without
  one) and whether there is one, and how the expression writes its letters (``case_features``): its capitals against
  its small letters, and the other symbols read as the same capital.
The pair keeps its probability mass; the symbol's reading becomes the likelier of the two. y / Y is left alone (its
tail makes a small y as tall as a capital, and the validation holds 13 capital Ys, too few to fit).

Then a digit and the letter it looks like (``DIGIT_PAIRS``: q / 9, b / 6, o / 0 ...) are told apart the same way by
the digits against the letters among the expression's other symbols (``correct_digits``), and a prime and the 1 or
comma it is read as by the shape of its box (``correct_primes``).

The coefficients are fitted by ``benchmarks/symbol_size_fit.py`` on the validation's truth segmentation as the
stroke reader's context models read it, cross-validated over expressions: see ``PAIRS`` and ``DIGIT_PAIRS``. The
letters' and the digits' coefficients serve images too (measured there); p / P and 1 / ( have the image reader's
own, fitted the same way on the WAP-like renderings as it reads them (``IMAGE_PAIRS``); 1 / | is corrected in
drawn ink only (``STROKES_ONLY``: its image fit read 2 WAP-like renderings fewer), so in an image a 1 also read | and (
is corrected as 1 / (.

    tokens, candidates = correct(hyps, tokens, candidates, known, image=False)
    tokens, candidates = correct_digits(tokens, candidates, known)
    tokens, candidates = correct_primes(hyps, tokens, candidates, known)
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import numpy as np

from inkmath.equation.core.tree import Box, Candidate, SymbolHyp

# the letters whose height is the reference: no ascender, no descender
XHEIGHT_LETTERS = frozenset("acemnorsuvwxz")
# how far a symbol's top or bottom may count, in reference heights (a script's symbol sits far off the line)
POSITION_CLIP = 3.0
FEATURES = ("ratio", "top", "bottom")  # ``place_features``' order
# letters whose shape tells their case, whose count in an expression tells how it writes its letters
# (``case_features``)
CAPITALS = frozenset("ABDEFGHIJLMNQRTY")
SMALL_LETTERS = frozenset("abdefghijmnqrty")
SAME_CAPITAL_CLIP = 2  # the other symbols read as the pair's capital count up to this many
# the letters whose capital is the same shape, larger; their features (``pair_features``): the size against the
# x-height letters (0 without any), whether there are any, the expression's capitals against its small letters, the
# other symbols read as the same capital
SIZE_LETTERS = ("c", "s", "v", "x", "o", "w", "z", "k", "u")
SIZE_FEATURES = ("ratio", "reference", "capital_share", "same_capital")
# (a, b_ratio, b_reference, b_capital_share, b_same_capital, c), fitted on the 2011-2013 test ink's truth
# segmentation (1,130 symbols of these pairs, 153 of them without an x-height letter beside them): the context
# models read 1,023 right, the size alone (the first fitted coefficients, where there is an x-height letter) 1,046, size
# alone fitted again on all 1,130 1,055 in 5-fold cross-validation over expressions (1,051-1,060 in ten shuffles of
# the folds), these 1,065 in-sample and 1,064.5 cross-validated (1,062-1,066)
# (benchmarks/symbol_size_fit.py; docs/decisions/lookalike-corrections.md)
SIZE_COEFFICIENTS = (0.791, 1.561, -0.026, 1.604, 1.459, 0.507)
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
    **{(s, s.upper()): (SIZE_FEATURES, SIZE_COEFFICIENTS) for s in SIZE_LETTERS},
    ("p", "P"): (("top", "bottom"), POSITION_COEFFICIENTS),
    ("|", "1"): (FEATURES, ONE_BAR_COEFFICIENTS),
    ("(", "1"): (FEATURES, ONE_BRACKET_COEFFICIENTS),
}
# The image reader's own features and coefficients (``IMAGE_PAIRS``), fitted as above on the truth symbols of the
# WAP-like renderings of the same ink as the image reader reads their pixels, with its context models
# (benchmarks/symbol_size_fit.py val --image; docs/decisions/lookalike-corrections.md). The whole image reader
# chose them: on the 1,504 WAP-like validation renderings (benchmarks/wap_val.py) 910 right with the letters' and p's
# stroke coefficients and no correction of 1 / | and 1 / (; with the image p alone 910 (no expression gained or lost);
# with the image p and 1 / ( 911 (1 gained, none lost); with the image p, 1 / ( and 1 / | 911; with the image p and
# 1 / | 908 (2 lost)
# p / P: 94 symbols, the models 60 right, the stroke coefficients 81, these 85 in-sample, 84 cross-validated
IMAGE_POSITION_COEFFICIENTS = (1.29, -2.277, 1.228, 0.777)
# 1 / (: 249 symbols, the models 238 right (the stroke coefficients 230), these 242 in-sample, 238 in 5-fold
# cross-validation by expression (241-242 in ten shuffles of the folds); read where there is an x-height letter
IMAGE_ONE_BRACKET_COEFFICIENTS = (1.314, -0.581, 0.631, -0.74, 2.313)
IMAGE_PAIRS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[float, ...]]] = {
    ("p", "P"): (("top", "bottom"), IMAGE_POSITION_COEFFICIENTS),
    ("(", "1"): (FEATURES, IMAGE_ONE_BRACKET_COEFFICIENTS),
}
# p / P where the expression has no x-height letter: (a, b_capital_share, c), fitted on the 35 such symbols of the
# same data, rounded to two places (the models 23 right, these 28 in-sample, 27.4 in 5-fold cross-validation over
# expressions, 24-30 in ten shuffles of the folds; the whole reader on validation: strokes 1,087 -> 1,090, WAP-like
# 917 -> 924)
NO_REFERENCE_PAIRS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[float, ...]]] = {
    ("p", "P"): (("capital_share",), (0.39, 3.63, 0.32)),
}
# pairs corrected in drawn ink only: the image fit of 1 / | (355 symbols: the models 331 right, the stroke
# coefficients 342, the image fit 344 in-sample, 337 cross-validated) read 2 WAP-like renderings fewer (908, above)
STROKES_ONLY = frozenset({("|", "1")})
# A digit and the letter it looks like (q / 9, b / 6, o / 0 ...), told apart by what the expression's other symbols
# are: the pair's log-odds z (the digit over the letter) become DIGIT_ODDS * z + DIGIT_SHARE * the digits less the
# letters among the other symbols over their sum plus one (``digit_share``) + the pair's own bias. Fitted on the
# 2011-2013 test ink's truth segmentation as the stroke reader reads it, after the size correction (2,382 symbols of
# these pairs): the context models read 2,308 right, these 2,322 in-sample and 2,320.5 in 5-fold cross-validation
# over expressions (2,318-2,323 in ten shuffles of the folds); per pair in-sample: q / 9 84 -> 87 of 98, b / 6
# 149 -> 151 of 161, o / 0 304 -> 307 of 324, y / 4 69 -> 73 of 73, S / 5 and g / 9 one more each, the others the same
# (docs/decisions/lookalike-corrections.md)
DIGIT_ODDS, DIGIT_SHARE = 0.684, 1.038
DIGIT_PAIRS: dict[tuple[str, str], float] = {
    ("q", "9"): 0.384, ("b", "6"): 0.204, ("z", "2"): -0.257, ("o", "0"): 0.51, ("s", "5"): -0.056,
    ("S", "5"): 0.018, ("g", "9"): 0.097, ("l", "1"): 0.727, ("y", "4"): -1.456,
}
DIGITS = frozenset("0123456789")
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# A prime and the symbols it is read as (``PRIME_OTHERS``: a 1, a comma), told apart by the symbol's shape: a prime
# is a short slanted tick, wider for its height than a 1 (median log width over height -1.06 against -2.25). The
# pair's log-odds z (the prime over the other) become PRIME_COEFFICIENTS[0] * z + PRIME_COEFFICIENTS[1] * the box's
# log width over height (``box_aspect``, clipped at ``ASPECT_CLIP``) + PRIME_COEFFICIENTS[2]. Fitted on the 2011-2013
# test ink's truth segmentation as the stroke reader reads it, after the size and digit corrections (352 symbols, 35
# of them primes): the context models read 328 right, a bias alone 334.2 in 5-fold cross-validation over expressions
# (ten shuffles of the folds), these 340 in-sample and 339.1 cross-validated (338-341); the whole reader on
# validation: strokes 1,090 -> 1,093 (3 gained, none lost), WAP-like 924 -> 924 (2 gained, 2 lost). Images use them
# too: on the image reader's truth symbols they read 144 of 154 against the models' 139 (an image fit: 147 in-sample)
# (benchmarks/symbol_size_fit.py; docs/decisions/stroke-grouping.md)
PRIME = "\\prime"
PRIME_OTHERS = ("1", ",")
ASPECT_CLIP = 3.0
PRIME_COEFFICIENTS = (0.979, 1.955, 6.079)
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


def case_features(tokens: Sequence[str], i: int, pair: tuple[str, str]) -> dict[str, float]:
    """How the expression writes its letters, as read by the other symbols' ``tokens``: its capitals less its small
    letters over their sum plus one (``CAPITALS``, ``SMALL_LETTERS``), and how many others read as ``pair``'s capital
    (up to ``SAME_CAPITAL_CLIP``)."""
    same = sum(t == pair[1] for j, t in enumerate(tokens) if j != i)
    return {"capital_share": _share(tokens, i, CAPITALS, SMALL_LETTERS),
            "same_capital": float(min(same, SAME_CAPITAL_CLIP))}


def pair_features(hyps: Sequence[SymbolHyp], tokens: Sequence[str], i: int, pair: tuple[str, str],
                  image: bool = False) -> dict[str, float] | None:
    """The features of symbol ``i`` that ``pair``'s coefficients read (``pair_model``), or None where they need the
    x-height letters' reference (``reference_box``) and the expression has none."""
    ref = reference_box(hyps, tokens, i)
    names = pair_model(pair, image, ref is not None)[0]
    if ref is None and "reference" not in names and any(n in FEATURES for n in names):
        return None
    out = place_features(hyps[i].box, ref) if ref is not None else dict.fromkeys(FEATURES, 0.0)
    out["reference"] = float(ref is not None)
    if "capital_share" in names:
        out.update(case_features(tokens, i, pair))
    return out


def digit_share(tokens: Sequence[str], i: int) -> float:
    """The digits less the letters among the symbols other than ``i``, over their sum plus one (-1 to 1)."""
    return _share(tokens, i, DIGITS, LETTERS)


def _share(tokens: Sequence[str], i: int, more, fewer) -> float:
    """Among the symbols other than ``i``: those read as one of ``more`` less those read as one of ``fewer``, over
    their sum plus one (-1 to 1)."""
    others = [t for j, t in enumerate(tokens) if j != i]
    m = sum(t in more for t in others)
    f = sum(t in fewer for t in others)
    return (m - f) / (m + f + 1)


def _matching_pairs(candidates: Sequence[Candidate], pairs) -> Iterator[tuple[str, str]]:
    """The pairs of ``pairs`` (in order) whose one symbol is the first reading and the other among the readings."""
    if not candidates:
        return iter(())
    first, tokens = candidates[0].token, {c.token for c in candidates}
    return (p for p in pairs if first in p and p[0] in tokens and p[1] in tokens)


def find_pair(candidates: Sequence[Candidate], image: bool = False) -> tuple[str, str] | None:
    """The pair of ``PAIRS`` whose one symbol is the first reading and the other among the readings, or None (with
    ``image``, only a pair the image reader corrects, ``pair_model``)."""
    return next((p for p in _matching_pairs(candidates, PAIRS) if pair_model(p, image) is not None), None)


def pair_model(pair: tuple[str, str], image: bool = False,
               reference: bool = True) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """(features, coefficients) ``pair`` is corrected with: ``PAIRS``', or with ``image`` the image reader's
    (``IMAGE_PAIRS``, else ``PAIRS``'), None where it leaves the pair alone (``STROKES_ONLY``). ``reference``: whether
    the expression has an x-height letter (without: ``NO_REFERENCE_PAIRS``' where the pair has one)."""
    if not reference and pair in NO_REFERENCE_PAIRS:
        return NO_REFERENCE_PAIRS[pair]
    if image:
        if pair in IMAGE_PAIRS:
            return IMAGE_PAIRS[pair]
        if pair in STROKES_ONLY:
            return None
    return PAIRS[pair]


def image_coefficients(pair: tuple[str, str]) -> tuple[float, ...] | None:
    """The coefficients the image reader corrects ``pair`` with (``pair_model``), or None where it leaves it alone."""
    model = pair_model(pair, image=True)
    return None if model is None else model[1]


def corrected_log_odds(pair: tuple[str, str], z: float, features: dict[str, float], image: bool = False) -> float:
    """The pair's log-odds (the second over the first) after the correction; ``image``: the image reader's
    (``pair_model``; the pair must be one it corrects)."""
    names, coefficients = pair_model(pair, image, features.get("reference", 1.0) > 0)
    return coefficients[0] * z + sum(w * features[n] for w, n in zip(coefficients[1:-1], names)) + coefficients[-1]


def correct(hyps: Sequence[SymbolHyp], tokens: list[str], candidates: list[list[Candidate]],
            known: Sequence[bool], image: bool = False) -> tuple[list[str], list[list[Candidate]]]:
    """Each symbol's tokens and candidates with its pair's probabilities moved (the module docstring); the references
    read the tokens as given. ``image``: the image reader's readings (``STROKES_ONLY`` pairs left alone). New lists;
    the inputs are not changed."""
    def odds(i: int):
        pair = find_pair(candidates[i], image)
        features = pair_features(hyps, tokens, i, pair, image) if pair is not None else None
        return None if features is None else (pair, lambda z: corrected_log_odds(pair, z, features, image))

    return _corrected(tokens, candidates, known, odds)


def _corrected(tokens: list[str], candidates: list[list[Candidate]], known: Sequence[bool],
               odds) -> tuple[list[str], list[list[Candidate]]]:
    """``tokens`` and ``candidates`` with the pair of each symbol the reader may re-read (``known``) moved where
    ``odds(i)`` gives (the pair, its corrected log-odds as a function of the models' z); None leaves symbol i as
    read. New lists; the inputs are not changed."""
    out_tokens, out_cands = list(tokens), [list(c) for c in candidates]
    for i, cands in enumerate(candidates):
        found = odds(i) if known[i] else None
        if found is None:
            continue
        pair, log_odds = found
        out_cands[i] = _moved(cands, pair, log_odds)
        out_tokens[i] = out_cands[i][0].token
    return out_tokens, out_cands


def find_digit_pair(candidates: Sequence[Candidate]) -> tuple[str, str] | None:
    """The pair of ``DIGIT_PAIRS`` whose one symbol is the first reading and the other among the readings, or None."""
    return next(_matching_pairs(candidates, DIGIT_PAIRS), None)


def _moved(candidates: Sequence[Candidate], pair: tuple[str, str], log_odds) -> list[Candidate]:
    """``candidates`` with ``pair``'s probability mass shared anew: the second gets the logistic of
    ``log_odds(z)``, z being the pair's log-odds as read (the second over the first); best first."""
    p = {c.token: c.prob for c in candidates}
    first, second = pair
    mass = p[first] + p[second]
    z = math.log(p[second] + 1e-9) - math.log(p[first] + 1e-9)
    p[second] = mass / (1.0 + math.exp(-log_odds(z)))
    p[first] = mass - p[second]
    return sorted((Candidate(c.token, float(p[c.token])) for c in candidates), key=lambda c: -c.prob)


def correct_digits(tokens: list[str], candidates: list[list[Candidate]],
                   known: Sequence[bool]) -> tuple[list[str], list[list[Candidate]]]:
    """Each symbol read as a digit or the letter it looks like (``DIGIT_PAIRS``), with the other among its readings,
    moved between the two by what the expression's other symbols are (``DIGIT_ODDS``); the shares read ``tokens`` as
    given. New lists."""
    def odds(i: int):
        pair = find_digit_pair(candidates[i])
        if pair is None:
            return None
        share = digit_share(tokens, i)
        return pair, lambda z: DIGIT_ODDS * z + DIGIT_SHARE * share + DIGIT_PAIRS[pair]

    return _corrected(tokens, candidates, known, odds)


def box_aspect(box: Box) -> float:
    """The log of a box's width over its height, clipped at ``ASPECT_CLIP``."""
    w, h = max(box.x1 - box.x0, 1e-6), max(box.y1 - box.y0, 1e-6)
    return float(np.clip(math.log(w / h), -ASPECT_CLIP, ASPECT_CLIP))


def find_prime_pair(candidates: Sequence[Candidate]) -> tuple[str, str] | None:
    """(other, prime) where the first reading is the prime or one of ``PRIME_OTHERS`` and both are among the
    readings; the other is the first reading or, where the prime is, the likelier of ``PRIME_OTHERS``; else None."""
    p = {c.token: c.prob for c in candidates}
    if not candidates or PRIME not in p:
        return None
    first = candidates[0].token
    if first in PRIME_OTHERS:
        return first, PRIME
    others = [t for t in PRIME_OTHERS if t in p]
    return (max(others, key=lambda t: p[t]), PRIME) if first == PRIME and others else None


def correct_primes(hyps: Sequence[SymbolHyp], tokens: list[str], candidates: list[list[Candidate]],
                   known: Sequence[bool]) -> tuple[list[str], list[list[Candidate]]]:
    """Each symbol read as a prime or as what a prime is read as (``PRIME_OTHERS``), with the other among its
    readings, moved between the two by its box's shape (``PRIME_COEFFICIENTS``). New lists."""
    a, b, c = PRIME_COEFFICIENTS

    def odds(i: int):
        pair = find_prime_pair(candidates[i])
        if pair is None:
            return None
        shape = box_aspect(hyps[i].box)
        return pair, lambda z: a * z + b * shape + c

    return _corrected(tokens, candidates, known, odds)
