"""Fit (and cross-validate) the weights that choose a line's layout among its candidates (``equation.layout_choice``).

    INKMATH_DATA=/work/shared/data python benchmarks/layout_choice.py val --fit [--k 3] [--folds 5] [--dump FILE]

Reads every expression of the set from its true symbols (as ``layout_truth.py``), gathers each line's candidate
trees and their features (``layout_choice.line_candidates`` / ``features``), and which candidate makes the whole
expression right (the expression read through ``parse`` with that candidate). Then on the one-line expressions
with a right candidate among two or more, a listwise softmax (one weight per feature, L2 ``--l2``) is fitted:
on all of them (the weights printed, for ``layout_choice.WEIGHTS``) and, for an honest figure, in ``--folds``
contiguous folds (each fold chosen by weights fitted on the others). Prints: expressions right with the shipped
``WEIGHTS``, with the weights in-sample, cross-validated, and the oracle (any candidate right).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ARCHIVES = {"val": "crohme2011-2013_test_inkml.tar.xz", "test": "crohme2014_test_inkml.tar.xz",
            "train": "crohme2014_train_inkml.tar.xz"}


def gather(archive: Path, k: int, ensemble: list[str] | None = None, first: str | None = None):
    """[(features (m, F), right (m,) bool)] per one-line expression, and the count of expressions read. ``first``:
    another structure model file in place of the shipped one (the first of the ensemble)."""
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.reader.latex_lm import load_latex_lm
    from inkmath.equation.reader.layout_choice import features, line_candidates
    from inkmath.equation.reader.layout_rules import rule_layout
    from inkmath.equation.core.metrics import normalize_latex
    from inkmath.equation.reader.parse import parse
    from inkmath.equation.reader.structure_model import load_structure_model
    from inkmath.training.recipes.layout import true_symbol_expressions

    model, lm = load_structure_model(first), load_latex_lm()
    if ensemble:
        from inkmath.equation.reader.layout_choice import StructureEnsemble

        model = StructureEnsemble([model] + [load_structure_model(p) for p in ensemble])
    rules, alone = rule_layout(), rule_layout(relation_model=None)
    state: dict = {}

    def forced(atoms):
        state["lines"] += 1
        if state["cands"] is None:
            state["cands"] = line_candidates(atoms, model, rules, alone, lm, k)
        cands = state["cands"][0]
        return cands[state["pick"]].tree if cands else rules(atoms)

    out, total = [], 0
    for expr, hyps, truth, tokens in true_symbol_expressions(archive):
        total += 1
        state.update(cands=None, pick=0, lines=0)
        tree = parse(hyps, tokens, layout=forced)
        cands, n_trees, _ = state["cands"] or ([], 0, None)
        if state["lines"] != 1 or not cands:  # several lines, or a rules' tree the model cannot score: not fitted
            out.append((None, normalize_latex(to_latex(tree)) == truth))
            continue
        right = []
        for j in range(len(cands)):
            state.update(pick=j, lines=0)
            right.append(normalize_latex(to_latex(parse(hyps, tokens, layout=forced))) == truth)
        out.append((features(cands, n_trees, k), np.asarray(right)))
    return out, total


def fit(items, l2: float) -> np.ndarray:
    import torch

    from inkmath.equation.reader.layout_choice import FEATURES, WEIGHTS

    X = [torch.tensor(f, dtype=torch.float64) for f, r in items if f is not None and r.any() and len(r) > 1]
    Y = [torch.tensor(r) for f, r in items if f is not None and r.any() and len(r) > 1]
    w = torch.tensor([WEIGHTS[f] for f in FEATURES], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=300)

    def closure():
        opt.zero_grad()
        loss = sum(torch.logsumexp(x @ w, 0) - torch.logsumexp((x @ w)[y], 0) for x, y in zip(X, Y)) / len(X)
        loss = loss + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy()


def right_with(items, w: np.ndarray) -> int:
    """Expressions right when each one-line expression takes its best-scored candidate (the others as read)."""
    return int(sum(rights_with(items, w)))


def rights_with(items, w: np.ndarray) -> list[bool]:
    """Per expression: right when a one-line expression takes its best-scored candidate (the others as read)."""
    return [bool(r[int(np.argmax(f @ w))]) if f is not None else bool(r) for f, r in items]


def main(argv: list[str] | None = None) -> int:
    from inkmath.data import data_dir
    from inkmath.equation.reader.layout_choice import FEATURES, K, WEIGHTS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", nargs="?", default="val")
    ap.add_argument("--k", type=int, default=K, help=f"the structure model's trees among the candidates ({K})")
    ap.add_argument("--fit", action="store_true", help="fit the weights (else only the shipped ones are scored)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=0.01)
    ap.add_argument("--ensemble", help="other structure models (A.safetensors+B.safetensors) averaged with the "
                                       "shipped one to score the candidates (``layout_choice.StructureEnsemble``)")
    ap.add_argument("--structure-weights", help="a structure model file in place of the shipped one (the first of the "
                                                     "ensemble)")
    ap.add_argument("--dump", type=Path, help="also write per expression whether it is right with the shipped "
                                              "weights and cross-validated (JSON), to count gained and lost")
    args = ap.parse_args(argv)
    archive = Path(data_dir()) / "crohme" / ARCHIVES[args.set] if args.set in ARCHIVES else Path(args.set)
    items, total = gather(archive, args.k, args.ensemble.split("+") if args.ensemble else None,
                          args.structure_weights)
    shipped = np.asarray([WEIGHTS[f] for f in FEATURES])
    res = {"source": archive.name, "k": args.k, "expressions": total, "shipped_weights": right_with(items, shipped),
           "oracle": int(sum(bool(r.any()) if f is not None else bool(r) for f, r in items))}
    if args.fit:
        w = fit(items, args.l2)
        res["in_sample"] = right_with(items, w)
        folds = np.array_split(np.arange(len(items)), args.folds)
        cv = [x for fold in folds for x in rights_with(
            [items[i] for i in fold], fit([items[i] for i in np.setdiff1d(np.arange(len(items)), fold)], args.l2))]
        res["cross_validated"] = sum(cv)
        res["weights"] = {f: round(float(v), 3) for f, v in zip(FEATURES, w)}
    if args.dump is not None:
        from inkmath.atomic import atomic_write_text

        atomic_write_text(args.dump, json.dumps({**res, "shipped_right": rights_with(items, shipped),
                                                 "cv_right": cv if args.fit else None}) + "\n")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
