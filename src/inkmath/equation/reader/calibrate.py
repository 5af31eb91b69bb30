"""Calibration: the probability that the decoder's first reading is right, from a few features of its beam.

A logistic regression on ``decode.features`` (the first reading's share of the beam, its lead, its symbol and
language-model scores per token, the number of symbols, the weakest symbol, its structure score per symbol), fitted
on validation: the 2011-2013 CROHME test sets read from strokes and their WAP-like renderings for images
(``benchmarks/calibration_fit.py [--image]`` fits it on the live reader's features). A photo of one expression maps
its chosen reading's confidence by a logistic of its own (``photo_confidence``), and so does an expression read on a
page photo, with what the photo shows (``page_confidence``). The coefficients ship as weights,
``weights/calibration.safetensors`` (float64) with its card, which says where each part came from; the recipe
``python -m inkmath.training.recipes.calibration`` refits them (``fit_logistic``). History:
docs/decisions/calibration.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.registry import load_model, register

IMAGE_FEATURES = ("prob", "margin", "symbol_logp", "lm_per_token", "symbols", "min_symbol_prob",
                  "structure_per_symbol")
# the strokes reader's: those and more of ``decode.beam_features``, chosen on validation (all 1,504 expressions,
# 5-fold cross-validation repeated 6 times: the half with the highest confidence 91.25 % right against 89.6 % with
# IMAGE_FEATURES; docs/decisions/calibration.md)
FEATURES = IMAGE_FEATURES + ("other_grouping", "log_readings", "tokens", "symbols_per_token", "prob_logit",
                             "min_symbol_logp", "layout_tokens")
# a photo of one expression: the log-odds of the image reader's confidence of its chosen reading (``photo_confidence``)
PHOTO_FEATURES = ("log_odds",)
# an expression read on a page photo (``page.read``): the log-odds of its reading's confidence, and what the photo
# says of how hard it is to read (the paper's lines removed, its ink's darkness, the reading's symbols, its weakest
# symbol, and its widest empty band across, where two expressions side by side were read as one), fitted on generated
# real-looking photos and worksheet pages of the validation ink (``page_confidence``)
PAGE_FEATURES = ("log_odds", "paper_lines", "ink_darkness", "symbols", "min_symbol_logit", "widest_gap")
# the features of each part of the weights file, in its coefficients' order (after the intercept)
PARTS = {"strokes": FEATURES, "image": IMAGE_FEATURES, "photo": PHOTO_FEATURES, "page": PAGE_FEATURES}
OPTIONAL_PARTS = ("page",)  # parts a weights file may lack (their readers keep the confidence they are given)
NAME = "calibration"  # the shipped weights (weights/calibration.safetensors + .json)
RECIPE = "inkmath.training.recipes.calibration --config configs/calibration.yaml"


@register(NAME, what="The reader's calibration", recipe=RECIPE)
@dataclass(frozen=True)
class Calibration:
    """The coefficients (intercept first, then one per feature of ``PARTS``) of the strokes reader's calibration, the
    image reader's and a photo's chosen reading's, as fitted on validation (float64, as fitted); the card beside the
    weights says where each came from."""

    strokes: tuple[float, ...]
    image: tuple[float, ...]
    photo: tuple[float, ...]
    page: tuple[float, ...] = ()
    card: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "Calibration":
        """The calibration of a weights file (tensors ``strokes``, ``image``, ``photo``, float64), whose card names
        the features this code reads, in this order."""
        from safetensors.numpy import load_file

        card = card or {}
        tensors = load_file(str(path))
        parts = {}
        for part, keys in PARTS.items():
            named = (card.get("features") or {}).get(part)
            if part in OPTIONAL_PARTS and part not in tensors and named is None:
                continue
            if part not in tensors or named != list(keys) or tensors[part].shape != (len(keys) + 1,):
                raise InkmathError(f"Calibration {path} does not hold {part}'s intercept and coefficients of "
                                   f"{list(keys)} (card: {named}); make it again with `python -m {RECIPE}`")
            parts[part] = tuple(float(v) for v in tensors[part])
        return cls(**parts, card=card)

    def coefficients(self, part: str) -> tuple[float, ...]:
        return getattr(self, part)


def calibration(name_or_path: str | None = None) -> Calibration:
    """The shipped calibration (``weights/calibration``), or another file's (``registry.load_model``)."""
    return load_model(name_or_path, Calibration.KIND)


