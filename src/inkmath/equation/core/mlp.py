"""The one-hidden-layer perceptron behind the small equation models (stroke merge, layout relation, the pair models):
NumPy inference from ``.safetensors`` tensors, so reading an expression needs no torch for them. Each model class
registers itself (``registry.register``) and loads through ``registry.load_model``: a ``BinaryMLP`` subclass reads one
perceptron (``from_weights``), an ensemble its members (``load_members``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError

TENSORS = ("mean", "std", "w1", "b1", "w2", "b2")


@dataclass
class TanhMLP:
    """features -> standardise (mean, std) -> tanh layer (w1, b1) -> linear outputs (w2, b2)."""

    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def logits(self, feats: np.ndarray) -> np.ndarray:
        """(N, outputs) for (N, features); (outputs,) for one feature vector."""
        x = (feats - self.mean) / self.std
        return np.tanh(x @ self.w1 + self.b1) @ self.w2 + self.b2

    @classmethod
    def from_weights(cls, path: Path, card: dict | None = None):
        """The perceptron of a weights file (tensors ``TENSORS``), for ``registry.load_model``; a file that lacks
        them is an error naming the class's recipe (``registry.register``)."""
        return cls(**load_tensors(path, cls.WHAT, cls.RECIPE))


class BinaryMLP(TanhMLP):
    """A one-output ``TanhMLP`` read as a probability: the sigmoid of its logit."""

    def prob(self, feats: np.ndarray) -> np.ndarray:
        z = self.logits(np.atleast_2d(feats))[:, 0]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


class SoftmaxMLP(TanhMLP):
    """A several-output ``TanhMLP`` read as probabilities over its outputs: the softmax of its logits."""

    def probs(self, feats: np.ndarray) -> np.ndarray:
        """(outputs,) for one feature vector, (N, outputs) for a matrix."""
        z = self.logits(np.asarray(feats, np.float32))
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


def load_tensors(path: Path, what: str, recipe: str, prefix: str = "") -> dict[str, np.ndarray]:
    """The tensors of a shipped model file (those named ``prefix`` + one of ``TENSORS``); a missing file is an error
    naming the recipe that rebuilds it."""
    from safetensors.numpy import load_file

    if not path.is_file():
        raise InkmathError(f"{what} {path} is missing; train it with `python -m {recipe}` "
                           f"(needs the CROHME training archive).")
    t = load_file(str(path))
    missing = [prefix + k for k in TENSORS if prefix + k not in t]
    if missing:
        raise InkmathError(f"{what} {path} lacks the tensors {missing}; train it again with `python -m {recipe}`.")
    return {k: t[prefix + k] for k in TENSORS}


def member_prefixes(path: Path) -> list[str]:
    """How the members of an ensemble file are named ('0.', '1.', ...: tensors '0.w1', '1.w1', ...), or [''] for a
    file of one perceptron (tensors 'w1', ...)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        count = len({k.split(".", 1)[0] for k in f.keys() if "." in k})
    return [f"{k}." for k in range(count)] or [""]


def load_members(path: Path, member, what: str, recipe: str) -> list:
    """The perceptrons of an ensemble file (``member_prefixes``), each a ``member(**tensors)``."""
    return [member(**load_tensors(path, what, recipe, prefix)) for prefix in member_prefixes(path)]


MODEL = "tanh-mlp"  # the ``model`` of the equation models' cards and recipes
