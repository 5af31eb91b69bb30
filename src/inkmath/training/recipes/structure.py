"""Recipe for the structure model shipped as ``weights/structure.safetensors`` (+ its card).

    INKMATH_DATA=/work/shared/data python -m inkmath.training.recipes.structure [--config configs/structure.yaml]
        [--run runs/<config stem>] [--limit N]

Every CROHME training expression whose MathML and traceGroups make a layout tree (``structure_truth``) gives, for each
symbol, its true parent and relation. The model (``structure_model``) scores every (parent, child, relation) of the
expression; each child's scores are normalised over all its candidates and trained by cross-entropy against the
truth. Expressions are batched by size; batch order and initial weights are seeded. A checkpoint is written
atomically after every epoch (weights, optimiser, epoch, random state) and training resumes from it exactly. The
validation figures are on the 2011-2013 test ink: the share of symbols whose best (parent, relation) is right, and
the share of expressions whose decoded tree is the truth's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from inkmath.equation.reader.structure_model import (
    N_GEOMETRY, ROOT_TOKEN, UNKNOWN_TOKEN, WEIGHTS, StructureModel, pair_features, relation_mask,
)
from inkmath.equation.synth.structure import SynthConfig, donor_pool, synthesize
from inkmath.equation.reader.structure_tree import RELATIONS
from inkmath.atomic import atomic_write_bytes, atomic_write_text
from inkmath.data import data_dir
from inkmath.data.crohme import iter_inkml
from inkmath.equation.core.transformer import torch_blocks
from inkmath.equation.core.tree import Box
from inkmath.equation.reader.context_model import GEO_FEATURES, geometry_features, PAIR_FEATURES
from inkmath.equation.reader.structure_model import reference_height
from inkmath.equation.synth.structure_truth import symbol_layout, Unlabelled
from inkmath.training.checkpoint import load_checkpoint, save_checkpoint

CONFIG = Path("configs/structure.yaml")
DEFAULTS = {"model": "structure-mlp", "embed": 16, "hidden": 128, "hidden2": 64, "epochs": 12, "batch": 32,
            "lr": 0.003, "weight_decay": 1e-5, "seed": 0, "threads": 2, "min_token_count": 3,
            "epoch_val": 300, "encoder": None, "dropout": 0.0, "jitter": 0.0, "stretch": 0.0,
            "synthetic": None}


def labelled(source: Path, subset: str | None = None, limit: int | None = None, reasons: dict | None = None):
    """[(boxes, tokens, parents, relations)] of the expressions that make a layout tree; ``reasons`` counts why the
    others do not."""
    out = []
    for expr in iter_inkml(source, subset=subset):
        if limit is not None and len(out) >= limit:
            break
        try:
            lay = symbol_layout(expr)
        except Unlabelled as e:
            if reasons is not None:
                key = str(e).split("'")[0].strip()
                reasons[key] = reasons.get(key, 0) + 1
            continue
        out.append(([h.box for h in lay.hyps], [h.candidates[0].token for h in lay.hyps], lay.parents,
                    lay.relations))
    return out


def targets(parents: list, relations: list) -> np.ndarray:
    """Each child's true (parent row, relation) as one index into its flattened (n + 1) x len(RELATIONS) scores."""
    return np.asarray([(0 if p is None else p + 1) * len(RELATIONS) + RELATIONS.index(r or "right")
                       for p, r in zip(parents, relations)], np.int64)


def encode(data, index: dict[str, int]):
    """Per expression: pair features, token ids, relation mask, targets, and the symbols' own geometry and pairwise
    geometry (the encoder's inputs, ``context_model.geometry_features``)."""
    unk = index[UNKNOWN_TOKEN]
    return [(pair_features(b, t), np.asarray([index.get(x, unk) for x in t], np.int64), relation_mask(t),
             targets(p, r), *geometry_features(np.asarray([[x.x0, x.y0, x.x1, x.y1] for x in b], np.float64)))
            for b, t, p, r in data]


