"""Where a training step of the symbol classifier spends its time, and how variants of the step compare.

    INKMATH_DATA=/work/shared/data python benchmarks/train_step_profile.py [--config configs/crohme-m.yaml]
        [--steps 30] [--rounds 3] [--variants current,nchw,...]

Each variant trains its own fresh copy of the recipe's model on the recipe's data (its batch size, optimiser,
augmentation) for ``--steps`` steps, timing the phases of ``inkmath.training.loop.train_one_epoch`` (batch: index
the uint8 tensor, convert to float; augment; forward, with the loss; backward; optimiser: step and schedule) and
the process's CPU time. The variants take turns, round after round (the machine is shared), and each keeps its
best round (the least disturbed), so the ratios between them are fair even under load; their absolute images/s are
not. CPU ms per image (all threads) moves much less with the load than wall time; on two busy lanes it is what
bounds a step's speed. OpenMP's wait policy is fixed when a process starts: compare it with two processes side by
side (``OMP_WAIT_POLICY=PASSIVE`` and ``ACTIVE``).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from inkmath.models import create_model  # noqa: E402
from inkmath.training.augment import AUGMENT_PRESETS, augment_batch  # noqa: E402
from inkmath.training.config import make_config  # noqa: E402
from inkmath.training.loop import (batch_loss, build_optimizer, build_scheduler, load_splits,  # noqa: E402
                                   to_input)

PHASES = ("batch", "augment", "forward", "backward", "optimizer")


@dataclass(frozen=True)
class Variant:
    """One way of running the recipe's step; ``current`` is exactly what ``inkmath train`` does."""

    name: str
    model: str | None = None  # None: the recipe's model
    threads: int = 2
    channels_last: bool = True
    augment: str | None = None  # None: the recipe's augmentation
    fused_adamw: bool = False  # torch's fused AdamW kernel (same update, one kernel for all parameters)


VARIANTS = {v.name: v for v in (
    Variant("current"),
    Variant("nchw", channels_last=False),
    Variant("inkres-s", model="inkres-s"),
    Variant("threads-1", threads=1),
    Variant("threads-1-nchw", threads=1, channels_last=False),
    Variant("threads-1-fused-adamw", threads=1, fused_adamw=True),
    Variant("threads-1-no-augment", threads=1, augment="none"),
    Variant("threads-1-inkres-s", threads=1, model="inkres-s"),
)}


def run_variant(v: Variant, cfg, x_u8: torch.Tensor, y: torch.Tensor, n_classes: int, steps: int) -> dict:
    """Train ``steps`` steps of variant ``v`` from a fresh model; seconds per phase (summed) and images/s."""
    torch.set_num_threads(v.threads)
    torch.manual_seed(cfg.seed)
    model = create_model(v.model or cfg.model, num_classes=n_classes, in_size=x_u8.shape[-1])
    if v.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = build_optimizer(cfg, model)
    if v.fused_adamw:
        opt = torch.optim.AdamW(opt.param_groups, lr=cfg.lr, fused=True)
    sched = build_scheduler(cfg, opt, steps)
    aug = AUGMENT_PRESETS[v.augment or cfg.augment]
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(cfg.seed))
    bs = cfg.batch_size
    spent = dict.fromkeys(PHASES, 0.0)
    cpu = 0.0
    model.train()
    for step in range(steps + 2):  # two warm-up steps, not timed
        g = torch.Generator().manual_seed(step)
        c0 = time.process_time()
        t = [time.perf_counter()]
        idx = order[(step * bs) % (len(y) - bs):][:bs]
        x = to_input(x_u8[idx])
        if not v.channels_last:
            x = x.contiguous()
        t.append(time.perf_counter())
        x = augment_batch(x, aug, g)
        t.append(time.perf_counter())
        loss = batch_loss(model(x), y[idx], cfg)
        t.append(time.perf_counter())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t.append(time.perf_counter())
        opt.step()
        sched.step()
        loss.item()
        t.append(time.perf_counter())
        if step >= 2:
            cpu += time.process_time() - c0
            for phase, a, b in zip(PHASES, t, t[1:]):
                spent[phase] += b - a
    total = sum(spent.values())
    return {"seconds": spent, "total": total, "img_s": steps * bs / total, "cpu_ms_img": 1000 * cpu / (steps * bs)}


def profile(cfg, variants: list[Variant], steps: int, rounds: int, images: int) -> dict[str, dict]:
    train, _, ds = load_splits(replace(cfg, val=None, val_fraction=0.0))
    x_u8, y = train.x[:images], train.y[:images]
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for v in variants:
            r = run_variant(v, cfg, x_u8, y, len(ds.vocab), steps)
            if v.name not in best or r["total"] < best[v.name]["total"]:
                best[v.name] = r
            print(f"{v.name:22s} {r['img_s']:7.0f} img/s {r['cpu_ms_img']:6.2f} CPU ms/img", flush=True)
    return best


def table(best: dict[str, dict]) -> str:
    base = next(iter(best.values()))
    lines = ["| variant | img/s | vs first | CPU ms/img | vs first | " + " | ".join(f"{p} %" for p in PHASES)
             + " |", "|---|---|---|---|---|" + "---|" * len(PHASES)]
    for name, r in best.items():
        shares = " | ".join(f"{100 * r['seconds'][p] / r['total']:.0f}" for p in PHASES)
        lines.append(f"| {name} | {r['img_s']:.0f} | {r['img_s'] / base['img_s']:.2f}x | {r['cpu_ms_img']:.2f} | "
                     f"{base['cpu_ms_img'] / r['cpu_ms_img']:.2f}x | {shares} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="configs/crohme-m.yaml")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--images", type=int, default=16384, help="the first N training images (read once, in memory)")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args(argv)
    unknown = [n for n in args.variants.split(",") if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"error: unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    cfg = make_config(args.config)
    best = profile(cfg, [VARIANTS[n] for n in args.variants.split(",")], args.steps, args.rounds, args.images)
    print(table(best))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
