"""``train_one_epoch`` / ``evaluate`` / ``fit``: plain functions over in-memory uint8 tensors.

Every random choice is seeded from (seed, epoch, step): the epoch's order from (seed, epoch), a batch's
augmentation and dropout from (seed, global step). A run resumed from any checkpoint - end of epoch or mid-epoch -
therefore computes exactly what the uninterrupted run computes.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from inkmath.errors import InkmathError
from inkmath.data import SymbolDataset, load_dataset, prepared_images, stratified_split
from inkmath.models import create_model, list_models
from inkmath.preprocess import get_preset
from inkmath.training.augment import AUGMENT_PRESETS, augment_batch
from inkmath.atomic import atomic_write_text
from inkmath.training.checkpoint import load_checkpoint, save_checkpoint
from inkmath.training.config import TrainConfig, save_config
from inkmath.vocab import Vocabulary
from inkmath.equation.synth import crohme_wap  # noqa: F401 (registers the crohme-wap, crohme-page and crohme-real data sets)
from inkmath.weights import card_settings, load_model, make_card, resolve_weights, save_weights

METRIC_FIELDS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_top5", "lr", "images_per_s", "seconds"]


# ------------------------------------------------------------------------------------------------ data
def prepared_tensor(ds: SymbolDataset, preset: str) -> torch.Tensor:
    """uint8 (N, S, S) tensor of ``prepare``d images (cached; see ``inkmath.data.prepared_images``)."""
    return torch.from_numpy(prepared_images(ds, preset))


def to_input(batch_u8: torch.Tensor) -> torch.Tensor:
    """uint8 (B, S, S) -> float (B, 1, S, S) in [0, 1], channels-last (faster convolutions on the CPU)."""
    return batch_u8.unsqueeze(1).float().div_(255.0).contiguous(memory_format=torch.channels_last)


@dataclass
class Split:
    x: torch.Tensor  # uint8 (N, S, S)
    y: torch.Tensor  # int64 (N,)


def load_splits(cfg: TrainConfig) -> tuple[Split, Split | None, SymbolDataset]:
    """Training and validation tensors (validation: its own spec, or a stratified share of the training set)."""
    ds = load_dataset(cfg.dataset)
    if cfg.limit and cfg.limit < len(ds):
        keep = stratified_split(ds.labels, (cfg.limit / len(ds), 0.0, 1 - cfg.limit / len(ds)), seed=cfg.seed)["train"]
        ds = ds.subset(keep)
    preset = cfg.resolved_preset()
    val = None
    if cfg.val:
        vds = load_dataset(cfg.val)
        if vds.vocab.names != ds.vocab.names:
            raise InkmathError(f"{cfg.val} and {cfg.dataset} have different classes; they cannot share a model")
        val = Split(prepared_tensor(vds, preset), torch.from_numpy(vds.labels))
        train = Split(prepared_tensor(ds, preset), torch.from_numpy(ds.labels))
    elif cfg.val_fraction > 0:
        x = prepared_tensor(ds, preset)
        parts = stratified_split(ds.labels, (1 - cfg.val_fraction, cfg.val_fraction, 0.0), seed=cfg.seed)
        tr, va = torch.from_numpy(parts["train"]), torch.from_numpy(parts["val"])
        y = torch.from_numpy(ds.labels)
        train, val = Split(x[tr], y[tr]), Split(x[va], y[va])
    else:
        train = Split(prepared_tensor(ds, preset), torch.from_numpy(ds.labels))
    return train, val, ds


# ------------------------------------------------------------------------------------------------ pieces
def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    # no weight decay on biases and norm parameters
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    return torch.optim.AdamW(groups, lr=cfg.lr)


def build_scheduler(cfg: TrainConfig, opt, steps_per_epoch: int):
    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=0.25)
    warm = int(cfg.warmup_epochs * steps_per_epoch)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        if cfg.schedule == "constant":
            return 1.0
        t = (step - warm) / max(1, total - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def epoch_order(cfg: TrainConfig, y: torch.Tensor, epoch: int, rank: int = 0, world: int = 1) -> torch.Tensor:
    """This rank's sample order for an epoch: a permutation, or class-balanced draws, seeded by (seed, epoch)."""
    g = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
    n = len(y)
    if cfg.balanced:
        counts = torch.bincount(y).float()
        weights = 1.0 / counts[y]
        order = torch.multinomial(weights, n, replacement=True, generator=g)
    else:
        order = torch.randperm(n, generator=g)
    per_rank = n // world
    return order[rank * per_rank:(rank + 1) * per_rank]


