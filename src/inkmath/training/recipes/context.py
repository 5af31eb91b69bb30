"""Recipe for the symbol context model shipped as ``weights/symbol-context.safetensors`` (+ its JSON card).

    INKMATH_DATA=/work/shared/data python -m inkmath.training.recipes.context --config configs/symbol-context.yaml \
        [--out runs/<name>] [--resume] [--limit N] [--epochs N] [--ship]

Data (``hypotheses.hypothesis_tables``, cached): the CROHME training ink read under random distortion (passes with
the seeds of ``train_seeds`` at ``strength``), both its truth segmentation and the pipeline's own segmentation
(mis-segmented hypotheses labelled junk); validation: the 2011-2013 test ink, undistorted. The model is chosen by
its validation accuracy on the truth segmentation. Every epoch ends with an atomic checkpoint (model, optimiser,
epoch, RNG states, history); ``--resume`` continues from it and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.reader.context_model import (GEO_FEATURES, MODEL_NAME, PAIR_FEATURES, ContextArchitecture,
                                            crop_features, expression_features)
from inkmath.equation.reader.context_net import build_net, net_of
from inkmath.equation.reader.context_model import load_context_model
from inkmath.equation.recognize import get_predictor
from inkmath.equation.synth.hypotheses import hypothesis_tables
from inkmath.evaluation.crohme import resolve_source as _resolve
from inkmath.training.checkpoint import atomic_write_bytes, atomic_write_text, load_checkpoint, save_checkpoint
from inkmath.weights import shipped_dir

JUNK = "junk"


@dataclass
class ContextConfig:
    model: str = "symbol-context-transformer"
    name: str = MODEL_NAME  # the name ``--ship`` writes the weights under
    classifier: str = "crohme"  # the symbol classifier whose readings the model re-reads (the reader's)
    train: str = "crohme2014_train_inkml.tar.xz"
    val: str = "val"
    strength: float = 1.0
    train_seeds: list = field(default_factory=lambda: [0])
    # each table is built (and cached) in ``*_shards`` parts by expression number; ``use_*`` lists the parts used
    truth_shards: int = 64  # training, truth segmentation
    use_truth_shards: list | None = None  # None: all
    pipeline_shards: int = 64  # training, the pipeline's segmentation
    use_pipeline_shards: list = field(default_factory=list)
    val_truth_shards: int = 8
    use_val_truth_shards: list | None = None
    val_pipeline_shards: int = 16
    use_val_pipeline_shards: list = field(default_factory=lambda: [0])
    # the image reader's hypotheses on WAP-like renderings (``image_hypotheses``; one table per part holds the truth
    # segmentation and the reader's own groupings): training (the ink read under distortion as above) and validation
    image_shards: int = 64
    use_image_truth_shards: list = field(default_factory=list)
    use_image_pipeline_shards: list = field(default_factory=list)
    image_pipeline_junk_only: bool = False  # of the reader's groupings, only those with a mis-segmented symbol
    val_image_shards: int = 4
    use_val_image_truth_shards: list = field(default_factory=list)
    use_val_image_pipeline_shards: list = field(default_factory=list)
    architecture: ContextArchitecture = field(
        default_factory=lambda: ContextArchitecture(dim=64, layers=2, heads=4, ff=128, dropout=0.1))
    epochs: int = 12
    batch_size: int = 32
    lr: float = 0.002
    weight_decay: float = 0.01
    label_smoothing: float = 0.05
    crop_dropout: float = 0.0  # share of training expressions read without their crop embeddings (as images are)
    # distillation: the mean probabilities of these shipped context models on every training sequence are a second
    # target, weighted ``distill`` against the labels' (1 - ``distill``); [] trains on the labels alone
    teachers: list = field(default_factory=list)
    distill: float = 0.0
    seed: int = 0
    threads: int = 1
    limit: int | None = None

    @property
    def reads_strokes(self) -> bool:
        """The recipe trains on the stroke reader's tables (truth or pipeline segmentation)."""
        return self.use_truth_shards != [] or bool(self.use_pipeline_shards)

    @property
    def reads_images(self) -> bool:
        """The recipe trains on the image reader's tables (``image_hypotheses``)."""
        return bool(self.use_image_truth_shards or self.use_image_pipeline_shards)


