"""Recipe for ``layout-choice`` (``weights/layout-choice.safetensors`` + its card): the weights by which
``layout_choice`` scores a line's candidate trees, learnt on the CROHME 2014 training ink read from its true symbols.

    INKMATH_DATA=/work/shared/data python -m inkmath.equation.train_layout_choice [--config configs/layout-choice.yaml]
        [--run runs/layout-choice] [--out src/inkmath/weights/layout-choice.safetensors] [--limit N]

The weights must weigh the scores the reader sees on ink its models never learnt from. The structure models and the
LaTeX LM read their own training ink almost without fault, so weights fitted on their scores there trust them too
much (from the true symbols of the validation: 1,367 of 1,504 against 1,397; docs/decisions/2026-11-25-layout-10.md).
So the training expressions are split into ``folds`` by their id (``fold_of``). Each fold read (the first
``read_folds``; each costs two structure models' training) is read from its true symbols (``gather``) with the
chooser's structure models (``layout_choice.CHOOSER_MODELS``, each from the recipe its card names, with
``fold_epochs``) and the LaTeX LM (its recipe's order) trained on the other folds: every one-line expression's
candidates, their ``layout_choice.FEATURES`` and which of them make the expression right. The rules' relation model
is the shipped one. The weights are a listwise softmax over the candidates of the lines the reader would ask
(``lines: gate``: past ``layout_choice``'s gate; ``all``), L2 ``l2`` (``fit``). Each fold's models and candidates
are written to ``--run`` as they are made and reused by a second run.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import zlib
from pathlib import Path

import numpy as np

CONFIG = Path("configs/layout-choice.yaml")
DEFAULTS = {"folds": 2, "read_folds": 2, "fold_epochs": 14, "k": 3, "lines": "gate", "l2": 0.01, "threads": 1}
TRAIN = "crohme2014_train_inkml.tar.xz"


def fold_of(expr_id: str, folds: int) -> int:
    """The fold of a training expression: a hash of its id (the same for its ink and its caption)."""
    return zlib.crc32(expr_id.encode("utf-8")) % folds


def gather(archive: Path, chooser, lm, k: int, keep=None, limit: int | None = None, gate: float | None = None):
    """[(features (m, F), right (m,) bool, asked)] per one-line expression of ``archive`` (``keep``: the ids read)
    read from its true symbols, whose candidates the chooser makes; (None, [right], False) for the others, read
    with the rules. ``asked``: the line passes ``layout_choice``'s gate by the chooser's first model (``gate``:
    default ``layout_choice.GATE``)."""
    from inkmath.equation.latex import to_latex
    from inkmath.equation.layout_choice import GATE, StructureEnsemble, features, line_candidates, passes_gate
    from inkmath.equation.layout_rules import rule_layout
    from inkmath.equation.metrics import normalize_latex
    from inkmath.equation.parse import parse
    from inkmath.equation.train_layout import true_symbol_expressions

    first = chooser.members[0] if isinstance(chooser, StructureEnsemble) else chooser
    rules, alone = rule_layout(), rule_layout(relation_model=None)
    gate = GATE if gate is None else gate
    state: dict = {}

    def forced(atoms):
        state["lines"] += 1
        if state["cands"] is None:
            state["asked"] = passes_gate(atoms, first, rules, alone, gate)
            state["cands"] = line_candidates(atoms, chooser, rules, alone, lm, k)
        cands = state["cands"][0]
        return cands[state["pick"]].tree if cands else rules(atoms)

    out = []
    for expr, hyps, truth, tokens in true_symbol_expressions(archive):
        if keep is not None and not keep(expr.id):
            continue
        if limit is not None and len(out) >= limit:
            break
        state.update(cands=None, pick=0, lines=0)
        tree = parse(hyps, tokens, layout=forced)
        cands, n_trees, _ = state["cands"] or ([], 0, None)
        if state["lines"] != 1 or not cands:  # several lines, or a rules' tree the model cannot score
            out.append((None, np.asarray([normalize_latex(to_latex(tree)) == truth]), False))
            continue
        right = []
        for j in range(len(cands)):
            state.update(pick=j, lines=0)
            right.append(normalize_latex(to_latex(parse(hyps, tokens, layout=forced))) == truth)
        out.append((features(cands, n_trees, k), np.asarray(right), bool(state["asked"])))
    return out


def fit(items, l2: float, lines: str = "gate") -> np.ndarray:
    """Weights (F,) of a listwise softmax over each item's candidates (the items with a right and a wrong candidate;
    ``lines``: "gate" only those asked, "all"), L2 ``l2``, from zero by L-BFGS."""
    import torch

    use = [(torch.tensor(f, dtype=torch.float64), torch.tensor(r)) for f, r, asked in items
           if f is not None and r.any() and not r.all() and (asked or lines == "all")]
    if not use:
        raise ValueError("no line with a right and a wrong candidate to learn from")
    w = torch.zeros(use[0][0].shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = sum(torch.logsumexp(x @ w, 0) - torch.logsumexp((x @ w)[y], 0) for x, y in use) / len(use)
        loss = loss + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy()


def right_with(items, w: np.ndarray, asked_only: bool = True) -> int:
    """Expressions right when each one-line expression asked takes its best-scored candidate, the others the
    rules' tree (``asked_only`` False: every one-line expression takes its best-scored candidate)."""
    from inkmath.equation.layout_choice import FEATURES

    rules = FEATURES.index("is_rules")
    n = 0
    for f, r, asked in items:
        if f is None:
            n += bool(r[0])
        else:
            n += bool(r[int(np.argmax(f @ w)) if asked or not asked_only else int(np.argmax(f[:, rules]))])
    return n


