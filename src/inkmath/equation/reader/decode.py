"""The decoder: score whole readings of an expression and keep the n best, each with a probability.

    segs = [Segmentation(symbols, 0.0), Segmentation(other_symbols, -1.7)]     # k-best groupings, best first
    readings = decode(segs, symbol_model=model_candidates, structure=parse_scored, lm=load_latex_lm())
    readings[0].latex, readings[0].prob, [r.latex for r in readings]

A reading is one segmentation, one token per symbol and the tree the structure model builds from them. Its score:

    symbol  * sum over symbols of log p(token | symbol, context)         (the symbol model's distributions)
  + lm      * log p(LaTeX tokens of the reading)                         (the LaTeX language model)
  + segment * (segmentation score - the best segmentation's)             (the segmenter's dynamic programme)
  + structure * log p(tree)                                              (when the structure model gives one)
  + length  * (number of LaTeX tokens + 1)                               (offsets the LM's taste for short)
  + long_range * log p(what the n-grams cannot see: a letter in both cases, brackets that do not match)
                                                                         (the language model's ``long_range_logprob``)

Search: per segmentation, the ``beam`` best token assignments under the symbol score (exact k-best over the
per-symbol top-``per_symbol`` lists), each parsed and rescored with the other terms. Readings that come out as the
same LaTeX pool their probability. A reading with an empty group (``\\frac{}{x}``: a bar with nothing above it read
as a fraction) is set aside, and read only when every reading has one (``has_empty_group``). ``prob`` is the softmax
of the scores over the distinct readings found; the calibrated ``confidence`` of the first is
``calibrate(features)`` (fitted on validation, see ``calibrate.py``).

The models are arguments (plain callables): ``symbol_model(symbols) -> [[Candidate, ...] per symbol]`` (with an
optional ``many(groupings)``: those of several groupings at once, ``symbol_readings``),
``structure(symbols, tokens) -> Node`` or ``(Node, log p)``, ``lm.logprob(tokens) -> float`` (and, if it offers one,
``lm.long_range_logprob(tokens) -> float``, else that term is 0); nothing is global.
A structure model or a language model may offer ``for_one_input()``: the one to read one input's readings with, which
may keep work between them (``for_one_input``).
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from inkmath.errors import InkmathError
from inkmath.equation.core.tree import Candidate, Node, SymbolHyp
from inkmath.equation.core.latex import join_tokens, to_latex, tokens
from inkmath.equation.core.metrics import normalize_latex
from inkmath.equation.core.tree import Lines

SymbolModel = Callable[[list[SymbolHyp]], list[list[Candidate]]]
StructureModel = Callable[[list[SymbolHyp], list[str]], object]

MIN_PROB = 1e-4  # floor of a token probability in the symbol score (classifier outputs of 0 happen)
# the structure score of a layout the structure model cannot score (-inf from parse_scored): below the lowest it gave
# any reading of the 2011-2013 validation (-43.6 strokes, -60.1 images), finite so that probabilities stay defined
UNSCORED_STRUCTURE = -100.0


@dataclass(frozen=True)
class DecoderWeights:
    """Weights of the score's terms and of the search; the shipped values are chosen on validation
    (``DECODER_WEIGHTS`` in recognize.py, measured in docs/decisions/decoder-and-language-model.md)."""

    symbol: float = 1.0
    lm: float = 0.0
    segment: float = 0.0
    structure: float = 1.0
    length: float = 0.0  # reward per LaTeX token (with the end): offsets the language model's preference for short
    long_range: float = 0.0  # weight of the language model's ``long_range_logprob``
    temperature: float = 1.0  # softmax temperature turning scores into the readings' probabilities
    beam: int = 8  # token assignments parsed per segmentation (the first; the others: alt_beam)
    alt_beam: int = 0  # token assignments parsed per segmentation after the first (0: half the beam)
    per_symbol: int = 3  # candidates per symbol considered
    min_ratio: float = 0.01  # a candidate is considered when its probability is at least this times the best's
    # readings whose weighted symbol or segmentation term falls more than max_drop below the best are not parsed
    # (the language model rarely makes up more; parsing is most of the decoder's cost)
    max_drop: float = float("inf")
    # the best ``layouts`` readings (by score) are also read with the second layout (``alternative_layout``), and
    # that reading competes with the rest
    layouts: int = 0
    # the next ``offered_layouts`` best readings are read with it too, and offered among the alternatives only: the
    # first reading, its probability and its confidence stay as without them
    offered_layouts: int = 0


@dataclass
class Segmentation:
    """One grouping of the input into symbols, with the segmenter's log score (higher is better)."""

    symbols: list[SymbolHyp]
    score: float = 0.0


