"""Figures for reports and sweeps, drawn with matplotlib's Agg backend (no display needed).

Only ``inkmath.evaluation.report`` and ``inkmath.training.sweep`` import this module, so ``import inkmath``
never pulls in matplotlib. Every function draws one figure, saves it as a PNG and closes it.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from inkmath.atomic import atomic_write

DPI = 110


def _save(fig, path: Path) -> Path:
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight"), suffix=".png")
    finally:
        plt.close(fig)


def _grid_shape(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return max(1, math.ceil(n / cols)), cols


def image_grid(images: list[np.ndarray], titles: list[str], path: Path, cols: int = 8, suptitle: str = "",
               colors: list[str] | None = None, cell: float = 1.25) -> Path:
    """Grayscale images with a title each (e.g. 'true / predicted'); ``colors`` colour the titles."""
    longest = max((len(line) for t in titles for line in t.split("\n")), default=0)
    cell = max(cell, 0.085 * longest)  # long LaTeX names (\\mathds{R}) must not run into the next title
    lines = max((t.count("\n") + 1 for t in titles), default=1)
    rows, cols = _grid_shape(len(images), cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell, rows * (cell + 0.15 * lines)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (im, t) in enumerate(zip(images, titles)):
        ax = axes.flat[i]
        ax.imshow(im, cmap="gray", vmin=0, vmax=255 if im.dtype == np.uint8 else None, interpolation="nearest")
        ax.set_title(t, fontsize=8, color=(colors[i] if colors else "black"))
    if not images:
        axes.flat[0].text(0.5, 0.5, "nothing to show", ha="center", va="center")
    if suptitle:
        fig.suptitle(suptitle)
    return _save(fig, path)


def class_bars(names: list[str], counts: np.ndarray, path: Path, title: str = "images per class") -> Path:
    """Bar chart of images per class; with many classes the labels are thinned so they stay readable."""
    n = len(names)
    fig, ax = plt.subplots(figsize=(min(18, max(6, n * 0.35)), 3.6))
    ax.bar(np.arange(n), counts, color="#4c72b0", width=0.85)
    step = max(1, math.ceil(n / 60))
    ax.set_xticks(np.arange(0, n, step))
    ax.set_xticklabels([names[i] for i in range(0, n, step)], rotation=90, fontsize=7)
    ax.set_ylabel("images")
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_title(f"{title} ({n} classes, {int(np.sum(counts))} images; min {int(np.min(counts))}, "
                 f"max {int(np.max(counts))})" if n else title)
    return _save(fig, path)


def loss_by_batch(steps: np.ndarray, losses: np.ndarray, path: Path, steps_per_epoch: float | None = None) -> Path:
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(steps, losses, lw=0.8, alpha=0.6, marker="o" if len(losses) < 60 else None, ms=3, label="batch loss")
    if len(losses) >= 10:  # a moving average shows the trend through the batch noise
        k = max(5, len(losses) // 30)
        smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1:], smooth, lw=1.8, label=f"mean of {k}")
    if steps_per_epoch:
        for e in range(1, int(steps[-1] // steps_per_epoch) + 1 if len(steps) else 0):
            ax.axvline(e * steps_per_epoch, color="grey", lw=0.5, ls=":")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.set_title("training loss by batch (dotted lines: epochs)")
    ax.legend()
    return _save(fig, path)


def epoch_curves(history: list[dict], path: Path) -> Path:
    """Training and validation loss (left) and accuracy (right) per epoch."""
    ep = [r["epoch"] for r in history]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(ep, [r["train_loss"] for r in history], "o-", label="train")
    a1.plot(ep, [r["val_loss"] for r in history], "s-", label="validation")
    a1.set_xlabel("epoch")
    a1.set_ylabel("loss")
    a1.set_title("loss by epoch")
    a1.legend()
    a2.plot(ep, [r["train_acc"] for r in history], "o-", label="train")
    a2.plot(ep, [r["val_acc"] for r in history], "s-", label="validation top-1")
    if any("val_top5" in r for r in history):
        a2.plot(ep, [r.get("val_top5", float("nan")) for r in history], "^--", label="validation top-5")
    a2.set_xlabel("epoch")
    a2.set_ylabel("accuracy")
    a2.set_title("accuracy by epoch")
    a2.legend()
    for a in (a1, a2):
        a.grid(alpha=0.3)
        if len(ep) < 20:
            a.set_xticks(ep)
    return _save(fig, path)


def confusion_heatmap(cm: np.ndarray, names: list[str], path: Path, title: str) -> Path:
    """Row-normalised confusion matrix (share of each true class); counts written in cells when it is small."""
    n = len(names)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, float), where=rows > 0)
    size = min(16, max(5, n * 0.38))
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    fs = 8 if n <= 30 else 6
    ax.set_xticklabels(names, rotation=90, fontsize=fs)
    ax.set_yticklabels(names, fontsize=fs)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 25:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                            color="white" if share[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    ax.set_title(title)
    return _save(fig, path)


def filter_grid(weights: np.ndarray, path: Path, title: str) -> Path:
    """First-layer kernels (O, I, kh, kw): each output channel's kernel (mean over inputs), own colour scale."""
    k = weights.mean(axis=1)  # (O, kh, kw)
    rows, cols = _grid_shape(len(k), 8)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, f in enumerate(k):
        m = float(np.abs(f).max()) or 1.0
        axes.flat[i].imshow(f, cmap="RdBu_r", vmin=-m, vmax=m, interpolation="nearest")
        axes.flat[i].set_title(str(i), fontsize=6)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def activation_maps(inputs: list[np.ndarray], maps: list[np.ndarray], labels: list[str], path: Path,
                    channels: int = 8, title: str = "") -> Path:
    """For each sample: the input, then the first ``channels`` activation maps of the first layer."""
    rows = len(inputs)
    cols = 1 + min(channels, maps[0].shape[0] if maps else 0)
    fig, axes = plt.subplots(max(1, rows), cols, figsize=(cols * 1.1, max(1, rows) * 1.2), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r in range(rows):
        axes[r, 0].imshow(inputs[r], cmap="gray", interpolation="nearest")
        axes[r, 0].set_title(labels[r], fontsize=7)
        for c in range(cols - 1):
            axes[r, c + 1].imshow(maps[r][c], cmap="magma", interpolation="nearest")
            if r == 0:
                axes[r, c + 1].set_title(f"ch {c}", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def graph_dot(nodes: list[dict]) -> str:
    """DOT source of the layer graph; nodes are {"name", "label", "output", "parameters", "inputs"}."""
    lines = ["digraph model {", '  rankdir=TB; node [shape=box, style="rounded,filled", fillcolor="#eef3fb", '
             'fontname="Helvetica", fontsize=10];']
    for n in nodes:
        shape = "x".join(map(str, n["output"]))
        params = f"\\n{n['parameters']:,} params" if n["parameters"] else ""
        label = n["label"].replace('"', "'")
        lines.append(f'  "{n["name"]}" [label="{label}\\n-> {shape}{params}"];')
        lines += [f'  "{src}" -> "{n["name"]}";' for src in n["inputs"]]
    lines.append("}")
    return "\n".join(lines) + "\n"


def model_graph(nodes: list[dict], path: Path) -> dict:
    """The layer graph: graphviz ``dot`` when installed, else a matplotlib drawing (nodes top to bottom in
    execution order, skip connections as arcs on the right). The DOT source is always written beside the PNG,
    so it can be rendered elsewhere. Returns {"png", "dot", "renderer"}."""
    path = Path(path)
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(graph_dot(nodes))
    exe = shutil.which("dot")
    if exe:
        try:
            subprocess.run([exe, "-Tpng", "-Gdpi=80", "-o", str(path), str(dot_path)], check=True,
                           capture_output=True, timeout=60)
            return {"png": path, "dot": dot_path, "renderer": "graphviz"}
        except (subprocess.SubprocessError, OSError):
            pass  # a broken graphviz install: fall back to matplotlib below
    row = {n["name"]: i for i, n in enumerate(nodes)}
    fig, ax = plt.subplots(figsize=(7.5, max(2.0, len(nodes) * 0.42)))
    ax.set_xlim(0, 1)
    ax.set_ylim(-len(nodes) + 0.4, 0.6)
    ax.axis("off")
    for i, n in enumerate(nodes):
        text = (f"{n['label']} -> {'x'.join(map(str, n['output']))}"
                + (f"  ({n['parameters']:,} params)" if n["parameters"] else ""))
        ax.text(0.42, -i, text, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round,pad=0.3", "fc": "#eef3fb", "ec": "#4c72b0"})
        for src in n["inputs"]:
            j = row.get(src)
            if j is None:
                continue
            if j == i - 1:
                ax.annotate("", xy=(0.42, -i + 0.25), xytext=(0.42, -j - 0.25),
                            arrowprops={"arrowstyle": "->", "color": "#555"})
            else:  # a skip connection
                ax.annotate("", xy=(0.8, -i), xytext=(0.8, -j),
                            arrowprops={"arrowstyle": "->", "color": "#c44e52",
                                        "connectionstyle": f"arc3,rad={-0.25 - 0.02 * (i - j)}"})
    _save(fig, path)
    return {"png": path, "dot": dot_path, "renderer": "matplotlib"}


def grid_heatmap(trials, row_key: str, col_key: str, path: Path, title: str) -> Path:
    """Grid sweep: rows ``row_key`` x columns ``col_key`` -> trial value (mean when a point ran twice)."""
    rows = sorted({t.params[row_key] for t in trials if row_key in t.params})
    cols = sorted({t.params[col_key] for t in trials if col_key in t.params})
    val = np.full((len(rows), len(cols)), np.nan)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            v = [t.value for t in trials if t.params.get(row_key) == r and t.params.get(col_key) == c]
            if v:
                val[i, j] = float(np.mean(v))
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 2.5, 0.7 * len(rows) + 1.8))
    im = ax.imshow(val, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels([f"{c:g}" if isinstance(c, float) else str(c) for c in cols])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r:g}" if isinstance(r, float) else str(r) for r in rows])
    ax.set_xlabel(col_key)
    ax.set_ylabel(row_key)
    finite = val[np.isfinite(val)]
    mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0
    for i in range(len(rows)):
        for j in range(len(cols)):
            text = "-" if np.isnan(val[i, j]) else f"{val[i, j]:.4f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="black" if (np.isfinite(val[i, j]) and val[i, j] > mid) else "white")
    fig.colorbar(im, ax=ax, label="validation accuracy")
    ax.set_title(title)
    return _save(fig, path)


def importance_bars(importances: dict[str, float], path: Path) -> Path:
    names = list(importances)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(names) + 1.2))
    ax.barh(names, [importances[n] for n in names], color="#55a868")
    ax.set_xlabel("importance (optuna.importance, normalised)")
    ax.set_title("hyper-parameter importance")
    return _save(fig, path)
