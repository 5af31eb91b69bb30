"""One typed config: dataclass defaults <- YAML recipe <- command-line flags. Unknown keys are errors."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write_text


@dataclass
class TrainConfig:
    dataset: str = "mnist:train"  # training spec
    val: str | None = None  # validation spec; None: a stratified val_fraction of the training set
    val_fraction: float = 0.05
    test: str | None = None  # evaluated once with the best weights at the end and written into the card
    model: str = "seed-cnn"
    preset: str | None = None  # preprocessing preset; None: "mnist" for mnist:*, else "symbol32"
    engine: str = "torch"  # "torch" or "numpy" (inkmath.scratch)
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adamw"  # adamw | sgd
    lr: float = 2e-3
    weight_decay: float = 5e-4
    momentum: float = 0.9
    schedule: str = "cosine"  # cosine | onecycle | constant
    warmup_epochs: float = 0.5
    label_smoothing: float = 0.0
    augment: str = "none"  # none | light | strong (see augment.py)
    balanced: bool = False  # class-balanced sampling
    early_stopping: int = 0  # patience in epochs on validation accuracy; 0 = off
    limit: int = 0  # use only the first N training images (stratified), 0 = all; for quick runs and tests
    seed: int = 0
    threads: int = 0  # torch threads; 0 = torch's default
    checkpoint_seconds: float = 120.0  # also checkpoint mid-epoch this often, so an interruption loses little
    log_every: int = 50  # record the training loss every N steps (batches.csv)
    out: str = "runs/run"
    name: str = ""  # the weights' name in the card (default: the out folder's name)
    purpose: str = ""  # one line in the card: what the weights are for
    precision: str = "fp32"  # fp32 | bf16 (autocast; fast on CPUs with AMX or AVX512-BF16) | auto (bf16 when fast)
    init: str | None = None  # start from these weights (a run folder, a .safetensors file or a shipped name)
    teacher: str | None = None  # distil from these weights (same classes; a run folder, .safetensors or shipped name)
    distill_weight: float = 0.5  # with a teacher: loss = (1 - w) * cross-entropy + w * T^2 * KL(teacher || model)
    distill_temperature: float = 2.0  # T: both sets of logits are divided by T before the softmax

    def resolved_preset(self) -> str:
        if self.preset:
            return self.preset
        return "mnist" if self.dataset.startswith("mnist") else "symbol32"

    def to_dict(self) -> dict:
        return asdict(self)


def _coerce(field: dataclasses.Field, value):
    if value is None:
        return None
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
    try:
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("bool"):
            if isinstance(value, str):
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        return value if kind.startswith("str | None") and value is None else str(value)
    except (TypeError, ValueError):
        raise InkmathError(f"Config key {field.name!r} expects {kind}, got {value!r}") from None


def read_recipe(recipe: str | Path) -> dict:
    """The mapping of config keys a YAML recipe holds; a missing, unreadable or malformed one is one line
    ``RECIPE: what is wrong; what to do`` (PyYAML's own message spans several lines, and a file that is not UTF-8
    ended in a UnicodeDecodeError)."""
    path = Path(recipe)
    if not path.is_file():
        raise InkmathError(f"Config file {recipe} not found; the recipes are in configs/")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as e:
        raise InkmathError(f"{recipe}: not UTF-8 text (byte {e.start}); give a YAML recipe such as those in "
                           "configs/") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(str(getattr(e, "problem", None) or e).split())
        raise InkmathError(f"{recipe}: not valid YAML ({where}{problem}); fix it, or start from a recipe in "
                           "configs/") from None
    if not isinstance(data, dict):
        raise InkmathError(f"{recipe} must hold a mapping of config keys")
    return data


def recipe_values(path: str | Path | None, overrides: dict, known) -> dict:
    """A recipe's values (YAML at ``path``, if given) with the non-None ``overrides`` on top; an error names the keys
    not among ``known`` (a model trainer's config fields)."""
    values: dict = {}
    if path:
        values.update(read_recipe(path))
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InkmathError(f"Unknown config key(s) {unknown}; known keys: {', '.join(sorted(known))}")
    return values


def make_config(recipe: str | Path | None = None, overrides: dict | None = None) -> TrainConfig:
    """Defaults, then the YAML recipe, then ``overrides`` (flags; None values are ignored)."""
    known = {f.name: f for f in fields(TrainConfig)}
    values = recipe_values(recipe, overrides or {}, known)
    cfg = TrainConfig(**{k: _coerce(known[k], v) for k, v in values.items()})
    if cfg.optimizer not in ("adamw", "sgd"):
        raise InkmathError(f"optimizer must be adamw or sgd, got {cfg.optimizer!r}")
    if cfg.schedule not in ("cosine", "onecycle", "constant"):
        raise InkmathError(f"schedule must be cosine, onecycle or constant, got {cfg.schedule!r}")
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise InkmathError("epochs and batch_size must be at least 1")
    if not 0.0 <= cfg.distill_weight <= 1.0 or not cfg.distill_temperature > 0:
        raise InkmathError(f"distill_weight must be in [0, 1] and distill_temperature above 0, got "
                           f"{cfg.distill_weight} and {cfg.distill_temperature}")
    return cfg


def save_config(cfg: TrainConfig, path: Path) -> None:
    atomic_write_text(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
