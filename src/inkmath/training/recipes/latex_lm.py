"""Recipe for the LaTeX language model shipped as ``weights/latex-lm.safetensors`` (+ ``latex-lm.json``).

    INKMATH_DATA=/work/shared/data python -m inkmath.training.recipes.latex_lm --config configs/latex-lm.yaml

Training text: the CROHME 2014 *training* captions only (``crohme2014_train_offline_wap_captions.tar.xz``,
``train_caption.txt``, 8,836 expressions), canonicalised by ``metrics.normalize_latex``. The 2011-2013 test sets
(validation) are read only to report perplexity and choose the order; the 2014 test is never read.

With it, what the n-grams cannot see, counted on the same text: how often an expression writes a letter in both cases
(``NgramLM.mixed_case``) and how often its brackets do not match (``NgramLM.unmatched``).

Interpolated Kneser-Ney: the highest order counts n-grams, the lower orders count distinct left extensions
(continuation counts); one absolute discount per order, D = n1 / (n1 + 2 n2) from that order's counts of counts.
Counting takes seconds and is deterministic (sorted tables), so a rerun rebuilds the same file; there is no
checkpoint to resume.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import math
import tarfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from inkmath.errors import InkmathError
from inkmath.equation.reader.latex_lm import (
    BOS, EOS, NAME, NEVER, UNK, NgramLM, brackets_match, perplexity, save, weights_path,
)
from inkmath.data import data_dir as default_dir
from inkmath.data.crohme import iter_inkml, read_captions
from inkmath.equation.core.metrics import normalize_latex

CAPTIONS = "crohme2014_train_offline_wap_captions.tar.xz"


def read_training_captions(data_dir: Path) -> list[list[str]]:
    """Canonical token lists of the training captions (train_caption.txt inside the captions archive)."""
    path = data_dir / "crohme" / CAPTIONS
    if not path.is_file():
        raise InkmathError(f"{path} not found; set INKMATH_DATA to the folder holding crohme/{CAPTIONS}")
    with tarfile.open(path, "r:*") as tf:
        member = next((m for m in tf if m.name.endswith("train_caption.txt")), None)
        if member is None:
            raise InkmathError(f"{path} holds no train_caption.txt")
        text = tf.extractfile(member).read().decode("utf-8")
    caps = read_captions(text)
    return [normalize_latex(" ".join(caps[k])) for k in sorted(caps)]


def read_val_truths(data_dir: Path, limit: int | None = None) -> list[list[str]]:
    """Canonical truth token lists of the validation ink (CROHME 2011-2013 test sets), for perplexity only."""
    out = []
    for e in iter_inkml(data_dir / "crohme" / "crohme2011-2013_test_inkml.tar.xz"):
        if e.latex_truth:
            out.append(normalize_latex(e.latex_truth))
        if limit is not None and len(out) >= limit:
            break
    return out


def _discount(counts: Iterable[int]) -> float:
    cc = Counter(c for c in counts if c in (1, 2))
    n1, n2 = cc.get(1, 0), cc.get(2, 0)
    return n1 / (n1 + 2 * n2) if n1 else 0.5


def train_kn(sentences: Sequence[Sequence[str]], order: int) -> NgramLM:
    """Interpolated Kneser-Ney of ``order`` over token lists, in back-off form."""
    if order < 1:
        raise InkmathError("order must be at least 1")
    vocab = [BOS, EOS, UNK] + sorted({t for s in sentences for t in s} - {BOS, EOS, UNK})
    ids = {t: i for i, t in enumerate(vocab)}
    pad = [ids[BOS]] * (order - 1)
    raw: Counter = Counter()  # highest-order n-grams
    for s in sentences:
        seq = pad + [ids[t] for t in s] + [ids[EOS]]
        for k in range(order - 1, len(seq)):
            raw[tuple(seq[k - order + 1:k + 1])] += 1
    counts: list[dict[tuple[int, ...], int]] = [dict() for _ in range(order)]
    counts[order - 1] = dict(raw)
    for n in range(order - 1, 0, -1):  # continuation counts: distinct left extensions of each n-gram
        cont: Counter = Counter()
        for g in counts[n]:
            cont[g[1:]] += 1
        counts[n - 1] = dict(cont)
    logp: list[dict] = [dict() for _ in range(order)]
    backoff: list[dict] = [dict() for _ in range(order - 1)]
    predicted = [i for i in range(len(vocab)) if vocab[i] != BOS]
    # unigrams: discounted continuation counts, the rest spread uniformly over the vocabulary (the unknown included)
    d1 = _discount(counts[0].values())
    total = sum(counts[0].values())
    seen = sum(1 for g in counts[0] if g[0] != ids[BOS])
    lower = {}
    for w in predicted:
        c = counts[0].get((w,), 0)
        lower[(w,)] = max(c - d1, 0) / total + d1 * seen / total / len(predicted)
        logp[0][(w,)] = math.log(lower[(w,)])
    logp[0][(ids[BOS],)] = NEVER
    for n in range(2, order + 1):
        a = counts[n - 1]
        d = _discount(a.values())
        ctx_total: dict = defaultdict(int)
        ctx_types: dict = defaultdict(int)
        for g, c in a.items():
            ctx_total[g[:-1]] += c
            ctx_types[g[:-1]] += 1
        prob = {}
        for g, c in a.items():
            h = g[:-1]
            gamma = d * ctx_types[h] / ctx_total[h]
            prob[g] = max(c - d, 0) / ctx_total[h] + gamma * _lookup(logp, backoff, g[1:], n - 1)
            logp[n - 1][g] = math.log(prob[g])
        for h in ctx_total:
            backoff[n - 2][h] = math.log(d * ctx_types[h] / ctx_total[h])
            logp[n - 2].setdefault(h, NEVER)  # a context never seen as an n-gram of its own (<s> <s>)
    return NgramLM(vocab, order, logp, backoff, mixed_case_logp(sentences), unmatched_logp(sentences))


def mixed_case_logp(sentences: Sequence[Sequence[str]]) -> dict[str, float]:
    """Per lower-case letter whose capital is also a token: log P(a sentence writing the letter writes it in both
    cases), (mixed + 1/2) / (writing it + 1)."""
    tokens = {t for s in sentences for t in s}
    letters = sorted(t for t in tokens if len(t) == 1 and t.islower() and t.upper() in tokens)
    sets = [set(s) for s in sentences]
    out = {}
    for x in letters:
        writing = sum(1 for s in sets if x in s or x.upper() in s)
        mixed = sum(1 for s in sets if x in s and x.upper() in s)
        out[x] = math.log((mixed + 0.5) / (writing + 1))
    return out


def unmatched_logp(sentences: Sequence[Sequence[str]]) -> float:
    """log P(a sentence's brackets do not match), (unmatched + 1/2) / (sentences + 1)."""
    unmatched = sum(1 for s in sentences if not brackets_match(s))
    return math.log((unmatched + 0.5) / (len(sentences) + 1))


def _lookup(logp: list[dict], backoff: list[dict], g: tuple[int, ...], n: int) -> float:
    """p(g[-1] | g[:-1]) from the tables of orders 1..n built so far (back-off form)."""
    pay = 0.0
    for start in range(len(g)):
        sub = g[start:]
        m = len(sub)
        lp = logp[m - 1].get(sub)
        if lp is not None and lp != NEVER:
            return math.exp(pay + lp)
        if m > 1:
            pay += backoff[m - 2].get(sub[:-1], 0.0)
    return math.exp(pay + logp[0][(2,)])  # <unk>


def _recipe(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise InkmathError(f"Recipe {path} not found")
    cfg = yaml.safe_load(path.read_text()) or {}
    if cfg.get("model") != "kn-ngram":
        raise InkmathError(f"{path}: model must be kn-ngram for the LaTeX language model, not {cfg.get('model')!r}")
    return cfg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=Path("configs/latex-lm.yaml"))
    ap.add_argument("--out", type=Path, default=None, help="weights file (default: the shipped latex-lm)")
    ap.add_argument("--orders", default=None, help="comma-separated orders: report validation perplexity of each")
    args = ap.parse_args(argv)
    cfg = _recipe(args.config)
    t0 = time.perf_counter()
    data = default_dir(None)
    train = read_training_captions(data)
    val = read_val_truths(data)
    if args.orders:
        for o in (int(x) for x in args.orders.split(",")):
            print(f"order {o}: validation perplexity {perplexity(train_kn(train, o), val):.3f}")
        return 0
    order = int(cfg.get("order", 4))
    lm = train_kn(train, order)
    card = {
        "format": "inkmath-weights/1", "name": cfg.get("name", NAME), "kind": NAME, "purpose": cfg.get("purpose", ""),
        "model": cfg["model"], "order": order, "parameters": sum(len(t) for t in lm.logp) + sum(len(t) for t in lm.backoff),
        "vocabulary": len(lm.vocab), "config": str(args.config),
        "train_command": f"python -m inkmath.training.recipes.latex_lm --config {args.config}",
        "data": {"train": f"{CAPTIONS}:train_caption.txt ({len(train)} expressions)",
                 "val": "crohme2011-2013_test_inkml.tar.xz truths (perplexity only)"},
        "metrics": {"val_perplexity": round(perplexity(lm, val), 4),
                    "train_perplexity": round(perplexity(lm, train), 4)},
        "mixed_case": {"what": "log P(an expression writing a letter writes it in both cases), the training captions",
                       **{x: round(v, 3) for x, v in lm.mixed_case.items()}},
        "unmatched_brackets": {"what": "log P(an expression's brackets do not match), the training captions",
                               "logp": round(lm.unmatched, 3)},
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = args.out or weights_path()
    save(lm, out, card)
    print(f"wrote {out}: order {order}, {card['parameters']} entries, validation perplexity "
          f"{card['metrics']['val_perplexity']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
