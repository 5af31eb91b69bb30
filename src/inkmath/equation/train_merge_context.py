"""Recipe for the stroke-merge model that reads the whole drawing (``merge_context``).

    INKMATH_DATA=../shared/data python -m inkmath.equation.train_merge_context --config configs/stroke-merge.yaml \
        [--run runs/stroke-merge] [--limit N] [--out FILE]

Data: every CROHME 2014 training expression with two or more strokes; the target of each consecutive pair is 1 when
both strokes are in one truth traceGroup. Validation: the same pairs of the 2011-2013 test ink. Expressions are
batched by stroke count in a seeded order; each epoch may see the ink's coordinates stretched in x by up to
exp(+-stretch), seeded by the epoch. After every epoch an atomic checkpoint (weights, optimiser, epoch, RNG states,
history) is written, and a run resumes from it exactly. The weights are written with their card.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from inkmath.equation.merge_context import MODEL_KIND, N_PAIR, drawing_features

DEFAULTS = {"name": "stroke-merge", "model": MODEL_KIND,
            "purpose": "the expression reader's segmentation: do two consecutive strokes belong to one symbol?",
            "architecture": {"dim": 64, "layers": 2, "heads": 4, "ff": 128}, "head": 64, "dropout": 0.1,
            "epochs": 12, "batch": 32, "lr": 0.002, "weight_decay": 0.0001, "stretch": 0.0, "seed": 0,
            "threads": 2, "limit": None}


def expressions(source: Path, subset: str | None, limit: int | None = None):
    """[(strokes, targets (n - 1,))] of the expressions with 2+ non-empty strokes and truth groups."""
    from inkmath.data.crohme import iter_inkml

    out = []
    for expr in iter_inkml(source, subset=subset):
        if limit is not None and len(out) >= limit:
            break
        strokes = [np.asarray(s, np.float64)[:, :2] for s in expr.strokes]
        if len(strokes) < 2 or any(len(s) == 0 for s in strokes) or not expr.groups:
            continue
        owner = {sid: g for g, grp in enumerate(expr.groups) for sid in grp.stroke_ids}
        y = np.asarray([float(owner.get(i, -1) == owner.get(i + 1, -2)) for i in range(len(strokes) - 1)],
                       np.float32)
        out.append((strokes, y))
    return out


def encode(data, stretch: float = 0.0, rng: np.random.Generator | None = None):
    """Per expression: (pairs, geo, pair, targets); with ``stretch``, each drawing scaled in x by a seeded factor."""
    out = []
    for strokes, y in data:
        if stretch > 0 and rng is not None:
            f = float(np.exp(rng.uniform(-stretch, stretch)))
            strokes = [s * np.array([f, 1.0]) for s in strokes]
        out.append((*drawing_features(strokes), y))
    return out


def collate(enc, idx):
    import torch

    from inkmath.equation.context_model import GEO_FEATURES, PAIR_FEATURES

    n = max(len(enc[i][0]) for i in idx)
    B = len(idx)
    pairs = np.zeros((B, n, N_PAIR), np.float32)
    geo = np.zeros((B, n, GEO_FEATURES), np.float32)
    pair = np.zeros((B, n, n, PAIR_FEATURES), np.float32)
    present = np.zeros((B, n), bool)
    y = np.full((B, max(n - 1, 1)), -1.0, np.float32)
    for k, i in enumerate(idx):
        p, g, pg, t = enc[i]
        m = len(p)
        pairs[k, :m], geo[k, :m], pair[k, :m, :m], present[k, :m], y[k, :m - 1] = p, g, pg, True, t
    return tuple(torch.from_numpy(a) for a in (pairs, geo, pair, present, y))


def build_net(cfg: dict):
    import torch
    from torch import nn

    from inkmath.equation.context_model import GEO_FEATURES, PAIR_FEATURES
    from inkmath.equation.transformer import torch_blocks

    a = cfg["architecture"]
    d, L, H = int(a["dim"]), int(a["layers"]), int(a["heads"])

    class MergeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.pair_in = nn.Linear(N_PAIR, d)
            self.geo_in = nn.Linear(GEO_FEATURES, d)
            self.pair1 = nn.Linear(PAIR_FEATURES, 16)
            self.pair2 = nn.Linear(16, L * H)
            self.blocks = torch_blocks(d, L, H, int(a["ff"]), float(cfg["dropout"]))
            self.ln_out = nn.LayerNorm(d)
            self.head1 = nn.Linear(2 * d + N_PAIR, int(cfg["head"]))
            self.head2 = nn.Linear(int(cfg["head"]), 1)
            self.register_buffer("mean", torch.zeros(N_PAIR))
            self.register_buffer("std", torch.ones(N_PAIR))

        def forward(self, pairs, geo, pair, present):
            x = (pairs - self.mean) / self.std
            h = self.pair_in(x) + self.geo_in(geo)
            hb = self.pair2(torch.relu(self.pair1(pair)))
            for li, blk in enumerate(self.blocks):
                h = blk(h, hb[..., li * H:(li + 1) * H].permute(0, 3, 1, 2), present)
            h = self.ln_out(h)
            z = torch.cat([h[:, :-1], h[:, 1:], x[:, :-1]], dim=-1)
            return self.head2(torch.relu(self.head1(z)))[..., 0]

    return MergeNet()


def batches(enc, size: int, rng: np.random.Generator):
    order = sorted(range(len(enc)), key=lambda i: (len(enc[i][0]), i))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    for g in rng.permutation(len(groups)):
        yield groups[g]


def accuracy(net, enc, size: int = 64) -> float:
    import torch

    right = total = 0
    with torch.no_grad():
        for s in range(0, len(enc), size):
            idx = list(range(s, min(s + size, len(enc))))
            pairs, geo, pair, present, y = collate(enc, idx)
            z = net(pairs, geo, pair, present)
            if z.shape[1] < y.shape[1]:
                y = y[:, :z.shape[1]]
            m = y >= 0
            right += int(((z > 0).float() == y)[m].sum())
            total += int(m.sum())
    return right / max(total, 1)


def fit(train, val, cfg: dict, run: Path, log=print, stop_after: int | None = None):
    """Train, checkpointing into ``run`` after every epoch and resuming from it; returns (net, history)."""
    import torch

    from inkmath.training.checkpoint import load_checkpoint, save_checkpoint

    torch.set_num_threads(int(cfg["threads"]))
    torch.manual_seed(int(cfg["seed"]))
    net = build_net(cfg)
    base = encode(train)
    allp = np.concatenate([p[:-1] for p, *_ in base])
    net.mean.copy_(torch.from_numpy(allp.mean(0)))
    net.std.copy_(torch.from_numpy(allp.std(0) + 1e-3))
    val_enc = encode(val)
    opt = torch.optim.AdamW(net.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"]))
    rng = np.random.default_rng(int(cfg["seed"]))
    ckpt = Path(run) / "checkpoint.pt"
    start, history = 0, []
    if ckpt.is_file():
        st = load_checkpoint(ckpt)
        if json.loads(st["config"]) != cfg:
            raise SystemExit(f"{ckpt} was trained with another recipe; delete {run} to start again")
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        start = int(st["epoch"])
        rng.bit_generator.state = json.loads(st["rng"])
        torch.set_rng_state(st["torch_rng"])
        history = json.loads(st["history"])
        log(f"resumed from {ckpt} after epoch {start}")
    epochs = int(cfg["epochs"])
    for epoch in range(start, epochs if stop_after is None else min(stop_after, epochs)):
        lr = float(float(cfg["lr"]) * 0.5 * (1 + np.cos(np.pi * epoch / epochs)))
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.time()
        enc = base if float(cfg["stretch"]) <= 0 else encode(
            train, float(cfg["stretch"]), np.random.default_rng([int(cfg["seed"]), epoch]))
        net.train()
        total = count = 0.0
        for idx in batches(enc, int(cfg["batch"]), rng):
            pairs, geo, pair, present, y = collate(enc, idx)
            z = net(pairs, geo, pair, present)
            m = y >= 0
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z[m], y[m])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * int(m.sum())
            count += int(m.sum())
        net.eval()
        history.append({"epoch": epoch + 1, "loss": round(total / max(count, 1), 5), "lr": round(lr, 6),
                        "val_pair_accuracy": round(accuracy(net, val_enc), 5) if val_enc else None})
        log(json.dumps(history[-1]) + f" {time.time() - t0:.0f} s")
        save_checkpoint({"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
                         "rng": json.dumps(rng.bit_generator.state), "torch_rng": torch.get_rng_state(),
                         "history": json.dumps(history), "config": json.dumps(cfg)}, ckpt)
    net.eval()
    return net, history


def tensors_of(net) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().astype(np.float32).copy() for k, v in net.state_dict().items()}


def main(argv: list[str] | None = None) -> int:
    import datetime as dt

    from safetensors.numpy import save

    from inkmath.atomic import atomic_write_bytes, atomic_write_text
    from inkmath.data import data_dir
    from inkmath.equation.mlp import read_recipe
    from inkmath.equation.segment import MERGE_MODEL
    from inkmath.weights import FORMAT

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/stroke-merge.yaml", help="the recipe (YAML)")
    ap.add_argument("--run", type=Path, default=Path("runs/stroke-merge"), help="checkpoint folder (resumed from)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training expressions")
    ap.add_argument("--out", type=Path, default=MERGE_MODEL)
    args = ap.parse_args(argv)
    cfg = read_recipe(args.config, DEFAULTS, MODEL_KIND)
    if args.limit is not None:
        cfg["limit"] = args.limit
    crohme = Path(data_dir()) / "crohme"
    t0 = time.time()
    train = expressions(crohme / "crohme2014_train_inkml.tar.xz", "TrainINKML", cfg["limit"])
    val = expressions(crohme / "crohme2011-2013_test_inkml.tar.xz", None, cfg["limit"])
    print(f"data: {len(train)} training and {len(val)} validation expressions, {time.time() - t0:.0f} s", flush=True)
    net, history = fit(train, val, cfg, args.run, log=lambda m: print(m, flush=True))
    tensors = tensors_of(net)
    meta = {"model": MODEL_KIND, "architecture": json.dumps(cfg["architecture"])}
    atomic_write_bytes(args.out, save(tensors, metadata=meta))
    a = cfg["architecture"]
    card = {"format": FORMAT, "name": cfg["name"], "purpose": cfg["purpose"], "model": cfg["model"],
            "architecture": f"each stroke: its pair features with the next ({N_PAIR}) + its geometry through a "
                            f"transformer ({a['layers']} layers, dim {a['dim']}, {a['heads']} heads, ff {a['ff']}, "
                            f"attention biased by pair geometry); per consecutive pair: both strokes' vectors + "
                            f"the pair's features -> {cfg['head']} -> 1 (ReLU, sigmoid); numpy inference",
            "parameters": int(sum(v.size for k, v in tensors.items() if k not in ("mean", "std"))),
            "inputs": "merge_context.drawing_features", "outputs": ["same symbol"],
            "config": str(args.config),
            "train_command": f"python -m inkmath.equation.train_merge_context --config {args.config}",
            "data": {"train": f"CROHME 2014 training InkML, {len(train)} expressions, "
                              f"{sum(len(y) for _, y in train)} consecutive stroke pairs",
                     "val": f"CROHME 2011-2013 test InkML, {len(val)} expressions"},
            "metrics": {"val_pair_accuracy": history[-1]["val_pair_accuracy"], "history": history},
            "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
    print(json.dumps(card["metrics"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
