"""Trains the stroke merge model shipped as ``weights/stroke-merge.safetensors`` (+ its card ``stroke-merge.json``)
from its recipe ``configs/stroke-merge.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.merge --config configs/stroke-merge.yaml
        [--limit N] [--epochs E] [--hidden H] [--out FILE]

Why a model and not a distance threshold: whether stroke i+1 continues stroke i's symbol depends on several cues
at once (overlap, gap, relative size, pen-up jump, dots); a 29-64-1 perceptron learns their combination from
the CROHME training InkML (about 110,000 consecutive stroke pairs) in about four minutes on one core.
Targets: 1 when both strokes belong to the same truth traceGroup.

29-64-1 for 40 epochs rather than 29-32-1 for 30: its held-out pair accuracy is no better (0.939 vs 0.941) but
with the classifier weighted ``segment.CLS_WEIGHT`` = 4 it segments better (2011-2013 test: segmentation
precision 0.955 vs 0.944, recall 0.970 vs 0.967) and reads more expressions right (ExpRate 48.7 % vs 47.7 %).

The recipe's ``windows`` trains one such perceptron per context window (0: the pair alone; 1: also the pair before
and the one after, ``segment.context_features``) and ships their mean logit; windows [0, 1] offer the decoder the
truth's grouping on more validation expressions than either alone (docs/decisions/stroke-grouping.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkmath.training.small_models import fit
from inkmath.equation.strokes.segment import context_features, drawing_pair_features
from inkmath.weights import shipped_file


def pair_dataset(source: Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(features (M, 29) float32, targets (M,) float32, expression ids, pairs per expression) of consecutive stroke
    pairs."""
    from inkmath.data.crohme import iter_inkml

    X, y, ids, lens = [], [], [], []
    for k, expr in enumerate(iter_inkml(source, subset="TrainINKML")):
        if limit is not None and k >= limit:
            break
        strokes = [np.asarray(s, np.float64)[:, :2] for s in expr.strokes]
        if len(strokes) < 2 or any(len(s) == 0 for s in strokes) or not expr.groups:
            continue
        owner = {}
        for g, grp in enumerate(expr.groups):
            for sid in grp.stroke_ids:
                owner[sid] = g
        X.extend(drawing_pair_features(strokes))
        y.extend(float(owner.get(i, -1) == owner.get(i + 1, -2)) for i in range(len(strokes) - 1))
        ids.append(expr.id)
        lens.append(len(strokes) - 1)
    return np.stack(X), np.asarray(y, np.float32), ids, np.asarray(lens)


def with_context(X: np.ndarray, lens: np.ndarray, window: int) -> np.ndarray:
    """``segment.context_features`` of each expression's pairs (rows of ``X`` in expression order, ``lens`` per
    expression): the window never reaches into another expression."""
    if not window:
        return X
    return np.concatenate([context_features(p, window) for p in np.split(X, np.cumsum(lens)[:-1])])


def train(X: np.ndarray, y: np.ndarray, hidden: int = 32, epochs: int = 30, seed: int = 0) -> dict[str, np.ndarray]:
    return fit(X, y, outputs=1, hidden=hidden, epochs=epochs, batch=512, seed=seed)


PURPOSE = "the expression reader's segmentation: do two consecutive strokes belong to one symbol?"
DEFAULTS = {"name": "stroke-merge", "purpose": PURPOSE, "model": "tanh-mlp", "hidden": 64, "epochs": 40, "seed": 0,
            "limit": None, "windows": [0]}


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save

    from inkmath.atomic import atomic_write_bytes
    from inkmath.data import data_dir
    from inkmath.training.small_models import binary_card, recipe_command_line, write_card
    from inkmath.equation.strokes.segment import MergeEnsemble, MergeModel, member_prefix

    args, recipe, command = recipe_command_line(argv, __doc__.splitlines()[0], "inkmath.training.recipes.merge",
                                                "configs/stroke-merge.yaml", shipped_file("stroke-merge"), DEFAULTS)
    import torch

    torch.set_num_threads(1)
    windows = [int(w) for w in recipe["windows"]]
    archive = Path(data_dir()) / "crohme" / "crohme2014_train_inkml.tar.xz"
    X, y, ids, lens = pair_dataset(archive, recipe["limit"])
    # hold out the last 10 % of the pairs (pairs are in expression order; cut at an expression's end, so that no
    # context window reaches across) to report accuracy
    ends = np.cumsum(lens)
    cut = int(ends[np.searchsorted(ends, int(len(X) * 0.9))])
    inputs = [with_context(X, lens, w) for w in windows]
    members = [MergeModel(**train(x[:cut], y[:cut], hidden=recipe["hidden"], epochs=recipe["epochs"],
                                  seed=recipe["seed"])) for x in inputs]
    logit = np.mean([m.logits(x[cut:])[:, 0] for m, x in zip(members, inputs)], axis=0)
    acc = float(((logit > 0) == (y[cut:] > 0.5)).mean())
    shipped = [train(x, y, hidden=recipe["hidden"], epochs=recipe["epochs"], seed=recipe["seed"]) for x in inputs]
    if len(shipped) == 1 and windows == [0]:  # one pair perceptron: its tensors unprefixed, as before ensembles
        tensors = shipped[0]
    else:
        tensors = {member_prefix(k) + name: v for k, t in enumerate(shipped) for name, v in t.items()}
    atomic_write_bytes(args.out, save(tensors))
    card = {**binary_card(recipe, shipped[0], "segment.pair_features", "same symbol", args.config, command,
                         kind=MergeEnsemble.KIND),
            "data": {"train": f"CROHME 2014 training InkML, {len(ids)} expressions, {len(X)} consecutive stroke pairs"},
            "metrics": {"heldout_pair_accuracy": round(acc, 4), "heldout": "last 10% of pairs"}}
    if windows != [0]:
        sizes = [t["w1"].shape[0] for t in shipped]
        card.update(architecture=f"mean logit of {len(shipped)} mlps " + ", ".join(
            f"{n}-{recipe['hidden']}-1" for n in sizes) + " (tanh, sigmoid), numpy inference",
            parameters=int(sum(v.size for t in shipped for k, v in t.items() if k not in ("mean", "std"))),
            inputs="segment.context_features of segment.pair_features, windows " + ", ".join(map(str, windows)))
    write_card(args.out, card)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