def distorted(data, jitter: float, stretch: float, rng: np.random.Generator):
    """The expressions with every box edge moved by up to ``jitter`` reference heights and the whole expression
    stretched in x by a factor exp(U(-stretch, stretch)) (seeded): other writers' spacing and proportions."""
    out = []
    for boxes, tokens, parents, relations in data:
        H = reference_height(boxes, tokens)
        a = np.asarray([[b.x0, b.y0, b.x1, b.y1] for b in boxes], np.float64)
        a[:, [0, 2]] *= float(np.exp(rng.uniform(-stretch, stretch)))
        a += rng.uniform(-jitter, jitter, a.shape) * H
        a[:, 2] = np.maximum(a[:, 2], a[:, 0] + 1e-3 * H)
        a[:, 3] = np.maximum(a[:, 3], a[:, 1] + 1e-3 * H)
        out.append(([Box(*map(float, r)) for r in a], tokens, parents, relations))
    return out


def batches(enc, batch: int, rng: np.random.Generator):
    """Expressions grouped by size into batches of ``batch``, in a seeded random order."""
    order = sorted(range(len(enc)), key=lambda i: (len(enc[i][1]), i))
    groups = [order[i:i + batch] for i in range(0, len(order), batch)]
    for g in rng.permutation(len(groups)):
        yield groups[g]


def collate(enc, idx, root_id: int):
    import torch

    n = max(len(enc[i][1]) for i in idx)
    B = len(idx)
    geo = np.zeros((B, n, GEO_FEATURES), np.float32)
    pair = np.zeros((B, n, n, PAIR_FEATURES), np.float32)
    present = np.zeros((B, n), bool)
    feats = np.zeros((B, n + 1, n, N_GEOMETRY), np.float32)
    pid = np.full((B, n + 1), root_id, np.int64)
    cid = np.zeros((B, n), np.int64)
    mask = np.zeros((B, n + 1, n, len(RELATIONS)), bool)
    tgt = np.full((B, n), -100, np.int64)
    for k, i in enumerate(idx):
        f, ids, m, t, g, pg = enc[i]
        m_ = len(ids)
        geo[k, :m_], pair[k, :m_, :m_], present[k, :m_] = g, pg, True
        feats[k, :m_ + 1, :m_] = f
        pid[k, 1:m_ + 1] = ids
        cid[k, :m_] = ids
        mask[k, :m_ + 1, :m_] = m
        # a target as an index into the padded (n + 1) x R layout
        rows, rel = np.divmod(t, len(RELATIONS))
        tgt[k, :m_] = rows * len(RELATIONS) + rel
    return tuple(torch.from_numpy(a) for a in (feats, pid, cid, mask, tgt, geo, pair, present))