def steps_per_epoch(cfg: TrainConfig, n: int, world: int = 1) -> int:
    per_rank = n // world
    return max(1, per_rank // max(1, cfg.batch_size // world))


@torch.no_grad()
def predict_logits(model: torch.nn.Module, x_u8: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    model.eval()
    out = [model(to_input(x_u8[i:i + batch_size])) for i in range(0, len(x_u8), batch_size)]
    return torch.cat(out) if out else torch.zeros(0)


def evaluate(model: torch.nn.Module, split: Split, batch_size: int = 512) -> dict:
    """Loss, top-1 and top-5 accuracy of ``model`` on a split."""
    logits = predict_logits(model, split.x, batch_size)
    loss = F.cross_entropy(logits, split.y).item() if len(split.y) else float("nan")
    k = min(5, logits.shape[1])
    topk = logits.topk(k, dim=1).indices
    hit = topk == split.y[:, None]
    return {"loss": loss, "top1": hit[:, 0].float().mean().item(), "top5": hit.any(1).float().mean().item(),
            "n": len(split.y)}


@dataclass
class EpochState:
    """Running sums of the current epoch, saved in mid-epoch checkpoints."""

    step: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    train_seconds: float = 0.0


def bf16_is_fast() -> bool:
    """Whether oneDNN has native bf16 kernels here (AMX or AVX512-BF16): bf16 autocast then trains about 2x faster."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def use_bf16(precision: str) -> bool:
    if precision not in ("fp32", "bf16", "auto"):
        raise InkmathError(f"precision must be fp32, bf16 or auto, got {precision!r}")
    return precision == "bf16" or (precision == "auto" and bf16_is_fast())


def batch_loss(logits: torch.Tensor, y: torch.Tensor, cfg: TrainConfig,
               teacher_logits: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy (with ``cfg.label_smoothing``); with a teacher's logits, mixed with the distillation term
    T^2 * KL(softmax(teacher / T) || softmax(logits / T)) by ``cfg.distill_weight`` (Hinton et al., 2015)."""
    ce = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
    if teacher_logits is None:
        return ce
    t, w = cfg.distill_temperature, cfg.distill_weight
    kl = F.kl_div(F.log_softmax(logits / t, dim=1), F.log_softmax(teacher_logits / t, dim=1), reduction="batchmean",
                  log_target=True)
    return (1 - w) * ce + w * t * t * kl


def load_teacher(cfg: TrainConfig, ds: SymbolDataset, in_size: int) -> torch.nn.Module | None:
    """``cfg.teacher``'s model in eval mode (same classes and input size as the run), or None without a teacher."""
    if not cfg.teacher:
        return None

    teacher, card = load_model(cfg.teacher)
    if Vocabulary.from_dict(card["classes"]).names != ds.vocab.names:
        raise InkmathError(f"teacher weights {cfg.teacher} have other classes than {cfg.dataset}; "
                           "distil from a model of the same classes")
    if int(card["in_size"]) != in_size:
        raise InkmathError(f"teacher weights {cfg.teacher} take {card['in_size']} px images, the run {in_size} px")
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.eval().to(memory_format=torch.channels_last)


def train_one_epoch(model, opt, sched, train: Split, cfg: TrainConfig, epoch: int, state: EpochState,
                    batch_log: list, on_step=None, rank: int = 0, world: int = 1, teacher=None) -> EpochState:
    """Train from ``state.step`` to the end of the epoch; ``on_step(state)`` may checkpoint or report.

    ``teacher`` (a model in eval mode, or None) gives the distillation targets of each augmented batch."""
    model.train()
    aug = AUGMENT_PRESETS[cfg.augment]
    order = epoch_order(cfg, train.y, epoch, rank, world)
    bs = max(1, cfg.batch_size // world)
    n_steps = steps_per_epoch(cfg, len(train.y), world)
    for step in range(state.step, n_steps):
        t0 = time.perf_counter()
        global_step = epoch * n_steps + step
        seed = (cfg.seed * 1_000_003 + global_step) * 8 + rank
        g = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)  # dropout
        idx = order[step * bs:(step + 1) * bs]
        x = augment_batch(to_input(train.x[idx]), aug, g)  # (B, 1, S, S)
        y = train.y[idx]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16(cfg.precision)):
            teacher_logits = None
            if teacher is not None:
                with torch.no_grad():
                    teacher_logits = teacher(x).float()
            logits = model(x)  # (B, C)
            loss = batch_loss(logits.float(), y, cfg, teacher_logits)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        lv = loss.item()
        state.loss_sum += lv * len(y)
        state.correct += int((logits.argmax(1) == y).sum())
        state.seen += len(y)
        state.step = step + 1
        state.train_seconds += time.perf_counter() - t0
        if global_step % cfg.log_every == 0:
            batch_log.append((epoch, global_step, lv))
        if on_step is not None:
            on_step(state, n_steps)
    return state


# ------------------------------------------------------------------------------------------------ fit
def _write_csv(path: Path, header: list[str], rows: list) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r[h] for h in header] if isinstance(r, dict) else r)
    atomic_write_text(path, buf.getvalue())