@dataclass
class Reading:
    latex: str
    norm: tuple[str, ...]  # canonical tokens (metrics.normalize_latex): what readings are compared on
    tokens: list[str]  # one per symbol of its segmentation
    segmentation: int  # index into the segmentations given
    tree: Node
    score: float
    terms: dict = field(default_factory=dict)  # symbol, lm, segment, structure (unweighted)
    prob: float = 0.0  # share of the probability of the readings found
    confidence: float = 0.0  # calibrated probability that the reading is right (first reading only)


def k_best_assignments(dists: Sequence[Sequence[Candidate]], k: int) -> list[tuple[float, tuple[int, ...]]]:
    """The ``k`` best choices of one candidate per symbol by summed log probability: (log p, candidate indices),
    best first (exact: lazy enumeration of successors on a heap)."""
    if not dists:
        return [(0.0, ())]
    if any(not d for d in dists):
        raise InkmathError("A symbol without candidates cannot be decoded")
    logs = [[math.log(max(c.prob, MIN_PROB)) for c in d] for d in dists]
    start = tuple(0 for _ in dists)
    heap = [(-sum(l[0] for l in logs), start)]
    seen = {start}
    out = []
    while heap and len(out) < k:
        neg, idx = heapq.heappop(heap)
        out.append((-neg, idx))
        for s in range(len(idx)):
            if idx[s] + 1 < len(logs[s]):
                nxt = idx[:s] + (idx[s] + 1,) + idx[s + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (neg + logs[s][idx[s]] - logs[s][idx[s] + 1], nxt))
    return out


def _prune(cands: list[Candidate], w: DecoderWeights) -> list[Candidate]:
    if not cands:
        return cands
    top = max(c.prob for c in cands)
    kept = [c for c in cands if c.prob >= w.min_ratio * top][: w.per_symbol]
    return kept or cands[:1]


def classifier_candidates(symbols: list[SymbolHyp]) -> list[list[Candidate]]:
    """The symbol model without context: each symbol's classifier readings as they are."""
    return [list(h.candidates) for h in symbols]


def symbol_readings(symbol_model: SymbolModel, groupings: list[list[SymbolHyp]]) -> list[list[list[Candidate]]]:
    """``symbol_model`` of each grouping: in one call when the model offers ``many`` (it may read them at once,
    ``recognize.ContextCandidates``), else one call a grouping."""
    many = getattr(symbol_model, "many", None)
    return many(groupings) if many is not None else [symbol_model(g) for g in groupings]


def _structure(structure: StructureModel, symbols: list[SymbolHyp], tokens: list[str]) -> tuple[Node, float]:
    out = structure(symbols, tokens)
    if isinstance(out, tuple):
        lp = float(out[1])
        return out[0], lp if math.isfinite(lp) else UNSCORED_STRUCTURE
    return out, 0.0


def for_one_input(structure: StructureModel, sharing: StructureModel | None = None) -> StructureModel:
    """The structure model (or language model) for the readings of one input: ``structure.for_one_input()`` when it
    offers one (it may keep work between those readings, never between inputs; ``parse.parse_scored`` and
    ``latex_lm.NgramLM`` do), else ``structure``.
    ``sharing``: another reader of the same input already started so, whose kept work (its ``memo``) this one
    shares (``parse.other_layout`` with ``parse_scored``: the same relation answers and geometry)."""
    start = getattr(structure, "for_one_input", None)
    if start is None:
        return structure
    memo = getattr(sharing, "keywords", {}).get("memo") if sharing is not None else None
    return start(memo) if memo is not None else start()


