"""Weights carry their contract: ``NAME.safetensors`` + ``NAME.json`` (the card) + ``NAME.metrics.csv``.

Every shipped model lives in the package's ``weights/`` folder: the symbol classifiers and the expression reader's
small equation models (``stroke-merge``, ``layout-relation``). Every card (format ``inkmath-weights/1``) names what
the model is for (``purpose``), the architecture (``model``), its ``parameters``, the recipe file under ``configs/``
(``config``) and the exact command that rebuilds it from that recipe (``train_command``), the ``data``, the
``metrics`` with the data they were measured on, and when it was ``created``. A classifier's card also holds the
classes and their LaTeX, the input size, the preprocessing preset and the resolved training ``settings``.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
from importlib import resources
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write_bytes, atomic_write_text

FORMAT = "inkmath-weights/1"
# former or size-explicit names that still load: the shipped name each stands for
ALIASES = {"crohme-s": "crohme", "stroke_merge": "stroke-merge", "layout_relation": "layout-relation"}


def shipped_dir() -> Path:
    return Path(str(resources.files("inkmath").joinpath("weights")))


def shipped_file(name: str) -> Path:
    """``name``'s shipped ``.safetensors`` file, or ``name`` itself when it is a path to one."""
    p = Path(name)
    return p if p.suffix == ".safetensors" else shipped_dir() / f"{name}.safetensors"


def load_arrays_and_card(path: Path, what: str, advice: str) -> tuple[dict, dict]:
    """(the NumPy arrays of the ``.safetensors`` file ``path``, its JSON card beside it). Either missing is an error
    naming ``what`` the file holds and the ``advice`` (the command that makes it)."""
    from safetensors.numpy import load_file

    card_path = path.with_suffix(".json")
    if not path.is_file() or not card_path.is_file():
        raise InkmathError(f"{what} {path} (with its card {card_path.name}) not found; {advice}")
    return load_file(str(path)), json.loads(card_path.read_text())


def list_shipped_models() -> dict[str, dict]:
    """Every shipped model by name, with its card: the symbol classifiers and the reader's other models."""
    out = {}
    for card_path in sorted(shipped_dir().glob("*.json")):
        if card_path.with_suffix(".safetensors").exists():
            out[card_path.stem] = json.loads(card_path.read_text())
    return out


def is_classifier(card: dict) -> bool:
    """A symbol classifier (an image in, one of the card's classes out), as ``Predictor`` loads."""
    return "classes" in card and "num_classes" in card


def list_shipped() -> dict[str, dict]:
    """Shipped symbol classifiers by name, with their cards (what ``Predictor`` and the web page load)."""
    return {name: card for name, card in list_shipped_models().items() if is_classifier(card)}


def describe_shipped() -> list[dict]:
    """One row per shipped model, for ``inkmath models``: name, what it is for, architecture, parameters, recipe,
    training command and its headline metric."""
    rows = []
    for name, card in list_shipped_models().items():
        test = (card.get("metrics") or {}).get("test") or {}
        metrics = card.get("metrics") or {}
        if test.get("top1") is not None:
            headline = f"top-1 {test['top1']:.4f} on {test['spec']}"
        elif metrics.get("heldout_pair_accuracy") is not None:
            headline = f"pair accuracy {metrics['heldout_pair_accuracy']:.4f} held out ({metrics.get('heldout', '')})"
        elif metrics.get("heldout_parser_accuracy") is not None:
            headline = f"parser accuracy {metrics['heldout_parser_accuracy']:.4f} on the validation ink"
        else:  # another model: its first figure
            headline = next((f"{k.replace('_', ' ')} {v:.4g}" for k, v in metrics.items()
                             if isinstance(v, (int, float)) and not isinstance(v, bool)), "")
        rows.append({"name": name, "purpose": card.get("purpose", ""), "model": card.get("model"),
                     "parameters": card.get("parameters"), "classes": card.get("num_classes"),
                     "preset": card.get("preset"), "config": card.get("config"),
                     "train_command": card.get("train_command"), "metric": headline,
                     "aliases": sorted(a for a, n in ALIASES.items() if n == name), "metrics": metrics})
    return rows


def default_name() -> str:
    """The shipped symbol model with the largest vocabulary."""
    shipped = list_shipped()
    if not shipped:
        raise InkmathError("No weights are shipped in this installation; train one with `inkmath train`")
    return max(shipped, key=lambda n: (shipped[n]["num_classes"], n))