def coefficients(image: bool = False) -> tuple[float, ...]:
    """The shipped coefficients of the strokes reader (``image``: the image reader's), intercept first."""
    return calibration().coefficients("image" if image else "strokes")


def photo_confidence(confidence: float, coefficients: Sequence[float] | None = None) -> float:
    """The calibrated probability that a photo's chosen reading is right, from the image reader's ``confidence``: a
    logistic on its log-odds (``coefficients``: intercept, slope; default the shipped ones). Chosen for its
    confidence, that reading is right less often than the image calibration says (docs/decisions/calibration.md)."""
    a, b = calibration().photo if coefficients is None else coefficients
    return logistic(a + b * log_odds(confidence))


def log_odds(p: float) -> float:
    """log(p / (1 - p)), ``p`` clamped to [1e-6, 1 - 1e-6]."""
    c = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(c / (1 - c))


def page_confidence(feats: dict, coefficients: Sequence[float] | None = None) -> float:
    """The calibrated probability that an expression read on a page photo is right, from ``feats`` (``confidence``:
    the reader's, and the rest of ``PAGE_FEATURES``; ``coefficients``: intercept first, default the shipped ones).
    Without a ``page`` part in the shipped calibration, the reader's confidence as it is."""
    coef = calibration().page if coefficients is None else coefficients
    if not coef:
        return float(feats["confidence"])
    z = float(np.dot(_vector({**feats, "log_odds": log_odds(feats["confidence"])}, PAGE_FEATURES),
                     np.asarray(coef, float)))
    return logistic(z)


def logistic(z: float) -> float:
    """1 / (1 + e^-z), ``z`` clamped to +-30."""
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def _vector(feats: dict, keys: Sequence[str] = FEATURES) -> np.ndarray:
    return np.array([1.0] + [float(feats[k]) for k in keys])


def calibrated_confidence(feats: dict, coefficients: Sequence[float] | None = None, image: bool = False) -> float:
    """p(the first reading is right | features), by ``coefficients`` (intercept first; default the shipped ones of the
    strokes reader, ``image``: of the image reader)."""
    coef = coefficients if coefficients is not None else calibration().coefficients("image" if image else "strokes")
    z = float(np.dot(_vector(feats, IMAGE_FEATURES if image else FEATURES), np.asarray(coef, float)))
    return logistic(z)


def fit_logistic(rows: Sequence[dict], right: Sequence[bool], l2: float = 1e-3, steps: int = 50,
                 keys: Sequence[str] = FEATURES) -> list[float]:
    """Coefficients (intercept first) maximising the log-likelihood of ``right`` given the rows' features ``keys``
    (Newton's method with a small ridge penalty, features standardised inside and mapped back)."""
    X = np.stack([_vector(r, keys)[1:] for r in rows])
    y = np.asarray(right, float)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = np.hstack([np.ones((len(X), 1)), (X - mu) / sd])
    w = np.zeros(Z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(Z @ w, -30, 30)))
        g = Z.T @ (p - y) + l2 * np.r_[0, w[1:]]
        H = (Z * (p * (1 - p))[:, None]).T @ Z + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)])
        w -= np.linalg.solve(H + 1e-9 * np.eye(len(w)), g)
    coef = w[1:] / sd
    return [float(w[0] - (coef * mu).sum())] + [float(c) for c in coef]


def reliability(conf: Sequence[float], right: Sequence[bool], bins: int = 10) -> list[dict]:
    """Reliability table: per confidence bin [k/bins, (k+1)/bins), the count, mean confidence and accuracy."""
    conf = np.asarray(conf, float)
    right = np.asarray(right, bool)
    out = []
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        m = (conf >= lo) & ((conf < hi) if k < bins - 1 else (conf <= hi))
        if m.any():
            out.append({"bin": f"{lo:.1f}-{hi:.1f}", "count": int(m.sum()), "mean_confidence": round(float(conf[m].mean()), 4),
                        "accuracy": round(float(right[m].mean()), 4)})
    return out


def expected_calibration_error(conf: Sequence[float], right: Sequence[bool], bins: int = 10) -> float:
    n = len(conf)
    return float(sum(r["count"] / n * abs(r["mean_confidence"] - r["accuracy"]) for r in reliability(conf, right, bins)))


def top_half_accuracy(conf: Sequence[float], right: Sequence[bool]) -> float:
    """Accuracy of the half of the readings with the highest confidence."""
    order = np.argsort(-np.asarray(conf, float), kind="stable")
    half = order[: max(1, len(order) // 2)]
    return float(np.asarray(right, bool)[half].mean())
