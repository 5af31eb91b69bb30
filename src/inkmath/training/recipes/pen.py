"""Recipe for the pen model shipped as ``weights/pen-symbols.safetensors`` (+ its JSON card; ``pen_symbols.py``).

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.pen --config configs/pen-symbols.yaml \
        [--out runs/pen-symbols] [--resume] [--limit N] [--epochs N] [--ship]

Data: every truth symbol of the CROHME 2014 training InkML (its strokes, in writing order, as ``pen_features``
reads them), about 86,000; each batch is turned, stretched and sheared at random and its points jittered.
Validation (reported, not used to choose): the truth symbols of the CROHME 2011-2013 test InkML. The schedule is
one cycle, so the last epoch's weights ship. Every epoch ends with an atomic checkpoint (model, optimiser,
scheduler, RNG state, history); ``--resume`` continues from it and ends with the same weights as an uninterrupted
run.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.reader.pen_symbols import GROUP_FEATURES, PEN_MODEL, POINTS, STEP_FEATURES, build_pen_net, pen_features
from inkmath.data import cached_arrays, data_dir
from inkmath.data.crohme import crohme_vocab, iter_inkml, normalize_label, split_archive, truth_symbols
from inkmath.training.checkpoint import atomic_write_bytes, atomic_write_text, load_checkpoint, save_checkpoint
from inkmath.weights import shipped_dir

VAL_SPLITS = ("test2013", "test2012", "test2011")  # the CROHME 2011-2013 test sets: validation


@dataclass
class PenConfig:
    model: str = "pen-conv1d"  # build_pen_net
    name: str = PEN_MODEL
    train: str = "train"  # a CROHME split (inkmath.data.crohme.SPLITS)
    width: int = 64
    hidden: int = 256
    epochs: int = 15
    batch_size: int = 256
    lr: float = 0.003  # the one cycle's peak
    warmup: float = 0.15  # share of the steps spent rising to it
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    turn: float = 0.17  # radians either way
    stretch: float = 0.15  # log-scale either way, x and y apart
    shear: float = 0.15
    jitter: float = 0.01  # of the box's longer side, per point
    seed: int = 0
    threads: int = 2
    limit: int | None = None  # expressions per split (tests)


def load_config(path: str | None, overrides: dict) -> PenConfig:
    from inkmath.training.config import recipe_values

    return PenConfig(**recipe_values(path, overrides, PenConfig.__dataclass_fields__))


# -------------------------------------------------------------------------------------------------------- data
def pen_arrays(split: str, limit: int | None = None) -> dict[str, np.ndarray]:
    """{"steps", "group", "labels", "ids"} of every truth symbol of a CROHME split, in the order of
    ``load_crohme_arrays`` (decoded once, then read from the cache)."""
    from inkmath import ink

    archive, subset = split_archive(split, data_dir())

    def build() -> dict[str, np.ndarray]:
        steps, group, labels, ids = [], [], [], []
        vocab = crohme_vocab()
        for n, expr in enumerate(iter_inkml(archive, subset)):
            if limit is not None and n >= limit:
                break
            strokes, symbols = truth_symbols(expr)
            if not symbols:
                continue
            s, f = pen_features([own for _, own in symbols], ink.normalization_scale(strokes))
            steps.extend(s)
            group.extend(f)
            labels += [vocab.index(normalize_label(expr.groups[k].label)) for k, _ in symbols]
            ids += [f"{expr.id}/{k}" for k, _ in symbols]
        if not labels:
            raise InkmathError(f"No symbols found in {archive} (folder {subset}); is it a CROHME InkML archive?")
        return {"steps": np.stack(steps), "group": np.stack(group), "labels": np.array(labels, np.int64),
                "ids": np.array(ids)}

    extra = f"pen-v1|{subset}|{limit}|{POINTS}|{STEP_FEATURES}|{GROUP_FEATURES}"
    return cached_arrays(f"crohme-pen-{split}", [archive], extra, build)


def _augment(steps, group, cfg: PenConfig, gen):
    """The batch turned, stretched and sheared (one random map per symbol), its points jittered."""
    import torch

    B = steps.shape[0]

    def uniform(spread):
        return (torch.rand(B, generator=gen) * 2 - 1) * spread

    turn, sx, sy, shear = uniform(cfg.turn), uniform(cfg.stretch).exp(), uniform(cfg.stretch).exp(), uniform(cfg.shear)
    c, s = turn.cos(), turn.sin()
    A = torch.stack([torch.stack([c * sx, -s * sy + shear * sx], 1), torch.stack([s * sx, c * sy], 1)], 1)
    steps, group = steps.clone(), group.clone()
    steps[:, :, 0:2] = torch.einsum("bij,btj->bti", A, steps[:, :, 0:2])
    steps[:, :, 2:4] = torch.einsum("bij,btj->bti", A, steps[:, :, 2:4])
    real = steps[:, :, STEP_FEATURES:STEP_FEATURES + 1]
    steps[:, :, 0:4] += torch.randn(steps[:, :, 0:4].shape, generator=gen) * cfg.jitter * real
    group[:, 0] *= sx
    group[:, 1] *= sy
    group[:, 2] += (sx / sy).log()
    return steps, group


def _accuracy(net, data: dict) -> tuple[int, int]:
    import torch

    net.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(data["labels"]), 2048):
            z = net(torch.from_numpy(data["steps"][i:i + 2048]), torch.from_numpy(data["group"][i:i + 2048]))
            right += int((z.argmax(1).numpy() == data["labels"][i:i + 2048]).sum())
    net.train()
    return right, len(data["labels"])


# ------------------------------------------------------------------------------------------------------- train
def train(cfg: PenConfig, out: Path, resume: bool = False, log=print) -> dict:
    """``fit`` on the recipe's CROHME data."""
    val = {s: pen_arrays(s, cfg.limit) for s in VAL_SPLITS}
    return fit(cfg, pen_arrays(cfg.train, cfg.limit), val, list(crohme_vocab().names), out, resume, log)