def load_config(path: str | None, overrides: dict) -> ContextConfig:
    from inkmath.training.config import recipe_values

    values = recipe_values(path, overrides, ContextConfig.__dataclass_fields__)
    if isinstance(values.get("architecture"), dict):
        sizes = values["architecture"]
        fields = ContextArchitecture.__dataclass_fields__
        need = {k for k, f in fields.items() if f.default is dataclasses.MISSING}
        if not need <= set(sizes) <= set(fields):
            raise InkmathError(f"The config's architecture needs {', '.join(sorted(need))} (and may have "
                               f"{', '.join(sorted(set(fields) - need))}); it has {', '.join(sorted(sizes))}")
        values["architecture"] = ContextArchitecture(**sizes)
    return ContextConfig(**values)


# -------------------------------------------------------------------------------------------------------- data
@dataclass
class Sequences:
    """Per expression: class features, geometry, pairwise geometry, labels, crop embeddings (lists of arrays)."""

    cls: list
    geo: list
    pair: list
    label: list
    kind: list  # "truth" or "pipeline"
    crop: list = field(default_factory=list)  # (n, width + 1) per expression (``crop_features``)
    soft: list = field(default_factory=list)  # (n, C + 1) teachers' probabilities per expression (``teacher_probs``)

    def extend(self, other: "Sequences") -> None:
        for f in ("cls", "geo", "pair", "label", "kind", "crop", "soft"):
            getattr(self, f).extend(getattr(other, f))


def sequences_from(tables: dict, num_classes: int, parts=("truth", "pipeline"), crop: int = 0,
                   writer_classes=None, junk_only: bool = False) -> Sequences:
    """``crop`` > 0: each symbol's crop embedding from the table's ``logits`` (zeros where a table has none);
    ``writer_classes`` (the class names): the geometry ends with ``writer_features``. A sequence is an expression,
    or one of its groupings where the table has a ``grouping`` column (the image tables); ``junk_only``: only the
    sequences with a junk row."""
    out = Sequences([], [], [], [], [])
    for part in parts:
        t = tables[part]
        if not len(t["expr"]):
            continue
        key = t["expr"].astype(np.int64) * 256 + (t["grouping"] if "grouping" in t else 0)
        cuts = np.flatnonzero(np.diff(key)) + 1
        for rows in np.split(np.arange(len(t["expr"])), cuts):
            if junk_only and not (t["label"][rows] == num_classes).any():
                continue
            c, g, p = expression_features(t["box"][rows], t["topk_idx"][rows], t["topk_prob"][rows], num_classes,
                                          writer_classes)
            out.cls.append(c)
            out.geo.append(g)
            out.pair.append(p)
            out.label.append(t["label"][rows].astype(np.int64))
            out.kind.append(part)
            out.crop.append(crop_features(t["logits"][rows] if "logits" in t else None, len(rows), crop))
    return out


def _batch(seqs: Sequences, idx, hide=frozenset()):
    """Padded tensors of the expressions ``idx``; those in ``hide`` lose their crop embeddings."""
    import torch

    n = max(len(seqs.label[i]) for i in idx)
    B = len(idx)
    C2 = seqs.cls[idx[0]].shape[1]
    cls = np.zeros((B, n, C2), np.float32)
    geo = np.zeros((B, n, seqs.geo[idx[0]].shape[1]), np.float32)
    pair = np.zeros((B, n, n, PAIR_FEATURES), np.float32)
    lab = np.full((B, n), -100, np.int64)
    mask = np.zeros((B, n), bool)
    W = seqs.crop[idx[0]].shape[1] if seqs.crop else 1
    crop = np.zeros((B, n, W), np.float32)
    for b, i in enumerate(idx):
        m = len(seqs.label[i])
        cls[b, :m], geo[b, :m], pair[b, :m, :m], lab[b, :m], mask[b, :m] = (
            seqs.cls[i], seqs.geo[i], seqs.pair[i], seqs.label[i], True)
        if seqs.crop and i not in hide:
            crop[b, :m] = seqs.crop[i]
    return tuple(torch.from_numpy(a) for a in (cls, geo, pair, mask, lab, crop))


def _soft_batch(seqs: Sequences, idx, n: int):
    """The teachers' probabilities of the expressions ``idx``, padded to ``n`` symbols (zeros)."""
    import torch

    soft = np.zeros((len(idx), n, seqs.soft[idx[0]].shape[1]), np.float32)
    for b, i in enumerate(idx):
        soft[b, :len(seqs.soft[i])] = seqs.soft[i]
    return torch.from_numpy(soft)


