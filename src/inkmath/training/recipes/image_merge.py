"""Trains the image merge model shipped as ``weights/image-merge.safetensors`` (+ its card ``image-merge.json``) from
its recipe ``configs/image-merge.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.image_merge --config configs/image-merge.yaml
        [--limit N] [--shard K] [--cache DIR] [--out FILE]

Data: the CROHME 2014 *training* ink (never the validation or test ink), each expression rendered like the WAP
bitmaps (``wap_like.render_labelled``: binary, pen about 3.3 px, mean symbol height about 30 px drawn with WAP's
spread, seeded per expression) and each traceGroup drawn alone with the same transform, so every pixel knows its truth
symbol. The reader's own parts (``image_segmentation.image_parts``: components, cut bars, touching symbols cut,
names read whole) get the truth symbol most of their labelled pixels belong to; parts with less than ``PURITY`` of
them in one symbol are left out. Every candidate pair (``image_grouping.candidate_pairs``) of kept parts is one
example: target 1 when both parts belong to one truth symbol. Running the classifier over the renderings is the
slow part, so the raw rows (``image_grouping.pair_raw``) are cached in shards of ``shard`` expressions
(``--cache``, written atomically; a shard already there is not built again, so an interrupted run resumes where it
stopped, and several processes can build shards with ``--shard K``); the perceptron then trains from the cache.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from inkmath.atomic import atomic_write_bytes
from inkmath.data import cache_dir, data_dir
from inkmath.data.crohme import iter_inkml
from inkmath.training.small_models import binary_card, fit_binary_heldout, read_recipe, write_card
from inkmath.equation.core.wap_like import render_labelled
from inkmath.equation.image.grouping import class_index, ImageMergeModel, pair_features, RAW_LEN, score_pairs, TOP
from inkmath.equation.image.segmentation import image_parts
from inkmath.equation.recognize import get_predictor
from inkmath.weights import shipped_file

PURITY = 0.75
PURPOSE = "the image reader's grouping: are two nearby parts of an expression image one symbol?"
DEFAULTS = {"name": "image-merge", "purpose": PURPOSE, "model": "tanh-mlp", "hidden": 128, "epochs": 40,
            "weight_decay": 0.001, "seed": 0, "limit": 3000, "shard": 250, "render_seed": 22,
            "classifier": "crohme"}
ARCHIVE = "crohme2014_train_inkml.tar.xz"


def truth_labels(shape: tuple[int, int], masks: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """int16 ``shape``: the truth group of each pixel of a working image of that size (-1: none), from ``masks``
    ((group index, pixel mask) in the rendering, which the working image may have rescaled)."""
    import cv2

    lab = np.full(masks[0][1].shape if masks else shape, -1, np.int16)
    for k, m in masks:
        lab[m & (lab < 0)] = k
    if lab.shape != shape:
        lab = cv2.resize(lab, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return lab


def part_owners(parts, groups: list[list[int]], masks: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(owner, purity) per part (a list of components of ``parts``): the truth group (``masks``: (group index, pixel
    mask) of those with ink) most of its labelled pixels belong to (-1: none) and that group's share of them."""
    lab = truth_labels(parts.img.shape, masks)
    owner, purity = np.full(len(groups), -1), np.zeros(len(groups))
    for i, g in enumerate(groups):
        m = parts.comps[g[0]][1].copy()
        for c in g[1:]:
            m |= parts.comps[c][1]
        vals = lab[m]
        vals = vals[vals >= 0]
        if len(vals):
            counts = np.bincount(vals)
            owner[i] = int(counts.argmax())
            purity[i] = counts.max() / len(vals)
    return owner, purity


