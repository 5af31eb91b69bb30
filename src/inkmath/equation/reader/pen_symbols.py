"""A symbol read from the pen's path: a second opinion on the groups the stroke reader offers.

The reader's symbol classifier (crohme-m) reads a group's rendered crop. Drawn ink also has the order and direction
of the pen: ``pen_features`` resamples a group's strokes to ``POINTS`` points evenly spaced along the pen's path
(each stroke given points in proportion to its length, at least 2), centred on the group's box and divided by its
longer side, with each step's movement and a mark where a stroke starts; four numbers more give the group's width and
height against the expression's typical symbol, its aspect and its stroke count. A small 1-D convolutional network
(``build_pen_net``) reads them.

Its reading is evidence added late: the stroke segmenter gives each group of its groupings the pen's
``evidence`` (``SymbolHyp.pen_evidence``), and ``symbols.read_symbols`` adds it to the context models' log-probabilities
(``fuse``). The groupings, the candidates and the context models' inputs stay the crop classifier's. The evidence is
``PEN_WEIGHT`` times the pen's log-probabilities less ``PRIOR_WEIGHT`` times the training set's class log-frequencies
(the context models know how often each class is written already).

Images have no pen: the image and page readers read crops alone.

    pen = load_pen_model()                      # the shipped ``pen-symbols`` weights, loaded once
    e = pen.evidence(pen.log_probs(groups, scale))
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.registry import load_model, register, weights_path
from inkmath.scratch.layers import log_softmax
from inkmath.weights import load_arrays_and_card

PEN_MODEL = "pen-symbols"  # the shipped weights' name
POINTS = 64  # points a group's pen path is resampled to
STEP_FEATURES = 5  # per point: x, y (centred, / the box's longer side), dx, dy, a stroke starts here
GROUP_FEATURES = 4  # width, height (in typical symbols), log aspect, strokes / MAX_STROKES
MAX_STROKES = 6  # the stroke count feature saturates here
# The evidence's weights, chosen on validation (the 15,779 truth symbols of the CROHME 2011-2013 test ink, the shipped
# pair of context models on crohme-m's readings: 95.55 % alone; docs/decisions/pen-model.md), with
# the shipped pen-symbols (width 64): PEN_WEIGHT 0.5 / 0.75 / 1.0 with PRIOR_WEIGHT 0 95.84 / 95.78 / 95.75 %, with 0.5
# 95.94 / 96.03 / 95.91 %, with 1.0 95.98 / 95.96 / 95.82 %.
PEN_WEIGHT = 0.75
PRIOR_WEIGHT = 0.5


def pen_features(groups: Sequence[Sequence[np.ndarray]], scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(steps (N, POINTS, STEP_FEATURES + 1) float32, the last column 1 where a point is real; group (N,
    GROUP_FEATURES) float32) of ``groups``, each a list of strokes (P, 2+) in writing order. ``scale`` is the
    expression's ``ink.normalization_scale``: it gives the typical symbol's size the group's is measured against."""
    from inkmath import ink

    unit = ink.DEFAULT_HEIGHT / scale
    steps = np.zeros((len(groups), POINTS, STEP_FEATURES + 1), np.float32)
    group = np.zeros((len(groups), GROUP_FEATURES), np.float32)
    for n, strokes in enumerate(groups):
        own = [np.asarray(s, np.float64)[:, :2] for s in strokes if len(s)]
        if not own:
            raise InkmathError("A symbol group without points cannot be read from its pen path")
        own = own[:POINTS // 2]  # every stroke needs 2 points
        along = [np.concatenate([[0.0], np.cumsum(np.sqrt((np.diff(s, axis=0) ** 2).sum(1)))]) for s in own]
        x0, y0 = np.min([s.min(0) for s in own], 0)
        x1, y1 = np.max([s.max(0) for s in own], 0)
        w, h = x1 - x0, y1 - y0
        side = max(w, h, 1e-6)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        lengths = np.array([a[-1] for a in along]) + 1e-3 * side
        counts = np.maximum(2, np.round(lengths / lengths.sum() * (POINTS - 2 * len(own))).astype(int))
        while counts.sum() > POINTS:
            counts[np.argmax(counts)] -= 1
        at = 0
        row = steps[n]
        for s, a, k in zip(own, along, counts):
            if a[-1] > 0:
                t = np.linspace(0.0, a[-1], k)
                row[at:at + k, 0] = (np.interp(t, a, s[:, 0]) - cx) / side
                row[at:at + k, 1] = (np.interp(t, a, s[:, 1]) - cy) / side
            else:  # a dot
                row[at:at + k, 0] = (s[0, 0] - cx) / side
                row[at:at + k, 1] = (s[0, 1] - cy) / side
            row[at + 1:at + k, 2:4] = np.diff(row[at:at + k, 0:2], axis=0)
            row[at, 4] = 1.0
            row[at:at + k, 5] = 1.0
            at += k
        group[n] = (w / unit, h / unit, np.log((w + 1e-3 * unit) / (h + 1e-3 * unit)),
                    min(len(own), MAX_STROKES) / MAX_STROKES)
    return steps, group


def build_pen_net(num_classes: int, width: int = 64, hidden: int = 256, dropout: float = 0.2):
    """The pen model: two convolutions (5 wide, 64 and ``width`` channels), two dilated residual ones, the path's mean
    and max, then a 2-layer head over them and the group features."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class PenNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.b1 = nn.Conv1d(STEP_FEATURES, 64, 5, padding=2), nn.BatchNorm1d(64)
            self.c2, self.b2 = nn.Conv1d(64, width, 5, padding=2), nn.BatchNorm1d(width)
            self.c3, self.b3 = nn.Conv1d(width, width, 3, padding=2, dilation=2), nn.BatchNorm1d(width)
            self.c4, self.b4 = nn.Conv1d(width, width, 3, padding=4, dilation=4), nn.BatchNorm1d(width)
            self.head = nn.Sequential(nn.Linear(2 * width + GROUP_FEATURES, hidden), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(hidden, num_classes))

        def forward(self, steps, group):
            mask = steps[:, :, STEP_FEATURES:].transpose(1, 2)  # (B, 1, T)
            h = steps[:, :, :STEP_FEATURES].transpose(1, 2)
            h = F.relu(self.b1(self.c1(h)))
            h = F.relu(self.b2(self.c2(h)))
            h = h + F.relu(self.b3(self.c3(h)))
            h = h + F.relu(self.b4(self.c4(h)))
            mean = (h * mask).sum(2) / mask.sum(2).clamp(min=1.0)
            top = (h - 1e4 * (1.0 - mask)).amax(2)
            return self.head(torch.cat([mean, top, group], 1))

    return PenNet()


def fuse(probs: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """(C,) class probabilities ``probs`` (summing to at most 1: the rest is junk's) with the pen's ``evidence``
    added to their logarithms, renormalised to the same total."""
    p = np.asarray(probs, np.float64)
    z = np.log(np.maximum(p, 1e-12)) + evidence
    q = np.exp(z - z.max())
    return q * (p.sum() / q.sum())


# (name, kernel, dilation) of build_pen_net's convolutions, in order; the last two add their output to their input
_CONVS = (("c1", 5, 1), ("c2", 5, 1), ("c3", 3, 2), ("c4", 3, 4))
_BN_EPS = 1e-5  # torch.nn.BatchNorm1d's


def fold(tensors: dict) -> dict:
    """build_pen_net's state dict as NumPy layers for ``pen_logits``: each convolution with its batch norm folded in,
    as a (kernel * in, out) matrix and a bias (its kernel and dilation are ``_CONVS``'), and the head's two layers."""
    out = {}
    for name, kernel, _ in _CONVS:
        w, b = tensors[f"{name}.weight"], tensors[f"{name}.bias"]  # (O, C, K), (O,)
        bn = "b" + name[1:]
        scale = tensors[f"{bn}.weight"] / np.sqrt(tensors[f"{bn}.running_var"] + _BN_EPS)
        matrix = (w * scale[:, None, None]).transpose(2, 1, 0).reshape(kernel * w.shape[1], w.shape[0])
        bias = (b - tensors[f"{bn}.running_mean"]) * scale + tensors[f"{bn}.bias"]
        out[name] = (np.ascontiguousarray(matrix, np.float32), bias.astype(np.float32))
    for k in ("head.0", "head.3"):
        out[k] = (np.ascontiguousarray(tensors[f"{k}.weight"].T, np.float32), tensors[f"{k}.bias"].astype(np.float32))
    return out


def pen_logits(layers: dict, steps: np.ndarray, group: np.ndarray) -> np.ndarray:
    """build_pen_net's forward pass in NumPy (eval mode) with ``fold``'s layers: (N, C) logits. Channels last, each
    convolution one matrix product over the path's shifted copies."""
    n, points, _ = steps.shape
    mask = steps[:, :, STEP_FEATURES:]  # (N, T, 1)
    h = steps[:, :, :STEP_FEATURES]
    for k, (name, kernel, dilation) in enumerate(_CONVS):
        matrix, bias = layers[name]
        pad = dilation * (kernel - 1) // 2
        padded = np.pad(h, ((0, 0), (pad, pad), (0, 0)))
        shifted = np.concatenate([padded[:, j * dilation:j * dilation + points] for j in range(kernel)], axis=2)
        y = np.maximum(shifted.reshape(n * points, -1) @ matrix + bias, 0.0).reshape(n, points, -1)
        h = h + y if k >= 2 else y
    mean = (h * mask).sum(1) / np.maximum(mask.sum(1), 1.0)
    top = (h - 1e4 * (1.0 - mask)).max(1)
    z = np.maximum(np.concatenate([mean, top, group], 1) @ layers["head.0"][0] + layers["head.0"][1], 0.0)
    return z @ layers["head.3"][0] + layers["head.3"][1]


@register(PEN_MODEL, what="Pen model weights",
          recipe="inkmath.training.recipes.pen --config configs/pen-symbols.yaml --ship")
class PenModel:
    """The pen model with its card (weights as a state dict of NumPy arrays: it reads without torch, as the context
    models do); ``log_probs`` reads groups of strokes, ``evidence`` weighs that reading."""

    def __init__(self, tensors: dict | None, card: dict):
        self.layers, self.card = (fold(tensors) if tensors is not None else None), card
        self.classes = list(card["classes"])
        counts = np.asarray(card["class_counts"], np.float64) + 1.0
        self.log_prior = np.log(counts / counts.sum())

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None) -> "PenModel":
        """The pen model of a weights file and its card (classes, class counts), for ``registry.load_model``."""
        return cls(*load_arrays_and_card(path, cls.WHAT, f"train them with `python -m {cls.RECIPE}`"))

    def evidence(self, log_probs: np.ndarray) -> np.ndarray:
        """(N, C) float32: what ``fuse`` adds to the context models' log-probabilities."""
        return (PEN_WEIGHT * (np.asarray(log_probs, np.float64) - PRIOR_WEIGHT * self.log_prior)).astype(np.float32)

    def log_probs(self, groups: Sequence[Sequence[np.ndarray]], scale: float) -> np.ndarray:
        """(N, C) float64 log-probabilities of ``groups`` (see ``pen_features``)."""
        if not len(groups):
            return np.zeros((0, len(self.classes)))
        return log_softmax(pen_logits(self.layers, *pen_features(groups, scale)).astype(np.float64))


def is_shipped(name: str = PEN_MODEL) -> bool:
    """Whether the pen model ``name``'s weights file is there."""
    return weights_path(name).is_file()


def load_pen_model(name: str = PEN_MODEL) -> PenModel:
    """The pen model ``name`` (shipped name or a ``.safetensors`` path with its ``.json`` card beside it), loaded
    once per process (``registry.load_model``)."""
    return load_model(name, PenModel.KIND)