def batches(seqs: Sequences, order: np.ndarray, size: int):
    """Batches of expressions of similar length (sorted within chunks of 50 batches, to pad little)."""
    chunk = size * 50
    out = []
    for s in range(0, len(order), chunk):
        part = sorted(order[s:s + chunk], key=lambda i: len(seqs.label[i]))
        out.extend(part[k:k + size] for k in range(0, len(part), size))
    return out


def predict(net, seqs: Sequences, size: int = 64) -> list[np.ndarray]:
    import torch

    net.eval()
    out: list = [None] * len(seqs.label)
    with torch.no_grad():
        for idx in batches(seqs, np.arange(len(seqs.label)), size):
            cls, geo, pair, mask, _, crop = _batch(seqs, idx)
            z = net(cls, geo, pair, mask, crop).softmax(-1).numpy()
            for b, i in enumerate(idx):
                out[i] = z[b, :len(seqs.label[i])]
    return out


def teacher_probs(names: list[str], seqs: Sequences, cfg: "ContextConfig", classes: list[str]) -> list[np.ndarray]:
    """The mean probabilities (float32, junk last) of the shipped context models ``names`` on each sequence: the
    distillation targets. Each teacher must read the same classes and features as the model trained."""
    total: list | None = None
    for name in names:
        m = load_context_model(name)
        arch = m.architecture
        if m.classes != classes or (arch.crop, arch.writer) != (cfg.architecture.crop, cfg.architecture.writer):
            raise InkmathError(f"The teacher {name} reads other classes or features than the recipe's model; "
                               f"list teachers trained with the same classifier, crop and writer widths")
        probs = predict(net_of(m), seqs)
        total = probs if total is None else [a + b for a, b in zip(total, probs)]
    return [(t / len(names)).astype(np.float32) for t in total or []]


def accuracy(probs: list[np.ndarray], seqs: Sequences, kind: str, num_classes: int) -> dict:
    """Symbol accuracy of the model's best class (junk excluded) and of the classifier's top-1, over the symbols
    of ``kind`` whose label is a class."""
    right = base = total = 0
    for p, c, lab, k in zip(probs, seqs.cls, seqs.label, seqs.kind):
        if k != kind:
            continue
        keep = (lab >= 0) & (lab < num_classes)  # a negative label: context only (image_hypotheses.IGNORE)
        right += int((p[keep, :num_classes].argmax(1) == lab[keep]).sum())
        base += int((c[keep, :num_classes].argmax(1) == lab[keep]).sum())
        total += int(keep.sum())
    return {"symbols": total, "model": right / max(total, 1), "classifier": base / max(total, 1)}


# ------------------------------------------------------------------------------------------------------- train
def train(cfg: ContextConfig, out: Path, resume: bool = False, log=print) -> dict:
    predictor = get_predictor(cfg.classifier)
    classes = list(predictor.vocab.names)
    C = len(classes)
    train_src, val_src = _resolve(cfg.train, None), _resolve(cfg.val, None)

    def load(src, strength, seed, shards, use, pipeline, kind="strokes", part=None) -> Sequences:
        """``part`` (image tables, built with the pipeline's groupings): the part used, "truth" or "pipeline"."""
        out = Sequences([], [], [], [], [])
        part = part or ("pipeline" if pipeline else "truth")
        junk_only = kind == "image" and part == "pipeline" and cfg.image_pipeline_junk_only
        for k in (range(shards) if use is None else use):
            t = hypothesis_tables(src, predictor, strength=strength, seed=seed, limit=cfg.limit, pipeline=pipeline,
                                  shards=shards, only_shard=int(k), kind=kind)
            out.extend(sequences_from(t, C, (part,), cfg.architecture.crop,
                                      classes if cfg.architecture.writer else None,
                                      junk_only=junk_only))
        return out

    seqs = Sequences([], [], [], [], [])
    val = Sequences([], [], [], [], [])
    parts = [(seqs, train_src, cfg.strength, int(s), cfg.truth_shards, cfg.use_truth_shards, False)
             for s in cfg.train_seeds]
    parts += [(seqs, train_src, cfg.strength, int(s), cfg.pipeline_shards, cfg.use_pipeline_shards, True)
              for s in cfg.train_seeds]
    parts += [(seqs, train_src, cfg.strength, int(s), cfg.image_shards, use, True, "image", part)
              for s in cfg.train_seeds
              for use, part in ((cfg.use_image_truth_shards, "truth"), (cfg.use_image_pipeline_shards, "pipeline"))]
    parts += [(val, val_src, 0.0, 0, cfg.val_truth_shards, cfg.use_val_truth_shards, False),
              (val, val_src, 0.0, 0, cfg.val_pipeline_shards, cfg.use_val_pipeline_shards, True)]
    parts += [(val, val_src, 0.0, 0, cfg.val_image_shards, use, True, "image", part)
              for use, part in ((cfg.use_val_image_truth_shards, "truth"),
                                (cfg.use_val_image_pipeline_shards, "pipeline"))]
    for into, *args in parts:
        into.extend(load(*args))
    log(f"train: {len(seqs.label)} sequences, {sum(len(x) for x in seqs.label)} symbols; val: {len(val.label)}")
    if cfg.teachers and cfg.distill:
        seqs.soft = teacher_probs(cfg.teachers, seqs, cfg, classes)
        log(f"distilling from {', '.join(cfg.teachers)} (weight {cfg.distill})")
    return fit(cfg, seqs, val, classes, out, resume, log)


