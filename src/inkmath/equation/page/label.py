"""Question numbers on a page ("1)", "a.", "12)"): a scored decision over the whole page, not a rule per line.

    cands = label_candidates(rec, unit)                    # per expression: its first 1 to 4 symbols as a label
    chosen = PageLabels(model, [cands of every expression]).choose(i)   # the candidate kept for expression i, or None

A question number is what a worksheet writes before each expression, and what one line shows, the others show too:
the page's other lines carry a label-like start, and the labels count up ("1." "2." "3.", "a)" "b)"). Each candidate
(the first k symbols of a reading, k = 1 to 4: "1", "1)", "12)", "(12)") is scored by two small perceptrons
(``page-label``, trained by ``python -m inkmath.training.recipes.page_label`` on pages generated from the CROHME
*training* ink, with and without question numbers): ``line`` on what the line shows (``label_candidates``' features:
the gap after it, how surely its symbols read as a number or letter and a mark, what starts the rest), ``page`` on
that and what the page shows (``PageLabels.page_features``: the ``line`` scores of the other lines, whether its
number or letter continues its neighbours'). The best candidate of a line is kept when its probability is at least
``LABEL_KEEP``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from inkmath.equation.core.mlp import BinaryMLP, load_tensors
from inkmath.equation.core.registry import load_model, register

RECIPE = "inkmath.training.recipes.page_label --config configs/page-label.yaml"
MAX_LABEL_SYMBOLS = 4  # "1)" "a." "12)" "(12)"
LABEL_CHARS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ")
LABEL_MARKS = {")", ".", "\\cdot", ","}
LABEL_OPEN = "("  # "(a)" "(3)"
OPEN_PROB = 0.5  # a label of three or four symbols reads as bracketed when its first reads as "(" this surely
RELATIONS = {"=", "<", ">", "\\leq", "\\geq", "\\neq", "\\lt", "\\gt", "+", "\\times", "\\div", ",", "\\rightarrow",
             "\\in"}  # a rest starting with one of these is "y = 2x", not a label and an expression
SEQUENCE_PROB = 0.5  # a neighbour's candidate counts for the sequence feature from this ``line`` score
LABEL_KEEP = 0.5  # a line's best candidate is kept from this probability (see the model's decision note)
CANDIDATE_FEATURES = ("gap", "char", "mark", "comma", "open", "bare", "one", "three", "four", "rest_relation",
                      "mark_relation", "height", "drop", "rest_symbols", "digits")
PAGE_FEATURES = ("others_labelled", "sequence", "lines")
N_FEATURES = len(CANDIDATE_FEATURES) + len(PAGE_FEATURES)


@dataclass
class LabelCandidate:
    """The first ``k`` symbols of a reading taken as its question number."""

    k: int
    cut_x: float  # x (in the reading's pixels) where the rest starts: the rest is read again from there
    text: str  # the label as written ("1)", "a."; a mark the reader did not see is left out)
    char: str  # its number or letter ("1", "a", "12"; "?" for a symbol that reads as neither)
    features: np.ndarray  # ``CANDIDATE_FEATURES``
    box: tuple[float, float, float, float]  # the label's symbols' box (the reading's pixels)


def _best_in(hyp, tokens: set[str]) -> tuple[str | None, float]:
    """The likeliest of the symbol's readings that is in ``tokens``, with its probability (None, 0: none is)."""
    best = max((c for c in hyp.candidates if c.token in tokens), key=lambda c: c.prob, default=None)
    return (best.token, float(best.prob)) if best is not None else (None, 0.0)


def _mark_text(token: str) -> str:
    return "." if token in ("\\cdot", ",") else token


def label_candidates(rec, unit: float) -> list[LabelCandidate]:
    """The reading's first 1 to ``MAX_LABEL_SYMBOLS`` symbols as its question number ("1", "1)", "12)", "(a)",
    "(12)"), each with its line features; of two or more symbols, once with a mark last and once bare ("12", its
    "." lost), the ``bare`` input telling them apart; none where nothing would be left after it, or where the rest
    does not start right of the label."""
    toks, syms = list(rec.tokens), list(rec.symbols)
    out = []
    for k in range(1, MAX_LABEL_SYMBOLS + 1):
        if len(syms) < k + 1:
            break
        head, rest = syms[:k], syms[k:]
        end, start = max(h.box.x1 for h in head), min(h.box.x0 for h in rest)
        if start <= min(h.box.x0 for h in head):
            continue
        rest_h = float(np.median([h.box.h for h in rest]))
        rest_cy = float(np.median([(h.box.y0 + h.box.y1) / 2 for h in rest]))
        box = (min(h.box.x0 for h in head), min(h.box.y0 for h in head), end, max(h.box.y1 for h in head))
        for bare in ((False, True) if k > 1 else (True,)):
            open_p = 0.0 if bare or k < 3 else (1.0 if toks[0] == LABEL_OPEN else _best_in(head[0], {LABEL_OPEN})[1])
            first = 1 if open_p >= OPEN_PROB else 0  # "(a)": the characters after the bracket
            chars = head if bare else head[first:-1]
            read = [(t, 1.0) if t in LABEL_CHARS else _best_in(h, LABEL_CHARS) for t, h in zip(toks[first:], chars)]
            mark, mark_p = (None, 0.0) if bare else _best_in(head[-1], LABEL_MARKS)
            f = np.array([
                np.clip((start - end) / unit, -2.0, 6.0),
                min((p for _, p in read), default=0.0),
                mark_p,
                float(mark == ","),  # "a," "x1," begin a list
                open_p,
                float(bare and k > 1),
                float(k == 1),
                float(k == 3),
                float(k == 4),
                float(toks[k] in RELATIONS),
                float(not bare and toks[k - 1] in RELATIONS and toks[k - 1] not in LABEL_MARKS),
                math.log(max(box[3] - box[1], 1e-6) / max(rest_h, 1e-6)),
                np.clip(((box[1] + box[3]) / 2 - rest_cy) / unit, -3.0, 3.0),
                math.log(len(rest)),
                float(bool(read) and all(c is not None and c.isdigit() for c, _ in read)),
            ], np.float32)
            # as written: each character as its symbol reads as one (else as the reading has it), then its mark
            written = "".join(c or _mark_text(t) for (c, _), t in zip(read, toks[first:]))
            text = (LABEL_OPEN if first else "") + written + (_mark_text(mark) if mark else "")
            out.append(LabelCandidate(k, (end + start) / 2, text, "".join(c or "?" for c, _ in read), f, box))
    return out