def save_items(path: Path, items) -> None:
    """The gathered items as one .npz (no pickle): features stacked, rights, offsets, asked flags."""
    from inkmath.atomic import atomic_write_bytes
    from inkmath.equation.layout_choice import FEATURES

    n_feat = len(FEATURES)
    feats = [f if f is not None else np.zeros((0, n_feat)) for f, _, _ in items]
    buf = io.BytesIO()
    np.savez(buf, features=np.concatenate(feats) if feats else np.zeros((0, n_feat)),
             right=np.concatenate([r for _, r, _ in items]) if items else np.zeros(0, bool),
             sizes=np.asarray([len(f) if f is not None else -1 for f, _, _ in items], np.int64),
             asked=np.asarray([a for _, _, a in items], bool))
    atomic_write_bytes(path, buf.getvalue())


def load_items(path: Path):
    with np.load(path, allow_pickle=False) as z:
        feats, right, sizes, asked = z["features"], z["right"], z["sizes"], z["asked"]
    out, at, rat = [], 0, 0
    for size, a in zip(sizes, asked):
        if size < 0:
            out.append((None, right[rat:rat + 1], False))
            rat += 1
        else:
            out.append((feats[at:at + size], right[rat:rat + size], bool(a)))
            at += size
            rat += size
    return out


def fold_items(cfg: dict, fold: int, run: Path, data: Path, limit: int | None, log=print):
    """The items of one fold's training expressions, read with the chooser's models and the LM trained on the other
    folds (trained, or read back from ``run``)."""
    from safetensors.numpy import save

    from inkmath.atomic import atomic_write_bytes
    from inkmath.equation import train_latex_lm, train_structure
    from inkmath.equation.latex_lm import load_latex_lm, save as save_lm
    from inkmath.equation.layout_choice import CHOOSER_MODELS, StructureEnsemble
    from inkmath.equation.structure_model import load_structure_model
    from inkmath.weights import shipped_dir

    folds = int(cfg["folds"])
    items_path = run / f"fold{fold}-items.npz"
    if items_path.is_file():
        return load_items(items_path)
    others = lambda i: fold_of(i, folds) != fold  # noqa: E731
    members = []
    for name in CHOOSER_MODELS:
        out = run / f"fold{fold}-{name}.safetensors"
        if not out.is_file():
            card = json.loads((shipped_dir() / f"{name}.json").read_text())
            scfg = train_structure.load_config(Path(card["config"]))
            scfg.update(epochs=int(cfg["fold_epochs"]), threads=int(cfg["threads"]))
            train = train_structure.labelled(data / TRAIN, "TrainINKML", limit, keep=others)
            log(f"fold {fold}: {name} on {len(train)} expressions")
            model, _ = train_structure.fit(train, [], scfg, run / f"fold{fold}-{name}", log=log)
            atomic_write_bytes(out, save(model.t, metadata={"tokens": json.dumps(model.tokens),
                                                            "architecture": json.dumps(model.architecture)}))
        members.append(load_structure_model(str(out)))
    lm_path = run / f"fold{fold}-latex-lm.safetensors"
    if not lm_path.is_file():
        order = int(train_latex_lm._recipe(Path("configs/latex-lm.yaml")).get("order", 4))
        captions = train_latex_lm.read_training_captions(data.parent, keep=others)
        save_lm(train_latex_lm.train_kn(captions, order), lm_path, {"name": f"fold{fold}-latex-lm", "order": order})
    t0 = time.time()
    items = gather(data / TRAIN, StructureEnsemble(members), load_latex_lm(str(lm_path)), int(cfg["k"]),
                   keep=lambda i: not others(i), limit=limit)
    log(f"fold {fold}: {len(items)} expressions read, {time.time() - t0:.0f} s")
    save_items(items_path, items)
    return items