def fit(cfg: ContextConfig, seqs: Sequences, val: Sequences, classes: list[str], out: Path, resume: bool = False,
        log=print, stop_after: int = 0) -> dict:
    """Train on ``seqs``, choose the epoch on ``val`` (truth segmentation); checkpoints in ``out``.

    ``stop_after`` > 0 stops once that many epochs are done (as an interruption would; ``resume`` continues)."""
    import torch

    torch.set_num_threads(cfg.threads)
    C = len(classes)
    torch.manual_seed(cfg.seed)
    net = build_net(C, cfg.architecture)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(batches(seqs, np.arange(len(seqs.label)), cfg.batch_size))
    total = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps_per_epoch // 2)) * 0.5 * (1 + math.cos(math.pi * s / total)))
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.pt"
    start, history, best = 0, [], {"acc": -1.0, "epoch": -1}
    if resume and ckpt.exists():
        st = load_checkpoint(ckpt)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        torch.set_rng_state(st["torch_rng"])
        start, history, best = int(st["epoch"]), json.loads(st["history"]), json.loads(st["best"])
        log(f"resumed after epoch {start}")
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing, ignore_index=-100)
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        net.train()
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(seqs.label))
        bl = batches(seqs, order, cfg.batch_size)
        np.random.default_rng([cfg.seed, epoch, 1]).shuffle(bl)
        tot = 0.0
        hidden = np.random.default_rng([cfg.seed, epoch, 2]).random(len(seqs.label)) < cfg.crop_dropout
        for idx in bl:
            cls, geo, pair, mask, lab, crop = _batch(seqs, idx, {i for i in idx if hidden[i]})
            z = net(cls, geo, pair, mask, crop)
            loss = loss_fn(z.reshape(-1, z.shape[-1]), lab.reshape(-1))
            if seqs.soft and cfg.distill:
                soft = -(_soft_batch(seqs, idx, z.shape[1]) * z.log_softmax(-1)).sum(-1)
                loss = (1 - cfg.distill) * loss + cfg.distill * (soft * mask).sum() / mask.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            tot += float(loss.detach())
        probs = predict(net, val)
        row = {"epoch": epoch + 1, "loss": tot / len(bl), "val_truth": accuracy(probs, val, "truth", C),
               "val_pipeline": accuracy(probs, val, "pipeline", C), "seconds": round(time.perf_counter() - t0, 1)}
        history.append(row)
        log(json.dumps(row))
        if row["val_truth"]["model"] > best["acc"]:
            best = {"acc": row["val_truth"]["model"], "epoch": epoch + 1}
            save_checkpoint({k: v.detach().clone() for k, v in net.state_dict().items()}, out / "best.pt")
        save_checkpoint({"model": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                         "torch_rng": torch.get_rng_state(), "epoch": epoch + 1, "history": json.dumps(history),
                         "best": json.dumps(best)}, ckpt)
        if stop_after and epoch + 1 >= stop_after:
            break
    return {"history": history, "best": best, "classes": classes, "train_sequences": len(seqs.label),
            "train_symbols": int(sum(len(x) for x in seqs.label)), "val_sequences": len(val.label)}