def without_label(tokens: Sequence[str]) -> Sequence[str]:
    """``tokens`` less a leading question number closed by a bracket ("1 )", "1 2 )", "a )"), whose bracket opens
    nothing: what the expression itself writes. Anything else is returned as it is."""
    for k in range(1, MAX_LABEL_SYMBOLS):
        if len(tokens) > k and tokens[k] == ")" and all(t in LABEL_CHARS for t in tokens[:k]):
            return tokens[k + 1:]
    return tokens


@dataclass
class LabelledLineLM:
    """The LaTeX language model for a page's line, which may begin with a question number: its long-range term
    (``NgramLM.long_range_logprob``: brackets that match, ...) reads the line ``without_label``, so that "3 ) x + 1"
    is not an unmatched bracket. The n-grams read the line as it is."""

    lm: object

    def logprob(self, tokens: Sequence[str], end: bool = True) -> float:
        return self.lm.logprob(tokens, end)

    def long_range_logprob(self, tokens: Sequence[str]) -> float:
        return self.lm.long_range_logprob(without_label(tokens))

    def for_one_input(self) -> "LabelledLineLM":
        start = getattr(self.lm, "for_one_input", None)
        return LabelledLineLM(start()) if start is not None else self


def _next_char(text: str) -> str | None:
    if text.isdigit():
        return str(int(text) + 1)
    if len(text) == 1 and text.isalpha() and text not in "zZ":
        return chr(ord(text) + 1)
    return None


@register("page-label", what="Page label model", recipe=RECIPE)
@dataclass(frozen=True)
class PageLabelModel:
    """Two perceptrons: ``line`` scores a candidate from ``CANDIDATE_FEATURES`` alone; ``page`` from those and
    ``PAGE_FEATURES``, which read the ``line`` scores of the page's other lines."""

    line: BinaryMLP
    page: BinaryMLP

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "PageLabelModel":
        """The two perceptrons of a weights file (tensors ``line.w1``, ``page.w1``, ...)."""
        return cls(*(BinaryMLP(**load_tensors(path, cls.WHAT, cls.RECIPE, prefix=f"{part}."))
                     for part in ("line", "page")))


def load_page_label_model(path: str | None = None) -> PageLabelModel:
    """The shipped page-label model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, PageLabelModel.KIND)


class PageLabels:
    """The candidates of every line of a page (in reading order), scored with what the page shows."""

    def __init__(self, model: PageLabelModel | None, lines: list[list[LabelCandidate]]):
        self.model, self.lines = model, lines
        self.line_probs = [line_scores(model, cands) for cands in lines]
        self.best = [float(p.max()) if len(p) else 0.0 for p in self.line_probs]  # each line's best ``line`` score

    def page_features(self, i: int | None, c: LabelCandidate) -> np.ndarray:
        """``PAGE_FEATURES`` of candidate ``c`` of line ``i`` (``i`` None: a line read later, not among ``lines``):
        the mean of the other lines' best ``line`` score; whether its number or letter follows the one before it or
        precedes the one after it (among the candidates scored at least ``SEQUENCE_PROB`` there); log(lines + 1)."""
        others = [b for j, b in enumerate(self.best) if j != i]
        before, after = (self._sure_chars(i - 1), self._sure_chars(i + 1)) if i is not None else ([], [])
        seq = any(_next_char(b) == c.char for b in before) or any(_next_char(c.char) == a for a in after)
        return np.array([float(np.mean(others)) if others else 0.0, float(seq), math.log(len(self.lines) + 1)],
                        np.float32)

    def _sure_chars(self, j: int) -> list[str]:
        """The characters of line ``j``'s candidates scored at least ``SEQUENCE_PROB`` (none off the page)."""
        if j < 0 or j >= len(self.lines):
            return []
        return [d.char for d, q in zip(self.lines[j], self.line_probs[j]) if q >= SEQUENCE_PROB]

    def features(self, i: int | None, cands: list[LabelCandidate]) -> np.ndarray:
        """(candidates, ``N_FEATURES``): each candidate's line and page features."""
        if not cands:
            return np.zeros((0, N_FEATURES), np.float32)
        return np.stack([np.concatenate([c.features, self.page_features(i, c)]) for c in cands])

    def choose(self, i: int | None, cands: list[LabelCandidate] | None = None) -> LabelCandidate | None:
        """The candidate of line ``i`` kept as its question number (``cands``: a line read later), or None."""
        cands = self.lines[i] if cands is None else cands
        if not cands or self.model is None:
            return None
        p = self.model.page.prob(self.features(i, cands))
        best = int(np.argmax(p))
        return cands[best] if p[best] >= LABEL_KEEP else None


def line_scores(model: PageLabelModel | None, cands: list[LabelCandidate]) -> np.ndarray:
    """The ``line`` model's score of each candidate (zeros without a model)."""
    if not cands or model is None:
        return np.zeros(len(cands), np.float32)
    return model.line.prob(np.stack([c.features for c in cands]))
