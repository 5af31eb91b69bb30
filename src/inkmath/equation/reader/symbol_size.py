"""Look-alike symbols told apart by their size, their place and the expression's other symbols: the context models'
choice within a pair (x / X, p / P, 1 / |, 1 / (, q / 9 ...) corrected by small logistic models fitted on validation.

Why models of their own: the context models learn from the CROHME training ink, whose writers write capitals small (a
capital's height over the x-height letters', median: X 1.69, C 1.66 in training against 2.34, 2.36 in the 2011-2013
test ink; docs/decisions/structure-model.md), so in that ink size does not tell case and the models learn not
to look. The validation writers write them taller, as the 2014 test's and most writers do. Where a symbol's reading
is one symbol of a pair in ``PAIR_GROUPS`` and the other is among its readings, the pair's log-odds ``z`` (the second over
the first) become ``a * z + w · features + b`` (``pair_features``):
- for p / P, 1 / | and 1 / (, the symbol's height against the reference's (log ratio) and its top and bottom less the
  reference's (in reference heights), the reference being the median box of the *other* symbols of the expression
  read as x-height letters (``XHEIGHT_LETTERS``); where the expression has no other x-height letter, 1 / | and 1 / (
  are left as read, and p / P is read by the expression's capitals against its small letters (``NO_REFERENCE_GROUPS``);
- for the letters whose capital is the same shape (``SIZE_LETTERS``), the height against that reference (0 without
  one) and whether there is one, and how the expression writes its letters (``case_features``): its capitals against
  its small letters, and the other symbols read as the same capital.
The pair keeps its probability mass; the symbol's reading becomes the likelier of the two. y / Y is left alone (its
tail makes a small y as tall as a capital, and the validation holds 13 capital Ys, too few to fit).

Then a digit and the letter it looks like (``DIGIT_PAIRS``: q / 9, b / 6, o / 0 ...) are told apart the same way by
the digits against the letters among the expression's other symbols (``correct_digits``), and a prime and the 1 or
comma it is read as by the shape of its box (``correct_primes``).

The coefficients are fitted by ``benchmarks/symbol_size_fit.py`` on the validation's truth segmentation as the
stroke reader's context models read it, cross-validated over expressions, and ship as weights:
``weights/symbol-size.safetensors`` (float64, one tensor a group of ``GROUPS``) with its card, which records each
group's fit and figures (``size_model``; refitted by ``python -m inkmath.training.recipes.symbol_size``; history:
docs/decisions/lookalike-corrections.md). The letters' and the digits' coefficients serve images too (measured there);
p / P and 1 / ( have the image reader's own, fitted the same way on the WAP-like renderings as it reads them
(``IMAGE_GROUPS``); 1 / | is corrected in
drawn ink only (``STROKES_ONLY``: its image fit read 2 WAP-like renderings fewer), so in an image a 1 also read | and (
is corrected as 1 / (.

    tokens, candidates = correct(hyps, tokens, candidates, known, image=False)
    tokens, candidates = correct_digits(tokens, candidates, known)
    tokens, candidates = correct_primes(hyps, tokens, candidates, known)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.registry import load_model, register
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
# The coefficients are a weights file of their own (``weights/symbol-size``, float64, one tensor a group; its card
# says where each group's came from: the fits on validation, how many symbols each reads right). A group's
# coefficients are (a, the features' weights, c): the pair's log-odds z become a * z + w · features + c.
# the stroke reader's groups (and the image reader's where it has none of its own): name -> (its pairs, in the order
# they are tried, its features)
PAIR_GROUPS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "size_letters": (tuple((s, s.upper()) for s in SIZE_LETTERS), SIZE_FEATURES),
    # p / P: P stands on the baseline and reaches above the small letters, p hangs below
    "p": ((("p", "P"),), ("top", "bottom")),
    # 1 against a bar and an opening bracket, which reach above and below the small letters (z: log P(1) - log P(other))
    "one_bar": ((("|", "1"),), FEATURES),
    "one_bracket": ((("(", "1"),), FEATURES),
}
# the image reader's own, fitted on the WAP-like renderings as it reads them (docs/decisions/lookalike-corrections.md)
IMAGE_GROUPS = {"image_p": ((("p", "P"),), ("top", "bottom")), "image_one_bracket": ((("(", "1"),), FEATURES)}
# p / P where the expression has no x-height letter: by its capitals against its small letters
NO_REFERENCE_GROUPS = {"p_no_reference": ((("p", "P"),), ("capital_share",))}
# pairs corrected in drawn ink only: the image fit of 1 / | read 2 WAP-like renderings fewer
STROKES_ONLY = frozenset({("|", "1")})
# A digit and the letter it looks like (q / 9, b / 6, o / 0 ...), told apart by what the expression's other symbols
# are: the pair's log-odds z (the digit over the letter) become odds * z + share * the digits less the letters among
# the other symbols over their sum plus one (``digit_share``) + the pair's own bias; the file's ``digit`` group:
# (odds, share, then the biases of DIGIT_PAIRS in this order)
DIGIT_PAIRS = (("q", "9"), ("b", "6"), ("z", "2"), ("o", "0"), ("s", "5"), ("S", "5"), ("g", "9"), ("l", "1"),
               ("y", "4"))
DIGITS = frozenset("0123456789")
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# A prime and the symbols it is read as (``PRIME_OTHERS``: a 1, a comma), told apart by the symbol's shape: a prime
# is a short slanted tick, wider for its height than a 1 (median log width over height -1.06 against -2.25). The
# pair's log-odds z (the prime over the other) become a * z + b * the box's log width over height (``box_aspect``,
# clipped at ``ASPECT_CLIP``) + c; the file's ``prime`` group: (a, b, c)
PRIME = "\\prime"
PRIME_OTHERS = ("1", ",")
ASPECT_CLIP = 3.0
NAME = "symbol-size"  # the shipped weights (weights/symbol-size.safetensors + .json)
RECIPE = "inkmath.training.recipes.symbol_size --config configs/symbol-size.yaml"
# every group of the file: name -> (its pairs, the names of its coefficients)
GROUPS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    **{g: (pairs, ("z", *names, "bias")) for g, (pairs, names) in {**PAIR_GROUPS, **IMAGE_GROUPS,
                                                                    **NO_REFERENCE_GROUPS}.items()},
    "digit": (DIGIT_PAIRS, ("z", "digit_share", *(f"bias {a} / {b}" for a, b in DIGIT_PAIRS))),
    "prime": (tuple((t, PRIME) for t in PRIME_OTHERS), ("z", "aspect", "bias")),
}

Pairs = dict[tuple[str, str], tuple[tuple[str, ...], tuple[float, ...]]]


@register(NAME, what="The look-alikes' size and place correction", recipe=RECIPE)
@dataclass(frozen=True)
class SymbolSizeModel:
    """The correction's coefficients by pair (float64 as fitted): ``pairs`` (first, second) -> (the features read,
    the coefficients: z's, the features', the bias), the image reader's own (``image_pairs``) and those read where the
    expression has no x-height letter (``no_reference_pairs``); the digits' (``digit_odds``, ``digit_share``,
    ``digit_pairs``: each pair's bias) and the prime's (``prime``: a, b, c)."""

    pairs: Pairs
    image_pairs: Pairs
    no_reference_pairs: Pairs
    digit_odds: float
    digit_share: float
    digit_pairs: dict[tuple[str, str], float]
    prime: tuple[float, float, float]
    card: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "SymbolSizeModel":
        """The coefficients of a weights file (one float64 tensor a group of ``GROUPS``), whose card names each
        group's pairs and coefficients as this code reads them."""
        from safetensors.numpy import load_file

        card = card or {}
        tensors = load_file(str(path))
        got = {}
        for group, (pairs, names) in GROUPS.items():
            named = (card.get("groups") or {}).get(group) or {}
            if (group not in tensors or tensors[group].shape != (len(names),) or named.get("coefficients") != list(names)
                    or named.get("pairs") != [list(p) for p in pairs]):
                raise InkmathError(f"{path} does not hold the coefficients {list(names)} of {group} (its card: "
                                   f"{named.get('coefficients')}); make it again with `python -m {RECIPE}`")
            got[group] = tuple(float(v) for v in tensors[group])

        def of(groups: dict) -> Pairs:
            return {pair: (features, got[g]) for g, (pairs, features) in groups.items() for pair in pairs}

        digit = got["digit"]
        return cls(of(PAIR_GROUPS), of(IMAGE_GROUPS), of(NO_REFERENCE_GROUPS), digit[0], digit[1],
                   dict(zip(DIGIT_PAIRS, digit[2:])), got["prime"], card)


