"""The scratch engine's models: the seed project's four NumPy models and mirrors of the torch registry.

``seed003-m1..m4`` are the seed notebook's models (Glorot init, as the seed had):

    m1  Flatten -> Dense
    m2  Flatten -> Dense(128) -> ReLU -> Dense
    m3  Conv 3x3x8 -> ReLU -> MaxPool2 -> Flatten -> Dense
    m4  Conv 3x3x8 -> ReLU -> MaxPool2 -> Conv 5x5x12 -> ReLU -> MaxPool2 -> Flatten -> Dense

``seed-cnn``, ``mnist-cnn``, ``inkres`` and ``inkres-l`` rebuild ``inkmath.models.cnn`` layer for layer with the
same state-dict keys, so torch weights load into them (see interop.py) and NumPy can also train them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from inkmath.errors import InkmathError
from inkmath.scratch.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool, MaxPool2D, ReLU
from inkmath.scratch.model import ResidualBlock, Sequential

Builder = Callable[[int, int, np.random.Generator], Sequential]
_BUILDERS: dict[str, tuple[Builder, str]] = {}


def _register(name: str, description: str):
    def deco(fn: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"numpy model {name!r} registered twice")
        _BUILDERS[name] = (fn, description)
        return fn

    return deco


def list_numpy_models() -> dict[str, str]:
    return {k: d for k, (_, d) in sorted(_BUILDERS.items())}


def create_numpy_model(name: str, num_classes: int, in_size: int = 28, seed: int | None = 0) -> Sequential:
    """A freshly initialised scratch model; ``seed`` fixes the weights and the dropout masks."""
    if name not in _BUILDERS:
        raise InkmathError(f"Unknown numpy model {name!r}; choose one of: {', '.join(sorted(_BUILDERS))}")
    if num_classes < 2:
        raise InkmathError(f"A classifier needs at least 2 classes, got {num_classes}")
    model = _BUILDERS[name][0](num_classes, in_size, np.random.default_rng(seed))
    model.registry_name = name
    return model


# ---------------------------------------------------------------------------------------------- seed003
@_register("seed003-m1", "seed model 1: a single dense layer (multinomial logistic regression)")
def _m1(c: int, s: int, rng) -> Sequential:
    return Sequential([Flatten(), Dense(s * s, c, init="glorot", rng=rng)])


@_register("seed003-m2", "seed model 2: Dense(128) -> ReLU -> Dense")
def _m2(c: int, s: int, rng) -> Sequential:
    return Sequential([Flatten(), Dense(s * s, 128, init="glorot", rng=rng), ReLU(),
                       Dense(128, c, init="glorot", rng=rng)])


@_register("seed003-m3", "seed model 3: Conv3x3x8 -> ReLU -> MaxPool2 -> Dense")
def _m3(c: int, s: int, rng) -> Sequential:
    f = (s - 2) // 2
    return Sequential([Conv2D(1, 8, 3, init="glorot", rng=rng), ReLU(), MaxPool2D(2), Flatten(),
                       Dense(8 * f * f, c, init="glorot", rng=rng)])


@_register("seed003-m4", "seed model 4: Conv3x3x8 -> ReLU -> MaxPool2 -> Conv5x5x12 -> ReLU -> MaxPool2 -> Dense")
def _m4(c: int, s: int, rng) -> Sequential:
    f = ((s - 2) // 2 - 4) // 2
    if f < 1:
        raise InkmathError(f"seed003-m4 needs images of at least 14 px, got {s}")
    return Sequential([Conv2D(1, 8, 3, init="glorot", rng=rng), ReLU(), MaxPool2D(2),
                       Conv2D(8, 12, 5, init="glorot", rng=rng), ReLU(), MaxPool2D(2), Flatten(),
                       Dense(12 * f * f, c, init="glorot", rng=rng)])


# ---------------------------------------------------------------------------------------------- torch mirrors
@_register("seed-cnn", "mirror of the torch seed-cnn")
def _seed_cnn(c: int, s: int, rng) -> Sequential:
    h = s // 2
    return Sequential([Conv2D(1, 16, 3, padding=1, rng=rng), MaxPool2D(2), ReLU(), Flatten(),
                       Dense(16 * h * h, 64, init="he", rng=rng), ReLU(), Dense(64, c, rng=rng)])


@_register("mnist-cnn", "mirror of the torch mnist-cnn")
def _mnist_cnn(c: int, s: int, rng) -> Sequential:
    h = (s - 4) // 2
    return Sequential([Conv2D(1, 32, 3, rng=rng), ReLU(), Conv2D(32, 64, 3, rng=rng), ReLU(), MaxPool2D(2),
                       Dropout(0.25, rng), Flatten(), Dense(64 * h * h, 128, init="he", rng=rng), ReLU(),
                       Dropout(0.5, rng), Dense(128, c, rng=rng)])


def _inkresnet(c: int, rng, widths: tuple[int, ...], depths: tuple[int, ...], dropout: float) -> Sequential:
    w0 = widths[0]
    stem = Sequential([Conv2D(1, w0, 3, 1, 1, bias=False, rng=rng), BatchNorm(w0), ReLU(), MaxPool2D(2)])
    blocks: list[ResidualBlock] = []
    cin = w0
    for i, (w, d) in enumerate(zip(widths, depths)):
        for j in range(d):
            blocks.append(ResidualBlock(cin, w, stride=2 if (j == 0 and i > 0) else 1, rng=rng))
            cin = w
    return Sequential([("stem", stem), ("blocks", Sequential(blocks)), ("pool", GlobalAvgPool()),
                       ("dropout", Dropout(dropout, rng)), ("fc", Dense(cin, c, rng=rng))])


@_register("inkres", "mirror of the torch inkres")
def _inkres(c: int, s: int, rng) -> Sequential:
    return _inkresnet(c, rng, (32, 64, 128), (1, 1, 1), 0.2)


@_register("inkres-l", "mirror of the torch inkres-l")
def _inkres_l(c: int, s: int, rng) -> Sequential:
    return _inkresnet(c, rng, (48, 96, 192), (1, 2, 1), 0.3)


@_register("inkres-m", "mirror of the torch inkres-m")
def _inkres_m(c: int, s: int, rng) -> Sequential:
    return _inkresnet(c, rng, (32, 96, 192), (1, 1, 1), 0.3)


@_register("inkres-s", "mirror of the torch inkres-s")
def _inkres_s(c: int, s: int, rng) -> Sequential:
    return _inkresnet(c, rng, (24, 64, 128), (1, 1, 1), 0.2)
