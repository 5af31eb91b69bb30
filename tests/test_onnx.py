"""ONNX export and the ONNX Runtime engine: logits equal PyTorch's for every shipped model, batches of any size,
the export cache, and the `inkmath export-onnx` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.weights import list_shipped

SHIPPED = sorted(list_shipped())


@pytest.mark.parametrize("name", SHIPPED)
def test_onnx_logits_equal_torch_for_every_shipped_model(name):
    from inkmath.onnx_run import load_onnx_runner
    from inkmath.predict import Predictor
    from inkmath.weights import resolve_weights

    path, card = resolve_weights(name)
    onnx_p = Predictor(load_onnx_runner(path, card, int8=False), card, "onnx")  # the float graph (8-bit: test_onnx_int8)
    torch_p = Predictor.load(name, engine="torch")
    size = torch_p.preset.size
    rng = np.random.default_rng(1)
    for n in (1, 3, 17):  # the batch axis is dynamic
        x = rng.random((n, 1, size, size), dtype=np.float32)
        got, want = onnx_p.logits(x), torch_p.logits(x)
        assert got.shape == want.shape == (n, len(torch_p.vocab))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
    # same top-k on a real-looking input (a drawn stroke), not only on noise
    img = np.zeros((40, 40), np.uint8)
    img[5:35, 18:22] = 255
    assert [p.label for p in onnx_p.predict([img])[0]] == [p.label for p in torch_p.predict([img])[0]]


def test_export_is_cached_by_weights_hash(tmp_path, monkeypatch):
    from inkmath import onnx_export, onnx_run
    from inkmath.weights import resolve_weights

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    path, card = resolve_weights(SHIPPED[0])
    first = onnx_export.cached_onnx_path(path, card)
    assert first.parent == tmp_path / "cache" / "onnx" and first.is_file()
    stamp = first.stat().st_mtime_ns
    calls = []
    monkeypatch.setattr(onnx_export, "export_bytes", lambda *a: calls.append(a))
    assert onnx_export.cached_onnx_path(path, card) == first  # second use: no export
    assert calls == [] and first.stat().st_mtime_ns == stamp
    other = dict(card, num_classes=card["num_classes"] + 1)  # another architecture, another key
    assert onnx_export.weights_key(path, other) != onnx_export.weights_key(path, card)


def test_runner_rejects_wrong_input_shape(tmp_path, monkeypatch):
    from inkmath.onnx_run import load_onnx_runner
    from inkmath.weights import resolve_weights

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    path, card = resolve_weights(SHIPPED[0])
    run = load_onnx_runner(path, card, threads=1)
    with pytest.raises(InkmathError, match="expects a batch of shape"):
        run(np.zeros((2, 1, card["in_size"] + 1, card["in_size"] + 1), np.float32))


def test_corrupt_cached_model_gives_a_clear_error(tmp_path, monkeypatch):
    from inkmath import onnx_export, onnx_run
    from inkmath.weights import resolve_weights

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    path, card = resolve_weights(SHIPPED[0])
    onnx_path = onnx_export.cached_onnx_path(path, card)
    onnx_path.write_bytes(b"not an onnx model")
    with pytest.raises(InkmathError, match="delete it to export again"):
        onnx_run.load_onnx_runner(path, card)


def test_export_onnx_command(tmp_path, capsys):
    import onnx

    from inkmath.cli import main

    out = tmp_path / "model.onnx"
    assert main(["export-onnx", SHIPPED[0], "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["onnx"] == str(out) and report["max_abs_diff"] < 1e-4
    model = onnx.load(str(out))
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"  # dynamic batch, not a fixed 1
    assert main(["export-onnx", "no-such-weights", "--out", str(tmp_path / "x.onnx")]) == 2
    assert not (tmp_path / "x.onnx").exists()
