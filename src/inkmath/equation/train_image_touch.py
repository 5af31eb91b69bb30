"""Trains the image touch model shipped as ``weights/image-touch.safetensors`` (+ its card ``image-touch.json``) from
its recipe ``configs/image-touch.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.equation.train_image_touch --config configs/image-touch.yaml
        [--limit N] [--shard K] [--cache DIR] [--out FILE]

Data: the CROHME 2014 *training* ink (never the validation or test ink), rendered like the WAP bitmaps and labelled
pixel by pixel as for ``image-merge`` (``train_image_merge``: same renderings, other seeds). The reader's own
segmentation (``image_segmentation.image_parts``) weighs, in every component ``split_touching`` tries, the cuts where
strokes meet (``image_touch.touch_cuts``) whose both sides read; each is one example, target 1 when it parts two
truth symbols: each side has at least ``PURITY`` of its labelled pixels in one truth symbol, the two are different,
and each holds at least ``PURITY`` of that symbol's labelled pixels in the component. The raw rows
(``image_touch.cut_raw``) are cached in shards like ``image-merge``'s (``train_image_merge.build_shard``: atomic,
resumable, ``--shard K`` for parallel builds); the perceptron then trains from the cache.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

PURITY = 0.8
PURPOSE = "the image reader's cuts of touching symbols: does a cut where strokes meet part two symbols?"
DEFAULTS = {"name": "image-touch", "purpose": PURPOSE, "model": "tanh-mlp", "hidden": 64, "epochs": 40,
            "weight_decay": 0.001, "seed": 0, "limit": 6000, "shard": 250, "render_seed": 41,
            "classifier": "crohme-m", "engine": "onnx"}


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
    from inkmath.equation.image_segmentation import image_parts
    from inkmath.equation.image_touch import RAW_LEN, TOP
    from inkmath.equation.train_image_merge import truth_labels
    from inkmath.equation.wap_like import render_labelled

    img, masks = render_labelled(expr, rng)
    found: list = []
    parts = image_parts(img, classifier, TOP, touch_rows=found)
    if not found or not masks:
        return np.zeros((0, RAW_LEN), np.float32), np.zeros(0, np.float32)
    lab = truth_labels(parts.img.shape, masks)
    raw = np.concatenate([r for r, _ in found])
    y = [float(parts_two_symbols(a[1], b[1], lab)) for _, pieces in found for a, b in pieces]
    return raw, np.asarray(y, np.float32)


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save

    from inkmath.atomic import atomic_write_bytes
    from inkmath.equation.image_grouping import class_index
    from inkmath.equation.image_touch import MODEL_PATH, ImageTouchModel, touch_features
    from inkmath.equation.mlp import binary_card, fit_binary_heldout, read_recipe, write_card
    from inkmath.equation.train_image_merge import build_shard, load_rows, shards
    from inkmath.predict import Predictor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/image-touch.yaml", help="the recipe (YAML); flags override it")
    ap.add_argument("--limit", type=int, default=None, help="only the first N training expressions")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "inkmath" / "image-touch")
    ap.add_argument("--shard", type=int, default=None, help="only build shard K's rows, then stop")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args(argv)
    recipe = read_recipe(args.config, DEFAULTS)
    if args.limit is not None:
        recipe["limit"] = args.limit
    import cv2

    cv2.setNumThreads(1)
    cache = args.cache / f"seed{recipe['render_seed']}-shard{recipe['shard']}-{recipe['classifier']}"
    cache.mkdir(parents=True, exist_ok=True)
    classifier = Predictor.load(recipe["classifier"], recipe["engine"])  # the readings the model learns from
    if args.shard is not None:
        print(build_shard(recipe, cache, args.shard, classifier, expression_rows))
        return 0
    for s in range(shards(recipe)):  # what other processes have not built yet (all of it at first)
        build_shard(recipe, cache, s, classifier, expression_rows)
    raw, y, ex, n, secs = load_rows(recipe, cache)
    X = touch_features(raw, len(class_index()))
    held = (ex % 10) == 9  # every 10th expression's cuts
    tensors, held_figures = fit_binary_heldout(X, y, ~held, held, ImageTouchModel, hidden=recipe["hidden"],
                                               epochs=recipe["epochs"], weight_decay=recipe["weight_decay"],
                                               seed=recipe["seed"])
    atomic_write_bytes(args.out, save(tensors))
    command = f"python -m inkmath.equation.train_image_touch --config {args.config}" + (
        f" --limit {args.limit}" if args.limit is not None else "")
    card = {**binary_card(recipe, tensors, "image_touch.touch_features", "parts two symbols", args.config, command),
            "recipe": recipe,
            "data": {"train": f"the first {n} expressions of the CROHME 2014 training InkML rendered WAP-like "
                              f"(seed {recipe['render_seed']}), {len(X)} cuts where strokes meet "
                              f"({int(y.sum())} parting two symbols); the reader's segmentation took {secs:.0f} s"},
            "metrics": {"heldout_cut_accuracy": held_figures["accuracy"],
                        "heldout_right_recall": held_figures["recall"],
                        "heldout_right_precision": held_figures["precision"],
                        "heldout": "the cuts of every 10th expression (a model trained without them)"}}
    write_card(args.out, card)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