def size_model(name_or_path: str | None = None) -> SymbolSizeModel:
    """The shipped coefficients (``weights/symbol-size``), or another file's (``registry.load_model``)."""
    return load_model(name_or_path, SymbolSizeModel.KIND)


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
    """The pair of ``PAIR_GROUPS`` whose one symbol is the first reading and the other among the readings, or None (with
    ``image``, only a pair the image reader corrects, ``pair_model``)."""
    return next((p for p in _matching_pairs(candidates, size_model().pairs) if pair_model(p, image) is not None), None)


def pair_model(pair: tuple[str, str], image: bool = False,
               reference: bool = True) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """(features, coefficients) ``pair`` is corrected with: ``size_model().pairs``', or with ``image`` the image
    reader's (``image_pairs``, else ``pairs``'), None where it leaves the pair alone (``STROKES_ONLY``).
    ``reference``: whether the expression has an x-height letter (without: ``no_reference_pairs``' where the pair has
    one)."""
    m = size_model()
    if not reference and pair in m.no_reference_pairs:
        return m.no_reference_pairs[pair]
    if image:
        if pair in m.image_pairs:
            return m.image_pairs[pair]
        if pair in STROKES_ONLY:
            return None
    return m.pairs[pair]


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
    moved between the two by what the expression's other symbols are (``size_model()``'s digits' coefficients); the
    shares read ``tokens`` as given. New lists."""
    m = size_model()

    def odds(i: int):
        pair = find_digit_pair(candidates[i])
        if pair is None:
            return None
        share = digit_share(tokens, i)
        return pair, lambda z: m.digit_odds * z + m.digit_share * share + m.digit_pairs[pair]

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
    readings, moved between the two by its box's shape (``size_model().prime``). New lists."""
    a, b, c = size_model().prime

    def odds(i: int):
        pair = find_prime_pair(candidates[i])
        if pair is None:
            return None
        shape = box_aspect(hyps[i].box)
        return pair, lambda z: a * z + b * shape + c

    return _corrected(tokens, candidates, known, odds)
