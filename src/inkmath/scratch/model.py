"""Sequential: a list of layers run in order, with torch-style state dicts and safetensors save/load.

State keys are ``<child name>.<param>`` recursively, where a child's name defaults to its index, so a scratch model
built in the same order as a torch ``nn.Sequential`` has the same keys ("0.weight", "4.bias", ...), and named
children ("stem", "blocks", "fc") reproduce the keys of torch modules with attributes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from inkmath.errors import InkmathError
from inkmath.scratch.layers import BatchNorm, Conv2D, Layer, ReLU, no_grad
from inkmath.atomic import atomic_write, atomic_write_json


class Sequential(Layer):
    def __init__(self, layers: list[Layer] | list[tuple[str, Layer]]) -> None:
        super().__init__()
        named: list[tuple[str, Layer]] = []
        for i, item in enumerate(layers):
            named.append(item if isinstance(item, tuple) else (str(i), item))
        names = [n for n, _ in named]
        if len(set(names)) != len(names):
            raise InkmathError(f"Sequential child names must be unique, got {names}")
        self.layers = named
        # A model's input is data: no dL/dx unless asked (gradient checks, or a parent block that needs it).
        self.need_input_grad = False

    def children(self):
        return list(self.layers)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        for _, layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        # Only the layers after the first one with parameters need dL/dx of their input.
        first = self._first_trainable()
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i][1]
            layer.need_input_grad = self.need_input_grad or i > first
            dy = layer.backward(dy)
            if dy is None:
                return None
        return dy

    def _first_trainable(self) -> int:
        for i, (_, layer) in enumerate(self.layers):
            if any(True for _ in _iter_params(layer, "")):
                return i
        return len(self.layers)

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Logits in evaluation mode, in batches so memory stays bounded."""
        with no_grad():
            outs = [self.forward(x[i:i + batch_size], train=False) for i in range(0, len(x), batch_size)]
        return np.concatenate(outs) if outs else np.zeros((0, 0), np.float32)

    __call__ = forward

    # ------------------------------------------------------------------ state
    def parameters(self) -> Iterator[tuple[str, Layer, str]]:
        """(state key, owning layer, param name) for every trainable array; the optimizer updates layer.params."""
        yield from _iter_params(self, "")

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: np.ascontiguousarray(d[name]) for k, (d, name) in _iter_slots(self, "")}

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy arrays in by key; shapes must match. Missing or unexpected keys are an error when ``strict``."""
        own = dict(_iter_slots(self, ""))
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if strict and (missing or unexpected):
            raise InkmathError(f"State dict does not fit the model: missing {missing[:8]}, unexpected {unexpected[:8]}."
                               " Was it saved from a different model or size?")
        for key, (store, name) in own.items():
            if key not in state:
                continue
            value = np.asarray(state[key])
            if store[name].ndim == 0 and value.size == 1:  # counters: safetensors.numpy stores 0-d as (1,)
                value = value.reshape(())
            if value.shape != store[name].shape:
                raise InkmathError(f"Shape mismatch for {key!r}: weights have {value.shape}, the model expects "
                                   f"{store[name].shape}. Check num_classes and in_size.")
            store[name] = value.astype(store[name].dtype, copy=True)

    def save(self, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> Path:
        """Write the state dict to ``path`` as safetensors, atomically."""
        from safetensors.numpy import save_file

        state = self.state_dict()
        return atomic_write(path, lambda tmp: save_file(state, tmp, metadata=metadata), suffix=".tmp.safetensors")

    def load(self, path: str | os.PathLike) -> "Sequential":
        self.load_state_dict(load_state(path))
        return self

    def num_parameters(self) -> int:
        return sum(layer.params[name].size for _, layer, name in self.parameters())

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({n}): {'  '.join(repr(l).splitlines(True))}" for n, l in self.layers)
        return f"Sequential(\n{inner}\n)"


class ResidualBlock(Layer):
    """torch ``BasicBlock``: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut = 1x1 conv + BN when the
    stride or the width changes, else identity. Sub-layer names match torch's state dict keys."""

    def __init__(self, cin: int, cout: int, stride: int = 1, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.conv1 = Conv2D(cin, cout, 3, stride, 1, bias=False, rng=rng)
        self.bn1 = BatchNorm(cout)
        self.relu1 = ReLU()
        self.conv2 = Conv2D(cout, cout, 3, 1, 1, bias=False, rng=rng)
        self.bn2 = BatchNorm(cout)
        self.relu2 = ReLU()
        self.shortcut = None
        if stride != 1 or cin != cout:
            # a 1x1 conv + BN; keys shortcut.0.*, shortcut.1.*
            self.shortcut = Sequential([Conv2D(cin, cout, 1, stride, 0, bias=False, rng=rng), BatchNorm(cout)])

    def children(self):
        kids = [("conv1", self.conv1), ("bn1", self.bn1), ("conv2", self.conv2), ("bn2", self.bn2)]
        return kids + ([("shortcut", self.shortcut)] if self.shortcut is not None else [])

    def forward(self, x, train=False):
        out = self.relu1(self.bn1(self.conv1(x, train), train))
        out = self.bn2(self.conv2(out, train), train)
        skip = x if self.shortcut is None else self.shortcut(x, train)
        return self.relu2(out + skip)

    def backward(self, dy):
        d = self.relu2.backward(dy)  # flows into both branches
        self.conv1.need_input_grad = self.need_input_grad
        dmain = self.conv1.backward(self.bn1.backward(self.relu1.backward(self.conv2.backward(self.bn2.backward(d)))))
        if self.shortcut is None:
            dskip = d
        else:
            self.shortcut.need_input_grad = self.need_input_grad
            dskip = self.shortcut.backward(d)
        if not self.need_input_grad:
            return None
        return dmain + dskip


# ---------------------------------------------------------------------------------------------- loss
def load_state(path: str | os.PathLike) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise InkmathError(f"Weights file not found: {path}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise InkmathError(f"Cannot read safetensors weights {path}: {e}") from None


def save_json_atomic(path: str | os.PathLike, data: dict) -> Path:
    return atomic_write_json(path, data)


def _iter_slots(layer: Layer, prefix: str):
    """(key, (dict, name)) for params and buffers, so load_state_dict can replace arrays in place."""
    for d in (layer.params, layer.buffers):
        for name in d:
            yield prefix + name, (d, name)
    for cname, child in layer.children():
        yield from _iter_slots(child, f"{prefix}{cname}.")


def _iter_params(layer: Layer, prefix: str):
    for name in layer.params:
        yield prefix + name, layer, name
    for cname, child in layer.children():
        yield from _iter_params(child, f"{prefix}{cname}.")
