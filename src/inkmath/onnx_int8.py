"""The expression reader's classifier in 8-bit integers on ONNX Runtime: its ONNX graph quantized with activation
ranges that ship beside the weights, so that a read's 40-odd candidate crops cost about 0.7x their float time.

    python -m inkmath.onnx_int8 crohme-m        # calibrate: write src/inkmath/weights/crohme-m.int8.json
    path = int8_onnx_path(safetensors_path, card)   # the quantized graph, built in the cache on first use

How: ONNX Runtime's static quantization (QDQ, int8 weights per output channel, uint8 activations), the ranges of
the activations chosen by its percentile calibration (99.999) over ``CALIBRATION_CROPS`` crops of the training
symbols (``crohme:train``, never validation or test); the first convolution (it reads the raw pixels) and the last
layer (the logits) stay in float. The ranges are a few numbers per tensor, shipped as ``NAME.int8.json``; the
quantized graph is rebuilt from them and the float graph (``onnx_export.cached_onnx_path``) into the same cache.
Which weights run quantized: ``INT8_WEIGHTS`` (the choice and its measurement: docs/decisions/speed.md).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write, atomic_write_bytes
from inkmath.data import cache_dir, load_dataset
from inkmath.onnx_export import cached_onnx_path, weights_key
from inkmath.weights import resolve_weights, shipped_dir

# weights whose ONNX Runtime engine runs their 8-bit graph when their ranges ship (``ranges_path``). crohme-m, the
# reader's classifier: on the 2011-2013 validation read with ONNX Runtime, the same expressions right within noise
# (strokes and WAP-like images; decision note docs/decisions/speed.md) for about 0.91x the CPU of a 10-symbol read
INT8_WEIGHTS = {"crohme-m"}
# ONNX Runtime's graph rewrites left out when it loads the 8-bit graph. Its QDQ propagation moves the stem's
# QuantizeLinear from after the float MaxPool to before it, so that the pool runs on uint8, where ONNX Runtime 1.31 has
# only a generic pooling kernel: that one MaxPool was about a third of the classifier's CPU (a batch of 25 crops,
# one thread: 10.0 -> 6.8 ms without the rewrite). The max commutes with the (monotonic) quantization, so the
# logits are the same to the bit either way (docs/decisions/speed.md)
ORT_DISABLED_OPTIMIZERS = ("QDQPropagationTransformer",)
CALIBRATION_CROPS = 3000
CALIBRATION_SEED = 0
CALIBRATION_BATCH = 100
PERCENTILE = 99.999
FORMAT = "inkmath-int8/1"


def ranges_path(card: dict) -> Path:
    """Where the ranges of shipped weights ``card['name']`` live (``src/inkmath/weights/NAME.int8.json``)."""
    return shipped_dir() / f"{card.get('name')}.int8.json"


def wants_int8(card: dict) -> bool:
    """Do these weights run quantized on ONNX Runtime (named in ``INT8_WEIGHTS``, their ranges shipped)?"""
    return card.get("name") in INT8_WEIGHTS and ranges_path(card).is_file()


def _float_graph(safetensors_path: str | Path, card: dict) -> Path:
    """The float graph after ONNX Runtime's pre-processing for quantization (shape inference), cached."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    path = cache_dir() / "onnx" / f"{weights_key(safetensors_path, card)}-pre.onnx"
    if not path.is_file():  # atomically: another process may build the same file at once
        source = str(cached_onnx_path(safetensors_path, card))
        atomic_write(path, lambda tmp: quant_pre_process(source, tmp), suffix=".onnx")
    return path


def _kept_float(graph: Path) -> list[str]:
    """The nodes left in float: the first convolution and the last layer."""
    import onnx

    nodes = onnx.load(str(graph)).graph.node
    convs = [n.name for n in nodes if n.op_type == "Conv"]
    last = [n.name for n in nodes if n.op_type in ("Gemm", "MatMul")]
    return convs[:1] + last[-1:]


