"""Symbol reading in context: the classifier's top-k per symbol, re-read by the context model (``context_model``).

    model = get_context_model()                   # once per process
    reading = read_symbols(hyps, model)
    reading.tokens            # the chosen token per symbol
    reading.candidates[i]     # symbol i's re-ranked readings (Candidate(token, prob)), best first
    reading.junk[i]           # the model's probability that hypothesis i is not one symbol (mis-segmented)

The reader's symbol model (``recognize.model_candidates``): it replaced the hand-written token corrections that
``parse.choose_tokens`` made (``disambiguate``, ``disambiguate_case``, ``pair_bars``, ``balance_brackets``,
``high_ticks``, ``small_after_names``; measured in docs/decisions/symbol-context.md).

The classifier's own readings, as both segmenters (``segment`` for strokes, ``image_segmentation`` for images)
take them: ``Classifier`` (what they need from ``inkmath.predict.Predictor``), ``token_of`` (a prediction's tree
token, ``TOKEN_FIX`` spelling '<' '>' as themselves) and ``candidates_from`` (a symbol's top-k as ``Candidate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from inkmath.equation.reader import symbol_size
from inkmath.equation.core.registry import ensemble
from inkmath.equation.reader.context_model import ContextEnsemble, ContextModel
from inkmath.equation.reader.pen_symbols import fuse
from inkmath.equation.core.tree import Candidate, SymbolHyp

TOP_K = 5  # readings per symbol, in and out

# the reader's symbol model: the mean of these shipped context models' probabilities (each trained from its recipe,
# configs/symbol-context*.yaml). One model, distilled from the four the readers averaged before (symbol-context and
# -seed1 for strokes; those and symbol-context-image, -image-seed1 for images; configs/symbol-context-distilled.yaml).
# Validation, against the averages: strokes 1,064 -> 1,073 of 1,504 (inkmath crohme-eval val), WAP-like renderings
# 911 -> 911 (benchmarks/wap_val.py); the recipe's seed 1 1,064 / 901, so within its seed spread. Read with the web's
# 8-bit classifier (WAP-like / 1,501 strokes): 911 / 1,058 -> 918 / 1,067; seed 1 909 / 1,064; without the teachers
# 878 / 1,058; with the image parts 0-31 only 903 / 1,059; taught by the image pair alone 895 / 1,054. An image read
# 0.91x, strokes 0.96x (docs/decisions/symbol-context.md)
READER_CONTEXT_MODELS = ("symbol-context-distilled",)
# the image reader's symbol model (``recognize.image_model_candidates``); None: the reader's
IMAGE_CONTEXT_MODELS: tuple[str, ...] | None = None

TOKEN_FIX = {"\\lt": "<", "\\gt": ">", "\\sqrt{}": "\\sqrt"}


class Classifier(Protocol):
    """What segmentation needs from ``inkmath.predict.Predictor``."""

    def predict(self, images, ink: str = "auto", top: int = 5) -> list: ...

    # optional (``Predictor`` has it): the predictions and their (N, C) logits, the context model's crop embedding
    # def predict_with_logits(self, images, ink="auto", top=5) -> tuple[list, np.ndarray]: ...


def token_of(pred) -> str:
    """Tree token for a classifier prediction: the CROHME label, with '<' '>' spelt as themselves."""
    label = getattr(pred, "label", None) or getattr(pred, "latex")
    return TOKEN_FIX.get(label, label)


def candidates_from(preds) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[str] = set()
    for p in preds:
        t = token_of(p)
        if t not in seen:
            seen.add(t)
            out.append(Candidate(t, float(p.prob)))
    return out


@dataclass
class SymbolReading:
    tokens: list[str]
    candidates: list[list[Candidate]]
    junk: list[float]


def get_context_model(name: str | None = None, image: bool = False) -> ContextEnsemble:
    """The reader's context model (``READER_CONTEXT_MODELS``, one or the mean of several; ``image``: the image
    reader's, ``IMAGE_CONTEXT_MODELS``), or the one named (a comma-separated list: their mean), loaded once per
    process (as ``recognize.get_predictor`` for the classifier); one model is an ensemble of one (on ONNX Runtime,
    as the ensembles)."""
    names = tuple(name.split(",")) if name else (image and IMAGE_CONTEXT_MODELS) or READER_CONTEXT_MODELS
    return ensemble(names, ContextModel.KIND, ContextEnsemble)


@lru_cache(maxsize=8)
def _vocab(classes: tuple[str, ...]) -> tuple[dict[str, int], list[str]]:
    tokens = [TOKEN_FIX.get(c, c) for c in classes]
    index = {t: k for k, t in enumerate(tokens)}
    for k, c in enumerate(classes):
        index.setdefault(c, k)
    return index, tokens


def model_inputs(hyps: list[SymbolHyp], classes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the context model reads of ``hyps``: boxes (n, 4), the top-k readings that are classes of ``classes``
    as class indices (n, TOP_K) and probabilities (zero-padded), and whether each symbol's best reading is a class
    (``known``; a name read whole from an image is not, and keeps its own readings)."""
    index, _ = _vocab(tuple(classes))
    n = len(hyps)
    idx = np.zeros((n, TOP_K), np.int64)
    prob = np.zeros((n, TOP_K), np.float32)
    known = np.zeros(n, bool)
    for i, h in enumerate(hyps):
        ks = [(index[c.token], c.prob) for c in h.candidates if c.token in index][:TOP_K]
        known[i] = bool(h.candidates) and h.candidates[0].token in index
        for j, (k, p) in enumerate(ks):
            idx[i, j], prob[i, j] = k, p
    return np.array([h.box.as_list() for h in hyps], np.float64).reshape(-1, 4), idx, prob, known