def resolve_weights(name_or_path: str | Path = "default") -> tuple[Path, dict]:
    """(safetensors path, card) for a shipped name, a .safetensors file, or a run folder."""
    s = str(name_or_path)
    p = Path(s).expanduser()
    if p.is_dir():
        p = p / "weights.safetensors"
    if p.suffix == ".json":
        p = p.with_suffix(".safetensors")
    if p.suffix == ".safetensors" or p.exists():
        if not p.is_file():
            raise InkmathError(f"No weights file at {p}")
        card_path = p.with_suffix(".json") if p.with_suffix(".json").exists() else p.parent / "card.json"
        if not card_path.exists():
            raise InkmathError(f"{p} has no card ({p.with_suffix('.json').name}); weights without a card cannot be used")
        return p, json.loads(card_path.read_text())
    name = default_name() if s == "default" else ALIASES.get(s, s)
    path = shipped_dir() / f"{name}.safetensors"
    if not path.exists():
        names = ", ".join(list_shipped()) or "none"
        raise InkmathError(f"Unknown weights {s!r}: not a file, and not a shipped name (shipped: {names})")
    card = json.loads(path.with_suffix(".json").read_text())
    if not is_classifier(card):
        raise InkmathError(f"{name!r} is not a symbol classifier ({card.get('purpose', 'an equation model')}); "
                           f"choose one of: {', '.join(list_shipped())}")
    return path, card


def recipe_of(command: str) -> str | None:
    """The recipe file a training command names (``--config PATH``), or None."""
    import shlex

    words = shlex.split(command)
    for k, w in enumerate(words):
        if w == "--config" and k + 1 < len(words):
            return words[k + 1]
        if w.startswith("--config="):
            return w.split("=", 1)[1]
    return None


def card_settings(card: dict) -> dict:
    """The resolved training settings of a card (``settings``; cards before it was named so keep them under
    ``config``)."""
    if isinstance(card.get("settings"), dict):
        return card["settings"]
    return card["config"] if isinstance(card.get("config"), dict) else {}


def make_card(cfg, model, vocab, metrics: dict, command: str) -> dict:
    from inkmath.models import count_parameters
    from inkmath.preprocess import get_preset

    preset = get_preset(cfg.resolved_preset())
    return {
        "format": FORMAT,
        "name": cfg.name or Path(cfg.out).name,
        "model": cfg.model,
        "num_classes": len(vocab),
        "in_size": preset.size,
        "preset": preset.name,
        "parameters": count_parameters(model),
        "classes": vocab.to_dict(),
        "data": {"train": cfg.dataset, "val": cfg.val or f"{cfg.val_fraction:g} of the training set", "test": cfg.test},
        "purpose": cfg.purpose,
        "train_command": command,
        "config": recipe_of(command),
        "settings": cfg.to_dict(),
        "metrics": metrics,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def save_weights(model, card: dict, path: Path) -> None:
    """``path`` (.safetensors) and the card beside it (same stem, .json); both written atomically."""
    from safetensors.torch import save

    path = Path(path)
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save(state, metadata={"format": FORMAT, "model": card["model"]}))
    atomic_write_text(path.with_suffix(".json"), json.dumps(card, indent=1) + "\n")


def load_model(name_or_path: str | Path = "default"):
    """(torch model in eval mode, card)."""
    from safetensors.torch import load_file

    from inkmath.models import create_model

    path, card = resolve_weights(name_or_path)
    model = create_model(card["model"], num_classes=card["num_classes"], in_size=card["in_size"])
    try:
        model.load_state_dict(load_file(str(path)))
    except RuntimeError as e:
        raise InkmathError(f"{path} does not match model {card['model']!r} of its card: {str(e)[:300]}") from None
    model.eval()
    return model, card


def export_run(run_dir: Path, name: str, dest: Path | None = None) -> Path:
    """Ship a finished run: copy its weights, card (renamed) and metrics/batches CSVs as ``dest/name.*``."""
    run_dir = Path(run_dir)
    src = run_dir / "weights.safetensors"
    if not src.exists():
        raise InkmathError(f"{run_dir} has no weights.safetensors: has the run finished?")
    dest = Path(dest) if dest else shipped_dir()
    dest.mkdir(parents=True, exist_ok=True)
    card = json.loads(src.with_suffix(".json").read_text())
    card["name"] = name
    card["history"] = f"{name}.metrics.csv"
    shutil.copyfile(src, dest / f"{name}.safetensors")
    for csv_name in ("metrics", "batches"):
        if (run_dir / f"{csv_name}.csv").exists():
            shutil.copyfile(run_dir / f"{csv_name}.csv", dest / f"{name}.{csv_name}.csv")
    atomic_write_text(dest / f"{name}.json", json.dumps(card, indent=1) + "\n")
    return dest / f"{name}.safetensors"
