"""The trainer of the reader's small perceptrons (``equation.core.mlp``) and what their recipes share: fitting with a
held-out share, the model card, the recipe's YAML and command line, the card written beside the weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write_bytes, atomic_write_text
from inkmath.equation.core import registry
from inkmath.equation.core.mlp import MODEL
from inkmath.weights import FORMAT


def fit(X: np.ndarray, y: np.ndarray, *, outputs: int, hidden: int, epochs: int, batch: int,
        weight_decay: float = 0.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Train a ``TanhMLP`` with Adam (lr 3e-3) on standardised features: one output and float targets are a binary
    (sigmoid) model, several outputs and class indices a softmax one. Seeded: the same data give the same tensors."""
    import torch

    torch.manual_seed(seed)
    mean, std = X.mean(0), X.std(0) + 1e-6
    xt = torch.from_numpy(((X - mean) / std).astype(np.float32))
    yt = torch.from_numpy(y)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, outputs))
    opt = torch.optim.Adam(net.parameters(), 3e-3, weight_decay=weight_decay)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch):
            b = perm[i:i + batch]
            out = net(xt[b])
            if outputs == 1:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], yt[b])
            else:
                loss = torch.nn.functional.cross_entropy(out, yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    w1, b1, w2, b2 = (p.detach().numpy().astype(np.float32) for p in net.parameters())
    return {"mean": mean.astype(np.float32), "std": std.astype(np.float32), "w1": w1.T.copy(), "b1": b1,
            "w2": w2.T.copy(), "b2": b2}


def fit_binary_heldout(X: np.ndarray, y: np.ndarray, fit_rows: np.ndarray, held_rows: np.ndarray, model_class, *,
                       hidden: int, epochs: int, weight_decay: float = 0.0, seed: int = 0
                       ) -> tuple[dict[str, np.ndarray], dict[str, float | None]]:
    """A binary ``fit`` scored on rows it did not see, then the shipped one trained on all rows: (its tensors,
    {"accuracy", "recall", "precision"} of the positive class at 0.5 on ``held_rows``, rounded; None when undefined).
    ``model_class(**tensors).prob(X)`` reads a model."""
    tensors = fit(X[fit_rows], y[fit_rows], outputs=1, hidden=hidden, epochs=epochs, batch=256,
                  weight_decay=weight_decay, seed=seed)
    pred = model_class(**tensors).prob(X[held_rows]) > 0.5
    pos = y[held_rows] > 0.5
    figures = {"accuracy": float((pred == pos).mean()) if len(pos) else None,
               "recall": float(pred[pos].mean()) if pos.any() else None,
               "precision": float(pos[pred].mean()) if pred.any() else None}
    tensors = fit(X, y, outputs=1, hidden=hidden, epochs=epochs, batch=256, weight_decay=weight_decay, seed=seed)
    return tensors, {k: None if v is None else round(v, 4) for k, v in figures.items()}


def binary_card(recipe: dict, tensors: dict[str, np.ndarray], inputs: str, output: str, config, command: str, *,
                kind: str) -> dict:
    """The first fields of a binary ``fit`` model's card (format, name, the ``kind`` its class is registered under,
    purpose, model, architecture, parameters, inputs, outputs, recipe file, train command); the trainer adds its data
    and metrics."""
    return {"format": FORMAT, "name": recipe["name"], "kind": kind, "purpose": recipe["purpose"],
            "model": recipe["model"],
            "architecture": f"mlp {tensors['w1'].shape[0]}-{recipe['hidden']}-1 (tanh, sigmoid), numpy inference",
            "parameters": int(sum(v.size for k, v in tensors.items() if k not in ("mean", "std"))),
            "inputs": inputs, "outputs": [output], "config": str(config), "train_command": command}




def recipe_command_line(argv: list[str] | None, description: str, module: str, config: str, out: Path,
                        defaults: dict, extra: tuple[tuple[str, str], ...] = ()):
    """The small equation models' trainers' command line: ``--config`` (the recipe), the integer flags that override
    it (``--limit``, ``--epochs``, ``--hidden`` and ``extra``: (name, help) each) and ``--out``. Returns (the parsed
    arguments, the recipe with the flags over it, the command the card writes: ``python -m module`` with the
    recipe and the flags given)."""
    import argparse

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--config", default=config, help="the recipe (YAML); flags override it")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N training expressions")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--hidden", type=int, default=None, help="units of the hidden layer")
    for name, help_text in extra:
        ap.add_argument(f"--{name}", type=int, default=None, help=help_text)
    ap.add_argument("--out", type=Path, default=out)
    args = ap.parse_args(argv)
    recipe = read_recipe(args.config, defaults)
    names = ("limit", "epochs", "hidden", *(name for name, _ in extra))
    flags = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    recipe.update(flags)
    command = f"python -m {module} --config {args.config}" + "".join(f" --{k} {v}" for k, v in flags.items())
    return args, recipe, command


def read_recipe(path: Path | str, defaults: dict, model: str = MODEL) -> dict:
    """The keys of a recipe file (``configs/*.yaml``) over ``defaults``; a missing file, an unknown key or another
    ``model`` than ``model`` (the perceptrons' ``MODEL`` unless told) is an error naming it."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InkmathError(f"Recipe {path} not found; run from the repository's root or give --config PATH")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise InkmathError(f"Recipe {path} is not a mapping of keys to values")
    unknown = sorted(set(data) - set(defaults))
    if unknown:
        raise InkmathError(f"Recipe {path} has unknown keys {unknown}; known: {sorted(defaults)}")
    out = {**defaults, **data}
    if out["model"] != model:
        raise InkmathError(f"Recipe {path} trains model {out['model']!r}; this recipe module trains {model!r}")
    return out


def write_card(weights: Path, card: dict) -> None:
    """Writes a shipped model's card beside its weights (``NAME.json``, atomically), stamped with when it was made,
    and prints it: the last step of a recipe."""
    import datetime as dt
    import json

    card = {**card, "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    atomic_write_text(Path(weights).with_suffix(".json"), json.dumps(card, indent=1) + "\n")
    print(json.dumps(card))


def write_coefficients(out: Path, coefficients: dict, names, card: dict) -> None:
    """Fitted coefficients as weights: one float64 tensor for each of ``names`` (in that order), and the card beside
    them, each written atomically (the calibration's and the look-alike size model's recipes). The model loaded from
    ``out`` before is forgotten (``registry.forget``): it is the file's former content."""
    from safetensors.numpy import save

    atomic_write_bytes(out, save({n: np.asarray(coefficients[n], np.float64) for n in names}))
    write_card(out, card)
    registry.forget(out)
