"""Fit the look-alikes' correction by size and place (``equation.symbol_size``) on a CROHME set's truth segmentation.

    INKMATH_DATA=../shared/data python benchmarks/symbol_size_fit.py [val] [--image] [--folds 5] [--json]

Reads the cached hypotheses of the set's truth symbols (as ``symbol_context.py``; build them first with
``python -m inkmath.equation.synth.hypotheses val --weights crohme-m --shards 8 --shard 0,...,7 --no-pipeline``), re-reads
each expression with the stroke reader's context models *without* the correction, and keeps every symbol whose truth
is one symbol of a pair of ``symbol_size.PAIR_GROUPS`` while its reading is one of the pair and the other is among its
readings, and the pair's features can be read (``symbol_size.pair_features``: every size letter; the other pairs where
the expression has another x-height letter). For each group (the size letters together, p, 1 / |, 1 / (; the digits
and their look-alike letters, ``symbol_size.DIGIT_PAIRS``, read after the size correction; a prime and the 1 or comma
it is read as, ``symbol_size.find_prime_pair``, by its box's shape, read after both) it fits a logistic
regression of the truth (the pair's second) on the pair's log-odds and the pair's features, with a small L2, and
prints: symbols right as the models read them, with the shipped coefficients, with the fitted ones in-sample and in
``--folds`` folds over expressions (each fold read with coefficients fitted on the others), and the fitted
coefficients in the weights file's order (``symbol_size.GROUPS``: z's, the features', the bias; the digits': z's, the
digit share's, then ``DIGIT_PAIRS``' biases). Choose on validation only: the 2014 test is for reporting. To ship a
group's fit: ``python -m inkmath.training.recipes.symbol_size --config configs/symbol-size.yaml --refit GROUP``.

``--image``: the IMAGE reader's instead: the truth symbols of the set's WAP-like renderings as the image reader reads
their pixels (``image_hypotheses``; build them with ``python -m inkmath.equation.synth.hypotheses val --image --shards 4
--shard 0,1,2,3 --no-pipeline``), re-read with the image reader's context models (``symbols.IMAGE_CONTEXT_MODELS``)
without the correction. Also printed: the symbols right with the image reader's shipped behaviour (``current``:
``symbol_size.image_coefficients``, none for a pair it leaves alone).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from symbol_context import TRUTH_SHARDS, _concat, by_expression, hyps_of  # noqa: E402

L2 = 1e-3
IMAGE_SHARDS = 4  # the image tables of the validation renderings are built in this many parts (the cached ones read)


def gather(name: str, image: bool = False) -> list[tuple]:
    """``_pair_rows``' rows of every kept symbol (the last element: the image reader's shipped log-odds, for the size
    pairs only); ``image``: the image reader's (the module docstring)."""
    from inkmath import InkmathError
    from inkmath.equation.reader import symbol_size
    from inkmath.evaluation.crohme import resolve_source
    from inkmath.equation.synth.hypotheses import cached_shards, hypothesis_tables
    from inkmath.equation.recognize import get_predictor, reader_pen
    from inkmath.equation.reader.symbols import TOKEN_FIX, get_context_model, read_symbols

    src = resolve_source(name, None)
    pred = get_predictor(None)
    kind, shards = ("image", IMAGE_SHARDS) if image else ("strokes", TRUTH_SHARDS)
    pen = None if image else reader_pen(pred)  # images have no pen paths
    model = get_context_model(image=image)
    tokens = [TOKEN_FIX.get(c, c) for c in pred.vocab.names]
    use = cached_shards(src, pred, shards=shards, pipeline=False, kind=kind, pen=pen)
    if not use:
        raise InkmathError(f"No cached hypotheses on {src.name}: build them first (see this script's docstring)")
    table = _concat([hypothesis_tables(src, pred, pipeline=False, shards=shards, only_shard=k, kind=kind, pen=pen)
                     for k in use], "truth")
    if image:  # the image tables' logits are zeros: the image reader's symbols have no crop embedding (None)
        table.pop("logits", None)
    rows = []
    for e, idx in enumerate(by_expression(table)):
        hyps = hyps_of(table, idx, tokens, pen)
        reading = read_symbols(hyps, model, size_and_place=False)
        rows += _pair_rows(e, reading.candidates, table["label"][idx], tokens, symbol_size.find_pair,
                           lambda i, pair: symbol_size.pair_features(hyps, reading.tokens, i, pair),
                           lambda i, pair, z: current(hyps, reading.tokens, i, pair, z))
        rows += digit_rows(e, hyps, reading, table["label"][idx], tokens)
        rows += prime_rows(e, hyps, reading, table["label"][idx], tokens, image)
    return rows