def load_config(path: Path | None) -> dict:
    import yaml

    cfg = dict(DEFAULTS)
    if path is not None:
        given = yaml.safe_load(path.read_text()) or {}
        unknown = set(given) - set(DEFAULTS) - {"model"}
        if unknown:
            raise SystemExit(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        cfg.update(given)
    if not 1 <= int(cfg["read_folds"]) <= int(cfg["folds"]):
        raise SystemExit(f"read_folds must be 1 to folds ({cfg['folds']}), not {cfg['read_folds']}")
    if cfg["lines"] not in ("gate", "all"):
        raise SystemExit(f"lines must be gate or all, not {cfg['lines']!r}")
    return cfg


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save

    from inkmath.atomic import atomic_write_bytes, atomic_write_text
    from inkmath.data import data_dir
    from inkmath.equation.layout_choice import CHOOSER_MODELS, FEATURES, WEIGHTS_PATH

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=CONFIG if CONFIG.is_file() else None)
    ap.add_argument("--run", type=Path, default=Path("runs/layout-choice"), help="folder of the folds' models and "
                                                                                "candidates (reused)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N training expressions of each fold")
    ap.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    import torch

    torch.set_num_threads(int(cfg["threads"]))
    data = Path(data_dir()) / "crohme"
    args.run.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    items = [it for fold in range(int(cfg["read_folds"]))
             for it in fold_items(cfg, fold, args.run, data, args.limit, log=lambda m: print(m, flush=True))]
    w = fit(items, float(cfg["l2"]), cfg["lines"])
    atomic_write_bytes(args.out, save({"weights": w.astype(np.float64)},
                                      metadata={"features": json.dumps(list(FEATURES))}))
    one_line = [it for it in items if it[0] is not None]
    card = {"format": "inkmath-weights/1", "name": args.out.stem,
            "purpose": "the expression reader's layout choice: the weights of the features by which a line's tree "
                       "is chosen among its candidates (the rules' trees and the structure models' best ones)",
            "model": "listwise-linear", "parameters": int(w.size),
            "architecture": f"score = weights . features ({', '.join(FEATURES)}); softmax over a line's candidates",
            "weights": {f: round(float(v), 4) for f, v in zip(FEATURES, w)},
            "config": str(args.config) if args.config else None,
            "train_command": "python -m inkmath.equation.train_layout_choice" + (
                f" --config {args.config}" if args.config else "") + (
                f" --limit {args.limit}" if args.limit else "") + (
                f" --out {args.out}" if args.out != WEIGHTS_PATH else ""),
            "data": f"CROHME 2014 training InkML read from its true symbols: {len(items)} expressions, "
                    f"{cfg['read_folds']} of {cfg['folds']} folds, each read with {' + '.join(CHOOSER_MODELS)} and "
                    f"the LaTeX LM trained on the other folds; {len(one_line)} one-line expressions with candidates, "
                    f"{sum(1 for it in one_line if it[2])} past the gate",
            "metrics": {"split": "the training folds, each read by models that did not learn from it",
                        "right_chosen": right_with(items, w), "oracle": int(sum(bool(r.any()) for _, r, _ in items)),
                        "expressions": len(items)},
            "seconds": round(time.time() - t0, 1),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
    print(json.dumps(card["weights"]), json.dumps(card["metrics"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