class Net:
    """The torch twin of ``StructureModel`` (same tensors, same arithmetic)."""

    def __init__(self, n_tokens: int, cfg: dict):
        import torch

        self.enc = cfg.get("encoder") or None
        d, h1, h2 = (self.enc["dim"] if self.enc else cfg["embed"]), cfg["hidden"], cfg["hidden2"]
        self.embed = torch.nn.Embedding(n_tokens, d)
        self.l1 = torch.nn.Linear(N_GEOMETRY + 2 * d, h1)
        self.l2 = torch.nn.Linear(h1, h2)
        self.l3 = torch.nn.Linear(h2, len(RELATIONS))
        self.modules = torch.nn.ModuleDict({"embed": self.embed, "l1": self.l1, "l2": self.l2, "l3": self.l3})
        if self.enc:
            L, H = int(self.enc["layers"]), int(self.enc["heads"])
            self.modules.update({
                "geo_in": torch.nn.Linear(GEO_FEATURES, d), "pair1": torch.nn.Linear(PAIR_FEATURES, 16),
                "pair2": torch.nn.Linear(16, L * H), "ln_out": torch.nn.LayerNorm(d),
                "blocks": torch_blocks(d, L, H, int(self.enc["ff"]), float(cfg["dropout"]))})
            self.root = torch.nn.Parameter(torch.zeros(d))
            self.modules["root"] = torch.nn.ParameterList([self.root])
        self.d = d

    def train(self, on: bool) -> None:
        self.modules.train(on)

    def vectors(self, pid, cid, geo, pair, present):
        """(parent rows' vectors (B, n + 1, d), children's vectors (B, n, d))."""
        import torch

        if not self.enc:
            return self.embed(pid), self.embed(cid)
        m = self.modules
        H = int(self.enc["heads"])
        after = self.enc.get("tokens", "input") == "after"
        x = m["geo_in"](geo) if after else self.embed(cid) + m["geo_in"](geo)
        hb = m["pair2"](torch.relu(m["pair1"](pair)))
        for li, blk in enumerate(m["blocks"]):
            x = blk(x, hb[..., li * H:(li + 1) * H].permute(0, 3, 1, 2), present)
        x = m["ln_out"](x)
        if after:
            x = x + self.embed(cid)
        return torch.cat([self.root.expand(x.shape[0], 1, -1), x], dim=1), x

    def logits(self, feats, pid, cid, mask, mean, std, geo=None, pair=None, present=None):
        import torch

        d = self.d
        w = self.l1.weight  # (h1, G + 2d)
        x = (feats - mean) / std
        vp, vc = self.vectors(pid, cid, geo, pair, present)
        h = (x @ w[:, :N_GEOMETRY].T + (vp @ w[:, N_GEOMETRY:N_GEOMETRY + d].T)[:, :, None]
             + (vc @ w[:, N_GEOMETRY + d:].T)[:, None] + self.l1.bias)
        z = self.l3(torch.relu(self.l2(torch.relu(h))))
        z = z.masked_fill(~mask, -1e9)
        B, P, N, R = z.shape
        return z.permute(0, 2, 1, 3).reshape(B, N, P * R)

    def tensors(self, mean, std) -> dict[str, np.ndarray]:
        def a(t):
            return t.detach().numpy().astype(np.float32).copy()
        out = {"mean": mean.astype(np.float32), "std": std.astype(np.float32), "embed": a(self.embed.weight),
               "w1": a(self.l1.weight.T), "b1": a(self.l1.bias), "w2": a(self.l2.weight.T), "b2": a(self.l2.bias),
               "w3": a(self.l3.weight.T), "b3": a(self.l3.bias)}
        if self.enc:
            out["root"] = a(self.root)
            for name in ("geo_in", "pair1", "pair2", "ln_out", "blocks"):
                out.update({f"{name}.{k}": a(v) for k, v in self.modules[name].state_dict().items()})
        return out

    def architecture(self) -> dict:
        return {"encoder": dict(self.enc)} if self.enc else {}


def evaluate(model: StructureModel, data) -> dict[str, float]:
    """Symbols whose best (parent, relation) is the truth's, and expressions whose decoded tree is the truth's."""
    right_edges = edges = right_trees = 0
    for boxes, tokens, parents, relations in data:
        lp = model.log_probs(boxes, tokens)
        best = lp.transpose(1, 0, 2).reshape(len(boxes), -1).argmax(1)
        right_edges += int((best == targets(parents, relations)).sum())
        edges += len(boxes)
        r = model.read(boxes, tokens)
        right_trees += r.parents == list(parents) and r.relations == list(relations)
    return {"edge_accuracy": right_edges / max(edges, 1), "tree_accuracy": right_trees / max(len(data), 1),
            "expressions": len(data), "symbols": edges}


def load_config(path: Path | None) -> dict:
    import yaml

    cfg = dict(DEFAULTS)
    if path is not None:
        cfg.update(yaml.safe_load(Path(path).read_text()) or {})
    return cfg


