"""A TrainConfig run on the NumPy engine (``inkmath.scratch.train_numpy``): what ``inkmath train --engine numpy`` does.

The torch trainer's config is the one recipe format; options the NumPy engine does not implement (augmentation,
balanced sampling, early stopping, one-cycle, resume) are errors here rather than silently ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data import load_dataset, stratified_split
from inkmath.scratch.registry import list_numpy_models
from inkmath.scratch.train import train_numpy


def _unsupported(cfg) -> list[str]:
    problems = []
    if cfg.augment != "none":
        problems.append(f"augment={cfg.augment!r} (use augment=none)")
    if cfg.balanced:
        problems.append("balanced=true")
    if cfg.early_stopping:
        problems.append(f"early_stopping={cfg.early_stopping}")
    if getattr(cfg, "precision", "fp32") != "fp32":
        problems.append(f"precision={cfg.precision!r} (use fp32)")
    if cfg.schedule not in ("cosine", "constant"):
        problems.append(f"schedule={cfg.schedule!r} (use cosine or constant)")
    return problems


def load_numpy_splits(cfg):
    """(train, eval) SymbolDatasets: eval is ``cfg.test``, else ``cfg.val``, else a stratified held-out share."""
    ds = load_dataset(cfg.dataset)
    if cfg.limit and cfg.limit < len(ds):
        frac = cfg.limit / len(ds)
        ds = ds.subset(stratified_split(ds.labels, (frac, 0.0, 1 - frac), seed=cfg.seed)["train"])
    spec = cfg.test or cfg.val
    if spec:
        ev = load_dataset(spec)
        if list(ev.vocab.names) != list(ds.vocab.names):
            raise InkmathError(f"{spec} and {cfg.dataset} have different classes; they cannot share a model")
        return ds, ev
    if cfg.val_fraction <= 0:
        raise InkmathError("The numpy engine needs data to evaluate on: give --test or --val, or val_fraction > 0")
    parts = stratified_split(ds.labels, (1 - cfg.val_fraction, cfg.val_fraction, 0.0), seed=cfg.seed)
    train, held = ds.subset(parts["train"]), ds.subset(parts["val"])
    train.name = ds.name
    held.name = f"{ds.name} (held-out {cfg.val_fraction:g}, seed {cfg.seed})"
    return train, held


def train_from_config(cfg, resume: bool = False, command: str | None = None) -> dict:
    """Train ``cfg.model`` (a numpy registry name) as ``cfg`` says: {"out", "weights", "metrics"} like ``fit``.

    ``command`` is the command line written into the weights' card as its ``train_command``.
    """
    from inkmath.training.config import save_config

    if resume:
        raise InkmathError("The numpy engine cannot resume a run; start it again (each epoch saves its weights)")
    problems = _unsupported(cfg)
    if problems:
        raise InkmathError(f"The numpy engine does not support {', '.join(problems)}; change the recipe or use "
                           "--engine torch")
    if cfg.model not in list_numpy_models():
        raise InkmathError(f"The numpy engine has no model {cfg.model!r}; choose one of: "
                           f"{', '.join(list_numpy_models())}")
    optimizer = {"adamw": "adamw", "sgd": "sgd", "adam": "adam"}[cfg.optimizer]
    train, ev = load_numpy_splits(cfg)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "config.yaml")
    metrics = train_numpy(train, ev, cfg.model, cfg.epochs, cfg.lr, cfg.batch_size, cfg.seed, out,
                          progress=True, optimizer=optimizer, weight_decay=cfg.weight_decay, momentum=cfg.momentum,
                          label_smoothing=cfg.label_smoothing, schedule=cfg.schedule,
                          preset=cfg.resolved_preset(), train_command=command, name=cfg.name or None)
    clean = {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in metrics.items()}
    return {"out": str(out), "weights": metrics["weights"], "metrics": clean}
