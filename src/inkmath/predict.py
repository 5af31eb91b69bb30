"""Symbol prediction over any engine: torch (default), numpy (``inkmath.scratch``, no torch) or onnx.

    p = Predictor.load("hasy")
    p.predict([image])  # -> [[Prediction(label, latex, prob), ...top-k]]; images: arrays, paths, PIL images

The module itself is callable: ``inkmath.predict("digit.png")`` is ``predict_source("digit.png")`` below, with the
classifier loaded once per process by ``load_predictor``, the one cache of loaded classifiers.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import numpy as np

from inkmath.errors import InkmathError
from inkmath.preprocess import get_preset, prepare
from inkmath.vocab import Vocabulary
from inkmath.imageio import as_image
from inkmath.weights import list_shipped, resolve_weights


@dataclass
class Prediction:
    label: str
    latex: str
    prob: float

    def to_dict(self) -> dict:
        return {"label": self.label, "latex": self.latex, "prob": round(float(self.prob), 6)}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Predictor:
    def __init__(self, run_logits, card: dict, engine: str):
        self._run = run_logits
        self.card = card
        self.engine = engine
        self.vocab = Vocabulary.from_dict(card["classes"])
        self.preset = get_preset(card["preset"])

    @classmethod
    def load(cls, name_or_path: str = "default", engine: str = "torch", threads: int | None = None) -> "Predictor":
        """``threads``: ONNX Runtime's intra-op threads (``onnx_export.load_onnx_runner``; the other engines ignore
        it: PyTorch's threads are the process's)."""
        path, card = resolve_weights(name_or_path)
        if engine == "torch":
            import torch

            from inkmath.weights import load_model

            model, card = load_model(path)

            def run(x: np.ndarray) -> np.ndarray:
                with torch.no_grad():
                    return model(torch.from_numpy(x)).numpy()

            return cls(run, card, engine)
        if engine == "numpy":
            from inkmath.scratch.interop import load_weights_numpy

            return cls(load_weights_numpy(path, card), card, engine)
        if engine == "onnx":
            from inkmath.onnx_run import load_onnx_runner

            return cls(load_onnx_runner(path, card, threads=threads), card, engine)
        raise InkmathError(f"Unknown engine {engine!r}; choose torch, numpy or onnx")

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 1, S, S) -> (N, C) logits."""
        return np.asarray(self._run(np.ascontiguousarray(batch, dtype=np.float32)))

    def predict_prepared(self, batch: np.ndarray, top: int = 5) -> list[list[Prediction]]:
        return self.top_predictions(self.logits(batch), top)

    def top_predictions(self, logits: np.ndarray, top: int = 5) -> list[list[Prediction]]:
        """Top-``top`` predictions of each row of (N, C) logits; ``top`` a whole number from 1 (more than C: all C)."""
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            # top=0 gave no readings and top=-1 all but the last, without a word
            raise InkmathError(f"top must be a whole number of readings from 1, got {top!r}")
        probs = softmax(np.asarray(logits, np.float64))
        k = min(top, probs.shape[1])
        order = np.argsort(-probs, axis=1)[:, :k]
        return [[Prediction(self.vocab.names[j], self.vocab.latex[j], float(p[j])) for j in row]
                for p, row in zip(probs, order)]

    def predict(self, images, ink: str = "auto", top: int = 5, batch_size: int = 256) -> list[list[Prediction]]:
        """Top-``top`` predictions per image; an image is an array, a file path, encoded bytes or a PIL image."""
        return self.predict_with_logits(images, ink, top, batch_size)[0]

    def predict_with_logits(self, images, ink: str = "auto", top: int = 5, batch_size: int = 256
                            ) -> tuple[list[list[Prediction]], np.ndarray]:
        """``predict``'s predictions and the (N, C) float32 logits they come from (one pass)."""
        if (isinstance(images, (str, bytes)) or not hasattr(images, "__len__")
                or (isinstance(images, np.ndarray) and images.ndim == 2)):
            raise InkmathError(f"Predictor.predict takes a list of images, got a {type(images).__name__}; "
                               f"wrap one image in a list: predict([image])")
        out: list[list[Prediction]] = []
        logits: list[np.ndarray] = []
        for i in range(0, len(images), batch_size):
            chunk = images[i:i + batch_size]
            batch = np.stack([prepare(as_image(im), self.preset, ink) for im in chunk])[:, None]  # (B, 1, S, S)
            z = self.logits(batch)
            logits.append(z.astype(np.float32))
            out.extend(self.top_predictions(z, top))
        return out, (np.concatenate(logits) if logits else np.zeros((0, len(self.vocab.names)), np.float32))


# The weights ``predict`` and ``inkmath predict`` use unless told otherwise: the expression reader's classifier
# (digits, Latin and Greek letters, operators). Chosen on validation (benchmarks/predict_default.py): digits read as
# digits, top-1, crohme 0.5715 vs hasy 0.2825 on 2000 MNIST training digits and 0.9564 vs 0.3284 on crohme:val's digits.
PREDICT_WEIGHTS = "crohme"

_LOADED: dict[tuple[str, str, int | None], Predictor] = {}


def load_predictor(name: str, engine: str = "torch", threads: int | None = None) -> Predictor:
    """``Predictor.load(name, engine, threads)``, loaded once per process: the one cache of loaded classifiers, which
    the API, the reader and the web app share."""
    key = (name, engine, threads)
    if key not in _LOADED:
        _LOADED[key] = Predictor.load(name, engine=engine, threads=threads)
    return _LOADED[key]


def default_predict_weights() -> str:
    """``PREDICT_WEIGHTS`` when shipped in this installation, else the shipped default (the largest vocabulary)."""
    return PREDICT_WEIGHTS if PREDICT_WEIGHTS in list_shipped() else "default"


def predict_source(source, *, weights: str | None = None, top: int = 5, ink: str = "auto", engine: str = "torch"):
    """Top-``top`` symbol readings of one image -> [Prediction(label, latex, prob), ...], best first.

    ``source``: a file path, image bytes, a PIL image or a NumPy image array; a list of these gives one list of
    predictions per image. ``weights``: a shipped name or a path (default ``PREDICT_WEIGHTS``).
    """
    p = load_predictor(weights or default_predict_weights(), engine)
    if isinstance(source, (list, tuple)):
        return p.predict(list(source), ink=ink, top=top)
    return p.predict([source], ink=ink, top=top)[0]


class _CallableModule(types.ModuleType):
    """``inkmath.predict(source, ...)``: the package attribute ``predict`` is this module once it is imported."""

    def __call__(self, source, **options):
        return predict_source(source, **options)


sys.modules[__name__].__class__ = _CallableModule
