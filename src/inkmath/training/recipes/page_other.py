"""Trains the page other-ink model shipped as ``weights/page-other.safetensors`` (+ its card ``page-other.json``) from
its recipe ``configs/page-other.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.page_other --config configs/page-other.yaml
        [--crops N] [--pages N] [--cache DIR] [--read-only] [--out FILE]

Data: real-looking photos of students' answers (``synth.real_photos``: crops of one answer and whole pages, with
lines of words, question numbers and crossed-out lines) whose maths and words are CROHME 2014 *training* ink (never
the validation or test ink), each read by ``page.read.read_page`` as the reader reads it, every group it keeps
recorded once read, cut and joined (``GroupRecorder``: its ``page.other.group_features``, its box in the photo's
pixels, its reading). Reading a photo takes seconds, so each photo's groups are cached as one JSON file
(``--cache``, default ``page-other`` in the cache folder; resumable: a photo already read is not read again;
``--read-only`` stops there). Each group's target is the kind of the truth item (a maths line, a line of words, a
question number, a crossed-out line) that covers the most of its box, when that covers at least ``COVER`` of it
(``truth_kind``); other groups (a teacher's tick, a box drawn round an answer) teach nothing and are left out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from inkmath.atomic import atomic_write_bytes, atomic_write_text
from inkmath.data import data_dir
from inkmath.data.crohme import iter_inkml
from inkmath.equation.page.other import FEATURES, KINDS, N_FEATURES, PageOtherModel, page_features
from inkmath.training.small_models import fit, read_recipe, write_card
from inkmath.weights import FORMAT, shipped_file

TRAIN = "crohme2014_train_inkml.tar.xz"
COVER = 0.5  # a group's target is the truth item covering at least this share of its box (the most)
PURPOSE = "the page reader's other ink: is a group of ink on a page maths, a line of words, a question number or " \
          "crossed out?"
DEFAULTS = {"name": "page-other", "purpose": PURPOSE, "model": "tanh-mlp", "hidden": 16, "epochs": 300, "seed": 0,
            "weight_decay": 1e-4, "crops": 300, "pages": 30, "photo_seed": 5, "bank_expressions": 3000}
CACHE = "page-other"


class GroupRecorder:
    """A ``read_page`` ``kinds`` that records every group it is asked about (``rows``: features, box in the photo's
    pixels, the reading as the page would report it) and calls each one maths: the page reads as it would without
    the page-other model."""

    def __init__(self):
        self.rows: list[dict] = []

    def __call__(self, read: list, found, page) -> list[str]:
        from inkmath.equation.page.read import other_ink

        feats = page_features(read, found)
        for (g, e), f in zip(read, feats):
            boxes = [o.box for o in other_ink(page, g, e, "maths")]
            box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                   max(b[3] for b in boxes)]
            pred = None if e is None else {"latex": e.latex, "box": e.box, "confidence": e.confidence,
                                           "label": e.label}
            self.rows.append({"features": [round(float(v), 5) for v in f], "box": box, "pred": pred})
        return ["maths"] * len(read)


def read_groups(photo) -> list[dict]:
    """The groups ``read_page`` keeps on a ``real_photos.RealPhoto`` (read from its JPEG bytes, as a file is), as
    ``GroupRecorder`` records them."""
    from inkmath.equation.page.read import read_page
    from inkmath.errors import InkmathError

    rec = GroupRecorder()
    try:
        read_page(photo.jpeg_bytes, solve=False, kinds=rec)
    except InkmathError:
        return []
    return rec.rows


def _covered(inner, outer) -> float:
    ix = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    return ix * iy / max(1e-9, (inner[2] - inner[0]) * (inner[3] - inner[1]))


def truth_kind(box, truth: list[dict], other: list[dict]) -> str | None:
    """The kind of the truth item covering the most of ``box`` (maths lines, ``other`` items), or None when none
    covers ``COVER`` of it."""
    items = [("maths", t["box"]) for t in truth] + [(o["kind"], o["box"]) for o in other]
    best = max(((_covered(box, b), k) for k, b in items), default=(0.0, None))
    return best[1] if best[0] >= COVER else None


def build(exprs, bank, out: Path, n: int, seed: int, kind: str) -> int:
    """Photos ``make_photos(exprs, bank, n, seed, kind)`` read, each as ``out/KIND-NNNN.json`` ({"groups", "truth",
    "other"}); resumable. Returns how many photos were made (``make_photos`` skips a layout nothing fits)."""
    from inkmath.equation.synth.real_photos import make_photos

    out.mkdir(parents=True, exist_ok=True)
    made = 0
    for k, photo in enumerate(make_photos(exprs, bank, n, seed=seed, kind=kind)):
        made += 1
        f = out / f"{kind}-{k:04d}.json"
        if f.is_file():
            continue
        rows = read_groups(photo)
        atomic_write_text(f, json.dumps({"groups": rows, "truth": photo.truth, "other": photo.other}))
    return made


def load_examples(folder: Path, made: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, kind indices, photo index) of the cached groups with a truth kind, of the first ``made[kind]``
    photos of each kind."""
    X, y, photo = [], [], []
    files = [folder / f"{kind}-{k:04d}.json" for kind, n in made.items() for k in range(n)]
    for p, f in enumerate(files):
        d = json.loads(f.read_text())
        for r in d["groups"]:
            k = truth_kind(r["box"], d["truth"], d["other"])
            if k is not None and r["pred"] is not None:
                X.append(r["features"])
                y.append(KINDS.index(k))
                photo.append(p)
    return (np.asarray(X, np.float32).reshape(-1, N_FEATURES), np.asarray(y, np.int64),
            np.asarray(photo, np.int64))