def _render(tree: Node, canonical: dict[str, tuple[str, ...]] | None = None) -> tuple[str, tuple[str, ...]]:
    """(LaTeX, canonical tokens) of a tree; the tree's tokens are made once for both. ``canonical``: the canonical
    tokens already made for a tokens' string (kept for one input's readings; the same tuple either way)."""
    toks = tokens(tree)
    latex = to_latex(tree) if isinstance(tree, Lines) else join_tokens(toks)  # to_latex's own join otherwise
    spelled = " ".join(toks)
    norm = canonical.get(spelled) if canonical is not None else None
    if norm is None:
        norm = tuple(normalize_latex(spelled))
        if canonical is not None:
            canonical[spelled] = norm
    return latex, norm


def decode(segmentations: Sequence[Segmentation], *, symbol_model: SymbolModel = classifier_candidates,
           structure: StructureModel, lm=None, weights: DecoderWeights = DecoderWeights(),
           calibrate: Callable[[dict], float] | None = None, n_best: int = 5,
           fixed: dict[int, str] | None = None, observe: Callable[[dict], None] | None = None,
           alternative_layout: StructureModel | None = None,
           final_layout: StructureModel | None = None) -> list[Reading]:
    """The ``n_best`` readings of the input, best first, with ``prob`` (and the first with ``confidence``).

    ``fixed``: {symbol index in the first segmentation: token} chosen by the user; then only the first segmentation
    is read (so indices keep their meaning), those symbols read as given, and the rest is decoded in their light.
    ``alternative_layout``: a second reader of the layout (same signature as ``structure``); the ``weights.layouts``
    best readings are also read with it.
    ``observe``: called with every reading parsed, in order, as a dict (canonical tokens, segmentation, unweighted
    terms), for choosing the weights offline (``trace.append`` keeps them in a list); with ``alternative_layout``,
    every reading's second layout too (``alt_of``: the place, among the dicts observed, of the reading it re-reads),
    so that any ``layouts`` can be simulated: these extra second layouts change no reading.
    ``final_layout``: a reader of the layout (same signature as ``structure``) that reads the first reading again
    once the readings are ranked: when it writes other LaTeX, its reading comes first, with the first's probability
    and confidence, and the first follows it (a costlier layout read once an input, not once a hypothesis).
    """
    if not segmentations:
        raise InkmathError("Nothing to decode: no segmentation of the input")
    structure = for_one_input(structure)
    if alternative_layout is not None:
        alternative_layout = for_one_input(alternative_layout, sharing=structure)
    if final_layout is not None:
        final_layout = for_one_input(final_layout, sharing=structure)
    if lm is not None:
        lm = for_one_input(lm)
    w = weights
    segs = list(segmentations)
    if fixed:
        segs = segs[:1]
        check_correction_indices(fixed, len(segs[0].symbols))
    pool = _Found(w, lm, observe)
    parsed = _read_segmentations(segs, symbol_model, structure, w, fixed, pool)
    offered: list[Reading] = []
    if alternative_layout is not None and (w.layouts > 0 or w.offered_layouts > 0 or observe is not None):
        offered = _second_layouts(parsed, segs, alternative_layout, w, observe is not None, pool)
    # readings with an empty group are read only when every reading has one: they are all there is
    found, mass = (pool.found, pool.mass) if pool.found else (pool.empty_found, pool.empty_mass)
    t = max(w.temperature, 1e-6)
    readings = _by_probability(found, mass, t)
    first = readings[0]
    first.confidence = float(calibrate(features(readings, segs))) if calibrate else first.prob
    if final_layout is not None:
        tree, _ = _structure(final_layout, segs[first.segmentation].symbols, first.tokens)
        latex, norm = _render(tree, pool.canonical)
        if norm != first.norm and not (has_empty_group(norm) and not has_empty_group(first.norm)):
            # the re-read takes the first's place, score, terms, probability and confidence (the calibration reads
            # the beam as ranked, as it was fitted); the first follows it
            reread = Reading(latex, norm, first.tokens, first.segmentation, tree, first.score, dict(first.terms),
                             first.prob, first.confidence)
            readings = [reread] + [r for r in readings if r.norm != norm]  # one reading per LaTeX
            first = reread
    if offered:  # ranked with the rest as if they had competed; the first reading stays first, with its probability
        prob = first.prob
        for a in offered:
            mass.setdefault(a.norm, []).append(a.score)
            if a.norm not in found or a.score > found[a.norm].score:
                found[a.norm] = a
        readings = [first] + [r for r in _by_probability(found, mass, t) if r.norm != first.norm]
        first.prob = prob
    return readings[:max(1, n_best)]