def digit_rows(e: int, hyps, reading, labels, tokens: list[str]) -> list[tuple]:
    """The rows of ``symbol_size.DIGIT_PAIRS`` (as ``gather``'s), read as the reader reads them: after the size
    correction (``symbol_size.correct``) of the models' reading."""
    from inkmath.equation.reader import symbol_size

    known = [True] * len(hyps)
    toks, cands = symbol_size.correct(hyps, reading.tokens, reading.candidates, known)
    return _pair_rows(e, cands, labels, tokens, symbol_size.find_digit_pair,
                      lambda i, pair: {"digit_share": symbol_size.digit_share(toks, i)})


def prime_rows(e: int, hyps, reading, labels, tokens: list[str], image: bool = False) -> list[tuple]:
    """The rows of a prime and what it is read as (``symbol_size.find_prime_pair``; as ``gather``'s, the pair being
    (other, prime)), read as the reader reads them: after the size and digit corrections (``image``: the image
    reader's)."""
    from inkmath.equation.reader import symbol_size

    known = [True] * len(hyps)
    toks, cands = symbol_size.correct(hyps, reading.tokens, reading.candidates, known, image)
    toks, cands = symbol_size.correct_digits(toks, cands, known)
    return _pair_rows(e, cands, labels, tokens, symbol_size.find_prime_pair,
                      lambda i, pair: {"aspect": symbol_size.box_aspect(hyps[i].box)})


def _pair_rows(e: int, cands, labels, tokens: list[str], find_pair, features, now=None) -> list[tuple]:
    """The rows (expression, pair, truth is the pair's second, log-odds, features, ``now``'s log-odds or None) of the
    symbols whose readings ``cands`` hold a pair ``find_pair`` finds, whose features can be read (``features(i,
    pair)``, None where they cannot) and whose truth is one of that pair."""
    out = []
    for i, label in enumerate(labels):
        truth = tokens[label] if 0 <= label < len(tokens) else None  # negative: image_hypotheses.IGNORE
        pair = find_pair(cands[i])
        found = features(i, pair) if pair is not None else None
        if found is None or truth not in pair:
            continue
        readings = {c.token: c.prob for c in cands[i]}
        z = math.log(readings[pair[1]] + 1e-9) - math.log(readings[pair[0]] + 1e-9)
        out.append((e, pair, truth == pair[1], z, found, None if now is None else now(i, pair, z)))
    return out


def digit_design(rows) -> np.ndarray:
    """The digit pairs' columns in their coefficients' order: z, the digit share, each pair's bias
    (``symbol_size.DIGIT_PAIRS``' order)."""
    from inkmath.equation.reader.symbol_size import DIGIT_PAIRS

    return np.asarray([[z, f["digit_share"]] + [float(pair == p) for p in DIGIT_PAIRS] for _, pair, _, z, f, _ in rows],
                      np.float64)


def design(rows, names: tuple[str, ...]) -> np.ndarray:
    """Columns in the coefficients' order: z, the features ``names``, the bias."""
    return np.asarray([[z] + [f[n] for n in names] + [1.0] for _, _, _, z, f, _ in rows], np.float64)