def expression_rows(expr, rng: np.random.Generator, classifier) -> tuple[np.ndarray, np.ndarray]:
    """(raw rows (M, RAW_LEN), targets (M,)) of one training expression's candidate pairs of kept parts."""
    img, masks = render_labelled(expr, rng)
    parts = image_parts(img, classifier, TOP)
    named = {c for run, _, _ in parts.names for c in run}
    n = len(parts.comps)
    groups = [list(run) for run, _, _ in parts.names] + [[c] for c in range(n) if c not in named]
    gpred = [pr for _, _, pr in parts.names] + [parts.preds[c] for c in range(n) if c not in named]
    gbox = [b for _, b, _ in parts.names] + [parts.comps[c][0] for c in range(n) if c not in named]
    owner, purity = part_owners(parts, groups, masks)
    keep = [i for i in range(len(groups)) if owner[i] >= 0 and purity[i] >= PURITY]
    pairs, _, raw, _ = score_pairs(parts.img, parts.comps, groups, gbox, gpred, parts.unit, classifier)
    rows = [i for i, (a, b) in enumerate(pairs) if a in keep and b in keep]
    if not rows:
        return np.zeros((0, RAW_LEN), np.float32), np.zeros(0, np.float32)
    return raw[rows], np.asarray([float(owner[pairs[i][0]] == owner[pairs[i][1]]) for i in rows], np.float32)


def training_expressions(limit: int | None):
    """The CROHME 2014 training expressions with symbols and ink, in archive order, the first ``limit``."""
    k = 0
    for expr in iter_inkml(Path(data_dir()) / "crohme" / ARCHIVE):
        if limit is not None and k >= limit:
            return
        if expr.groups and any(len(s) for s in expr.strokes) and any(
                len(expr.strokes[i]) for g in expr.groups for i in g.stroke_ids):
            yield k, expr
            k += 1


def build_shard(recipe: dict, cache: Path, shard: int, classifier, rows_of=None) -> Path:
    """The raw rows of training expressions [shard * size, (shard + 1) * size) in ``cache/shard-K.npz`` (written
    atomically; kept when there); ``rows_of(expr, rng, classifier)`` gives an expression's (raw rows, targets)
    (``expression_rows`` when None)."""
    out = cache / f"shard-{shard:03d}.npz"
    if out.is_file():
        return out
    size = recipe["shard"]
    lo, hi = shard * size, (shard + 1) * size
    X, y, ex = [], [], []
    t0 = time.time()
    n = 0
    for k, expr in training_expressions(min(hi, recipe["limit"]) if recipe["limit"] else hi):
        if k < lo:
            continue
        rng = np.random.default_rng([recipe["render_seed"], k])
        try:
            r, t = (rows_of or expression_rows)(expr, rng, classifier)
        except Exception as e:  # noqa: BLE001 - an expression the reader refuses (blank rendering) teaches nothing
            print(f"skip {expr.id}: {e}")
            continue
        X.append(r)
        y.append(t)
        ex.append(np.full(len(t), k, np.int32))
        n += 1
    buf = io.BytesIO()
    np.savez_compressed(buf, raw=np.concatenate(X) if X else np.zeros((0, 1), np.float32),
                        y=np.concatenate(y) if y else np.zeros(0, np.float32),
                        expr=np.concatenate(ex) if ex else np.zeros(0, np.int32), n=n, seconds=time.time() - t0)
    atomic_write_bytes(out, buf.getvalue())
    print(f"{out}: {n} expressions, {sum(len(v) for v in y)} rows, {time.time() - t0:.0f} s")
    return out