def _quantize(graph: Path, out: Path, cache: Path, reader=None) -> None:
    """ONNX Runtime's static quantization of ``graph`` into ``out``, the ranges read from (or, with ``reader``,
    calibrated into) ``cache``, ONNX Runtime's calibration cache file."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    quantize_static(str(graph), str(out), reader, quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.Percentile, nodes_to_exclude=_kept_float(graph),
                    calibration_cache_path=str(cache),
                    extra_options={"CalibPercentile": PERCENTILE})


def _ort_cache(ranges: dict[str, list[float]]) -> dict:
    """ONNX Runtime's calibration cache (``TensorsData.to_dict`` as JSON) holding ``ranges``."""
    def arr(v: float) -> dict:
        return {"data": float(v), "dtype": "float32", "CLS": "numpy.array"}

    return {"CLS": "TensorsData", "calibration_method": {"CLS": "CalibrationMethod",
                                                         "value": "CalibrationMethod.Percentile"},
            "data": {k: {"lowest": arr(lo), "highest": arr(hi), "CLS": "TensorData"} for k, (lo, hi) in
                     ranges.items()}, "smooth_quant": False}


def _number(v) -> float:
    """A range end as ONNX Runtime's calibration cache writes it: a number, or an array as a dict."""
    return float(np.asarray(v["data"] if isinstance(v, dict) else v).reshape(-1)[0])


def int8_onnx_path(safetensors_path: str | Path, card: dict) -> Path:
    """The 8-bit graph of these weights, built in the cache on first use from the float graph and the shipped
    ranges (which must have been calibrated on these very weights)."""
    spec_path = ranges_path(card)
    try:
        spec = json.loads(spec_path.read_text())
    except (OSError, ValueError) as e:
        raise InkmathError(f"Cannot read the 8-bit ranges {spec_path} ({e}); calibrate them again with "
                           f"`python -m inkmath.onnx_int8 {card.get('name')}`") from None
    key = weights_key(safetensors_path, card)
    if spec.get("format") != FORMAT or spec.get("weights_key") != key:
        raise InkmathError(f"The 8-bit ranges {spec_path} were calibrated on other weights than {safetensors_path}; "
                           f"calibrate them again with `python -m inkmath.onnx_int8 {card.get('name')}`")
    digest = hashlib.sha256(json.dumps(spec["ranges"], sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir() / "onnx" / f"{key}-int8-{digest}.onnx"
    if not path.is_file():
        graph = _float_graph(safetensors_path, card)
        with tempfile.TemporaryDirectory(prefix="inkmath-int8-") as tmp:
            cache = Path(tmp) / "ranges.json"
            cache.write_text(json.dumps(_ort_cache(spec["ranges"])))
            out = Path(tmp) / "int8.onnx"
            _quantize(graph, out, cache)
            atomic_write_bytes(path, out.read_bytes())
    return path


def calibrate(name: str = "crohme-m") -> Path:
    """Choose the activation ranges of shipped weights ``name`` on crops of its training set (the card's
    ``data.train``) and write them beside the weights (``ranges_path``). Returns that path."""
    import datetime

    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader

    path, card = resolve_weights(name)
    spec = card["data"]["train"]
    train = load_dataset(spec)
    pick = np.random.default_rng(CALIBRATION_SEED).choice(len(train.images), CALIBRATION_CROPS, replace=False)
    crops = (train.images[pick].astype(np.float32) / 255.0)[:, None]
    graph = _float_graph(path, card)
    input_name = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"]).get_inputs()[0].name

    class Crops(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{input_name: crops[i:i + CALIBRATION_BATCH]}
                                 for i in range(0, len(crops), CALIBRATION_BATCH)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory(prefix="inkmath-int8-") as tmp:
        cache = Path(tmp) / "ranges.json"
        _quantize(graph, Path(tmp) / "int8.onnx", cache, Crops())
        data = json.loads(cache.read_text())["data"]
    ranges = {k: [_number(v["lowest"]), _number(v["highest"])] for k, v in sorted(data.items())}
    out = ranges_path(card)
    doc = {"format": FORMAT, "name": card["name"],
           "purpose": f"activation ranges that run {card['name']} in 8-bit integers on ONNX Runtime",
           "method": f"ONNX Runtime static quantization, QDQ, int8 weights per channel, uint8 activations, "
                     f"percentile calibration {PERCENTILE}; the first Conv and the last layer stay float",
           "data": f"{spec}: {CALIBRATION_CROPS} crops (seed {CALIBRATION_SEED}, batches of {CALIBRATION_BATCH})",
           "command": f"python -m inkmath.onnx_int8 {name}", "weights_key": weights_key(path, card),
           "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "ranges": ranges}
    atomic_write_bytes(out, (json.dumps(doc, indent=1) + "\n").encode())
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Calibrate the 8-bit ranges of shipped weights on their training crops")
    ap.add_argument("name", nargs="?", default="crohme-m")
    args = ap.parse_args(argv)
    print(calibrate(args.name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
