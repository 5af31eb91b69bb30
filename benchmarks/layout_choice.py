"""Score the weights that choose a line's layout among its candidates (``equation.layout_choice``) on a set's
candidates, and fit others there for comparison.

    INKMATH_DATA=/work/shared/data python benchmarks/layout_choice.py val [--weights FILE ...] [--fit] [--k 3]
        [--folds 5] [--ensemble A.safetensors+B.safetensors]

Reads every expression of the set from its true symbols (as ``layout_truth.py``) with the shipped chooser
(``layout_choice.default_chooser``) and LaTeX LM, gathers each one-line expression's candidates, their features and
which of them make the expression right (``train_layout_choice.gather``). Prints the expressions right with the
shipped ``layout-choice`` weights (past the gate, as the reader; and with every line asked), with each ``--weights``
file, and the oracle (any candidate right). ``--fit``: a listwise softmax fitted on this set itself, in-sample and
in ``--folds`` contiguous folds (a reference for what the set's own fit reaches: the shipped weights are learnt on
the training ink, ``train_layout_choice``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ARCHIVES = {"val": "crohme2011-2013_test_inkml.tar.xz", "test": "crohme2014_test_inkml.tar.xz",
            "train": "crohme2014_train_inkml.tar.xz"}


def main(argv: list[str] | None = None) -> int:
    from inkmath.data import data_dir
    from inkmath.equation.latex_lm import load_latex_lm
    from inkmath.equation.layout_choice import FEATURES, K, StructureEnsemble, choice_weights, default_chooser
    from inkmath.equation.structure_model import load_structure_model
    from inkmath.equation.train_layout_choice import fit, gather, right_with

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", nargs="?", default="val")
    ap.add_argument("--k", type=int, default=K, help=f"the structure model's trees among the candidates ({K})")
    ap.add_argument("--weights", nargs="*", default=[], help="other layout-choice weights files to score")
    ap.add_argument("--fit", action="store_true", help="also fit weights on this set (in-sample, cross-validated)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=0.01)
    ap.add_argument("--lines", choices=("gate", "all"), default="gate", help="the lines --fit learns from")
    ap.add_argument("--ensemble", help="other structure models (A.safetensors+B.safetensors) averaged with the "
                                       "shipped one to score the candidates (``layout_choice.StructureEnsemble``)")
    args = ap.parse_args(argv)
    archive = Path(data_dir()) / "crohme" / ARCHIVES[args.set] if args.set in ARCHIVES else Path(args.set)
    chooser = default_chooser() if not args.ensemble else StructureEnsemble(
        [load_structure_model()] + [load_structure_model(p) for p in args.ensemble.split("+")])
    items = gather(archive, chooser, load_latex_lm(), args.k)
    vec = lambda w: np.asarray([w[f] for f in FEATURES])  # noqa: E731
    shipped = vec(choice_weights())
    res = {"source": archive.name, "k": args.k, "expressions": len(items),
           "shipped_weights": right_with(items, shipped),
           "shipped_every_line": right_with(items, shipped, asked_only=False),
           "oracle": int(sum(bool(r.any()) for _, r, _ in items))}
    for path in args.weights:
        res[path] = right_with(items, vec(choice_weights(path)))
    if args.fit:
        w = fit(items, args.l2, args.lines)
        res["in_sample"] = right_with(items, w)
        folds = np.array_split(np.arange(len(items)), args.folds)
        res["cross_validated"] = sum(
            right_with([items[i] for i in fold], fit([items[i] for i in np.setdiff1d(np.arange(len(items)), fold)],
                                                      args.l2, args.lines)) for fold in folds)
        res["weights"] = {f: round(float(v), 3) for f, v in zip(FEATURES, w)}
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