class _Found:
    """The readings of one input scored so far: the best derivation of each LaTeX and the scores of all of its
    derivations (``mass``), those with an empty group apart; and what the input's readings share (canonical tokens
    by tokens' string, LM log-probabilities by canonical tokens: different derivations often write the same LaTeX),
    never kept across inputs."""

    def __init__(self, w: DecoderWeights, lm, observe: Callable[[dict], None] | None):
        self.w, self.lm, self.observe = w, lm, observe
        self.found: dict[tuple[str, ...], Reading] = {}
        self.mass: dict[tuple[str, ...], list[float]] = {}
        # readings with an empty group (``has_empty_group``) are kept apart, and read only when there is no other
        self.empty_found: dict[tuple[str, ...], Reading] = {}
        self.empty_mass: dict[tuple[str, ...], list[float]] = {}
        self.traced: dict[int, int] = {}  # id of a reading -> its place among those observed
        self.observed = itertools.count()
        self.canonical: dict[str, tuple[str, ...]] = {}
        self.lm_memo: dict[tuple[str, ...], tuple[float, float]] = {}
        self.long_range = getattr(lm, "long_range_logprob", None)

    def consider(self, si: int, toks: list[str], sym_lp: float, seg_term: float, tree: Node, struct_lp: float,
                 alt_of: Reading | None = None, counted: bool = True) -> Reading | None:
        """Score a reading and keep it (unless ``counted`` is False: observed only); None when it is ``alt_of``'s
        second layout and writes the same LaTeX."""
        w, lm, long_range = self.w, self.lm, self.long_range
        latex, norm = _render(tree, self.canonical)
        if alt_of is not None and norm == alt_of.norm:
            return None
        lm_lps = self.lm_memo.get(norm)
        if lm_lps is None:  # the LM's log-probability is a calibration feature even at weight 0
            lm_lps = self.lm_memo[norm] = ((float(lm.logprob(list(norm))), float(long_range(norm)) if long_range
                                            else 0.0) if lm is not None else (0.0, 0.0))
        lm_lp, long_lp = lm_lps
        score = (w.symbol * sym_lp + w.lm * lm_lp + w.segment * seg_term + w.structure * struct_lp
                 + w.length * (len(norm) + 1) + w.long_range * long_lp)
        terms = {"symbol": sym_lp, "lm": lm_lp, "segment": seg_term, "structure": struct_lp, "long_range": long_lp}
        reading = Reading(latex, norm, toks, si, tree, score, terms)
        if self.observe is not None:
            entry = {"norm": list(norm), "seg": si, **terms}
            if alt_of is not None:
                entry["alt_of"] = self.traced[id(alt_of)]
            self.traced[id(reading)] = next(self.observed)
            self.observe(entry)
        if not counted:
            return reading  # observed only: the decoder does not read this one's second layout
        pool, pool_mass = (self.empty_found, self.empty_mass) if has_empty_group(norm) else (self.found, self.mass)
        pool_mass.setdefault(norm, []).append(score)
        if norm not in pool or score > pool[norm].score:
            pool[norm] = reading
        return reading


