"""Evaluate symbol weights on a data set: what ``inkmath eval`` prints and the HTML report builds on."""

from __future__ import annotations

from inkmath.errors import InkmathError
from inkmath.data import load_dataset, prepared_images
from inkmath.evaluation.metrics import classification_report


def dataset_scores(pred, spec: str, data_dir=None, weights: str | None = None):
    """(scores (N, classes), labels (N,)) of a loaded ``Predictor`` over every image of data set ``spec``, each
    prepared by the weights' preset; the labels are in the model's class order (the data set's classes mapped onto
    the model's by name). ``weights``: the name the errors give (default: the card's)."""
    import numpy as np

    ds = load_dataset(spec, data_dir)
    labels = ds.labels
    if ds.vocab.names != pred.vocab.names:  # map the data set's classes onto the model's by name
        missing = [n for n in ds.vocab.names if n not in pred.vocab.names]
        if missing:
            raise InkmathError(f"{spec} has classes the model {weights or pred.card.get('name')!r} does not "
                               f"know: {missing[:10]}")
        mapping = np.array([pred.vocab.index(n) for n in ds.vocab.names])
        labels = mapping[labels]
    x = prepared_images(ds, pred.preset.name)
    scores = np.concatenate([pred.logits(x[i:i + 512, None].astype(np.float32) / 255.0)
                             for i in range(0, len(x), 512)]) if len(x) else np.zeros((0, len(pred.vocab)))
    return scores, labels


def evaluate_weights(weights: str, spec: str, engine: str = "torch", data_dir=None) -> dict:
    """Top-1/3/5, per-class P/R/F1, confusion matrix and most-confused pairs of shipped or trained weights."""
    from inkmath.predict import Predictor

    pred = Predictor.load(weights, engine=engine)
    scores, labels = dataset_scores(pred, spec, data_dir, weights)
    report = classification_report(scores, labels, pred.vocab)
    report.update({"weights": weights, "dataset": spec, "engine": engine})
    return report