def fit(train, val, cfg: dict, run: Path, log=print,
        stop_after: int | None = None) -> tuple[StructureModel, list[dict]]:
    """Train on ``train`` (``labelled`` tuples), checkpointing into folder ``run`` after every epoch and resuming from
    it; returns the model and the per-epoch history (validation figures on ``val``). ``stop_after``: stop after that
    epoch as if interrupted (tests)."""
    import torch

    torch.set_num_threads(int(cfg["threads"]))
    counts: dict[str, int] = {}
    for _, toks, _, _ in train:
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
    vocab = [ROOT_TOKEN, UNKNOWN_TOKEN] + sorted(t for t, c in counts.items() if c >= cfg["min_token_count"])
    index = {t: i for i, t in enumerate(vocab)}
    enc = encode(train, index)
    allf = np.concatenate([f[1:].reshape(-1, N_GEOMETRY) for f, *_ in enc])
    mean, std = allf.mean(0), allf.std(0) + 1e-3
    mean[-1], std[-1] = 0.0, 1.0  # the first-symbol flag stays 0/1

    torch.manual_seed(int(cfg["seed"]))
    net = Net(len(vocab), cfg)
    opt = torch.optim.Adam(net.modules.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"]))
    epochs = int(cfg["epochs"])
    ckpt = Path(run) / "checkpoint.pt"
    start = 0
    rng = np.random.default_rng(int(cfg["seed"]))
    history: list[dict] = []
    if ckpt.is_file():
        st = load_checkpoint(ckpt)
        if st["vocab"] != vocab or json.loads(st["config"]) != cfg:
            raise SystemExit(f"{ckpt} was trained on other data or another recipe; delete {run} to start again")
        net.modules.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        start = int(st["epoch"])
        rng.bit_generator.state = json.loads(st["rng"])
        torch.set_rng_state(st["torch_rng"])
        history = json.loads(st["history"])
        log(f"resumed from {ckpt} after epoch {start}")
    mt, sd = torch.from_numpy(mean.astype(np.float32)), torch.from_numpy(std.astype(np.float32))
    synth = SynthConfig(**cfg["synthetic"]) if cfg.get("synthetic") else None
    pool = donor_pool(train) if synth is not None else None
    for epoch in range(start, epochs if stop_after is None else min(stop_after, epochs)):
        lr = float(float(cfg["lr"]) * 0.5 * (1 + np.cos(np.pi * epoch / epochs)))
        for g in opt.param_groups:
            g["lr"] = lr
        t1, total, count = time.time(), 0.0, 0
        epoch_enc, epoch_data, made = enc, train, []
        if synth is not None:  # fresh synthetic expressions each epoch (structure_synth), seeded by it
            made = synthesize(train, round(synth.share * len(train)), np.random.default_rng([synth.seed, epoch]),
                              pool)
            epoch_data = train + made
        if float(cfg["jitter"]) > 0 or float(cfg["stretch"]) > 0:  # a fresh distortion each epoch, seeded by it
            aug = np.random.default_rng([int(cfg["seed"]), epoch])
            epoch_enc = encode(distorted(epoch_data, float(cfg["jitter"]), float(cfg["stretch"]), aug), index)
        elif made:
            epoch_enc = enc + encode(made, index)
        for idx in batches(epoch_enc, int(cfg["batch"]), rng):
            feats, pid, cid, mask, tgt, geo, pair, present = collate(epoch_enc, idx, index[ROOT_TOKEN])
            net.train(True)
            z = net.logits(feats, pid, cid, mask, mt, sd, geo, pair, present)
            loss = torch.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), tgt.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        net.train(False)
        model = StructureModel(net.tensors(mean, std), vocab, net.architecture())
        ev = evaluate(model, val[:int(cfg["epoch_val"])]) if val else {}  # a first part, to save time
        history.append({"epoch": epoch + 1, "loss": round(total / count, 4), "lr": round(lr, 6),
                        **{k: round(v, 4) for k, v in ev.items() if k.endswith("accuracy")}})
        log(json.dumps(history[-1]) + f" {time.time() - t1:.0f} s")
        save_checkpoint({"model": net.modules.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
                         "rng": json.dumps(rng.bit_generator.state), "torch_rng": torch.get_rng_state(),
                         "history": json.dumps(history), "vocab": vocab, "config": json.dumps(cfg)}, ckpt)
    return StructureModel(net.tensors(mean, std), vocab, net.architecture()), history