def _read_segmentations(segs: list[Segmentation], symbol_model: SymbolModel, structure: StructureModel,
                        w: DecoderWeights, fixed: dict[int, str] | None, pool: _Found) -> list[Reading]:
    """Every reading of every segmentation within ``w.max_drop`` of the best: the symbol model's beam of token
    assignments (``fixed`` symbols as given), each laid out by ``structure`` and scored into ``pool``."""
    best_seg = max(s.score for s in segs)
    parsed: list[Reading] = []
    read = [si for si, seg in enumerate(segs) if not w.segment * (seg.score - best_seg) < -w.max_drop]
    for si, symbol_dists in zip(read, symbol_readings(symbol_model, [segs[si].symbols for si in read])):
        seg = segs[si]
        seg_term = seg.score - best_seg
        dists = [_prune(list(d), w) for d in symbol_dists]
        if len(dists) != len(seg.symbols):
            raise InkmathError(f"The symbol model gave {len(dists)} distributions for {len(seg.symbols)} symbols")
        if fixed:
            for k, tok in fixed.items():
                dists[int(k)] = [Candidate(str(tok), 1.0)]
        beam = w.beam if si == 0 else w.alt_beam or max(1, w.beam // 2)
        assignments = k_best_assignments(dists, beam)
        for sym_lp, idx in assignments:
            if w.symbol * (sym_lp - assignments[0][0]) < -w.max_drop:
                break
            toks = [dists[s][i].token for s, i in enumerate(idx)]
            parsed.append(pool.consider(si, toks, sym_lp, seg_term, *_structure(structure, seg.symbols, toks)))
    return parsed


def _second_layouts(parsed: list[Reading], segs: list[Segmentation], alternative_layout: StructureModel,
                    w: DecoderWeights, observing: bool, pool: _Found) -> list[Reading]:
    """The best derivation of each of the ``w.layouts`` best readings, by score, read with the second layout and
    scored into ``pool``; and of the ``w.offered_layouts`` next ones, returned for the alternatives. ``observing``:
    every reading's second layout is read (and observed), which changes no reading."""
    by_score = [id(r) for r in sorted(pool.found.values(), key=lambda r: -r.score)]
    chosen = set(by_score[:w.layouts])
    for_alternatives = set(by_score[w.layouts:w.layouts + w.offered_layouts])
    offered = []
    for r in parsed:
        if id(r) not in chosen | for_alternatives and not observing:
            continue
        second = pool.consider(r.segmentation, r.tokens, r.terms["symbol"], r.terms["segment"],
                               *_structure(alternative_layout, segs[r.segmentation].symbols, r.tokens), alt_of=r,
                               counted=id(r) in chosen)
        if second is not None and id(r) in for_alternatives and not has_empty_group(second.norm):
            offered.append(second)
    return offered


def has_empty_group(norm: Sequence[str]) -> bool:
    """Whether canonical LaTeX tokens hold an empty group (``{ }``): a fraction without a numerator, a script or a
    root with nothing in it. None of the 8,834 CROHME training truths has one, so such a reading is never right."""
    return any(a == "{" and b == "}" for a, b in zip(norm, norm[1:]))


def _by_probability(found: dict[tuple[str, ...], Reading], mass: dict[tuple[str, ...], list[float]],
                    temperature: float) -> list[Reading]:
    """The distinct readings, each with the probability of its pooled derivations' scores, likeliest first."""
    readings = list(found.values())
    pooled = {k: _logsumexp([s / temperature for s in v]) for k, v in mass.items()}
    z = _logsumexp(list(pooled.values()))
    for r in readings:
        r.prob = math.exp(pooled[r.norm] - z)
    readings.sort(key=lambda r: (-r.prob, -r.score))
    return readings


def features(readings: list[Reading], segs: Sequence[Segmentation]) -> dict:
    """What the calibration reads off a decoded beam: ``beam_features`` of all its distinct readings, best first."""
    first = readings[0]
    symbols = segs[first.segmentation].symbols
    return beam_features(first.norm, first.prob, readings[1].prob if len(readings) > 1 else 0.0, first.terms,
                         first.segmentation, len(readings), len(symbols),
                         min((h.prob for h in symbols), default=0.0))


LAYOUT_TOKENS = frozenset({"^", "_", "\\frac", "\\sqrt"})


def beam_features(norm: Sequence[str], prob: float, second_prob: float, terms: dict, segmentation: int,
                  n_readings: int, symbols: int, min_symbol_prob: float) -> dict:
    """The first reading's certainty and its lead, its scores per token or symbol, how much layout it has per symbol,
    whether it comes from another grouping than the segmenter's first, and how many distinct readings the beam
    held (``norm``: the first reading's canonical tokens; ``terms``: its unweighted log scores)."""
    return {
        "prob": prob,
        "margin": prob - second_prob,
        "symbol_logp": terms["symbol"],
        "lm_per_token": terms["lm"] / (len(norm) + 1),
        "symbols": symbols,
        "min_symbol_prob": min_symbol_prob,
        "structure_per_symbol": terms["structure"] / max(symbols, 1),
        "other_grouping": float(segmentation > 0),
        "log_readings": math.log(max(n_readings, 1)),
        "tokens": len(norm),
        "symbols_per_token": symbols / (len(norm) + 1),
        "prob_logit": math.log(prob + 1e-6) - math.log(1 - prob + 1e-6),
        "min_symbol_logp": math.log(min_symbol_prob + 1e-6),
        "layout_tokens": sum(t in LAYOUT_TOKENS for t in norm),
    }


def alternatives(readings: list[Reading], limit: int = 5) -> list[dict]:
    """{"latex", "confidence", "tokens", "segmentation"} of the readings, best first: the first (the decoder's
    choice) with its calibrated confidence, the others by their probability on the same scale, never above the first
    and together within the rest. The decoder's choice may hold less of the probability than another reading (the
    first reading is read again by another layout reader after the search), so the others are capped at the first's
    confidence. ``tokens``: the reading's token of each symbol of its segmentation (``segmentation``, an index into
    the segmentations decoded: another grouping of the ink than the first's when it differs from the first's)."""
    if not readings:
        return []
    first = readings[0]

    def entry(r: Reading, confidence: float) -> dict:
        return {"latex": r.latex, "confidence": confidence, "tokens": list(r.tokens), "segmentation": r.segmentation}

    out = [entry(first, first.confidence)]
    rest = sorted(readings[1:limit], key=lambda r: -r.prob)
    others = sum(r.prob for r in rest)
    scale = first.confidence / first.prob if first.prob > 0 else 0.0
    for r in rest:
        share = (1 - first.confidence) * r.prob / others if others else 0.0
        out.append(entry(r, min(r.prob * scale, share, first.confidence)))
    return out


def _logsumexp(xs: list[float]) -> float:
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


@dataclass
class Decoder:
    """The models a reading is scored with, bound together: ``decoder(segmentations, fixed=...)`` -> readings."""

    structure: StructureModel
    symbol_model: SymbolModel = classifier_candidates
    lm: object | None = None
    weights: DecoderWeights = DecoderWeights()
    calibrate: Callable[[dict], float] | None = None
    segmentations: int = 3  # stroke segmentations read (the segmenter's k best)
    alternative_layout: StructureModel | None = None  # the second reader of the layout (``weights.layouts``)
    final_layout: StructureModel | None = None  # reads the first reading again (``decode``)

    def __call__(self, segmentations: Sequence[Segmentation], fixed: dict[int, str] | None = None,
                 n_best: int = 5) -> list[Reading]:
        return decode(segmentations, symbol_model=self.symbol_model, structure=self.structure, lm=self.lm,
                      weights=self.weights, calibrate=self.calibrate, n_best=n_best, fixed=fixed,
                      alternative_layout=self.alternative_layout, final_layout=self.final_layout)


def check_correction_indices(corrections, n: int) -> None:
    """``InkmathError`` when a key of ``corrections`` ({symbol index: token}) names none of a reading's ``n``
    symbols."""
    for k in corrections:
        if not 0 <= int(k) < n:
            raise InkmathError(f"Correction for symbol {k}, but there are only {n} symbols (0-based)")
