"""Classification metrics from probabilities/logits and labels (numpy only, so the numpy engine can use them)."""

from __future__ import annotations

import numpy as np

from inkmath.vocab import Vocabulary


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    if len(labels) == 0:
        return float("nan")
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float((top == labels[:, None]).any(axis=1).mean())


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (labels, pred), 1)
    return cm


def per_class(cm: np.ndarray, vocab: Vocabulary) -> list[dict]:
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return [{"class": vocab.names[i], "latex": vocab.latex[i], "precision": round(float(precision[i]), 6),
             "recall": round(float(recall[i]), 6), "f1": round(float(f1[i]), 6), "support": int(support[i])}
            for i in range(len(vocab))]


def most_confused(cm: np.ndarray, vocab: Vocabulary, n: int = 10) -> list[dict]:
    off = cm.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None)[:n]
    out = []
    for f in flat:
        t, p = np.unravel_index(f, off.shape)
        if off[t, p] == 0:
            break
        out.append({"true": vocab.names[t], "predicted": vocab.names[p], "count": int(off[t, p]),
                    "share_of_true": round(float(off[t, p] / max(1, cm[t].sum())), 6)})
    return out


def classification_report(scores: np.ndarray, labels: np.ndarray, vocab: Vocabulary) -> dict:
    """Everything ``inkmath eval`` reports: top-1/3/5, per-class P/R/F1, confusion matrix, most-confused pairs."""
    pred = scores.argmax(axis=1)
    cm = confusion_matrix(pred, labels, len(vocab))
    classes = per_class(cm, vocab)
    present = [c for c in classes if c["support"] > 0]
    return {
        "n": int(len(labels)),
        "top1": topk_accuracy(scores, labels, 1),
        "top3": topk_accuracy(scores, labels, 3),
        "top5": topk_accuracy(scores, labels, 5),
        "macro_f1": float(np.mean([c["f1"] for c in present])) if present else float("nan"),
        "per_class": classes,
        "most_confused": most_confused(cm, vocab),
        "confusion_matrix": cm.tolist(),
    }
