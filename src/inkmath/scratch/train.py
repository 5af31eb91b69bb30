"""Train a scratch model on a SymbolDataset: a plain loop of forward, backward, step; metrics.csv per epoch.

    metrics = train_numpy(train_ds, test_ds, "seed003-m4", epochs=10, lr=1e-3, batch_size=64, seed=0,
                          out_dir="runs/m4")

writes ``out_dir/metrics.csv`` (a row per epoch, flushed as it goes), ``out_dir/weights.safetensors`` and the card
``out_dir/weights.json`` - the run-folder layout of the torch trainer, so ``inkmath.weights.resolve_weights(out_dir)``
and ``export_run`` work on it; the card adds ``"engine": "numpy"``.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.scratch.layers import SoftmaxCrossEntropy, no_grad
from inkmath.scratch.model import Sequential, save_json_atomic
from inkmath.scratch.optim import make_optimizer
from inkmath.scratch.registry import create_numpy_model
from inkmath.data import prepared_images
from inkmath.weights import FORMAT

# the torch trainer's columns, with the per-epoch test set in place of a validation split, plus CPU seconds
# (on a shared machine wall time measures the neighbours as much as the work)
METRIC_FIELDS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "test_top5", "lr", "images_per_s",
                 "seconds", "cpu_seconds"]


def default_preset(ds) -> str:
    """MNIST digits were built centred by mass in 28 px; every other symbol set uses the 32 px preset."""
    return "mnist" if str(getattr(ds, "name", "")).startswith("mnist") else "symbol32"


def prepare_dataset(ds, preset: str) -> np.ndarray:
    """uint8 (N, 1, S, S) through the one preprocessing function; stored as uint8 to keep memory at N*S*S bytes.

    ``prepare`` returns (uint8 image)/255, so storing it as uint8 loses nothing.
    """
    return prepared_images(ds, preset)[:, None]


def _to_float(batch_u8: np.ndarray) -> np.ndarray:
    return batch_u8.astype(np.float32) * np.float32(1.0 / 255.0)


def evaluate_numpy(model: Sequential, images_u8: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> dict:
    """{"loss", "top1", "top5"} in evaluation mode (the torch trainer's ``evaluate`` keys)."""
    loss_fn = SoftmaxCrossEntropy()
    total_loss, top1, top5 = 0.0, 0, 0
    for i in range(0, len(labels), batch_size):
        with no_grad():
            logits = model.forward(_to_float(images_u8[i:i + batch_size]), train=False)
        y = labels[i:i + batch_size]
        total_loss += loss_fn(logits, y) * len(y)
        k = min(5, logits.shape[1])
        best = np.argpartition(-logits, k - 1, axis=1)[:, :k]
        top1 += int((logits.argmax(axis=1) == y).sum())
        top5 += int((best == y[:, None]).any(axis=1).sum())
    n = max(len(labels), 1)
    return {"loss": total_loss / n, "top1": top1 / n, "top5": top5 / n}


def train_one_epoch(model: Sequential, opt, images_u8: np.ndarray, labels: np.ndarray, batch_size: int,
                    rng: np.random.Generator, loss_fn: SoftmaxCrossEntropy, on_batch=None) -> tuple[float, float]:
    """One pass over shuffled data; returns (mean training loss, training accuracy) as seen during the pass."""
    order = rng.permutation(len(labels))
    total_loss, correct, seen = 0.0, 0, 0
    for i in range(0, len(order), batch_size):
        idx = np.sort(order[i:i + batch_size])  # sorted indices read memory in order; the batch set is still random
        x, y = _to_float(images_u8[idx]), labels[idx]
        logits = model.forward(x, train=True)  # (B, C)
        loss = loss_fn(logits, y)
        model.backward(loss_fn.backward())
        opt.step()
        total_loss += loss * len(y)
        correct += int((logits.argmax(axis=1) == y).sum())
        seen += len(y)
        if on_batch is not None:
            on_batch(len(y), total_loss / seen)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def lr_at(epoch: int, epochs: int, lr: float, schedule: str) -> float:
    """Learning rate for 0-based ``epoch``: constant, or cosine from lr down to lr/100 at the last epoch."""
    if schedule == "constant" or epochs <= 1:
        return lr
    if schedule == "cosine":
        return lr * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * epoch / (epochs - 1))))
    raise InkmathError(f"Unknown schedule {schedule!r}; choose 'constant' or 'cosine'")