def _dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


class _Reporter:
    """Live progress with rich on a terminal; plain lines (every 30 s and per epoch) in logs."""

    def __init__(self, enabled: bool):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.enabled = enabled
        self.progress = None
        self.last_line = time.monotonic()

    def start_epoch(self, epoch: int, epochs: int, n_steps: int, done: int):
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn(f"epoch {epoch + 1}/{epochs}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[info]}"), TimeRemainingColumn(), console=self.console)
            self.progress.start()
            self.task = self.progress.add_task("train", total=n_steps, completed=done, info="")

    def step(self, state: EpochState, n_steps: int, epoch: int):
        if not self.enabled or state.seen == 0:
            return
        info = (f"loss {state.loss_sum / state.seen:.4f}  acc {state.correct / state.seen:.4f}  "
                f"{state.seen / max(state.train_seconds, 1e-9):.0f} img/s")
        if self.progress is not None:
            self.progress.update(self.task, completed=state.step, info=info)
        elif time.monotonic() - self.last_line > 30:
            self.console.print(f"epoch {epoch + 1} step {state.step}/{n_steps}  {info}")
            self.last_line = time.monotonic()

    def end_epoch(self, row: dict):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.enabled:
            self.console.print(
                f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_acc']:.4f} | "
                f"val loss {row['val_loss']:.4f} acc {row['val_acc']:.4f} top5 {row['val_top5']:.4f} | "
                f"{row['images_per_s']:.0f} img/s, {row['seconds']:.0f} s")


@dataclass
class _RunState:
    """Everything a checkpoint restores: the model, optimiser and scheduler, where the run is, and what it logged."""

    model: torch.nn.Module
    opt: torch.optim.Optimizer
    sched: Any
    epoch: int = 0
    best_acc: float = -1.0
    since_best: int = 0
    history: list = field(default_factory=list)
    batch_log: list = field(default_factory=list)
    estate: EpochState = field(default_factory=EpochState)

    def restore(self, ck: dict) -> None:
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        self.sched.load_state_dict(ck["scheduler"])
        self.epoch, self.best_acc, self.since_best = ck["epoch"], ck["best_acc"], ck["since_best"]
        self.history, self.batch_log = ck["history"], [tuple(r) for r in ck["batch_log"]]
        self.estate = EpochState(**ck["epoch_state"])
        torch.set_rng_state(ck["torch_rng"])

    def checkpoint(self, cfg: TrainConfig, ds: SymbolDataset) -> dict:
        return {
            "model": self.model.state_dict(), "optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict(),
            "epoch": self.epoch, "best_acc": self.best_acc, "since_best": self.since_best, "history": self.history,
            "batch_log": [list(r) for r in self.batch_log], "epoch_state": vars(self.estate).copy(),
            "torch_rng": torch.get_rng_state(), "config": cfg.to_dict(), "classes": list(ds.vocab.names),
        }


