"""ONNX export of shipped or trained weights, and the ONNX Runtime engine behind ``Predictor.load(engine="onnx")``.

    inkmath export-onnx mnist --out mnist.onnx
    run = onnx_run.load_onnx_runner(safetensors_path, card)   # float32 (N, 1, S, S) -> logits (N, C)
    session = cached_session("context", digest, export)  # the reader's small models, exported once into the cache

Why a cache: exporting needs torch and takes about a second; the exported graph depends only on the weights'
bytes and the card's architecture, so it is written once under ``cache_dir()/onnx/<sha256>.onnx`` and later
loads need only ``onnxruntime``. The graph has a dynamic batch axis, so one file serves single symbols and batches.

torch 2.13 makes the torch.export-based exporter the default, which needs ``onnxscript`` (not a dependency);
the TorchScript exporter (``dynamo=False``) handles these plain CNNs and gives the same logits (see the parity
test in tests/test_onnx.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write_bytes
from inkmath.data import cache_dir
from inkmath.weights import load_model

OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "logits"


def weights_key(safetensors_path: str | Path, card: dict) -> str:
    """sha256 over the weights' bytes and the parts of the card that shape the graph."""
    h = hashlib.sha256()
    with open(safetensors_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    arch = {k: card.get(k) for k in ("model", "num_classes", "in_size")}
    h.update(json.dumps(arch, sort_keys=True).encode())
    h.update(f"opset{OPSET}".encode())
    return h.hexdigest()


def export_bytes(name_or_path: str | Path) -> tuple[bytes, dict]:
    """(serialized ONNX model, card) for shipped weights or a .safetensors file; dynamic batch axis."""
    import torch

    model, card = load_model(name_or_path)
    size = int(card["in_size"])
    data = module_bytes(model, (torch.zeros(1, 1, size, size),), [INPUT_NAME], [OUTPUT_NAME],
                        {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    _check(data)
    return data, card


def module_bytes(module, example: tuple, inputs: list[str], outputs: list[str], axes: dict,
                 opset: int = OPSET) -> bytes:
    """The ONNX graph of a torch module run on ``example`` (eval mode, no gradients), with the dynamic ``axes`` by
    input and output name: the classifiers (``export_bytes``) and the reader's other models that run on ONNX Runtime
    (the symbol-context ensemble, the structure encoder, the ink extractor) export through this."""
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's notices (see the module docstring)
        torch.onnx.export(module.eval(), example, buf, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=opset, dynamo=False)
    return buf.getvalue()


def _check(data: bytes) -> None:
    import onnx

    try:
        onnx.checker.check_model(onnx.load_from_string(data))
    except onnx.checker.ValidationError as e:
        raise InkmathError(f"The exported ONNX graph is invalid ({e}); please report this with the weights' card") from None


def export_onnx(name_or_path: str | Path, out: str | Path | None = None) -> Path:
    """Write the ONNX model (atomically) to ``out`` (default: ``<weights name>.onnx`` in the current folder)."""
    data, card = export_bytes(name_or_path)
    path = Path(out) if out else Path(f"{card.get('name') or Path(str(name_or_path)).stem}.onnx")
    atomic_write_bytes(path, data)
    return path


def cached_onnx_path(safetensors_path: str | Path, card: dict) -> Path:
    """The exported model for these weights in the cache, exported on first use."""
    path = cache_dir() / "onnx" / f"{weights_key(safetensors_path, card)}.onnx"
    if not path.is_file():
        data, _ = export_bytes(safetensors_path)
        atomic_write_bytes(path, data)
    return path


def hash_tensors(h, tensors: dict[str, np.ndarray]) -> None:
    """Update the hash ``h`` (a ``hashlib`` object) with ``tensors``' names and float32 bytes, in name order: what a
    graph exported from them depends on (``cached_session``'s digest)."""
    for k in sorted(tensors):
        h.update(k.encode() + np.ascontiguousarray(tensors[k], np.float32).tobytes())


def cached_session(name: str, digest: str, export):
    """A one-thread ONNX Runtime session (CPU) of a graph kept in the cache as ``onnx/<name>-<digest>.onnx``, written
    (atomically) from ``export()``'s bytes the first time: the reader's small models that run on ONNX Runtime (the
    symbol-context ensemble, the structure models' encoders), exported from their torch modules."""
    import onnxruntime as ort

    path = cache_dir() / "onnx" / f"{name}-{digest}.onnx"
    if not path.is_file():
        atomic_write_bytes(path, export())
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def parity(name_or_path: str | Path, onnx_path: str | Path, n: int = 8, seed: int = 0) -> float:
    """Largest |logit difference| between ONNX Runtime and PyTorch on ``n`` random inputs."""
    import onnxruntime as ort
    import torch

    model, card = load_model(name_or_path)
    size = int(card["in_size"])
    x = np.random.default_rng(seed).random((n, 1, size, size), dtype=np.float32)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    return float(np.abs(got - want).max())
