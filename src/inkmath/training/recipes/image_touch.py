"""Trains the image touch model shipped as ``weights/image-touch.safetensors`` (+ its card ``image-touch.json``) from
its recipe ``configs/image-touch.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.image_touch --config configs/image-touch.yaml
        [--limit N] [--shard K] [--cache DIR] [--out FILE]

Data: the CROHME 2014 *training* ink (never the validation or test ink), rendered like the WAP bitmaps and labelled
pixel by pixel as for ``image-merge`` (``train_image_merge``: same renderings, other seeds). The reader's own
segmentation (``image_segmentation.image_parts``, with ``data_search``) weighs, in every component ``split_touching``
tries, the cuts where strokes meet (``image_touch.touch_cuts``) whose both sides read; each is one example, target 1
when it parts two truth symbols: each side has at least ``PURITY`` of its labelled pixels in one truth symbol, the two are different,
and each holds at least ``PURITY`` of that symbol's labelled pixels in the component. The raw rows
(``image_touch.cut_raw``) are cached in shards like ``image-merge``'s (``train_image_merge.build_shard``: atomic,
resumable, ``--shard K`` for parallel builds); the perceptron then trains from the cache.
"""

from __future__ import annotations

import math

import numpy as np
from inkmath.equation.core.wap_like import render_labelled
from inkmath.equation.image.segmentation import image_parts
from inkmath.equation.image.touch import ImageTouchModel, RAW_LEN, TOP, touch_features, TouchSearch
from inkmath.training.recipes.image_merge import ShardTrainer, train_from_shards, truth_labels
from inkmath.weights import shipped_file

PURITY = 0.8
PURPOSE = "the image reader's cuts of touching symbols: does a cut where strokes meet part two symbols?"
DEFAULTS = {"name": "image-touch", "purpose": PURPOSE, "model": "tanh-mlp", "hidden": 64, "epochs": 40,
            "weight_decay": 0.001, "seed": 0, "limit": 6000, "shard": 250, "render_seed": 41,
            "classifier": "crohme-m", "engine": "onnx"}


def data_search(found: list):
    """How the segmentation looks for cuts where strokes meet while it makes this model's data
    (``image_touch.TouchSearch``), as when the shipped model's data were made: in every component tried, whatever it
    reads, but not in narrow or flat ones; every piece read; the cuts weighed appended to ``found`` as (raw rows,
    pieces), and none made (the model is not asked: it need not exist yet)."""
    return TouchSearch(whole_below=math.inf, narrow=False, every_piece=True, model=False,
                       observe=lambda raw, pieces: found.append((raw, pieces)))


def parts_two_symbols(a: np.ndarray, b: np.ndarray, lab: np.ndarray) -> bool:
    """Do pixel masks ``a`` and ``b`` (the two sides of a cut) hold two different truth symbols, each side one of them
    nearly alone and nearly whole (see ``PURITY``)?"""
    owners = []
    both = lab[a | b]
    for side in (a, b):
        vals = lab[side]
        vals = vals[vals >= 0]
        if not len(vals):
            return False
        counts = np.bincount(vals)
        owner = int(counts.argmax())
        if counts[owner] < PURITY * len(vals) or counts[owner] < PURITY * np.count_nonzero(both == owner):
            return False
        owners.append(owner)
    return owners[0] != owners[1]


def expression_rows(expr, rng: np.random.Generator, classifier) -> tuple[np.ndarray, np.ndarray]:
    """(raw rows (M, RAW_LEN), targets (M,)) of the cuts where strokes meet weighed in one training expression."""
    img, masks = render_labelled(expr, rng)
    found: list = []
    parts = image_parts(img, classifier, TOP, touch=data_search(found))
    if not found or not masks:
        return np.zeros((0, RAW_LEN), np.float32), np.zeros(0, np.float32)
    lab = truth_labels(parts.img.shape, masks)
    raw = np.concatenate([r for r, _ in found])
    y = [float(parts_two_symbols(a[1], b[1], lab)) for _, pieces in found for a, b in pieces]
    return raw, np.asarray(y, np.float32)


def main(argv: list[str] | None = None) -> int:
    from inkmath.predict import Predictor

    def data(recipe: dict, n: int, rows: int, positives: int, secs: float) -> str:
        return (f"the first {n} expressions of the CROHME 2014 training InkML rendered WAP-like (seed "
                f"{recipe['render_seed']}), {rows} cuts where strokes meet ({positives} parting two symbols); the "
                f"reader's segmentation took {secs:.0f} s")

    spec = ShardTrainer("inkmath.training.recipes.image_touch", "configs/image-touch.yaml", "image-touch", shipped_file("image-touch"),
                        ImageTouchModel, touch_features, "image_touch.touch_features", "parts two symbols",
                        lambda recipe: Predictor.load(recipe["classifier"], recipe["engine"]), expression_rows, data,
                        ("heldout_cut_accuracy", "heldout_right_recall", "heldout_right_precision",
                         "the cuts of every 10th expression (a model trained without them)"))
    return train_from_shards(argv, __doc__.splitlines()[0], DEFAULTS, spec)


if __name__ == "__main__":
    raise SystemExit(main())
