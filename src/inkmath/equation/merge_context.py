"""The stroke-merge model that reads the whole drawing: does stroke i+1 continue the symbol of stroke i?

The perceptron of ``segment.MergeModel`` sees one pair of consecutive strokes and its immediate neighbours
(``segment.pair_features``). This model first reads every stroke of the drawing through a small transformer
(``transformer.py``): each stroke's own geometry against the others (``context_model.geometry_features`` over the
strokes' boxes) and the features of its pair with the next stroke, with attention biased by the strokes' pairwise
geometry. Each pair's probability then comes from both strokes' vectors and the pair's features. So the second bar of
an ``=``, a late dot or the parts of a ``\\pm`` are judged against the rest of the line. Trained by
``train_merge_context`` (``configs/stroke-merge-context.yaml``).

    model = load_context_merge_model(path)
    model.probs(strokes)  # (n - 1,) p(stroke i + 1 is in the symbol of stroke i)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from inkmath import InkmathError
from inkmath.equation.transformer import layer_norm, numpy_blocks

MODEL_KIND = "stroke-merge-context"
N_PAIR = 29  # segment.pair_features


def stroke_boxes(strokes: Sequence[np.ndarray]) -> np.ndarray:
    """float64 (n, 4): each stroke's x0, y0, x1, y1."""
    return np.asarray([[s[:, 0].min(), s[:, 1].min(), s[:, 0].max(), s[:, 1].max()] for s in strokes], np.float64)


def drawing_features(strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(consecutive pair features (n, N_PAIR), the last row zeros; each stroke's geometry (n, G); pairwise geometry
    (n, n, P)) of a drawing of n >= 2 non-empty strokes."""
    from inkmath.equation.context_model import geometry_features
    from inkmath.equation.segment import drawing_pair_features

    n = len(strokes)
    pairs = np.zeros((n, N_PAIR), np.float32)
    pairs[:-1] = drawing_pair_features(strokes)
    geo, pair = geometry_features(stroke_boxes(strokes))
    return pairs, geo, pair


@dataclass
class ContextMergeModel:
    tensors: dict[str, np.ndarray]
    architecture: dict  # dim, layers, heads, ff

    def logits(self, pairs: np.ndarray, geo: np.ndarray, pair: np.ndarray) -> np.ndarray:
        """(n - 1,) merge logits from ``drawing_features``."""
        t = self.tensors
        x = (pairs - t["mean"]) / t["std"]
        h = x @ t["pair_in.weight"].T + t["pair_in.bias"] + geo @ t["geo_in.weight"].T + t["geo_in.bias"]
        bias = np.maximum(pair @ t["pair1.weight"].T + t["pair1.bias"], 0) @ t["pair2.weight"].T + t["pair2.bias"]
        h = numpy_blocks(h, bias, t, int(self.architecture["layers"]), int(self.architecture["heads"]))
        h = layer_norm(h, t["ln_out.weight"], t["ln_out.bias"])
        z = np.concatenate([h[:-1], h[1:], x[:-1]], axis=1)
        z = np.maximum(z @ t["head1.weight"].T + t["head1.bias"], 0)
        return (z @ t["head2.weight"].T + t["head2.bias"])[:, 0]

    def probs(self, strokes: Sequence[np.ndarray]) -> np.ndarray:
        if len(strokes) < 2:
            return np.zeros(0)
        pairs, geo, pair = drawing_features(strokes)
        z = self.logits(pairs.astype(np.float64), geo.astype(np.float64), pair.astype(np.float64))
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


TENSORS = ("mean", "std", "pair_in.weight", "pair_in.bias", "geo_in.weight", "geo_in.bias", "pair1.weight",
           "pair1.bias", "pair2.weight", "pair2.bias", "ln_out.weight", "ln_out.bias", "head1.weight", "head1.bias",
           "head2.weight", "head2.bias")


def read_context_merge_model(path: Path, meta: dict, tensors: dict[str, np.ndarray]) -> ContextMergeModel:
    """The model from a weights file's tensors and metadata (``meta['architecture']``)."""
    missing = [k for k in TENSORS if k not in tensors]
    if missing or "architecture" not in meta:
        raise InkmathError(f"Stroke merge model {path} lacks {missing or 'its architecture'}; train it again with "
                           "`python -m inkmath.equation.train_merge_context --config configs/stroke-merge.yaml`.")
    return ContextMergeModel({k: np.asarray(v, np.float64) for k, v in tensors.items()},
                             json.loads(meta["architecture"]))
