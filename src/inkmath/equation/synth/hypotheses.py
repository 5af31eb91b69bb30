"""Training data from the pipeline's own hypotheses: what the symbol reader really produces on CROHME ink.

    tables = hypothesis_tables("crohme2014_train_inkml.tar.xz", predictor, strength=1.0, seed=0)
    tables["truth"]["label"], tables["pipeline"]["topk_idx"], ...

For every expression two sets of symbol hypotheses are recorded:

- ``truth``: the traceGroups' symbols (the truth segmentation), each crop read by the classifier;
- ``pipeline``: what ``segment.segment_strokes`` makes of the strokes. A hypothesis whose stroke set is exactly a
  true symbol's gets that symbol's class; any other (a symbol cut in two, two symbols joined) gets ``JUNK``.

Each symbol is a row: its expression (index), box (ink units), the classifier's top-k classes and probabilities,
its full logits (float16; the context model's crop embedding) and its label (a class index of the classifier's
vocabulary, or ``JUNK`` = number of classes); tables built with a pen model (``pen``, as the reader reads drawn ink)
also hold its log-probabilities of the symbol's strokes (``pen``, float16). The rows are cached as ``.npz`` in
``~/.cache/inkmath/hypotheses/`` keyed by the source file, its size and mtime, the classifier weights, the pen model,
the perturbation and this module's ``CODE_VERSION``.

The classifier was trained on the training symbols, so on clean training ink it is over-confident (its top-1 error
is several times the validation one's lower). ``perturb`` reads the training ink through a random distortion: per
symbol a small affine map about the symbol's centre, per expression a global one, and smooth jitter of the points,
all scaled by ``strength`` (chosen so that the training top-1 error matches validation's, see the decision note
docs/decisions/symbol-context.md).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from inkmath.equation.synth.distort import perturb
from inkmath.atomic import atomic_write_bytes
from inkmath.data.crohme import archive_members, normalize_label, read_inkml
from inkmath.equation.recognize import get_predictor, reader_pen
from inkmath.equation.strokes.segment import segment_strokes
from inkmath.errors import InkmathError
from inkmath.evaluation.crohme import resolve_source as _resolve

TOP_K = 5
CODE_VERSION = "3"  # bump when the rows written change meaning (3: the classifier's logits)


def _topk(preds, names_index: dict[str, int]) -> tuple[list[int], list[float]]:
    idx = [names_index[p.label] for p in preds[:TOP_K]]
    pr = [float(p.prob) for p in preds[:TOP_K]]
    while len(idx) < TOP_K:
        idx.append(0)
        pr.append(0.0)
    return idx, pr


def expression_rows(expr, predictor, rng: np.random.Generator | None = None, strength: float = 0.0,
                    pipeline: bool = True, pen=None) -> dict[str, list]:
    """Rows of one expression: {"truth": [...], "pipeline": [...]}, each row (box, topk_idx, topk_prob, label,
    logits[, pen]); ``pen`` (a ``pen_symbols.PenModel``): each row also holds the pen model's log-probabilities of
    its strokes."""
    from inkmath import ink

    names = list(predictor.vocab.names)
    index = {n: k for k, n in enumerate(names)}
    junk = len(names)
    strokes = expr.strokes
    if rng is not None and strength > 0:
        strokes = perturb(strokes, expr.groups, rng, strength)
    ss = [np.asarray(s, float)[:, :2] for s in strokes]
    nonempty = [s for s in ss if len(s)]
    out: dict[str, list] = {"truth": [], "pipeline": []}
    if not nonempty:
        return out
    scale = ink.normalization_scale(nonempty)
    truth_sets: dict[frozenset, int] = {}
    crops, groups, meta = [], [], []
    for g in expr.groups:
        name = normalize_label(g.label)
        own = [ss[i] for i in g.stroke_ids if i < len(ss) and len(ss[i])]
        if not own or name is None or name not in index:
            continue
        truth_sets[frozenset(i for i in g.stroke_ids if i < len(ss) and len(ss[i]))] = index[name]
        crops.append(ink.render_symbol(own, scale=scale))
        groups.append(own)
        meta.append((ink.bbox(own), index[name]))
    if crops:
        preds, logits = predictor.predict_with_logits(crops, ink="white", top=TOP_K)
        pens = pen.log_probs(groups, scale) if pen is not None else [None] * len(crops)
        for p, z, e, (box, lab) in zip(preds, logits, pens, meta):
            out["truth"].append((box, *_topk(p, index), lab, z) + (() if e is None else (e,)))
    if pipeline:
        from inkmath.equation.reader.symbols import TOKEN_FIX

        back = {TOKEN_FIX.get(n, n): n for n in names}
        hyps = segment_strokes(ss, predictor, top=TOP_K)
        pens = pen.log_probs([[ss[i] for i in h.strokes] for h in hyps], scale) if pen is not None else None
        for n, h in enumerate(hyps):
            z = h.logits if h.logits is not None else np.zeros(junk, np.float32)
            idx = [index[back.get(c.token, c.token)] for c in h.candidates[:TOP_K]]
            pr = [float(c.prob) for c in h.candidates[:TOP_K]]
            idx += [0] * (TOP_K - len(idx))
            pr += [0.0] * (TOP_K - len(pr))
            lab = truth_sets.get(frozenset(h.strokes), junk)
            out["pipeline"].append((h.box.as_list(), idx, pr, lab, z) + (() if pens is None else (pens[n],)))
    return out


def _to_arrays(rows: list, expr_of: list[int], num_classes: int) -> dict[str, np.ndarray]:
    """Rows (box, topk_idx, topk_prob, label, logits[, grouping or pen]) as arrays; ``grouping`` (image tables: which
    of the reader's groupings of the expression the row belongs to) or ``pen`` (stroke tables built with a pen model:
    its log-probabilities) only where the rows have it."""
    extra = {}
    if rows and len(rows[0]) > 5:
        sixth = [r[5] for r in rows]
        extra = ({"pen": np.asarray(sixth, np.float16).reshape(-1, num_classes)} if np.ndim(sixth[0]) else
                 {"grouping": np.asarray(sixth, np.int8)})
    return extra | {
        "expr": np.asarray(expr_of, np.int32),
        "box": np.asarray([r[0] for r in rows], np.float32).reshape(-1, 4),
        "topk_idx": np.asarray([r[1] for r in rows], np.int16).reshape(-1, TOP_K),
        "topk_prob": np.asarray([r[2] for r in rows], np.float32).reshape(-1, TOP_K),
        "label": np.asarray([r[3] for r in rows], np.int16),
        "logits": np.asarray([r[4] for r in rows], np.float16).reshape(-1, num_classes),
    }


def cache_path(source: Path, predictor, strength: float, seed: int, limit: int | None, subset: str | None,
               pipeline: bool, shard: tuple[int, int] = (0, 1), kind: str = "strokes", pen=None) -> Path:
    st = source.stat()
    w = predictor.card.get("name", "?") + str(predictor.card.get("parameters", ""))
    if pen is not None:
        w += f"+{pen.card.get('name', '?')}{pen.card.get('created', '')}"
    key = f"{source.name}|{st.st_size}|{int(st.st_mtime)}|{w}|{strength}|{seed}|{limit}|{subset}|{pipeline}|" \
          f"{shard}|{CODE_VERSION}"
    stem = source.stem
    if kind != "strokes":  # the image tables (image_hypotheses): their own key and name
        from inkmath.equation.synth import image_hypotheses

        key += f"|{kind}|{image_hypotheses.CODE_VERSION}"
        stem += f"-{kind}"
    h = hashlib.sha1(key.encode()).hexdigest()[:16]
    base = Path(os.environ.get("INKMATH_CACHE", Path.home() / ".cache" / "inkmath")) / "hypotheses"
    return base / f"{stem}-s{strength:g}-seed{seed}-{shard[0]}of{shard[1]}-{h}.npz"


def cached_shards(source: str | Path, predictor, *, strength: float = 0.0, seed: int = 0, shards: int = 1,
                  pipeline: bool = True, kind: str = "strokes", pen=None) -> list[int]:
    """The shards of a table already in the cache (built by earlier or other processes)."""
    source = Path(source)
    return [k for k in range(shards)
            if cache_path(source, predictor, strength, seed, None, None, pipeline, (k, shards), kind, pen).exists()]


def _load(path: Path) -> dict:
    z = np.load(path)
    out = {part: {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith(part + "/")}
           for part in ("truth", "pipeline")}
    out["ids"] = {"ids": z["ids"], "number": z["number"]}
    return out


def hypothesis_tables(source: str | Path, predictor, *, strength: float = 0.0, seed: int = 0,
                      limit: int | None = None, subset: str | None = None, pipeline: bool = True,
                      shards: int = 1, only_shard: int | list[int] | None = None, progress=None,
                      kind: str = "strokes", pen=None) -> dict[str, dict[str, np.ndarray]]:
    """{"truth": arrays, "pipeline": arrays, "ids": ...} for a CROHME InkML archive (cached as .npz per shard).

    Arrays: expr (N,) expression index, box (N, 4), topk_idx (N, K), topk_prob (N, K), label (N,), logits (N, C)
    (float16); ``ids`` holds
    the expression ids and their numbers in the archive. ``strength`` > 0 reads the ink under ``perturb`` with a
    generator seeded by (``seed``, the expression's number in the archive), so sharding does not change the rows.
    ``shards`` splits the expressions by number modulo ``shards`` (each shard cached alone, so several processes
    can build one table); ``only_shard`` builds that shard (or those shards, in one pass over the archive) and
    returns it (them, joined). ``kind``: "strokes" (the stroke reader's hypotheses, ``expression_rows``) or
    "image" (the image reader's on WAP-like renderings, ``image_hypotheses.expression_rows``). ``pen``: the stroke
    tables' symbols read from their pen paths too (``expression_rows``); images have none.
    """
    source = Path(source)
    if only_shard is None:
        which = list(range(shards))
    else:
        which = [int(only_shard)] if np.isscalar(only_shard) else [int(k) for k in only_shard]
    got = _shard_tables(source, predictor, strength, seed, limit, subset, pipeline, which, shards, progress, kind,
                        pen if kind == "strokes" else None)
    if len(got) == 1:
        return got[0]
    out: dict = {}
    base = 0
    for part in ("truth", "pipeline"):
        out[part] = {}
    ids, numbers = [], []
    for g in got:
        for part in ("truth", "pipeline"):
            t = dict(g[part])
            t["expr"] = t["expr"] + base
            for k, v in t.items():
                out[part].setdefault(k, []).append(v)
        ids.extend(g["ids"]["ids"].tolist())
        numbers.extend(g["ids"]["number"].tolist())
        base += len(g["ids"]["ids"])
    for part in ("truth", "pipeline"):
        out[part] = {k: np.concatenate(v) for k, v in out[part].items()}
    out["ids"] = {"ids": np.asarray(ids), "number": np.asarray(numbers)}
    return out


def _shard_tables(source: Path, predictor, strength, seed, limit, subset, pipeline, which: list[int], shards: int,
                  progress, kind: str = "strokes", pen=None) -> list[dict]:
    """The tables of the shards ``which`` (of ``shards``): cached ones loaded, the others built in one pass over
    the archive and each written as soon as its last expression is read."""
    paths = {k: cache_path(source, predictor, strength, seed, limit, subset, pipeline, (k, shards), kind, pen)
             for k in which}
    if kind == "strokes":
        def rows_of(*args):
            return expression_rows(*args, pen=pen)
    else:
        from inkmath.equation.synth.image_hypotheses import expression_rows as rows_of
    todo = {k for k in which if not paths[k].exists()}
    if todo:
        state = {k: ({"truth": [], "pipeline": []}, {"truth": [], "pipeline": []}, [], []) for k in todo}
        last = _last_numbers(source, subset, limit, shards, todo)
        for number, (name, data) in enumerate(archive_members(source, subset, (".inkml",))):
            if limit is not None and number >= limit:
                break
            k = number % shards
            if k not in state:
                continue
            rows, owners, ids, numbers = state[k]
            try:
                expr = read_inkml(data, name)
            except InkmathError:
                expr = None
            if expr is not None and expr.groups:
                rng = np.random.default_rng([seed, number])
                r = rows_of(expr, predictor, rng, strength, pipeline)
                for part in rows:
                    rows[part].extend(r[part])
                    owners[part].extend([len(ids)] * len(r[part]))
                ids.append(expr.id)
                numbers.append(number)
                if progress is not None:
                    progress(sum(len(v[2]) for v in state.values()))
            if number == last.get(k):
                _write_shard(paths[k], state.pop(k), len(predictor.vocab.names), atomic_write_bytes)
        for k in list(state):  # shards whose last member was not an expression
            _write_shard(paths[k], state.pop(k), len(predictor.vocab.names), atomic_write_bytes)
    return [_load(paths[k]) for k in which]


def _last_numbers(source: Path, subset, limit, shards: int, todo) -> dict[int, int]:
    """The number of each shard's last InkML member (so a shard is written as soon as it is complete)."""
    last: dict[int, int] = {}
    for number, _ in enumerate(archive_members(source, subset, (".inkml",))):
        if limit is not None and number >= limit:
            break
        if number % shards in todo:
            last[number % shards] = number
    return last


def _write_shard(path: Path, state, num_classes: int, atomic_write_bytes) -> None:
    import io

    rows, owners, ids, numbers = state
    tables = {part: _to_arrays(rows[part], owners[part], num_classes) for part in rows}
    flat = {f"{part}/{k}": v for part, t in tables.items() for k, v in t.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, ids=np.asarray(ids), number=np.asarray(numbers, np.int32), **flat)
    atomic_write_bytes(path, buf.getvalue())


def top1(table: dict[str, np.ndarray], num_classes: int = 101, k: int = 1) -> float:
    """The classifier's top-``k`` accuracy over the rows whose label is a class (not junk)."""
    lab = table["label"].astype(int)
    keep = (lab >= 0) & (lab < num_classes)
    if not keep.any():
        return 0.0
    return float((table["topk_idx"][keep, :k] == lab[keep, None]).any(axis=1).mean())


def main(argv=None) -> int:
    """Build (or load) the cached tables and print the classifier's top-1 on them."""
    import argparse
    import json
    import sys

    ap = argparse.ArgumentParser(description="cache the pipeline's hypotheses on a CROHME InkML archive")
    ap.add_argument("source")
    ap.add_argument("--strength", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--subset", default=None)
    ap.add_argument("--no-pipeline", action="store_true")
    ap.add_argument("--image", action="store_true",
                    help="the image reader's hypotheses on WAP-like renderings (image_hypotheses)")
    ap.add_argument("--weights", default=None, help="the classifier (default: the reader's, recognize.DEFAULT_WEIGHTS)")
    ap.add_argument("--pen", default=None,
                    help="the pen model read beside the classifier on drawn ink (default: the reader's, "
                         "recognize.reader_pen; 'none': crops alone)")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--shard", default=None,
                    help="build only this shard (0-based), or these (comma-separated, one pass over the archive)")
    a = ap.parse_args(argv)

    src = _resolve(a.source, None)
    pred = get_predictor(a.weights)
    pen = reader_pen(pred, a.pen)
    t = hypothesis_tables(src, pred, strength=a.strength, seed=a.seed, limit=a.limit, subset=a.subset,
                          pipeline=not a.no_pipeline, shards=a.shards,
                          only_shard=None if a.shard is None else [int(k) for k in a.shard.split(",")],
                          progress=lambda n: n % 250 == 0 and print(n, file=sys.stderr, flush=True),
                          kind="image" if a.image else "strokes", pen=pen)
    res = {"source": src.name, "strength": a.strength, "seed": a.seed, "expressions": len(t["ids"]["ids"]),
           "truth_symbols": int(len(t["truth"]["label"])), "truth_top1": top1(t["truth"]),
           "truth_top3": top1(t["truth"], k=3)}
    if not a.no_pipeline:
        lab = t["pipeline"]["label"]
        res |= {"pipeline_hyps": int(len(lab)), "pipeline_junk": float((lab == 101).mean()) if len(lab) else 0.0,
                "pipeline_top1": top1(t["pipeline"])}
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