class _Stop(Exception):
    """``stop_after_steps`` reached: the run stops as an interruption would."""


def _check_run_dir(out: Path, last_path: Path, resume: bool) -> None:
    if out.exists() and (last_path.exists()) and not resume:
        raise InkmathError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    if resume and not last_path.exists():
        raise InkmathError(f"Nothing to resume: {last_path} does not exist")


def _epoch_row(st: _RunState, vm: dict, world: int, t_epoch: float) -> dict:
    e = st.estate
    return {"epoch": st.epoch + 1, "train_loss": e.loss_sum / max(1, e.seen),
            "train_acc": e.correct / max(1, e.seen), "val_loss": vm["loss"], "val_acc": vm["top1"],
            "val_top5": vm["top5"], "lr": st.opt.param_groups[0]["lr"],
            "images_per_s": e.seen * world / max(e.train_seconds, 1e-9),
            "seconds": time.perf_counter() - t_epoch}


def fit(cfg: TrainConfig, resume: bool = False, progress: bool = True, stop_after_steps: int = 0) -> dict:
    """Train ``cfg.model`` on ``cfg.dataset``; write checkpoints, metrics and the final weights + card to cfg.out.

    ``stop_after_steps`` (tests only) returns early after that many optimiser steps, as an interruption would.
    """
    rank, world = _dist_info()
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("gloo")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    last_path, best_path = out / "checkpoint_last.pt", out / "checkpoint_best.pt"
    _check_run_dir(out, last_path, resume)

    preset = get_preset(cfg.resolved_preset())
    use_bf16(cfg.precision)  # a bad value fails before any data is read
    if cfg.model not in list_models():
        create_model(cfg.model, 2)  # raises the "Unknown model ...; choose one of" error before any data is read
    train, val, ds = load_splits(cfg)
    teacher = load_teacher(cfg, ds, preset.size)
    torch.manual_seed(cfg.seed)
    model = create_model(cfg.model, num_classes=len(ds.vocab), in_size=preset.size)
    if cfg.init and not resume:
        init_weights(model, cfg, ds)
    model = model.to(memory_format=torch.channels_last)
    opt = build_optimizer(cfg, model)
    n_steps = steps_per_epoch(cfg, len(train.y), world)
    st = _RunState(model, opt, build_scheduler(cfg, opt, n_steps))
    if resume:
        st.restore(load_checkpoint(last_path))
    ddp_model = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out / "config.yaml")

    def checkpoint(path: Path = last_path):
        if rank == 0:
            save_checkpoint(st.checkpoint(cfg, ds), path)

    reporter = _Reporter(progress and rank == 0)
    last_ck = time.monotonic()
    steps_done = 0

    def on_step(state: EpochState, total: int):
        nonlocal last_ck, steps_done
        steps_done += 1
        reporter.step(state, total, st.epoch)
        if cfg.checkpoint_seconds and time.monotonic() - last_ck > cfg.checkpoint_seconds and state.step < total:
            checkpoint()
            last_ck = time.monotonic()
        if stop_after_steps and steps_done >= stop_after_steps:
            raise _Stop

    try:
        while st.epoch < cfg.epochs:
            t_epoch = time.perf_counter()
            reporter.start_epoch(st.epoch, cfg.epochs, n_steps, st.estate.step)
            train_one_epoch(ddp_model, opt, st.sched, train, cfg, st.epoch, st.estate, st.batch_log, on_step, rank,
                            world, teacher)
            vm = evaluate(model, val) if val is not None and len(val.y) else {"loss": float("nan"), "top1": float("nan"), "top5": float("nan")}
            row = _epoch_row(st, vm, world, t_epoch)
            st.history.append(row)
            reporter.end_epoch(row)
            st.epoch += 1
            st.estate = EpochState()
            score = row["val_acc"] if not math.isnan(row["val_acc"]) else -row["train_loss"]
            if score > st.best_acc:
                st.best_acc, st.since_best = score, 0
                if rank == 0:
                    save_checkpoint({"model": model.state_dict(), "epoch": st.epoch, "score": score}, best_path)
            else:
                st.since_best += 1
            checkpoint()
            last_ck = time.monotonic()
            if rank == 0:
                _write_csv(out / "metrics.csv", METRIC_FIELDS, st.history)
                _write_csv(out / "batches.csv", ["epoch", "step", "loss"], st.batch_log)
            if cfg.early_stopping and st.since_best >= cfg.early_stopping:
                reporter.console.print(f"early stopping: no better validation accuracy for {st.since_best} epochs")
                break
    except _Stop:
        checkpoint()
        return {"stopped": True}
    except KeyboardInterrupt:
        checkpoint()
        raise InkmathError(f"Interrupted; the run is saved. Continue it with --resume (out: {out})") from None
    result = {"history": st.history, "out": str(out)}
    if rank == 0:
        result.update(finish(cfg, model, ds, best_path, out))
    if world > 1:
        torch.distributed.barrier()
    return result


