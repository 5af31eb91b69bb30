"""Calibration: the probability that the decoder's first reading is right, from a few features of its beam.

A logistic regression on ``decode.features`` (the first reading's share of the beam, its lead, its symbol and
language-model scores per token, the number of symbols, the weakest symbol, its structure score per symbol), fitted
on validation: the 2011-2013 CROHME test sets read from strokes (``benchmarks/calibration_fit.py`` fits it on the
live reader's features) and their WAP-like renderings for images (``benchmarks/decoder_val.py --fit --image``); the
coefficients below.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

IMAGE_FEATURES = ("prob", "margin", "symbol_logp", "lm_per_token", "symbols", "min_symbol_prob",
                  "structure_per_symbol")
# the strokes reader's: those and more of ``decode.beam_features``, chosen on validation (all 1,504 expressions,
# 5-fold cross-validation repeated 6 times: the half with the highest confidence 91.25 % right against 89.6 % with
# IMAGE_FEATURES; docs/decisions/calibration.md)
FEATURES = IMAGE_FEATURES + ("other_grouping", "log_readings", "tokens", "symbols_per_token", "prob_logit",
                             "min_symbol_logp", "layout_tokens")
# fitted on all 1,504 expressions of the 2011-2013 test sets read by the shipped stroke reader, on the features it
# hands its calibration (``python benchmarks/calibration_fit.py``, L2 0.001): intercept first, then one coefficient per
# FEATURES entry, on the features as they are. Refitted when the look-alikes' size correction (``symbol_size``) joined
# the reader, under which the coefficients before read a calibration error (10 bins) of 0.028: 0.0195 in-sample
# (2026-11-28). Refitted again when the reader's context model became the distilled one (symbols.
# READER_CONTEXT_MODELS), under which the coefficients before read 0.0285: now 0.0142 in-sample, 0.014-0.020 in 5-fold
# cross-validation, the most confident half 94.0 % right (93.8-93.9 % cross-validated);
# docs/decisions/symbol-context.md. (The raw share of the beam: error 0.233 when it was measured.)
COEFFICIENTS: tuple[float, ...] | None = (-4.559576, 9.665425, -5.217717, 0.311764, 0.411543, 0.014852, 1.334463,
                                          4.664033, -0.161099, -0.425046, -0.038497, 1.714861, 0.159060, -0.762160,
                                          0.205441)
# the same for images (IMAGE_FEATURES), fitted on the WAP-like renderings of every 3rd 2011-2013 expression (502,
# decoder_val.py --dump images --stride 3 --beam 6 --segmentations 6, with the latex-lm of order 6; --fit DUMP --image
# --lm 0.2 --segment 1 --structure 0.5 --temperature 0.5 --length 0.3 --beam 4 --max-drop 5, which reads them with
# recognize.IMAGE_DECODER_WEIGHTS and image_segmentation's groupings as shipped; refitted with the image reader's four
# symbol-context models (symbols.IMAGE_CONTEXT_MODELS): calibration error 0.041 in-sample (0.059 with the coefficients
# before, which were 0.046 with the reader's pair alone), top half 88.0 % right; on all 1,504 renderings (wap_val.py)
# 0.035 against 0.058 (docs/decisions/symbol-context.md). Kept when the image reader's search widened to 5
# groupings and alt_beam 2: on all 1,504 renderings the error fell to 0.026, the top half 87.5 % right
# (docs/decisions/image-reader.md). Kept with the distilled context model: 0.032 against a refit's 0.039
# in-sample, 0.031-0.037 cross-validated (``calibration_fit.py --image``; docs/decisions/symbol-context.md)
IMAGE_COEFFICIENTS: tuple[float, ...] | None = (-4.51553978705803, 6.989069489338281, -1.245643936209319,
                                                0.13106287685082182, 0.5021924357689087, 0.016397959387502752,
                                                2.819474465001413, 12.390628678557418)


# A photo of one expression (``recognize.recognize_image``) keeps the most confident of up to three readings of the
# photo: chosen for its confidence, that reading is right less often than the image calibration says (generated
# validation photos, ``benchmarks/photo_expressions.py val``, 1,086: read at 0.3 right 16 %, at 0.5 26 %, at 0.7 59 %;
# calibration error 0.100). So its confidence is mapped by a logistic on its log-odds, fitted on those photos' chosen
# readings (intercept, slope; L2 0.001): error 0.037 in-sample, 0.029 in 5-fold cross-validation
# (docs/decisions/photo-expressions.md)
PHOTO_COEFFICIENTS = (-0.809162, 1.236297)


def photo_confidence(confidence: float) -> float:
    """The calibrated probability that a photo's chosen reading is right, from the image reader's ``confidence``."""
    c = min(max(float(confidence), 1e-6), 1 - 1e-6)
    z = PHOTO_COEFFICIENTS[0] + PHOTO_COEFFICIENTS[1] * math.log(c / (1 - c))
    return _logistic(z)


def _logistic(z: float) -> float:
    """1 / (1 + e^-z), ``z`` clamped to +-30."""
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


def _vector(feats: dict, keys: Sequence[str] = FEATURES) -> np.ndarray:
    return np.array([1.0] + [float(feats[k]) for k in keys])


def calibrated_confidence(feats: dict, coefficients: Sequence[float] | None = None, image: bool = False) -> float:
    """p(the first reading is right | features); without coefficients, the first reading's share of the beam."""
    coef = coefficients if coefficients is not None else IMAGE_COEFFICIENTS if image else COEFFICIENTS
    if coef is None:
        return float(feats["prob"])
    z = float(np.dot(_vector(feats, IMAGE_FEATURES if image else FEATURES), np.asarray(coef, float)))
    return _logistic(z)


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