def ship(cfg: ContextConfig, out: Path, result: dict, config_path: str, dest: Path | None = None) -> Path:
    """Write the best epoch's weights as ``<cfg.name>.safetensors`` (``symbol-context``) + card into the shipped
    weights folder."""
    from datetime import datetime, timezone

    from safetensors.numpy import save_file

    state = load_checkpoint(out / "best.pt")
    tensors = {k: v.numpy().astype(np.float32) for k, v in state.items()}
    dest = dest or shipped_dir() / f"{cfg.name}.safetensors"
    tmp = dest.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    atomic_write_bytes(dest, tmp.read_bytes())
    tmp.unlink()
    best_row = next(r for r in result["history"] if r["epoch"] == result["best"]["epoch"])
    card = {
        "format": "inkmath-weights/1", "name": cfg.name,
        "purpose": purpose_text(cfg),
        "model": cfg.model, "kind": "symbol-context", "classifier": cfg.classifier,
        "architecture": asdict(cfg.architecture) | {"geo_features": GEO_FEATURES, "pair_features": PAIR_FEATURES},
        "parameters": int(sum(v.size for v in tensors.values())),
        "classes": result["classes"], "junk_index": len(result["classes"]),
        "config": config_path,
        "train_command": f"python -m inkmath.training.recipes.context --config {config_path} --ship",
        "recipe": asdict(cfg),
        "data": _data_text(cfg, result),
        "metrics": {"split": "validation: " + ("WAP-like renderings of the CROHME 2011-2013 test InkML read by the image "
                                               "reader (image_hypotheses)" if cfg.reads_images else
                                               "CROHME 2011-2013 test InkML (undistorted)"),
                    "epoch": best_row["epoch"],
                    "truth_segmentation": best_row["val_truth"], "pipeline_segmentation": best_row["val_pipeline"]},
        "history": result["history"],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_text(dest.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
    return dest


def purpose_text(cfg: ContextConfig) -> str:
    """The card's ``purpose``: what the model reads (the readers' use of it is ``symbols.READER_CONTEXT_MODELS`` and
    ``IMAGE_CONTEXT_MODELS``)."""
    what = ("an expression from strokes or of an image's grouping" if cfg.reads_strokes and cfg.reads_images else
            "an image's grouping" if cfg.reads_images else "an expression from strokes")
    return (f"a symbol context model: re-reads every symbol of {what} in context" +
            (" and tells a mis-segmented one" if cfg.reads_images or cfg.use_pipeline_shards else "") +
            (f"; distilled from {', '.join(cfg.teachers)}" if cfg.teachers and cfg.distill else ""))


def _data_text(cfg: ContextConfig, result: dict) -> str:
    """The card's account of the training data: the stroke reader's tables, the image reader's, or both."""
    parts = []
    if cfg.reads_strokes:
        parts.append(f"through the shipped `{cfg.classifier}` classifier: truth segmentation" +
                     (" and the pipeline's segmentation" if cfg.use_pipeline_shards else ""))
    if cfg.reads_images:
        parts.append(f"drawn as WAP-like bitmaps and read by the image reader with `{cfg.classifier}` "
                     f"(image_hypotheses): its truth segmentation (parts {cfg.use_image_truth_shards} of "
                     f"{cfg.image_shards}) and its own groupings, junk where no truth symbol by pixels (parts "
                     f"{cfg.use_image_pipeline_shards}" + (", those with junk only" if cfg.image_pipeline_junk_only
                                                          else "") + ")")
    return (f"CROHME 2014 training InkML read under random distortion (strength {cfg.strength}, seeds "
            f"{cfg.train_seeds}) " + "; ".join(parts) +
            f", {result['train_sequences']} sequences, {result['train_symbols']} symbols" +
            (f"; targets: the labels (weight {1 - cfg.distill:g}) and the mean probabilities of "
             f"{', '.join(cfg.teachers)} (weight {cfg.distill:g})" if cfg.teachers and cfg.distill else ""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train the symbol context model")
    ap.add_argument("--config", default="configs/symbol-context.yaml")
    ap.add_argument("--out", default=None, help="the run's folder (default: runs/<the recipe's name>)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--ship", action="store_true", help="write the best weights + card to src/inkmath/weights")
    a = ap.parse_args(argv)
    cfg = load_config(a.config, {"limit": a.limit, "epochs": a.epochs})
    out = Path(a.out or Path("runs") / cfg.name)
    res = train(cfg, out, resume=a.resume)
    if a.ship:
        print(ship(cfg, out, res, a.config))
    print(json.dumps(res["best"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