def fit(cfg: PenConfig, train: dict, val: dict[str, dict], classes: list[str], out: Path, resume: bool = False,
        log=print, stop_after: int = 0) -> dict:
    """Train on ``train`` ({"steps", "group", "labels"}, as ``pen_arrays``), report on each of ``val``'s sets;
    checkpoints in ``out``. ``stop_after`` > 0 stops once that many epochs are done (as an interruption would;
    ``resume`` continues)."""
    import torch
    from torch.nn import functional as F

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    net = build_pen_net(len(classes), cfg.width, cfg.hidden)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(train["labels"])
    per_epoch = n // cfg.batch_size
    if per_epoch < 1:
        raise InkmathError(f"{n} training symbols are fewer than one batch of {cfg.batch_size}; lower batch_size")
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=per_epoch * cfg.epochs, pct_start=cfg.warmup)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_t, group_t, labels_t = (torch.from_numpy(train[k]) for k in ("steps", "group", "labels"))
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.pt"
    start, history = 0, []
    if resume and ckpt.exists():
        st = load_checkpoint(ckpt)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        sched.load_state_dict(st["sched"])
        gen.set_state(st["gen"])
        torch.set_rng_state(st["torch_rng"])  # dropout's
        start, history = int(st["epoch"]), json.loads(st["history"])
        log(f"resumed after epoch {start}")
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        order = torch.from_numpy(np.random.default_rng([cfg.seed, epoch]).permutation(n))
        total = 0.0
        for b in range(per_epoch):
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            steps, group = _augment(steps_t[idx], group_t[idx], cfg, gen)
            loss = F.cross_entropy(net(steps, group), labels_t[idx], label_smoothing=cfg.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        counts = {s: _accuracy(net, v) for s, v in val.items()}
        right, seen = sum(r for r, _ in counts.values()), sum(m for _, m in counts.values())
        row = {"epoch": epoch + 1, "loss": round(total / per_epoch, 4), "val_top1": round(right / seen, 4),
               "val_symbols": seen, **{f"{s}_top1": round(r / m, 4) for s, (r, m) in counts.items()},
               "seconds": round(time.perf_counter() - t0, 1)}
        history.append(row)
        log(json.dumps(row))
        save_checkpoint({"model": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                         "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "epoch": epoch + 1,
                         "history": json.dumps(history)}, ckpt)
        if stop_after and epoch + 1 >= stop_after:
            break
    return {"history": history, "classes": classes, "train_symbols": n,
            "class_counts": np.bincount(train["labels"], minlength=len(classes)).tolist()}


def ship(cfg: PenConfig, out: Path, result: dict, config_path: str, dest: Path | None = None) -> Path:
    """Write the last epoch's weights as ``<cfg.name>.safetensors`` + card into the shipped weights folder."""
    from datetime import datetime, timezone

    from safetensors.numpy import save_file

    state = load_checkpoint(out / "checkpoint.pt")
    if int(state["epoch"]) < cfg.epochs:
        raise InkmathError(f"The run in {out} stopped after epoch {state['epoch']} of {cfg.epochs}; finish it with "
                           f"--resume before --ship")
    tensors = {k: v.numpy() for k, v in state["model"].items()}
    dest = dest or shipped_dir() / f"{cfg.name}.safetensors"
    tmp = dest.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    atomic_write_bytes(dest, tmp.read_bytes())
    tmp.unlink()
    last = result["history"][-1]
    card = {
        "format": "inkmath-weights/1", "name": cfg.name, "kind": "pen-symbols", "model": cfg.model,
        "purpose": "the stroke reader's second symbol classifier: reads a group of drawn ink from its pen path; its "
                   "reading is evidence added to the context models' (pen_symbols.fuse)",
        "architecture": {"width": cfg.width, "hidden": cfg.hidden, "points": POINTS, "step_features": STEP_FEATURES,
                         "group_features": GROUP_FEATURES},
        "parameters": int(sum(v.size for v in tensors.values())),
        "classes": result["classes"],
        "class_counts": result["class_counts"],  # of the training symbols: the prior ``PenModel.evidence`` divides out
        "config": config_path,
        "train_command": f"python -m inkmath.training.recipes.pen --config {config_path} --ship",
        "recipe": asdict(cfg),
        "data": f"the truth symbols of the CROHME 2014 training InkML ({result['train_symbols']}), augmented per batch",
        "metrics": {"top1": last["val_top1"], "symbols": last["val_symbols"],
                    "split": "validation: the truth symbols of the CROHME 2011-2013 test InkML", "epoch": last["epoch"]},
        "history": result["history"],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_text(dest.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train the pen model (a symbol read from its pen path)")
    ap.add_argument("--config", default="configs/pen-symbols.yaml")
    ap.add_argument("--out", default=None, help="the run's folder (default: runs/<the recipe's name>)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="expressions per split (a quick run)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--ship", action="store_true", help="write the last epoch's weights + card to src/inkmath/weights")
    a = ap.parse_args(argv)
    try:
        cfg = load_config(a.config, {"limit": a.limit, "epochs": a.epochs})
        out = Path(a.out or Path("runs") / cfg.name)
        result = train(cfg, out, resume=a.resume)
        if a.ship:
            print(f"shipped {ship(cfg, out, result, a.config)}")
    except InkmathError as e:
        raise SystemExit(f"error: {e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
