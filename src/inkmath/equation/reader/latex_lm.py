"""A language model of LaTeX: how likely a token sequence is as a written expression (interpolated Kneser-Ney n-gram).

    lm = load_latex_lm()                       # src/inkmath/weights/latex-lm.safetensors + latex-lm.json
    lm.logprob(["x", "^", "{", "2", "}"])      # natural log of p(tokens, end), begin/end of expression included

Tokens are those of ``metrics.normalize_latex`` (the canonical CROHME/WAP caption style), so a reading is scored
on ``normalize_latex(latex)``. The model is stored ARPA-style as arrays: for each order n the n-grams seen in
training (token ids), the log probability of their last token given the others (already interpolated with the
lower orders), and, for n-grams that are contexts, the back-off weight (log) that an unseen continuation pays before
the next lower order is asked. Trained by ``train_latex_lm.py`` from ``configs/latex-lm.yaml``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.registry import load_model, register
from inkmath.equation.core.tokens import BRACKET_PAIRS, CLOSE_BRACKETS
from inkmath.atomic import atomic_write_bytes, atomic_write_text
from inkmath.weights import shipped_dir

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
NAME = "latex-lm"
NEVER = -99.0  # stored for entries that are only contexts (<s> <s>): never predicted
# the letters whose two cases the symbol reader cannot tell apart, for ``NgramLM.mixed_case_logprob``: crohme-m reads
# a c, p, s, v, x or y of the training ink (``hypotheses`` tables, strength 1.0) as its other case in 3.9-19.1 % of
# them, every other letter with both cases among its classes in 0.7 % at most (docs/decisions/decoder-and-language-model.md)
CASE_CONFUSED = ("c", "p", "s", "v", "x", "y")


def brackets_match(tokens: Sequence[str]) -> bool:
    """Whether every bracket of ``tokens`` (``tokens.BRACKET_PAIRS``) is closed by its own kind, in order, and the
    bars ``|``, which open and close alike, come in pairs."""
    expected: list[str] = []  # the closing bracket each open one waits for, innermost last
    for t in tokens:
        if t in BRACKET_PAIRS:
            expected.append(BRACKET_PAIRS[t])
        elif t in CLOSE_BRACKETS:
            if not expected or expected.pop() != t:
                return False
    return not expected and list(tokens).count("|") % 2 == 0


def weights_path(name: str = NAME) -> Path:
    return shipped_dir() / f"{name}.safetensors"


@register(NAME, what="LaTeX language model",
          recipe="inkmath.training.recipes.latex_lm --config configs/latex-lm.yaml")
@dataclass
class NgramLM:
    """Back-off tables: ``logp[n][ngram]`` and ``backoff[n][context]`` over tuples of token ids."""

    vocab: list[str]
    order: int
    logp: list[dict[tuple[int, ...], float]]  # index n-1 for n-grams of length n
    backoff: list[dict[tuple[int, ...], float]]
    # per lower-case letter with both cases in the vocabulary: log P(an expression writing the letter writes it in
    # both cases), counted on the training text; the n-grams see 5 tokens back, a letter's case is the expression's
    mixed_case: dict[str, float] = field(default_factory=dict)
    unmatched: float = 0.0  # log P(an expression's brackets do not match, ``brackets_match``), counted likewise

    def __post_init__(self):
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self._unk = self.ids[UNK]

    def _word(self, context: tuple[int, ...], w: int) -> float:
        """log p(w | context) by backing off to shorter contexts."""
        pay = 0.0
        for start in range(len(context) + 1):
            h = context[start:]
            n = len(h) + 1
            lp = self.logp[n - 1].get(h + (w,))
            if lp is not None and lp > NEVER:
                return pay + lp
            if h:
                pay += self.backoff[n - 2].get(h, 0.0)
        return pay + self.logp[0].get((self._unk,), -20.0)

    def logprob(self, tokens: Sequence[str], end: bool = True, prefixes: dict | None = None) -> float:
        """Natural log of the probability of ``tokens`` as a whole expression (with its end, unless ``end=False``).
        ``prefixes``: a tree of token ids kept between calls ({id: (sum up to it, its subtree)}, ``for_one_input``):
        the tokens after the longest prefix already scored are scored, the sum the same."""
        ids = [self.ids.get(t, self._unk) for t in tokens] + ([self.ids[EOS]] if end else [])
        hist = [self.ids[BOS]] * (self.order - 1)
        total = 0.0
        node = prefixes
        for w in ids:
            kept = node.get(w) if node is not None else None
            if kept is None:
                total += self._word(tuple(hist[len(hist) - self.order + 1:]) if self.order > 1 else (), w)
                if node is not None:
                    kept = node[w] = (total, {})
            else:
                total = kept[0]
            node = kept[1] if kept is not None else None
            hist.append(w)
        return total

    def mixed_case_logprob(self, tokens: Sequence[str], letters: Sequence[str] = CASE_CONFUSED) -> float:
        """The sum of ``mixed_case`` over the ``letters`` that ``tokens`` write in both cases (0 when none does): how
        unlikely a reading is for mixing what a writer would write in one case."""
        present = set(tokens)
        return sum(self.mixed_case.get(x, 0.0) for x in letters if x in present and x.upper() in present)

    def long_range_logprob(self, tokens: Sequence[str]) -> float:
        """What the n-grams cannot see, as a log-probability: ``mixed_case_logprob`` plus ``unmatched`` when the
        brackets do not match."""
        return self.mixed_case_logprob(tokens) + (0.0 if brackets_match(tokens) else self.unmatched)

    def for_one_input(self) -> "OneInputLM":
        """This model for the readings of one input (``decode.for_one_input``), which share most of their tokens:
        it keeps the sums of the prefixes it scored (the same log-probabilities); never kept across inputs."""
        return OneInputLM(self)

    # ------------------------------------------------------------------------------------------ arrays <-> tables
    def to_tensors(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for n in range(1, self.order + 1):
            keys = sorted(self.logp[n - 1])
            out[f"ngrams{n}"] = np.asarray(keys, np.int32).reshape(len(keys), n)
            out[f"logp{n}"] = np.asarray([self.logp[n - 1][k] for k in keys], np.float32)
            if n < self.order:
                out[f"backoff{n}"] = np.asarray([self.backoff[n - 1].get(k, 0.0) for k in keys], np.float32)
        if self.mixed_case:
            letters = sorted(self.mixed_case)
            out["mixed_case_ids"] = np.asarray([self.ids[x] for x in letters], np.int32)
            out["mixed_case_logp"] = np.asarray([self.mixed_case[x] for x in letters], np.float32)
        if self.unmatched:
            out["unmatched_logp"] = np.asarray([self.unmatched], np.float32)
        return out

    @classmethod
    def from_tensors(cls, t: dict[str, np.ndarray], vocab: list[str]) -> "NgramLM":
        order = max(int(k[6:]) for k in t if k.startswith("ngrams"))
        logp, backoff = [], []
        for n in range(1, order + 1):
            keys = [tuple(r) for r in t[f"ngrams{n}"].tolist()]
            logp.append(dict(zip(keys, t[f"logp{n}"].astype(float).tolist())))
            if n < order:
                backoff.append({k: b for k, b in zip(keys, t[f"backoff{n}"].astype(float).tolist()) if b != 0.0})
        mixed = {vocab[i]: v for i, v in zip(t["mixed_case_ids"].tolist(), t["mixed_case_logp"].astype(float).tolist())
                 } if "mixed_case_ids" in t else {}
        unmatched = float(t["unmatched_logp"][0]) if "unmatched_logp" in t else 0.0
        return cls(vocab, order, logp, backoff, mixed, unmatched)

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "NgramLM":
        """The language model of a weights file (its vocabulary in the file's metadata), for
        ``registry.load_model``."""
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            vocab = json.loads((f.metadata() or {}).get("vocab", "null") or "null")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        if not vocab or "ngrams1" not in tensors:
            raise InkmathError(f"{path} is not a LaTeX language model (no vocabulary or unigrams); train it again")
        return cls.from_tensors(tensors, vocab)


@dataclass
class OneInputLM:
    """``NgramLM.logprob`` with the prefixes scored for one input kept (``NgramLM.for_one_input``)."""

    lm: NgramLM
    prefixes: dict = field(default_factory=dict)

    def logprob(self, tokens: Sequence[str], end: bool = True) -> float:
        return self.lm.logprob(tokens, end, self.prefixes)

    def mixed_case_logprob(self, tokens: Sequence[str]) -> float:
        return self.lm.mixed_case_logprob(tokens)

    def long_range_logprob(self, tokens: Sequence[str]) -> float:
        return self.lm.long_range_logprob(tokens)


def save(lm: NgramLM, path: Path, card: dict) -> None:
    """Weights and card, each written atomically (the card last: a card means complete weights)."""
    from safetensors.numpy import save as save_bytes

    atomic_write_bytes(path, save_bytes(lm.to_tensors(), metadata={"vocab": json.dumps(lm.vocab)}))
    atomic_write_text(path.with_suffix(".json"), json.dumps(card, indent=1, ensure_ascii=False) + "\n")


def load_latex_lm(path: str | None = None) -> NgramLM:
    """The shipped LaTeX language model (or the one at ``path``; ``registry.load_model``)."""
    return load_model(path, NgramLM.KIND)


def perplexity(lm: NgramLM, sentences: Sequence[Sequence[str]]) -> float:
    """Per-token perplexity (end of expression included) over token lists."""
    total = sum(lm.logprob(s) for s in sentences)
    count = sum(len(s) + 1 for s in sentences)
    return math.exp(-total / max(count, 1))
