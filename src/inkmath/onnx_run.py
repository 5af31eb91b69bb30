"""Weights run on ONNX Runtime: the float graph exported once (``onnx_export``) or its 8-bit quantization
(``onnx_int8``), whichever the weights ship for.

    run = load_onnx_runner(safetensors_path, card)   # float32 (N, 1, S, S) -> logits (N, C)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkmath import onnx_int8
from inkmath.errors import InkmathError
from inkmath.onnx_export import INPUT_NAME, OUTPUT_NAME, cached_onnx_path


def load_onnx_runner(safetensors_path: str | Path, card: dict, threads: int | None = None,
                     int8: bool | None = None):
    """A callable float32 (N, 1, S, S) -> logits (N, C) on ONNX Runtime (CPU).

    ``threads`` bounds ONNX Runtime's intra-op threads (default: its own choice); the web server passes 1 so that
    concurrent requests do not fight over the cores. ``int8``: run the 8-bit graph (``onnx_int8``); None (default):
    as shipped, 8-bit for the weights named in ``onnx_int8.INT8_WEIGHTS`` whose ranges ship, float for the others.
    """
    import onnxruntime as ort
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

    if int8 is None:
        int8 = onnx_int8.wants_int8(card)
    path = onnx_int8.int8_onnx_path(safetensors_path, card) if int8 else cached_onnx_path(safetensors_path, card)
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"],
                                       disabled_optimizers=list(onnx_int8.ORT_DISABLED_OPTIMIZERS) if int8 else [])
    except (ort_errors.Fail, ort_errors.InvalidGraph, ort_errors.InvalidProtobuf, ort_errors.NoSuchFile) as e:
        raise InkmathError(f"ONNX Runtime cannot load {path} ({str(e)[:200]}); delete it to export again") from None
    size = int(card["in_size"])

    def run(batch: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (1, size, size):
            raise InkmathError(f"The model expects a batch of shape (N, 1, {size}, {size}), got {x.shape}")
        return session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]

    return run