def read_symbols(hyps: list[SymbolHyp], model: ContextModel | ContextEnsemble,
                 size_and_place: bool = True, image: bool = False) -> SymbolReading:
    """Each symbol re-read in the light of the others. A symbol whose best reading is not one of the model's
    classes (a function name read whole from an image, a user's correction) keeps its readings. ``size_and_place``,
    ``image``: as ``read_symbols_many``'s."""
    return read_symbols_many([hyps], model, size_and_place, image)[0]


def read_symbols_many(groupings: list[list[SymbolHyp]], model: ContextModel | ContextEnsemble,
                      size_and_place: bool = True, image: bool = False) -> list[SymbolReading]:
    """``read_symbols`` of each grouping (of one input: the decoder's), the model run once for all of them where it
    can (``ContextEnsemble.probs_many``; the same probabilities as one run each). ``size_and_place``: a look-alike
    pair's reading (x / X, 1 / |, q / 9 ...) corrected by the symbol's size and place and the expression's other
    symbols (``symbol_size.correct``, then ``symbol_size.correct_digits`` and ``symbol_size.correct_primes``; False:
    the models' readings as they are, what ``benchmarks/symbol_size_fit.py`` fits the corrections on);
    ``image``: the image reader's readings (``symbol_size.STROKES_ONLY``)."""
    inputs = [model_inputs(hyps, model.classes) for hyps in groupings]
    expressions = [(boxes, idx, prob, [h.logits if known[i] else None for i, h in enumerate(hyps)])
                   for hyps, (boxes, idx, prob, known) in zip(groupings, inputs)]
    many = getattr(model, "probs_many", None)
    probs = many(expressions) if many is not None else [model.probs(*e) for e in expressions]
    readings = [_reading(hyps, model, p, *ins[1:]) for hyps, p, ins in zip(groupings, probs, inputs)]
    if size_and_place:
        for hyps, r, ins in zip(groupings, readings, inputs):
            r.tokens, r.candidates = symbol_size.correct(hyps, r.tokens, r.candidates, ins[3], image)
            r.tokens, r.candidates = symbol_size.correct_digits(r.tokens, r.candidates, ins[3])
            r.tokens, r.candidates = symbol_size.correct_primes(hyps, r.tokens, r.candidates, ins[3])
    return readings


def _reading(hyps: list[SymbolHyp], model, probs: np.ndarray, idx: np.ndarray, prob: np.ndarray,
             known: np.ndarray) -> SymbolReading:
    """The tokens and candidates of ``hyps`` from the model's probabilities (``read_symbols``)."""
    if not hyps:
        return SymbolReading([], [], [])
    _, tokens = _vocab(tuple(model.classes))
    C = model.num_classes
    out_tokens, out_cands, junk = [], [], []
    for i, h in enumerate(hyps):
        junk.append(float(probs[i, C]))
        if not known[i]:
            out_tokens.append(h.candidates[0].token if h.candidates else "?")
            out_cands.append(list(h.candidates))
            continue
        p = probs[i, :C]
        if h.pen_evidence is not None:  # the pen model's reading of the group's strokes
            p = fuse(p, h.pen_evidence)
        order = np.argsort(-p)[:TOP_K]
        cands = [Candidate(tokens[k], float(p[k])) for k in order]
        # the chosen token is the model's best among the classifier's own top-k readings, as the rules' was
        own = [k for k, q in zip(idx[i], prob[i]) if q > 0]
        best = max(own, key=lambda k: p[k])
        out_tokens.append(tokens[best])
        if cands[0].token != tokens[best]:
            cands = [Candidate(tokens[best], float(p[best]))] + [c for c in cands if c.token != tokens[best]][:TOP_K - 1]
        out_cands.append(cands)
    return SymbolReading(out_tokens, out_cands, junk)


def choose_tokens(hyps: list[SymbolHyp], model: ContextModel | None = None) -> list[str]:
    """The reading of each symbol in context (``read_symbols``'s tokens)."""
    return read_symbols(hyps, model or get_context_model()).tokens