def fit(X: np.ndarray, y: np.ndarray, l2: float = L2) -> np.ndarray:
    """The coefficients (z's, the features', the bias) of a logistic regression of ``y`` on ``X`` from the models' own
    odds (1, 0, ...), with an L2 penalty ``l2`` on the features' weights (LBFGS, float64)."""
    import torch

    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    w[0] = 1.0  # start from the models' own odds
    w.requires_grad_(True)
    opt = torch.optim.LBFGS([w], max_iter=300)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ w, yt) + l2 * ((w[1:-1]) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy()


def current(hyps, tokens, i: int, pair: tuple[str, str], z: float) -> float:
    """The corrected log-odds of symbol ``i`` as the image reader reads it now (its models' own where it leaves the
    pair alone or cannot read the pair's features)."""
    from inkmath.equation.reader import symbol_size

    if symbol_size.pair_model(pair, image=True) is None:
        return z
    features = symbol_size.pair_features(hyps, tokens, i, pair, image=True)
    return z if features is None else symbol_size.corrected_log_odds(pair, z, features, image=True)


def groups() -> dict[str, tuple[set, bool | None]]:
    """The fitted groups: name -> (its pairs, whether its rows have an x-height letter: None for either). The groups'
    pairs are apart: a row's pair names its group."""
    from inkmath.equation.reader import symbol_size

    return {"size letters": ({(s, s.upper()) for s in symbol_size.SIZE_LETTERS}, None),
            "p": ({("p", "P")}, True), "p without an x-height letter": ({("p", "P")}, False),
            "1 / |": ({("|", "1")}, True), "1 / (": ({("(", "1")}, True),
            "digit or letter": (set(symbol_size.DIGIT_PAIRS), None),
            "prime": ({(t, symbol_size.PRIME) for t in symbol_size.PRIME_OTHERS}, None)}


def fit_group(rows, group: str, folds: int = 5, image: bool = False, l2: float = L2) -> dict:
    """Group ``group``'s figures on ``gather``'s rows (symbols; right as the models read them, with the shipped
    coefficients, with the image reader's shipped behaviour (``image``), with the fitted ones in-sample and in
    ``folds`` folds over expressions) and its fitted coefficients (unrounded, float64)."""
    from inkmath.equation.reader import symbol_size

    pairs, reference = groups()[group]
    g = [r for r in rows if r[1] in pairs and (reference is None or (r[4]["reference"] > 0) == reference)]
    m = symbol_size.size_model()
    if group == "prime":
        X, shipped = design(g, ("aspect",)), m.prime
    elif group == "digit or letter":
        X, shipped = digit_design(g), (m.digit_odds, m.digit_share, *m.digit_pairs.values())
    else:
        names, shipped = symbol_size.pair_model(next(iter(pairs)), reference=reference is not False)
        X = design(g, names)
    y = np.asarray([r[2] for r in g], np.float64)
    exprs = np.asarray([r[0] for r in g])
    w = fit(X, y, l2)
    fold = {e: k % folds for k, e in enumerate(np.unique(exprs))}
    f = np.asarray([fold[e] for e in exprs])
    cv = 0
    for k in range(folds):
        tr, te = f != k, f == k
        cv += int(((X[te] @ fit(X[tr], y[tr], l2) > 0) == (y[te] > 0)).sum())
    now = ({"current": int(((np.asarray([r[5] for r in g]) > 0) == (y > 0)).sum())}
           if image and all(r[5] is not None for r in g) else {})
    return {"symbols": len(g), "models": int(((X[:, 0] > 0) == (y > 0)).sum()),
            "shipped": int(((X @ np.asarray(shipped) > 0) == (y > 0)).sum()), **now,
            "in_sample": int(((X @ w > 0) == (y > 0)).sum()), "cross_validated": cv,
            "coefficients": [float(v) for v in w]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", nargs="?", default="val")
    ap.add_argument("--image", action="store_true", help="the image reader's hypotheses (the module docstring)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = gather(args.set, args.image)
    out = {"set": args.set, "reader": "image" if args.image else "strokes"}
    for group in groups():
        res = fit_group(rows, group, args.folds, args.image)
        out[group] = dict(res, coefficients=[round(v, 3) for v in res["coefficients"]])
    print(json.dumps(out) if args.json else json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    from inkmath import InkmathError

    try:
        sys.exit(main())
    except InkmathError as e:  # missing tables or data: one line saying what to build, no traceback
        sys.exit(f"error: {e}")
