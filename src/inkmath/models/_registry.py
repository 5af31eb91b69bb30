"""A small timm-style registry: ``@register_model`` a factory, ``create_model`` by name."""

from __future__ import annotations

from typing import Callable

from inkmath.errors import InkmathError

_MODELS: dict[str, tuple[Callable, str]] = {}


def register_model(name: str, description: str = ""):
    def deco(fn: Callable) -> Callable:
        if name in _MODELS:
            raise ValueError(f"model {name!r} registered twice")
        _MODELS[name] = (fn, description or (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return deco


def list_models() -> dict[str, str]:
    """Registered model names and one-line descriptions."""
    return {k: d for k, (_, d) in sorted(_MODELS.items())}


def create_model(name: str, num_classes: int, in_size: int = 32, **kwargs):
    if name not in _MODELS:
        raise InkmathError(f"Unknown model {name!r}; choose one of: {', '.join(sorted(_MODELS))}")
    if num_classes < 2:
        raise InkmathError(f"A classifier needs at least 2 classes, got {num_classes}")
    model = _MODELS[name][0](num_classes=num_classes, in_size=in_size, **kwargs)
    model.registry_name = name
    return model


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
