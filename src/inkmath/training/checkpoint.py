"""Full, atomic checkpoints (``inkmath.atomic``): a killed run keeps its last complete checkpoint."""

from __future__ import annotations

from pathlib import Path

from inkmath.atomic import atomic_save_torch, atomic_write_bytes, atomic_write_text  # noqa: F401 (re-exported)


def save_checkpoint(state: dict, path: Path) -> None:
    atomic_save_torch(path, state)


def load_checkpoint(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)
