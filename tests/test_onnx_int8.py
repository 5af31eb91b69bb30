"""The reader's classifier in 8 bits on ONNX Runtime (``inkmath.onnx_int8``): it is what ONNX Runtime runs for the
weights named in ``INT8_WEIGHTS``, it reads real crops as the float graph does, and ranges made for other weights are
refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inkmath import InkmathError

pytest.importorskip("onnxruntime")


def _crops() -> list[np.ndarray]:
    """The symbols of a synthetic handwritten expression, cut as the image reader cuts them."""
    from inkmath import ink, synth
    from inkmath.equation.image.parts import components, render_parts

    img, _ = ink.rasterize(synth.write("2x^2+3x-5=0", seed=3), padding=20)
    return [render_parts(img, [m], b) for b, m in components(img)]


def test_the_reader_classifier_runs_in_8_bits_and_reads_as_its_float_graph(tmp_path, monkeypatch):
    import onnx

    from inkmath import onnx_int8
    from inkmath.onnx_run import load_onnx_runner
    from inkmath.predict import Predictor
    from inkmath.weights import resolve_weights

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    path, card = resolve_weights("crohme-m")
    assert onnx_int8.wants_int8(card)
    graph = onnx.load(str(onnx_int8.int8_onnx_path(path, card)))
    assert any(n.op_type == "QuantizeLinear" for n in graph.graph.node)  # 8-bit, not the float graph again
    shipped = Predictor.load("crohme-m", engine="onnx")  # as ONNX Runtime runs it: 8 bits
    floats = Predictor(load_onnx_runner(path, card, int8=False), card, "onnx")
    crops = _crops()
    assert len(crops) >= 8
    a, za = shipped.predict_with_logits(crops, ink="white")
    b, zb = floats.predict_with_logits(crops, ink="white")
    assert [p[0].label for p in a] == [p[0].label for p in b]
    assert 0 < np.abs(za - zb).max() < 1.5
    # weights not named in INT8_WEIGHTS run their float graph
    assert not onnx_int8.wants_int8(resolve_weights("mnist")[1])


def test_ranges_calibrated_on_other_weights_are_refused(tmp_path, monkeypatch):
    from inkmath import onnx_int8
    from inkmath.weights import resolve_weights

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    path, card = resolve_weights("crohme-m")
    spec = json.loads(onnx_int8.ranges_path(card).read_text())
    assert spec["format"] == onnx_int8.FORMAT and spec["ranges"]
    other = tmp_path / "crohme-m.int8.json"
    other.write_text(json.dumps(dict(spec, weights_key="0" * 64)))
    monkeypatch.setattr(onnx_int8, "ranges_path", lambda card: other)
    with pytest.raises(InkmathError, match="calibrated on other weights"):
        onnx_int8.int8_onnx_path(path, card)
    other.write_text("{not json")
    with pytest.raises(InkmathError, match="Cannot read the 8-bit ranges"):
        onnx_int8.int8_onnx_path(path, card)


def test_the_8_bit_graph_pools_in_float_and_reads_the_logits_of_onnx_runtimes_own_rewrite(tmp_path, monkeypatch):
    """``ORT_DISABLED_OPTIMIZERS``: without QDQ propagation the stem's MaxPool stays float (ONNX Runtime's fast
    pooling, not its generic uint8 kernel), and the logits are those of the graph as ONNX Runtime rewrites it by
    default, to the bit (the max commutes with the quantization)."""
    import onnx
    import onnxruntime as ort

    from inkmath import onnx_int8
    from inkmath.onnx_run import load_onnx_runner
    from inkmath.predict import Predictor
    from inkmath.weights import resolve_weights

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    path, card = resolve_weights("crohme-m")
    graph = str(onnx_int8.int8_onnx_path(path, card))

    def session(disabled: list[str], saved: str | None = None):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3  # the saved graph's notice that it holds this machine's layout
        if saved:
            opts.optimized_model_filepath = saved
        return ort.InferenceSession(graph, opts, providers=["CPUExecutionProvider"], disabled_optimizers=disabled)

    def pool_inputs(saved: str) -> list[str]:
        nodes = onnx.load(saved).graph.node
        made = {out: n.op_type for n in nodes for out in n.output}
        return [made.get(n.input[0]) for n in nodes if n.op_type == "MaxPool"]

    session([], str(tmp_path / "default.onnx"))
    session(list(onnx_int8.ORT_DISABLED_OPTIMIZERS), str(tmp_path / "shipped.onnx"))
    assert pool_inputs(str(tmp_path / "default.onnx")) == ["QuantizeLinear"]  # what the switch is for
    pools = pool_inputs(str(tmp_path / "shipped.onnx"))
    assert pools and "QuantizeLinear" not in pools
    default = session([])
    rewritten = Predictor(lambda x: default.run(None, {default.get_inputs()[0].name: x})[0], card, "onnx")
    shipped = Predictor(load_onnx_runner(path, card, threads=1), card, "onnx")
    crops = _crops()
    _, za = shipped.predict_with_logits(crops, ink="white")
    _, zb = rewritten.predict_with_logits(crops, ink="white")
    assert np.array_equal(za, zb)
    rng = np.random.default_rng(0)
    x = (rng.random((9, 1, 32, 32)) * (rng.random((9, 1, 32, 32)) > 0.6)).astype(np.float32)
    assert np.array_equal(shipped.logits(x), rewritten.logits(x))
