"""Trains the late-stroke model shipped as ``weights/late-stroke.safetensors`` (+ its card ``late-stroke.json``)
from its recipe ``configs/late-stroke.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.late_strokes --config configs/late-stroke.yaml
        [--limit N] [--epochs E] [--hidden H] [--out FILE]

Data: every candidate pair (``late_strokes.candidate_pairs``) of the CROHME 2014 training InkML, about 25,000.
Target 1 when stroke t is late (its truth traceGroup holds an earlier stroke but not stroke t - 1) and u is in that
group. The held-out figures are on the pairs of the last 10 % of the expressions (a model fitted on the rest); the
shipped model is then fitted on all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from inkmath.equation.strokes.late_strokes import LATE_FEATURES, LateModel, candidate_pairs, pair_matrix
from inkmath.weights import shipped_file


def late_targets(groups: Sequence, pairs: list[tuple[int, int]]) -> np.ndarray:
    """float32 (len(pairs),): 1 where t is late and u in its symbol (the module docstring); ``groups``: each truth
    symbol's stroke ids."""
    owner = {s: g for g, ids in enumerate(groups) for s in ids}
    out = []
    for u, t in pairs:
        g = owner.get(t)
        out.append(float(g is not None and owner.get(t - 1) != g and owner.get(u) == g))
    return np.asarray(out, np.float32)


def pair_dataset(source: Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features (M, ``LATE_FEATURES``) float32, targets (M,) float32, each pair's expression number) of the
    candidate pairs of the training expressions (those with truth groups and no empty stroke)."""
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.strokes.geometry import StrokeGeometry, drawing_unit

    X, y, which = [], [], []
    for k, expr in enumerate(iter_inkml(source, subset="TrainINKML")):
        if limit is not None and k >= limit:
            break
        strokes = [np.asarray(s, np.float64)[:, :2] for s in expr.strokes]
        if len(strokes) < 3 or any(len(s) == 0 for s in strokes) or not expr.groups:
            continue
        geo, unit = StrokeGeometry(strokes), drawing_unit(strokes)
        pairs = candidate_pairs(strokes, geo, unit)
        if not pairs:
            continue
        X.append(pair_matrix(strokes, pairs, geo, unit))
        y.append(late_targets([g.stroke_ids for g in expr.groups], pairs))
        which.append(np.full(len(pairs), k))
    if not X:
        return np.zeros((0, LATE_FEATURES), np.float32), np.zeros(0, np.float32), np.zeros(0, int)
    return np.concatenate(X), np.concatenate(y), np.concatenate(which)


PURPOSE = "the expression reader's segmentation: is a stroke a late stroke of an earlier stroke's symbol?"
DEFAULTS = {"name": "late-stroke", "purpose": PURPOSE, "model": "tanh-mlp", "hidden": 32, "epochs": 40, "seed": 0,
            "limit": None}


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save

    from inkmath.errors import InkmathError
    from inkmath.atomic import atomic_write_bytes
    from inkmath.data import data_dir
    from inkmath.training.small_models import binary_card, fit_binary_heldout, recipe_command_line, write_card

    args, recipe, command = recipe_command_line(argv, __doc__.splitlines()[0], "inkmath.training.recipes.late_strokes",
                                                "configs/late-stroke.yaml", shipped_file("late-stroke"), DEFAULTS)
    import torch

    torch.set_num_threads(1)
    archive = Path(data_dir()) / "crohme" / "crohme2014_train_inkml.tar.xz"
    X, y, which = pair_dataset(archive, recipe["limit"])
    if not y.any():
        raise InkmathError(f"No late strokes among the candidate pairs of {archive.name}: nothing to learn")
    exprs = np.unique(which)
    held = which >= exprs[int(len(exprs) * 0.9)]
    tensors, figures = fit_binary_heldout(X, y, ~held, held, LateModel, hidden=recipe["hidden"],
                                          epochs=recipe["epochs"], seed=recipe["seed"])
    atomic_write_bytes(args.out, save(tensors))
    card = {**binary_card(recipe, tensors, "late_strokes.late_features", "late stroke of u's symbol", args.config,
                          command, kind=LateModel.KIND),
            "data": {"train": f"CROHME 2014 training InkML, {len(exprs)} expressions, {len(X)} candidate pairs, "
                              f"{int(y.sum())} late"},
            "metrics": {**{f"heldout_pair_{k}": v for k, v in figures.items()},
                        "heldout": "the pairs of the last 10% of the expressions"}}
    write_card(args.out, card)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