def shards(recipe: dict) -> int:
    return -(-recipe["limit"] // recipe["shard"])


def load_rows(recipe: dict, cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    """(raw rows, targets, expression index, expressions, seconds the classifier took) of every shard."""
    R, Y, E, n, secs = [], [], [], 0, 0.0
    for s in range(shards(recipe)):
        z = np.load(cache / f"shard-{s:03d}.npz")
        if len(z["y"]):
            R.append(z["raw"])
            Y.append(z["y"])
            E.append(z["expr"])
        n += int(z["n"])
        secs += float(z["seconds"])
    return np.concatenate(R), np.concatenate(Y), np.concatenate(E), n, secs


@dataclass(frozen=True)
class ShardTrainer:
    """What an image trainer on cached shards of the WAP-like training renderings has of its own (``image-merge``
    here, ``image-touch`` in ``train_image_touch``); ``train_from_shards`` does the rest."""
    module: str  # the trainer's module, for the card's command
    config: str  # its default recipe
    cache: str  # its folder under the cache
    model_path: Path
    model: type
    features: Callable  # (raw rows, number of classes) -> features
    features_name: str  # named in the card
    target: str  # what a row's target 1 means, in the card
    load_classifier: Callable  # recipe -> the predictor whose readings the rows hold
    rows_of: Callable | None  # an expression's (raw rows, targets); None: this module's ``expression_rows``
    data: Callable  # (recipe, expressions, rows, positives, seconds) -> the card's description of the data
    metrics: tuple[str, str, str, str]  # the card's names of held-out accuracy, recall, precision, and what is held out


def train_from_shards(argv: list[str] | None, description: str, defaults: dict, spec: ShardTrainer) -> int:
    """Build the missing shards (or only ``--shard K``), fit the perceptron with every 10th expression's rows held
    out for the card's figures, then on all of them, and write the weights and their card."""
    from safetensors.numpy import save

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--config", default=spec.config, help="the recipe (YAML); flags override it")
    ap.add_argument("--limit", type=int, default=None, help="only the first N training expressions")
    ap.add_argument("--cache", type=Path, default=cache_dir() / spec.cache)
    ap.add_argument("--shard", type=int, default=None, help="only build shard K's rows, then stop")
    ap.add_argument("--out", type=Path, default=spec.model_path)
    args = ap.parse_args(argv)
    recipe = read_recipe(args.config, defaults)
    if args.limit is not None:
        recipe["limit"] = args.limit
    import cv2

    cv2.setNumThreads(1)
    cache = args.cache / f"seed{recipe['render_seed']}-shard{recipe['shard']}-{recipe['classifier']}"
    cache.mkdir(parents=True, exist_ok=True)
    classifier = spec.load_classifier(recipe)  # the readings the model learns from
    rows_of = spec.rows_of or expression_rows
    if args.shard is not None:
        print(build_shard(recipe, cache, args.shard, classifier, rows_of))
        return 0
    for s in range(shards(recipe)):  # what other processes have not built yet (all of it at first)
        build_shard(recipe, cache, s, classifier, rows_of)
    raw, y, ex, n, secs = load_rows(recipe, cache)
    X = spec.features(raw, len(class_index()))
    held = (ex % 10) == 9  # every 10th expression's rows
    tensors, held_figures = fit_binary_heldout(X, y, ~held, held, spec.model, hidden=recipe["hidden"],
                                               epochs=recipe["epochs"], weight_decay=recipe["weight_decay"],
                                               seed=recipe["seed"])
    atomic_write_bytes(args.out, save(tensors))
    command = f"python -m {spec.module} --config {args.config}" + (
        f" --limit {args.limit}" if args.limit is not None else "")
    accuracy, recall, precision, heldout = spec.metrics
    card = {**binary_card(recipe, tensors, spec.features_name, spec.target, args.config, command,
                         kind=spec.model.KIND),
            "recipe": recipe,
            "data": {"train": spec.data(recipe, n, len(X), int(y.sum()), secs)},
            "metrics": {accuracy: held_figures["accuracy"], recall: held_figures["recall"],
                        precision: held_figures["precision"], "heldout": heldout}}
    write_card(args.out, card)
    return 0


def _classifier(recipe: dict):
    import torch

    torch.set_num_threads(1)
    return get_predictor(recipe["classifier"])


def main(argv: list[str] | None = None) -> int:
    def data(recipe: dict, n: int, rows: int, positives: int, secs: float) -> str:
        return (f"the first {n} expressions of the CROHME 2014 training InkML rendered WAP-like (seed "
                f"{recipe['render_seed']}), {rows} candidate part pairs ({positives} of one symbol); the "
                f"classifier's readings took {secs:.0f} s")

    spec = ShardTrainer("inkmath.training.recipes.image_merge", "configs/image-merge.yaml", "image-merge", shipped_file("image-merge"),
                        ImageMergeModel, pair_features, "image_grouping.pair_features", "one symbol", _classifier,
                        None, data, ("heldout_pair_accuracy", "heldout_same_recall", "heldout_same_precision",
                                     "the pairs of every 10th expression (a model trained without them)"))
    return train_from_shards(argv, __doc__.splitlines()[0], DEFAULTS, spec)


if __name__ == "__main__":
    raise SystemExit(main())