def train_numpy(train_ds, test_ds, model_name: str, epochs: int, lr: float, batch_size: int, seed: int,
                out_dir: str | os.PathLike, progress: bool = True, *, optimizer: str = "adam",
                weight_decay: float = 0.0, momentum: float = 0.9, label_smoothing: float = 0.0, schedule: str = "cosine",
                preset: str | None = None, train_command: str | None = None, name: str | None = None) -> dict:
    """Train ``model_name`` (see ``list_numpy_models()``) on ``train_ds``; evaluate on ``test_ds`` every epoch.

    Returns the final metrics: {test_acc, test_top5, test_loss, train_loss, train_acc, epochs, seconds,
    cpu_seconds, images_per_second, num_parameters, weights, card, metrics_csv}. ``metrics.csv`` grows by a row
    per epoch; the weights and the card are written (atomically) at the end.
    """
    if epochs < 1 or batch_size < 1:
        raise InkmathError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    if len(train_ds) == 0:
        raise InkmathError("The training set is empty")
    if list(train_ds.vocab.names) != list(test_ds.vocab.names):
        raise InkmathError("Training and test sets have different class lists; load them from the same source")
    from inkmath.preprocess import get_preset

    preset = preset or default_preset(train_ds)
    size = get_preset(preset).size
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    num_classes = len(train_ds.vocab)
    model = create_numpy_model(model_name, num_classes, size, seed=seed)
    opt = make_optimizer(optimizer, model, lr, weight_decay, momentum)
    loss_fn = SoftmaxCrossEntropy(label_smoothing)
    rng = np.random.default_rng(seed + 1)

    t0 = time.perf_counter()
    x_train, y_train = prepare_dataset(train_ds, preset), train_ds.labels.astype(np.int64)
    x_test, y_test = prepare_dataset(test_ds, preset), test_ds.labels.astype(np.int64)
    prep_seconds = time.perf_counter() - t0

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    console.print(f"[bold]{model_name}[/] (numpy engine): {model.num_parameters():,} parameters, "
                  f"{len(y_train):,} train / {len(y_test):,} test images at {size} px "
                  f"(preprocessed in {prep_seconds:.1f} s)")
    metrics_path = out / "metrics.csv"
    train_seconds = train_cpu = 0.0
    with open(metrics_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_FIELDS)
        writer.writeheader()
        for epoch in range(epochs):
            opt.lr = lr_at(epoch, epochs, lr, schedule)
            t, c = time.perf_counter(), time.process_time()
            if progress:
                with Progress(TextColumn(f"epoch {epoch + 1}/{epochs}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
                              console=console, transient=True) as bar:
                    task = bar.add_task("train", total=len(y_train), loss=float("nan"))
                    tr_loss, tr_acc = train_one_epoch(model, opt, x_train, y_train, batch_size, rng, loss_fn,
                                                      lambda n, l: bar.update(task, advance=n, loss=l))
            else:
                tr_loss, tr_acc = train_one_epoch(model, opt, x_train, y_train, batch_size, rng, loss_fn)
            epoch_seconds, epoch_cpu = time.perf_counter() - t, time.process_time() - c
            train_seconds += epoch_seconds
            train_cpu += epoch_cpu
            ev = evaluate_numpy(model, x_test, y_test)
            te_loss, te_acc = ev["loss"], ev["top1"]
            writer.writerow({"epoch": epoch + 1, "train_loss": f"{tr_loss:.5f}", "train_acc": f"{tr_acc:.5f}",
                             "test_loss": f"{te_loss:.5f}", "test_acc": f"{te_acc:.5f}",
                             "test_top5": f"{ev['top5']:.5f}", "lr": f"{opt.lr:.6g}",
                             "images_per_s": f"{len(y_train) / max(epoch_seconds, 1e-9):.1f}",
                             "seconds": f"{epoch_seconds:.1f}", "cpu_seconds": f"{epoch_cpu:.1f}"})
            f.flush()
            # weights + card after every epoch (atomic): an interrupted run still leaves its latest model
            save_run(model, out, name or out.name or model_name, model_name, train_ds, test_ds, preset, size, ev, epoch + 1, train_seconds,
                     train_cpu, train_command, dict(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                                                    optimizer=optimizer, weight_decay=weight_decay,
                                                    momentum=momentum,
                                                    label_smoothing=label_smoothing, schedule=schedule))
            console.print(f"epoch {epoch + 1:>3}/{epochs}  lr {opt.lr:.2e}  train loss {tr_loss:.4f} "
                          f"acc {tr_acc:.2%}  test loss {te_loss:.4f} acc [bold]{te_acc:.2%}[/]  "
                          f"({epoch_seconds:.1f} s, {epoch_cpu:.1f} s CPU)")

    metrics = {"test_acc": te_acc, "test_top5": ev["top5"], "test_loss": te_loss, "train_acc": tr_acc,
               "train_loss": tr_loss, "epochs": epochs, "seconds": round(train_seconds, 1),
               "cpu_seconds": round(train_cpu, 1),
               "images_per_second": round(epochs * len(y_train) / max(train_seconds, 1e-9), 1),
               "num_parameters": model.num_parameters()}
    metrics.update(weights=str(out / "weights.safetensors"), card=str(out / "weights.json"),
                   metrics_csv=str(metrics_path))
    return metrics


def save_run(model: Sequential, out: Path, name: str, model_name: str, train_ds, test_ds, preset: str, size: int, ev: dict,
             epochs_done: int, train_seconds: float, train_cpu: float, train_command: str | None,
             config: dict) -> tuple[Path, Path]:
    """``out/weights.safetensors`` and its card ``out/weights.json`` (the torch trainer's run-folder layout)."""
    weights = model.save(out / "weights.safetensors", metadata={"format": FORMAT, "model": model_name,
                                                                "engine": "numpy"})
    card = {
        "format": FORMAT,
        "name": name,
        "model": model_name,
        "engine": "numpy",
        "num_classes": len(train_ds.vocab),
        "in_size": size,
        "preset": preset,
        "parameters": model.num_parameters(),
        "classes": train_ds.vocab.to_dict(),
        "train_command": train_command or " ".join(sys.argv),
        "data": {"train": getattr(train_ds, "name", ""), "test": getattr(test_ds, "name", "")},
        "metrics": {"test": {"spec": getattr(test_ds, "name", ""), **ev}, "epochs_done": epochs_done,
                    "train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(train_cpu, 1)},
        "config": {"engine": "numpy", "model": model_name, "preset": preset, **config},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return weights, save_json_atomic(out / "weights.json", card)