def init_weights(model: torch.nn.Module, cfg: TrainConfig, ds: SymbolDataset) -> None:
    """Fine-tuning: load ``cfg.init`` (same model and classes) into ``model`` before the first step."""
    from safetensors.torch import load_file

    path, card = resolve_weights(cfg.init)
    if card.get("model") != cfg.model:
        raise InkmathError(f"init weights {cfg.init} are a {card.get('model')!r} model, the config trains {cfg.model!r}")
    if Vocabulary.from_dict(card["classes"]).names != ds.vocab.names:
        raise InkmathError(f"init weights {cfg.init} have other classes than {cfg.dataset}; fine-tune on the same classes")
    model.load_state_dict(load_file(str(path)))


def finish(cfg: TrainConfig, model, ds: SymbolDataset, best_path: Path, out: Path) -> dict:
    """Export the best weights with their card; evaluate them on ``cfg.test`` if given."""
    if best_path.exists():
        model.load_state_dict(load_checkpoint(best_path)["model"])
    model.eval()
    metrics = {"val_best": max((r["val_acc"] for r in load_history(out)), default=None)}
    if cfg.test:
        tds = load_dataset(cfg.test)
        metrics["test"] = {"spec": cfg.test, **evaluate(model, Split(prepared_tensor(tds, cfg.resolved_preset()),
                                                                     torch.from_numpy(tds.labels)))}
    card = make_card(cfg, model, ds.vocab, metrics, command=" ".join(shlex.quote(a) for a in ["inkmath"] + sys.argv[1:]))
    if cfg.init:
        init_card = resolve_weights(cfg.init)[1]
        card["init"] = {"weights": cfg.init, "config": init_card.get("config"),
                        "train_command": init_card.get("train_command"), "settings": card_settings(init_card),
                        "metrics": init_card.get("metrics")}
    if cfg.teacher:
        teacher_card = resolve_weights(cfg.teacher)[1]
        card["teacher"] = {"weights": cfg.teacher, "model": teacher_card.get("model"),
                           "metrics": teacher_card.get("metrics")}
    save_weights(model, card, out / "weights.safetensors")
    return {"metrics": metrics, "weights": str(out / "weights.safetensors")}


def load_history(out: Path) -> list[dict]:
    path = Path(out) / "metrics.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