def architecture_text(cfg: dict) -> str:
    """The card's one-line description of the model a recipe builds."""
    enc = cfg.get("encoder")
    if not enc:
        symbol = f"each symbol: token embedding {cfg['embed']}"
    else:
        net = (f"a transformer ({enc['layers']} layers, {enc['heads']} heads, ff {enc['ff']}, attention biased by pair "
               "geometry)")
        symbol = (f"each symbol: its geometry through {net}, then + token embedding {enc['dim']}"
                  if enc.get("tokens", "input") == "after" else
                  f"each symbol: token embedding {enc['dim']} + its geometry through {net}")
    engine = "numpy inference, the transformer on ONNX Runtime" if enc else "numpy inference"
    return (f"{symbol}; per (parent, child): both symbols' vectors + {N_GEOMETRY} geometry -> {cfg['hidden']} -> "
            f"{cfg['hidden2']} -> {len(RELATIONS)} (ReLU), softmax over each symbol's (parent, relation); {engine}")


def run_folder(config: Path | None) -> Path:
    """A recipe's own checkpoint folder, so that two recipes trained in one tree (``structure``, then
    ``structure-input``) never resume from each other's checkpoint."""
    return Path("runs") / (config.stem if config else "structure")


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=CONFIG if CONFIG.is_file() else None)
    ap.add_argument("--run", type=Path, default=None,
                    help="checkpoint folder (resumed from; default runs/<the config's stem>)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N labelled training expressions")
    ap.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    crohme = Path(data_dir()) / "crohme"
    reasons: dict[str, int] = {}
    t0 = time.time()
    train = labelled(crohme / "crohme2014_train_inkml.tar.xz", "TrainINKML", args.limit, reasons)
    val = labelled(crohme / "crohme2011-2013_test_inkml.tar.xz", limit=args.limit)
    print(f"data: {len(train)} training expressions ({sum(reasons.values())} unlabelled: {reasons}), "
          f"{len(val)} validation, {time.time() - t0:.0f} s", flush=True)
    model, history = fit(train, val, cfg, args.run or run_folder(args.config), log=lambda m: print(m, flush=True))
    tensors = model.t
    atomic_write_bytes(args.out, save(tensors, metadata={"tokens": json.dumps(model.tokens),
                                                     "architecture": json.dumps(model.architecture)}))
    ev = evaluate(model, val)
    params = sum(int(v.size) for k, v in tensors.items() if k not in ("mean", "std"))
    extra = (f" --limit {args.limit}" if args.limit else "") + (f" --epochs {args.epochs}" if args.epochs else "") + (
        f" --out {args.out}" if args.out != WEIGHTS else "")
    card = {"format": "inkmath-weights/1", "name": args.out.stem, "kind": "structure",
            "purpose": "the expression reader's layout: each symbol's parent and relation (right, sup, sub, above, "
                       "below, inside) with probabilities, decoded into the best tree",
            "model": cfg["model"], "parameters": params,
            "architecture": architecture_text(cfg),
            "config": str(args.config) if args.config else None,
            "train_command": "python -m inkmath.training.recipes.structure" + (
                f" --config {args.config}" if args.config else "") + extra,
            "data": f"CROHME 2014 training InkML: {len(train)} expressions labelled from their MathML and "
                    f"traceGroups ({sum(reasons.values())} left out: {reasons})",
            "metrics": {"split": "val (CROHME 2011-2013 test ink, true symbols)",
                        **{k: round(v, 4) if isinstance(v, float) else v for k, v in ev.items()}},
            "history": history, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(card, indent=1) + "\n")
    print(json.dumps(card["metrics"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
