"""Run torch-trained weights without torch: rebuild a registry model in NumPy and load its state dict.

    model = from_torch_state("inkres", state, num_classes=369, in_size=32)   # state: {torch key: np.ndarray}
    logits = model.predict(batch)                                           # (N, 1, S, S) float32 -> (N, C)

    fn = load_weights_numpy("src/inkmath/weights/hasy.safetensors", card)   # what Predictor(engine="numpy") calls
    logits = fn(batch)

The NumPy mirrors in registry.py build the same layers in the same order with the same names, so torch's state
dict keys load one to one; any missing, extra or mis-shaped key is an error rather than a silently wrong model.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from inkmath.errors import InkmathError
from inkmath.scratch.model import Sequential, load_state
from inkmath.scratch.registry import create_numpy_model, list_numpy_models


def from_torch_state(model_name: str, state: dict[str, np.ndarray], num_classes: int, in_size: int) -> Sequential:
    """A scratch model with ``state`` loaded, in float32, ready for evaluation (``predict`` / ``forward(x)``)."""
    if model_name not in list_numpy_models():
        raise InkmathError(f"The numpy engine cannot run model {model_name!r}; it runs: "
                           f"{', '.join(list_numpy_models())}. Use engine='torch' for this model.")
    model = create_numpy_model(model_name, num_classes, in_size, seed=0)
    state = {k: np.asarray(v) for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model


class NumpyClassifier:
    """Callable (N, 1, S, S) float32 -> logits (N, C) float32; checks the input shape against the card."""

    def __init__(self, model: Sequential, in_size: int, num_classes: int, batch_size: int = 256) -> None:
        self.model, self.in_size, self.num_classes, self.batch_size = model, in_size, num_classes, batch_size

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = np.asarray(batch)
        if x.ndim != 4 or x.shape[1:] != (1, self.in_size, self.in_size):
            raise InkmathError(f"The model expects images (N, 1, {self.in_size}, {self.in_size}), got {x.shape}; "
                               "prepare them with inkmath.preprocess.prepare_batch and the card's preset")
        if len(x) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        return self.model.predict(x.astype(np.float32, copy=False), self.batch_size).astype(np.float32, copy=False)


def load_weights_numpy(safetensors_path: str | os.PathLike, card: dict) -> Callable[[np.ndarray], np.ndarray]:
    """Load shipped or trained weights (torch- or numpy-trained) into the numpy engine; returns a logits function."""
    missing = [k for k in ("model", "num_classes", "in_size") if k not in card]
    if missing:
        raise InkmathError(f"The weights card lacks {missing}; it needs model, num_classes and in_size")
    num_classes, in_size = int(card["num_classes"]), int(card["in_size"])
    model = from_torch_state(card["model"], load_state(safetensors_path), num_classes, in_size)
    return NumpyClassifier(model, in_size, num_classes)