def training_ink(recipe: dict):
    """(the training expressions, the glyph bank their words and numbers are written with)."""
    from inkmath.equation.synth.real_ink import training_glyph_bank

    return list(iter_inkml(Path(data_dir()) / "crohme" / TRAIN)), training_glyph_bank(recipe["bank_expressions"])


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save

    ap = argparse.ArgumentParser(description="Trains the page-other model from its recipe.")
    ap.add_argument("--config", default="configs/page-other.yaml", help="the recipe (YAML); flags override it")
    ap.add_argument("--crops", type=int, default=None, help="read this many generated crops")
    ap.add_argument("--pages", type=int, default=None, help="read this many generated pages")
    ap.add_argument("--cache", type=Path, default=None,
                    help=f"the photos' read groups (default: {CACHE} in $INKMATH_CACHE, else in ~/.cache/inkmath)")
    ap.add_argument("--read-only", action="store_true", help="only read the photos into the cache, then stop")
    ap.add_argument("--out", type=Path, default=shipped_file("page-other"))
    args = ap.parse_args(argv)
    recipe = read_recipe(args.config, DEFAULTS)
    flags = {k: getattr(args, k) for k in ("crops", "pages") if getattr(args, k) is not None}
    recipe.update(flags)
    if args.cache is None:
        from inkmath.data import cache_dir

        args.cache = cache_dir() / CACHE
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    exprs, bank = training_ink(recipe)
    made = {kind: build(exprs, bank, args.cache, recipe[kind + "s"], recipe["photo_seed"], kind)
            for kind in ("crop", "page")}
    if args.read_only:
        return 0
    X, y, photo = load_examples(args.cache, made)
    held = (photo % 10) == 9  # every tenth photo's groups
    kw = dict(outputs=len(KINDS), hidden=recipe["hidden"], epochs=recipe["epochs"], batch=64,
              weight_decay=recipe["weight_decay"], seed=recipe["seed"])
    model = PageOtherModel(**fit(X[~held], y[~held], **kw))
    pred = model.probs(X[held]).argmax(1)
    per_kind = {k: round(float((pred[y[held] == i] == i).mean()), 4) if (y[held] == i).any() else None
                for i, k in enumerate(KINDS)}
    tensors = fit(X, y, **kw)
    atomic_write_bytes(args.out, save(tensors))
    command = f"python -m inkmath.training.recipes.page_other --config {args.config}" + "".join(
        f" --{k} {v}" for k, v in flags.items())
    counts = {k: int((y == i).sum()) for i, k in enumerate(KINDS)}
    card = {"format": FORMAT, "name": recipe["name"], "kind": PageOtherModel.KIND, "purpose": recipe["purpose"],
            "model": recipe["model"],
            "architecture": f"mlp {N_FEATURES}-{recipe['hidden']}-{len(KINDS)} (tanh, softmax), numpy inference",
            "parameters": int(sum(v.size for k, v in tensors.items() if k not in ("mean", "std"))),
            "inputs": "page.other.group_features: " + ", ".join(FEATURES), "outputs": list(KINDS),
            "config": str(args.config), "train_command": command, "recipe": recipe,
            "data": {"train": f"{made['crop']} crops and {made['page']} pages generated by synth.real_photos "
                              f"from the CROHME 2014 training InkML (seed {recipe['photo_seed']}), read by "
                              f"page.read.read_page: {len(X)} groups with a truth kind ({counts})"},
            "metrics": {"heldout_group_accuracy": round(float((pred == y[held]).mean()), 4),
                        "heldout_recall_per_kind": per_kind,
                        "heldout": f"the groups of every tenth photo ({int(held.sum())})"}}
    write_card(args.out, card)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
