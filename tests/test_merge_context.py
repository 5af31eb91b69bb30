"""The stroke-merge model that reads the whole drawing: it learns, resumes exactly, and NumPy computes what torch
trained."""

import numpy as np


def _drawings(rng, count):
    """Drawings of symbols left to right: a one-stroke symbol (a vertical bar) or a two-stroke '=' (two short
    horizontal bars one above the other); target 1 between the two bars of one '='."""
    out = []
    for _ in range(count):
        strokes, y, x = [], [], 0.0
        for _ in range(rng.integers(2, 6)):
            h = rng.uniform(8, 12)
            if rng.random() < 0.5:
                strokes.append(np.stack([np.full(6, x + rng.uniform(0, 1)), np.linspace(0, h, 6)], 1))
                y.append(0.0)
            else:
                gap = rng.uniform(2, 4)
                strokes.append(np.stack([np.linspace(x, x + h * 0.7, 6), np.full(6, h / 2 - gap / 2)], 1))
                strokes.append(np.stack([np.linspace(x, x + h * 0.7, 6), np.full(6, h / 2 + gap / 2)], 1))
                y += [1.0, 0.0]
            x += h * rng.uniform(0.9, 1.4)
        out.append(([s.astype(np.float64) for s in strokes], np.asarray(y[:-1], np.float32)))
    return out


def test_context_merge_model_learns_resumes_and_numpy_matches(tmp_path):
    import torch

    from inkmath.equation.merge_context import ContextMergeModel, drawing_features
    from inkmath.equation.train_merge_context import DEFAULTS, accuracy, encode, fit, tensors_of

    rng = np.random.default_rng(0)
    train, val = _drawings(rng, 160), _drawings(rng, 40)
    cfg = dict(DEFAULTS, architecture={"dim": 16, "layers": 1, "heads": 2, "ff": 32}, head=16, epochs=4, batch=16,
               lr=0.01, threads=1, stretch=0.1)
    net, history = fit(train, val, cfg, tmp_path / "a", log=lambda m: None)
    assert history[-1]["val_pair_accuracy"] > 0.95
    fit(train, val, cfg, tmp_path / "b", log=lambda m: None, stop_after=2)
    resumed, history_b = fit(train, val, cfg, tmp_path / "b", log=lambda m: None)
    assert history_b == history
    a, b = tensors_of(net), tensors_of(resumed)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    model = ContextMergeModel({k: v.astype(np.float64) for k, v in a.items()}, cfg["architecture"])
    strokes, y = val[0]
    pairs, geo, pair = drawing_features(strokes)
    with torch.no_grad():
        ref = torch.sigmoid(net(*(torch.from_numpy(v[None]) for v in (pairs, geo, pair)),
                                torch.ones(1, len(strokes), dtype=torch.bool)))[0].numpy()
    np.testing.assert_allclose(model.probs(strokes), ref, atol=1e-5)
    assert accuracy(net, encode(val)) == history[-1]["val_pair_accuracy"] or abs(
        accuracy(net, encode(val)) - history[-1]["val_pair_accuracy"]) < 1e-4


def test_segment_reads_a_context_merge_model_file(tmp_path):
    """A weights file whose metadata names the context model loads as one and drives ``merge_probs``."""
    from safetensors.numpy import save_file

    from inkmath.equation import segment
    from inkmath.equation.merge_context import MODEL_KIND, ContextMergeModel
    from inkmath.equation.train_merge_context import DEFAULTS, build_net, tensors_of

    cfg = dict(DEFAULTS, architecture={"dim": 8, "layers": 1, "heads": 2, "ff": 16}, head=8)
    net = build_net(cfg)
    path = tmp_path / "m.safetensors"
    save_file(tensors_of(net), str(path), metadata={"model": MODEL_KIND, "architecture": '{"dim": 8, "layers": 1, '
                                                                                          '"heads": 2, "ff": 16}'})
    model = segment.load_merge_model(str(path))
    assert isinstance(model, ContextMergeModel)
    strokes = [np.array([[0.0, 0.0], [0.0, 10.0]]), np.array([[5.0, 0.0], [5.0, 10.0]]),
               np.array([[9.0, 5.0], [12.0, 5.0]])]
    p = segment.merge_probs(strokes, model)
    assert p.shape == (2,) and ((p > 0) & (p < 1)).all()
